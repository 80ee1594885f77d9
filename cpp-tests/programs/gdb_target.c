/*
 * A program for the gdb backtrace test: it stops (breakpoint on
 * fct_gdb_leaf) three times inside a context, and gdb's backtrace must show
 * the context's own frames down to the context entry and stop there cleanly:
 *   1. in a fresh context:      leaf <- middle <- entry <- (entry trampoline)
 *   2. after the context was suspended and resumed: same frames
 *   3. in an ontop function:    leaf <- ontop <- entry <- (entry trampoline)
 */
#include <fcontext/fcontext.h>

#include <stdio.h>
#include <stdlib.h>

/* Keeps calls from being inlined or turned into tail jumps at any -O. */
#if defined(__clang__)
#define KEEP __attribute__((noinline, disable_tail_calls))
#else
#define KEEP __attribute__((noinline, noclone, optimize("no-optimize-sibling-calls")))
#endif

volatile int sink;

KEEP void fct_gdb_leaf(int n) { sink = n; }

KEEP void fct_gdb_middle(int n) {
    fct_gdb_leaf(n + 1);
    sink += 1;
}

KEEP fcontext_transfer_t fct_gdb_ontop(fcontext_transfer_t t) {
    fct_gdb_leaf(30);
    sink += 1;
    return t;
}

KEEP void fct_gdb_entry(fcontext_transfer_t t) {
    fct_gdb_middle(10);                 /* stop 1: fresh context */
    t = jump_fcontext(t.ctx, NULL);     /* suspend */
    fct_gdb_middle(20);                 /* stop 2: resumed context */
    t = jump_fcontext(t.ctx, NULL);     /* main resumes us with ontop: stop 3 */
    jump_fcontext(t.ctx, NULL);
}

int main(void) {
    fcontext_stack_t s = create_fcontext_stack(0);
    if (!s.sptr) return 2;
    fcontext_t c = make_fcontext(s.sptr, s.ssize, fct_gdb_entry);
    fcontext_transfer_t t = jump_fcontext(c, NULL);
    t = jump_fcontext(t.ctx, NULL);
    t = ontop_fcontext(t.ctx, NULL, fct_gdb_ontop);
    printf("done %d\n", sink);
    destroy_fcontext_stack(&s);
    return 0;
}
