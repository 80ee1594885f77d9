/*
 * fcontext for i386 (x86, 32-bit), System V ABI as used by Darwin, Mach-O,
 * GNU/clang assembler.
 *
 * Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
 * lowest byte; the layout is identical to Boost.Context 1.74.
 *
 *   offset | size | saved item                              | make_fcontext writes
 *   -------+------+-----------------------------------------+---------------------
 *     0x00 |    4 | MXCSR                                   | current MXCSR
 *     0x04 |    2 | x87 control word (0x06-0x07 unused)     | current control word
 *     0x08 |    4 | edi                                     | -
 *     0x0c |    4 | esi                                     | -
 *     0x10 |    4 | ebx                                     | entry function
 *     0x14 |    4 | ebp                                     | address of finish
 *     0x18 |    4 | resume (return) address                 | address of trampoline
 *     0x1c |    8 | the pending call's to/vp argument slots | -   (fresh: entry argument;
 *          |      | (ontop writes fn's argument there)      |      ontop: fn's argument)
 *
 * Darwin returns 8-byte structs in eax:edx, so unlike i386 ELF there is no
 * hidden result pointer; a resumed call returns with esp = fctx + 0x1c.
 * A fresh context has fctx = ((sp - 8) & ~15) - 0x2c, so its entry function
 * starts with esp = fctx + 0x18 = 12 (mod 16): esp + 4 is 16-aligned as the
 * Darwin ABI requires (the same placement as Boost 1.74, which is right here).
 *
 * Mach-O specifics: C names carry a leading underscore; no .type/.size or
 * notes. Defining FCONTEXT_NO_FPU_CONTROL drops the MXCSR / x87 control word
 * save and restore from jump and ontop (make still fills the slots).
 */

    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  _make_fcontext
    .globl  __ZN5boost7context6detail13make_fcontextEPvmPFvNS1_10transfer_tEE
    .p2align 4
_make_fcontext:
__ZN5boost7context6detail13make_fcontextEPvmPFvNS1_10transfer_tEE: /* Boost >= 1.87 name */
    movl    4(%esp), %eax           /* the stack top passed in */
    leal    -8(%eax), %eax          /* 8 bytes below the top stay unused (Boost's placement) */
    andl    $-16, %eax              /* 16-byte aligned frame base */
    leal    -0x2c(%eax), %eax       /* fctx = 4 (mod 16): entry esp + 4 aligned */
    movl    12(%esp), %edx          /* the entry function */
    movl    %edx, 0x10(%eax)        /* trampoline finds the entry function in ebx */
    stmxcsr (%eax)                  /* fresh context inherits the SSE control/status */
    fnstcw  0x4(%eax)               /* ... and the x87 control word */
    calll   1f                      /* no relocations: addresses from our own position */
1:  popl    %ecx
    leal    (fcontext_trampoline - 1b)(%ecx), %edx /* the trampoline, relative to label 1 */
    movl    %edx, 0x18(%eax)        /* first jump resumes at the trampoline */
    leal    (fcontext_finish - 1b)(%ecx), %edx /* finish, likewise */
    movl    %edx, 0x14(%eax)        /* trampoline makes finish the return address */
    ret                             /* eax = fctx */

    .p2align 4
fcontext_trampoline:
    movl    %eax, (%esp)            /* entry argument {fctx, data} (esp = fctx + 0x1c) */
    movl    %edx, 4(%esp)           /* entry argument transfer_t.data */
    pushl   %ebp                    /* finish becomes the entry function's return address */
    jmp     *%ebx                   /* enter fn(transfer_t) with esp + 4 16-aligned */
fcontext_finish:
    andl    $-16, %esp              /* Darwin requires 16-byte alignment at calls */
    subl    $12, %esp               /* with the push below: 16-aligned at the call */
    pushl   $0                      /* the entry function returned: exit status 0 */
    calll   __exit                  /* _exit, not exit: the context owns no atexit duty */
    hlt                             /* _exit does not return */

#include "common/i386_sysv_frame.inc"

/* transfer_t jump_fcontext(fcontext_t const to, void *vp)
   stack at entry: return address, to, vp */
    .globl  _jump_fcontext
    .globl  __ZN5boost7context6detail13jump_fcontextEPvS2_
    .p2align 4
_jump_fcontext:
__ZN5boost7context6detail13jump_fcontextEPvS2_:
    SAVE_FRAME                      /* callee-saved state below the return address */
    movl    %esp, %eax              /* our frame is the fctx handed to the target */
    movl    0x20(%esp), %edx        /* vp */
    movl    0x1c(%esp), %esp        /* switch to the target's frame */
    RESTORE_FRAME                   /* the target's callee-saved state */
    movl    0x18(%esp), %ecx        /* the target's resume address */
    leal    0x1c(%esp), %esp        /* drop frame and return address */
    jmp     *%ecx                   /* eax:edx = {our fctx, vp} */

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t))
   stack at entry: return address, to, vp, fn */
    .globl  _ontop_fcontext
    .globl  __ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E
    .p2align 4
_ontop_fcontext:
__ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E:
    SAVE_FRAME
    movl    %esp, %eax              /* our frame is the fctx handed to fn */
    movl    0x20(%esp), %edx        /* vp */
    movl    0x1c(%esp), %esp        /* switch to the target's frame */
    movl    %eax, 0x1c(%esp)        /* fn's argument {our fctx, vp} goes into the */
    movl    %edx, 0x20(%esp)        /* target's own (now dead) argument slots */
    movl    0x24(%eax), %ecx        /* fn, kept in a register nothing restores */
    RESTORE_FRAME                   /* the target's callee-saved state */
    leal    0x18(%esp), %esp        /* resume address stays: fn's return address */
    jmp     *%ecx                   /* fn returns eax:edx into the target's pending call */
