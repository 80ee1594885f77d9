/*
 * fcontext for x86_64, System V ABI, Mach-O (macOS), clang assembler.
 *
 * Frame of a suspended context (fctx = its lowest address), identical to
 * Boost.Context 1.74 and to the ELF file (docs/ABI.md#x86_64-sysv):
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
 * fctx of a fresh context = (sp & ~15) - 0x40. The instructions are those of
 * x86_64_sysv_elf_gas.S, included below (the push-based switch sequence, its
 * unwind info and the endbr64 landing pads): with __APPLE__ defined it emits
 * Mach-O names (`_make_fcontext`, `__exit`, the Boost >= 1.87 aliases with
 * the doubled underscore) and no ELF notes or .type/.size directives.
 */
#include "x86_64_sysv_elf_gas.S"
