/*
 * fcontext for mips32 (little- or big-endian), o32 ABI, ELF, GNU as.
 *
 * Frame of a suspended context; fctx is its lowest address and the saved sp.
 * Same size and offsets as Boost.Context 1.74 (docs/ABI.md#mips32-o32). All
 * slots are 32-bit words or 64-bit doubles stored and loaded by the same
 * instructions on both sides, so the file is endianness-neutral.
 *
 *   offset | size | saved item                        | make_fcontext writes
 *   -------+------+-----------------------------------+----------------------
 *        0 | 6x8  | f20, f22 .. f30 (hard-float only) | -
 *       48 | 8x4  | s0 .. s7                          | -
 *       80 |    4 | fp (s8)                           | -
 *       84 |    4 | hidden: where the pending call's  | fctx + 116
 *          |      |   transfer_t result goes          |
 *       88 |    4 | ra                                | address of finish
 *       92 |    4 | resume address (pc)               | entry function
 *   ------ fresh contexts only, above the 96-byte frame ------
 *       96 |   16 | argument home area of the entry   | -
 *          |      |   function (o32: the caller's)    |
 *      112 |    4 | gp of this module                 | this module's gp
 *      116 |    8 | scratch transfer_t: the first     | -
 *          |      |   jump stores its result here     |
 *      124 |    4 | padding to 16                     | -
 *
 * fctx of a fresh context = (sp & ~15) - 128; the entry function starts with
 * sp = fctx + 96 (16-byte aligned; o32 asks for 8), t9 = its own address
 * (the PIC entry convention: it derives gp from t9), a0:a1 = transfer_t
 * {jumper's fctx, data}, ra = finish.
 *
 * transfer_t (8 bytes) is returned through a hidden pointer: o32 returns every
 * struct in memory. So jump_fcontext(to, vp) really gets a0 = result buffer,
 * a1 = to, a2 = vp, and must return with v0 = that buffer; ontop's fn comes
 * in a3. The suspended frame keeps the buffer address (slot 84), and the
 * switch that resumes the context writes {its own fctx, vp} through it.
 *
 * gp is not saved: in o32 it is call-clobbered (PIC callers reload it from
 * their .cprestore slot, or re-derive it, after every call; GCC's
 * TARGET_CALL_CLOBBERED_GP), unlike n64 where asm/mips64_n64_elf_gas.S must
 * keep it. Slot 112 holds make's gp only because Boost's make writes it there
 * (Boost's finish reads it back); our finish derives gp pc-relatively instead,
 * so the slot is written for a byte-identical fresh frame and read by nobody
 * here.
 *
 * FP registers: o32 makes f20..f31 callee-saved. With FR=0 (FP32) an even
 * sdc1/ldc1 moves an even/odd pair; with FR=1 (FP64, or FPXX on FR=1
 * hardware) only the even registers are callee-saved and sdc1 moves the whole
 * 64-bit register. Six even doubles therefore cover FP32, FPXX and FP64.
 * Soft-float builds (no __mips_hard_float) leave slots 0..47 unused.
 *
 * Not saved: the FCSR (rounding mode, enables, flags), as in Boost: the o32
 * psABI does not make it callee-saved, and C treats it as the thread's
 * floating-point environment (fesetround outlives the call that made it).
 */

    .text
    .set    reorder                 /* let the assembler fill delay slots */

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .ent    make_fcontext
    .p2align 2
make_fcontext:
    .cfi_startproc
    addiu   $t0, $zero, -16         /* alignment mask */
    and     $v0, $a0, $t0           /* 16-byte aligned top */
    addiu   $v0, $v0, -128          /* frame plus the entry function's area */
    sw      $a2, 92($v0)            /* first resume enters fn (through t9) */
    addiu   $t1, $v0, 116           /* scratch buffer inside the fresh area */
    sw      $t1, 84($v0)            /* the first jump "returns" into it */
    move    $t2, $ra                /* bal below overwrites ra */
    .set    noreorder
    bal     .Lmake_here             /* ra = runtime address of .Lmake_here */
    nop                             /* delay slot */
    .set    reorder
.Lmake_here:
#ifdef __mips_abicalls
    lui     $t1, %hi(_gp_disp)      /* _gp_disp = gp - address of this lui, */
    addiu   $t1, $t1, %lo(_gp_disp) /*   (lo must follow hi directly) */
    addu    $t1, $t1, $ra           /*   so gp without trusting t9 */
    sw      $t1, 112($v0)           /* Boost's slot for the module's gp */
#else
    sw      $gp, 112($v0)           /* non-PIC: gp is the fixed small-data base */
#endif
    addiu   $t3, $ra, fcontext_finish - .Lmake_here  /* pc-relative finish */
    move    $ra, $t2                /* make's own return address back */
    sw      $t3, 88($v0)            /* fn returns into finish (delay slot) */
    jr      $ra                     /* v0 = fctx */
    .cfi_endproc
    .end    make_fcontext
    .size   make_fcontext, .-make_fcontext

/*
 * The entry function returned (sp = fctx + 96, 16-aligned, with the 16-byte
 * argument area a call needs above it). One unwind procedure with an
 * undefined return address, so unwinders stop here; the leading nop puts
 * finish-1 inside it. gp is derived from a bal: the entry function's own gp
 * died with its return (o32 callers own gp), and the stack slot is not needed.
 */
    .type   fcontext_finish_proc, @function
    .ent    fcontext_finish_proc
    .p2align 2
fcontext_finish_proc:
    .cfi_startproc
    .cfi_undefined $ra
    nop                             /* finish-1 belongs to this FDE */
fcontext_finish:
    move    $a0, $zero              /* exit status 0 */
#ifdef __mips_abicalls
    .set    noreorder
    bal     .Lfinish_here           /* ra = runtime address of .Lfinish_here */
    nop                             /* delay slot */
    .set    reorder
.Lfinish_here:
    lui     $gp, %hi(_gp_disp)      /* gp of this module, for the GOT ... */
    addiu   $gp, $gp, %lo(_gp_disp) /* ... low half, right after the lui */
    addu    $gp, $gp, $ra           /* ... from the runtime address */
    lw      $t9, %call16(_exit)($gp) /* PIC call convention: through t9 */
    jalr    $t9                     /* _exit: the context owns no atexit duty */
#else
    jal     _exit                   /* non-PIC build: direct call */
#endif
    break                           /* _exit does not return */
    .cfi_endproc
    .end    fcontext_finish_proc
    .size   fcontext_finish_proc, .-fcontext_finish_proc

/* Pushes the running context's frame (same for jump and ontop, so either
   resumes it); a0 is the hidden result pointer of this very call. */
.macro SAVE_FRAME
    addiu   $sp, $sp, -96           /* our frame on our own stack */
    .cfi_adjust_cfa_offset 96
#ifdef __mips_hard_float
    sdc1    $f20, 0($sp)            /* o32: f20-f31 callee-saved (even pairs) */
    sdc1    $f22, 8($sp)            /* keep f22 (and f23 when FR=0) */
    sdc1    $f24, 16($sp)           /* keep f24 (and f25 when FR=0) */
    sdc1    $f26, 24($sp)           /* keep f26 (and f27 when FR=0) */
    sdc1    $f28, 32($sp)           /* keep f28 (and f29 when FR=0) */
    sdc1    $f30, 40($sp)           /* keep f30 (and f31 when FR=0) */
#endif
    sw      $s0, 48($sp)            /* callee-saved integer registers */
    sw      $s1, 52($sp)            /* keep s1 (callee-saved) */
    sw      $s2, 56($sp)            /* keep s2 (callee-saved) */
    sw      $s3, 60($sp)            /* keep s3 (callee-saved) */
    sw      $s4, 64($sp)            /* keep s4 (callee-saved) */
    sw      $s5, 68($sp)            /* keep s5 (callee-saved) */
    sw      $s6, 72($sp)            /* keep s6 (callee-saved) */
    sw      $s7, 76($sp)            /* keep s7 (callee-saved) */
    sw      $fp, 80($sp)            /* keep fp (callee-saved) */
    sw      $a0, 84($sp)            /* where our result goes when resumed */
    sw      $ra, 88($sp)            /* our return address ... */
    sw      $ra, 92($sp)            /* ... is where we resume */
    .cfi_rel_offset $ra, 88
.endm

/* Loads f20-f30, s0-s7 and fp of the frame at sp. */
.macro LOAD_FRAME
#ifdef __mips_hard_float
    ldc1    $f20, 0($sp)            /* the target's f20 */
    ldc1    $f22, 8($sp)            /* the target's f22 */
    ldc1    $f24, 16($sp)           /* the target's f24 */
    ldc1    $f26, 24($sp)           /* the target's f26 */
    ldc1    $f28, 32($sp)           /* the target's f28 */
    ldc1    $f30, 40($sp)           /* the target's f30 */
#endif
    lw      $s0, 48($sp)            /* the target's s0 */
    lw      $s1, 52($sp)            /* the target's s1 */
    lw      $s2, 56($sp)            /* the target's s2 */
    lw      $s3, 60($sp)            /* the target's s3 */
    lw      $s4, 64($sp)            /* the target's s4 */
    lw      $s5, 68($sp)            /* the target's s5 */
    lw      $s6, 72($sp)            /* the target's s6 */
    lw      $s7, 76($sp)            /* the target's s7 */
    lw      $fp, 80($sp)            /* the target's fp */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp)
   o32 registers: a0 = result buffer, a1 = to, a2 = vp */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .ent    jump_fcontext
    .p2align 2
jump_fcontext:
    .cfi_startproc
    SAVE_FRAME
    move    $t0, $sp                /* our frame is the fctx the target receives */
    move    $sp, $a1                /* switch to the target's frame */
    LOAD_FRAME
    lw      $v0, 84($sp)            /* the target's result buffer (o32: v0 = it) */
    lw      $ra, 88($sp)            /* fresh: finish */
    lw      $t9, 92($sp)            /* resume address; t9 = fn for a fresh entry */
    addiu   $sp, $sp, 96            /* target's sp as after its pending call */
    .cfi_adjust_cfa_offset -96
    sw      $t0, 0($v0)             /* transfer_t {our fctx, ...} returned ... */
    sw      $a2, 4($v0)             /* ... {..., vp} through the buffer */
    move    $a0, $t0                /* and in a0:a1 for a fresh entry */
    move    $a1, $a2                /* (data) */
    jr      $t9                     /* resume the target / enter fn with t9 = fn */
    .cfi_endproc
    .end    jump_fcontext
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t))
   o32 registers: a0 = result buffer, a1 = to, a2 = vp, a3 = fn */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .ent    ontop_fcontext
    .p2align 2
ontop_fcontext:
    .cfi_startproc
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    move    $t0, $sp                /* our fctx, handed to fn */
    move    $sp, $a1                /* switch to the target's frame */
    LOAD_FRAME
    lw      $a0, 84($sp)            /* fn returns into the target's result buffer */
    lw      $ra, 88($sp)            /* fn returns into the target's pending call */
    addiu   $sp, $sp, 96            /* pc slot unused: ra already resumes the target */
    .cfi_adjust_cfa_offset -96
    move    $t9, $a3                /* PIC call convention: t9 = callee */
    move    $a1, $t0                /* fn's argument {our fctx, vp} in a1:a2 */
    jr      $t9                     /* enter fn; it writes the buffer, v0 = buffer */
    .cfi_endproc
    .end    ontop_fcontext
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE j
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
