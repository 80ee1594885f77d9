/*
 * Register-preservation helper for riscv64 (LP64D), see HARNESS.md.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..11   s0 .. s11
 *   12..23  fs0 .. fs11
 * fcsr is not checked: the psABI gives it thread storage duration, it is not
 * callee-saved. gp and tp are fixed for the thread and not touched.
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B97F4A7C15.
 */

    .option pic
    .text

/* Helper frame: caller's s0-s11, fs0-fs11, ra, out, seed. */
#define HF_SIZE 0xe0

.macro SAVE_CALLER
    addi    sp, sp, -HF_SIZE
    sd      s0, 0x00(sp)
    sd      s1, 0x08(sp)
    sd      s2, 0x10(sp)
    sd      s3, 0x18(sp)
    sd      s4, 0x20(sp)
    sd      s5, 0x28(sp)
    sd      s6, 0x30(sp)
    sd      s7, 0x38(sp)
    sd      s8, 0x40(sp)
    sd      s9, 0x48(sp)
    sd      s10, 0x50(sp)
    sd      s11, 0x58(sp)
    fsd     fs0, 0x60(sp)
    fsd     fs1, 0x68(sp)
    fsd     fs2, 0x70(sp)
    fsd     fs3, 0x78(sp)
    fsd     fs4, 0x80(sp)
    fsd     fs5, 0x88(sp)
    fsd     fs6, 0x90(sp)
    fsd     fs7, 0x98(sp)
    fsd     fs8, 0xa0(sp)
    fsd     fs9, 0xa8(sp)
    fsd     fs10, 0xb0(sp)
    fsd     fs11, 0xb8(sp)
    sd      ra, 0xc0(sp)
.endm

.macro RESTORE_CALLER
    ld      s0, 0x00(sp)
    ld      s1, 0x08(sp)
    ld      s2, 0x10(sp)
    ld      s3, 0x18(sp)
    ld      s4, 0x20(sp)
    ld      s5, 0x28(sp)
    ld      s6, 0x30(sp)
    ld      s7, 0x38(sp)
    ld      s8, 0x40(sp)
    ld      s9, 0x48(sp)
    ld      s10, 0x50(sp)
    ld      s11, 0x58(sp)
    fld     fs0, 0x60(sp)
    fld     fs1, 0x68(sp)
    fld     fs2, 0x70(sp)
    fld     fs3, 0x78(sp)
    fld     fs4, 0x80(sp)
    fld     fs5, 0x88(sp)
    fld     fs6, 0x90(sp)
    fld     fs7, 0x98(sp)
    fld     fs8, 0xa0(sp)
    fld     fs9, 0xa8(sp)
    fld     fs10, 0xb0(sp)
    fld     fs11, 0xb8(sp)
    ld      ra, 0xc0(sp)
    addi    sp, sp, HF_SIZE
.endm

/* t0 = running pattern, t1 = K */
.macro PATTERN_START seed
    li      t1, 0x9E3779B97F4A7C15
    mul     t0, \seed, t1
.endm

.macro LOAD_X reg
    add     t0, t0, t1
    mv      \reg, t0
.endm

.macro LOAD_F reg
    add     t0, t0, t1
    fmv.d.x \reg, t0
.endm

.macro LOAD_ALL seed
    PATTERN_START \seed
    LOAD_X  s0
    LOAD_X  s1
    LOAD_X  s2
    LOAD_X  s3
    LOAD_X  s4
    LOAD_X  s5
    LOAD_X  s6
    LOAD_X  s7
    LOAD_X  s8
    LOAD_X  s9
    LOAD_X  s10
    LOAD_X  s11
    LOAD_F  fs0
    LOAD_F  fs1
    LOAD_F  fs2
    LOAD_F  fs3
    LOAD_F  fs4
    LOAD_F  fs5
    LOAD_F  fs6
    LOAD_F  fs7
    LOAD_F  fs8
    LOAD_F  fs9
    LOAD_F  fs10
    LOAD_F  fs11
.endm

/* t2 counts 1-based indices; a0 = t2 at the first mismatch, else 0 */
.macro CHECK_X reg
    add     t0, t0, t1
    addi    t2, t2, 1
    bne     \reg, t0, 9f
.endm

.macro CHECK_F reg
    add     t0, t0, t1
    addi    t2, t2, 1
    fmv.x.d t3, \reg
    bne     t3, t0, 9f
.endm

.macro CHECK_ALL
    ld      t3, 0xd0(sp)            /* seed */
    PATTERN_START t3
    li      t2, 0
    CHECK_X s0
    CHECK_X s1
    CHECK_X s2
    CHECK_X s3
    CHECK_X s4
    CHECK_X s5
    CHECK_X s6
    CHECK_X s7
    CHECK_X s8
    CHECK_X s9
    CHECK_X s10
    CHECK_X s11
    CHECK_F fs0
    CHECK_F fs1
    CHECK_F fs2
    CHECK_F fs3
    CHECK_F fs4
    CHECK_F fs5
    CHECK_F fs6
    CHECK_F fs7
    CHECK_F fs8
    CHECK_F fs9
    CHECK_F fs10
    CHECK_F fs11
    li      t2, 0                   /* all preserved */
9:
    mv      a0, t2
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_jump
    .type   fc_regs_jump, @function
    .p2align 2
fc_regs_jump:
    SAVE_CALLER
    sd      a2, 0xc8(sp)            /* out */
    sd      a3, 0xd0(sp)            /* seed */
    LOAD_ALL a3
    call    jump_fcontext           /* a0 = to, a1 = vp */
    ld      a2, 0xc8(sp)
    sd      a0, 0(a2)               /* *out = transfer_t */
    sd      a1, 8(a2)
    CHECK_ALL
    RESTORE_CALLER
    ret
    .size   fc_regs_jump, .-fc_regs_jump

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_ontop
    .type   fc_regs_ontop, @function
    .p2align 2
fc_regs_ontop:
    SAVE_CALLER
    sd      a3, 0xc8(sp)            /* out */
    sd      a4, 0xd0(sp)            /* seed */
    LOAD_ALL a4
    call    ontop_fcontext          /* a0 = to, a1 = vp, a2 = fn */
    ld      a2, 0xc8(sp)
    sd      a0, 0(a2)
    sd      a1, 8(a2)
    CHECK_ALL
    RESTORE_CALLER
    ret
    .size   fc_regs_ontop, .-fc_regs_ontop

/* uintptr_t fc_caller_sp(void): a call pushes nothing on RISC-V. */
    .globl  fc_caller_sp
    .type   fc_caller_sp, @function
    .p2align 2
fc_caller_sp:
    mv      a0, sp
    ret
    .size   fc_caller_sp, .-fc_caller_sp

    .section .note.GNU-stack, "", @progbits
