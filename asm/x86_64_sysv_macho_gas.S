/*
 * fcontext for x86_64, System V ABI, Mach-O (macOS), GNU/clang assembler.
 *
 * Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
 * lowest byte; the layout is identical to Boost.Context 1.74 (the same as on
 * x86_64 ELF), so frames made here and frames made by Boost resume each other.
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
 * A fresh context has fctx = (sp & ~15) - 0x40; its entry function starts
 * with rsp = fctx + 0x38 = 8 (mod 16), as after an ordinary call, with finish
 * (which calls _exit(0)) as its return address. transfer_t {fctx, data} is
 * returned in rax:rdx and passed to a fresh context's entry in rdi:rsi.
 *
 * Mach-O specifics: C names carry a leading underscore; no .type/.size or
 * ELF notes. Defining FCONTEXT_NO_FPU_CONTROL drops the MXCSR / x87 control
 * word save and restore from jump and ontop (make still fills the slots).
 */

    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  _make_fcontext
    .globl  __ZN5boost7context6detail13make_fcontextEPvmPFvNS1_10transfer_tEE
    .p2align 4
_make_fcontext:
__ZN5boost7context6detail13make_fcontextEPvmPFvNS1_10transfer_tEE: /* Boost >= 1.87 name */
    .cfi_startproc
    movq    %rdi, %rax              /* work on the stack top passed in */
    andq    $-16, %rax              /* the ABI wants 16-byte alignment */
    leaq    -0x40(%rax), %rax       /* room for the frame table above */
    movq    %rdx, 0x28(%rax)        /* trampoline finds the entry function in rbx */
    stmxcsr (%rax)                  /* fresh context inherits the SSE control/status */
    fnstcw  0x4(%rax)               /* ... and the x87 control word */
    leaq    fcontext_trampoline(%rip), %rcx /* position-independent address of the trampoline */
    movq    %rcx, 0x38(%rax)        /* first jump resumes at the trampoline */
    leaq    fcontext_finish(%rip), %rcx /* ... and of finish */
    movq    %rcx, 0x30(%rax)        /* trampoline makes finish the return address */
    ret                             /* rax = fctx */
    .cfi_endproc

/* One unwind procedure with an undefined return address: backtraces stop here. */
    .p2align 4
fcontext_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    pushq   %rbp                    /* finish becomes the entry function's return address */
    jmp     *%rbx                   /* enter fn(transfer_t) with rdi:rsi set by the jump */
fcontext_finish:
    xorl    %edi, %edi              /* the entry function returned: exit status 0 */
    call    __exit                  /* _exit, not exit: the context owns no atexit duty */
    hlt                             /* _exit does not return */
    .cfi_endproc

/* Saves the caller's callee-saved state as a frame below the return address
   (layout in the table above); rsp is then the caller's fctx. */
.macro SAVE_FRAME
    leaq    -0x38(%rsp), %rsp       /* frame below the return address pushed by call */
    .cfi_adjust_cfa_offset 0x38
#ifndef FCONTEXT_NO_FPU_CONTROL
    stmxcsr (%rsp)                  /* MXCSR control bits are callee-saved */
    fnstcw  0x4(%rsp)               /* so is the x87 control word */
#endif
    movq    %r12, 0x08(%rsp)        /* callee-saved: back when this side resumes */
    movq    %r13, 0x10(%rsp)        /* callee-saved: back when this side resumes */
    movq    %r14, 0x18(%rsp)        /* callee-saved: back when this side resumes */
    movq    %r15, 0x20(%rsp)        /* callee-saved: back when this side resumes */
    movq    %rbx, 0x28(%rsp)        /* callee-saved: back when this side resumes */
    movq    %rbp, 0x30(%rsp)        /* callee-saved: back when this side resumes */
    .cfi_rel_offset r12, 0x08
    .cfi_rel_offset r13, 0x10
    .cfi_rel_offset r14, 0x18
    .cfi_rel_offset r15, 0x20
    .cfi_rel_offset rbx, 0x28
    .cfi_rel_offset rbp, 0x30
.endm

/* Loads the frame at rsp (the target's) into the registers; rax, rdx, rsi,
   rdi and r8 are left alone. */
.macro RESTORE_FRAME
#ifndef FCONTEXT_NO_FPU_CONTROL
    ldmxcsr (%rsp)                  /* the target's SSE control state */
    fldcw   0x4(%rsp)               /* the target's x87 control word */
#endif
    movq    0x08(%rsp), %r12        /* the target's r12 */
    movq    0x10(%rsp), %r13        /* the target's r13 */
    movq    0x18(%rsp), %r14        /* the target's r14 */
    movq    0x20(%rsp), %r15        /* the target's r15 */
    movq    0x28(%rsp), %rbx        /* the target's rbx */
    movq    0x30(%rsp), %rbp        /* the target's rbp */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
    .globl  _jump_fcontext
    .globl  __ZN5boost7context6detail13jump_fcontextEPvS2_
    .p2align 4
_jump_fcontext:
__ZN5boost7context6detail13jump_fcontextEPvS2_:
    .cfi_startproc
    SAVE_FRAME                      /* callee-saved state below the return address */
    movq    %rsp, %rax              /* our frame is the fctx handed to the target */
    movq    %rdi, %rsp              /* switch to the target's frame */
    movq    0x38(%rsp), %r8         /* target's resume address */
    RESTORE_FRAME                   /* the target's callee-saved state */
    leaq    0x40(%rsp), %rsp        /* drop the frame and the return address */
    movq    %rsi, %rdx              /* transfer_t.data for the pending call */
    movq    %rax, %rdi              /* a fresh context receives transfer_t in rdi:rsi */
    jmp     *%r8                    /* resume the target's pending call (or enter its trampoline) */
    .cfi_endproc

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  _ontop_fcontext
    .globl  __ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E
    .p2align 4
_ontop_fcontext:
__ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E:
    .cfi_startproc
    movq    %rdx, %r8               /* keep fn; rdx becomes transfer_t.data */
    SAVE_FRAME
    movq    %rsp, %rax              /* our frame is the fctx handed to fn */
    movq    %rdi, %rsp              /* switch to the target's frame */
    RESTORE_FRAME                   /* the target's callee-saved state */
    leaq    0x38(%rsp), %rsp        /* keep the resume address: it is fn's return address */
    movq    %rsi, %rdx              /* transfer_t.data */
    movq    %rax, %rdi              /* fn(transfer_t) gets {our fctx, vp} in rdi:rsi */
    jmp     *%r8                    /* fn returns straight into the target's pending call */
    .cfi_endproc
