/*
 * fcontext for loongarch64, LP64D psABI (64-bit GPRs, double-precision
 * hard-float FPRs: the D extension), ELF, GNU as / clang syntax.
 *
 * Frame of a suspended context; fctx is its lowest address and the saved SP.
 * Layout identical to Boost.Context's loongarch64_sysv_elf_gas (Boost 1.79+,
 * docs/ABI.md#loongarch64).
 *
 *   offset | size  | saved item                | make_fcontext writes
 *   -------+-------+---------------------------+---------------------
 *     0x00 |  8x8  | fs0 .. fs7 (f24 .. f31)   | -
 *     0x40 |  9x8  | s0 .. s8 (r23 .. r31)     | -
 *     0x88 |    8  | fp (r22, also called s9)  | -
 *     0x90 |    8  | ra                        | address of finish
 *     0x98 |    8  | resume address (pc)       | entry function
 *
 * fctx of a fresh context = (sp & ~15) - 0xA0; the entry function starts
 * with sp = fctx + 0xA0 (16-byte aligned, as the psABI requires), a0:a1 =
 * transfer_t {jumper's fctx, data}, ra = finish. transfer_t (two pointers)
 * is returned in a0:a1.
 *
 * Not saved: fcsr0 (rounding mode, enables, cause and flag bits) and the
 * condition flags fcc0-fcc7. The psABI makes fcc0-fcc7 temporaries, and it
 * gives fcsr0 no callee-saved role: like the RISC-V fcsr it is state of the
 * thread (C11 <fenv.h> semantics), so a switch leaves it alone, exactly like
 * Boost. tp (r2, thread pointer) and r21 (reserved, never allocated) are never
 * touched. Only the low 64 bits of f24-f31 are callee-saved; the upper LSX /
 * LASX vector lanes that alias them are caller-saved.
 */

    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .p2align 2
make_fcontext:
    .cfi_startproc
    bstrins.d $a0, $zero, 3, 0      /* psABI: sp is 16-byte aligned (clear bits 3..0) */
    addi.d  $a0, $a0, -0xa0         /* room for one frame below the top */
    st.d    $a2, $a0, 0x98          /* first resume enters fn */
    la.pcrel $a4, fcontext_finish   /* pc-relative: no GOT needed */
    st.d    $a4, $a0, 0x90          /* fn returns into finish */
    jr      $ra                     /* a0 = fctx */
    .cfi_endproc
    .size   make_fcontext, .-make_fcontext

/*
 * The entry function returned. One unwind procedure whose return address is
 * undefined, so unwinders stop at the context's entry; the leading nop puts
 * finish-1 (where unwinders look up a return address) inside it.
 */
    .type   fcontext_finish_proc, @function
    .p2align 2
fcontext_finish_proc:
    .cfi_startproc
    .cfi_undefined 1                /* r1 = ra: no caller above the entry */
    nop                             /* finish-1 belongs to this FDE */
fcontext_finish:
    move    $a0, $zero              /* exit status 0 */
    b       %plt(_exit)             /* _exit: the context owns no atexit duty */
    .cfi_endproc
    .size   fcontext_finish_proc, .-fcontext_finish_proc

/* Pushes the running context's frame (same for jump and ontop, so either resumes it). */
.macro SAVE_FRAME
    addi.d  $sp, $sp, -0xa0         /* our frame on our own stack */
    .cfi_def_cfa_offset 0xa0
    fst.d   $fs0, $sp, 0x00         /* LP64D: fs0-fs7 (f24-f31) are callee-saved */
    fst.d   $fs1, $sp, 0x08         /* keep fs1 (callee-saved) */
    fst.d   $fs2, $sp, 0x10         /* keep fs2 (callee-saved) */
    fst.d   $fs3, $sp, 0x18         /* keep fs3 (callee-saved) */
    fst.d   $fs4, $sp, 0x20         /* keep fs4 (callee-saved) */
    fst.d   $fs5, $sp, 0x28         /* keep fs5 (callee-saved) */
    fst.d   $fs6, $sp, 0x30         /* keep fs6 (callee-saved) */
    fst.d   $fs7, $sp, 0x38         /* keep fs7 (callee-saved) */
    st.d    $s0, $sp, 0x40          /* callee-saved integer registers */
    st.d    $s1, $sp, 0x48          /* keep s1 (callee-saved) */
    st.d    $s2, $sp, 0x50          /* keep s2 (callee-saved) */
    st.d    $s3, $sp, 0x58          /* keep s3 (callee-saved) */
    st.d    $s4, $sp, 0x60          /* keep s4 (callee-saved) */
    st.d    $s5, $sp, 0x68          /* keep s5 (callee-saved) */
    st.d    $s6, $sp, 0x70          /* keep s6 (callee-saved) */
    st.d    $s7, $sp, 0x78          /* keep s7 (callee-saved) */
    st.d    $s8, $sp, 0x80          /* keep s8 (callee-saved) */
    st.d    $fp, $sp, 0x88          /* frame pointer, callee-saved like s0-s8 */
    st.d    $ra, $sp, 0x90          /* our return address ... */
    st.d    $ra, $sp, 0x98          /* ... is also where we resume */
    .cfi_offset 22, -0x18           /* fp at CFA-0x18 */
    .cfi_offset 1, -0x10            /* ra at CFA-0x10 */
.endm

/* Loads fs0-fs7, s0-s8 and fp of the frame at sp. */
.macro LOAD_FRAME
    fld.d   $fs0, $sp, 0x00         /* the target's fs0 */
    fld.d   $fs1, $sp, 0x08         /* the target's fs1 */
    fld.d   $fs2, $sp, 0x10         /* the target's fs2 */
    fld.d   $fs3, $sp, 0x18         /* the target's fs3 */
    fld.d   $fs4, $sp, 0x20         /* the target's fs4 */
    fld.d   $fs5, $sp, 0x28         /* the target's fs5 */
    fld.d   $fs6, $sp, 0x30         /* the target's fs6 */
    fld.d   $fs7, $sp, 0x38         /* the target's fs7 */
    ld.d    $s0, $sp, 0x40          /* the target's s0 */
    ld.d    $s1, $sp, 0x48          /* the target's s1 */
    ld.d    $s2, $sp, 0x50          /* the target's s2 */
    ld.d    $s3, $sp, 0x58          /* the target's s3 */
    ld.d    $s4, $sp, 0x60          /* the target's s4 */
    ld.d    $s5, $sp, 0x68          /* the target's s5 */
    ld.d    $s6, $sp, 0x70          /* the target's s6 */
    ld.d    $s7, $sp, 0x78          /* the target's s7 */
    ld.d    $s8, $sp, 0x80          /* the target's s8 */
    ld.d    $fp, $sp, 0x88          /* the target's fp */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .p2align 2
jump_fcontext:
    .cfi_startproc
    SAVE_FRAME
    move    $a2, $sp                /* our frame is the fctx the target receives */
    move    $sp, $a0                /* switch to the target's frame */
    LOAD_FRAME
    ld.d    $ra, $sp, 0x90          /* fresh: finish */
    ld.d    $a3, $sp, 0x98          /* where the target continues (fresh: fn) */
    addi.d  $sp, $sp, 0xa0          /* target's sp as after its pending call */
    .cfi_def_cfa_offset 0
    move    $a0, $a2                /* transfer_t.fctx; a1 still holds vp */
    jr      $a3                     /* resume the target (fresh: enter fn) */
    .cfi_endproc
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .p2align 2
ontop_fcontext:
    .cfi_startproc
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    move    $a3, $sp                /* our fctx, handed to fn */
    move    $sp, $a0                /* switch to the target's frame */
    LOAD_FRAME
    ld.d    $ra, $sp, 0x90          /* fn returns into the target's pending call */
    addi.d  $sp, $sp, 0xa0          /* pc slot unused: ra already resumes the target */
    .cfi_def_cfa_offset 0
    move    $a0, $a3                /* fn's argument {our fctx, vp} in a0:a1 */
    jr      $a2                     /* fn's a0:a1 result is the pending call's */
    .cfi_endproc
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE m
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
