/* Freestanding shim (conformance/freestanding/README.md): the stdlib subset
   conformance/harness.c uses. malloc hands out a static arena. */
#ifndef FC_RT_STDLIB_H
#define FC_RT_STDLIB_H
#include <stddef.h>

void *malloc(size_t size);
void free(void *p);
_Noreturn void exit(int status);
_Noreturn void abort(void);
unsigned long strtoul(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);
int atoi(const char *s);
#endif
