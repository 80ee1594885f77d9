/*
 * Stand-in for the Windows TEB in the aarch64-windows-logic-on-linux matrix
 * row: asm/arm64_aapcs_pe_armclang.S built with FCONTEXT_TEB_EMULATION
 * addresses this array where Windows code would use x18. Big enough for the
 * highest field the switch touches (DeallocationStack at 0x1478).
 */
unsigned char fc_fake_teb[0x1480] __attribute__((aligned(16)));
