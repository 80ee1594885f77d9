/*
 * Register-preservation helper for s390x (ELF ABI), see HARNESS.md.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..7   r6 .. r13
 *   8..15  f8 .. f15
 *   16     FPC rounding mode (set from the seed's low two bits)
 * r14/r15 are the return address and stack pointer: a wrong one would not
 * come back here at all.
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B97F4A7C15.
 * transfer_t comes back through the hidden result pointer (r2), so *out is
 * handed to the switch as that pointer.
 */

    .text

/* Helper frame below the caller's: 160-byte save area for our callee, then
   f8-f15, FPC, seed. */
#define HF_SIZE 256
#define HF_FPR  160
#define HF_FPC  224
#define HF_SEED 232
#define HF_TMP  240

.macro PATTERN_START seedreg
    lgr     %r0, \seedreg
    llihf   %r1, 0x9E3779B9         /* K */
    oilf    %r1, 0x7F4A7C15
    msgr    %r0, %r1                /* seed * K */
.endm

.macro LOAD_R reg
    agr     %r0, %r1
    lgr     \reg, %r0
.endm

.macro LOAD_F reg
    agr     %r0, %r1
    ldgr    \reg, %r0
.endm

.macro LOAD_ALL seedreg
    PATTERN_START \seedreg
    LOAD_R  %r6
    LOAD_R  %r7
    LOAD_R  %r8
    LOAD_R  %r9
    LOAD_R  %r10
    LOAD_R  %r11
    LOAD_R  %r12
    LOAD_R  %r13
    LOAD_F  %f8
    LOAD_F  %f9
    LOAD_F  %f10
    LOAD_F  %f11
    LOAD_F  %f12
    LOAD_F  %f13
    LOAD_F  %f14
    LOAD_F  %f15
    lg      %r14, HF_SEED(%r15)     /* r14 is free until the call (r0 as base means 0) */
    srnm    0(%r14)                 /* rounding mode = seed & 3 (a harmless mode) */
.endm

/* r3 counts 1-based indices; r2 = r3 at the first mismatch, else 0 */
.macro CHECK_R reg
    agr     %r0, %r1
    aghi    %r3, 1
    cgr     \reg, %r0
    jne     9f
.endm

.macro CHECK_F reg
    agr     %r0, %r1
    aghi    %r3, 1
    lgdr    %r2, \reg
    cgr     %r2, %r0
    jne     9f
.endm

.macro CHECK_ALL
    lg      %r2, HF_SEED(%r15)
    PATTERN_START %r2
    lghi    %r3, 0
    CHECK_R %r6
    CHECK_R %r7
    CHECK_R %r8
    CHECK_R %r9
    CHECK_R %r10
    CHECK_R %r11
    CHECK_R %r12
    CHECK_R %r13
    CHECK_F %f8
    CHECK_F %f9
    CHECK_F %f10
    CHECK_F %f11
    CHECK_F %f12
    CHECK_F %f13
    CHECK_F %f14
    CHECK_F %f15
    aghi    %r3, 1
    stfpc   HF_TMP(%r15)
    llgf    %r2, HF_TMP(%r15)
    lghi    %r1, 3                  /* rounding-mode field mask */
    ngr     %r2, %r1
    lg      %r0, HF_SEED(%r15)
    ngr     %r0, %r1
    cgr     %r2, %r0
    jne     9f
    lghi    %r3, 0                  /* all preserved */
9:
    lgr     %r2, %r3
.endm

.macro PROLOGUE
    stmg    %r6, %r15, 48(%r15)     /* caller's r6-r15 into its save area */
    lgr     %r1, %r15
    aghi    %r15, -HF_SIZE
    stg     %r1, 0(%r15)            /* back chain */
    std     %f8, HF_FPR+0(%r15)
    std     %f9, HF_FPR+8(%r15)
    std     %f10, HF_FPR+16(%r15)
    std     %f11, HF_FPR+24(%r15)
    std     %f12, HF_FPR+32(%r15)
    std     %f13, HF_FPR+40(%r15)
    std     %f14, HF_FPR+48(%r15)
    std     %f15, HF_FPR+56(%r15)
    stfpc   HF_FPC(%r15)
.endm

.macro EPILOGUE
    ld      %f8, HF_FPR+0(%r15)
    ld      %f9, HF_FPR+8(%r15)
    ld      %f10, HF_FPR+16(%r15)
    ld      %f11, HF_FPR+24(%r15)
    ld      %f12, HF_FPR+32(%r15)
    ld      %f13, HF_FPR+40(%r15)
    ld      %f14, HF_FPR+48(%r15)
    ld      %f15, HF_FPR+56(%r15)
    lfpc    HF_FPC(%r15)
    lmg     %r6, %r15, HF_SIZE+48(%r15)  /* also restores the caller's r15 */
    br      %r14
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_jump
    .type   fc_regs_jump, @function
    .p2align 3
fc_regs_jump:
    PROLOGUE
    stg     %r5, HF_SEED(%r15)
    lgr     %r1, %r2                /* jump_fcontext(hidden = out, to, vp) */
    lgr     %r2, %r4
    lgr     %r4, %r3
    lgr     %r3, %r1
    LOAD_ALL %r5
    brasl   %r14, jump_fcontext@PLT
    CHECK_ALL
    EPILOGUE
    .size   fc_regs_jump, .-fc_regs_jump

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_ontop
    .type   fc_regs_ontop, @function
    .p2align 3
fc_regs_ontop:
    PROLOGUE
    stg     %r6, HF_SEED(%r15)      /* seed, the fifth argument, came in r6 */
    lgr     %r1, %r2                /* ontop_fcontext(hidden = out, to, vp, fn) */
    lgr     %r2, %r5
    lgr     %r5, %r4
    lgr     %r4, %r3
    lgr     %r3, %r1
    lg      %r0, HF_SEED(%r15)
    LOAD_ALL %r0
    brasl   %r14, ontop_fcontext@PLT
    CHECK_ALL
    EPILOGUE
    .size   fc_regs_ontop, .-fc_regs_ontop

/* uintptr_t fc_caller_sp(void): brasl pushes nothing, r15 is the caller's. */
    .globl  fc_caller_sp
    .type   fc_caller_sp, @function
    .p2align 3
fc_caller_sp:
    lgr     %r2, %r15
    br      %r14
    .size   fc_caller_sp, .-fc_caller_sp

    .section .note.GNU-stack, "", @progbits
