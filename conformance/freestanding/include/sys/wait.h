/* Freestanding shim (conformance/freestanding/README.md): wait4(2) and the
   Linux encoding of a wait status. */
#ifndef FC_RT_SYS_WAIT_H
#define FC_RT_SYS_WAIT_H
#include <sys/types.h>

#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WTERMSIG(s) ((s) & 0x7f)
#define WIFEXITED(s) (WTERMSIG(s) == 0)
#define WIFSIGNALED(s) (WTERMSIG(s) != 0 && WTERMSIG(s) != 0x7f)

pid_t waitpid(pid_t pid, int *status, int options);
#endif
