/*
 * fcbench - C-ABI benchmark of fcontext implementations.
 *
 * Loads every implementation given on the command line with
 * dlopen(RTLD_LOCAL), so two libraries exporting the same three symbols
 * (ours and Boost's libboost_context) live side by side in one process, and
 * times through function pointers:
 *
 *   jump     ns per jump_fcontext  (ping-pong between two contexts)
 *   ontop    ns per ontop_fcontext (ping-pong, each side switching with
 *            ontop_fcontext and a function that returns its argument)
 *   make     ns per make_fcontext  (on a stack that stays in cache)
 *   swapcontext  ns per glibc swapcontext (ping-pong), for scale only
 *
 * Every round measures every (figure, implementation) pair once, rotating
 * the order of the implementations from round to round, so slow drifts of
 * the machine (other processes, frequency) hit every implementation alike.
 * The report gives the median over rounds and, for each implementation, the
 * median of the per-round ratios to the reference implementation: the ratio
 * is the figure to trust on a shared machine, the absolute nanoseconds are not.
 *
 * The process pins itself to one CPU and warms up before the first round.
 *
 * Usage: fcbench [--rounds N] [--iters N] [--cpu N] [--ref NAME] [--tsv FILE]
 *                NAME=PATH [NAME=PATH ...]
 *
 * Every call goes through a function pointer for every implementation, so
 * the indirect-call cost is the same for all and cancels in the ratios.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

#include "../../include/fcontext.h"

typedef fcontext_t (*make_fn)(void *sp, size_t size, pfn_fcontext fn);
typedef fcontext_transfer_t (*jump_fn)(fcontext_t to, void *vp);
typedef fcontext_transfer_t (*ontop_cb)(fcontext_transfer_t);
typedef fcontext_transfer_t (*ontop_fn)(fcontext_t to, void *vp, ontop_cb fn);

#define MAX_IMPLS 8
#define MAX_ROUNDS 101
#define STACK_BYTES (64 * 1024)

struct impl {
    const char *name;
    const char *path;
    make_fn make;
    jump_fn jump;
    ontop_fn ontop;
};

enum figure { FIG_JUMP, FIG_ONTOP, FIG_MAKE, FIG_COUNT };
static const char *const figure_names[FIG_COUNT] = {"jump_fcontext", "ontop_fcontext",
                                                    "make_fcontext"};

static void *stack_top;
/* Results of make_fcontext are folded into this so the calls cannot be dropped. */
static volatile uintptr_t sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fcbench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

/* Entry of the partner context for the jump ping-pong: bounce forever. */
static void jump_partner(fcontext_transfer_t t)
{
    jump_fn jump = ((const struct impl *)t.data)->jump;
    for (;;)
        t = jump(t.ctx, NULL);
}

static fcontext_transfer_t ontop_identity(fcontext_transfer_t t) { return t; }

/* Entry of the partner context for the ontop ping-pong. */
static void ontop_partner(fcontext_transfer_t t)
{
    ontop_fn ontop = ((const struct impl *)t.data)->ontop;
    for (;;)
        t = ontop(t.ctx, NULL, ontop_identity);
}

/*
 * Each measurement starts a fresh partner on the same stack; the partner of
 * the previous measurement is simply abandoned (it owns nothing).
 */
static double bench_jump(const struct impl *im, long iters)
{
    jump_fn jump = im->jump;
    fcontext_transfer_t t = jump(im->make(stack_top, STACK_BYTES, jump_partner), (void *)im);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        t = jump(t.ctx, NULL);
    return (now_ns() - t0) / (2.0 * (double)iters);
}

static double bench_ontop(const struct impl *im, long iters)
{
    ontop_fn ontop = im->ontop;
    /* ontop_fcontext needs a suspended target: start the partner with a jump. */
    fcontext_transfer_t t = im->jump(im->make(stack_top, STACK_BYTES, ontop_partner), (void *)im);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        t = ontop(t.ctx, NULL, ontop_identity);
    return (now_ns() - t0) / (2.0 * (double)iters);
}

static double bench_make(const struct impl *im, long iters)
{
    make_fn make = im->make;
    uintptr_t acc = 0;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        acc += (uintptr_t)make(stack_top, STACK_BYTES, jump_partner);
    double dt = now_ns() - t0;
    sink += acc;
    return dt / (double)iters;
}

static ucontext_t uc_main, uc_partner;

static void swap_partner(void)
{
    for (;;)
        swapcontext(&uc_partner, &uc_main);
}

static double bench_swapcontext(long iters)
{
    if (getcontext(&uc_partner) != 0)
        die("getcontext failed", strerror(errno));
    uc_partner.uc_stack.ss_sp = (char *)stack_top - STACK_BYTES;
    uc_partner.uc_stack.ss_size = STACK_BYTES;
    uc_partner.uc_link = NULL;
    makecontext(&uc_partner, swap_partner, 0);
    swapcontext(&uc_main, &uc_partner);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        swapcontext(&uc_main, &uc_partner);
    return (now_ns() - t0) / (2.0 * (double)iters);
}

static double run_figure(enum figure f, const struct impl *im, long iters)
{
    switch (f) {
    case FIG_JUMP:
        return bench_jump(im, iters);
    case FIG_ONTOP:
        return bench_ontop(im, iters);
    case FIG_MAKE:
        return bench_make(im, iters);
    default:
        return 0.0;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double tmp[MAX_ROUNDS];
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}

static double minimum(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static void load_impl(struct impl *im, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        die("implementation must be given as NAME=PATH", spec);
    im->name = strndup(spec, (size_t)(eq - spec));
    im->path = eq + 1;
    void *h = dlopen(im->path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        die("dlopen failed", dlerror());
    im->make = (make_fn)dlsym(h, "make_fcontext");
    im->jump = (jump_fn)dlsym(h, "jump_fcontext");
    im->ontop = (ontop_fn)dlsym(h, "ontop_fcontext");
    if (!im->make || !im->jump || !im->ontop)
        die("library lacks make/jump/ontop_fcontext", im->path);
}

static void pin_to_cpu(int cpu)
{
    cpu_set_t set;
    if (cpu < 0) {
        /* Default: the highest CPU we may run on. */
        if (sched_getaffinity(0, sizeof set, &set) != 0)
            die("sched_getaffinity failed", strerror(errno));
        for (int c = CPU_SETSIZE - 1; c >= 0; c--)
            if (CPU_ISSET(c, &set)) {
                cpu = c;
                break;
            }
    }
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        die("sched_setaffinity failed", strerror(errno));
    fprintf(stderr, "fcbench: pinned to CPU %d\n", cpu);
}

static long parse_long(const char *s, const char *opt)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0)
        die("bad number for option", opt);
    return v;
}

int main(int argc, char **argv)
{
    struct impl impls[MAX_IMPLS];
    int n = 0, rounds = 15, cpu = -1;
    long iters = 2000000;
    const char *ref = "boost", *tsv = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--rounds") && i + 1 < argc)
            rounds = (int)parse_long(argv[++i], a);
        else if (!strcmp(a, "--iters") && i + 1 < argc)
            iters = parse_long(argv[++i], a);
        else if (!strcmp(a, "--cpu") && i + 1 < argc)
            cpu = (int)parse_long(argv[++i], a);
        else if (!strcmp(a, "--ref") && i + 1 < argc)
            ref = argv[++i];
        else if (!strcmp(a, "--tsv") && i + 1 < argc)
            tsv = argv[++i];
        else if (a[0] == '-')
            die("unknown option (usage: fcbench [--rounds N] [--iters N] [--cpu N] "
                "[--ref NAME] [--tsv FILE] NAME=PATH...)",
                a);
        else if (n == MAX_IMPLS)
            die("too many implementations", a);
        else
            load_impl(&impls[n++], a);
    }
    if (n == 0)
        die("no implementation given (NAME=PATH)", NULL);
    if (rounds < 1 || rounds > MAX_ROUNDS || iters < 1)
        die("need 1 <= rounds <= 101 and iters >= 1", NULL);
    int ref_idx = -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(impls[i].name, ref))
            ref_idx = i;

    void *mem = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap failed", strerror(errno));
    stack_top = (char *)mem + STACK_BYTES;

    pin_to_cpu(cpu);

    /* Warm-up: caches, branch predictors, and the CPU's clock (~0.3 s). */
    double until = now_ns() + 3e8;
    while (now_ns() < until)
        for (int i = 0; i < n; i++)
            for (int f = 0; f < FIG_COUNT; f++)
                run_figure((enum figure)f, &impls[i], iters / 50 + 1);
    bench_swapcontext(iters / 50 + 1);

    static double res[FIG_COUNT][MAX_IMPLS][MAX_ROUNDS];
    static double swap_res[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        for (int f = 0; f < FIG_COUNT; f++)
            for (int k = 0; k < n; k++) {
                int i = (k + r) % n; /* rotate who goes first */
                res[f][i][r] = run_figure((enum figure)f, &impls[i], iters);
            }
        /* swapcontext makes a system call per switch: fewer iterations suffice. */
        swap_res[r] = bench_swapcontext(iters / 20 + 1);
    }

    FILE *out = NULL;
    if (tsv) {
        out = fopen(tsv, "w");
        if (!out)
            die("cannot write the TSV file", strerror(errno));
        fprintf(out, "figure\timpl\tmedian_ns\tmin_ns\tratio_to_%s\n", ref);
    }
    printf("%d rounds x %ld iterations, sizeof(void*) = %zu; ratio = median of per-round "
           "ratios to '%s'\n",
           rounds, iters, sizeof(void *), ref);
    printf("%-16s %-12s %10s %10s %10s\n", "figure", "impl", "median ns", "min ns", "ratio");
    for (int f = 0; f < FIG_COUNT; f++)
        for (int i = 0; i < n; i++) {
            double ratio = 0.0;
            if (ref_idx >= 0) {
                double rr[MAX_ROUNDS];
                for (int r = 0; r < rounds; r++)
                    rr[r] = res[f][i][r] / res[f][ref_idx][r];
                ratio = median(rr, rounds);
            }
            double med = median(res[f][i], rounds), mn = minimum(res[f][i], rounds);
            printf("%-16s %-12s %10.2f %10.2f %10.3f\n", figure_names[f], impls[i].name, med, mn,
                   ratio);
            if (out)
                fprintf(out, "%s\t%s\t%.3f\t%.3f\t%.4f\n", figure_names[f], impls[i].name, med, mn,
                        ratio);
        }
    double sm = median(swap_res, rounds), smin = minimum(swap_res, rounds);
    printf("%-16s %-12s %10.2f %10.2f %10s\n", "swapcontext", "glibc", sm, smin, "-");
    if (out) {
        fprintf(out, "swapcontext\tglibc\t%.3f\t%.3f\t\n", sm, smin);
        fclose(out);
    }
    return 0;
}
