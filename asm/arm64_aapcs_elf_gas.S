/*
 * fcontext for arm64 (AArch64), AAPCS64, ELF, GNU assembler.
 * The same text, assembled for Apple targets, is arm64_aapcs_macho_gas.S
 * (that file includes this one; only symbol decoration and ELF notes differ).
 *
 * Frame of a suspended context. `fctx` is the address of its lowest byte and
 * the saved stack pointer. Layout identical to Boost.Context 1.74
 * (docs/ABI.md#arm64-elf-and-mach-o), so suspended and fresh frames of
 * either library resume each other.
 *
 *   offset | size | saved item               | make_fcontext writes
 *   -------+------+--------------------------+-------------------------------
 *     0x00 | 8x8  | d8 .. d15 (ascending)    | -
 *     0x40 | 10x8 | x19 .. x28 (ascending)   | -
 *     0x90 |    8 | x29 (frame pointer)      | 0        <- Boost 1.74: garbage
 *     0x98 |    8 | x30 (link register)      | address of finish
 *     0xA0 |    8 | resume address (PC)      | entry function
 *     0xA8 |    8 | padding (16-byte frame)  | -
 *
 * fctx of a fresh context = (sp & ~15) - 0xB0; the entry function starts with
 * SP = fctx + 0xB0 (16-byte aligned, as AAPCS64 requires at every call),
 * x0:x1 = transfer_t {jumper's fctx, data}, x30 = finish, x29 = 0.
 *
 * Deliberate difference from Boost 1.74: make_fcontext stores 0 as the saved
 * x29, so a frame-pointer walker started inside the entry function reaches a
 * null frame record and stops, instead of following stack garbage. Frames
 * stay byte-compatible (Boost's jump loads whatever is in the slot).
 *
 * Not saved: FPCR/FPSR. AAPCS64 makes their mode bits global state of the
 * thread, changed only through <fenv.h>, not a callee-saved register; like
 * Boost, a switch leaves them alone. transfer_t (two pointers) is returned
 * in x0:x1 and passed by value in x0:x1.
 *
 * Branch protection (ELF): make, jump and ontop start with `bti c` (they may
 * be reached by `blr` or a PLT `br x17`). Resume addresses, entry functions,
 * ontop functions and finish are all entered with `ret`, which BTI does not
 * check, so they need no landing pad; the object carries the BTI property.
 * Nothing here signs a return address, so the PAC property is not claimed.
 */

#if defined(__APPLE__)
#  define FC_SYM(name) _##name
#  define FC_FUNC(name) .globl FC_SYM(name) %% .p2align 4 %% FC_SYM(name):
#  define FC_END(name)
#  define FC_LANDING_PAD
#else
#  define FC_SYM(name) name
#  define FC_FUNC(name) .globl name; .type name, %function; .p2align 4; name:
#  define FC_END(name) .size name, .-name
/* hint #34 is `bti c`; as a hint it is a nop on cores without BTI. */
#  define FC_LANDING_PAD hint #34
#endif

    .text

/* fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t)) */
FC_FUNC(make_fcontext)
    .cfi_startproc
    FC_LANDING_PAD                  /* reachable through blr / PLT br x17 */
    and     x0, x0, #~15            /* AAPCS64: SP must be 16-byte aligned */
    sub     x0, x0, #0xb0           /* room for one frame below the top */
    str     x2, [x0, #0xa0]         /* first resume "returns" into fn */
    adr     x3, fcontext_finish     /* fn's return lands in finish */
    stp     xzr, x3, [x0, #0x90]    /* x29 = 0 ends frame-record chains; x30 = finish */
    ret                             /* x0 = fctx of the fresh context */
    .cfi_endproc
FC_END(make_fcontext)

/*
 * finish: the entry function returned. One unwind procedure whose return
 * address is undefined, so an unwinder stops here; the leading nop puts
 * finish-1 (where an unwinder looks up a return address) inside it.
 */
    .p2align 2
    .cfi_startproc
    .cfi_undefined x30
    nop                             /* finish-1 must belong to this FDE */
fcontext_finish:
    mov     x0, #0                  /* exit status 0 */
#if defined(__APPLE__)
    bl      FC_SYM(_exit)           /* _exit: skip atexit handlers, the context owns none */
#else
    bl      _exit                   /* _exit: skip atexit handlers, the context owns none */
#endif
    brk     #0                      /* _exit does not return */
    .cfi_endproc

#include "common/arm64_callee_saved.inc"

/* Pushes the running context's frame (same for jump and ontop, so either resumes it). */
.macro SAVE_FRAME
    sub     sp, sp, #0xb0           /* our frame on our own stack */
    .cfi_def_cfa_offset 0xb0
    STORE_CALLEE_SAVED              /* d8-d15, x19-x28 at 0x00-0x88 */
    stp     x29, x30, [sp, #0x90]   /* frame pointer and return address */
    str     x30, [sp, #0xa0]        /* resume address = where our caller continues */
    .cfi_offset x19, -0x70
    .cfi_offset x20, -0x68
    .cfi_offset x21, -0x60
    .cfi_offset x22, -0x58
    .cfi_offset x23, -0x50
    .cfi_offset x24, -0x48
    .cfi_offset x25, -0x40
    .cfi_offset x26, -0x38
    .cfi_offset x27, -0x30
    .cfi_offset x28, -0x28
    .cfi_offset x29, -0x20
    .cfi_offset x30, -0x18
.endm


/* transfer_t jump_fcontext(fcontext_t const to, void *vp) */
FC_FUNC(jump_fcontext)
    .cfi_startproc
    FC_LANDING_PAD                  /* reachable through blr / PLT br x17 */
    SAVE_FRAME
    mov     x4, sp                  /* our frame is the fctx the target receives */
    mov     sp, x0                  /* switch stacks (target frame has the same layout) */
    LOAD_CALLEE_SAVED               /* d8-d15, x19-x28 from 0x00-0x88 */
    ldp     x29, x30, [sp, #0x90]   /* fresh: x29 = 0, x30 = finish */
    ldr     x5, [sp, #0xa0]         /* where the target continues (fresh: fn) */
    add     sp, sp, #0xb0           /* target's SP as after its pending call */
    .cfi_def_cfa_offset 0
    .cfi_register x30, x5
    mov     x0, x4                  /* transfer_t.fctx; x1 still holds vp = .data */
    ret     x5                      /* a return, not a branch: no BTI pad needed there */
    .cfi_endproc
FC_END(jump_fcontext)

/* transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t)) */
FC_FUNC(ontop_fcontext)
    .cfi_startproc
    FC_LANDING_PAD                  /* reachable through blr / PLT br x17 */
    SAVE_FRAME                      /* same frame as jump, so either resumes it */
    mov     x4, sp                  /* our frame is the fctx handed to fn */
    mov     sp, x0                  /* switch to the target's frame */
    LOAD_CALLEE_SAVED               /* d8-d15, x19-x28 from 0x00-0x88 */
    ldp     x29, x30, [sp, #0x90]   /* x30 = target's resume address: fn returns there */
    add     sp, sp, #0xb0           /* the PC slot is not needed: x30 already has it */
    .cfi_def_cfa_offset 0
    mov     x0, x4                  /* fn's argument: {our fctx, vp} in x0:x1 */
    ret     x2                      /* enter fn; its x0:x1 result is the pending call's */
    .cfi_endproc
FC_END(ontop_fcontext)

/* Boost >= 1.87 declares the three functions as C++ names in boost::context::detail. */
#if defined(__APPLE__)
#include "common/macho_boost187_aliases.inc"
#else
#define FC_SIZE_T_CODE m
#include "common/elf_boost187_aliases.inc"

/* Objects linked into a BTI-guarded program must declare they are BTI-safe. */
    .section .note.gnu.property, "a"
    .p2align 3
    .long   4                       /* name size ("GNU\0") */
    .long   16                      /* descriptor size */
    .long   5                       /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz  "GNU"
    .long   0xc0000000              /* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
    .long   4                       /* data size */
    .long   1                       /* BTI only: nothing here signs return addresses (PAC) */
    .p2align 3

/* The context switch needs no executable stack. */
    .section .note.GNU-stack, "", %progbits
#endif
