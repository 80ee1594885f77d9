/* Freestanding shim (conformance/freestanding/README.md): the string.h subset
   conformance/harness.c uses (and the compiler may call for copies). */
#ifndef FC_RT_STRING_H
#define FC_RT_STRING_H
#include <stddef.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
char *strstr(const char *hay, const char *needle);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif
