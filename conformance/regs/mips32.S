/*
 * Register-preservation helper for mips32 o32 (either endianness); the
 * helper contract is at the top of conformance/harness.c.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..7    s0 .. s7
 *   8       fp (s8)
 *   9..14   f20, f22, f24, f26, f28, f30 as 64-bit doubles (hard-float only;
 *           with FR=0 each is an even/odd pair, so f21..f31 are covered too)
 * Not checked: gp (call-clobbered in o32: callers reload or re-derive it
 * after a call) and the FCSR (not callee-saved; the thread's FP environment).
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B9; an FP
 * register takes two consecutive values, stored as two words in memory and
 * moved with ldc1/sdc1, so the check does not depend on the endianness.
 *
 * o32 calls: the helpers return int (no hidden pointer), so a0..a3 are the
 * first four arguments and fc_regs_ontop's seed is at 16(sp) on entry. The
 * result buffer *out is passed straight to jump/ontop as their hidden
 * transfer_t pointer.
 */

    .text
    .set    reorder

/* Helper frame:
     0..15   argument home area of the callee (o32 callers provide it)
    16..23   FP scratch (pattern in, register out)
    24..55   caller's s0-s7
    56       caller's fp
    60       caller's gp
    64       caller's ra
    68       out
    72       seed
    80..127  caller's f20-f30 (8-byte aligned: sp is) */
#define HF_SIZE  128
#define HF_FPTMP 16
#define HF_OUT   68
#define HF_SEED  72
#define HF_F     80

.macro SAVE_CALLER
    addiu   $sp, $sp, -HF_SIZE
    sw      $s0, 24($sp)
    sw      $s1, 28($sp)
    sw      $s2, 32($sp)
    sw      $s3, 36($sp)
    sw      $s4, 40($sp)
    sw      $s5, 44($sp)
    sw      $s6, 48($sp)
    sw      $s7, 52($sp)
    sw      $fp, 56($sp)
    sw      $gp, 60($sp)
    sw      $ra, 64($sp)
#ifdef __mips_hard_float
    sdc1    $f20, HF_F+0($sp)
    sdc1    $f22, HF_F+8($sp)
    sdc1    $f24, HF_F+16($sp)
    sdc1    $f26, HF_F+24($sp)
    sdc1    $f28, HF_F+32($sp)
    sdc1    $f30, HF_F+40($sp)
#endif
.endm

.macro RESTORE_CALLER
    lw      $s0, 24($sp)
    lw      $s1, 28($sp)
    lw      $s2, 32($sp)
    lw      $s3, 36($sp)
    lw      $s4, 40($sp)
    lw      $s5, 44($sp)
    lw      $s6, 48($sp)
    lw      $s7, 52($sp)
    lw      $fp, 56($sp)
    lw      $gp, 60($sp)
    lw      $ra, 64($sp)
#ifdef __mips_hard_float
    ldc1    $f20, HF_F+0($sp)
    ldc1    $f22, HF_F+8($sp)
    ldc1    $f24, HF_F+16($sp)
    ldc1    $f26, HF_F+24($sp)
    ldc1    $f28, HF_F+32($sp)
    ldc1    $f30, HF_F+40($sp)
#endif
    addiu   $sp, $sp, HF_SIZE
.endm

/* t9 = address of \fn, found through this module's GOT (gp derived from a
   bal, so neither the caller's gp nor t9 is trusted); gp is left set for the
   PIC call. */
.macro CALLEE fn
#ifdef __mips_abicalls
    .set    noreorder
    bal     1f
    nop
    .set    reorder
1:
    lui     $gp, %hi(_gp_disp)
    addiu   $gp, $gp, %lo(_gp_disp)
    addu    $gp, $gp, $ra
    lw      $t9, %call16(\fn)($gp)
#else
    la      $t9, \fn
#endif
.endm

/* t0 = running pattern, t1 = K */
.macro PATTERN_START seed
    li      $t1, 0x9E3779B9
    multu   \seed, $t1
    mflo    $t0
.endm

.macro LOAD_R reg
    addu    $t0, $t0, $t1
    move    \reg, $t0
.endm

.macro LOAD_F reg
    addu    $t0, $t0, $t1
    sw      $t0, HF_FPTMP($sp)
    addu    $t0, $t0, $t1
    sw      $t0, HF_FPTMP+4($sp)
    ldc1    \reg, HF_FPTMP($sp)
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
#ifdef __mips_hard_float
    LOAD_F  $f20
    LOAD_F  $f22
    LOAD_F  $f24
    LOAD_F  $f26
    LOAD_F  $f28
    LOAD_F  $f30
#endif
.endm

/* t2 counts 1-based indices; v0 = t2 at the first mismatch, else 0 */
.macro CHECK_R reg
    addu    $t0, $t0, $t1
    addiu   $t2, $t2, 1
    bne     \reg, $t0, 9f
.endm

.macro CHECK_F reg
    addiu   $t2, $t2, 1
    sdc1    \reg, HF_FPTMP($sp)
    addu    $t0, $t0, $t1
    lw      $t3, HF_FPTMP($sp)
    bne     $t3, $t0, 9f
    addu    $t0, $t0, $t1
    lw      $t3, HF_FPTMP+4($sp)
    bne     $t3, $t0, 9f
.endm

.macro CHECK_ALL
    lw      $t3, HF_SEED($sp)
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
#ifdef __mips_hard_float
    CHECK_F $f20
    CHECK_F $f22
    CHECK_F $f24
    CHECK_F $f26
    CHECK_F $f28
    CHECK_F $f30
#endif
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
    sw      $a2, HF_OUT($sp)
    sw      $a3, HF_SEED($sp)
    CALLEE  jump_fcontext
    LOAD_ALL $a3
    move    $t4, $a0                /* jump_fcontext(out, to, vp): hidden first */
    move    $a0, $a2                /* a0 = out (the transfer_t buffer) */
    move    $a2, $a1                /* a2 = vp */
    move    $a1, $t4                /* a1 = to */
    jalr    $t9
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
    lw      $t4, HF_SIZE+16($sp)    /* the fifth argument, in the caller's area */
    sw      $a3, HF_OUT($sp)
    sw      $t4, HF_SEED($sp)
    CALLEE  ontop_fcontext
    LOAD_ALL $t4
    move    $t5, $a3                /* ontop_fcontext(out, to, vp, fn) */
    move    $a3, $a2                /* a3 = fn */
    move    $a2, $a1                /* a2 = vp */
    move    $a1, $a0                /* a1 = to */
    move    $a0, $t5                /* a0 = out */
    jalr    $t9
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
