/*
 * fcontext for arm64 Windows (AAPCS64 with the Windows TEB), PE/COFF,
 * GNU-syntax assembler of clang (clang --target=aarch64-pc-windows-msvc or
 * aarch64-w64-windows-gnu).
 *
 * Frame of a suspended context; fctx is its lowest address and the saved SP.
 * Layout of Boost.Context's Windows arm64 files (first in Boost 1.80; Boost
 * 1.74 has none; docs/ABI.md#arm64-windows). The TEB is addressed through x18.
 *
 *   offset | size | saved item                          | make_fcontext writes
 *   -------+------+-------------------------------------+---------------------
 *     0x00 | 8x8  | d8 .. d15                           | -
 *     0x40 | 10x8 | x19 .. x28                          | 0x40 (x19): fn
 *     0x90 |    8 | x29 (frame pointer)                 | 0   <- Boost: garbage
 *     0x98 |    8 | x30 (link register)                 | address of finish
 *     0xA0 |    8 | TEB StackBase (TEB+0x08)            | sp as passed
 *     0xA8 |    8 | TEB StackLimit (TEB+0x10)           | sp - size
 *     0xB0 |    8 | TEB DeallocationStack (TEB+0x1478)  | sp - size
 *     0xB8 |    8 | TEB FiberData (TEB+0x20)            | 0
 *     0xC0 |    8 | resume address (PC)                 | address of trampoline
 *     0xC8 |    8 | padding (16-byte frame)             | -
 *
 * fctx of a fresh context = (sp & ~15) - 0xD0. Its first resume enters the
 * trampoline with SP = fctx + 0xD0, x0:x1 = transfer_t, x19 = fn,
 * x29 = 0, x30 = finish; the trampoline pushes the frame record {0, finish}
 * and calls fn, so fn starts with SP = fctx + 0xC0 (16-aligned), a frame
 * chain that ends in a null record, and LR = finish.
 *
 * Deliberate differences from Boost: make zeroes the saved x29, and
 * ontop_fcontext releases the whole 0xD0-byte frame (Boost's releases
 * 0xC0, leaving SP 16 bytes low in the target: boostorg/context #336).
 * No .pdata/.xdata unwind records (as Boost's files): exceptions must not
 * cross a context switch anyway. FPCR is not saved (global state, as on
 * every AAPCS64 target).
 */

/*
 * TEB access. FCONTEXT_TEB_EMULATION (conformance only: the
 * aarch64-windows-logic-on-linux row) reads and writes a plain array
 * `fc_fake_teb` instead, so this file's logic runs under qemu-aarch64 where
 * x18 belongs to no one. Production builds always use x18.
 */
#ifdef FCONTEXT_TEB_EMULATION
#  define TEB x9
#  define TEB_ADDRESS adrp x9, fc_fake_teb; add x9, x9, :lo12:fc_fake_teb
#else
#  define TEB x18
#  define TEB_ADDRESS
#endif

    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
    .globl  make_fcontext
    .p2align 4
make_fcontext:
    and     x4, x0, #~15            /* AAPCS64: SP 16-byte aligned */
    sub     x4, x4, #0xd0           /* room for one frame below the top */
    str     x0, [x4, #0xa0]         /* TEB StackBase inside the context */
    sub     x5, x0, x1              /* lowest usable address */
    stp     x5, x5, [x4, #0xa8]     /* StackLimit and DeallocationStack */
    str     xzr, [x4, #0xb8]        /* no fiber data */
    str     x2, [x4, #0x40]         /* the trampoline calls fn from x19 */
    adr     x5, fcontext_finish     /* position-independent address of finish */
    stp     xzr, x5, [x4, #0x90]    /* x29 = 0 ends frame chains; x30 = finish */
    adr     x5, fcontext_trampoline /* and of the trampoline */
    str     x5, [x4, #0xc0]         /* first resume enters the trampoline */
    mov     x0, x4                  /* return fctx */
    ret                             /* back to make's caller */

/* First code of a fresh context: give fn a frame record, call it; if it
   returns, fall into finish. */
    .p2align 4
fcontext_trampoline:
    stp     x29, x30, [sp, #-16]!   /* record {0, finish}: walkers stop here */
    mov     x29, sp                 /* fn's caller frame is that record */
    blr     x19                     /* fn(transfer_t) with x0:x1 from the jump */
fcontext_finish:
    mov     x0, #0                  /* exit status 0 */
    bl      _exit                   /* _exit: the context owns no atexit duty */
    brk     #0xf000                 /* _exit does not return */

#include "common/arm64_callee_saved.inc"

/* Saves the running context below SP (x5, x6 scratch). */
.macro SAVE_FRAME
    sub     sp, sp, #0xd0           /* our frame on our own stack */
    STORE_CALLEE_SAVED              /* d8-d15, x19-x28 at 0x00-0x88 */
    stp     x29, x30, [sp, #0x90]   /* frame pointer and return address */
    TEB_ADDRESS
    ldr     x5, [TEB, #0x08]        /* TEB StackBase of the running context */
    ldr     x6, [TEB, #0x10]        /* TEB StackLimit */
    stp     x5, x6, [sp, #0xa0]     /* into the frame: base and limit */
    ldr     x5, [TEB, #0x1478]      /* TEB DeallocationStack */
    ldr     x6, [TEB, #0x20]        /* TEB FiberData */
    stp     x5, x6, [sp, #0xb0]     /* into the frame: dealloc stack and fiber data */
    str     x30, [sp, #0xc0]        /* resume address = our return address */
.endm

/* Loads the target's frame at SP into registers and the TEB (x5, x6 scratch). */
.macro LOAD_FRAME
    LOAD_CALLEE_SAVED               /* d8-d15, x19-x28 from 0x00-0x88 */
    ldp     x29, x30, [sp, #0x90]   /* fresh: x29 = 0, x30 = finish */
    TEB_ADDRESS
    ldp     x5, x6, [sp, #0xa0]     /* the target's stack bounds ... */
    str     x5, [TEB, #0x08]        /* ... go back into the TEB, so guard-page */
    str     x6, [TEB, #0x10]        /*     growth and stack probes see them */
    ldp     x5, x6, [sp, #0xb0]     /* the target's dealloc stack and fiber data */
    str     x5, [TEB, #0x1478]      /* DeallocationStack of the target */
    str     x6, [TEB, #0x20]        /* FiberData of the target */
.endm

/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
    .globl  jump_fcontext
    .p2align 4
jump_fcontext:
    SAVE_FRAME
    mov     x4, sp                  /* our frame is the fctx the target receives */
    mov     sp, x0                  /* switch to the target's frame */
    LOAD_FRAME
    ldr     x7, [sp, #0xc0]         /* where the target continues (fresh: trampoline) */
    add     sp, sp, #0xd0           /* target's SP as after its pending call */
    mov     x0, x4                  /* transfer_t.fctx; x1 still holds vp */
    ret     x7                      /* a return, not a branch: BTI-neutral */

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
    .globl  ontop_fcontext
    .p2align 4
ontop_fcontext:
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    mov     x4, sp                  /* our fctx, handed to fn */
    mov     sp, x0                  /* switch to the target's frame */
    LOAD_FRAME                      /* x30 = target's resume address: fn returns there */
    add     sp, sp, #0xd0           /* the WHOLE frame (Boost: 0xC0, SP left 16 low) */
    mov     x0, x4                  /* fn's argument {our fctx, vp} in x0:x1 */
    ret     x2                      /* fn's x0:x1 result is the pending call's */

/* Boost >= 1.87 declares the three functions as C++ names in boost::context::detail. */
#if defined(FCONTEXT_TEB_EMULATION)
/* (no C++ names in the emulation build) */
#elif defined(__MINGW32__)
/* Itanium names; size_t is unsigned long long (`y`) on LLP64 Windows. */
    .globl  _ZN5boost7context6detail13make_fcontextEPvyPFvNS1_10transfer_tEE
    .set    _ZN5boost7context6detail13make_fcontextEPvyPFvNS1_10transfer_tEE, make_fcontext
    .globl  _ZN5boost7context6detail13jump_fcontextEPvS2_
    .set    _ZN5boost7context6detail13jump_fcontextEPvS2_, jump_fcontext
    .globl  _ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E
    .set    _ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E, ontop_fcontext
#else
/* MSVC names (as clang's MSVC mangler spells them). */
    .globl  "?make_fcontext@detail@context@boost@@YAPEAXPEAX_KP6AXUtransfer_t@123@@Z@Z"
    .set    "?make_fcontext@detail@context@boost@@YAPEAXPEAX_KP6AXUtransfer_t@123@@Z@Z", make_fcontext
    .globl  "?jump_fcontext@detail@context@boost@@YA?AUtransfer_t@123@QEAXPEAX@Z"
    .set    "?jump_fcontext@detail@context@boost@@YA?AUtransfer_t@123@QEAXPEAX@Z", jump_fcontext
    .globl  "?ontop_fcontext@detail@context@boost@@YA?AUtransfer_t@123@QEAXPEAXP6A?AU4123@U4123@@Z@Z"
    .set    "?ontop_fcontext@detail@context@boost@@YA?AUtransfer_t@123@QEAXPEAXP6A?AU4123@U4123@@Z@Z", ontop_fcontext
#endif
