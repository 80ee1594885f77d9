/*
 * Register-preservation helper for 32-bit arm (AAPCS, hard-float VFP), see
 * HARNESS.md.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..7   r4 .. r11
 *   8..15  d8 .. d15 (each as two 32-bit halves: low, then high)
 * FPSCR is not checked: AAPCS makes its mode bits global state.
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B9; a d
 * register takes two consecutive values.
 *
 * transfer_t comes back through a hidden result pointer (r0), so *out is
 * passed to the switch as that pointer.
 */

/* Helper frame: d8-d15 (64), seed (4), padding (8), below the 36 bytes of
   r4-r11, lr pushed: 36 + 76 = 112 keeps SP 8-aligned (AAPCS) at the call. */
#define HF_SEED 64
#define HF_SIZE 76

    .syntax unified
    .arm
    .fpu vfp
    .text

/* ip = running pattern, lr = K while patterns are live. */
.macro PATTERN_START seed
    movw    lr, #0x79b9             /* K */
    movt    lr, #0x9e37
    mul     ip, \seed, lr
.endm

.macro LOAD_R reg
    add     ip, ip, lr
    mov     \reg, ip
.endm

.macro LOAD_D reg
    add     ip, ip, lr
    vmov    s0, ip                  /* low half via s0, high half via s1 */
    add     ip, ip, lr
    vmov    s1, ip
    vmov.f64 \reg, d0
.endm

.macro LOAD_ALL seed
    PATTERN_START \seed
    LOAD_R  r4
    LOAD_R  r5
    LOAD_R  r6
    LOAD_R  r7
    LOAD_R  r8
    LOAD_R  r9
    LOAD_R  r10
    LOAD_R  r11
    LOAD_D  d8
    LOAD_D  d9
    LOAD_D  d10
    LOAD_D  d11
    LOAD_D  d12
    LOAD_D  d13
    LOAD_D  d14
    LOAD_D  d15
.endm

/* r0 = 1 + index of the first mismatch; r1 counts 1-based indices. */
.macro CHECK_R reg
    add     ip, ip, lr
    add     r1, r1, #1
    cmp     \reg, ip
    bne     9f
.endm

.macro CHECK_D reg
    add     r1, r1, #1
    vmov    r2, r3, \reg            /* r2 = low, r3 = high */
    add     ip, ip, lr
    cmp     r2, ip
    bne     9f
    add     ip, ip, lr
    cmp     r3, ip
    bne     9f
.endm

/* seed is reloaded from the word at [sp, #HF_SEED] */
.macro CHECK_ALL
    ldr     r0, [sp, #HF_SEED]
    PATTERN_START r0
    mov     r1, #0
    CHECK_R r4
    CHECK_R r5
    CHECK_R r6
    CHECK_R r7
    CHECK_R r8
    CHECK_R r9
    CHECK_R r10
    CHECK_R r11
    CHECK_D d8
    CHECK_D d9
    CHECK_D d10
    CHECK_D d11
    CHECK_D d12
    CHECK_D d13
    CHECK_D d14
    CHECK_D d15
    mov     r1, #0                  /* everything preserved */
9:
    mov     r0, r1
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_jump
    .type   fc_regs_jump, %function
    .p2align 2
fc_regs_jump:
    push    {r4-r11, lr}            /* the caller's callee-saved registers */
    sub     sp, sp, #HF_SIZE        /* d8-d15 and the seed */
    vstmia  sp, {d8-d15}
    str     r3, [sp, #HF_SEED]
    LOAD_ALL r3
    mov     ip, r0                  /* jump_fcontext(hidden = out, to, vp) */
    mov     r0, r2
    mov     r2, r1
    mov     r1, ip
    bl      jump_fcontext
    CHECK_ALL
    vldmia  sp, {d8-d15}
    add     sp, sp, #HF_SIZE
    pop     {r4-r11, pc}
    .size   fc_regs_jump, .-fc_regs_jump

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) -- seed on the stack */
    .globl  fc_regs_ontop
    .type   fc_regs_ontop, %function
    .p2align 2
fc_regs_ontop:
    push    {r4-r11, lr}
    sub     sp, sp, #HF_SIZE
    vstmia  sp, {d8-d15}
    ldr     ip, [sp, #HF_SIZE + 36] /* fifth argument, above our pushes */
    str     ip, [sp, #HF_SEED]
    LOAD_ALL ip
    push    {r3}                    /* out */
    mov     r3, r2                  /* ontop_fcontext(hidden = out, to, vp, fn) */
    mov     r2, r1
    mov     r1, r0
    pop     {r0}
    bl      ontop_fcontext
    CHECK_ALL
    vldmia  sp, {d8-d15}
    add     sp, sp, #HF_SIZE
    pop     {r4-r11, pc}
    .size   fc_regs_ontop, .-fc_regs_ontop

/* uintptr_t fc_caller_sp(void): a call pushes nothing on arm. */
    .globl  fc_caller_sp
    .type   fc_caller_sp, %function
    .p2align 2
fc_caller_sp:
    mov     r0, sp
    bx      lr
    .size   fc_caller_sp, .-fc_caller_sp

    .section .note.GNU-stack, "", %progbits
