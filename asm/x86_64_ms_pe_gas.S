/*
 * fcontext for x86_64, Microsoft x64 ABI, PE/COFF, GNU assembler (MinGW-w64).
 * asm/x86_64_ms_pe_masm.asm is the same code for MASM (MSVC toolchains).
 *
 * Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
 * lowest byte; the slot offsets are Boost.Context 1.74's, so frames made here
 * and frames made by Boost resume each other (slot 0xa8, padding in Boost's
 * frame, holds the TEB ExceptionList here; see below).
 *
 *   offset | size | saved item                              | make_fcontext writes
 *   -------+------+-----------------------------------------+---------------------
 *     0x00 |  160 | xmm6 ... xmm15 (16 bytes each, aligned) | -
 *     0xa0 |    4 | MXCSR                                   | current MXCSR
 *     0xa4 |    2 | x87 control word                        | current control word
 *     0xa8 |    8 | TEB+0x00   NT_TIB.ExceptionList (below) | -1 (the empty list)
 *     0xb0 |    8 | TEB+0x20   NT_TIB.FiberData             | 0
 *     0xb8 |    8 | TEB+0x1478 DeallocationStack            | sp - size
 *     0xc0 |    8 | TEB+0x10   NT_TIB.StackLimit            | sp - size
 *     0xc8 |    8 | TEB+0x08   NT_TIB.StackBase             | sp (as passed)
 *     0xd0 |   32 | r12, r13, r14, r15                      | -
 *     0xf0 |   16 | rdi, rsi                                | -
 *    0x100 |    8 | rbx                                     | entry function
 *    0x108 |    8 | rbp                                     | 0 (ends rbp chains)
 *    0x110 |    8 | result buffer of the pending call (its  | fctx + 0x140
 *          |      | rcx: a 16-byte transfer_t is returned   |
 *          |      | through a hidden pointer)               |
 *    0x118 |    8 | resume (return) address                 | address of trampoline
 *    0x120 |   32 | the pending call's home (shadow) space  | -
 *    0x140 |   16 | fresh only: {fctx, data} for the entry  | -
 *          |      | function (passed by reference in rcx)   |
 *
 * A fresh context has fctx = (sp & ~15) - 0x150. The first jump consumes
 * the frame and enters the trampoline with rsp = fctx + 0x120 (16-aligned),
 * rbx = the entry function, rcx = &transfer_t (at fctx + 0x140). The
 * trampoline is a function of its own with unwind info: it stores 0 at
 * fctx + 0x120 and 0x128 (its "return address" and the word above), makes
 * home space and calls the entry function, which starts with
 * rsp = fctx + 0xf8 = 8 (mod 16) and returns to finish (_exit(0)). An
 * unwinder that leaves the entry function's frame thus reaches the
 * trampoline's frame, then return address 0 with a 0 above it: the end of
 * the stack for Windows' RtlDispatchException (a frame without unwind data
 * whose return address equals its pc: no progress, stop) and for wine's
 * dispatcher, instead of a walk through whatever the stack holds above. The trampoline's exception handler (fcontext_unhandled)
 * does for an exception that no frame of the context handles what the
 * thread's outermost frame does for one raised on the thread's own stack: it
 * calls UnhandledExceptionFilter, so an uncaught C++ exception ends in
 * std::terminate (MinGW: the runtime's filter continues GCC exceptions and
 * __cxa_throw calls terminate; MSVC: the CRT's filter calls terminate) and
 * other exceptions take the process's usual unhandled-exception path.
 *
 * The TEB stack fields make Windows (stack probes, guard pages, SEH) see the
 * context's own stack while it runs.
 *
 * ExceptionList (slot 0xa8, padding in Boost 1.74's frame, which never
 * touches the TEB field): x64 SEH is table-driven and Windows itself does not
 * walk this list, but wine's dispatcher (RtlDispatchException, RtlUnwindEx)
 * calls the wine-internal handlers registered there -- among them the
 * thread's top-level unhandled-exception filter, on the thread's original
 * stack -- for every frame whose rsp lies above a record's address. Left
 * pointing into another stack, the list makes wine (8.x) run that top-level
 * filter at the first frame of any exception raised on a context stack that
 * sits above the thread's stack; the MinGW runtime's filter "continues" a
 * C++ exception, and the throw ends in std::terminate. So each context keeps
 * its own list head, as SwitchToFiber does: a fresh one starts with -1
 * (EXCEPTION_CHAIN_END), and a restored head that does not lie on the
 * target's live stack [fctx, StackBase) -- e.g. the uninitialised slot of a
 * frame made or suspended by Boost's code -- is replaced by -1.
 *
 * Unwind data: each function gets a .pdata/.xdata entry; make, jump and ontop
 * have no unwind codes, as Boost's (a debugger cannot walk through a switch);
 * the trampoline describes its frame and has fcontext_unhandled as handler.
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
    movq    $-1, 0xa8(%rax)         /* ExceptionList: empty (EXCEPTION_CHAIN_END) */
    stmxcsr 0xa0(%rax)              /* fresh context inherits the SSE control/status */
    fnstcw  0xa4(%rax)              /* ... and the x87 control word */
    leaq    0x140(%rax), %rcx       /* the entry function's transfer_t buffer */
    movq    %rcx, 0x110(%rax)       /* first jump writes {fctx, data} here */
    leaq    fcontext_trampoline(%rip), %rcx /* position-independent address of the trampoline */
    movq    %rcx, 0x118(%rax)       /* first jump resumes at the trampoline */
    movq    $0, 0x108(%rax)         /* rbp: the entry function starts with rbp = 0 */
    ret                             /* rax = fctx */
    .seh_endproc

    .p2align 4
    .def    fcontext_trampoline; .scl 3; .type 32; .endef
    .seh_proc fcontext_trampoline
fcontext_trampoline:
    movq    $0, (%rsp)              /* return address 0 for unwinders: the stack ends here */
    movq    $0, 8(%rsp)             /* and 0 above it (Windows stops on no progress) */
    subq    $0x20, %rsp             /* home space for the entry function; rsp 16-aligned */
    .seh_stackalloc 0x20
    .seh_endprologue
    .seh_handler fcontext_unhandled, @except
    call    *%rbx                   /* entry(rcx = &{fctx, data}, set by the jump) */
fcontext_finish:                    /* the entry function returned */
    xorl    %ecx, %ecx              /* exit status 0 */
    call    _exit                   /* _exit, not exit: the context owns no atexit duty */
    hlt                             /* _exit does not return */
    .seh_endproc

/*
 * Exception handler of the trampoline frame, the last frame of a context:
 * EXCEPTION_DISPOSITION fcontext_unhandled(EXCEPTION_RECORD *rec (rcx),
 *     void *frame (rdx), CONTEXT *ctx (r8), DISPATCHER_CONTEXT *dc (r9)).
 * Reached only when no frame of the context handled the exception; does what
 * the outermost frame of a thread does (RtlUserThreadStart's filter).
 */
    .p2align 4
    .def    fcontext_unhandled; .scl 3; .type 32; .endef
    .seh_proc fcontext_unhandled
fcontext_unhandled:
    subq    $0x38, %rsp             /* home space + EXCEPTION_POINTERS; 16-aligned */
    .seh_stackalloc 0x38
    .seh_endprologue
    movl    $1, %eax                /* ExceptionContinueSearch */
    testl   $6, 4(%rcx)             /* ExceptionFlags: EXCEPTION_UNWINDING | EXIT_UNWIND */
    jnz     1f                      /* an unwind passing by: nothing to do */
    movq    %rcx, 0x20(%rsp)        /* EXCEPTION_POINTERS.ExceptionRecord */
    movq    %r8, 0x28(%rsp)         /* EXCEPTION_POINTERS.ContextRecord */
    leaq    0x20(%rsp), %rcx
    call    *__imp_UnhandledExceptionFilter(%rip)
    cmpl    $1, %eax                /* EXCEPTION_EXECUTE_HANDLER: end the process */
    je      2f
    addl    $1, %eax                /* CONTINUE_EXECUTION (-1) -> ExceptionContinueExecution (0), */
1:                                  /* CONTINUE_SEARCH (0) -> ExceptionContinueSearch (1) */
    addq    $0x38, %rsp
    ret
2:  movq    0x20(%rsp), %rax
    movl    (%rax), %edx            /* exit status: the exception code, as Windows does */
    movq    $-1, %rcx               /* GetCurrentProcess() */
    call    *__imp_TerminateProcess(%rip)
    hlt                             /* TerminateProcess(self) does not return */
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
    movq    0x00(%r10), %rax        /* TEB ExceptionList (wine's handler records) */
    movq    %rax, 0xa8(%rsp)        /* ExceptionList */
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
 * (r10); rax = the target's result buffer; rcx and rdx are clobbered,
 * r8, r9, r11 are left alone.
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
    movq    0xa8(%rsp), %rax        /* the target's ExceptionList ... */
    movq    %rax, %rcx
    subq    %rsp, %rcx              /* ... its distance above the target's frame */
    movq    0xc8(%rsp), %rdx
    subq    %rsp, %rdx              /* the target's live stack: [fctx, StackBase) */
    cmpq    %rdx, %rcx              /* unsigned: a record on that stack? */
    movq    $-1, %rcx               /* (mov leaves the flags alone) */
    cmovaeq %rcx, %rax              /* no: the empty list (-1 stays -1) */
    movq    %rax, 0x00(%r10)        /* ... now the thread's ExceptionList */
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
