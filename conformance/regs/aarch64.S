/*
 * Register-preservation helper for AArch64 (AAPCS64), see HARNESS.md.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..9   x19 .. x28
 *   10     x29 (frame pointer)
 *   11..18 d8 .. d15 (AAPCS64 preserves only the low 64 bits of v8-v15)
 * FPCR is not checked: AAPCS64 treats its mode bits as thread-global state,
 * not as a callee-saved register.
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B97F4A7C15,
 * so both sides of a switch (different seeds) load different values.
 *
 * The switch is called through a register (blr) so a BTI-guarded binary
 * proves that jump/ontop_fcontext carry a landing pad.
 */

#if defined(__APPLE__)
#  define SYM(n) _##n
#  define FUNC(n) .globl SYM(n) %% .p2align 2 %% SYM(n):
#  define ENDF(n)
#  define ADDR(r, n) adrp r, SYM(n)@GOTPAGE %% ldr r, [r, SYM(n)@GOTPAGEOFF]
#elif defined(_WIN32)
#  define SYM(n) n
#  define FUNC(n) .globl n; .p2align 2; n:
#  define ENDF(n)
#  define ADDR(r, n) adrp r, n; add r, r, :lo12:n
#else
#  define SYM(n) n
#  define FUNC(n) .globl n; .type n, %function; .p2align 2; n:
#  define ENDF(n) .size n, .-n
/* via the GOT: the switch may live in a shared library (Boost interop) */
#  define ADDR(r, n) adrp r, :got:n; ldr r, [r, #:got_lo12:n]
#endif

    .text

/* Frame of the helper: caller's x19-x30 and d8-d15, plus `out`. */
#define HF_SIZE 0xb0

.macro SAVE_CALLER
    sub     sp, sp, #HF_SIZE        /* keep the caller's real callee-saved registers */
    stp     x19, x20, [sp, #0x00]
    stp     x21, x22, [sp, #0x10]
    stp     x23, x24, [sp, #0x20]
    stp     x25, x26, [sp, #0x30]
    stp     x27, x28, [sp, #0x40]
    stp     x29, x30, [sp, #0x50]
    stp     d8,  d9,  [sp, #0x60]
    stp     d10, d11, [sp, #0x70]
    stp     d12, d13, [sp, #0x80]
    stp     d14, d15, [sp, #0x90]
.endm

.macro RESTORE_CALLER
    ldp     x19, x20, [sp, #0x00]   /* give the caller its own registers back */
    ldp     x21, x22, [sp, #0x10]
    ldp     x23, x24, [sp, #0x20]
    ldp     x25, x26, [sp, #0x30]
    ldp     x27, x28, [sp, #0x40]
    ldp     x29, x30, [sp, #0x50]
    ldp     d8,  d9,  [sp, #0x60]
    ldp     d10, d11, [sp, #0x70]
    ldp     d12, d13, [sp, #0x80]
    ldp     d14, d15, [sp, #0x90]
    add     sp, sp, #HF_SIZE
.endm

/* x9 = running pattern, x10 = K; \seed is the seed register. */
.macro PATTERN_START seed
    movz    x10, #0x7c15            /* K, built 16 bits at a time */
    movk    x10, #0x7f4a, lsl #16
    movk    x10, #0x79b9, lsl #32
    movk    x10, #0x9e37, lsl #48
    mul     x9, \seed, x10          /* seed * K ... */
.endm

.macro LOAD_X reg
    add     x9, x9, x10             /* next pattern value */
    mov     \reg, x9
.endm

.macro LOAD_D reg
    add     x9, x9, x10
    fmov    \reg, x9
.endm

.macro LOAD_ALL seed
    PATTERN_START \seed
    LOAD_X  x19
    LOAD_X  x20
    LOAD_X  x21
    LOAD_X  x22
    LOAD_X  x23
    LOAD_X  x24
    LOAD_X  x25
    LOAD_X  x26
    LOAD_X  x27
    LOAD_X  x28
    LOAD_X  x29
    LOAD_D  d8
    LOAD_D  d9
    LOAD_D  d10
    LOAD_D  d11
    LOAD_D  d12
    LOAD_D  d13
    LOAD_D  d14
    LOAD_D  d15
.endm

/* w0 = 1 + index at the first mismatch; x11 = running index. */
.macro CHECK_X reg
    add     x9, x9, x10
    add     x11, x11, #1
    cmp     \reg, x9
    b.ne    9f                      /* first difference decides the result */
.endm

.macro CHECK_D reg
    add     x9, x9, x10
    add     x11, x11, #1
    fmov    x12, \reg
    cmp     x12, x9
    b.ne    9f
.endm

/* Compares everything LOAD_ALL loaded; seed is reloaded from [sp, #0xa8]. */
.macro CHECK_ALL
    ldr     x12, [sp, #0xa8]
    PATTERN_START x12
    mov     x11, #0                 /* x11 counts 1-based indices */
    CHECK_X x19
    CHECK_X x20
    CHECK_X x21
    CHECK_X x22
    CHECK_X x23
    CHECK_X x24
    CHECK_X x25
    CHECK_X x26
    CHECK_X x27
    CHECK_X x28
    CHECK_X x29
    CHECK_D d8
    CHECK_D d9
    CHECK_D d10
    CHECK_D d11
    CHECK_D d12
    CHECK_D d13
    CHECK_D d14
    CHECK_D d15
    mov     x11, #0                 /* all preserved */
9:
    mov     x0, x11
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
FUNC(fc_regs_jump)
    hint    #34                     /* bti c: the harness may call us through a pointer */
    SAVE_CALLER
    str     x2, [sp, #0xa0]         /* out, needed after the switch */
    str     x3, [sp, #0xa8]         /* seed, to recompute the patterns */
    LOAD_ALL x3
    ADDR(x16, jump_fcontext)        /* the switch under test */
    blr     x16                     /* indirect call: needs `bti c` at the target */
    ldr     x2, [sp, #0xa0]
    stp     x0, x1, [x2]            /* *out = transfer_t returned by the switch */
    CHECK_ALL
    RESTORE_CALLER
    ret
ENDF(fc_regs_jump)

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
FUNC(fc_regs_ontop)
    hint    #34                     /* bti c */
    SAVE_CALLER
    str     x3, [sp, #0xa0]         /* out */
    str     x4, [sp, #0xa8]         /* seed */
    LOAD_ALL x4
    ADDR(x16, ontop_fcontext)
    blr     x16                     /* x0 = to, x1 = vp, x2 = fn untouched so far */
    ldr     x2, [sp, #0xa0]
    stp     x0, x1, [x2]
    CHECK_ALL
    RESTORE_CALLER
    ret
ENDF(fc_regs_ontop)

/* uintptr_t fc_caller_sp(void): AArch64 calls push nothing, so SP is the caller's. */
FUNC(fc_caller_sp)
    hint    #34                     /* bti c */
    mov     x0, sp
    ret
ENDF(fc_caller_sp)

#if !defined(__APPLE__) && !defined(_WIN32)
    .section .note.gnu.property, "a"
    .p2align 3
    .long   4, 16, 5                /* namesz, descsz, NT_GNU_PROPERTY_TYPE_0 */
    .asciz  "GNU"
    .long   0xc0000000, 4, 1        /* AArch64 feature: BTI */
    .p2align 3

    .section .note.GNU-stack, "", %progbits
#endif
