/*
 * fcontext for x86_64, Microsoft x64 ABI, PE/COFF, GNU assembler (MinGW-w64).
 * asm/x86_64_ms_pe_masm.asm is the same code for MASM (MSVC toolchains).
 *
 * Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
 * lowest byte; the layout is identical to Boost.Context 1.74, so frames made
 * here and frames made by Boost resume each other.
 *
 *   offset | size | saved item                              | make_fcontext writes
 *   -------+------+-----------------------------------------+---------------------
 *     0x00 |  160 | xmm6 ... xmm15 (16 bytes each, aligned) | -
 *     0xa0 |    4 | MXCSR                                   | current MXCSR
 *     0xa4 |    2 | x87 control word                        | current control word
 *     0xa8 |    8 | padding                                 | -
 *     0xb0 |    8 | TEB+0x20   NT_TIB.FiberData             | 0
 *     0xb8 |    8 | TEB+0x1478 DeallocationStack            | sp - size
 *     0xc0 |    8 | TEB+0x10   NT_TIB.StackLimit            | sp - size
 *     0xc8 |    8 | TEB+0x08   NT_TIB.StackBase             | sp (as passed)
 *     0xd0 |   32 | r12, r13, r14, r15                      | -
 *     0xf0 |   16 | rdi, rsi                                | -
 *    0x100 |    8 | rbx                                     | entry function
 *    0x108 |    8 | rbp                                     | address of finish
 *    0x110 |    8 | result buffer of the pending call (its  | fctx + 0x140
 *          |      | rcx: a 16-byte transfer_t is returned   |
 *          |      | through a hidden pointer)               |
 *    0x118 |    8 | resume (return) address                 | address of trampoline
 *    0x120 |   32 | the pending call's home (shadow) space  | -
 *    0x140 |   16 | fresh only: {fctx, data} for the entry  | -
 *          |      | function (passed by reference in rcx)   |
 *
 * A fresh context has fctx = (sp & ~15) - 0x150; its entry function starts
 * with rsp = fctx + 0x118 = 8 (mod 16), as after an ordinary call, with the
 * home space above its return address (finish) and rcx pointing at its
 * transfer_t. The TEB stack fields make Windows (stack probes, guard pages,
 * SEH) see the context's own stack while it runs.
 *
 * Unwind data: each function gets a .pdata/.xdata entry without unwind codes,
 * as Boost's; a debugger cannot walk through a switch.
 *
 * Defining FCONTEXT_NO_FPU_CONTROL drops the MXCSR / x87 control word save and
 * restore from jump and ontop (make still fills the slots).
 */

    .file   "x86_64_ms_pe_gas.S"
    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t))
   rcx = sp, rdx = size, r8 = fn */
    .p2align 4
    .globl  make_fcontext
    .def    make_fcontext; .scl 2; .type 32; .endef
    .seh_proc make_fcontext
make_fcontext:
    .seh_endprologue
    movq    %rcx, %rax              /* work on the stack top passed in */
    andq    $-16, %rax              /* movaps in jump needs a 16-aligned frame */
    leaq    -0x150(%rax), %rax      /* frame, home space and the entry's transfer_t */
    movq    %r8, 0x100(%rax)        /* trampoline finds the entry function in rbx */
    movq    %rcx, 0xc8(%rax)        /* StackBase: the top as given */
    subq    %rdx, %rcx              /* sp - size: the lowest address of the stack */
    movq    %rcx, 0xc0(%rax)        /* StackLimit: lowest usable address */
    movq    %rcx, 0xb8(%rax)        /* DeallocationStack: same */
    movq    $0, 0xb0(%rax)          /* FiberData: a context is no Windows fiber */
    stmxcsr 0xa0(%rax)              /* fresh context inherits the SSE control/status */
    fnstcw  0xa4(%rax)              /* ... and the x87 control word */
    leaq    0x140(%rax), %rcx       /* the entry function's transfer_t buffer */
    movq    %rcx, 0x110(%rax)       /* first jump writes {fctx, data} here */
    leaq    fcontext_trampoline(%rip), %rcx /* position-independent address of the trampoline */
    movq    %rcx, 0x118(%rax)       /* first jump resumes at the trampoline */
    leaq    fcontext_finish(%rip), %rcx /* ... and of finish */
    movq    %rcx, 0x108(%rax)       /* trampoline makes finish the return address */
    ret                             /* rax = fctx */
    .seh_endproc

    .p2align 4
    .def    fcontext_trampoline; .scl 3; .type 32; .endef
    .seh_proc fcontext_trampoline
fcontext_trampoline:
    .seh_endprologue
    pushq   %rbp                    /* finish becomes the entry function's return address */
    jmp     *%rbx                   /* rcx = &{fctx, data} was set by the jump */
fcontext_finish:
    andq    $-16, %rsp              /* x64 ABI alignment for the call */
    subq    $32, %rsp               /* home space for _exit */
    xorl    %ecx, %ecx              /* the entry function returned: exit status 0 */
    call    _exit                   /* _exit, not exit: the context owns no atexit duty */
    hlt                             /* _exit does not return */
    .seh_endproc

/*
 * Saves the caller's nonvolatile state as a frame below the return address
 * (layout in the table above); rsp is then the caller's fctx and r10 the TEB.
 */
.macro SAVE_CONTEXT
    leaq    -0x118(%rsp), %rsp      /* frame below the return address; 16-aligned */
    movaps  %xmm6, 0x00(%rsp)       /* xmm6-xmm15 are callee-saved on Win64 */
    movaps  %xmm7, 0x10(%rsp)       /* nonvolatile on Win64 */
    movaps  %xmm8, 0x20(%rsp)       /* nonvolatile on Win64 */
    movaps  %xmm9, 0x30(%rsp)       /* nonvolatile on Win64 */
    movaps  %xmm10, 0x40(%rsp)      /* nonvolatile on Win64 */
    movaps  %xmm11, 0x50(%rsp)      /* nonvolatile on Win64 */
    movaps  %xmm12, 0x60(%rsp)      /* nonvolatile on Win64 */
    movaps  %xmm13, 0x70(%rsp)      /* nonvolatile on Win64 */
    movaps  %xmm14, 0x80(%rsp)      /* nonvolatile on Win64 */
    movaps  %xmm15, 0x90(%rsp)      /* nonvolatile on Win64 */
#ifndef FCONTEXT_NO_FPU_CONTROL
    stmxcsr 0xa0(%rsp)              /* MXCSR control bits are nonvolatile */
    fnstcw  0xa4(%rsp)              /* so is the x87 control word */
#endif
    movq    %gs:0x30, %r10          /* the TEB (NT_TIB.Self) */
    movq    0x20(%r10), %rax        /* TEB FiberData */
    movq    %rax, 0xb0(%rsp)        /* FiberData */
    movq    0x1478(%r10), %rax      /* TEB DeallocationStack */
    movq    %rax, 0xb8(%rsp)        /* DeallocationStack */
    movq    0x10(%r10), %rax        /* TEB StackLimit */
    movq    %rax, 0xc0(%rsp)        /* StackLimit */
    movq    0x08(%r10), %rax        /* TEB StackBase */
    movq    %rax, 0xc8(%rsp)        /* StackBase */
    movq    %r12, 0xd0(%rsp)        /* callee-saved: back when this side resumes */
    movq    %r13, 0xd8(%rsp)        /* callee-saved: back when this side resumes */
    movq    %r14, 0xe0(%rsp)        /* callee-saved: back when this side resumes */
    movq    %r15, 0xe8(%rsp)        /* callee-saved: back when this side resumes */
    movq    %rdi, 0xf0(%rsp)        /* callee-saved: back when this side resumes */
    movq    %rsi, 0xf8(%rsp)        /* callee-saved: back when this side resumes */
    movq    %rbx, 0x100(%rsp)       /* callee-saved: back when this side resumes */
    movq    %rbp, 0x108(%rsp)       /* callee-saved: back when this side resumes */
    movq    %rcx, 0x110(%rsp)       /* where our own pending call's result goes */
.endm

/*
 * Loads the frame at rsp (the target's) into the registers and the TEB
 * (r10); rax = the target's result buffer; rcx, rdx, r8, r9, r11 are left alone.
 */
.macro RESTORE_CONTEXT
    movaps  0x00(%rsp), %xmm6       /* the target's xmm6 */
    movaps  0x10(%rsp), %xmm7       /* the target's xmm7 */
    movaps  0x20(%rsp), %xmm8       /* the target's xmm8 */
    movaps  0x30(%rsp), %xmm9       /* the target's xmm9 */
    movaps  0x40(%rsp), %xmm10      /* the target's xmm10 */
    movaps  0x50(%rsp), %xmm11      /* the target's xmm11 */
    movaps  0x60(%rsp), %xmm12      /* the target's xmm12 */
    movaps  0x70(%rsp), %xmm13      /* the target's xmm13 */
    movaps  0x80(%rsp), %xmm14      /* the target's xmm14 */
    movaps  0x90(%rsp), %xmm15      /* the target's xmm15 */
#ifndef FCONTEXT_NO_FPU_CONTROL
    ldmxcsr 0xa0(%rsp)              /* the target's SSE control state */
    fldcw   0xa4(%rsp)              /* the target's x87 control word */
#endif
    movq    0xb0(%rsp), %rax        /* the target's stack becomes the thread's stack */
    movq    %rax, 0x20(%r10)        /* ... now describes the target stack */
    movq    0xb8(%rsp), %rax        /* the target's DeallocationStack */
    movq    %rax, 0x1478(%r10)      /* ... now describes the target stack */
    movq    0xc0(%rsp), %rax        /* the target's StackLimit */
    movq    %rax, 0x10(%r10)        /* ... now describes the target stack */
    movq    0xc8(%rsp), %rax        /* the target's StackBase */
    movq    %rax, 0x08(%r10)        /* ... now describes the target stack */
    movq    0xd0(%rsp), %r12        /* the target's r12 */
    movq    0xd8(%rsp), %r13        /* the target's r13 */
    movq    0xe0(%rsp), %r14        /* the target's r14 */
    movq    0xe8(%rsp), %r15        /* the target's r15 */
    movq    0xf0(%rsp), %rdi        /* the target's rdi */
    movq    0xf8(%rsp), %rsi        /* the target's rsi */
    movq    0x100(%rsp), %rbx       /* the target's rbx */
    movq    0x108(%rsp), %rbp       /* the target's rbp */
    movq    0x110(%rsp), %rax       /* the target's result buffer */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp)
   rcx = result buffer, rdx = to, r8 = vp */
    .p2align 4
    .globl  jump_fcontext
    .def    jump_fcontext; .scl 2; .type 32; .endef
    .seh_proc jump_fcontext
jump_fcontext:
    .seh_endprologue
    SAVE_CONTEXT
    movq    %rsp, %r9               /* our frame is the fctx handed to the target */
    movq    %rdx, %rsp              /* switch to the target's frame */
    RESTORE_CONTEXT
    movq    0x118(%rsp), %r10       /* the target's resume address */
    leaq    0x120(%rsp), %rsp       /* drop frame and return address */
    movq    %r9, 0x0(%rax)          /* its pending call returns {our fctx, vp} */
    movq    %r8, 0x8(%rax)          /* ... and data = vp */
    movq    %rax, %rcx              /* a fresh context gets the pair by reference in rcx */
    jmp     *%r10                   /* rax = the buffer, as the x64 ABI wants */
    .seh_endproc

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t))
   rcx = result buffer, rdx = to, r8 = vp, r9 = fn */
    .p2align 4
    .globl  ontop_fcontext
    .def    ontop_fcontext; .scl 2; .type 32; .endef
    .seh_proc ontop_fcontext
ontop_fcontext:
    .seh_endprologue
    SAVE_CONTEXT
    movq    %rsp, %r11              /* our frame is the fctx handed to fn */
    movq    %rdx, %rsp              /* switch to the target's frame */
    RESTORE_CONTEXT
    leaq    0x118(%rsp), %rsp       /* resume address stays: fn's return address */
    movq    %r11, 0x0(%rax)         /* fn's argument {our fctx, vp}, in the same buffer */
    movq    %r8, 0x8(%rax)          /* ... and data = vp */
    movq    %rax, %rcx              /* fn's hidden result pointer ... */
    movq    %rax, %rdx              /* ... and its by-reference argument alias */
    jmp     *%r9                    /* fn returns straight into the target's pending call */
    .seh_endproc

/* Boost >= 1.87 C++ names (MinGW-w64: size_t is unsigned long long, `y`). */
    .globl  _ZN5boost7context6detail13make_fcontextEPvyPFvNS1_10transfer_tEE
    .set    _ZN5boost7context6detail13make_fcontextEPvyPFvNS1_10transfer_tEE, make_fcontext
    .globl  _ZN5boost7context6detail13jump_fcontextEPvS2_
    .set    _ZN5boost7context6detail13jump_fcontextEPvS2_, jump_fcontext
    .globl  _ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E
    .set    _ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E, ontop_fcontext

/* Exported when linked into a DLL, as Boost's GAS file does. */
    .section .drectve
    .ascii  " -export:\"make_fcontext\""
    .ascii  " -export:\"jump_fcontext\""
    .ascii  " -export:\"ontop_fcontext\""
