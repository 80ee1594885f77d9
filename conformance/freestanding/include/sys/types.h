/* Freestanding shim (conformance/freestanding/README.md). */
#ifndef FC_RT_SYS_TYPES_H
#define FC_RT_SYS_TYPES_H
typedef int pid_t;
typedef long ssize_t;
#endif
