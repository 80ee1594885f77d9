/*
 * fcontext for i386 (x86, 32-bit), System V psABI, ELF, GNU assembler.
 *
 * Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
 * lowest byte. Suspended frames are identical to Boost.Context 1.74, so
 * contexts suspended by either library resume with the other's jump/ontop.
 *
 *   offset | size | saved item                            | make_fcontext writes
 *   -------+------+---------------------------------------+---------------------
 *     0x00 |    4 | MXCSR                                 | current MXCSR
 *     0x04 |    2 | x87 control word (0x06-0x07 unused)   | current control word
 *     0x08 |    4 | edi                                   | -   (see fresh contexts)
 *     0x0c |    4 | esi                                   | -
 *     0x10 |    4 | ebx                                   | entry function
 *     0x14 |    4 | ebp                                   | address of finish
 *     0x18 |    4 | resume (return) address               | address of trampoline
 *     0x1c |    4 | hidden result pointer of the pending  | fctx + 0x08
 *          |      | call (its transfer_t is returned in   |
 *          |      | memory; the callee pops the pointer)  |
 *     0x20 |    8 | the pending call's own to/vp argument | -   (fresh: entry argument)
 *          |      | slots (ontop writes fn's argument)    |
 *
 * jump reserves 0x18 below its return address; with the return address and
 * the hidden pointer the saved frame is 0x20, and a resumed call returns with
 * esp = fctx + 0x20, as if it had executed `ret $4`.
 *
 * Fresh contexts. DELIBERATE DIFFERENCE from Boost 1.74: Boost places a fresh
 * frame at ((sp - 8) & ~15) - 0x28, which starts the entry function with
 * esp = 4 (mod 16), breaking the psABI rule that (esp + 4) is 16-aligned at
 * function entry (SSE code on the stack faults). Ours places it at
 * (sp & ~15) - 0x30, so fctx = 0 (mod 16) and the entry function starts with
 * esp = fctx + 0x1c = 12 (mod 16). The slots make writes are the same as
 * Boost's; only the offset from the stack top differs, which no jump or ontop
 * depends on, so fresh contexts of either library still start under the
 * other's jump.
 *
 * The first jump writes {fctx, data} through the hidden pointer fctx + 0x08
 * into the edi/esi slots, so the trampoline finds them in edi/esi and stores
 * them as the entry function's by-value argument at fctx + 0x20.
 *
 * Defining FCONTEXT_NO_FPU_CONTROL drops the MXCSR / x87 control word save and
 * restore from jump and ontop (the slots stay; make still fills them).
 */

    .file "i386_sysv_elf_gas.S"
    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .p2align 4
make_fcontext:
    .cfi_startproc
    movl    4(%esp), %eax           /* the stack top passed in */
    andl    $-16, %eax              /* psABI: 16-byte aligned stack */
    leal    -0x30(%eax), %eax       /* fctx = 0 (mod 16): entry esp + 4 aligned */
    movl    12(%esp), %edx          /* the entry function */
    movl    %edx, 0x10(%eax)        /* trampoline finds the entry function in ebx */
    stmxcsr (%eax)                  /* fresh context inherits the SSE control/status */
    fnstcw  0x4(%eax)               /* ... and the x87 control word */
    leal    0x8(%eax), %edx         /* hidden pointer = the edi/esi slots */
    movl    %edx, 0x1c(%eax)        /* first jump writes {fctx, data} to the edi/esi slots */
    call    1f                      /* no relocations: addresses from our own position */
1:  popl    %ecx
    leal    (fcontext_trampoline - 1b)(%ecx), %edx /* the trampoline, relative to label 1 */
    movl    %edx, 0x18(%eax)        /* first jump resumes at the trampoline */
    leal    (fcontext_finish - 1b)(%ecx), %edx /* finish, likewise */
    movl    %edx, 0x14(%eax)        /* trampoline makes finish the return address */
    ret                             /* eax = fctx */
    .cfi_endproc
    .size   make_fcontext, .-make_fcontext

/*
 * Trampoline and finish form one unwind procedure whose return address is
 * undefined, so a debugger stops here instead of walking past the stack top.
 */
    .type   fcontext_trampoline, @function
    .p2align 4
fcontext_trampoline:
    .cfi_startproc
    .cfi_undefined eip
    movl    %edi, (%esp)            /* entry argument transfer_t.fctx (esp = fctx + 0x20) */
    movl    %esi, 4(%esp)           /* entry argument transfer_t.data */
    pushl   %ebp                    /* finish becomes the entry function's return address */
    jmp     *%ebx                   /* enter fn(transfer_t) with esp + 4 16-aligned */
fcontext_finish:
    call    2f                      /* the PLT needs ebx = GOT */
2:  popl    %ebx
    addl    $_GLOBAL_OFFSET_TABLE_ + (. - 2b), %ebx /* ebx = GOT, as the PLT entry expects */
    andl    $-16, %esp              /* psABI alignment for the call below */
    subl    $12, %esp               /* with the push below: 16-aligned at the call */
    pushl   $0                      /* the entry function returned: exit status 0 */
    call    _exit@PLT               /* _exit, not exit: the context owns no atexit duty */
    hlt                             /* _exit does not return */
    .cfi_endproc
    .size   fcontext_trampoline, .-fcontext_trampoline

#define FC_I386_CFI 1
#include "common/i386_sysv_frame.inc"

/* transfer_t jump_fcontext(fcontext_t const to, void *vp)
   stack at entry: return address, hidden result pointer, to, vp */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .p2align 4
jump_fcontext:
    .cfi_startproc
    SAVE_FRAME                      /* callee-saved state below the return address */
    movl    %esp, %ecx              /* our frame is the fctx handed to the target */
    movl    0x24(%esp), %ebx        /* vp (ebx is saved, so free as scratch) */
    movl    0x20(%esp), %esp        /* switch to the target's frame */
    movl    0x1c(%esp), %eax        /* target's hidden result pointer */
    movl    %ecx, (%eax)            /* its pending call returns {our fctx, vp}; */
    movl    %ebx, 4(%eax)           /* a fresh target gets them in its edi/esi slots */
    movl    0x18(%esp), %ecx        /* target's resume address */
    RESTORE_FRAME                   /* the target's callee-saved state */
    leal    0x20(%esp), %esp        /* drop frame, return address and hidden pointer */
    .cfi_def_cfa esp, 0
    .cfi_register eip, ecx
    .cfi_same_value edi
    .cfi_same_value esi
    .cfi_same_value ebx
    .cfi_same_value ebp
    jmp     *%ecx                   /* eax = the result buffer, as the psABI wants */
    .cfi_endproc
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t))
   stack at entry: return address, hidden result pointer, to, vp, fn */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .p2align 4
ontop_fcontext:
    .cfi_startproc
    SAVE_FRAME
    movl    %esp, %ecx              /* our frame is the fctx handed to fn */
    movl    0x24(%esp), %ebx        /* vp */
    movl    0x28(%esp), %edx        /* fn */
    movl    0x20(%esp), %esp        /* switch to the target's frame */
    movl    %ecx, 0x20(%esp)        /* fn's by-value argument: {our fctx, vp}, in the */
    movl    %ebx, 0x24(%esp)        /* target's own (now dead) argument slots */
    movl    %edx, %ecx              /* keep fn in a register nothing restores */
    RESTORE_FRAME                   /* the target's callee-saved state */
    leal    0x18(%esp), %esp        /* resume address becomes fn's return address and */
    .cfi_def_cfa esp, 4             /* the pending call's hidden pointer fn's hidden one */
    .cfi_same_value edi
    .cfi_same_value esi
    .cfi_same_value ebx
    .cfi_same_value ebp
    jmp     *%ecx                   /* fn fills the buffer and returns with ret $4 */
    .cfi_endproc
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE j
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
