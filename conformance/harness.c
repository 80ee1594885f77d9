/*
 * Cross-target conformance harness for make_fcontext / jump_fcontext /
 * ontop_fcontext; the targets it runs on are in conformance/targets.ini.
 *
 * One portable C11 program, linked with one target's context-switch assembly
 * (asm/) and its register helper (conformance/regs/). The matrix runner
 * (`cargo xtask matrix`) builds it with the target's cross compiler and runs
 * it natively, under qemu-user or under wine.
 *
 * Usage:
 *   harness --frame SPEC [--stack-align N]      conformance checks of our asm
 *   harness --interop LIB --boost-frame SPEC    Boost's make/jump/ontop from the
 *                                               shared library LIB against ours
 *   harness --child-return[-fresh]              (internal) child of the
 *                                               entry-returns checks
 *
 * SPEC describes what make_fcontext must produce for this target:
 *   "PRE/ALIGN/DIST;fn=OFF;w=OFF:LEN,OFF:LEN,..."
 *   fctx == ((top - PRE) & ~(ALIGN - 1)) - DIST, the word at fctx + OFF is the
 *   entry function, and make writes exactly the listed byte ranges (relative
 *   to fctx) and nothing else. fn=-1 skips the entry-function slot check.
 *
 * Output: one line per check ("ok ..." or "FAIL ..."), then a summary line.
 * Exit status 0 only when every check passed; the first line, printed before
 * any switch, tells the runner that the program started at all.
 */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* dladdr */
#endif
#include "../include/fcontext.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <process.h>
#include <windows.h>
#else
#include <dlfcn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

/*
 * The per-target register helpers (conformance/regs/<arch>.S or .asm), with
 * the platform's C decoration:
 *   fc_regs_jump  loads a pattern derived from `seed` into every callee-saved
 *                 register of the ABI (general-purpose, FP/SIMD where
 *                 callee-saved, FP control registers where callee-saved),
 *                 calls jump_fcontext(to, vp), stores the result in *out and
 *                 returns 0 if every register still holds its pattern, else
 *                 1 + the index of the first that does not (order documented
 *                 in the regs file). The caller's own registers are restored.
 *   fc_regs_ontop the same through ontop_fcontext(to, vp, fn).
 *   fc_caller_sp  the caller's stack pointer at the call site (before the call
 *                 instruction; on x86 the value after the return address pops).
 */
int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed);
int fc_regs_ontop(fcontext_t to, void *vp, fcontext_transfer_t (*fn)(fcontext_transfer_t),
                  fcontext_transfer_t *out, uintptr_t seed);
uintptr_t fc_caller_sp(void);

/* ---------------------------------------------------------------- results */

static int g_checks;
static int g_failed;

/* Records one check; `ok` false prints the reason (printf-style). */
static void check(int ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *name, const char *fmt, ...) {
    g_checks++;
    if (ok) {
        printf("ok   %s\n", name);
    } else {
        va_list ap;
        g_failed++;
        printf("FAIL %s: ", name);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    }
    fflush(stdout);
}

/* ------------------------------------------------------ implementations */

typedef fcontext_t (*make_fn)(void *, size_t, pfn_fcontext);
typedef fcontext_transfer_t (*jump_fn)(fcontext_t, void *);
typedef fcontext_transfer_t (*ontop_cb)(fcontext_transfer_t);
typedef fcontext_transfer_t (*ontop_fn)(fcontext_t, void *, ontop_cb);

/* One set of the three functions: ours (linked) or Boost's (dlopen'ed). */
typedef struct {
    const char *name;
    make_fn make;
    jump_fn jump;
    ontop_fn ontop;
} impl_t;

static impl_t g_ours = {"ours", make_fcontext, jump_fcontext, ontop_fcontext};
#ifndef _WIN32
static impl_t g_boost = {"boost", NULL, NULL, NULL}; /* filled by dlopen/dlsym */
#endif

/*
 * --interop-one-way: the target's frames are compatible one way only (mips64
 * n64: ours keeps gp in the frame, Boost's jump does not save it), so a
 * context suspended by Boost must never be resumed by ours. Interop checks
 * that would do so are reported as skipped, not run.
 */
static int g_one_way;

/* True (and prints the skip) when a check would have `resumer` resume a
   context that `suspender` suspended, which --interop-one-way forbids. */
static int skip_one_way(const char *name, const impl_t *resumer, const impl_t *suspender) {
    if (!g_one_way || resumer != &g_ours || suspender == &g_ours)
        return 0;
    printf("skip %s: ours would resume a context suspended by Boost (--interop-one-way)\n", name);
    return 1;
}

/* ---------------------------------------------------------------- stacks */

#define STACK_BYTES (256 * 1024)

/* A heap stack; contexts here never overflow 256 KiB. */
typedef struct {
    unsigned char *mem;
    unsigned char *top; /* 16-byte aligned one-past-the-end */
} stack_t_;

static stack_t_ stack_new(void) {
    stack_t_ s;
    s.mem = malloc(STACK_BYTES + 16);
    if (!s.mem) {
        printf("FAIL out of memory\n");
        exit(2);
    }
    s.top = (unsigned char *)(((uintptr_t)s.mem + STACK_BYTES) & ~(uintptr_t)15);
    return s;
}

static int on_stack(const stack_t_ *s, const void *p) {
    return (const unsigned char *)p >= s->mem && (const unsigned char *)p < s->top;
}

/* -------------------------------------------------------- stack alignment */

static uintptr_t g_align = 16; /* the ABI's SP alignment at a call site */
static uintptr_t g_misaligned_sp; /* 0, or the first misaligned SP seen */

/* Called first thing in every entry and ontop function: the compiler keeps
   the ABI's alignment from entry to its call sites, so a misaligned entry
   shows up here. */
static void note_alignment(void) {
    uintptr_t sp = fc_caller_sp();
    if (sp % g_align != 0 && g_misaligned_sp == 0)
        g_misaligned_sp = sp;
}

/* -------------------------------------------------- ping-pong (and interop) */

/* State shared between main and the ping-pong context. */
typedef struct {
    const impl_t *ctx_jump[2]; /* jump used by the context, alternating */
    stack_t_ stack;
    int rounds_seen;
    int bad_data; /* 0, or round+1 where the context saw wrong data */
    int off_stack; /* the context's locals were not on its stack */
} pingpong_t;

static pingpong_t *g_pp;

static void pingpong_entry(fcontext_transfer_t t) {
    pingpong_t *pp = g_pp;
    long reply; /* lives on this context's stack; main reads it through data */
    note_alignment();
    if (!on_stack(&pp->stack, &reply))
        pp->off_stack = 1;
    for (int round = 0;; round++) {
        long *req = t.data;
        if (*req != round * 7L + 1 && !pp->bad_data)
            pp->bad_data = round + 1;
        reply = *req * 3 + 1;
        pp->rounds_seen = round + 1;
        t = pp->ctx_jump[round & 1]->jump(t.ctx, &reply);
    }
}

/* `rounds` round trips: main sends round*7+1, the context answers x*3+1.
   make by `maker`, main's jumps alternate main_jump[0..1], the context's
   alternate ctx_jump[0..1]. */
static void pingpong(const char *name, const impl_t *maker, const impl_t *main_jump0,
                     const impl_t *main_jump1, const impl_t *ctx_jump0, const impl_t *ctx_jump1,
                     int rounds) {
    /* main's jumps resume the context, suspended by its jumps, and back. */
    const impl_t *mains[2] = {main_jump0, main_jump1}, *ctxs[2] = {ctx_jump0, ctx_jump1};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++)
            if (skip_one_way(name, mains[i], ctxs[k]) || skip_one_way(name, ctxs[k], mains[i]))
                return;
    pingpong_t pp;
    memset(&pp, 0, sizeof pp);
    pp.ctx_jump[0] = ctx_jump0;
    pp.ctx_jump[1] = ctx_jump1;
    pp.stack = stack_new();
    g_pp = &pp;
    fcontext_t ctx = maker->make(pp.stack.top, STACK_BYTES, pingpong_entry);
    int bad_main = 0;
    for (int round = 0; round < rounds; round++) {
        long req = round * 7L + 1;
        const impl_t *j = (round & 1) ? main_jump1 : main_jump0;
        fcontext_transfer_t t = j->jump(ctx, &req);
        long *reply = t.data;
        if (!bad_main && (t.ctx == NULL || !on_stack(&pp.stack, reply) || *reply != req * 3 + 1))
            bad_main = round + 1;
        ctx = t.ctx;
    }
    check(!bad_main && !pp.bad_data && !pp.off_stack && pp.rounds_seen == rounds, name,
          "main saw bad reply in round %d, context saw bad request in round %d, "
          "context locals off its stack %d, rounds seen %d of %d",
          bad_main - 1, pp.bad_data - 1, pp.off_stack, pp.rounds_seen, rounds);
    free(pp.stack.mem);
}

/* ------------------------------------------------------------------ ontop */

typedef struct {
    const impl_t *ctx_jump;
    stack_t_ stack;
    int ontop_ran;
    int ontop_on_stack;
    int ontop_saw_vp;
    long changed;
    int pending_got; /* what the context's pending jump returned, decoded */
} ontop_state_t;

static ontop_state_t *g_os;

static fcontext_transfer_t ontop_fn_cb(fcontext_transfer_t t) {
    ontop_state_t *os = g_os;
    char probe;
    note_alignment();
    os->ontop_ran++;
    os->ontop_on_stack = on_stack(&os->stack, &probe);
    os->ontop_saw_vp = t.data != NULL && *(long *)t.data == 4242;
    os->changed = *(long *)t.data + 1000;
    t.data = &os->changed; /* the pending jump must return this, not vp */
    return t;
}

static void ontop_entry(fcontext_transfer_t t) {
    ontop_state_t *os = g_os;
    /* Suspend once so ontop hits a context blocked in a jump. */
    t = os->ctx_jump->jump(t.ctx, NULL);
    os->pending_got = (t.data == &os->changed && *(long *)t.data == 5242) ? 1 : -1;
    static long done = 77;
    os->ctx_jump->jump(t.ctx, &done);
    abort(); /* never resumed again */
}

static void ontop_check(const char *name, const impl_t *maker, const impl_t *ctx_jump,
                        const impl_t *main_ontop) {
    if (skip_one_way(name, main_ontop, ctx_jump) || skip_one_way(name, ctx_jump, main_ontop))
        return;
    ontop_state_t os;
    memset(&os, 0, sizeof os);
    os.ctx_jump = ctx_jump;
    os.stack = stack_new();
    g_os = &os;
    fcontext_t ctx = maker->make(os.stack.top, STACK_BYTES, ontop_entry);
    fcontext_transfer_t t = ctx_jump->jump(ctx, NULL);
    long vp = 4242;
    t = main_ontop->ontop(t.ctx, &vp, ontop_fn_cb);
    int back_ok = t.data != NULL && *(long *)t.data == 77;
    check(os.ontop_ran == 1 && os.ontop_on_stack && os.ontop_saw_vp && os.pending_got == 1 && back_ok,
          name,
          "fn ran %d times, on target stack %d, saw vp %d, pending jump got fn's result %d, "
          "main resumed with data %d",
          os.ontop_ran, os.ontop_on_stack, os.ontop_saw_vp, os.pending_got, back_ok);
    free(os.stack.mem);
}

/* ------------------------------------------------ register preservation */

typedef struct {
    stack_t_ stack;
    int ctx_bad; /* first non-zero result seen by the context's helper calls */
    int ctx_calls;
    int data_bad;
} regs_state_t;

static regs_state_t *g_rs;

/*
 * What a register helper must return after each switch. The default build
 * preserves every callee-saved register, FP control included: 0. The fast
 * variant (FCONTEXT_NO_FPU_CONTROL, cargo feature no-fpu-control; the matrix
 * compiles this file with the same flags as the assembly) does not carry
 * MXCSR and the x87 control word across a switch, so every general-purpose
 * register must still be preserved and the first difference the helper finds
 * must be MXCSR, whose rounding mode differs between the two sides' seeds:
 * its 1-based index in the regs file.
 */
#if !defined(FCONTEXT_NO_FPU_CONTROL)
#define REGS_EXPECT 0
#elif defined(__x86_64__) && defined(_WIN32)
#define REGS_EXPECT 19 /* regs/x86_64_win64_gas.S: after 8 GPRs and xmm6-15 */
#elif defined(__x86_64__)
#define REGS_EXPECT 7 /* regs/x86_64_sysv_gas.S: after rbx, rbp, r12-r15 */
#elif defined(__i386__)
#define REGS_EXPECT 5 /* regs/i386_gas.S: after ebx, esi, edi, ebp */
#elif defined(__powerpc64__)
#define REGS_EXPECT 50 /* regs/ppc64le.S: after r14-r31, f14-f31, v20-v31, CR: FPSCR RN */
#elif defined(__powerpc__)
#define REGS_EXPECT 38 /* regs/ppc32.S: after r14-r31, f14-f31, CR: FPSCR RN */
#elif defined(__s390x__)
#define REGS_EXPECT 17 /* regs/s390x.S: after r6-r13, f8-f15: FPC rounding mode */
#else
#define REGS_EXPECT 0 /* no FP control register is switched on this target */
#endif

static void regs_entry(fcontext_transfer_t t) {
    regs_state_t *rs = g_rs;
    note_alignment();
    for (uintptr_t i = 0;; i++) {
        fcontext_transfer_t out;
        /* Seeds differ from main's in every byte and in the low two bits,
           which pick the FP rounding modes. */
        int r = fc_regs_jump(t.ctx, (void *)(i + 1), &out, (uintptr_t)0x5A5A5A02u * (uintptr_t)0x100000001ull + i * 4);
        rs->ctx_calls++;
        if (r != REGS_EXPECT && !rs->ctx_bad)
            rs->ctx_bad = r ? r : -1;
        if (out.data != (void *)(i + 100) && !rs->data_bad)
            rs->data_bad = 1;
        t = out;
    }
}

static fcontext_transfer_t regs_ontop_cb(fcontext_transfer_t t) {
    note_alignment();
    return t; /* data passes through: the context checks it is i + 100 */
}

static void regs_check(void) {
    regs_state_t rs;
    memset(&rs, 0, sizeof rs);
    rs.stack = stack_new();
    g_rs = &rs;
    fcontext_t ctx = make_fcontext(rs.stack.top, STACK_BYTES, regs_entry);
    int jump_bad = 0, ontop_bad = 0, data_bad = 0;
    fcontext_transfer_t out;
    /* First switch enters the fresh context (its registers are garbage). */
    int r = fc_regs_jump(ctx, NULL, &out, (uintptr_t)0x12345601u * (uintptr_t)0x100000001ull);
    if (r != REGS_EXPECT)
        jump_bad = r ? r : -1;
    ctx = out.ctx;
    for (uintptr_t i = 0; i < 16; i++) {
        uintptr_t seed = (uintptr_t)0x0F1E2D01u * (uintptr_t)0x100000001ull + i * 4;
        if (out.data != (void *)(i + 1) && !data_bad)
            data_bad = 1;
        if (i & 1) {
            r = fc_regs_ontop(ctx, (void *)(i + 100), regs_ontop_cb, &out, seed);
            if (r != REGS_EXPECT && !ontop_bad)
                ontop_bad = r ? r : -1;
        } else {
            r = fc_regs_jump(ctx, (void *)(i + 100), &out, seed);
            if (r != REGS_EXPECT && !jump_bad)
                jump_bad = r ? r : -1;
        }
        ctx = out.ctx;
    }
    /* -1: nothing differed where the fast variant must leave MXCSR behind. */
    check(!jump_bad && !rs.ctx_bad,
          REGS_EXPECT ? "registers preserved across jump_fcontext, MXCSR not (no-fpu-control)"
                      : "registers preserved across jump_fcontext",
          "main's helper: register #%d, context's helper: register #%d differ (1-based, "
          "order in the regs file; expected %d, -1 = none)",
          jump_bad, rs.ctx_bad, REGS_EXPECT);
    check(!ontop_bad,
          REGS_EXPECT ? "registers preserved across ontop_fcontext, MXCSR not (no-fpu-control)"
                      : "registers preserved across ontop_fcontext",
          "register #%d differs (1-based, order in the regs file; expected %d, -1 = none)",
          ontop_bad, REGS_EXPECT);
    check(!data_bad && !rs.data_bad && rs.ctx_calls == 16, "register helpers pass transfer data",
          "main data bad %d, context data bad %d, context resumed %d of 16 times", data_bad,
          rs.data_bad, rs.ctx_calls);
    free(rs.stack.mem);
}

/* ------------------------------------------------------- floating point */

typedef struct {
    fcontext_t main;
    double result;
} fp_state_t;

/* Switches to *peer and stores the handle that comes back. */
static void hop_switch(fcontext_t *peer) {
    *peer = jump_fcontext(*peer, NULL).ctx;
}

/* Does nothing: the reference run takes the same code path without switching. */
static void hop_none(fcontext_t *peer) {
    (void)peer;
}

/* A few doubles kept live across a call; the compiler holds them in
   callee-saved FP registers where the ABI has them. The reference run uses
   the same code (through a pointer to hop_none), so excess-precision spills
   (x87) happen identically. */
static double fp_chain(int n, void (*hop)(fcontext_t *), fcontext_t *peer, double seed) {
    double a = seed, b = seed * 0.5 + 1.25, c = seed - 3.75, d = 1.0 / (seed + 2.0);
    for (int i = 0; i < n; i++) {
        hop(peer);
        a = a * 1.0000001 + b;
        b = b * 0.9999999 - c * 1e-7;
        c = c + d * 0.5;
        d = d * 1.0000003 + a * 1e-9;
    }
    return a + b * 3 + c * 5 + d * 7;
}

/* Volatile so the compiler cannot tell the reference run from the real one. */
static void (*volatile g_hop_switch)(fcontext_t *) = hop_switch;
static void (*volatile g_hop_none)(fcontext_t *) = hop_none;

static void fp_entry(fcontext_transfer_t t) {
    fp_state_t *fs = t.data;
    fs->main = t.ctx;
    fs->result = fp_chain(1000, g_hop_switch, &fs->main, 7.0);
    jump_fcontext(fs->main, NULL);
    abort();
}

static void fp_check(void) {
    fp_state_t fs;
    stack_t_ s = stack_new();
    fcontext_t none = NULL;
    memset(&fs, 0, sizeof fs);
    fcontext_t ctx = make_fcontext(s.top, STACK_BYTES, fp_entry);
    ctx = jump_fcontext(ctx, &fs).ctx;
    /* volatile: compare stored doubles, not x87 temporaries; the last hop lets fp_entry finish */
    volatile double mine = fp_chain(1000, g_hop_switch, &ctx, 3.0);
    volatile double expect_mine = fp_chain(1000, g_hop_none, &none, 3.0);
    volatile double expect_ctx = fp_chain(1000, g_hop_none, &none, 7.0);
    check(mine == expect_mine && fs.result == expect_ctx, "FP values across switches",
          "main %.17g (want %.17g), context %.17g (want %.17g)", mine, expect_mine, fs.result,
          expect_ctx);
    free(s.mem);
}

/* ------------------------------------- x86 FP control modes per context */

/*
 * The register helpers load a different rounding mode into MXCSR and the x87
 * control word on each side. This check also changes the x87 precision
 * control and shows that the modes really apply: a context chooses round-up
 * and double precision, main does not see them, main then chooses
 * round-toward-zero, and the resumed context does not see that. Not in the
 * fast variant, which deliberately does not carry these registers.
 */
#if (defined(__x86_64__) || defined(__i386__)) && !defined(FCONTEXT_NO_FPU_CONTROL)
#define HAVE_X86_FP_CONTROL 1

#define MXCSR_RC (3u << 13)      /* rounding control: 00 nearest, 01 down, 10 up, 11 zero */
#define MXCSR_CONTROL 0xFFC0u    /* everything but the sticky exception flags */
#define FCW_RC (3u << 10)        /* the same encoding */
#define FCW_PC (3u << 8)         /* precision control: 10 double */

static unsigned get_mxcsr(void) {
    unsigned v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}
static void set_mxcsr(unsigned v) {
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}
static unsigned short get_fcw(void) {
    unsigned short v;
    __asm__ volatile("fnstcw %0" : "=m"(v));
    return v;
}
static void set_fcw(unsigned short v) {
    __asm__ volatile("fldcw %0" : : "m"(v));
}

/* 1/3 in the current rounding mode (SSE arithmetic on x86_64). */
static double third(void) {
    volatile double one = 1.0, three = 3.0;
    return one / three;
}

typedef struct {
    unsigned ctx_mxcsr_set, ctx_mxcsr_after;
    unsigned short ctx_fcw_set, ctx_fcw_after;
    double ctx_third;
} fpctl_state_t;

static void fpctl_entry(fcontext_transfer_t t) {
    fpctl_state_t *st = t.data;
    set_mxcsr((get_mxcsr() & ~MXCSR_RC) | (2u << 13)); /* round up */
    set_fcw((unsigned short)((get_fcw() & ~(FCW_RC | FCW_PC)) | (2u << 10) | (2u << 8)));
    st->ctx_mxcsr_set = get_mxcsr();
    st->ctx_fcw_set = get_fcw();
    st->ctx_third = third();
    t = jump_fcontext(t.ctx, NULL);
    st->ctx_mxcsr_after = get_mxcsr();
    st->ctx_fcw_after = get_fcw();
    jump_fcontext(t.ctx, NULL);
    abort(); /* never resumed again */
}

static void fp_control_check(void) {
    fpctl_state_t st;
    memset(&st, 0, sizeof st);
    stack_t_ s = stack_new();
    const unsigned m0 = get_mxcsr();
    const unsigned short f0 = get_fcw();
    const double main_third = third();
    fcontext_t ctx = make_fcontext(s.top, STACK_BYTES, fpctl_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &st);
    const unsigned m_after = get_mxcsr();
    const unsigned short f_after = get_fcw();
    set_mxcsr(m0 | MXCSR_RC); /* toward zero */
    set_fcw((unsigned short)(f0 | FCW_RC));
    const unsigned m_set = get_mxcsr();
    jump_fcontext(t.ctx, NULL);
    set_mxcsr(m0);
    set_fcw(f0);
    int set_ok = (st.ctx_mxcsr_set & MXCSR_RC) == (2u << 13) &&
                 (st.ctx_fcw_set & (FCW_RC | FCW_PC)) == ((2u << 10) | (2u << 8)) &&
                 (m_set & MXCSR_RC) == MXCSR_RC;
    int main_kept = (m_after & MXCSR_CONTROL) == (m0 & MXCSR_CONTROL) && f_after == f0;
    int ctx_kept = (st.ctx_mxcsr_after & MXCSR_CONTROL) == (st.ctx_mxcsr_set & MXCSR_CONTROL) &&
                   st.ctx_fcw_after == st.ctx_fcw_set;
    int applied = 1;
#if defined(__x86_64__)
    /* The modes really apply: 1/3 rounds to nearest in main, up in the context. */
    {
        const double nearest = 1.0 / 3.0;
        uint64_t n, m, c;
        memcpy(&n, &nearest, sizeof n);
        memcpy(&m, &main_third, sizeof m);
        memcpy(&c, &st.ctx_third, sizeof c);
        applied = m == n && c == n + 1;
    }
#else
    (void)main_third;
#endif
    check(set_ok && main_kept && ctx_kept && applied,
          "MXCSR and x87 control word (rounding, precision) kept per context",
          "modes set %d; main MXCSR %#x -> %#x, CW %#x -> %#x; context MXCSR %#x -> %#x, "
          "CW %#x -> %#x; 1/3 rounded per context %d",
          set_ok, m0, m_after, f0, f_after, st.ctx_mxcsr_set, st.ctx_mxcsr_after,
          st.ctx_fcw_set, st.ctx_fcw_after, applied);
    free(s.mem);
}
#endif

/* ------------------------------------------------------ million switches */

static long g_count_ctx;

static void count_entry(fcontext_transfer_t t) {
    for (;;) {
        g_count_ctx++;
        t = jump_fcontext(t.ctx, t.data);
    }
}

static void million_check(void) {
    stack_t_ s = stack_new();
    fcontext_t ctx = make_fcontext(s.top, STACK_BYTES, count_entry);
    long main_count = 0;
    for (long i = 0; i < 500000; i++) {
        fcontext_transfer_t t = jump_fcontext(ctx, (void *)(uintptr_t)(i + 1));
        if (t.data == (void *)(uintptr_t)(i + 1))
            main_count++;
        ctx = t.ctx;
    }
    check(main_count == 500000 && g_count_ctx == 500000, "one million switches",
          "main counted %ld, context %ld of 500000 round trips", main_count, g_count_ctx);
    free(s.mem);
}

/* --------------------------------------------------- entry returns: exit 0 */

static void returning_entry(fcontext_transfer_t t) {
    /* One round trip first, so the return happens from a resumed context. */
    jump_fcontext(t.ctx, NULL);
    /* returning reaches make_fcontext's finish: _exit(0) */
}

static void returning_entry_fresh(fcontext_transfer_t t) {
    (void)t; /* returns on its first run, never having switched away */
}

/*
 * Child side: only status 0 (from finish) counts as success, 3 means the
 * switch returned. finish must end the process with _exit, which runs no
 * atexit handler and flushes no stdio buffer: on POSIX the child leaves an
 * unflushed line in a buffered stream on `leak_fd` (the parent reads it back
 * if exit() flushed it); on Windows an atexit handler would exit with 4.
 */
#ifdef _WIN32
static void atexit_must_not_run(void) {
    _exit(4);
}
#endif

static int child_return(int fresh, int leak_fd) {
    stack_t_ s = stack_new();
#ifdef _WIN32
    (void)leak_fd;
    atexit(atexit_must_not_run);
#else
    FILE *leak = leak_fd >= 0 ? fdopen(leak_fd, "w") : NULL;
    if (leak) {
        setvbuf(leak, NULL, _IOFBF, 256);
        fputs("flushed by exit()", leak);
    }
#endif
    fcontext_t ctx = make_fcontext(s.top, STACK_BYTES, fresh ? returning_entry_fresh : returning_entry);
    if (!fresh)
        ctx = jump_fcontext(ctx, NULL).ctx;
    jump_fcontext(ctx, NULL); /* the entry function returns */
    _exit(3);                 /* not reached when finish works */
}

static void entry_returns_check_one(const char *self, int fresh) {
    const char *name = fresh ? "entry function returns on its first run: child _exits 0"
                             : "entry function returns after a resume: child _exits 0";
#ifdef _WIN32
    char path[MAX_PATH];
    if (!GetModuleFileNameA(NULL, path, sizeof path)) {
        check(0, name, "GetModuleFileName failed");
        return;
    }
    (void)self;
    fflush(stdout);
    intptr_t status = _spawnl(_P_WAIT, path, "harness",
                              fresh ? "--child-return-fresh" : "--child-return", NULL);
    check(status == 0, name, "child exit status %ld (4: atexit handlers ran, exit instead of _exit)",
          (long)status);
#else
    (void)self;
    int fds[2];
    if (pipe(fds) != 0) {
        check(0, name, "pipe failed");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_return(fresh, fds[1]);
    }
    close(fds[1]);
    char leaked[64] = "";
    ssize_t n = pid < 0 ? 0 : read(fds[0], leaked, sizeof leaked - 1);
    leaked[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        check(0, name, "fork/waitpid failed");
        return;
    }
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0 && !leaked[0], name,
          "child %s %d, its stdio buffer %s", WIFEXITED(status) ? "exited with" : "killed by signal",
          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
          leaked[0] ? "was flushed (exit, not _exit)" : "was not flushed");
#endif
}

static void entry_returns_check(const char *self) {
    entry_returns_check_one(self, 0);
    entry_returns_check_one(self, 1);
}

/* ------------------------------------------------- fresh-context alignment */

/* The implementation whose fresh contexts first_misaligned_entry probes: its
   own jump switches back, so no other library resumes what it suspended. */
static const impl_t *g_align_impl = &g_ours;

static void align_entry(fcontext_transfer_t t) {
    note_alignment();
    g_align_impl->jump(t.ctx, NULL);
    abort();
}

/* Enters fresh contexts made on tops with every residue mod 16; returns the
   first misaligned call-site SP seen, or 0. */
static uintptr_t first_misaligned_entry(const impl_t *impl) {
    stack_t_ s = stack_new();
    g_misaligned_sp = 0;
    g_align_impl = impl;
    for (int r = 0; r < 16; r++) {
        fcontext_t ctx = impl->make(s.top - 64 - r, STACK_BYTES - 128, align_entry);
        impl->jump(ctx, NULL);
    }
    uintptr_t sp = g_misaligned_sp;
    g_misaligned_sp = 0; /* later checks report their own */
    free(s.mem);
    return sp;
}

static void alignment_check(const impl_t *impl, const char *name) {
    uintptr_t sp = first_misaligned_entry(impl);
    check(sp == 0, name, "entry function ran with SP %#lx at a call site (not %lu-aligned)",
          (unsigned long)sp, (unsigned long)g_align);
}

/* ------------------------------------------------------ make's frame layout */

typedef struct {
    unsigned long pre, align;
    long dist;
    long fn_slot; /* -1: not checked */
    int nranges;
    long off[32];
    long len[32];
} frame_spec_t;

static int parse_frame_spec(const char *text, frame_spec_t *f) {
    char *end;
    memset(f, 0, sizeof *f);
    f->fn_slot = -1;
    f->pre = strtoul(text, &end, 0);
    if (*end != '/')
        return 0;
    f->align = strtoul(end + 1, &end, 0);
    if (*end != '/' || f->align == 0 || (f->align & (f->align - 1)))
        return 0;
    f->dist = strtol(end + 1, &end, 0);
    while (*end == ';') {
        if (!strncmp(end, ";fn=", 4)) {
            f->fn_slot = strtol(end + 4, &end, 0);
        } else if (!strncmp(end, ";w=", 3)) {
            end += 2;
            do {
                if (f->nranges == 32)
                    return 0;
                f->off[f->nranges] = strtol(end + 1, &end, 0);
                if (*end != ':')
                    return 0;
                f->len[f->nranges] = strtol(end + 1, &end, 0);
                f->nranges++;
            } while (*end == ',');
        } else {
            return 0;
        }
    }
    return *end == '\0';
}

static int spec_writes(const frame_spec_t *f, long rel) {
    for (int i = 0; i < f->nranges; i++)
        if (rel >= f->off[i] && rel < f->off[i] + f->len[i])
            return 1;
    return 0;
}

static void frame_entry_dummy(fcontext_transfer_t t) {
    (void)t;
    abort(); /* frames made for the layout check are never entered */
}

#define FRAME_BUF 2048
#define FRAME_TOP 1536 /* top offset inside the buffer before the residue */

/* Calls make on tops with every residue mod 16, over a buffer filled with a
   marker (twice, with two markers, so a written byte that happens to equal a
   marker is still seen), and compares fctx and the written bytes with the
   spec. */
static void frame_check(const impl_t *impl, const frame_spec_t *f, const char *name) {
    unsigned char *raw = malloc(FRAME_BUF + 16);
    unsigned char *buf = (unsigned char *)(((uintptr_t)raw + 15) & ~(uintptr_t)15);
    char why[256] = "";
    for (int r = 0; r < 16 && !why[0]; r++) {
        unsigned char *top = buf + FRAME_TOP + r;
        uintptr_t want = (((uintptr_t)top - f->pre) & ~(uintptr_t)(f->align - 1)) - f->dist;
        unsigned char copy[2][FRAME_BUF];
        fcontext_t got[2];
        for (int pass = 0; pass < 2; pass++) {
            memset(buf, pass ? 0x5A : 0xA5, FRAME_BUF);
            got[pass] = impl->make(top, 1024, frame_entry_dummy);
            memcpy(copy[pass], buf, FRAME_BUF);
        }
        if ((uintptr_t)got[0] != want || got[1] != got[0]) {
            snprintf(why, sizeof why, "top %% 16 = %d: fctx = top - %#lx, want top - %#lx", r,
                     (unsigned long)((uintptr_t)top - (uintptr_t)got[0]),
                     (unsigned long)((uintptr_t)top - want));
            break;
        }
        for (long i = 0; i < FRAME_BUF; i++) {
            long rel = (long)(i - ((uintptr_t)got[0] - (uintptr_t)buf));
            int written = copy[0][i] != 0xA5 || copy[1][i] != 0x5A;
            if (written != spec_writes(f, rel)) {
                snprintf(why, sizeof why, "top %% 16 = %d: byte fctx%+ld is %s", r, rel,
                         written ? "written but should be left alone" : "not written");
                break;
            }
        }
        if (!why[0] && f->fn_slot >= 0) {
            uintptr_t slot;
            memcpy(&slot, copy[0] + ((uintptr_t)got[0] - (uintptr_t)buf) + f->fn_slot, sizeof slot);
            if (slot != (uintptr_t)frame_entry_dummy)
                snprintf(why, sizeof why, "top %% 16 = %d: word at fctx+%#lx is %#lx, not the entry "
                         "function", r, (unsigned long)f->fn_slot, (unsigned long)slot);
        }
    }
    check(!why[0], name, "%s", why);
    free(raw);
}

/* --------------------------------------------------- exact entry SP (x86_64) */

/* x86_64 System V: the exact SP at the entry function's first instruction.
   Boost's trampoline makes a fresh context look as if the entry function had
   been called at the aligned top, with finish as its return address: its
   CFA (SP before that call) is fctx + DIST = (top - PRE) & ~(ALIGN - 1), so
   its first instruction sees SP = CFA - 8, and SP + 8 16-aligned. */
#if defined(__x86_64__) && !defined(_WIN32)
#define HAVE_ENTRY_CFA 1
static uintptr_t g_entry_cfa;

static void cfa_entry(fcontext_transfer_t t) {
    /* The frame pointer this forces is where the prologue pushed rbp, just
       below the return address: CFA - 16. */
    g_entry_cfa = (uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *);
    jump_fcontext(t.ctx, NULL);
    abort();
}

static void entry_cfa_check(const frame_spec_t *f) {
    stack_t_ s = stack_new();
    char why[160] = "";
    for (int r = 0; r < 16 && !why[0]; r++) {
        unsigned char *top = s.top - 64 - r;
        uintptr_t want = ((uintptr_t)top - f->pre) & ~(uintptr_t)(f->align - 1);
        g_entry_cfa = 0;
        fcontext_t ctx = make_fcontext(top, STACK_BYTES - 128, cfa_entry);
        jump_fcontext(ctx, NULL);
        if (g_entry_cfa != want || (uintptr_t)ctx + f->dist != want)
            snprintf(why, sizeof why, "top %% 16 = %d: entry SP = top - %#lx, want top - %#lx", r,
                     (unsigned long)((uintptr_t)top - (g_entry_cfa - 8)),
                     (unsigned long)((uintptr_t)top - (want - 8)));
    }
    check(!why[0], "entry function starts with SP = aligned top - 8 (16 residues)", "%s", why);
    free(s.mem);
}
#endif

/* ------------------------------------------------------- Windows TEB fields */

/* On Windows, and in the Linux i386 run of the 32-bit PE objects, where
   conformance/emul/win32_tib_linux.c points fs at a fake TIB. */
#if defined(_WIN32) || defined(FC_EMULATED_WIN32_TIB)
#define HAVE_TIB 1
#if UINTPTR_MAX > 0xFFFFFFFFu
enum { TIB_BASE = 0x08, TIB_LIMIT = 0x10, TIB_FIBER = 0x20, TIB_DEALLOC = 0x1478 };
#else
enum { TIB_BASE = 0x04, TIB_LIMIT = 0x08, TIB_FIBER = 0x10, TIB_DEALLOC = 0xE0C };
#endif

static unsigned char *tib_self(void) {
#ifdef _WIN32
    return (unsigned char *)NtCurrentTeb();
#else
    unsigned char *self;
    __asm__ volatile("movl %%fs:0x18, %0" : "=r"(self));
    return self;
#endif
}

typedef struct {
    void *base, *limit, *dealloc, *fiber;
    void **seh; /* ExceptionList: i386's SEH chain (records {next, handler});
                   on x64 only wine's dispatcher walks it (asm/x86_64_ms_pe_gas.S) */
} teb_view_t;

static void *tib_word(long offset) {
    void *v;
    memcpy(&v, tib_self() + offset, sizeof v);
    return v;
}

static teb_view_t teb_now(void) {
    teb_view_t v;
    v.base = tib_word(TIB_BASE);
    v.limit = tib_word(TIB_LIMIT);
    v.dealloc = tib_word(TIB_DEALLOC);
    v.fiber = tib_word(TIB_FIBER);
    v.seh = tib_word(0);
    return v;
}

static teb_view_t g_teb_in_ctx;

static void teb_entry(fcontext_transfer_t t) {
    g_teb_in_ctx = teb_now();
    jump_fcontext(t.ctx, NULL);
    abort();
}

static void teb_check(void) {
    stack_t_ s = stack_new();
    teb_view_t before = teb_now();
    size_t size = STACK_BYTES - 4096;
    fcontext_t ctx = make_fcontext(s.top, size, teb_entry);
    jump_fcontext(ctx, NULL);
    teb_view_t after = teb_now();
    check(g_teb_in_ctx.base == s.top && g_teb_in_ctx.limit == s.top - size &&
              g_teb_in_ctx.dealloc == s.top - size && g_teb_in_ctx.fiber == NULL,
          "TEB stack fields inside a fresh context",
          "StackBase %p (want %p), StackLimit %p, DeallocationStack %p (want %p), FiberData %p",
          g_teb_in_ctx.base, (void *)s.top, g_teb_in_ctx.limit, g_teb_in_ctx.dealloc,
          (void *)(s.top - size), g_teb_in_ctx.fiber);
    check(!memcmp(&before, &after, sizeof before), "TEB stack fields restored on switch back",
          "StackBase %p -> %p, StackLimit %p -> %p, ExceptionList %p -> %p", before.base, after.base,
          before.limit, after.limit, (void *)before.seh, (void *)after.seh);
    if (sizeof(void *) == 8)
        /* x64: a context has its own, empty ExceptionList, so wine never runs the
           thread's records (its top-level filter) for frames on the context stack. */
        check(g_teb_in_ctx.seh == (void **)-1, "ExceptionList of a fresh context: empty (-1)",
              "ExceptionList %p", (void *)g_teb_in_ctx.seh);
    if (sizeof(void *) == 4) {
        /* The context's SEH chain is one terminal record on its own stack, with
           the handler of the thread's terminal record (SEHOP validates it). */
        void **rec = before.seh;
        while (rec && rec != (void **)-1 && rec[0] != (void *)-1)
            rec = rec[0];
        void **mine = g_teb_in_ctx.seh;
        check(on_stack(&s, mine) && mine[0] == (void *)-1 && rec && rec != (void **)-1 &&
                  mine[1] == rec[1],
              "SEH chain of a fresh context: its own terminal record",
              "head %p (stack %p..%p), next %p, handler %p (thread's final handler %p)",
              (void *)mine, (void *)s.mem, (void *)s.top, on_stack(&s, mine) ? mine[0] : NULL,
              on_stack(&s, mine) ? mine[1] : NULL, rec && rec != (void **)-1 ? rec[1] : NULL);
    }
    free(s.mem);
}
#endif

/* ------------------------------------------------------------------ main */

static int summary(void) {
    printf("fc-harness: %s (%d checks, %d failed)\n", g_failed ? "FAIL" : "PASS", g_checks,
           g_failed);
    return g_failed ? 1 : 0;
}

static int usage(void) {
    printf("usage: harness --frame SPEC [--stack-align N]\n"
           "       harness --interop LIB --boost-frame SPEC [--stack-align N] [--interop-one-way]\n");
    return 2;
}

static int run_conformance(const frame_spec_t *frame, const char *self) {
    pingpong("ping-pong, data both ways", &g_ours, &g_ours, &g_ours, &g_ours, &g_ours, 1000);
    ontop_check("ontop_fcontext: runs on the target stack, changes data", &g_ours, &g_ours, &g_ours);
    check(g_misaligned_sp == 0, "ping-pong entry and ontop function SP aligned per ABI",
          "SP %#lx at a call site", (unsigned long)g_misaligned_sp);
    alignment_check(&g_ours, "entry function SP aligned per ABI (16 residues)");
#ifdef HAVE_ENTRY_CFA
    entry_cfa_check(frame);
#endif
    regs_check();
    check(g_misaligned_sp == 0, "register-test context SP aligned per ABI", "SP %#lx",
          (unsigned long)g_misaligned_sp);
    fp_check();
#ifdef HAVE_X86_FP_CONTROL
    fp_control_check();
#endif
    million_check();
    entry_returns_check(self);
    frame_check(&g_ours, frame, "make_fcontext frame layout (16 residues)");
#ifdef HAVE_TIB
    teb_check();
#endif
    return summary();
}

static int run_interop(const char *lib, const frame_spec_t *boost_frame) {
#ifdef _WIN32
    (void)lib;
    (void)boost_frame;
    printf("FAIL interop: no Boost DLL interop on Windows\n");
    return 2;
#else
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("FAIL interop: dlopen %s: %s\n", lib, dlerror());
        return 2;
    }
    /* POSIX lets dlsym's object pointer hold a function address; memcpy keeps ISO C quiet. */
    void *make = dlsym(h, "make_fcontext"), *jump = dlsym(h, "jump_fcontext"),
         *ontop = dlsym(h, "ontop_fcontext");
    if (!make || !jump || !ontop) {
        printf("FAIL interop: %s lacks make/jump/ontop_fcontext\n", lib);
        return 2;
    }
    memcpy(&g_boost.make, &make, sizeof make);
    memcpy(&g_boost.jump, &jump, sizeof jump);
    memcpy(&g_boost.ontop, &ontop, sizeof ontop);
    if (g_boost.make == make_fcontext || g_boost.jump == jump_fcontext ||
        g_boost.ontop == ontop_fcontext) {
        printf("FAIL interop: dlsym found our own make/jump/ontop_fcontext, not Boost's\n");
        return 2;
    }
    const impl_t *o = &g_ours, *b = &g_boost;
    {
        /* RTLD_LOCAL keeps the two sets apart: Boost's three come from its
           library, ours from the harness. */
        void *fns[6] = {make, jump, ontop, NULL, NULL, NULL};
        make_fn om = make_fcontext;
        jump_fn oj = jump_fcontext;
        ontop_fn oo = ontop_fcontext;
        memcpy(&fns[3], &om, sizeof om);
        memcpy(&fns[4], &oj, sizeof oj);
        memcpy(&fns[5], &oo, sizeof oo);
        char why[256] = "";
        for (int i = 0; i < 6 && !why[0]; i++) {
            Dl_info info;
            const char *file = dladdr(fns[i], &info) && info.dli_fname ? info.dli_fname : "";
            int from_boost = strstr(file, "libboost_context") != NULL;
            if (i < 3 ? !from_boost : strstr(file, "boost") != NULL)
                snprintf(why, sizeof why, "%s %s_fcontext resolved in \"%s\"",
                         i < 3 ? "Boost's" : "our", i % 3 == 0 ? "make" : i % 3 == 1 ? "jump" : "ontop",
                         file);
        }
        check(!why[0], "dlsym finds Boost's make/jump/ontop in its library, ours in the harness",
              "%s", why);
    }
    frame_check(b, boost_frame, "Boost's make_fcontext matches its documented frame layout");
    /* Information, not a check: Boost 1.74 breaks the i386 psABI here (docs/ABI.md#i386-sysv-elf). */
    uintptr_t boost_sp = first_misaligned_entry(b);
    printf("info Boost's fresh contexts enter %s\n",
           boost_sp ? "misaligned for this ABI (ours are checked aligned)" : "aligned");
    pingpong("Boost-made context, driven by our jump both ways", b, o, o, o, o, 1000);
    pingpong("our context, driven by Boost's jump both ways", o, b, b, b, b, 1000);
    pingpong("Boost-made context, main ours, context Boost's", b, o, o, b, b, 1000);
    pingpong("our context, main Boost's, context ours", o, b, b, o, o, 1000);
    pingpong("mixed jumps, alternating every switch (Boost make)", b, o, b, b, o, 10000);
    pingpong("mixed jumps, alternating every switch (our make)", o, b, o, o, b, 10000);
    ontop_check("our ontop onto a Boost-made context suspended by Boost", b, b, o);
    ontop_check("Boost's ontop onto our context suspended by ours", o, o, b);
    ontop_check("Boost's ontop onto a Boost context suspended by our jump", b, o, b);
    ontop_check("our ontop onto our context suspended by Boost's jump", o, b, o);
    return summary();
#endif
}

int main(int argc, char **argv) {
    const char *frame_text = NULL, *boost_frame_text = NULL, *lib = NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--child-return"))
            return child_return(0, -1);
        if (!strcmp(argv[i], "--child-return-fresh"))
            return child_return(1, -1);
        if (!strcmp(argv[i], "--interop-one-way")) {
            g_one_way = 1;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--frame"))
            frame_text = argv[++i];
        else if (!strcmp(argv[i], "--boost-frame"))
            boost_frame_text = argv[++i];
        else if (!strcmp(argv[i], "--interop"))
            lib = argv[++i];
        else if (!strcmp(argv[i], "--stack-align"))
            g_align = strtoul(argv[++i], NULL, 0);
        else
            return usage();
    }
    if (g_align == 0 || (g_align & (g_align - 1))) {
        printf("FAIL --stack-align must be a power of two\n");
        return 2;
    }
    frame_spec_t spec;
    if (lib) {
        printf("fc-harness: started (interop with %s, %d-bit)\n", lib, (int)(8 * sizeof(void *)));
        if (!boost_frame_text || !parse_frame_spec(boost_frame_text, &spec)) {
            printf("FAIL bad or missing --boost-frame spec\n");
            return 2;
        }
        return run_interop(lib, &spec);
    }
    printf("fc-harness: started (conformance, %d-bit)\n", (int)(8 * sizeof(void *)));
    if (!frame_text || !parse_frame_spec(frame_text, &spec)) {
        printf("FAIL bad or missing --frame spec\n");
        return 2;
    }
    return run_conformance(&spec, argv[0]);
}
