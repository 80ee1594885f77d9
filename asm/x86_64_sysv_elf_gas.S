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
 * ELF object carries the IBT property. Resume addresses are return addresses,
 * not branch targets, so the switch reaches them with `notrack jmp`. Shadow
 * stacks are not supported (a switch does not move the shadow stack pointer),
 * so the SHSTK property is deliberately absent.
 *
 * Mach-O: x86_64_sysv_macho_gas.S includes this file. With __APPLE__ (or
 * FC_MACHO, which the matrix uses to run the Mach-O text on Linux) defined it
 * emits Mach-O names (`_make_fcontext`, `__exit`, the Boost >= 1.87 aliases
 * with the doubled underscore) and no ELF notes or .type/.size directives;
 * the instructions are the same.
 */

#if defined(__APPLE__) || defined(FC_MACHO)
#  define FC_MACHO_NAMES 1
#  define FC_SYM(name) _##name
#  define FC_FUNC(name) .globl FC_SYM(name); .p2align 4; FC_SYM(name):
#  define FC_LOCAL_FUNC(name) .p2align 4; name:
#  define FC_END(name)
#else
#  define FC_SYM(name) name
#  define FC_FUNC(name) .globl name; .type name, @function; .p2align 4; name:
#  define FC_LOCAL_FUNC(name) .type name, @function; .p2align 4; name:
#  define FC_END(name) .size name, .-name
    .file "x86_64_sysv_elf_gas.S"
#endif

    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
FC_FUNC(make_fcontext)
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
FC_END(make_fcontext)

/*
 * Trampoline and finish form one unwind procedure whose return address is
 * undefined: a debugger walking a context's stack stops here instead of
 * reading past the top of the context stack.
 */
FC_LOCAL_FUNC(fcontext_trampoline)
    .cfi_startproc
    .cfi_undefined rip
    endbr64
    pushq   %rbp                    /* finish becomes the entry function's return address */
    jmp     *%rbx                   /* enter fn(transfer_t) with rdi:rsi set by the jump */
fcontext_finish:
    xorl    %edi, %edi              /* the entry function returned: exit status 0 */
#if defined(FC_MACHO_NAMES)
    call    __exit                  /* _exit, not exit: the context owns no atexit duty */
#else
    call    _exit@PLT               /* _exit, not exit: the context owns no atexit duty */
#endif
    hlt                             /* _exit does not return */
    .cfi_endproc
FC_END(fcontext_trampoline)

/*
 * Pushes rbp, rbx, r15..r12 (frame offsets 0x30 down to 0x08) and reserves
 * the 8-byte control slot at 0x00; rsp is then the caller's fctx.
 */
    .macro PUSH_SAVED reg
    pushq   %\reg
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset \reg, 0
    .endm
    .macro SAVE_FRAME
    PUSH_SAVED rbp
    PUSH_SAVED rbx
    PUSH_SAVED r15
    PUSH_SAVED r14
    PUSH_SAVED r13
    PUSH_SAVED r12
    leaq    -0x8(%rsp), %rsp
    .cfi_adjust_cfa_offset 8
#ifndef FCONTEXT_NO_FPU_CONTROL
    stmxcsr (%rsp)                  /* MXCSR is callee-saved control state */
    fnstcw  0x4(%rsp)               /* so is the x87 control word */
#endif
    .endm

/* Loads the target frame at rdi into the registers; rsp is left alone. */
    .macro RESTORE_FRAME
#ifndef FCONTEXT_NO_FPU_CONTROL
    ldmxcsr (%rdi)
    fldcw   0x4(%rdi)
#endif
    movq    0x08(%rdi), %r12
    movq    0x10(%rdi), %r13
    movq    0x18(%rdi), %r14
    movq    0x20(%rdi), %r15
    movq    0x28(%rdi), %rbx
    movq    0x30(%rdi), %rbp
    .endm

/* After the switch the callee-saved registers hold the resumed side's values. */
    .macro SAME_VALUES
    .cfi_same_value r12
    .cfi_same_value r13
    .cfi_same_value r14
    .cfi_same_value r15
    .cfi_same_value rbx
    .cfi_same_value rbp
    .endm

/*
 * jump and ontop build the frame with pushes and restore the target's frame
 * through the `to` register, moving rsp onto the target only with the last
 * instruction before the branch. Measured on x86_64 (bench/c/fcbench.c) this
 * is ~6% faster than the equivalent lea + mov-to-(%rsp) sequence with the
 * same instruction count: it pays for the endbr64 that Boost's code lacks.
 * Until rsp moves, our own frame is the one the CFI below describes, so an
 * unwinder (or a signal) mid-switch still sees a consistent caller.
 */

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
FC_FUNC(jump_fcontext)
    .cfi_startproc
    endbr64
    SAVE_FRAME                      /* callee-saved state below the return address */
    movq    %rsp, %rax              /* our frame is the fctx handed to the target */
    movq    0x38(%rdi), %r8         /* target's resume address */
    movq    %rsi, %rdx              /* transfer_t.data for the pending call */
    RESTORE_FRAME                   /* target's state, read through rdi */
    leaq    0x40(%rdi), %rsp        /* switch: drop the target's frame and return address */
    .cfi_def_cfa rsp, 0
    .cfi_register rip, r8
    SAME_VALUES
    movq    %rax, %rdi              /* a fresh context receives transfer_t in rdi:rsi */
    notrack jmp *%r8                /* resume address is a return site, not an IBT target */
    .cfi_endproc
FC_END(jump_fcontext)

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
FC_FUNC(ontop_fcontext)
    .cfi_startproc
    endbr64
    SAVE_FRAME
    movq    %rsp, %rax              /* our frame is the fctx handed to fn */
    movq    %rdx, %r8               /* keep fn; rdx becomes transfer_t.data */
    movq    %rsi, %rdx
    RESTORE_FRAME
    leaq    0x38(%rdi), %rsp        /* switch, keeping the resume address: fn's return address */
    .cfi_def_cfa rsp, 8
    SAME_VALUES
    movq    %rax, %rdi              /* fn(transfer_t) gets {our fctx, vp} in rdi:rsi */
    jmp     *%r8                    /* fn returns straight into the target's pending call */
    .cfi_endproc
FC_END(ontop_fcontext)

#if defined(FC_MACHO_NAMES)
#include "common/macho_boost187_aliases.inc"
#else
#define FC_SIZE_T_CODE m
#include "common/elf_boost187_aliases.inc"

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
#endif
