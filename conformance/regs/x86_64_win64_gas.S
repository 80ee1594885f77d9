/*
 * Register-preservation helpers for x86_64 Windows (Microsoft x64 ABI),
 * GNU assembler syntax (MinGW-w64). Interface: the declarations at the top of conformance/harness.c.
 *
 * Nonvolatile state of the x64 ABI, in the index order the helpers report
 * (result = 1 + index of the first register that changed):
 *   1 rbx  2 rbp  3 rdi  4 rsi  5 r12  6 r13  7 r14  8 r15
 *   9 ... 18  xmm6 ... xmm15 (all 128 bits)
 *   19 MXCSR control bits (status flags masked out)
 *   20 x87 control word
 *
 * Patterns: register k (1-based, k <= 18) holds seed + (k-1) * 0x0101010101010101
 * (xmm registers in both halves); rounding fields of MXCSR and the x87
 * control word take seed & 3.
 *
 * Frame (rsp 16-aligned at the inner call): 0 home space for the callee,
 * 32 result buffer, 48 the caller's xmm6-15, 208 caller MXCSR, 212 caller
 * x87 CW, 216 scratch, 224 to, 232 vp, 240 fn or 0, 248 out, 256 seed.
 */
#define STEP 0x0101010101010101
#define LOCALS 264

    .text

/* rbx.. r15 and xmm6.. xmm15 get their patterns from the seed in r11 */
.macro LOAD_PATTERNS
    movabsq $STEP, %rax
    movq    %r11, %rbx
    leaq    (%rbx,%rax), %rbp
    leaq    (%rbp,%rax), %rdi
    leaq    (%rdi,%rax), %rsi
    leaq    (%rsi,%rax), %r12
    leaq    (%r12,%rax), %r13
    leaq    (%r13,%rax), %r14
    leaq    (%r14,%rax), %r15
    leaq    (%r15,%rax), %r10
    .irp    x, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    movq    %r10, %xmm\x            /* low half */
    punpcklqdq %xmm\x, %xmm\x       /* high half = low half */
    addq    %rax, %r10
    .endr
.endm

/* eax = 0 or 1 + index of the first register that differs from its pattern */
.macro CHECK_PATTERNS
    movq    256(%rsp), %r10
    movabsq $STEP, %r11
    movl    $1, %eax
    .irp    r, rbx, rbp, rdi, rsi, r12, r13, r14, r15
    cmpq    %r10, %\r
    jne     9f
    addq    %r11, %r10
    incl    %eax
    .endr
    .irp    x, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    movq    %r10, %xmm0
    punpcklqdq %xmm0, %xmm0         /* the expected 128 bits */
    pcmpeqb %xmm\x, %xmm0           /* all-ones bytes where equal */
    pmovmskb %xmm0, %ecx
    cmpl    $0xffff, %ecx
    jne     9f
    addq    %r11, %r10
    incl    %eax
    .endr
    movq    256(%rsp), %r10
    stmxcsr 216(%rsp)
    movl    216(%rsp), %ecx
    andl    $0xffc0, %ecx           /* drop the sticky status flags */
    movl    %r10d, %edx
    andl    $3, %edx
    shll    $13, %edx
    orl     $0x1f80, %edx           /* the MXCSR we loaded */
    cmpl    %edx, %ecx
    jne     9f
    incl    %eax
    fnstcw  216(%rsp)
    movzwl  216(%rsp), %ecx
    movl    %r10d, %edx
    andl    $3, %edx
    shll    $10, %edx
    orl     $0x037f, %edx           /* the control word we loaded */
    cmpl    %edx, %ecx
    jne     9f
    xorl    %eax, %eax              /* everything preserved */
9:
.endm

/* Both helpers; rcx = to, rdx = vp, r8 = fn or 0, r9 = out, r11 = seed */
    .p2align 4
    .def    regs_core; .scl 3; .type 32; .endef
regs_core:
    pushq   %rbx                    /* the caller's nonvolatile registers */
    pushq   %rbp
    pushq   %rdi
    pushq   %rsi
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $LOCALS, %rsp           /* now rsp = 0 (mod 16) */
    .irp    x, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    movaps  %xmm\x, 48+16*(\x-6)(%rsp)
    .endr
    stmxcsr 208(%rsp)
    fnstcw  212(%rsp)
    movq    %rcx, 224(%rsp)
    movq    %rdx, 232(%rsp)
    movq    %r8, 240(%rsp)
    movq    %r9, 248(%rsp)
    movq    %r11, 256(%rsp)
    movl    %r11d, %eax
    andl    $3, %eax
    shll    $13, %eax               /* MXCSR rounding control */
    orl     $0x1f80, %eax
    movl    %eax, 216(%rsp)
    ldmxcsr 216(%rsp)
    movl    %r11d, %eax
    andl    $3, %eax
    shll    $10, %eax               /* x87 rounding control */
    orl     $0x037f, %eax
    movw    %ax, 216(%rsp)
    fldcw   216(%rsp)
    LOAD_PATTERNS
    leaq    32(%rsp), %rcx          /* hidden result pointer */
    movq    224(%rsp), %rdx         /* to */
    movq    232(%rsp), %r8          /* vp */
    movq    240(%rsp), %r9          /* fn */
    testq   %r9, %r9
    jnz     1f
    call    jump_fcontext
    jmp     2f
1:  call    ontop_fcontext
2:  movq    248(%rsp), %rcx
    movq    32(%rsp), %rax
    movq    %rax, 0(%rcx)           /* out->ctx */
    movq    40(%rsp), %rax
    movq    %rax, 8(%rcx)           /* out->data */
    CHECK_PATTERNS
    ldmxcsr 208(%rsp)               /* the caller's state back */
    fldcw   212(%rsp)
    .irp    x, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    movaps  48+16*(\x-6)(%rsp), %xmm\x
    .endr
    addq    $LOCALS, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rsi
    popq    %rdi
    popq    %rbp
    popq    %rbx
    ret

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .p2align 4
    .globl  fc_regs_jump
    .def    fc_regs_jump; .scl 2; .type 32; .endef
fc_regs_jump:
    movq    %r9, %r11               /* seed */
    movq    %r8, %r9                /* out */
    xorl    %r8d, %r8d              /* no fn: jump */
    jmp     regs_core

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    .p2align 4
    .globl  fc_regs_ontop
    .def    fc_regs_ontop; .scl 2; .type 32; .endef
fc_regs_ontop:
    movq    40(%rsp), %r11          /* seed: fifth argument, above the home space */
    jmp     regs_core

/* uintptr_t fc_caller_sp(void) */
    .p2align 4
    .globl  fc_caller_sp
    .def    fc_caller_sp; .scl 2; .type 32; .endef
fc_caller_sp:
    leaq    8(%rsp), %rax           /* skip the return address */
    ret
