/* The stack-overflow reporter from C (include/fcontext.h,
 * fcontext_install_overflow_handler). Run by tests/overflow_c.rs; each mode
 * is one child process:
 *   install    installs the handler twice (idempotent), exits 0;
 *   copystack  installs it, then a copy-stack coroutine recurses without
 *              bound: must die by SIGABRT with the overflow report;
 *   helper     installs it, then a context on a create_fcontext_stack stack
 *              recurses without bound: SIGABRT, the report naming the
 *              stack's usable range (printed first on stdout as EXPECT);
 *   plain      the copystack mode without installing: a bare SIGSEGV. */
#include <fcontext.h>
#include <fcontext_copystack.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Depth never reached; keeps the compiler from treating the recursion as
 * infinite (and the frames from being merged). */
static volatile int never = -1;

static int runaway(int depth) {
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth == never) return 0;
    return runaway(depth + 1) + frame[0];
}

static void *cs_body(fcontext_cs_coroutine_t *co, void *arg, void *input) {
    (void)co, (void)arg, (void)input;
    runaway(0);
    return NULL;
}

static void helper_entry(fcontext_transfer_t t) {
    (void)t;
    runaway(0);
}

static int install(void) {
    int rc = fcontext_install_overflow_handler();
    if (rc != 0) {
        fprintf(stderr, "fcontext_install_overflow_handler: %s\n", strerror(rc));
        return 0;
    }
    return 1;
}

static int overflow_copystack(void) {
    fcontext_cs_stack_t *stack = NULL;
    fcontext_cs_coroutine_t *co = NULL;
    if (fcontext_cs_stack_create(64 * 1024, &stack) != FCONTEXT_CS_OK) return 2;
    if (fcontext_cs_create(stack, cs_body, NULL, &co) != FCONTEXT_CS_OK) return 2;
    fflush(stdout);
    fcontext_cs_resume(co, NULL, NULL);
    return 3; /* never: the recursion faults in the guard page */
}

static int overflow_helper(void) {
    fcontext_stack_t s = create_fcontext_stack(64 * 1024);
    if (!s.sptr) return 2;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t hi = (uintptr_t)s.sptr, lo = hi - s.ssize + page;
    printf("EXPECT stack overflow in coroutine (stack 0x%jx..0x%jx, %ju bytes)\n",
           (uintmax_t)lo, (uintmax_t)hi, (uintmax_t)(hi - lo));
    fflush(stdout);
    fcontext_t c = make_fcontext(s.sptr, s.ssize, helper_entry);
    jump_fcontext(c, NULL);
    return 3; /* never */
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "install") == 0) {
        if (!install() || !install()) return 1;
        puts("installed twice");
        return 0;
    }
    if (strcmp(mode, "copystack") == 0) return install() ? overflow_copystack() : 1;
    if (strcmp(mode, "helper") == 0) return install() ? overflow_helper() : 1;
    if (strcmp(mode, "plain") == 0) return overflow_copystack();
    fprintf(stderr, "unknown mode %s\n", mode);
    return 1;
}
