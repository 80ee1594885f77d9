/*
 * fcontext for arm64, AAPCS64 (Apple variant), Mach-O, clang assembler.
 *
 * Frame of a suspended context (fctx = its lowest address), identical to
 * Boost.Context 1.74 and to the ELF file (docs/ABI.md#arm64-elf-and-mach-o):
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
 * fctx of a fresh context = (sp & ~15) - 0xB0. Apple's arm64 ABI keeps the
 * AAPCS64 callee-saved set (x19-x28, x29, d8-d15) that matters here, and
 * reserves x18, which a switch never touches.
 *
 * The instructions are those of arm64_aapcs_elf_gas.S, included below: with
 * __APPLE__ defined it emits Mach-O names (`_make_fcontext`, `__exit`, the
 * Boost >= 1.87 aliases with the doubled underscore) and no ELF notes, BTI
 * landing pads or .type/.size directives.
 */
#include "arm64_aapcs_elf_gas.S"
