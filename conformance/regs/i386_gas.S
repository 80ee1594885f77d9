/*
 * Register-preservation helpers for i386 (System V ELF, Mach-O and 32-bit
 * Windows), GNU assembler syntax. Interface: the declarations at the top of conformance/harness.c.
 *
 * Callee-saved state of the i386 ABIs, in the index order the helpers report
 * (result = 1 + index of the first register that changed):
 *   1 ebx   2 esi   3 edi   4 ebp
 *   5 MXCSR control bits (status flags masked out)
 *   6 x87 control word
 * esp is checked implicitly (the helper could not return otherwise).
 *
 * Patterns: ebx = seed, each next register adds 0x01010101; the rounding
 * fields of MXCSR and the x87 control word take seed & 3.
 *
 * transfer_t comes back in memory through a hidden pointer the callee pops on
 * ELF (System V psABI), and in eax:edx on Mach-O and Windows.
 */
#if defined(__APPLE__) || defined(_WIN32)
#define SYM(name) _##name
#else
#define SYM(name) name
#endif
#if defined(__ELF__) && !defined(FC_REG_STRUCT_RETURN) /* the latter: Darwin convention on ELF */
#define HIDDEN_RESULT 1
#else
#define HIDDEN_RESULT 0
#endif

#define STEP 0x01010101
#define LOCALS 44      /* keeps esp 16-aligned at the inner call */
#define ARGS (LOCALS + 16 + 4)  /* first argument: locals, 4 pushes, return address */

    .text

/* Body of both helpers; `ontop` = 1 passes fn as the third argument. */
.macro REGS_BODY ontop
    pushl   %ebp                    /* the caller's callee-saved registers */
    pushl   %ebx
    pushl   %esi
    pushl   %edi
    subl    $LOCALS, %esp           /* 0-15 outgoing args, 16 caller MXCSR, 20 caller CW,
                                       24 scratch, 28/32 result buffer */
    stmxcsr 16(%esp)                /* restored at exit */
    fnstcw  20(%esp)
#if HIDDEN_RESULT
    leal    28(%esp), %eax
    movl    %eax, 0(%esp)           /* hidden result pointer */
    movl    ARGS(%esp), %eax
    movl    %eax, 4(%esp)           /* to */
    movl    ARGS+4(%esp), %eax
    movl    %eax, 8(%esp)           /* vp */
    .if \ontop
    movl    ARGS+8(%esp), %eax
    movl    %eax, 12(%esp)          /* fn */
    .endif
#else
    movl    ARGS(%esp), %eax
    movl    %eax, 0(%esp)           /* to */
    movl    ARGS+4(%esp), %eax
    movl    %eax, 4(%esp)           /* vp */
    .if \ontop
    movl    ARGS+8(%esp), %eax
    movl    %eax, 8(%esp)           /* fn */
    .endif
#endif
    movl    ARGS+12+4*\ontop(%esp), %ecx /* seed */
    movl    %ecx, %eax
    andl    $3, %eax
    shll    $13, %eax               /* MXCSR rounding control */
    orl     $0x1F80, %eax           /* exceptions masked, as by default */
    movl    %eax, 24(%esp)
    ldmxcsr 24(%esp)
    movl    %ecx, %eax
    andl    $3, %eax
    shll    $10, %eax               /* x87 rounding control */
    orl     $0x037F, %eax
    movw    %ax, 24(%esp)
    fldcw   24(%esp)
    movl    %ecx, %ebx              /* pattern 1 */
    leal    STEP(%ebx), %esi        /* each next pattern adds STEP */
    leal    STEP(%esi), %edi
    leal    STEP(%edi), %ebp
    .if \ontop
    call    SYM(ontop_fcontext)
    .else
    call    SYM(jump_fcontext)
    .endif
#if HIDDEN_RESULT
    subl    $4, %esp                /* the callee popped the hidden pointer */
#else
    movl    %eax, 28(%esp)          /* result came in eax:edx */
    movl    %edx, 32(%esp)
#endif
    movl    ARGS+8+4*\ontop(%esp), %ecx /* out */
    movl    28(%esp), %eax
    movl    %eax, 0(%ecx)
    movl    32(%esp), %eax
    movl    %eax, 4(%ecx)
    movl    ARGS+12+4*\ontop(%esp), %ecx /* seed again: expected pattern 1 */
    movl    $1, %eax
    cmpl    %ecx, %ebx
    jne     9f
    addl    $STEP, %ecx
    movl    $2, %eax
    cmpl    %ecx, %esi
    jne     9f
    addl    $STEP, %ecx
    movl    $3, %eax
    cmpl    %ecx, %edi
    jne     9f
    addl    $STEP, %ecx
    movl    $4, %eax
    cmpl    %ecx, %ebp
    jne     9f
    movl    ARGS+12+4*\ontop(%esp), %ecx
    stmxcsr 24(%esp)
    movl    24(%esp), %edx
    andl    $0xFFC0, %edx           /* drop the sticky status flags */
    movl    %ecx, %eax
    andl    $3, %eax
    shll    $13, %eax
    orl     $0x1F80, %eax           /* the MXCSR we loaded */
    cmpl    %eax, %edx
    movl    $5, %eax
    jne     9f
    fnstcw  24(%esp)
    movzwl  24(%esp), %edx
    movl    %ecx, %eax
    andl    $3, %eax
    shll    $10, %eax
    orl     $0x037F, %eax           /* the control word we loaded */
    cmpl    %eax, %edx
    movl    $6, %eax
    jne     9f
    xorl    %eax, %eax              /* everything preserved */
9:  ldmxcsr 16(%esp)                /* the caller's FP control state back */
    fldcw   20(%esp)
    addl    $LOCALS, %esp
    popl    %edi
    popl    %esi
    popl    %ebx
    popl    %ebp
    ret
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .globl  SYM(fc_regs_jump)
    .p2align 4
SYM(fc_regs_jump):
    REGS_BODY 0

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    .globl  SYM(fc_regs_ontop)
    .p2align 4
SYM(fc_regs_ontop):
    REGS_BODY 1

/* uintptr_t fc_caller_sp(void): esp of the caller before its call */
    .globl  SYM(fc_caller_sp)
    .p2align 4
SYM(fc_caller_sp):
    leal    4(%esp), %eax           /* skip the return address */
    ret

#if defined(__ELF__)
    .section .note.GNU-stack, "", @progbits
#endif
