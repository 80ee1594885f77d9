/*
 * fcontext for x86_64, System V ABI, ELF, GNU assembler.
 *
 * Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
 * lowest byte; the layout is identical to Boost.Context 1.74, so frames made
 * here and frames made by Boost resume each other.
 *
 *   offset | size | saved item                 | make_fcontext writes
 *   -------+------+----------------------------+---------------------
 *     0x00 |    4 | MXCSR                      | current MXCSR
 *     0x04 |    2 | x87 control word           | current control word
 *     0x08 |    8 | r12                        | -
 *     0x10 |    8 | r13                        | -
 *     0x18 |    8 | r14                        | -
 *     0x20 |    8 | r15                        | -
 *     0x28 |    8 | rbx                        | entry function
 *     0x30 |    8 | rbp                        | address of finish
 *     0x38 |    8 | resume (return) address    | address of trampoline
 *
 * A fresh context has fctx = (sp & ~15) - 0x40, so its entry function starts
 * with rsp = fctx + 0x38, i.e. rsp = 8 (mod 16) as after an ordinary call, and
 * the return address on its stack is `finish`, which calls _exit(0).
 *
 * transfer_t {fctx, data} is returned in rax:rdx and, for a fresh context,
 * passed to the entry function in rdi:rsi.
 *
 * Defining FCONTEXT_NO_FPU_CONTROL drops the MXCSR / x87 control word save and
 * restore from jump and ontop (the slots stay; make still fills them). Only
 * for programs that never change rounding modes or x87 precision inside a
 * context; see the README.
 *
 * Control-flow enforcement: every global entry starts with endbr64 and the
 * object carries the IBT property. Resume addresses are return addresses, not
 * branch targets, so the switch reaches them with `notrack jmp`. Shadow stacks
 * are not supported (a switch does not move the shadow stack pointer), so the
 * SHSTK property is deliberately absent.
 */

    .file "x86_64_sysv_elf_gas.S"
    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .p2align 4
make_fcontext:
    .cfi_startproc
    endbr64
    movq    %rdi, %rax              /* work on the stack top passed in */
    andq    $-16, %rax              /* the ABI wants 16-byte alignment */
    leaq    -0x40(%rax), %rax       /* room for the frame table above */
    movq    %rdx, 0x28(%rax)        /* trampoline finds the entry function in rbx */
    stmxcsr (%rax)                  /* fresh context inherits the SSE control/status */
    fnstcw  0x4(%rax)               /* ... and the x87 control word */
    leaq    fcontext_trampoline(%rip), %rcx
    movq    %rcx, 0x38(%rax)        /* first jump resumes at the trampoline */
    leaq    fcontext_finish(%rip), %rcx
    movq    %rcx, 0x30(%rax)        /* trampoline makes finish the return address */
    ret                             /* rax = fctx of the fresh context */
    .cfi_endproc
    .size   make_fcontext, .-make_fcontext

/*
 * Trampoline and finish form one unwind procedure whose return address is
 * undefined: a debugger walking a context's stack stops here instead of
 * reading past the top of the context stack.
 */
    .type   fcontext_trampoline, @function
    .p2align 4
fcontext_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    endbr64
    pushq   %rbp                    /* finish becomes the entry function's return address */
    jmp     *%rbx                   /* enter fn(transfer_t) with rdi:rsi set by the jump */
fcontext_finish:
    xorl    %edi, %edi              /* the entry function returned: exit status 0 */
    call    _exit@PLT               /* _exit, not exit: the context owns no atexit duty */
    hlt                             /* _exit does not return */
    .cfi_endproc
    .size   fcontext_trampoline, .-fcontext_trampoline

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .p2align 4
jump_fcontext:
    .cfi_startproc
    endbr64
    leaq    -0x38(%rsp), %rsp       /* frame below the return address pushed by call */
    .cfi_adjust_cfa_offset 0x38
#ifndef FCONTEXT_NO_FPU_CONTROL
    stmxcsr (%rsp)                  /* MXCSR is callee-saved control state */
    fnstcw  0x4(%rsp)               /* so is the x87 control word */
#endif
    movq    %r12, 0x08(%rsp)
    movq    %r13, 0x10(%rsp)
    movq    %r14, 0x18(%rsp)
    movq    %r15, 0x20(%rsp)
    movq    %rbx, 0x28(%rsp)
    movq    %rbp, 0x30(%rsp)
    .cfi_rel_offset r12, 0x08
    .cfi_rel_offset r13, 0x10
    .cfi_rel_offset r14, 0x18
    .cfi_rel_offset r15, 0x20
    .cfi_rel_offset rbx, 0x28
    .cfi_rel_offset rbp, 0x30
    movq    %rsp, %rax              /* our frame is the fctx handed to the target */
    movq    %rdi, %rsp              /* switch to the target's frame (same layout, same CFI) */
    movq    0x38(%rsp), %r8         /* target's resume address */
#ifndef FCONTEXT_NO_FPU_CONTROL
    ldmxcsr (%rsp)
    fldcw   0x4(%rsp)
#endif
    movq    0x08(%rsp), %r12
    movq    0x10(%rsp), %r13
    movq    0x18(%rsp), %r14
    movq    0x20(%rsp), %r15
    movq    0x28(%rsp), %rbx
    movq    0x30(%rsp), %rbp
    leaq    0x40(%rsp), %rsp        /* drop the frame and the return address */
    .cfi_def_cfa rsp, 0
    .cfi_register rip, r8
    .cfi_same_value r12
    .cfi_same_value r13
    .cfi_same_value r14
    .cfi_same_value r15
    .cfi_same_value rbx
    .cfi_same_value rbp
    movq    %rsi, %rdx              /* transfer_t.data for the pending call */
    movq    %rax, %rdi              /* a fresh context receives transfer_t in rdi:rsi */
    notrack jmp *%r8                /* resume address is a return site, not an IBT target */
    .cfi_endproc
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .p2align 4
ontop_fcontext:
    .cfi_startproc
    endbr64
    movq    %rdx, %r8               /* keep fn; rdx becomes transfer_t.data */
    leaq    -0x38(%rsp), %rsp
    .cfi_adjust_cfa_offset 0x38
#ifndef FCONTEXT_NO_FPU_CONTROL
    stmxcsr (%rsp)
    fnstcw  0x4(%rsp)
#endif
    movq    %r12, 0x08(%rsp)
    movq    %r13, 0x10(%rsp)
    movq    %r14, 0x18(%rsp)
    movq    %r15, 0x20(%rsp)
    movq    %rbx, 0x28(%rsp)
    movq    %rbp, 0x30(%rsp)
    .cfi_rel_offset r12, 0x08
    .cfi_rel_offset r13, 0x10
    .cfi_rel_offset r14, 0x18
    .cfi_rel_offset r15, 0x20
    .cfi_rel_offset rbx, 0x28
    .cfi_rel_offset rbp, 0x30
    movq    %rsp, %rax              /* our frame is the fctx handed to fn */
    movq    %rdi, %rsp              /* switch to the target's frame */
#ifndef FCONTEXT_NO_FPU_CONTROL
    ldmxcsr (%rsp)
    fldcw   0x4(%rsp)
#endif
    movq    0x08(%rsp), %r12
    movq    0x10(%rsp), %r13
    movq    0x18(%rsp), %r14
    movq    0x20(%rsp), %r15
    movq    0x28(%rsp), %rbx
    movq    0x30(%rsp), %rbp
    leaq    0x38(%rsp), %rsp        /* keep the resume address: it is fn's return address */
    .cfi_def_cfa rsp, 8
    .cfi_same_value r12
    .cfi_same_value r13
    .cfi_same_value r14
    .cfi_same_value r15
    .cfi_same_value rbx
    .cfi_same_value rbp
    movq    %rsi, %rdx              /* transfer_t.data */
    movq    %rax, %rdi              /* fn(transfer_t) gets {our fctx, vp} in rdi:rsi */
    jmp     *%r8                    /* fn returns straight into the target's pending call */
    .cfi_endproc
    .size   ontop_fcontext, .-ontop_fcontext

/* Boost >= 1.87 declares the three functions as C++ names in boost::context::detail. */
    .globl  _ZN5boost7context6detail13make_fcontextEPvmPFvNS1_10transfer_tEE
    .type   _ZN5boost7context6detail13make_fcontextEPvmPFvNS1_10transfer_tEE, @function
    .set    _ZN5boost7context6detail13make_fcontextEPvmPFvNS1_10transfer_tEE, make_fcontext
    .globl  _ZN5boost7context6detail13jump_fcontextEPvS2_
    .type   _ZN5boost7context6detail13jump_fcontextEPvS2_, @function
    .set    _ZN5boost7context6detail13jump_fcontextEPvS2_, jump_fcontext
    .globl  _ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E
    .type   _ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E, @function
    .set    _ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E, ontop_fcontext

/* Objects linked into an IBT-enabled program must say they are IBT-safe. */
    .section .note.gnu.property, "a"
    .p2align 3
    .long   4                       /* name size ("GNU\0") */
    .long   16                      /* descriptor size */
    .long   5                       /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz  "GNU"
    .long   0xc0000002              /* GNU_PROPERTY_X86_FEATURE_1_AND */
    .long   4                       /* data size */
    .long   1                       /* IBT only; see the header comment on SHSTK */
    .p2align 3

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
