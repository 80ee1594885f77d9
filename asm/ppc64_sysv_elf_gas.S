/*
 * fcontext for 64-bit PowerPC, ELF, GNU as: the ELFv2 ABI (ppc64le) and the
 * ELFv1 ABI (big-endian powerpc64-linux-gnu: function descriptors in .opd,
 * transfer_t returned through a hidden pointer). _CALL_ELF picks the ABI; the
 * ELFv2 object is the same with or without the ELFv1 half of this file.
 *
 * ELFv2 frame of a suspended context; fctx is its lowest address and the saved r1.
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
 *
 * ELFv1 (docs/ABI.md#ppc64-elfv1). jump(to, vp) is jump(hidden r3, to r4,
 * vp r5), ontop gets fn (a descriptor: entry, TOC, environment) in r6, make
 * gets a descriptor in r5. A transfer_t argument travels by value in r3:r4.
 * Same 544-byte frame and the same extra saves as ELFv2; three slots differ:
 *
 *   offset | size  | ELFv1 saved item             | make_fcontext writes
 *   -------+-------+------------------------------+--------------------------
 *        0 |     8 | r2 (TOC)                     | fn's TOC (descriptor word 1)
 *      152 |     8 | hidden result pointer of the | 0 (= fresh: the first jump
 *          |       | pending call                 | passes transfer_t in r3:r4)
 *      328 |     8 | FPSCR image (mffs) *         | current FPSCR
 *   8..144, 160..176, 184..320, 336..527, 528, 544: as ELFv2 (176 = entry
 *   address, descriptor word 0; 168 = finish)
 *
 * THIS FRAME DIFFERS FROM BOOST 1.74 (ELFv1 half): Boost's is 184 bytes with
 * TOC at 0, r14-r31 at 8, hidden at 152, CR/LR/PC at 160/168/176 -- ours keeps
 * those offsets and adds f14-f31, v20-v31 and the FPSCR/VSCR images above
 * 184 (FPSCR in the ELFv2 padding slot 328, since 152 is the hidden pointer).
 * Fresh fctx = (sp & ~15) - 656 (Boost: - 248): the entry function starts
 * with r1 = fctx + 544, back chain 0, and the full 112-byte ELFv1 caller area
 * above it (48-byte header + 64-byte parameter save area; Boost leaves 64).
 * ontop calls fn with bctrl from a 160-byte frame on the target's stack and
 * then restores the target's r2 itself (Boost returns from fn straight into
 * the target with fn's TOC in r2); it also works on a fresh target.
 * The vector saves need VMX (AltiVec): POWER6 and later, 970; not POWER4/5
 * or e5500.
 */

#if !defined(_CALL_ELF)
#error "ppc64_sysv_elf_gas.S: _CALL_ELF undefined (is this a 64-bit PowerPC ELF compiler?)"
#endif

#if _CALL_ELF == 2
    .abiversion 2
#endif
    .machine power8
    .text

/* ELFv2 global entry: r12 = our address on calls from other modules. */
#define FC_GLOBAL_ENTRY(name) \
0:  addis   2, 12, .TOC.-0b@ha; /* global entry: r12 = our address */ \
    addi    2, 2, .TOC.-0b@l;   /* ... r2 = .TOC. of this module */ \
    .localentry name, .-name

#define FRAME 544

#if _CALL_ELF == 2
#define FC_FPSCR 152                /* FPSCR image slot */
#else
#define FC_FPSCR 328                /* ELFv1: 152 is the hidden pointer */
#define FC_V1_LINK 112              /* ELFv1 caller area: header + parameter save area */
#define FC_V1_OF 160                /* ontop's frame for fn (link area + 48 bytes of ours) */

/* ELFv1 function: the descriptor {entry, TOC base, environment} in .opd is
   the symbol; the code starts at the local label .L.name. */
.macro FC_V1_FUNC name
    .section ".opd", "aw"
    .p2align 3
    .globl  \name
\name:
    .quad   .L.\name, .TOC.@tocbase, 0
    .previous
    .type   \name, @function
    .p2align 4
.L.\name:
.endm
#endif

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
#if _CALL_ELF == 2
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
#else
    FC_V1_FUNC make_fcontext
    .cfi_startproc
    clrrdi  3, 3, 4                 /* 16-byte aligned top */
    addi    3, 3, -(FRAME + FC_V1_LINK) /* frame plus the entry function's caller area */
    ld      0, 0(5)                 /* fn's descriptor: entry address ... */
    std     0, 176(3)               /* first resume enters fn (through CTR) */
    ld      0, 8(5)                 /* ... and its TOC ... */
    std     0, 0(3)                 /* ... which the first resume loads into r2 */
    addis   6, 2, fcontext_finish@toc@ha /* finish, TOC-relative (r2 = ours on entry) */
    addi    6, 6, fcontext_finish@toc@l /* ... low half */
    std     6, 168(3)               /* fn returns into finish */
    li      0, 0                    /* null back chain and no result pointer ... */
    std     0, 152(3)               /* hidden 0: the first jump passes transfer_t in r3:r4 */
    std     0, FRAME(3)             /* back chain 0: stack walkers stop at the entry */
    mffs    0                       /* fresh context inherits our FP modes ... */
    stfd    0, FC_FPSCR(3)          /* FPSCR image for the first resume */
    mfvscr  0                       /* ... and vector modes */
    li      7, 528                  /* offset of the VSCR slot (stvx/lvx index register) */
    stvx    0, 3, 7                 /* VSCR image for the first resume */
    blr                             /* r3 = fctx */
    .cfi_endproc
    .size   make_fcontext, .-.L.make_fcontext
#endif

/*
 * The entry function returned (r1 = fctx + 544, r2 = its TOC, which need not
 * be ours: derive ours pc-relatively, as on an ELFv2 global entry). One unwind
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
#if _CALL_ELF == 2
    stdu    1, -32(1)               /* minimal frame; back chain -> the 0 make wrote */
#else
    stdu    1, -FC_V1_LINK(1)       /* minimal ELFv1 frame (the PLT stub saves r2 at 40) */
#endif
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
    stfd    0, FC_FPSCR(1)          /* into the FPSCR slot */
    mfvscr  0                       /* vector non-Java mode */
    li      7, 528                  /* offset of the VSCR slot (stvx/lvx index register) */
    stvx    0, 1, 7                 /* into the VSCR slot */
#endif
    mfcr    0                       /* cr2-cr4 are callee-saved */
    std     0, 160(1)               /* into the CR slot */
    mflr    0                       /* our return address ... */
    std     0, 168(1)               /* into the LR slot ... */
    std     0, 176(1)               /* ... is where we resume */
#if _CALL_ELF != 2
    std     2, 0(1)                 /* our TOC (a fresh frame holds fn's there) */
    std     3, 152(1)               /* where our pending call's result goes */
#endif
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
    lfd     0, FC_FPSCR(1)          /* the target's FPSCR image */
    mtfsf   0x03, 0                 /* fields 6-7 only: enables, NI, RN -- not the flags */
    li      7, 528                  /* offset of the VSCR slot (stvx/lvx index register) */
    lvx     0, 1, 7                 /* the target's VSCR image */
    mtvscr  0                       /* its vector modes */
#endif
    ld      0, 160(1)               /* the target's CR */
    mtcr    0                       /* cr2-cr4 back (all fields are written) */
    ld      0, 168(1)               /* fresh: finish */
    mtlr    0                       /* LR = where the target returns to */
#if _CALL_ELF != 2
    ld      2, 0(1)                 /* the target's TOC (fresh: fn's) */
#endif
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
#if _CALL_ELF == 2
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
#else
/* ELFv1: r3 = hidden result pointer, r4 = to, r5 = vp */
    FC_V1_FUNC jump_fcontext
    .cfi_startproc
    SAVE_FRAME                      /* with our TOC and result pointer */
    mr      6, 1                    /* our frame is the fctx the target receives */
    mr      1, 4                    /* switch to the target's frame */
    LOAD_FRAME                      /* r2 = the target's TOC (fresh: fn's) */
    ld      0, 176(1)               /* resume address (fresh: fn's entry) */
    mtctr   0                       /* branch through CTR */
    ld      3, 152(1)               /* the target's result pointer; 0 = fresh */
    addi    1, 1, FRAME             /* target's r1 as after its pending call */
    cmpdi   3, 0                    /* fresh? (cr0 is volatile) */
    beq     1f
    std     6, 0(3)                 /* the pending call returns {our fctx, ... */
    std     5, 8(3)                 /* ... vp} through its result pointer */
    bctr                            /* resume the target */
1:  mr      3, 6                    /* fresh: fn's argument {our fctx, ... */
    mr      4, 5                    /* ... vp} by value in r3:r4 */
    bctr                            /* enter fn (LR = finish) */
    .cfi_endproc
    .size   jump_fcontext, .-.L.jump_fcontext
#endif

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
#if _CALL_ELF == 2
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
#else
/*
 * ELFv1: r3 = hidden result pointer, r4 = to, r5 = vp, r6 = fn's descriptor.
 * fn is called on the target's stack from a 160-byte frame just below the
 * target's resume r1 (the dead upper end of its frame):
 *   +0 back chain (-> target's r1), +8..+111 ELFv1 header and parameter save
 *   area for fn, +112 resume address, +120 LR slot, +128 the target's TOC,
 *   +136 the target's result pointer, +144 16-byte result buffer (fresh target)
 * fn's result goes through the target's result pointer, so the pending call
 * returns it; a fresh target (pointer 0) gets it as its entry argument.
 */
    FC_V1_FUNC ontop_fcontext
    .cfi_startproc
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    mr      8, 1                    /* our fctx, handed to fn */
    mr      1, 4                    /* switch to the target's frame */
    LOAD_FRAME                      /* r2 = the target's TOC */
    ld      9, 152(1)               /* the target's result pointer (0 = fresh) */
    ld      10, 176(1)              /* the target's resume address */
    ld      11, 168(1)              /* the target's LR slot (fresh: finish) */
    addi    12, 1, FRAME            /* the target's resume r1 ... */
    std     12, FRAME - FC_V1_OF(1) /* ... is the back chain of fn's caller frame */
    addi    1, 1, FRAME - FC_V1_OF  /* r1 = that frame (16-byte aligned) */
    std     10, 112(1)              /* keep the resume address across fn */
    std     11, 120(1)              /* keep the LR slot across fn */
    std     2, 128(1)               /* keep the target's TOC: fn runs with its own */
    std     9, 136(1)               /* keep the result pointer across fn */
    mr      3, 9                    /* fn's result goes to the target's buffer ... */
    cmpdi   9, 0                    /* ... unless the target is fresh */
    bne     1f
    addi    3, 1, 144               /* fresh: into our buffer */
1:  mr      4, 8                    /* fn's argument {our fctx, vp} in r4:r5 */
    ld      0, 0(6)                 /* fn's entry address */
    mtctr   0                       /* branch through CTR */
    ld      2, 8(6)                 /* fn's TOC */
    ld      11, 16(6)               /* fn's environment pointer */
    bctrl                           /* fn(&result, {our fctx, vp}) on the target's stack */
    .cfi_def_cfa 1, FC_V1_OF        /* backtraces from fn: caller frame = the target's */
    .cfi_offset lr, 112 - FC_V1_OF  /* ... resuming at the address kept at +112 */
    ld      2, 128(1)               /* the target's TOC again */
    ld      0, 112(1)               /* the target's resume address */
    mtctr   0                       /* branch through CTR */
    ld      0, 120(1)               /* the target's LR slot */
    mtlr    0                       /* LR as jump would leave it */
    ld      9, 136(1)               /* fresh target? */
    cmpdi   9, 0
    bne     2f
    ld      3, 144(1)               /* fresh: fn's result is the entry argument ... */
    ld      4, 152(1)               /* ... by value in r3:r4 */
2:  addi    1, 1, FC_V1_OF          /* target's r1 as after its pending call */
    bctr                            /* the pending call returns fn's result */
    .cfi_endproc
    .size   ontop_fcontext, .-.L.ontop_fcontext
#endif

#define FC_SIZE_T_CODE m
#include "common/elf_boost187_aliases.inc"

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
