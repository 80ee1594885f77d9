/*
 * Register-preservation helper for 64-bit PowerPC: ELFv2 (ppc64le) and, with
 * _CALL_ELF == 1, ELFv1 (big-endian powerpc64-linux-gnu: function
 * descriptors, transfer_t returned through a hidden pointer, which the helper
 * points at the caller's `out`); see harness.c for the interface.
 *
 * Callee-saved state checked, in index order (the return value is 1 + the
 * index of the first register that did not survive the switch):
 *   0..17   r14 .. r31
 *   18..35  f14 .. f31
 *   36..47  v20 .. v31 (both doublewords)
 *   48      CR fields 2-4
 *   49      FPSCR rounding mode (RN, from the seed's low two bits)
 *   50      VSCR NJ bit (from seed bit 2)
 * FPSCR RN and VSCR NJ are ELFv2 "limited-access" bits: preserved across
 * calls (ELFv1 treats them the same way). Boost 1.74 keeps none of 18..50
 * except CR -- the reason our frame differs from Boost's on this target.
 *
 * Pattern: p(0) = seed * K + K, p(i+1) = p(i) + K, K = 0x9E3779B97F4A7C15;
 * a vector register takes two consecutive values.
 */

#if !defined(_CALL_ELF)
#error "_CALL_ELF undefined"
#endif

#if _CALL_ELF == 2
    .abiversion 2
/* Helper frame (stdu): 32-byte linkage area (TOC save at 24), then ours. */
#define HF_LINK 0
#else
/* Helper frame (stdu): 48-byte header (TOC save at 40) and the 64-byte
   parameter save area every ELFv1 caller provides, then ours. */
#define HF_LINK 80
#endif
    .machine power8
    .text

#define HF_SIZE (576 + HF_LINK)
#define HF_OUT  (32 + HF_LINK)
#define HF_SEED (40 + HF_LINK)
#define HF_GPR  (48 + HF_LINK)      /* r14-r31, 144 bytes */
#define HF_FPR  (192 + HF_LINK)     /* f14-f31, 144 bytes */
#define HF_CR   (336 + HF_LINK)
#define HF_FPSCR (344 + HF_LINK)
#define HF_VR   (352 + HF_LINK)     /* v20-v31, 192 bytes, 16-aligned */
#define HF_VSCR (544 + HF_LINK)
#define HF_TMP  (560 + HF_LINK)     /* 16-byte scratch */

/* The VSCR word of a stored vector: element 3 (the last word on big-endian,
   the first on little-endian). */
#ifdef __LITTLE_ENDIAN__
#define HF_VSCR_WORD HF_TMP
#else
#define HF_VSCR_WORD (HF_TMP + 12)
#endif

/* A global function: ELFv1 needs a descriptor in .opd, ELFv2 does not. */
.macro FUNC name
#if _CALL_ELF == 2
    .globl  \name
    .type   \name, @function
    .p2align 4
\name:
#else
    .section ".opd", "aw"
    .p2align 3
    .globl  \name
\name:
    .quad   .L.\name, .TOC.@tocbase, 0
    .previous
    .type   \name, @function
    .p2align 4
.L.\name:
#endif
.endm

.macro ENDFUNC name
#if _CALL_ELF == 2
    .size   \name, .-\name
#else
    .size   \name, .-.L.\name
#endif
.endm

/* r11 = running pattern, r12 = K */
.macro PATTERN_START seed
    lis     12, 0x9E37              /* K, built 16 bits at a time */
    ori     12, 12, 0x79B9
    sldi    12, 12, 32
    oris    12, 12, 0x7F4A
    ori     12, 12, 0x7C15
    mulld   11, \seed, 12
.endm

.macro NEXT
    add     11, 11, 12
.endm

.macro LOAD_ALL seed
    PATTERN_START \seed
    .irp r, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    NEXT
    mr      \r, 11
    .endr
    .irp f, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    NEXT
    std     11, HF_TMP(1)           /* GPR -> FPR through memory */
    lfd     \f, HF_TMP(1)
    .endr
    li      10, HF_TMP
    .irp v, 20,21,22,23,24,25,26,27,28,29,30,31
    NEXT
    std     11, HF_TMP(1)
    NEXT
    std     11, HF_TMP+8(1)
    lvx     \v, 1, 10
    .endr
    NEXT
    mtcrf   0x38, 11                /* cr2, cr3, cr4 from the pattern */
    ld      9, HF_SEED(1)
    andi.   0, 9, 3
    std     0, HF_TMP(1)
    lfd     0, HF_TMP(1)
    mtfsf   0x01, 0                 /* field 7: XE = NI = 0, RN = seed & 3 */
    rldicl  0, 9, 62, 63            /* (seed >> 2) & 1 */
    sldi    0, 0, 16                /* VSCR NJ */
    std     0, HF_TMP(1)
    std     0, HF_TMP+8(1)
    lvx     0, 1, 10
    mtvscr  0
.endm

/* r10 counts 1-based indices; r3 = r10 at the first mismatch, else 0 */
.macro CHECK_ALL
    ld      9, HF_SEED(1)
    PATTERN_START 9
    li      10, 0
    .irp r, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    NEXT
    addi    10, 10, 1
    cmpd    \r, 11
    bne     9f
    .endr
    .irp f, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    NEXT
    addi    10, 10, 1
    stfd    \f, HF_TMP(1)
    ld      0, HF_TMP(1)
    cmpd    0, 11
    bne     9f
    .endr
    li      8, HF_TMP
    .irp v, 20,21,22,23,24,25,26,27,28,29,30,31
    addi    10, 10, 1
    stvx    \v, 1, 8
    NEXT
    ld      0, HF_TMP(1)
    cmpd    0, 11
    bne     9f
    NEXT
    ld      0, HF_TMP+8(1)
    cmpd    0, 11
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
    ld      0, HF_TMP(1)
    ld      9, HF_SEED(1)
    xor     0, 0, 9
    andi.   0, 0, 3                 /* RN */
    bne     9f
    addi    10, 10, 1
    mfvscr  0
    stvx    0, 1, 8
    lwz     0, HF_VSCR_WORD(1)      /* VSCR word as stored by mtvscr's image */
    srdi    0, 0, 16
    srdi    9, 9, 2
    xor     0, 0, 9
    andi.   0, 0, 1                 /* NJ */
    bne     9f
    li      10, 0                   /* all preserved */
9:
    mr      3, 10
.endm

.macro PROLOGUE name
#if _CALL_ELF == 2
0:  addis   2, 12, .TOC.-0b@ha      /* global entry: our TOC */
    addi    2, 2, .TOC.-0b@l
    .localentry \name, .-\name
#endif
    mflr    0
    std     0, 16(1)                /* LR save word of the caller's frame */
    stdu    1, -HF_SIZE(1)
    .irp r, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    std     \r, HF_GPR+(\r-14)*8(1)
    .endr
    .irp f, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    stfd    \f, HF_FPR+(\f-14)*8(1)
    .endr
    li      10, HF_VR
    .irp v, 20,21,22,23,24,25,26,27,28,29,30,31
    stvx    \v, 1, 10
    addi    10, 10, 16
    .endr
    mfcr    0
    std     0, HF_CR(1)
    mffs    0
    stfd    0, HF_FPSCR(1)
    mfvscr  0
    li      10, HF_VSCR
    stvx    0, 1, 10
.endm

.macro EPILOGUE
    .irp r, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      \r, HF_GPR+(\r-14)*8(1)
    .endr
    .irp f, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lfd     \f, HF_FPR+(\f-14)*8(1)
    .endr
    li      10, HF_VR
    .irp v, 20,21,22,23,24,25,26,27,28,29,30,31
    lvx     \v, 1, 10
    addi    10, 10, 16
    .endr
    ld      0, HF_CR(1)
    mtcr    0
    lfd     0, HF_FPSCR(1)
    mtfsf   0xff, 0
    li      10, HF_VSCR
    lvx     0, 1, 10
    mtvscr  0
    addi    1, 1, HF_SIZE
    ld      0, 16(1)
    mtlr    0
    blr
.endm

/* int fc_regs_jump(fcontext_t to, void *vp, fcontext_transfer_t *out, uintptr_t seed) */
    FUNC    fc_regs_jump
    PROLOGUE fc_regs_jump
    std     5, HF_OUT(1)
    std     6, HF_SEED(1)
    LOAD_ALL 6
#if _CALL_ELF == 2
    bl      jump_fcontext           /* r3 = to, r4 = vp */
    nop                             /* TOC restore slot */
    ld      5, HF_OUT(1)
    std     3, 0(5)                 /* *out = transfer_t */
    std     4, 8(5)
#else
    mr      5, 4                    /* vp */
    mr      4, 3                    /* to */
    ld      3, HF_OUT(1)            /* hidden result pointer = out */
    bl      jump_fcontext
    nop                             /* TOC restore slot */
#endif
    CHECK_ALL
    EPILOGUE
    ENDFUNC fc_regs_jump

/* int fc_regs_ontop(fcontext_t to, void *vp, transfer_t (*fn)(transfer_t),
                     fcontext_transfer_t *out, uintptr_t seed) */
    FUNC    fc_regs_ontop
    PROLOGUE fc_regs_ontop
    std     6, HF_OUT(1)
    std     7, HF_SEED(1)
    LOAD_ALL 7
#if _CALL_ELF == 2
    bl      ontop_fcontext          /* r3 = to, r4 = vp, r5 = fn */
    nop
    ld      5, HF_OUT(1)
    std     3, 0(5)
    std     4, 8(5)
#else
    mr      6, 5                    /* fn (descriptor) */
    mr      5, 4                    /* vp */
    mr      4, 3                    /* to */
    ld      3, HF_OUT(1)            /* hidden result pointer = out */
    bl      ontop_fcontext
    nop
#endif
    CHECK_ALL
    EPILOGUE
    ENDFUNC fc_regs_ontop

/* uintptr_t fc_caller_sp(void): bl pushes nothing, r1 is the caller's. */
    FUNC    fc_caller_sp
    mr      3, 1
    blr
    ENDFUNC fc_caller_sp

    .section .note.GNU-stack, "", @progbits
