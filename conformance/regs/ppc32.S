/*
 * Register-preservation helper for 32-bit PowerPC, System V ABI as on Linux
 * (asm/ppc32_sysv_elf_gas.S); the interface is described in harness.c.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..17   r14 .. r31
 *   18..35  f14 .. f31 (all 64 bits)
 *   36      CR fields 2-4
 *   37      FPSCR rounding mode (RN, from the seed's low two bits)
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B9 (32 bits);
 * an FPR takes two consecutive values (high word first).
 *
 * jump/ontop return transfer_t through a hidden pointer (r3): the helper
 * passes the caller's `out` as that pointer.
 */

    .text

/* Helper frame (stwu): back chain at 0, callee's LR save word at 4, then ours. */
#define HF_SIZE  272
#define HF_OUT   8
#define HF_SEED  12
#define HF_GPR   16      /* r14-r31, 72 bytes */
#define HF_FPR   88      /* f14-f31, 144 bytes (8-aligned) */
#define HF_CR    232
#define HF_FPSCR 240     /* 8 bytes */
#define HF_TMP   248     /* 8-byte scratch */

/* r11 = running pattern, r12 = K */
.macro PATTERN_START seed
    lis     12, 0x9E37              /* K, 16 bits at a time */
    ori     12, 12, 0x79B9
    mullw   11, \seed, 12
.endm

.macro NEXT
    add     11, 11, 12
.endm

/* Loads the pattern; clobbers r0, r9-r12 only (r3-r8 survive). */
.macro LOAD_ALL seed
    PATTERN_START \seed
    .irp r, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    NEXT
    mr      \r, 11
    .endr
    .irp f, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    NEXT
    stw     11, HF_TMP(1)           /* GPR pair -> FPR through memory */
    NEXT
    stw     11, HF_TMP+4(1)
    lfd     \f, HF_TMP(1)
    .endr
    NEXT
    mtcrf   0x38, 11                /* cr2, cr3, cr4 from the pattern */
    lwz     9, HF_SEED(1)
    andi.   0, 9, 3
    li      10, 0
    stw     10, HF_TMP(1)
    stw     0, HF_TMP+4(1)          /* big-endian: low word holds fields 6-7 */
    lfd     0, HF_TMP(1)
    mtfsf   0x01, 0                 /* field 7: XE = NI = 0, RN = seed & 3 */
.endm

/* r10 counts 1-based indices; r3 = r10 at the first mismatch, else 0 */
.macro CHECK_ALL
    lwz     9, HF_SEED(1)
    PATTERN_START 9
    li      10, 0
    .irp r, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    NEXT
    addi    10, 10, 1
    cmpw    \r, 11
    bne     9f
    .endr
    .irp f, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    addi    10, 10, 1
    stfd    \f, HF_TMP(1)
    NEXT
    lwz     0, HF_TMP(1)
    cmpw    0, 11
    bne     9f
    NEXT
    lwz     0, HF_TMP+4(1)
    cmpw    0, 11
    bne     9f
    .endr
    NEXT
    addi    10, 10, 1
    mfcr    0
    xor     0, 0, 11
    andis.  0, 0, 0x00FF            /* cr2, cr3 and ... */
    bne     9f
    mfcr    0
    xor     0, 0, 11
    andi.   0, 0, 0xF000            /* ... cr4 */
    bne     9f
    addi    10, 10, 1
    mffs    0
    stfd    0, HF_TMP(1)
    lwz     0, HF_TMP+4(1)
    lwz     9, HF_SEED(1)
    xor     0, 0, 9
    andi.   0, 0, 3                 /* RN */
    bne     9f
    li      10, 0                   /* all preserved */
9:
    mr      3, 10
.endm

.macro PROLOGUE
    mflr    0
    stwu    1, -HF_SIZE(1)
    stw     0, HF_SIZE+4(1)         /* LR save word of the caller's frame */
    .irp r, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    stw     \r, HF_GPR+(\r-14)*4(1)
    .endr
    .irp f, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    stfd    \f, HF_FPR+(\f-14)*8(1)
    .endr
    mfcr    0
    stw     0, HF_CR(1)
    mffs    0
    stfd    0, HF_FPSCR(1)
.endm

.macro EPILOGUE
    .irp r, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lwz     \r, HF_GPR+(\r-14)*4(1)
    .endr
    .irp f, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lfd     \f, HF_FPR+(\f-14)*8(1)
    .endr
    lwz     0, HF_CR(1)
    mtcr    0
    lfd     0, HF_FPSCR(1)
    mtfsf   0xff, 0
    lwz     0, HF_SIZE+4(1)
    mtlr    0
    addi    1, 1, HF_SIZE
    blr
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_jump
    .type   fc_regs_jump, @function
    .p2align 4
fc_regs_jump:
    PROLOGUE
    stw     5, HF_OUT(1)
    stw     6, HF_SEED(1)
    LOAD_ALL 6
    mr      5, 4                    /* vp */
    mr      4, 3                    /* to */
    lwz     3, HF_OUT(1)            /* hidden result pointer = out */
    bl      jump_fcontext
    CHECK_ALL
    EPILOGUE
    .size   fc_regs_jump, .-fc_regs_jump

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    .globl  fc_regs_ontop
    .type   fc_regs_ontop, @function
    .p2align 4
fc_regs_ontop:
    PROLOGUE
    stw     6, HF_OUT(1)
    stw     7, HF_SEED(1)
    LOAD_ALL 7
    mr      6, 5                    /* fn */
    mr      5, 4                    /* vp */
    mr      4, 3                    /* to */
    lwz     3, HF_OUT(1)            /* hidden result pointer = out */
    bl      ontop_fcontext
    CHECK_ALL
    EPILOGUE
    .size   fc_regs_ontop, .-fc_regs_ontop

/* uintptr_t fc_caller_sp(void): bl pushes nothing, r1 is the caller's. */
    .globl  fc_caller_sp
    .type   fc_caller_sp, @function
    .p2align 4
fc_caller_sp:
    mr      3, 1
    blr
    .size   fc_caller_sp, .-fc_caller_sp

    .section .note.GNU-stack, "", @progbits
