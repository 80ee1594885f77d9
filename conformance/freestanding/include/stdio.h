/* Freestanding shim (conformance/freestanding/README.md): the stdio subset
   conformance/harness.c uses. stdout and stderr are unbuffered (one write(2)
   per call); streams from fdopen are fully buffered. */
#ifndef FC_RT_STDIO_H
#define FC_RT_STDIO_H
#include <stdarg.h>
#include <stddef.h>

typedef struct fc_rt_file FILE;
extern FILE *stdout;
extern FILE *stderr;

#define EOF (-1)
#define _IOFBF 0
#define _IOLBF 1
#define _IONBF 2

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fflush(FILE *f);
FILE *fdopen(int fd, const char *mode);
int fputs(const char *s, FILE *f);
int setvbuf(FILE *f, char *buf, int mode, size_t size);
#endif
