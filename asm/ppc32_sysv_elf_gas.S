/*
 * fcontext for 32-bit PowerPC, System V ABI as used by Linux (powerpc-linux-gnu),
 * ELF, GNU as. Hard-float only (SPE has no FPRs).
 *
 * Linux's SysV ppc32 returns every struct in memory: transfer_t (8 bytes) comes
 * back through a hidden pointer passed in r3, so jump_fcontext(to, vp) is
 * really jump(hidden r3, to r4, vp r5) and ontop gets fn in r6. A struct
 * argument is passed by reference: the entry function fn(transfer_t) and the
 * ontop function receive r3 = address of a transfer_t. (The BSDs return small
 * structs in r3:r4 instead, so this file is for Linux only.)
 *
 * Frame of a suspended context; fctx is its lowest address and the saved r1.
 * Same layout as Boost 1.74 (docs/ABI.md#ppc32-sysv-elf):
 *
 *   offset | size  | saved item                       | make_fcontext writes
 *   -------+-------+----------------------------------+----------------------
 *        0 |     4 | back chain (stwu: caller's r1)   | -
 *        4 |     4 | hidden result pointer of the     | fctx + 248
 *          |       | pending call                     |
 *        8 |     8 | FPSCR image (mffs)               | current FPSCR
 *       16 |     4 | resume address (PC)              | entry function
 *       20 |     4 | CR                               | -
 *       24 | 18x4  | r14 .. r31                       | -
 *       96 | 18x8  | f14 .. f31                       | -
 *   ------ the caller's frame (the frame ends at 240) ---------------------
 *      240 |     4 | caller's back chain              | 0 (fresh: stack end)
 *      244 |     4 | LR (caller's LR save word)       | address of finish
 *      248 |     8 | fresh only: transfer_t the first | -
 *          |       | jump hands to the entry function |
 *
 * Frame 240 bytes; fctx of a fresh context = (sp & ~15) - 256. The entry
 * function starts with r1 = fctx + 240 (16-byte aligned, back chain 0, LR save
 * word above it), r3 = fctx + 248 = &{jumper's fctx, data}, LR = finish.
 *
 * Differences from Boost 1.74: none in the frame or in what make writes. The
 * FPSCR is restored with fields 6-7 only (enables, NI, RN) where Boost loads
 * all eight: the sticky exception flags stay as the running code left them
 * (fenv's model: flags are the thread's, modes travel with the context).
 * ontop calls fn from a small frame on the target's stack instead of in place
 * of the pending return (fn's argument and result must not share memory, and
 * nothing may live below r1: this ABI has no red zone). finish uses the
 * secure PLT (r30 set, as Boost 1.74 does) and carries unwind info that ends
 * backtraces there. Defining FCONTEXT_NO_FPU_CONTROL drops the FPSCR save and
 * restore in jump/ontop (make still fills the slot).
 *
 * Not touched: r2 (thread pointer), r13 (small-data anchor), the AltiVec
 * registers and VRSAVE (not part of the base SysV ABI; Boost does not save
 * them either).
 */

    .text

#define FRAME 240

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .type   make_fcontext, @function
    .p2align 4
make_fcontext:
    .cfi_startproc
    clrrwi  3, 3, 4                 /* 16-byte aligned top */
    addi    3, 3, -(FRAME + 16)     /* frame plus the entry's caller area */
    stw     5, 16(3)                /* first resume enters fn (through CTR) */
    addi    0, 3, FRAME + 8         /* where the first jump puts fn's argument */
    stw     0, 4(3)                 /* ... as the "pending call's" result pointer */
    li      0, 0                    /* null back chain ... */
    stw     0, FRAME(3)             /* ... ends stack walks at the entry */
    mflr    0                       /* keep our return address */
    bcl     20, 31, 1f              /* LR = runtime address of 1: (no link-stack push) */
1:  mflr    6
    mtlr    0                       /* our return address back */
    addi    6, 6, fcontext_finish - 1b /* finish, position-independent */
    stw     6, FRAME + 4(3)         /* fn returns into finish */
    mffs    0                       /* fresh context inherits our FP modes */
    stfd    0, 8(3)                 /* FPSCR image for the first resume */
    blr                             /* r3 = fctx */
    .cfi_endproc
    .size   make_fcontext, .-make_fcontext

/*
 * The entry function returned (r1 = fctx + 240). One unwind procedure with an
 * undefined return address, so unwinders stop here; the leading nop puts
 * finish-1 inside it.
 */
    .type   fcontext_finish_proc, @function
    .p2align 4
fcontext_finish_proc:
    .cfi_startproc
    .cfi_undefined lr
    nop                             /* finish-1 belongs to this FDE */
fcontext_finish:
    stwu    1, -16(1)               /* minimal frame; back chain -> the 0 make wrote */
    bcl     20, 31, 2f              /* LR = runtime address of 2: */
2:  mflr    30
    addis   30, 30, .Lfc_got2 - 2b@ha /* secure-PLT stubs (-fPIC model) want */
    addi    30, 30, .Lfc_got2 - 2b@l  /* ... r30 = this object's .got2 + 0x8000 */
    li      3, 0                    /* exit status 0 */
    bl      _exit + 32768@plt       /* _exit: the context owns no atexit duty */
    trap                            /* _exit does not return */
    .cfi_endproc
    .size   fcontext_finish_proc, .-fcontext_finish_proc

/* Saves the running context's callee-saved state in a new frame (r0 scratch). */
.macro SAVE_FRAME
    mflr    0                       /* our return address */
    stwu    1, -FRAME(1)            /* our frame, back chain to the caller's */
    stw     0, FRAME + 4(1)         /* LR save word of the caller's frame */
    stw     0, 16(1)                /* ... and where we resume */
    stw     3, 4(1)                 /* where our pending call's result goes */
    mfcr    0                       /* cr2-cr4 are callee-saved */
    stw     0, 20(1)                /* into the CR slot */
    stw     14, 24(1)               /* r14-r31 are callee-saved */
    stw     15, 28(1)               /* keep r15 (callee-saved) */
    stw     16, 32(1)               /* keep r16 (callee-saved) */
    stw     17, 36(1)               /* keep r17 (callee-saved) */
    stw     18, 40(1)               /* keep r18 (callee-saved) */
    stw     19, 44(1)               /* keep r19 (callee-saved) */
    stw     20, 48(1)               /* keep r20 (callee-saved) */
    stw     21, 52(1)               /* keep r21 (callee-saved) */
    stw     22, 56(1)               /* keep r22 (callee-saved) */
    stw     23, 60(1)               /* keep r23 (callee-saved) */
    stw     24, 64(1)               /* keep r24 (callee-saved) */
    stw     25, 68(1)               /* keep r25 (callee-saved) */
    stw     26, 72(1)               /* keep r26 (callee-saved) */
    stw     27, 76(1)               /* keep r27 (callee-saved) */
    stw     28, 80(1)               /* keep r28 (callee-saved) */
    stw     29, 84(1)               /* keep r29 (callee-saved) */
    stw     30, 88(1)               /* keep r30 (callee-saved; PIC GOT pointer) */
    stw     31, 92(1)               /* keep r31 (callee-saved) */
    stfd    14, 96(1)               /* f14-f31 are callee-saved */
    stfd    15, 104(1)              /* keep f15 (callee-saved) */
    stfd    16, 112(1)              /* keep f16 (callee-saved) */
    stfd    17, 120(1)              /* keep f17 (callee-saved) */
    stfd    18, 128(1)              /* keep f18 (callee-saved) */
    stfd    19, 136(1)              /* keep f19 (callee-saved) */
    stfd    20, 144(1)              /* keep f20 (callee-saved) */
    stfd    21, 152(1)              /* keep f21 (callee-saved) */
    stfd    22, 160(1)              /* keep f22 (callee-saved) */
    stfd    23, 168(1)              /* keep f23 (callee-saved) */
    stfd    24, 176(1)              /* keep f24 (callee-saved) */
    stfd    25, 184(1)              /* keep f25 (callee-saved) */
    stfd    26, 192(1)              /* keep f26 (callee-saved) */
    stfd    27, 200(1)              /* keep f27 (callee-saved) */
    stfd    28, 208(1)              /* keep f28 (callee-saved) */
    stfd    29, 216(1)              /* keep f29 (callee-saved) */
    stfd    30, 224(1)              /* keep f30 (callee-saved) */
    stfd    31, 232(1)              /* keep f31 (callee-saved) */
#ifndef FCONTEXT_NO_FPU_CONTROL
    mffs    0                       /* FP rounding mode and enables */
    stfd    0, 8(1)                 /* into the FPSCR slot */
#endif
.endm

/* Loads the callee-saved state of the frame at r1 (r0 scratch); LR/CTR not. */
.macro LOAD_FRAME
    lwz     14, 24(1)               /* the target's r14 */
    lwz     15, 28(1)               /* the target's r15 */
    lwz     16, 32(1)               /* the target's r16 */
    lwz     17, 36(1)               /* the target's r17 */
    lwz     18, 40(1)               /* the target's r18 */
    lwz     19, 44(1)               /* the target's r19 */
    lwz     20, 48(1)               /* the target's r20 */
    lwz     21, 52(1)               /* the target's r21 */
    lwz     22, 56(1)               /* the target's r22 */
    lwz     23, 60(1)               /* the target's r23 */
    lwz     24, 64(1)               /* the target's r24 */
    lwz     25, 68(1)               /* the target's r25 */
    lwz     26, 72(1)               /* the target's r26 */
    lwz     27, 76(1)               /* the target's r27 */
    lwz     28, 80(1)               /* the target's r28 */
    lwz     29, 84(1)               /* the target's r29 */
    lwz     30, 88(1)               /* the target's r30 */
    lwz     31, 92(1)               /* the target's r31 */
    lfd     14, 96(1)               /* the target's f14 */
    lfd     15, 104(1)              /* the target's f15 */
    lfd     16, 112(1)              /* the target's f16 */
    lfd     17, 120(1)              /* the target's f17 */
    lfd     18, 128(1)              /* the target's f18 */
    lfd     19, 136(1)              /* the target's f19 */
    lfd     20, 144(1)              /* the target's f20 */
    lfd     21, 152(1)              /* the target's f21 */
    lfd     22, 160(1)              /* the target's f22 */
    lfd     23, 168(1)              /* the target's f23 */
    lfd     24, 176(1)              /* the target's f24 */
    lfd     25, 184(1)              /* the target's f25 */
    lfd     26, 192(1)              /* the target's f26 */
    lfd     27, 200(1)              /* the target's f27 */
    lfd     28, 208(1)              /* the target's f28 */
    lfd     29, 216(1)              /* the target's f29 */
    lfd     30, 224(1)              /* the target's f30 */
    lfd     31, 232(1)              /* the target's f31 */
#ifndef FCONTEXT_NO_FPU_CONTROL
    lfd     0, 8(1)                 /* the target's FPSCR image */
    mtfsf   0x03, 0                 /* fields 6-7 only: enables, NI, RN -- not the flags */
#endif
    lwz     0, 20(1)                /* the target's CR */
    mtcr    0                       /* cr2-cr4 back (all fields are written) */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp):
   r3 = hidden result pointer, r4 = to, r5 = vp */
    .globl  jump_fcontext
    .type   jump_fcontext, @function
    .p2align 4
jump_fcontext:
    .cfi_startproc
    SAVE_FRAME
    mr      6, 1                    /* our frame is the fctx the target receives */
    mr      1, 4                    /* switch to the target's frame */
    LOAD_FRAME
    lwz     0, FRAME + 4(1)         /* fresh: finish */
    mtlr    0                       /* LR = where the target returns to */
    lwz     0, 16(1)                /* resume address (fresh: fn) */
    mtctr   0                       /* branch through CTR */
    lwz     3, 4(1)                 /* the target's result buffer (fresh: fctx + 248) */
    addi    1, 1, FRAME             /* target's r1 as after its pending call */
    stw     6, 0(3)                 /* transfer_t {our fctx, ...} */
    stw     5, 4(3)                 /* ... vp}: the pending call's result */
    bctr                            /* resume (fresh: fn gets r3 = &transfer_t) */
    .cfi_endproc
    .size   jump_fcontext, .-jump_fcontext

/*
 * transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)):
 * r3 = hidden result pointer, r4 = to, r5 = vp, r6 = fn.
 *
 * fn runs on the target's stack in a 32-byte frame just below the target's
 * resume r1 (the dead upper end of its frame):
 *   +0 back chain (-> target's r1)   +4 LR save word (fn's)
 *   +8 the target's result pointer    +12 the target's resume address
 *   +16 fn's argument {our fctx, vp}  +24 unused
 * fn writes its result through the target's result pointer, so the pending
 * call returns it; then the frame is dropped and the target resumes.
 */
    .globl  ontop_fcontext
    .type   ontop_fcontext, @function
    .p2align 4
ontop_fcontext:
    .cfi_startproc
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    mr      7, 1                    /* our fctx, handed to fn */
    mr      1, 4                    /* switch to the target's frame */
    LOAD_FRAME
    lwz     8, 4(1)                 /* the target's result buffer */
    lwz     9, 16(1)                /* the target's resume address */
    addi    10, 1, FRAME            /* the target's resume r1 ... */
    stw     10, FRAME - 32(1)       /* ... is the back chain of fn's caller frame */
    addi    1, 1, FRAME - 32        /* r1 = that frame (16-byte aligned) */
    stw     8, 8(1)                 /* keep the result buffer across fn */
    stw     9, 12(1)                /* keep the resume address across fn */
    stw     7, 16(1)                /* fn's argument: {our fctx, */
    stw     5, 20(1)                /* ... vp} */
    mr      3, 8                    /* fn's result goes to the target's buffer */
    addi    4, 1, 16                /* fn's argument, by reference */
    mtctr   6                       /* fn */
    bctrl                           /* fn(&result, &arg) on the target's stack */
    .cfi_def_cfa 1, 32              /* backtraces from fn: caller frame = the target's */
    .cfi_offset lr, -20             /* ... resuming at the address kept at +12 */
    lwz     3, 8(1)                 /* the pending call's result buffer, filled by fn */
    lwz     0, 12(1)                /* the target's resume address */
    mtctr   0                       /* branch through CTR */
    lwz     0, 36(1)                /* the target's LR slot (fresh: finish) */
    mtlr    0                       /* LR as jump would leave it */
    addi    1, 1, 32                /* target's r1 as after its pending call */
    bctr                            /* the pending call returns fn's result */
    .cfi_endproc
    .size   ontop_fcontext, .-ontop_fcontext

#define FC_SIZE_T_CODE j
#include "common/elf_boost187_aliases.inc"

/* finish's PLT stubs find the GOT through r30 = .got2 of this object + 0x8000. */
    .section .got2, "aw"
.Lfc_got2 = . + 0x8000

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", @progbits
