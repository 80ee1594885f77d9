/*
 * Process entry of the freestanding loongarch64 harness (see
 * loongarch64_rt.c). The kernel (here qemu-loongarch64) enters a static
 * executable at _start with sp at argc, followed by argv[], NULL, envp[].
 */
    .text
    .globl  _start
    .type   _start, @function
    .p2align 2
_start:
    .cfi_startproc
    .cfi_undefined 1                /* outermost frame: no return address */
    move    $fp, $zero              /* frame-pointer walkers stop here */
    move    $ra, $zero
    ld.d    $a0, $sp, 0             /* argc */
    addi.d  $a1, $sp, 8             /* argv */
    bstrins.d $sp, $zero, 3, 0      /* psABI: 16-byte aligned at the call */
    bl      fc_rt_start             /* calls main, then exit; never returns */
    break   0
    .cfi_endproc
    .size   _start, .-_start

    .section .note.GNU-stack, "", @progbits
