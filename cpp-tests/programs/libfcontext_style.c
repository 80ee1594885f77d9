/*
 * A program written for deboost.context's libfcontext: <fcontext/fcontext.h>,
 * create_fcontext_stack / destroy_fcontext_stack, and the three functions.
 * It also checks the helpers' documented contract, computing every expected
 * size itself from sysconf/getrlimit rather than asking the library.
 *
 * Usage: libfcontext_style            run the checks; exit status = failures
 *        libfcontext_style overflow   recurse without end on a helper stack
 *                                     (the test expects death by SIGSEGV)
 */
#define _GNU_SOURCE
#include <fcontext/fcontext.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            printf("ok %s\n", #cond);                                                          \
        } else {                                                                               \
            printf("FAIL %s: ", #cond);                                                        \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
            ++failures;                                                                        \
        }                                                                                      \
    } while (0)

static size_t page;

/* The mapping size the header documents for a request of `size`. */
static size_t expected_size(size_t size) {
    size_t want = size == 0 ? 128 * 1024 : size;
    long sig = sysconf(250 /* _SC_SIGSTKSZ, glibc >= 2.34 */);
    size_t minimum_size = sig > 0 ? (size_t)sig : 2048;
    size_t minimum = (minimum_size + page - 1) / page * page + page;
    if (want < minimum) want = minimum;
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
        size_t maximum = (size_t)rl.rlim_max < minimum ? minimum : (size_t)rl.rlim_max;
        if (want > maximum) want = maximum;
    }
    return want / page * page;
}

static void *num(uintptr_t v) { return (void *)v; }
static uintptr_t val(void *p) { return (uintptr_t)p; }

static void squarer(fcontext_transfer_t t) {
    for (;;) t = jump_fcontext(t.ctx, num(val(t.data) * val(t.data)));
}

static void ping_pong_on_helper_stack(void) {
    fcontext_stack_t s = create_fcontext_stack(0);
    CHECK(s.sptr != NULL, "create_fcontext_stack(0) failed: %s", strerror(errno));
    if (!s.sptr) return;
    fcontext_t c = make_fcontext(s.sptr, s.ssize, squarer);
    uintptr_t sum = 0;
    for (uintptr_t i = 1; i <= 100; ++i) {
        fcontext_transfer_t t = jump_fcontext(c, num(i));
        c = t.ctx;
        sum += val(t.data);
    }
    CHECK(sum == 100 * 101 * 201 / 6, "sum of squares %lu", (unsigned long)sum);
    destroy_fcontext_stack(&s);
    CHECK(s.sptr == NULL && s.ssize == 0, "destroy did not zero the struct");
}

static void size_contract(void) {
    const size_t requests[] = {0, 1, 5000, 100000, 128 * 1024 + 123, 1 << 20};
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; ++i) {
        fcontext_stack_t s = create_fcontext_stack(requests[i]);
        size_t want = expected_size(requests[i]);
        CHECK(s.sptr != NULL && s.ssize == want, "request %zu: got ssize %zu, expected %zu",
              requests[i], s.ssize, want);
        CHECK(((uintptr_t)s.sptr % page) == 0, "top %p not page aligned", s.sptr);
        if (s.sptr) {
            /* The whole usable part is writable (top page and lowest usable page). */
            volatile char *top = (char *)s.sptr;
            top[-1] = 1;
            top[-(long)(s.ssize - page)] = 2;
        }
        destroy_fcontext_stack(&s);
    }
}

static void failure_contract(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_STACK, &rl);
    if (rl.rlim_max == RLIM_INFINITY) {
        /* No clamp: an impossible size must fail cleanly. */
        errno = 0;
        fcontext_stack_t s = create_fcontext_stack((size_t)1 << 62);
        CHECK(s.sptr == NULL && s.ssize == 0, "huge stack: {%p, %zu}", s.sptr, s.ssize);
        CHECK(errno == ENOMEM, "huge stack: errno %d", errno);
    } else {
        /* The hard limit clamps a huge request. */
        fcontext_stack_t s = create_fcontext_stack((size_t)1 << 62);
        CHECK(s.sptr != NULL, "clamped huge stack failed: %s", strerror(errno));
        CHECK(s.ssize == expected_size((size_t)1 << 62), "clamped huge stack: %zu", s.ssize);
        destroy_fcontext_stack(&s);
    }

    fcontext_stack_t zero = {NULL, 0};
    errno = 0;
    destroy_fcontext_stack(&zero);
    CHECK(errno == 0 && zero.sptr == NULL && zero.ssize == 0, "zeroed struct: errno %d", errno);
    destroy_fcontext_stack(NULL); /* documented no-op; must not crash */

    fcontext_stack_t garbage = {(void *)(uintptr_t)0x12345, 77};
    errno = 0;
    destroy_fcontext_stack(&garbage);
    CHECK(errno == EINVAL, "garbage struct: errno %d", errno);
    CHECK(garbage.sptr == (void *)(uintptr_t)0x12345 && garbage.ssize == 77,
          "garbage struct changed to {%p, %zu}", garbage.sptr, garbage.ssize);
}

/* Depth never reached; keeps the compiler from calling the recursion infinite. */
static volatile int never = -1;

static int runaway(int depth) {
    volatile char frame[512];
    frame[0] = (char)depth;
    if (depth == never) return 0;
    return runaway(depth + 1) + frame[0];
}

static void overflow_entry(fcontext_transfer_t t) {
    (void)t;
    runaway(0);
}

int main(int argc, char **argv) {
    page = (size_t)sysconf(_SC_PAGESIZE);
    if (argc > 1 && strcmp(argv[1], "overflow") == 0) {
        fcontext_stack_t s = create_fcontext_stack(64 * 1024);
        if (!s.sptr) return 2;
        fcontext_t c = make_fcontext(s.sptr, s.ssize, overflow_entry);
        jump_fcontext(c, NULL);
        return 3; /* never: the recursion must fault on the guard page */
    }
    ping_pong_on_helper_stack();
    size_contract();
    failure_contract();
    return failures;
}
