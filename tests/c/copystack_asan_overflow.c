/* A C program built with -fsanitize=address (the library is not rebuilt)
 * whose copy-stack coroutine, with the argument "overflow", overflows a
 * heap block with memset after a few yields (its frames swapped out and
 * back in by a second coroutine of the same shared stack). ASan must report
 * the heap-buffer-overflow with stack traces that reach the coroutine's
 * body (through the memset and malloc interceptors), so the unwinder must
 * know it runs on the shared stack. With "uar" (and
 * ASAN_OPTIONS=detect_stack_use_after_return=1) the coroutine reads a
 * returned frame's local after a yield: a stack-use-after-return. Without
 * an argument the coroutines run clean (exit 0). */
#include <fcontext_copystack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int overflow, uar;

static __attribute__((noinline)) void fill(char *p, size_t n) { memset(p, 'x', n); }

/* Returns the address of one of its own locals (dead once it returns). */
static __attribute__((noinline)) volatile char *dangling(void) {
    volatile char local[32];
    local[0] = 1;
    volatile char *volatile p = local;
    return p;
}

static void *coroutine_body_that_overflows(fcontext_cs_coroutine_t *co, void *arg, void *input) {
    (void)input;
    volatile char frame[128]; /* an instrumented local, live across the yields */
    for (int i = 0; i < 128; i++) frame[i] = (char)i;
    volatile char *gone = uar ? dangling() : frame;
    for (int round = 0; round < 3; round++) fcontext_cs_yield(co, NULL, NULL);
    if (gone[0] == 42) puts("?"); /* uar: reads a returned frame */
    char *block = malloc(24);
    fill(block, (size_t)arg + (overflow ? 1 : 0));
    for (int i = 0; i < 128; i++)
        if (frame[i] != (char)i) abort();
    free(block);
    return NULL;
}

static void *other(fcontext_cs_coroutine_t *co, void *arg, void *input) {
    (void)arg;
    (void)input;
    char local[64];
    for (;;) {
        memset(local, 1, sizeof local);
        fcontext_cs_yield(co, local, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    overflow = argc > 1 && strcmp(argv[1], "overflow") == 0;
    uar = argc > 1 && strcmp(argv[1], "uar") == 0;
    fcontext_cs_stack_t *st;
    fcontext_cs_coroutine_t *a, *b;
    if (fcontext_cs_stack_create(64 * 1024, &st) || fcontext_cs_create(st, coroutine_body_that_overflows, (void *)24, &a) ||
        fcontext_cs_create(st, other, NULL, &b))
        return 2;
    int status = FCONTEXT_CS_STATUS_FRESH;
    while (status != FCONTEXT_CS_STATUS_DONE) {
        if (fcontext_cs_resume(a, NULL, NULL) || fcontext_cs_resume(b, NULL, NULL)) return 3;
        fcontext_cs_status(a, &status);
    }
    fcontext_cs_destroy(a);
    fcontext_cs_destroy(b);
    fcontext_cs_stack_destroy(st);
    puts("copystack ASan overflow test passed");
    return 0;
}
