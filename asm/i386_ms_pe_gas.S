/*
 * fcontext for i386 (x86, 32-bit), Microsoft cdecl, PE/COFF, GNU assembler
 * (MinGW-w64). asm/i386_ms_pe_masm.asm is the same code for MASM.
 *
 * Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
 * lowest byte; the layout is identical to Boost.Context 1.74.
 *
 *   offset | size | saved item                              | make_fcontext writes
 *   -------+------+-----------------------------------------+---------------------
 *     0x00 |    4 | MXCSR                                   | current MXCSR
 *     0x04 |    2 | x87 control word (0x06-0x07 unused)     | current control word
 *     0x08 |    4 | TIB+0x10  FiberData                     | 0
 *     0x0c |    4 | TIB+0xe0c DeallocationStack             | sp - size
 *     0x10 |    4 | TIB+0x08  StackLimit                    | sp - size
 *     0x14 |    4 | TIB+0x04  StackBase                     | sp (as passed)
 *     0x18 |    4 | TIB+0x00  ExceptionList (SEH chain)     | fctx + 0x38
 *     0x1c |    4 | edi                                     | -
 *     0x20 |    4 | esi                                     | -
 *     0x24 |    4 | ebx                                     | entry function
 *     0x28 |    4 | ebp                                     | address of finish
 *     0x2c |    4 | resume (return) address                 | address of trampoline
 *     0x30 |    8 | the pending call's to/vp argument slots | -   (fresh: entry argument;
 *          |      | (ontop writes fn's argument there)      |      ontop: fn's argument)
 *     0x38 |    4 | fresh only: SEH record `next`           | 0xffffffff (end of chain)
 *     0x3c |    4 | fresh only: SEH record `handler`        | handler of the thread's last
 *          |      |                                         | SEH record (SEHOP wants it)
 *
 * A fresh context has fctx = ((sp - 8) & ~15) - 0x40, so its entry function
 * starts with esp = fctx + 0x2c = 12 (mod 16): esp + 4 is 16-aligned (more
 * than Windows' 4-byte rule; GCC-compiled code likes 16). transfer_t (8
 * bytes) is returned in eax:edx, so no hidden pointer is involved; a resumed
 * call returns with esp = fctx + 0x30.
 *
 * Defining FCONTEXT_NO_FPU_CONTROL drops the MXCSR / x87 control word save and
 * restore from jump and ontop (make still fills the slots).
 */

    .file   "i386_ms_pe_gas.S"
    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .p2align 4
    .globl  _make_fcontext
    .def    _make_fcontext; .scl 2; .type 32; .endef
_make_fcontext:
    movl    4(%esp), %eax           /* the stack top passed in */
    leal    -8(%eax), %eax          /* 8 bytes below the top stay unused (Boost's placement) */
    andl    $-16, %eax              /* 16-byte aligned frame base */
    leal    -0x40(%eax), %eax       /* fctx = 0 (mod 16): entry esp + 4 aligned */
    stmxcsr (%eax)                  /* fresh context inherits the SSE control/status */
    fnstcw  0x4(%eax)               /* ... and the x87 control word */
    movl    4(%esp), %ecx           /* sp */
    movl    %ecx, 0x14(%eax)        /* StackBase: the top as given */
    subl    8(%esp), %ecx           /* sp - size */
    movl    %ecx, 0x10(%eax)        /* StackLimit: lowest usable address */
    movl    %ecx, 0x0c(%eax)        /* DeallocationStack: same */
    movl    $0, 0x08(%eax)          /* FiberData: a context is no Windows fiber */
    movl    12(%esp), %ecx          /* the entry function */
    movl    %ecx, 0x24(%eax)        /* trampoline finds the entry function in ebx */
    movl    $fcontext_trampoline, 0x2c(%eax) /* first jump resumes there (base-relocated) */
    movl    $fcontext_finish, 0x28(%eax)     /* trampoline makes finish the return address */
    movl    %fs:0x0, %ecx           /* head of the thread's SEH chain */
    xorl    %edx, %edx              /* no handler if the chain is empty */
    cmpl    $-1, %ecx               /* an empty chain? */
    je      2f                      /* then there is no handler to copy */
1:  movl    (%ecx), %edx            /* walk to the record whose next is -1 */
    cmpl    $-1, %edx               /* the last record? */
    je      3f                      /* found it */
    movl    %edx, %ecx              /* on to the next record */
    jmp     1b                      /* keep walking */
3:  movl    4(%ecx), %edx           /* its handler (normally ntdll's final one) */
2:  movl    %edx, 0x3c(%eax)        /* the context's own terminal SEH record */
    movl    $-1, 0x38(%eax)         /* next = -1: end of the context's chain */
    leal    0x38(%eax), %ecx        /* the address of that record */
    movl    %ecx, 0x18(%eax)        /* ... is the context's whole SEH chain */
    ret                             /* eax = fctx */

    .p2align 4
    .def    fcontext_trampoline; .scl 3; .type 32; .endef
fcontext_trampoline:
    movl    %eax, (%esp)            /* entry argument {fctx, data} (esp = fctx + 0x30) */
    movl    %edx, 4(%esp)           /* entry argument transfer_t.data */
    pushl   %ebp                    /* finish becomes the entry function's return address */
    jmp     *%ebx                   /* enter fn(transfer_t) */
fcontext_finish:
    pushl   $0                      /* the entry function returned: exit status 0 */
    call    __exit                  /* _exit, not exit: the context owns no atexit duty */
    hlt                             /* _exit does not return */

/*
 * Saves the caller's callee-saved state as a frame below the return address
 * (layout in the table above); esp is then the caller's fctx, edx the TIB.
 */
.macro SAVE_CONTEXT
    leal    -0x2c(%esp), %esp       /* frame below the return address */
#ifndef FCONTEXT_NO_FPU_CONTROL
    stmxcsr (%esp)                  /* MXCSR control bits are callee-saved */
    fnstcw  0x4(%esp)               /* so is the x87 control word */
#endif
    movl    %fs:0x18, %edx          /* the TIB (NT_TIB.Self) */
    movl    0x00(%edx), %ecx        /* TIB ExceptionList */
    movl    %ecx, 0x18(%esp)        /* ExceptionList */
    movl    0x04(%edx), %ecx        /* TIB StackBase */
    movl    %ecx, 0x14(%esp)        /* StackBase */
    movl    0x08(%edx), %ecx        /* TIB StackLimit */
    movl    %ecx, 0x10(%esp)        /* StackLimit */
    movl    0xe0c(%edx), %ecx       /* TIB DeallocationStack */
    movl    %ecx, 0x0c(%esp)        /* DeallocationStack */
    movl    0x10(%edx), %ecx        /* TIB FiberData */
    movl    %ecx, 0x08(%esp)        /* FiberData */
    movl    %edi, 0x1c(%esp)        /* callee-saved: back when this side resumes */
    movl    %esi, 0x20(%esp)        /* callee-saved: back when this side resumes */
    movl    %ebx, 0x24(%esp)        /* callee-saved: back when this side resumes */
    movl    %ebp, 0x28(%esp)        /* callee-saved: back when this side resumes */
.endm

/* Loads the frame at esp (the target's) into the registers and the TIB
   (edx); ecx is scratch, eax is left alone. */
.macro RESTORE_CONTEXT
#ifndef FCONTEXT_NO_FPU_CONTROL
    ldmxcsr (%esp)                  /* the target's SSE control state */
    fldcw   0x4(%esp)               /* the target's x87 control word */
#endif
    movl    0x18(%esp), %ecx        /* the target's stack and SEH chain become the thread's */
    movl    %ecx, 0x00(%edx)        /* ... now describes the target */
    movl    0x14(%esp), %ecx        /* the target's StackBase */
    movl    %ecx, 0x04(%edx)        /* ... now describes the target */
    movl    0x10(%esp), %ecx        /* the target's StackLimit */
    movl    %ecx, 0x08(%edx)        /* ... now describes the target */
    movl    0x0c(%esp), %ecx        /* the target's DeallocationStack */
    movl    %ecx, 0xe0c(%edx)       /* ... now describes the target */
    movl    0x08(%esp), %ecx        /* the target's FiberData */
    movl    %ecx, 0x10(%edx)        /* ... now describes the target */
    movl    0x1c(%esp), %edi        /* the target's edi */
    movl    0x20(%esp), %esi        /* the target's esi */
    movl    0x24(%esp), %ebx        /* the target's ebx */
    movl    0x28(%esp), %ebp        /* the target's ebp */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp)
   stack at entry: return address, to, vp */
    .p2align 4
    .globl  _jump_fcontext
    .def    _jump_fcontext; .scl 2; .type 32; .endef
_jump_fcontext:
    SAVE_CONTEXT
    movl    %esp, %eax              /* our frame is the fctx handed to the target */
    movl    0x30(%esp), %esp        /* switch to the target's frame */
    RESTORE_CONTEXT
    movl    0x2c(%esp), %ecx        /* the target's resume address */
    movl    0x34(%eax), %edx        /* vp, from our own argument slot */
    leal    0x30(%esp), %esp        /* drop frame and return address */
    jmp     *%ecx                   /* eax:edx = {our fctx, vp} */

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t))
   stack at entry: return address, to, vp, fn */
    .p2align 4
    .globl  _ontop_fcontext
    .def    _ontop_fcontext; .scl 2; .type 32; .endef
_ontop_fcontext:
    SAVE_CONTEXT
    movl    %esp, %eax              /* our frame is the fctx handed to fn */
    movl    0x30(%esp), %esp        /* switch to the target's frame */
    movl    %eax, 0x30(%esp)        /* fn's argument {our fctx, vp} goes into the */
    movl    0x34(%eax), %ecx        /* target's own (now dead) argument slots */
    movl    %ecx, 0x34(%esp)        /* ... and data = vp */
    movl    0x38(%eax), %eax        /* fn, kept in a register nothing restores */
    RESTORE_CONTEXT
    leal    0x2c(%esp), %esp        /* resume address stays: fn's return address */
    jmp     *%eax                   /* fn returns eax:edx into the target's pending call */

/* Boost >= 1.87 C++ names (MinGW-w64 i686: size_t is unsigned int, `j`; COFF
   adds the leading underscore). */
    .globl  __ZN5boost7context6detail13make_fcontextEPvjPFvNS1_10transfer_tEE
    .set    __ZN5boost7context6detail13make_fcontextEPvjPFvNS1_10transfer_tEE, _make_fcontext
    .globl  __ZN5boost7context6detail13jump_fcontextEPvS2_
    .set    __ZN5boost7context6detail13jump_fcontextEPvS2_, _jump_fcontext
    .globl  __ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E
    .set    __ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E, _ontop_fcontext

/* The object registers no SEH handlers, so it is SAFESEH-compatible. */
    .def    @feat.00; .scl 3; .type 0; .endef
    .globl  @feat.00
    .set    @feat.00, 1

/* Exported when linked into a DLL (GNU ld adds the underscore). */
    .section .drectve
    .ascii  " -export:\"make_fcontext\""
    .ascii  " -export:\"jump_fcontext\""
    .ascii  " -export:\"ontop_fcontext\""
