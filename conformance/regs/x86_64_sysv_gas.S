/*
 * Register-preservation helpers for x86_64 System V (ELF and Mach-O), GNU
 * assembler syntax. Interface: the declarations at the top of conformance/harness.c.
 *
 * Callee-saved state of the SysV x86_64 ABI, in the index order the helpers
 * report (result = 1 + index of the first register that changed):
 *   1 rbx   2 rbp   3 r12   4 r13   5 r14   6 r15
 *   7 MXCSR control bits (rounding mode; the status flags are not preserved
 *     by the ABI and are masked out)
 *   8 x87 control word
 * rsp is checked implicitly: the helper could not return otherwise. No
 * xmm register is callee-saved on SysV.
 *
 * Patterns: rbx = seed, each next register adds 0x0101010101010101; the
 * rounding-mode fields of MXCSR and the x87 control word take seed & 3.
 */
#if defined(__APPLE__)
#define SYM(name) _##name
#define CALLEE(name) _##name
#else
#define SYM(name) name
#define CALLEE(name) name@PLT
#endif

#define STEP 0x0101010101010101

    .text

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .globl  SYM(fc_regs_jump)
    .p2align 4
SYM(fc_regs_jump):
    movq    %rcx, %r8               /* seed into core's 5th-argument register */
    movq    %rdx, %rcx              /* out into core's 4th */
    xorl    %edx, %edx              /* no ontop function: core uses jump_fcontext */
    jmp     regs_core

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    .globl  SYM(fc_regs_ontop)
    .p2align 4
SYM(fc_regs_ontop):
    jmp     regs_core               /* arguments already in core's order */

/* core: rdi = to, rsi = vp, rdx = fn or 0, rcx = out, r8 = seed */
    .p2align 4
regs_core:
    pushq   %rbp                    /* the caller's callee-saved registers */
    pushq   %rbx                    /* must survive our pattern loads */
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $40, %rsp               /* locals; rsp is now 16-aligned for the call */
    stmxcsr 0(%rsp)                 /* the caller's FP control state, restored at exit */
    fnstcw  4(%rsp)
    movq    %rcx, 8(%rsp)           /* out survives the switch in memory */
    movq    %r8, 16(%rsp)           /* so does seed, to recompute the patterns */
    movq    %rdx, %r11              /* fn; r11 is not touched by the pattern loads */
    movabsq $STEP, %rax
    movq    %r8, %rbx               /* pattern 1 */
    leaq    (%rbx,%rax), %rbp       /* pattern 2 = pattern 1 + STEP */
    leaq    (%rbp,%rax), %r12
    leaq    (%r12,%rax), %r13
    leaq    (%r13,%rax), %r14
    leaq    (%r14,%rax), %r15       /* pattern 6 */
    movl    %r8d, %eax
    andl    $3, %eax
    shll    $13, %eax               /* MXCSR rounding control, bits 13-14 */
    orl     $0x1F80, %eax           /* all exceptions masked, as by default */
    movl    %eax, 24(%rsp)
    ldmxcsr 24(%rsp)
    movl    %r8d, %eax
    andl    $3, %eax
    shll    $10, %eax               /* x87 rounding control, bits 10-11 */
    orl     $0x037F, %eax           /* default precision and masks */
    movw    %ax, 28(%rsp)
    fldcw   28(%rsp)
    testq   %r11, %r11
    jnz     1f
    call    CALLEE(jump_fcontext)   /* rdi = to, rsi = vp still hold */
    jmp     2f
1:  movq    %r11, %rdx              /* ontop's third argument */
    call    CALLEE(ontop_fcontext)
2:  movq    8(%rsp), %rcx
    movq    %rax, 0(%rcx)           /* out->ctx */
    movq    %rdx, 8(%rcx)           /* out->data */
    movq    16(%rsp), %r8           /* expected pattern 1 */
    movabsq $STEP, %r9
    movl    $1, %eax
    cmpq    %r8, %rbx
    jne     9f
    addq    %r9, %r8
    movl    $2, %eax
    cmpq    %r8, %rbp
    jne     9f
    addq    %r9, %r8
    movl    $3, %eax
    cmpq    %r8, %r12
    jne     9f
    addq    %r9, %r8
    movl    $4, %eax
    cmpq    %r8, %r13
    jne     9f
    addq    %r9, %r8
    movl    $5, %eax
    cmpq    %r8, %r14
    jne     9f
    addq    %r9, %r8
    movl    $6, %eax
    cmpq    %r8, %r15
    jne     9f
    movq    16(%rsp), %r8
    stmxcsr 24(%rsp)
    movl    24(%rsp), %ecx
    andl    $0xFFC0, %ecx           /* drop the sticky status flags */
    movl    %r8d, %edx
    andl    $3, %edx
    shll    $13, %edx
    orl     $0x1F80, %edx           /* the MXCSR we loaded */
    movl    $7, %eax
    cmpl    %edx, %ecx
    jne     9f
    fnstcw  24(%rsp)
    movzwl  24(%rsp), %ecx
    movl    %r8d, %edx
    andl    $3, %edx
    shll    $10, %edx
    orl     $0x037F, %edx           /* the control word we loaded */
    movl    $8, %eax
    cmpl    %edx, %ecx
    jne     9f
    xorl    %eax, %eax              /* everything preserved */
9:  ldmxcsr 0(%rsp)                 /* give the caller its FP control state back */
    fldcw   4(%rsp)
    addq    $40, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret

/* uintptr_t fc_caller_sp(void): rsp of the caller before its call */
    .globl  SYM(fc_caller_sp)
    .p2align 4
SYM(fc_caller_sp):
    leaq    8(%rsp), %rax           /* skip the return address the call pushed */
    ret

#if defined(__ELF__)
    .section .note.GNU-stack, "", @progbits
#endif
