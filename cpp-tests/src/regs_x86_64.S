/*
 * Test probes that C++ cannot express: exact register contents around a
 * switch and the stack pointer at the first instruction of an entry function.
 * x86_64 System V only.
 *
 * The six callee-saved general registers are handled in the order
 * rbx, rbp, r12, r13, r14, r15 (index 0..5 of the pattern arrays).
 */

    .text

/*
 * Prologue shared by both probes: keep the caller's callee-saved registers,
 * `seen` (rcx) and `result` (r8) on the stack, align it for the call, and
 * load the six patterns from (\load).
 */
.macro FCT_SAVE_AND_LOAD load
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    pushq   %rcx                    /* seen: needed after the switch */
    .cfi_adjust_cfa_offset 8
    pushq   %r8                     /* result: likewise */
    .cfi_adjust_cfa_offset 8
    subq    $8, %rsp                /* 8 pushes + 8 = 16-byte aligned call */
    .cfi_adjust_cfa_offset 8
    movq    0x00(\load), %rbx
    movq    0x08(\load), %rbp
    movq    0x10(\load), %r12
    movq    0x18(\load), %r13
    movq    0x20(\load), %r14
    movq    0x28(\load), %r15
.endm

/*
 * void fct_regs_jump(fcontext_t to, void *vp, const uint64_t load[6],
 *                    uint64_t seen[6], fcontext_transfer_t *result)
 * Loads load[] into the callee-saved registers, calls jump_fcontext(to, vp),
 * and when something switches back stores the registers into seen[] and the
 * transfer into *result. The caller's own registers are kept on the stack.
 */
    .globl  fct_regs_jump
    .hidden fct_regs_jump
    .type   fct_regs_jump, @function
fct_regs_jump:
    .cfi_startproc
    FCT_SAVE_AND_LOAD %rdx
    call    jump_fcontext@PLT
    jmp     fct_regs_store
    .cfi_endproc
    .size   fct_regs_jump, .-fct_regs_jump

/*
 * void fct_regs_ontop(fcontext_t to, void *vp, const uint64_t load[6],
 *                     uint64_t seen[6], fcontext_transfer_t *result,
 *                     fcontext_transfer_t (*fn)(fcontext_transfer_t))
 * Same as fct_regs_jump with ontop_fcontext(to, vp, fn).
 */
    .globl  fct_regs_ontop
    .hidden fct_regs_ontop
    .type   fct_regs_ontop, @function
fct_regs_ontop:
    .cfi_startproc
    movq    %rdx, %rax              /* rdx becomes ontop's third argument */
    movq    %r9, %rdx
    FCT_SAVE_AND_LOAD %rax
    call    ontop_fcontext@PLT
    jmp     fct_regs_store
    .cfi_endproc
    .size   fct_regs_ontop, .-fct_regs_ontop

/* Shared tail: the stack holds pad, result, seen, r15..rbx of the caller. */
    .type   fct_regs_store, @function
fct_regs_store:
    .cfi_startproc
    .cfi_def_cfa_offset 0x50
    .cfi_offset rbx, -0x10
    .cfi_offset rbp, -0x18
    .cfi_offset r12, -0x20
    .cfi_offset r13, -0x28
    .cfi_offset r14, -0x30
    .cfi_offset r15, -0x38
    movq    0x10(%rsp), %rcx
    movq    %rbx, 0x00(%rcx)
    movq    %rbp, 0x08(%rcx)
    movq    %r12, 0x10(%rcx)
    movq    %r13, 0x18(%rcx)
    movq    %r14, 0x20(%rcx)
    movq    %r15, 0x28(%rcx)
    movq    0x08(%rsp), %r8
    movq    %rax, 0x00(%r8)         /* transfer_t.fctx */
    movq    %rdx, 0x08(%r8)         /* transfer_t.data */
    addq    $0x18, %rsp             /* pad, result, seen */
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbp
    popq    %rbx
    ret
    .cfi_endproc
    .size   fct_regs_store, .-fct_regs_store

/*
 * Entry function for make_fcontext that records rsp at its first
 * instruction in fct_probe_entry_rsp, then continues in the C function
 * fct_probe_entry_continue with the stack exactly as it found it (a tail
 * jump, so the C function sees the entry alignment as if it had been called
 * directly) and rdi:rsi (the transfer_t) untouched.
 */
    .globl  fct_probe_entry
    .hidden fct_probe_entry
    .type   fct_probe_entry, @function
fct_probe_entry:
    .cfi_startproc
    movq    %rsp, fct_probe_entry_rsp(%rip)
    jmp     fct_probe_entry_continue@PLT
    .cfi_endproc
    .size   fct_probe_entry, .-fct_probe_entry

    .bss
    .p2align 3
    .globl  fct_probe_entry_rsp
    .hidden fct_probe_entry_rsp
fct_probe_entry_rsp:
    .quad   0

    .section .note.GNU-stack, "", @progbits
