/* C tests of include/fcontext_copystack.h: every error path, a generator,
 * ownership changes and copy counts. Run by tests/copystack_c.rs.
 * Mode "escape" instead makes a coroutine suspend with its stack pointer
 * below its shared stack; the process must abort with a message. */
#define _GNU_SOURCE
#include <fcontext_copystack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            failures++;                                                    \
        }                                                                  \
    } while (0)

#define EXPECT(call, code)                                                 \
    do {                                                                   \
        int rc_ = (call);                                                  \
        if (rc_ != (code)) {                                               \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s\n",   \
                    __FILE__, __LINE__, #call, rc_,                        \
                    fcontext_cs_strerror(rc_), #code);                     \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static int status_of(fcontext_cs_coroutine_t *co) {
    int s = -1;
    EXPECT(fcontext_cs_status(co, &s), FCONTEXT_CS_OK);
    return s;
}

/* Fibonacci generator: yields the first *(int*)arg numbers, returns the
 * sum of the inputs it received. A local array makes its live stack real. */
static void *fib(fcontext_cs_coroutine_t *co, void *arg, void *input) {
    int n = *(int *)arg;
    volatile unsigned char pad[100];
    memset((void *)pad, 0x5a, sizeof pad);
    intptr_t sum = (intptr_t)input;
    uintptr_t a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        void *in = NULL;
        EXPECT(fcontext_cs_yield(co, (void *)a, &in), FCONTEXT_CS_OK);
        sum += (intptr_t)in;
        uintptr_t t = a + b;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < sizeof pad; i++)
        CHECK(pad[i] == 0x5a); /* survived swap-out and swap-in */
    return (void *)sum;
}

static void test_generator(fcontext_cs_stack_t *st) {
    int n = 10;
    fcontext_cs_coroutine_t *co = NULL;
    EXPECT(fcontext_cs_create(st, fib, &n, &co), FCONTEXT_CS_OK);
    CHECK(status_of(co) == FCONTEXT_CS_STATUS_FRESH);
    const uintptr_t want[10] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34};
    for (int i = 0; i < 10; i++) {
        void *out = NULL;
        EXPECT(fcontext_cs_resume(co, (void *)(intptr_t)(i + 1), &out), FCONTEXT_CS_OK);
        CHECK((uintptr_t)out == want[i]);
        CHECK(status_of(co) == FCONTEXT_CS_STATUS_SUSPENDED);
    }
    void *out = NULL;
    EXPECT(fcontext_cs_resume(co, (void *)(intptr_t)100, &out), FCONTEXT_CS_OK);
    /* inputs 1..11 minus the first (1) went to the yields, +1 initial: 1+2+..+10 + 100 */
    CHECK((intptr_t)out == 55 + 100);
    CHECK(status_of(co) == FCONTEXT_CS_STATUS_DONE);
    EXPECT(fcontext_cs_resume(co, NULL, &out), FCONTEXT_CS_FINISHED);
    EXPECT(fcontext_cs_destroy(co), FCONTEXT_CS_OK);
}

/* Two generators on one stack: every resume changes the owner, so each
 * resume after the first two swaps one out and one in. */
static void test_alternation(void) {
    fcontext_cs_stack_t *st = NULL;
    EXPECT(fcontext_cs_stack_create(64 * 1024, &st), FCONTEXT_CS_OK);
    int n = 20;
    fcontext_cs_coroutine_t *a = NULL, *b = NULL;
    EXPECT(fcontext_cs_create(st, fib, &n, &a), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_create(st, fib, &n, &b), FCONTEXT_CS_OK);
    fcontext_cs_stats_t s;
    void *va = NULL, *vb = NULL;
    for (int i = 0; i < 20; i++) {
        EXPECT(fcontext_cs_resume(a, NULL, &va), FCONTEXT_CS_OK);
        EXPECT(fcontext_cs_resume(b, NULL, &vb), FCONTEXT_CS_OK);
        CHECK(va == vb); /* same sequence, independent state */
        size_t saved = 0, cap = 0;
        EXPECT(fcontext_cs_saved_bytes(a, &saved, &cap), FCONTEXT_CS_OK);
        CHECK(saved > 100 && saved < 4096 && cap >= saved);
        EXPECT(fcontext_cs_saved_bytes(b, &saved, NULL), FCONTEXT_CS_OK);
        CHECK(saved == 0); /* b owns the stack */
    }
    EXPECT(fcontext_cs_stack_stats(st, &s), FCONTEXT_CS_OK);
    /* 40 resumes: the first of a copies nothing; every later one swaps the
     * other coroutine out (39), and every resume but the two first swaps in (38). */
    CHECK(s.copies_out == 39);
    CHECK(s.copies_in == 38);
    CHECK(s.bytes_out > 39 * 100 && s.max_copy > 100 && s.max_copy < 4096);
    CHECK(s.bytes_in <= s.bytes_out);
    EXPECT(fcontext_cs_stack_destroy(st), FCONTEXT_CS_STACK_IN_USE);
    EXPECT(fcontext_cs_destroy(a), FCONTEXT_CS_OK); /* suspended: discarded */
    EXPECT(fcontext_cs_destroy(b), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_stack_destroy(st), FCONTEXT_CS_OK);
}

/* One coroutine alone on its stack never copies. */
static void test_alone(void) {
    fcontext_cs_stack_t *st = NULL;
    EXPECT(fcontext_cs_stack_create(0, &st), FCONTEXT_CS_OK);
    int n = 1000;
    fcontext_cs_coroutine_t *co = NULL;
    EXPECT(fcontext_cs_create(st, fib, &n, &co), FCONTEXT_CS_OK);
    for (int i = 0; i < 1000; i++)
        EXPECT(fcontext_cs_resume(co, NULL, NULL), FCONTEXT_CS_OK);
    fcontext_cs_stats_t s;
    EXPECT(fcontext_cs_stack_stats(st, &s), FCONTEXT_CS_OK);
    CHECK(s.copies_out == 0 && s.copies_in == 0 && s.max_copy == 0);
    EXPECT(fcontext_cs_destroy(co), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_stack_destroy(st), FCONTEXT_CS_OK);
}

/* Error paths that need a running coroutine. */
struct nest {
    fcontext_cs_coroutine_t *self, *sibling, *foreign;
};

static void *probe_errors(fcontext_cs_coroutine_t *co, void *arg, void *input) {
    struct nest *n = arg;
    (void)input;
    fcontext_cs_coroutine_t *running = NULL;
    EXPECT(fcontext_cs_running(&running), FCONTEXT_CS_OK);
    CHECK(running == co && co == n->self);
    CHECK(status_of(co) == FCONTEXT_CS_STATUS_RUNNING);
    EXPECT(fcontext_cs_resume(co, NULL, NULL), FCONTEXT_CS_RUNNING);
    EXPECT(fcontext_cs_destroy(co), FCONTEXT_CS_RUNNING);
    EXPECT(fcontext_cs_resume(n->sibling, NULL, NULL), FCONTEXT_CS_STACK_BUSY);
    EXPECT(fcontext_cs_yield(n->sibling, NULL, NULL), FCONTEXT_CS_NOT_CURRENT);
    /* A coroutine of another shared stack may be resumed from here. */
    void *out = NULL;
    EXPECT(fcontext_cs_resume(n->foreign, NULL, &out), FCONTEXT_CS_OK);
    CHECK((uintptr_t)out == 0);
    EXPECT(fcontext_cs_running(&running), FCONTEXT_CS_OK);
    CHECK(running == co);
    EXPECT(fcontext_cs_yield(co, (void *)7, NULL), FCONTEXT_CS_OK);
    return (void *)8;
}

static void test_errors(void) {
    fcontext_cs_stack_t *st = NULL, *other = NULL;
    fcontext_cs_coroutine_t *co = NULL;
    int dummy = 3;
    EXPECT(fcontext_cs_stack_create(0, NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_stack_create(FCONTEXT_CS_MIN_STACK_SIZE - 1, &st), FCONTEXT_CS_STACK_TOO_SMALL);
    EXPECT(fcontext_cs_stack_create(SIZE_MAX, &st), FCONTEXT_CS_STACK_TOO_LARGE);
    EXPECT(fcontext_cs_stack_create((size_t)1 << 32, &st), FCONTEXT_CS_STACK_TOO_LARGE);
    {
        /* Limit the address space so the mapping itself fails. */
        struct rlimit old, low;
        CHECK(getrlimit(RLIMIT_AS, &old) == 0);
        low = old;
        low.rlim_cur = (rlim_t)512 << 20;
        CHECK(setrlimit(RLIMIT_AS, &low) == 0);
        EXPECT(fcontext_cs_stack_create((size_t)1 << 30, &st), FCONTEXT_CS_OUT_OF_MEMORY);
        CHECK(setrlimit(RLIMIT_AS, &old) == 0);
    }
    EXPECT(fcontext_cs_stack_create(FCONTEXT_CS_MIN_STACK_SIZE, &st), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_stack_create(FCONTEXT_CS_MIN_STACK_SIZE, &other), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_stack_destroy(NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_stack_stats(NULL, NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_stack_stats(st, NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_create(NULL, fib, &dummy, &co), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_create(st, NULL, &dummy, &co), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_create(st, fib, &dummy, NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_destroy(NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_resume(NULL, NULL, NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_yield(NULL, NULL, NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_status(NULL, &dummy), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_running(NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_saved_bytes(NULL, NULL, NULL), FCONTEXT_CS_NULL_POINTER);

    struct nest n = {0};
    EXPECT(fcontext_cs_create(st, probe_errors, &n, &n.self), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_status(n.self, NULL), FCONTEXT_CS_NULL_POINTER);
    EXPECT(fcontext_cs_create(st, fib, &dummy, &n.sibling), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_create(other, fib, &dummy, &n.foreign), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_yield(n.self, NULL, NULL), FCONTEXT_CS_NOT_IN_COROUTINE);
    fcontext_cs_coroutine_t *running = (fcontext_cs_coroutine_t *)&n;
    EXPECT(fcontext_cs_running(&running), FCONTEXT_CS_OK);
    CHECK(running == NULL);
    void *out = NULL;
    EXPECT(fcontext_cs_resume(n.self, NULL, &out), FCONTEXT_CS_OK);
    CHECK((uintptr_t)out == 7);
    EXPECT(fcontext_cs_resume(n.self, NULL, &out), FCONTEXT_CS_OK);
    CHECK((uintptr_t)out == 8);
    EXPECT(fcontext_cs_resume(n.self, NULL, &out), FCONTEXT_CS_FINISHED);
    EXPECT(fcontext_cs_destroy(n.self), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_destroy(n.sibling), FCONTEXT_CS_OK); /* fresh */
    EXPECT(fcontext_cs_destroy(n.foreign), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_stack_destroy(st), FCONTEXT_CS_OK);
    EXPECT(fcontext_cs_stack_destroy(other), FCONTEXT_CS_OK);
}

static void test_strerror(void) {
    for (int code = 0; code <= 10; code++) {
        const char *s = fcontext_cs_strerror(code);
        CHECK(s != NULL && strlen(s) > 5);
        for (int other = 0; other < code; other++)
            CHECK(strcmp(s, fcontext_cs_strerror(other)) != 0);
    }
    CHECK(strstr(fcontext_cs_strerror(11), "unknown") != NULL);
    CHECK(strstr(fcontext_cs_strerror(-1), "unknown") != NULL);
}

/* --- escape mode --------------------------------------------------------- */

#define ESCAPE_STACK (64 * 1024) /* above any SIGSTKSZ seen (47808 with AMX), so the size is exact */

static void *escape(fcontext_cs_coroutine_t *co, void *arg, void *input) {
    (void)arg;
    (void)input;
    long page = sysconf(_SC_PAGESIZE);
    char probe;
    uintptr_t top = ((uintptr_t)&probe + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t guard = top - ESCAPE_STACK - page;
    /* Map the page below the guard page so the switch's frame lands in
     * mapped memory and only our check can notice the escape. */
    void *p = mmap((void *)(guard - page), page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)(guard - page))
        return (void *)1; /* occupied: main retries with another stack */
    /* Move the stack pointer just past the guard page without touching it. */
    volatile char *skip = __builtin_alloca(top - guard + 256 - 64);
    __asm__ volatile("" : : "r"(skip) : "memory");
    fcontext_cs_yield(co, NULL, NULL);
    return NULL;
}

static int escape_main(void) {
    /* Stacks are never destroyed here, so each retry gets a new placement. */
    for (int attempt = 0; attempt < 32; attempt++) {
        fcontext_cs_stack_t *st = NULL;
        fcontext_cs_coroutine_t *co = NULL;
        if (fcontext_cs_stack_create(ESCAPE_STACK, &st) || fcontext_cs_create(st, escape, NULL, &co))
            return 4;
        void *out = NULL;
        fcontext_cs_resume(co, NULL, &out);
        if (out != (void *)1) {
            fprintf(stderr, "escape: the escaped stack pointer went unnoticed\n");
            return 5;
        }
    }
    fprintf(stderr, "escape: no shared stack had a free page below its guard page\n");
    return 3;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "escape") == 0)
        return escape_main();
    fcontext_cs_stack_t *st = NULL;
    EXPECT(fcontext_cs_stack_create(FCONTEXT_CS_MIN_STACK_SIZE, &st), FCONTEXT_CS_OK);
    test_generator(st);
    EXPECT(fcontext_cs_stack_destroy(st), FCONTEXT_CS_OK);
    test_alternation();
    test_alone();
    test_errors();
    test_strerror();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("copystack C tests passed\n");
    return 0;
}
