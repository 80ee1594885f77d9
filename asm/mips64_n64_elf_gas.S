/*
 * fcontext for mips64 (little- or big-endian), n64 ABI, ELF, GNU as.
 *
 * Frame of a suspended context; fctx is its lowest address and the saved sp.
 * Same size and offsets as Boost.Context 1.74 (docs/ABI.md#mips64-n64); one slot
 * changes meaning (gp, marked *).
 *
 *   offset | size | saved item                   | make_fcontext writes
 *   -------+------+------------------------------+------------------------
 *        0 | 8x8  | f24 .. f31 (n64, FR=1)       | -
 *       64 | 8x8  | s0 .. s7                     | -
 *      128 |    8 | fp (s8)                      | -
 *      136 |    8 | gp *                         | this module's gp
 *      144 |    8 | ra                           | address of finish
 *      152 |    8 | resume address (pc)          | entry function
 *
 * fctx of a fresh context = (sp & ~15) - 160; the entry function starts with
 * sp = fctx + 160 (16-byte aligned), t9 = its own address (the PIC entry
 * convention: it derives gp from t9), a0:a1 = transfer_t {jumper's fctx,
 * data}, ra = finish. transfer_t is returned in v0:v1.
 *
 * * Deliberate difference from Boost 1.74: in n64, gp is callee-saved (GCC
 *   saves it in the prologue and does NOT reload it after a call), so jump
 *   and ontop save gp into slot 136 and restore the target's. Boost writes
 *   the slot only in make and never restores gp, so a context suspended in
 *   one shared object and resumed from another continues with the wrong GOT
 *   pointer. Consequence for mixing with Boost: frames made by Boost's make
 *   resume correctly here, frames made by us resume under Boost's jump (with
 *   its gp bug), but a context *suspended by Boost's jump* must not be resumed
 *   by ours: its slot 136 is stack garbage.
 *
 * Not saved: the FCSR (rounding mode, flags), global state in the n64 ABI.
 */

    .text
    .set    reorder                 /* let the assembler fill delay slots */

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .ent    make_fcontext
    .p2align 3
make_fcontext:
    .cfi_startproc
    daddiu  $t0, $zero, -16         /* alignment mask */
    and     $v0, $a0, $t0           /* 16-byte aligned top */
    daddiu  $v0, $v0, -160          /* room for one frame below it */
    sd      $a2, 152($v0)           /* first resume enters fn (through t9) */
    move    $t2, $ra                /* bal below overwrites ra */
    .set    noreorder
    bal     .Lmake_here             /* ra = runtime address of .Lmake_here */
    nop                             /* delay slot */
    .set    reorder
.Lmake_here:
    lui     $t1, %hi(%neg(%gp_rel(.Lmake_here)))  /* gp of this module, */
    daddu   $t1, $t1, $ra                          /*   found without */
    daddiu  $t1, $t1, %lo(%neg(%gp_rel(.Lmake_here))) /* trusting t9 */
    sd      $t1, 136($v0)           /* the fresh context starts with our gp */
    daddiu  $t3, $ra, fcontext_finish - .Lmake_here  /* pc-relative finish */
    sd      $t3, 144($v0)           /* fn returns into finish */
    move    $ra, $t2                /* make's own return address back */
    jr      $ra                     /* v0 = fctx */
    .cfi_endproc
    .end    make_fcontext
    .size   make_fcontext, .-make_fcontext

/*
 * The entry function returned (sp = fctx + 160). One unwind procedure with an
 * undefined return address, so unwinders stop here; the leading nop puts
 * finish-1 inside it. gp is derived here again: a context first entered by
 * Boost's jump (which does not restore gp) arrives with someone else's.
 */
    .type   fcontext_finish_proc, @function
    .ent    fcontext_finish_proc
    .p2align 3
fcontext_finish_proc:
    .cfi_startproc
    .cfi_undefined $ra
    nop                             /* finish-1 belongs to this FDE */
fcontext_finish:
    .set    noreorder
    bal     .Lfinish_here           /* ra = runtime address of .Lfinish_here */
    nop                             /* delay slot */
    .set    reorder
.Lfinish_here:
    lui     $gp, %hi(%neg(%gp_rel(.Lfinish_here))) /* gp of this module, for the GOT */
    daddu   $gp, $gp, $ra           /* ... from the runtime address */
    daddiu  $gp, $gp, %lo(%neg(%gp_rel(.Lfinish_here))) /* ... low half */
    move    $a0, $zero              /* exit status 0 */
#ifdef __mips_abicalls
    ld      $t9, %call16(_exit)($gp) /* PIC call convention: through t9 */
    jalr    $t9                     /* _exit: the context owns no atexit duty */
#else
    jal     _exit                   /* non-PIC build: direct call */
#endif
    break                           /* _exit does not return */
    .cfi_endproc
    .end    fcontext_finish_proc
    .size   fcontext_finish_proc, .-fcontext_finish_proc

/* Pushes the running context's frame (same for jump and ontop, so either resumes it). */
.macro SAVE_FRAME
    daddiu  $sp, $sp, -160          /* our frame on our own stack */
    .cfi_adjust_cfa_offset 160
    sdc1    $f24, 0($sp)            /* n64: f24-f31 are callee-saved */
    sdc1    $f25, 8($sp)            /* keep f25 (callee-saved) */
    sdc1    $f26, 16($sp)           /* keep f26 (callee-saved) */
    sdc1    $f27, 24($sp)           /* keep f27 (callee-saved) */
    sdc1    $f28, 32($sp)           /* keep f28 (callee-saved) */
    sdc1    $f29, 40($sp)           /* keep f29 (callee-saved) */
    sdc1    $f30, 48($sp)           /* keep f30 (callee-saved) */
    sdc1    $f31, 56($sp)           /* keep f31 (callee-saved) */
    sd      $s0, 64($sp)            /* callee-saved integer registers */
    sd      $s1, 72($sp)            /* keep s1 (callee-saved) */
    sd      $s2, 80($sp)            /* keep s2 (callee-saved) */
    sd      $s3, 88($sp)            /* keep s3 (callee-saved) */
    sd      $s4, 96($sp)            /* keep s4 (callee-saved) */
    sd      $s5, 104($sp)           /* keep s5 (callee-saved) */
    sd      $s6, 112($sp)           /* keep s6 (callee-saved) */
    sd      $s7, 120($sp)           /* keep s7 (callee-saved) */
    sd      $fp, 128($sp)           /* keep fp (callee-saved) */
    sd      $gp, 136($sp)           /* n64: gp is callee-saved too (not in Boost) */
    sd      $ra, 144($sp)           /* our return address ... */
    sd      $ra, 152($sp)           /* ... is where we resume */
    .cfi_rel_offset $ra, 144
.endm

/* Loads f24-f31, s0-s7, fp and gp of the frame at sp. */
.macro LOAD_FRAME
    ldc1    $f24, 0($sp)            /* the target's f24 */
    ldc1    $f25, 8($sp)            /* the target's f25 */
    ldc1    $f26, 16($sp)           /* the target's f26 */
    ldc1    $f27, 24($sp)           /* the target's f27 */
    ldc1    $f28, 32($sp)           /* the target's f28 */
    ldc1    $f29, 40($sp)           /* the target's f29 */
    ldc1    $f30, 48($sp)           /* the target's f30 */
    ldc1    $f31, 56($sp)           /* the target's f31 */
    ld      $s0, 64($sp)            /* the target's s0 */
    ld      $s1, 72($sp)            /* the target's s1 */
    ld      $s2, 80($sp)            /* the target's s2 */
    ld      $s3, 88($sp)            /* the target's s3 */
    ld      $s4, 96($sp)            /* the target's s4 */
    ld      $s5, 104($sp)           /* the target's s5 */
    ld      $s6, 112($sp)           /* the target's s6 */
    ld      $s7, 120($sp)           /* the target's s7 */
    ld      $fp, 128($sp)           /* the target's fp */
    ld      $gp, 136($sp)           /* the target's GOT pointer */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .ent    jump_fcontext
    .p2align 3
jump_fcontext:
    .cfi_startproc
    SAVE_FRAME
    move    $t0, $sp                /* our frame is the fctx the target receives */
    move    $sp, $a0                /* switch to the target's frame */
    LOAD_FRAME
    ld      $ra, 144($sp)           /* fresh: finish */
    ld      $t9, 152($sp)           /* resume address; t9 = fn for a fresh entry */
    daddiu  $sp, $sp, 160           /* target's sp as after its pending call */
    .cfi_adjust_cfa_offset -160
    move    $v0, $t0                /* transfer_t {our fctx, vp} in v0:v1 ... */
    move    $v1, $a1                /* (data) */
    move    $a0, $t0                /* ... and in a0:a1 for a fresh entry */
    jr      $t9                     /* resume the target / enter fn with t9 = fn */
    .cfi_endproc
    .end    jump_fcontext
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .ent    ontop_fcontext
    .p2align 3
ontop_fcontext:
    .cfi_startproc
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    move    $t0, $sp                /* our fctx, handed to fn */
    move    $sp, $a0                /* switch to the target's frame */
    LOAD_FRAME
    ld      $ra, 144($sp)           /* fn returns into the target's pending call */
    daddiu  $sp, $sp, 160           /* pc slot unused: ra already resumes the target */
    .cfi_adjust_cfa_offset -160
    move    $t9, $a2                /* PIC call convention: t9 = callee */
    move    $a0, $t0                /* fn's argument {our fctx, vp} in a0:a1 */
    jr      $t9                     /* enter fn; its v0:v1 result is the pending call's */
    .cfi_endproc
    .end    ontop_fcontext
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE m
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
