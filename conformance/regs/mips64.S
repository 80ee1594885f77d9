/*
 * Register-preservation helper for mips64 n64, see HARNESS.md.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..7    s0 .. s7
 *   8       fp (s8)
 *   9       gp (callee-saved in n64; Boost 1.74's switch does not keep it)
 *   10..17  f24 .. f31
 * The FCSR is global state in n64, not callee-saved, and is not checked.
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B97F4A7C15.
 */

    .text
    .set    reorder

/* Helper frame: caller's s0-s7, fp, gp, ra, f24-f31, out, seed. */
#define HF_SIZE 192
#define HF_OUT  160
#define HF_SEED 168

.macro SAVE_CALLER
    daddiu  $sp, $sp, -HF_SIZE
    sd      $s0, 0($sp)
    sd      $s1, 8($sp)
    sd      $s2, 16($sp)
    sd      $s3, 24($sp)
    sd      $s4, 32($sp)
    sd      $s5, 40($sp)
    sd      $s6, 48($sp)
    sd      $s7, 56($sp)
    sd      $fp, 64($sp)
    sd      $gp, 72($sp)
    sd      $ra, 80($sp)
    sdc1    $f24, 88($sp)
    sdc1    $f25, 96($sp)
    sdc1    $f26, 104($sp)
    sdc1    $f27, 112($sp)
    sdc1    $f28, 120($sp)
    sdc1    $f29, 128($sp)
    sdc1    $f30, 136($sp)
    sdc1    $f31, 144($sp)
.endm

.macro RESTORE_CALLER
    ld      $s0, 0($sp)
    ld      $s1, 8($sp)
    ld      $s2, 16($sp)
    ld      $s3, 24($sp)
    ld      $s4, 32($sp)
    ld      $s5, 40($sp)
    ld      $s6, 48($sp)
    ld      $s7, 56($sp)
    ld      $fp, 64($sp)
    ld      $gp, 72($sp)
    ld      $ra, 80($sp)
    ldc1    $f24, 88($sp)
    ldc1    $f25, 96($sp)
    ldc1    $f26, 104($sp)
    ldc1    $f27, 112($sp)
    ldc1    $f28, 120($sp)
    ldc1    $f29, 128($sp)
    ldc1    $f30, 136($sp)
    ldc1    $f31, 144($sp)
    daddiu  $sp, $sp, HF_SIZE
.endm

/* t9 = address of \fn, found through this module's GOT (gp derived from a
   bal, so neither the caller's gp nor t9 is trusted). */
.macro CALLEE fn
    .set    noreorder
    bal     1f
    nop
    .set    reorder
1:
#ifdef __mips_abicalls
    lui     $t2, %hi(%neg(%gp_rel(1b)))
    daddu   $t2, $t2, $ra
    daddiu  $t2, $t2, %lo(%neg(%gp_rel(1b)))
    ld      $t9, %call16(\fn)($t2)
#else
    dla     $t9, \fn
#endif
.endm

/* t0 = running pattern, t1 = K */
.macro PATTERN_START seed
    dli     $t1, 0x9E3779B97F4A7C15
    dmultu  \seed, $t1
    mflo    $t0
.endm

.macro LOAD_R reg
    daddu   $t0, $t0, $t1
    move    \reg, $t0
.endm

.macro LOAD_F reg
    daddu   $t0, $t0, $t1
    dmtc1   $t0, \reg
.endm

.macro LOAD_ALL seed
    PATTERN_START \seed
    LOAD_R  $s0
    LOAD_R  $s1
    LOAD_R  $s2
    LOAD_R  $s3
    LOAD_R  $s4
    LOAD_R  $s5
    LOAD_R  $s6
    LOAD_R  $s7
    LOAD_R  $fp
    LOAD_R  $gp
    LOAD_F  $f24
    LOAD_F  $f25
    LOAD_F  $f26
    LOAD_F  $f27
    LOAD_F  $f28
    LOAD_F  $f29
    LOAD_F  $f30
    LOAD_F  $f31
.endm

/* t2 counts 1-based indices; v0 = t2 at the first mismatch, else 0 */
.macro CHECK_R reg
    daddu   $t0, $t0, $t1
    daddiu  $t2, $t2, 1
    bne     \reg, $t0, 9f
.endm

.macro CHECK_F reg
    daddu   $t0, $t0, $t1
    daddiu  $t2, $t2, 1
    dmfc1   $t3, \reg
    bne     $t3, $t0, 9f
.endm

.macro CHECK_ALL
    ld      $t3, HF_SEED($sp)
    PATTERN_START $t3
    move    $t2, $zero
    CHECK_R $s0
    CHECK_R $s1
    CHECK_R $s2
    CHECK_R $s3
    CHECK_R $s4
    CHECK_R $s5
    CHECK_R $s6
    CHECK_R $s7
    CHECK_R $fp
    CHECK_R $gp
    CHECK_F $f24
    CHECK_F $f25
    CHECK_F $f26
    CHECK_F $f27
    CHECK_F $f28
    CHECK_F $f29
    CHECK_F $f30
    CHECK_F $f31
    move    $t2, $zero              /* all preserved */
9:
    move    $v0, $t2
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_jump
    .type   fc_regs_jump, @function
    .ent    fc_regs_jump
fc_regs_jump:
    SAVE_CALLER
    sd      $a2, HF_OUT($sp)
    sd      $a3, HF_SEED($sp)
    CALLEE  jump_fcontext
    LOAD_ALL $a3
    jalr    $t9                     /* a0 = to, a1 = vp */
    ld      $a2, HF_OUT($sp)
    sd      $v0, 0($a2)             /* *out = transfer_t */
    sd      $v1, 8($a2)
    CHECK_ALL
    RESTORE_CALLER
    jr      $ra
    .end    fc_regs_jump
    .size   fc_regs_jump, .-fc_regs_jump

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_ontop
    .type   fc_regs_ontop, @function
    .ent    fc_regs_ontop
fc_regs_ontop:
    SAVE_CALLER
    sd      $a3, HF_OUT($sp)
    sd      $a4, HF_SEED($sp)
    CALLEE  ontop_fcontext
    LOAD_ALL $a4
    jalr    $t9                     /* a0 = to, a1 = vp, a2 = fn */
    ld      $a2, HF_OUT($sp)
    sd      $v0, 0($a2)
    sd      $v1, 8($a2)
    CHECK_ALL
    RESTORE_CALLER
    jr      $ra
    .end    fc_regs_ontop
    .size   fc_regs_ontop, .-fc_regs_ontop

/* uintptr_t fc_caller_sp(void): jal pushes nothing, sp is the caller's. */
    .globl  fc_caller_sp
    .type   fc_caller_sp, @function
    .ent    fc_caller_sp
fc_caller_sp:
    move    $v0, $sp
    jr      $ra
    .end    fc_caller_sp
    .size   fc_caller_sp, .-fc_caller_sp

    .section .note.GNU-stack, "", @progbits
