/*
 * Uses only make/jump/ontop_fcontext, so linking it with libfcontext.a pulls
 * in the assembly object alone. The IBT test links it with
 * -fcf-protection=full and asks the linker which inputs lack the IBT
 * property. Exit status 0 when the switches worked.
 */
#include <fcontext.h>

static char stack[64 * 1024];

static void echo(fcontext_transfer_t t) {
    for (;;) t = jump_fcontext(t.ctx, t.data);
}

static fcontext_transfer_t plus_one(fcontext_transfer_t t) {
    t.data = (char *)t.data + 1;
    return t;
}

int main(void) {
    fcontext_t c = make_fcontext(stack + sizeof stack, sizeof stack, echo);
    fcontext_transfer_t t = jump_fcontext(c, (void *)40);
    t = ontop_fcontext(t.ctx, t.data, plus_one);
    return t.data == (void *)41 ? 0 : 1;
}
