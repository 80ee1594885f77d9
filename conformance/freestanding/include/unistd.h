/* Freestanding shim (conformance/freestanding/README.md): raw Linux syscalls. */
#ifndef FC_RT_UNISTD_H
#define FC_RT_UNISTD_H
#include <stddef.h>
#include <sys/types.h>

_Noreturn void _exit(int status);
pid_t fork(void);
pid_t getpid(void);
ssize_t write(int fd, const void *buf, size_t n);
ssize_t read(int fd, void *buf, size_t n);
int close(int fd);
int pipe(int fds[2]);
#endif
