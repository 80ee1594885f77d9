/* squares.c - the fcontext API from plain C: a generator of square numbers.
 *
 * Links with nothing but the archive:
 *   cc squares.c -I<prefix>/include <prefix>/lib/libfcontext.a
 */
#include <fcontext/fcontext.h>

#include <stdio.h>

/* Entry function of the generator: yields 1, 4, 9, ... up to the limit main
 * passes with the first jump, then a final NULL. */
static void squares(fcontext_transfer_t t) {
    long limit = *(const long *)t.data;
    for (long i = 1; i <= limit; ++i) {
        long square = i * i;
        t = jump_fcontext(t.ctx, &square); /* hand it over, wait to be resumed */
    }
    /* Returning would exit the process: say "done" and never come back. */
    jump_fcontext(t.ctx, NULL);
}

int main(void) {
    fcontext_stack_t stack = create_fcontext_stack(0); /* 0: the default size */
    if (stack.sptr == NULL) {
        perror("squares: create_fcontext_stack");
        return 1;
    }
    fcontext_t generator = make_fcontext(stack.sptr, stack.ssize, squares);

    long limit = 5, sum = 0;
    fcontext_transfer_t t = jump_fcontext(generator, &limit);
    printf("squares:");
    while (t.data != NULL) {
        long square = *(const long *)t.data;
        printf(" %ld", square);
        sum += square;
        t = jump_fcontext(t.ctx, NULL);
    }
    printf("\nsum: %ld\n", sum);
    destroy_fcontext_stack(&stack);
    return sum == 55 ? 0 : 1; /* 1 + 4 + 9 + 16 + 25 */
}
