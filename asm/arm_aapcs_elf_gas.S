/*
 * fcontext for 32-bit arm, AAPCS (hard-float VFP: d8-d15 saved), ELF, GNU as.
 *
 * Frame of a suspended context; fctx is its lowest address and the saved SP.
 * Layout identical to Boost.Context 1.74 (docs/ABI.md#arm32-elf).
 *
 *   offset | size | saved item                          | make_fcontext writes
 *   -------+------+-------------------------------------+---------------------
 *     0x00 | 8x8  | d8 .. d15 (VFP builds; space always) | -
 *     0x40 |    4 | hidden result pointer of the pending | fctx + 0x6C
 *          |      | call (transfer_t returns in memory)  |
 *     0x44 | 8x4  | r4 .. r11                           | -
 *     0x64 |    4 | lr                                  | address of finish
 *     0x68 |    4 | resume address (pc)                 | entry function
 *     0x6C |    8 | fresh only: result buffer for the   | -
 *          |      | first transfer {fctx, data}         |
 *
 * fctx of a fresh context = (sp & ~15) - 0x7C; its entry function starts with
 * SP = fctx + 0x6C (16-byte aligned; AAPCS asks for 8), r0:r1 = transfer_t
 * {jumper's fctx, data} and lr = finish.
 *
 * AAPCS returns the 8-byte transfer_t in memory: jump_fcontext gets the
 * hidden result pointer in r0, `to` in r1, vp in r2 (ontop: fn in r3). The
 * switch writes {caller fctx, vp} into the *target's* buffer (its saved
 * hidden pointer) and also leaves fctx:data in r0:r1 for a fresh entry.
 *
 * Not saved: FPSCR. AAPCS makes its mode bits global state changed only
 * through <fenv.h>, not callee-saved. The code is A32 (`.arm`); callers in
 * Thumb reach it through the linker's interworking, and every return or
 * resume goes through bx/pop-to-pc, which switch state as needed.
 */

    .syntax unified
    .arm
    .text

#if defined(__VFP_FP__) && !defined(__SOFTFP__)
#  define FC_VFP 1
    .fpu vfp
#endif

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, %function
    .p2align 2
make_fcontext:
    .fnstart
    .cantunwind
    bic     r0, r0, #15             /* 16-byte aligned top (AAPCS needs 8) */
    sub     r0, r0, #0x7c           /* frame plus the first transfer's buffer */
    str     r2, [r0, #0x68]         /* first resume enters fn */
    adr     r1, fcontext_finish     /* position-independent address of finish */
    str     r1, [r0, #0x64]         /* fn returns into finish */
    add     r1, r0, #0x6c           /* the fresh result buffer just above the frame */
    str     r1, [r0, #0x40]         /* first switch writes its transfer_t here */
    bx      lr                      /* r0 = fctx */
    .fnend
    .size   make_fcontext, .-make_fcontext

/* The entry function returned: leave the process with status 0. */
    .type   fcontext_finish, %function
    .p2align 2
fcontext_finish:
    .fnstart
    .cantunwind                     /* nothing above the entry function to unwind into */
    mov     r0, #0                  /* exit status 0 */
    bl      _exit                   /* _exit: the context owns no atexit duty */
    udf     #0                      /* _exit does not return */
    .fnend
    .size   fcontext_finish, .-fcontext_finish

/* transfer_t jump_fcontext(fcontext_t const to, void *vp), result via r0 */
    .globl  jump_fcontext
    .type   jump_fcontext, %function
    .p2align 2
jump_fcontext:
    .fnstart
    .cantunwind
    push    {lr}                    /* resume address (pc slot, 0x68) */
    push    {r0, r4-r11, lr}        /* our hidden pointer, callee-saved, lr */
    sub     sp, sp, #64             /* d8-d15 area */
#ifdef FC_VFP
    vstmia  sp, {d8-d15}            /* AAPCS VFP: d8-d15 are callee-saved */
#endif
    mov     ip, sp                  /* our frame is the fctx the target receives */
    mov     sp, r1                  /* switch to the target's frame */
#ifdef FC_VFP
    vldmia  sp, {d8-d15}            /* the target's d8-d15 */
#endif
    add     sp, sp, #64             /* past the d8-d15 area */
    pop     {r3, r4-r11, lr}        /* r3 = target's hidden result pointer */
    str     ip, [r3, #0]            /* its pending call returns {our fctx, */
    str     r2, [r3, #4]            /*   vp} through memory */
    mov     r0, ip                  /* a fresh entry takes transfer_t in r0:r1 */
    mov     r1, r2                  /* ... and data */
    pop     {pc}                    /* resume (interworking return) */
    .fnend
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  ontop_fcontext
    .type   ontop_fcontext, %function
    .p2align 2
ontop_fcontext:
    .fnstart
    .cantunwind
    push    {lr}                    /* same frame as jump */
    push    {r0, r4-r11, lr}        /* same frame as jump */
    sub     sp, sp, #64             /* d8-d15 area */
#ifdef FC_VFP
    vstmia  sp, {d8-d15}            /* d8-d15 are callee-saved (VFP) */
#endif
    mov     ip, sp                  /* our fctx, handed to fn */
    mov     sp, r1                  /* switch to the target's frame */
#ifdef FC_VFP
    vldmia  sp, {d8-d15}            /* the target's d8-d15 */
#endif
    add     sp, sp, #64             /* past the d8-d15 area */
    pop     {r0, r4-r11, lr}        /* r0 = target's hidden pointer: fn's result goes there */
    add     sp, sp, #4              /* drop the pc slot: lr already resumes the target */
    mov     r1, ip                  /* fn's argument {our fctx, vp} in r1:r2 */
    bx      r3                      /* fn returns straight into the target's pending call */
    .fnend
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE j
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", %progbits
