/*
 * fcontext for 64-bit PowerPC, ELFv2 ABI (ppc64le), ELF, GNU as.
 * ELFv1 (big-endian, function descriptors) is not implemented.
 *
 * Frame of a suspended context; fctx is its lowest address and the saved r1.
 * THIS FRAME DIFFERS FROM BOOST 1.74 (docs/ABI.md#ppc64le-elfv2): Boost saves only
 * r14-r31, CR and LR, so a double held in f14-f31 or a vector in v20-v31 --
 * callee-saved in ELFv2 -- is clobbered by its switch. Ours saves them, plus
 * the FPSCR and VSCR control bits (ELFv2 "limited-access": preserved across
 * calls unless a function exists to change them, like fesetround). Offsets
 * 8..183 keep Boost's meaning; everything from 184 on is ours.
 *
 *   offset | size  | saved item                  | make_fcontext writes
 *   -------+-------+-----------------------------+--------------------------
 *        0 |     8 | (unused)                    | -
 *        8 | 18x8  | r14 .. r31                  | -
 *      152 |     8 | FPSCR image (mffs) *        | current FPSCR
 *      160 |     8 | CR                          | -
 *      168 |     8 | LR                          | address of finish
 *      176 |     8 | resume address (PC)         | entry function
 *      184 | 18x8  | f14 .. f31 *                | -
 *      328 |     8 | padding (vector alignment)  | -
 *      336 | 12x16 | v20 .. v31 *                | -
 *      528 |    16 | VSCR image (mfvscr) *       | current VSCR
 *      544 |     8 | fresh only: back chain of   | 0
 *          |       | the entry function's caller |
 *   (* = not in Boost 1.74's frame; 152 is Boost's ELFv1 hidden-pointer slot)
 *
 * Frame 544 bytes (Boost: 184). fctx of a fresh context = (sp & ~15) - 608
 * (Boost: - 248); the entry function starts with r1 = fctx + 544 (16-byte
 * aligned) whose back chain is 0, with 64 bytes above it for the linkage
 * area the callee may write, r12 = CTR = its global entry (it derives its TOC
 * from r12), r3:r4 = transfer_t {jumper's fctx, data}, LR = finish.
 *
 * Interop with Boost 1.74: none for suspended contexts -- its jump pops 184
 * bytes where ours pushed 544 and vice versa, so a context suspended by one
 * library must only be resumed by the same library. Boost itself, even in
 * 1.91, saves v31 only and no FPRs.
 *
 * Only the FPSCR control fields (enable bits, NI, RN: fields 6-7) are
 * restored; its sticky status flags stay as the running code left them.
 * VRSAVE is not used by the ELFv2 ABI and is left alone. r2 (TOC) is set
 * by each function's global entry, r13 (thread pointer) is never touched.
 * Defining FCONTEXT_NO_FPU_CONTROL drops the FPSCR/VSCR save and restore.
 */

#if !defined(_CALL_ELF) || _CALL_ELF != 2
#error "ppc64_sysv_elf_gas.S implements the ELFv2 ABI only (ppc64le); ELFv1 is not supported"
#endif

    .abiversion 2
    .machine power8
    .text

/* ELFv2 global entry: r12 = our address on calls from other modules. */
#define FC_GLOBAL_ENTRY(name) \
0:  addis   2, 12, .TOC.-0b@ha; /* global entry: r12 = our address */ \
    addi    2, 2, .TOC.-0b@l;   /* ... r2 = .TOC. of this module */ \
    .localentry name, .-name

#define FRAME 544

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .p2align 4
make_fcontext:
    .cfi_startproc
    FC_GLOBAL_ENTRY(make_fcontext)  /* TOC for the finish address below */
    clrrdi  3, 3, 4                 /* 16-byte aligned top */
    addi    3, 3, -(FRAME + 64)     /* frame plus the entry function's linkage area */
    std     5, 176(3)               /* first resume enters fn (through CTR and r12) */
    addis   6, 2, fcontext_finish@toc@ha /* finish, TOC-relative (r2 set by the global entry) */
    addi    6, 6, fcontext_finish@toc@l /* ... low half */
    std     6, 168(3)               /* fn returns into finish */
    li      0, 0                    /* null back chain ... */
    std     0, FRAME(3)             /* back chain 0: stack walkers stop at the entry */
    mffs    0                       /* fresh context inherits our FP modes ... */
    stfd    0, 152(3)               /* FPSCR image for the first resume */
    mfvscr  0                       /* ... and vector modes */
    li      7, 528                  /* offset of the VSCR slot (stvx/lvx index register) */
    stvx    0, 3, 7                 /* VSCR image for the first resume */
    blr                             /* r3 = fctx */
    .cfi_endproc
    .size   make_fcontext, .-make_fcontext

/*
 * The entry function returned (r1 = fctx + 544, r2 = its TOC). One unwind
 * procedure with an undefined return address, so unwinders stop here; the
 * leading nop puts finish-1 inside it.
 */
    .type   fcontext_finish_proc, @function
    .p2align 4
fcontext_finish_proc:
    .cfi_startproc
    .cfi_undefined lr
    nop                             /* finish-1 belongs to this FDE */
fcontext_finish:
    bl      1f                      /* LR = runtime address of 1: */
1:  mflr    12
    addis   2, 12, .TOC.-1b@ha      /* our TOC: the call to _exit goes through it */
    addi    2, 2, .TOC.-1b@l        /* ... low half */
    stdu    1, -32(1)               /* minimal frame; back chain -> the 0 make wrote */
    li      3, 0                    /* exit status 0 */
    bl      _exit                   /* _exit: the context owns no atexit duty */
    nop                             /* TOC restore slot for the linker */
    trap                            /* _exit does not return */
    .cfi_endproc
    .size   fcontext_finish_proc, .-fcontext_finish_proc

/* Saves the running context's callee-saved state below r1 (r7 is scratch). */
.macro SAVE_FRAME
    addi    1, 1, -FRAME            /* our frame on our own stack */
    std     14, 8(1)                /* r14-r31 are callee-saved */
    std     15, 16(1)               /* keep r15 (callee-saved) */
    std     16, 24(1)               /* keep r16 (callee-saved) */
    std     17, 32(1)               /* keep r17 (callee-saved) */
    std     18, 40(1)               /* keep r18 (callee-saved) */
    std     19, 48(1)               /* keep r19 (callee-saved) */
    std     20, 56(1)               /* keep r20 (callee-saved) */
    std     21, 64(1)               /* keep r21 (callee-saved) */
    std     22, 72(1)               /* keep r22 (callee-saved) */
    std     23, 80(1)               /* keep r23 (callee-saved) */
    std     24, 88(1)               /* keep r24 (callee-saved) */
    std     25, 96(1)               /* keep r25 (callee-saved) */
    std     26, 104(1)              /* keep r26 (callee-saved) */
    std     27, 112(1)              /* keep r27 (callee-saved) */
    std     28, 120(1)              /* keep r28 (callee-saved) */
    std     29, 128(1)              /* keep r29 (callee-saved) */
    std     30, 136(1)              /* keep r30 (callee-saved) */
    std     31, 144(1)              /* keep r31 (callee-saved) */
    stfd    14, 184(1)              /* f14-f31 are callee-saved (Boost skips them) */
    stfd    15, 192(1)              /* keep f15 (callee-saved) */
    stfd    16, 200(1)              /* keep f16 (callee-saved) */
    stfd    17, 208(1)              /* keep f17 (callee-saved) */
    stfd    18, 216(1)              /* keep f18 (callee-saved) */
    stfd    19, 224(1)              /* keep f19 (callee-saved) */
    stfd    20, 232(1)              /* keep f20 (callee-saved) */
    stfd    21, 240(1)              /* keep f21 (callee-saved) */
    stfd    22, 248(1)              /* keep f22 (callee-saved) */
    stfd    23, 256(1)              /* keep f23 (callee-saved) */
    stfd    24, 264(1)              /* keep f24 (callee-saved) */
    stfd    25, 272(1)              /* keep f25 (callee-saved) */
    stfd    26, 280(1)              /* keep f26 (callee-saved) */
    stfd    27, 288(1)              /* keep f27 (callee-saved) */
    stfd    28, 296(1)              /* keep f28 (callee-saved) */
    stfd    29, 304(1)              /* keep f29 (callee-saved) */
    stfd    30, 312(1)              /* keep f30 (callee-saved) */
    stfd    31, 320(1)              /* keep f31 (callee-saved) */
    li      7, 336                  /* offset of v20 (lvx index register) */
    stvx    20, 1, 7                /* keep v20 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    21, 1, 7                /* keep v21 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    22, 1, 7                /* keep v22 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    23, 1, 7                /* keep v23 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    24, 1, 7                /* keep v24 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    25, 1, 7                /* keep v25 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    26, 1, 7                /* keep v26 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    27, 1, 7                /* keep v27 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    28, 1, 7                /* keep v28 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    29, 1, 7                /* keep v29 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    30, 1, 7                /* keep v30 (callee-saved) */
    addi    7, 7, 16                /* next 16-byte vector slot */
    stvx    31, 1, 7                /* keep v31 (callee-saved) */
#ifndef FCONTEXT_NO_FPU_CONTROL
    mffs    0                       /* FP rounding mode and enables */
    stfd    0, 152(1)               /* into the FPSCR slot */
    mfvscr  0                       /* vector non-Java mode */
    li      7, 528                  /* offset of the VSCR slot (stvx/lvx index register) */
    stvx    0, 1, 7                 /* into the VSCR slot */
#endif
    mfcr    0                       /* cr2-cr4 are callee-saved */
    std     0, 160(1)               /* into the CR slot */
    mflr    0                       /* our return address ... */
    std     0, 168(1)               /* into the LR slot ... */
    std     0, 176(1)               /* ... is where we resume */
.endm

/* Loads the callee-saved state of the frame at r1 (r7 is scratch). */
.macro LOAD_FRAME
    ld      14, 8(1)                /* the target's r14 */
    ld      15, 16(1)               /* the target's r15 */
    ld      16, 24(1)               /* the target's r16 */
    ld      17, 32(1)               /* the target's r17 */
    ld      18, 40(1)               /* the target's r18 */
    ld      19, 48(1)               /* the target's r19 */
    ld      20, 56(1)               /* the target's r20 */
    ld      21, 64(1)               /* the target's r21 */
    ld      22, 72(1)               /* the target's r22 */
    ld      23, 80(1)               /* the target's r23 */
    ld      24, 88(1)               /* the target's r24 */
    ld      25, 96(1)               /* the target's r25 */
    ld      26, 104(1)              /* the target's r26 */
    ld      27, 112(1)              /* the target's r27 */
    ld      28, 120(1)              /* the target's r28 */
    ld      29, 128(1)              /* the target's r29 */
    ld      30, 136(1)              /* the target's r30 */
    ld      31, 144(1)              /* the target's r31 */
    lfd     14, 184(1)              /* the target's f14 */
    lfd     15, 192(1)              /* the target's f15 */
    lfd     16, 200(1)              /* the target's f16 */
    lfd     17, 208(1)              /* the target's f17 */
    lfd     18, 216(1)              /* the target's f18 */
    lfd     19, 224(1)              /* the target's f19 */
    lfd     20, 232(1)              /* the target's f20 */
    lfd     21, 240(1)              /* the target's f21 */
    lfd     22, 248(1)              /* the target's f22 */
    lfd     23, 256(1)              /* the target's f23 */
    lfd     24, 264(1)              /* the target's f24 */
    lfd     25, 272(1)              /* the target's f25 */
    lfd     26, 280(1)              /* the target's f26 */
    lfd     27, 288(1)              /* the target's f27 */
    lfd     28, 296(1)              /* the target's f28 */
    lfd     29, 304(1)              /* the target's f29 */
    lfd     30, 312(1)              /* the target's f30 */
    lfd     31, 320(1)              /* the target's f31 */
    li      7, 336                  /* offset of v20 (lvx index register) */
    lvx     20, 1, 7                /* the target's v20 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     21, 1, 7                /* the target's v21 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     22, 1, 7                /* the target's v22 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     23, 1, 7                /* the target's v23 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     24, 1, 7                /* the target's v24 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     25, 1, 7                /* the target's v25 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     26, 1, 7                /* the target's v26 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     27, 1, 7                /* the target's v27 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     28, 1, 7                /* the target's v28 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     29, 1, 7                /* the target's v29 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     30, 1, 7                /* the target's v30 */
    addi    7, 7, 16                /* next 16-byte vector slot */
    lvx     31, 1, 7                /* the target's v31 */
#ifndef FCONTEXT_NO_FPU_CONTROL
    lfd     0, 152(1)               /* the target's FPSCR image */
    mtfsf   0x03, 0                 /* fields 6-7 only: enables, NI, RN -- not the flags */
    li      7, 528                  /* offset of the VSCR slot (stvx/lvx index register) */
    lvx     0, 1, 7                 /* the target's VSCR image */
    mtvscr  0                       /* its vector modes */
#endif
    ld      0, 160(1)               /* the target's CR */
    mtcr    0                       /* cr2-cr4 back (all fields are written) */
    ld      0, 168(1)               /* fresh: finish */
    mtlr    0                       /* LR = where the target returns to */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .p2align 4
jump_fcontext:
    .cfi_startproc
    FC_GLOBAL_ENTRY(jump_fcontext)  /* r2 = this module's TOC for the resumed side */
    SAVE_FRAME
    mr      6, 1                    /* our frame is the fctx the target receives */
    mr      1, 3                    /* switch to the target's frame */
    LOAD_FRAME
    ld      12, 176(1)              /* resume address; for a fresh fn, r12 = its entry */
    mtctr   12                      /* branch through CTR */
    addi    1, 1, FRAME             /* target's r1 as after its pending call */
    mr      3, 6                    /* transfer_t {our fctx, vp} in r3:r4 */
    bctr                            /* resume the target (fresh: enter fn at its global entry) */
    .cfi_endproc
    .size   jump_fcontext, .-jump_fcontext

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .p2align 4
ontop_fcontext:
    .cfi_startproc
    FC_GLOBAL_ENTRY(ontop_fcontext)
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    mr      6, 1                    /* our fctx, handed to fn */
    mr      1, 3                    /* switch to the target's frame */
    LOAD_FRAME                      /* LR = target's resume address: fn returns there */
    mr      12, 5                   /* ELFv2: r12 = callee's global entry */
    mtctr   12                      /* branch through CTR */
    addi    1, 1, FRAME             /* PC slot unused */
    mr      3, 6                    /* fn's argument {our fctx, vp} in r3:r4 */
    bctr                            /* resume the target (fresh: enter fn at its global entry) */
    .cfi_endproc
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE m
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
