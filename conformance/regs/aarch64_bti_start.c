/*
 * Process entry for the BTI-guarded AArch64 conformance run
 * (targets.ini row aarch64-linux-gnu-bti).
 *
 * That run compiles with -mbranch-protection=standard, links with
 * `-nostartfiles -z force-bti` and runs under `qemu-aarch64 -cpu max`, so
 * every page of the harness executable is guarded: an indirect branch into it
 * must land on a BTI instruction. Debian's crt1.o, crti.o and crtbegin.o carry
 * no landing pads (ld.so enters _start with `br x16`, which would fault), hence
 * this file replaces them. libc and ld.so stay unguarded (no BTI property).
 *
 * Before the harness's main runs, a forked child calls fc_bti_unguarded, a
 * function without a landing pad, through a pointer. It must die of SIGILL;
 * otherwise BTI is not enforced and the run proves nothing, so the program
 * reports FAIL and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv, char **envp);
int fc_bti_main(int argc, char **argv, char **envp);
int fc_bti_unguarded(void);
int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

__asm__(".text\n"
        ".globl _start\n"
        ".type _start, %function\n"
        ".p2align 2\n"
        "_start:\n"
        "  bti c\n"                           /* ld.so enters with br x16 */
        "  mov x29, #0\n"                     /* outermost frame for walkers */
        "  mov x30, #0\n"                     /* no return address */
        "  mov x5, x0\n"                      /* rtld_fini from ld.so */
        "  ldr x1, [sp]\n"                    /* argc */
        "  add x2, sp, #8\n"                  /* argv */
        "  mov x6, sp\n"                      /* stack_end */
        "  adrp x0, :got:fc_bti_main\n"
        "  ldr x0, [x0, #:got_lo12:fc_bti_main]\n"
        "  mov x3, #0\n"                      /* glibc >= 2.34 runs init_array itself */
        "  mov x4, #0\n"
        "  bl __libc_start_main\n"            /* never returns */
        "  brk #0\n"
        ".size _start, .-_start\n"
        ".globl fc_bti_unguarded\n"
        ".type fc_bti_unguarded, %function\n"
        ".p2align 2\n"
        "fc_bti_unguarded:\n"
        "  mov x0, #1\n"                      /* deliberately no landing pad */
        "  ret\n"
        ".size fc_bti_unguarded, .-fc_bti_unguarded\n");

/* volatile: the call must stay an indirect branch (blr). */
static int (*volatile g_unguarded)(void) = fc_bti_unguarded;

int fc_bti_main(int argc, char **argv, char **envp) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(g_unguarded() == 1 ? 0 : 2);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        printf("FAIL BTI probe: fork/waitpid failed\n");
        return 1;
    }
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGILL) {
        printf("FAIL BTI probe: a blr to a function without a landing pad did not raise SIGILL "
               "(status %#x): this run does not enforce BTI\n", status);
        return 1;
    }
    return main(argc, argv, envp);
}
