/*
 * Register-preservation helper for loongarch64 (LP64D); the contract is at
 * the top of conformance/harness.c.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..8    s0 .. s8 (r23 .. r31)
 *   9       fp (r22)
 *   10..17  fs0 .. fs7 (f24 .. f31, the 64-bit FPR view)
 * fcsr0 and fcc0-fcc7 are not checked: the psABI makes the condition flags
 * temporaries and gives fcsr0 no callee-saved role (thread state, C11
 * <fenv.h> semantics). tp and r21 are fixed for the thread and not touched.
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B97F4A7C15.
 */

    .text

/* Helper frame: caller's s0-s8, fp, fs0-fs7, ra, out, seed. */
#define HF_SIZE 0xb0

.macro SAVE_CALLER
    addi.d  $sp, $sp, -HF_SIZE
    st.d    $s0, $sp, 0x00
    st.d    $s1, $sp, 0x08
    st.d    $s2, $sp, 0x10
    st.d    $s3, $sp, 0x18
    st.d    $s4, $sp, 0x20
    st.d    $s5, $sp, 0x28
    st.d    $s6, $sp, 0x30
    st.d    $s7, $sp, 0x38
    st.d    $s8, $sp, 0x40
    st.d    $fp, $sp, 0x48
    fst.d   $fs0, $sp, 0x50
    fst.d   $fs1, $sp, 0x58
    fst.d   $fs2, $sp, 0x60
    fst.d   $fs3, $sp, 0x68
    fst.d   $fs4, $sp, 0x70
    fst.d   $fs5, $sp, 0x78
    fst.d   $fs6, $sp, 0x80
    fst.d   $fs7, $sp, 0x88
    st.d    $ra, $sp, 0x90
.endm

.macro RESTORE_CALLER
    ld.d    $s0, $sp, 0x00
    ld.d    $s1, $sp, 0x08
    ld.d    $s2, $sp, 0x10
    ld.d    $s3, $sp, 0x18
    ld.d    $s4, $sp, 0x20
    ld.d    $s5, $sp, 0x28
    ld.d    $s6, $sp, 0x30
    ld.d    $s7, $sp, 0x38
    ld.d    $s8, $sp, 0x40
    ld.d    $fp, $sp, 0x48
    fld.d   $fs0, $sp, 0x50
    fld.d   $fs1, $sp, 0x58
    fld.d   $fs2, $sp, 0x60
    fld.d   $fs3, $sp, 0x68
    fld.d   $fs4, $sp, 0x70
    fld.d   $fs5, $sp, 0x78
    fld.d   $fs6, $sp, 0x80
    fld.d   $fs7, $sp, 0x88
    ld.d    $ra, $sp, 0x90
    addi.d  $sp, $sp, HF_SIZE
.endm

/* t0 = running pattern, t1 = K */
.macro PATTERN_START seed
    li.d    $t1, 0x9E3779B97F4A7C15
    mul.d   $t0, \seed, $t1
.endm

.macro LOAD_X reg
    add.d   $t0, $t0, $t1
    move    \reg, $t0
.endm

.macro LOAD_F reg
    add.d   $t0, $t0, $t1
    movgr2fr.d \reg, $t0
.endm

.macro LOAD_ALL seed
    PATTERN_START \seed
    LOAD_X  $s0
    LOAD_X  $s1
    LOAD_X  $s2
    LOAD_X  $s3
    LOAD_X  $s4
    LOAD_X  $s5
    LOAD_X  $s6
    LOAD_X  $s7
    LOAD_X  $s8
    LOAD_X  $fp
    LOAD_F  $fs0
    LOAD_F  $fs1
    LOAD_F  $fs2
    LOAD_F  $fs3
    LOAD_F  $fs4
    LOAD_F  $fs5
    LOAD_F  $fs6
    LOAD_F  $fs7
.endm

/* t2 counts 1-based indices; a0 = t2 at the first mismatch, else 0 */
.macro CHECK_X reg
    add.d   $t0, $t0, $t1
    addi.d  $t2, $t2, 1
    bne     \reg, $t0, 9f
.endm

.macro CHECK_F reg
    add.d   $t0, $t0, $t1
    addi.d  $t2, $t2, 1
    movfr2gr.d $t3, \reg
    bne     $t3, $t0, 9f
.endm

.macro CHECK_ALL
    ld.d    $t3, $sp, 0xa0          /* seed */
    PATTERN_START $t3
    move    $t2, $zero
    CHECK_X $s0
    CHECK_X $s1
    CHECK_X $s2
    CHECK_X $s3
    CHECK_X $s4
    CHECK_X $s5
    CHECK_X $s6
    CHECK_X $s7
    CHECK_X $s8
    CHECK_X $fp
    CHECK_F $fs0
    CHECK_F $fs1
    CHECK_F $fs2
    CHECK_F $fs3
    CHECK_F $fs4
    CHECK_F $fs5
    CHECK_F $fs6
    CHECK_F $fs7
    move    $t2, $zero              /* all preserved */
9:
    move    $a0, $t2
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_jump
    .type   fc_regs_jump, @function
    .p2align 2
fc_regs_jump:
    SAVE_CALLER
    st.d    $a2, $sp, 0x98          /* out */
    st.d    $a3, $sp, 0xa0          /* seed */
    LOAD_ALL $a3
    bl      %plt(jump_fcontext)     /* a0 = to, a1 = vp */
    ld.d    $a2, $sp, 0x98
    st.d    $a0, $a2, 0             /* *out = transfer_t */
    st.d    $a1, $a2, 8
    CHECK_ALL
    RESTORE_CALLER
    jr      $ra
    .size   fc_regs_jump, .-fc_regs_jump

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_ontop
    .type   fc_regs_ontop, @function
    .p2align 2
fc_regs_ontop:
    SAVE_CALLER
    st.d    $a3, $sp, 0x98          /* out */
    st.d    $a4, $sp, 0xa0          /* seed */
    LOAD_ALL $a4
    bl      %plt(ontop_fcontext)    /* a0 = to, a1 = vp, a2 = fn */
    ld.d    $a2, $sp, 0x98
    st.d    $a0, $a2, 0
    st.d    $a1, $a2, 8
    CHECK_ALL
    RESTORE_CALLER
    jr      $ra
    .size   fc_regs_ontop, .-fc_regs_ontop

/* uintptr_t fc_caller_sp(void): bl pushes nothing on LoongArch. */
    .globl  fc_caller_sp
    .type   fc_caller_sp, @function
    .p2align 2
fc_caller_sp:
    move    $a0, $sp
    jr      $ra
    .size   fc_caller_sp, .-fc_caller_sp

    .section .note.GNU-stack, "", @progbits
