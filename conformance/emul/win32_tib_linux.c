/*
 * Lets the 32-bit Windows context-switch objects (asm/i386_ms_pe_*), converted
 * from COFF to ELF, run on Linux i386: before main, points the fs segment at a
 * fake Thread Information Block, the way Windows does for every thread, so
 * their fs:[0x18] / fs:[0] accesses reach memory with the same layout. The
 * TIB holds what those objects and the harness read: ExceptionList (a chain
 * with one terminal SEH record), StackBase, StackLimit, FiberData,
 * DeallocationStack and the Self pointer. Linux i386 code never uses fs
 * (glibc keeps its thread pointer in gs). Used only by the matrix rows
 * `i686-*-windows-*-on-linux` of conformance/targets.ini.
 */
#include <asm/ldt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(__i386__) || !defined(__linux__)
#error "win32_tib_linux.c is for Linux i386 only"
#endif

static unsigned char fake_tib[0x1000];
static void *terminal_record[2];

/* Stands in for ntdll's final exception handler; never called. */
static int final_handler(void) {
    abort();
}

__attribute__((constructor)) static void install_fake_tib(void) {
    char here;
    void *words[6];
    terminal_record[0] = (void *)-1; /* end of chain */
    terminal_record[1] = (void *)final_handler;
    words[0] = terminal_record;                          /* 0x00 ExceptionList */
    words[1] = (void *)(((unsigned long)&here + 0xFFFFF) & ~0xFFFFFUL); /* 0x04 StackBase */
    words[2] = (void *)((unsigned long)words[1] - 0x800000); /* 0x08 StackLimit (8 MiB) */
    words[3] = NULL;                                     /* 0x0c SubSystemTib */
    words[4] = (void *)0x1234;                           /* 0x10 FiberData: thread value */
    words[5] = NULL;                                     /* 0x14 ArbitraryUserPointer */
    memcpy(fake_tib, words, sizeof words);
    void *self = fake_tib;
    memcpy(fake_tib + 0x18, &self, sizeof self);         /* 0x18 Self */
    memcpy(fake_tib + 0xE0C, &words[2], sizeof(void *)); /* DeallocationStack */

    struct user_desc d;
    memset(&d, 0, sizeof d);
    d.entry_number = 0;
    d.base_addr = (unsigned long)fake_tib;
    d.limit = sizeof fake_tib - 1;
    d.seg_32bit = 1;
    d.useable = 1;
    if (syscall(SYS_modify_ldt, 1, &d, sizeof d) != 0) {
        /* e.g. a container's seccomp filter: the matrix reports the row as
           unavailable (a failure under FCONTEXT_REQUIRE_ALL=1), not as broken. */
        printf("fc-harness: unavailable: modify_ldt failed (%s)\n", strerror(errno));
        exit(97);
    }
    unsigned short selector = (0 << 3) | 4 | 3; /* LDT entry 0, user privilege */
    __asm__ volatile("movw %0, %%fs" ::"r"(selector));
}
