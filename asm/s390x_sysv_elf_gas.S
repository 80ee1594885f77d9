/*
 * fcontext for s390x (z/Architecture), ELF ABI, GNU as.
 *
 * Frame of a suspended context; fctx is its lowest address and the saved
 * r15. Layout and fresh-context protocol identical to Boost.Context 1.74
 * (docs/ABI.md#s390x).
 *
 *   offset | size | saved item                           | make_fcontext writes
 *   -------+------+--------------------------------------+---------------------
 *        0 |   16 | scratch transfer_t {fctx, data}: a    | -
 *          |      | fresh target's first argument lives  |
 *          |      | here, in the *jumper's* frame        |
 *       16 |    8 | hidden result pointer of the pending | 0 (= fresh)
 *          |      | call (0 for a fresh context)          |
 *       24 | 9x8  | r6 .. r14 (r14 at 88)                | 88: address of finish
 *       96 | 8x8  | f8 .. f15                            | -
 *      160 |    4 | FPC (floating-point control)         | current FPC
 *      164 |    4 | padding                              | -
 *      168 |    8 | resume address (pc)                  | entry function
 *
 * fctx of a fresh context = (sp & ~15) - 176. A 16-byte transfer_t is
 * returned through a hidden pointer (r2) and passed by reference, so jump
 * gets r2 = result buffer, r3 = to, r4 = vp (ontop: r5 = fn).
 * Resuming a suspended context stores {our fctx, vp} into its buffer. A fresh
 * context has none: the pair goes into our own frame's scratch slots, r2
 * points at it, and the entry function starts with r15 = fctx + 16 (the 160
 * bytes above are its register save area; 8-byte aligned as the ABI needs),
 * r14 = finish.
 *
 * FPC is saved and restored (rounding mode, exception masks), as Boost does;
 * defining FCONTEXT_NO_FPU_CONTROL (cargo feature no-fpu-control) drops that
 * from jump and ontop (make still fills the slot).
 * Access registers a0/a1 (thread pointer) are never touched.
 */

    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .p2align 3
make_fcontext:
    .cfi_startproc
    nill    %r2, 0xfff0             /* 16-byte aligned top */
    aghi    %r2, -176               /* room for one frame below it */
    stg     %r4, 168(%r2)           /* first resume enters fn */
    larl    %r1, fcontext_finish    /* pc-relative address of finish */
    stg     %r1, 88(%r2)            /* fn returns into finish (saved r14) */
    mvghi   16(%r2), 0              /* no pending call: marks the context fresh */
    stfpc   160(%r2)                /* fresh context inherits our FPC */
    br      %r14                    /* r2 = fctx */
    .cfi_endproc
    .size   make_fcontext, .-make_fcontext

/*
 * The entry function returned (r15 = fctx + 16 again, its 160-byte save area
 * still ours). One unwind procedure with an undefined return address, so
 * unwinders stop here; the leading nop puts finish-1 inside it.
 */
    .type   fcontext_finish_proc, @function
    .p2align 3
fcontext_finish_proc:
    .cfi_startproc
    .cfi_undefined %r14
    nopr    %r7                     /* finish-1 belongs to this FDE */
fcontext_finish:
    lghi    %r2, 0                  /* exit status 0 */
    brasl   %r14, _exit@PLT         /* _exit: the context owns no atexit duty */
    .long   0                       /* _exit does not return: trap if it did */
    .cfi_endproc
    .size   fcontext_finish_proc, .-fcontext_finish_proc

/* Pushes the running context's frame (same for jump and ontop, so either resumes it). */
.macro SAVE_FRAME
    aghi    %r15, -176              /* our frame on our own stack */
    .cfi_adjust_cfa_offset 176
    stmg    %r6, %r14, 24(%r15)     /* callee-saved r6-r13, r14 = return address */
    std     %f8, 96(%r15)           /* f8-f15 are callee-saved */
    std     %f9, 104(%r15)          /* keep f9 (callee-saved) */
    std     %f10, 112(%r15)         /* keep f10 (callee-saved) */
    std     %f11, 120(%r15)         /* keep f11 (callee-saved) */
    std     %f12, 128(%r15)         /* keep f12 (callee-saved) */
    std     %f13, 136(%r15)         /* keep f13 (callee-saved) */
    std     %f14, 144(%r15)         /* keep f14 (callee-saved) */
    std     %f15, 152(%r15)         /* keep f15 (callee-saved) */
#ifndef FCONTEXT_NO_FPU_CONTROL
    stfpc   160(%r15)               /* rounding mode and masks */
#endif
    stg     %r14, 168(%r15)         /* resume address */
    stg     %r2, 16(%r15)           /* where our pending call's result goes */
.endm

/* Loads r6-r14, f8-f15 and the FPC of the frame at r15. */
.macro LOAD_FRAME
    lmg     %r6, %r14, 24(%r15)     /* the target's r6-r13 and return address r14 */
    ld      %f8, 96(%r15)           /* the target's f8 */
    ld      %f9, 104(%r15)          /* the target's f9 */
    ld      %f10, 112(%r15)         /* the target's f10 */
    ld      %f11, 120(%r15)         /* the target's f11 */
    ld      %f12, 128(%r15)         /* the target's f12 */
    ld      %f13, 136(%r15)         /* the target's f13 */
    ld      %f14, 144(%r15)         /* the target's f14 */
    ld      %f15, 152(%r15)         /* the target's f15 */
#ifndef FCONTEXT_NO_FPU_CONTROL
    lfpc    160(%r15)               /* the target's FP control (rounding mode, masks) */
#endif
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp), result via r2 */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .p2align 3
jump_fcontext:
    .cfi_startproc
    SAVE_FRAME
    lgr     %r1, %r15               /* our frame is the fctx the target receives */
    lgr     %r15, %r3               /* switch to the target's frame */
    LOAD_FRAME
    lg      %r5, 168(%r15)          /* where the target continues (fresh: fn) */
    lg      %r2, 16(%r15)           /* the target's result buffer ... */
    ltgr    %r2, %r2                /* zero means a fresh target ... */
    jnz     1f                      /* ... which has no result buffer */
    lgr     %r2, %r1                /* ... or, fresh, our scratch slots */
    aghi    %r15, -160              /* fresh: r15 ends at fctx + 16 */
1:
    stg     %r1, 0(%r2)             /* transfer_t.fctx = our frame */
    stg     %r4, 8(%r2)             /* transfer_t.data = vp */
    aghi    %r15, 176               /* target's r15 as after its pending call */
    .cfi_adjust_cfa_offset -176
    br      %r5                     /* resume the target (fresh: enter fn) */
    .cfi_endproc
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .p2align 3
ontop_fcontext:
    .cfi_startproc
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    lgr     %r1, %r15               /* our fctx */
    stg     %r1, 0(%r1)             /* fn's argument {our fctx, vp} lives in */
    stg     %r4, 8(%r1)             /*   our scratch slots (passed by reference) */
    lgr     %r15, %r3               /* switch to the target's frame */
    LOAD_FRAME                      /* r14 = target's resume address: fn returns there */
    lg      %r2, 16(%r15)           /* fn writes its result into the target's buffer */
    lgr     %r3, %r1                /* pointer to fn's argument */
    aghi    %r15, 176               /* target's r15; its save area serves fn */
    .cfi_adjust_cfa_offset -176
    br      %r5                     /* enter fn; it returns straight into the pending call */
    .cfi_endproc
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE m
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
