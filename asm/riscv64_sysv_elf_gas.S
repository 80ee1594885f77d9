/*
 * fcontext for riscv64, LP64D psABI (integer + double-precision FP
 * registers), ELF, GNU as.
 *
 * Frame of a suspended context; fctx is its lowest address and the saved SP.
 * Layout identical to Boost.Context 1.74 (docs/ABI.md#riscv64).
 *
 *   offset | size  | saved item               | make_fcontext writes
 *   -------+-------+--------------------------+---------------------
 *     0x00 | 12x8  | fs0 .. fs11 (fsd)        | -
 *     0x60 | 12x8  | s0 .. s11 (s0 = fp)      | -
 *     0xC0 |    8  | ra                       | address of finish
 *     0xC8 |    8  | resume address (pc)      | entry function
 *
 * fctx of a fresh context = (sp & ~15) - 0xD0; the entry function starts with
 * sp = fctx + 0xD0 (16-byte aligned, as the psABI requires), a0:a1 =
 * transfer_t {jumper's fctx, data}, ra = finish. transfer_t (two pointers)
 * is returned in a0:a1.
 *
 * Not saved: fcsr (rounding mode and exception flags). The RISC-V psABI
 * gives fcsr thread storage duration (C11 <fenv.h> semantics): it is state
 * of the thread, not a callee-saved register, so a switch leaves it alone,
 * exactly like Boost. gp and tp are never touched (global and thread
 * pointer, constant for the thread).
 */

    .option pic
    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .p2align 2
make_fcontext:
    .cfi_startproc
    andi    a0, a0, -16             /* psABI: sp is 16-byte aligned */
    addi    a0, a0, -0xd0           /* room for one frame below the top */
    sd      a2, 0xc8(a0)            /* first resume enters fn */
    lla     a4, fcontext_finish     /* pc-relative: no GOT needed */
    sd      a4, 0xc0(a0)            /* fn returns into finish */
    ret                             /* a0 = fctx */
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
    .cfi_undefined ra
    nop                             /* finish-1 belongs to this FDE */
fcontext_finish:
    li      a0, 0                   /* exit status 0 */
    tail    _exit                   /* _exit: the context owns no atexit duty */
    .cfi_endproc
    .size   fcontext_finish_proc, .-fcontext_finish_proc

/* Pushes the running context's frame (same for jump and ontop, so either resumes it). */
.macro SAVE_FRAME
    addi    sp, sp, -0xd0           /* our frame on our own stack */
    .cfi_def_cfa_offset 0xd0
    fsd     fs0,  0x00(sp)          /* LP64D: fs0-fs11 are callee-saved */
    fsd     fs1,  0x08(sp)          /* keep fs1 (callee-saved) */
    fsd     fs2,  0x10(sp)          /* keep fs2 (callee-saved) */
    fsd     fs3,  0x18(sp)          /* keep fs3 (callee-saved) */
    fsd     fs4,  0x20(sp)          /* keep fs4 (callee-saved) */
    fsd     fs5,  0x28(sp)          /* keep fs5 (callee-saved) */
    fsd     fs6,  0x30(sp)          /* keep fs6 (callee-saved) */
    fsd     fs7,  0x38(sp)          /* keep fs7 (callee-saved) */
    fsd     fs8,  0x40(sp)          /* keep fs8 (callee-saved) */
    fsd     fs9,  0x48(sp)          /* keep fs9 (callee-saved) */
    fsd     fs10, 0x50(sp)          /* keep fs10 (callee-saved) */
    fsd     fs11, 0x58(sp)          /* keep fs11 (callee-saved) */
    sd      s0,  0x60(sp)           /* callee-saved integer registers */
    sd      s1,  0x68(sp)           /* keep s1 (callee-saved) */
    sd      s2,  0x70(sp)           /* keep s2 (callee-saved) */
    sd      s3,  0x78(sp)           /* keep s3 (callee-saved) */
    sd      s4,  0x80(sp)           /* keep s4 (callee-saved) */
    sd      s5,  0x88(sp)           /* keep s5 (callee-saved) */
    sd      s6,  0x90(sp)           /* keep s6 (callee-saved) */
    sd      s7,  0x98(sp)           /* keep s7 (callee-saved) */
    sd      s8,  0xa0(sp)           /* keep s8 (callee-saved) */
    sd      s9,  0xa8(sp)           /* keep s9 (callee-saved) */
    sd      s10, 0xb0(sp)           /* keep s10 (callee-saved) */
    sd      s11, 0xb8(sp)           /* keep s11 (callee-saved) */
    sd      ra,  0xc0(sp)           /* our return address ... */
    sd      ra,  0xc8(sp)           /* ... is also where we resume */
    .cfi_offset ra, -0x10
.endm

/* Loads fs0-fs11 and s0-s11 of the frame at sp. */
.macro LOAD_FRAME
    fld     fs0,  0x00(sp)          /* the target's fs0 */
    fld     fs1,  0x08(sp)          /* the target's fs1 */
    fld     fs2,  0x10(sp)          /* the target's fs2 */
    fld     fs3,  0x18(sp)          /* the target's fs3 */
    fld     fs4,  0x20(sp)          /* the target's fs4 */
    fld     fs5,  0x28(sp)          /* the target's fs5 */
    fld     fs6,  0x30(sp)          /* the target's fs6 */
    fld     fs7,  0x38(sp)          /* the target's fs7 */
    fld     fs8,  0x40(sp)          /* the target's fs8 */
    fld     fs9,  0x48(sp)          /* the target's fs9 */
    fld     fs10, 0x50(sp)          /* the target's fs10 */
    fld     fs11, 0x58(sp)          /* the target's fs11 */
    ld      s0,  0x60(sp)           /* the target's s0 */
    ld      s1,  0x68(sp)           /* the target's s1 */
    ld      s2,  0x70(sp)           /* the target's s2 */
    ld      s3,  0x78(sp)           /* the target's s3 */
    ld      s4,  0x80(sp)           /* the target's s4 */
    ld      s5,  0x88(sp)           /* the target's s5 */
    ld      s6,  0x90(sp)           /* the target's s6 */
    ld      s7,  0x98(sp)           /* the target's s7 */
    ld      s8,  0xa0(sp)           /* the target's s8 */
    ld      s9,  0xa8(sp)           /* the target's s9 */
    ld      s10, 0xb0(sp)           /* the target's s10 */
    ld      s11, 0xb8(sp)           /* the target's s11 */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .p2align 2
jump_fcontext:
    .cfi_startproc
    SAVE_FRAME
    mv      a2, sp                  /* our frame is the fctx the target receives */
    mv      sp, a0                  /* switch to the target's frame */
    LOAD_FRAME
    ld      ra,  0xc0(sp)           /* fresh: finish */
    ld      a3,  0xc8(sp)           /* where the target continues (fresh: fn) */
    addi    sp, sp, 0xd0            /* target's sp as after its pending call */
    .cfi_def_cfa_offset 0
    mv      a0, a2                  /* transfer_t.fctx; a1 still holds vp */
    jr      a3                      /* resume the target (fresh: enter fn) */
    .cfi_endproc
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .p2align 2
ontop_fcontext:
    .cfi_startproc
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    mv      a3, sp                  /* our fctx, handed to fn */
    mv      sp, a0                  /* switch to the target's frame */
    LOAD_FRAME
    ld      ra,  0xc0(sp)           /* fn returns into the target's pending call */
    addi    sp, sp, 0xd0            /* pc slot unused: ra already resumes the target */
    .cfi_def_cfa_offset 0
    mv      a0, a3                  /* fn's argument {our fctx, vp} in a0:a1 */
    jr      a2                      /* fn's a0:a1 result is the pending call's */
    .cfi_endproc
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE m
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
