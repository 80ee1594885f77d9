/*
 * Freestanding C runtime for the loongarch64 conformance run (targets.ini row
 * loongarch64-linux-gnu; conformance/freestanding/README.md says why).
 *
 * Debian 12 ships no loongarch64 C library, so the harness is linked
 * -nostdlib -static against this file and loongarch64_start.S instead and
 * runs under qemu-loongarch64. It provides exactly what conformance/harness.c
 * calls, on raw Linux syscalls (asm-generic numbers, `syscall 0`):
 *   stdio   printf / vprintf / snprintf / vsnprintf (flags - + space # 0,
 *           width, precision, h/l/ll/z/j; d i u x X o c s p % and f e g for
 *           doubles, whose last digits may be off: they only appear in
 *           failure messages) on unbuffered stdout/stderr; fdopen streams,
 *           fully buffered (fputs, fflush, setvbuf), flushed by exit only
 *   stdlib  malloc/free over a static arena, exit, abort, strtol, strtoul, atoi
 *   string  memset memcpy memmove memcmp strlen strcmp strncmp strstr
 *   unistd  read, write, close, pipe (pipe2), _exit, getpid, fork (clone
 *           with SIGCHLD), waitpid (wait4)
 *   dlfcn   dlopen fails and dladdr knows nothing: a static executable has
 *           no loader (no interop run)
 * Built with -ffreestanding (no builtins), so the compiler emits no calls
 * beyond these (memcpy/memset for aggregate copies are here).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------- syscalls */

enum {
    SYS_close = 57,
    SYS_pipe2 = 59,
    SYS_read = 63,
    SYS_write = 64,
    SYS_exit_group = 94,
    SYS_kill = 129,
    SYS_getpid = 172,
    SYS_clone = 220,
    SYS_wait4 = 260,
};

enum { SIG_ABRT = 6, SIG_CHLD = 17 };

/* The kernel takes the number in a7 and up to six arguments in a0-a5, returns
   in a0 and may clobber t0-t8. */
static long sys5(long n, long a, long b, long c, long d, long e) {
    register long a7 __asm__("$a7") = n;
    register long a0 __asm__("$a0") = a;
    register long a1 __asm__("$a1") = b;
    register long a2 __asm__("$a2") = c;
    register long a3 __asm__("$a3") = d;
    register long a4 __asm__("$a4") = e;
    __asm__ volatile("syscall 0"
                     : "+r"(a0)
                     : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4)
                     : "$t0", "$t1", "$t2", "$t3", "$t4", "$t5", "$t6", "$t7", "$t8", "memory");
    return a0;
}

ssize_t write(int fd, const void *buf, size_t n) {
    const char *p = buf;
    size_t left = n;
    while (left) {
        long r = sys5(SYS_write, fd, (long)p, (long)left, 0, 0);
        if (r == -4) /* EINTR */
            continue;
        if (r <= 0)
            return -1;
        p += r;
        left -= (size_t)r;
    }
    return (ssize_t)n;
}

ssize_t read(int fd, void *buf, size_t n) {
    long r;
    do
        r = sys5(SYS_read, fd, (long)buf, (long)n, 0, 0);
    while (r == -4); /* EINTR */
    return r < 0 ? -1 : (ssize_t)r;
}

int close(int fd) {
    return sys5(SYS_close, fd, 0, 0, 0, 0) < 0 ? -1 : 0;
}

int pipe(int fds[2]) {
    return sys5(SYS_pipe2, (long)fds, 0, 0, 0, 0) < 0 ? -1 : 0;
}

_Noreturn void _exit(int status) {
    for (;;)
        sys5(SYS_exit_group, status, 0, 0, 0, 0);
}

/* exit flushes the buffered streams (fdopen's), as the C library does, so the
   harness's "finish calls _exit, not exit" check means the same here;
   nothing is ever registered with atexit. */
int fflush(FILE *f);
_Noreturn void exit(int status) {
    fflush(NULL);
    _exit(status);
}

pid_t getpid(void) {
    return (pid_t)sys5(SYS_getpid, 0, 0, 0, 0, 0);
}

_Noreturn void abort(void) {
    sys5(SYS_kill, getpid(), SIG_ABRT, 0, 0, 0);
    _exit(127); /* SIGABRT was blocked or ignored */
}

/* fork is clone(SIGCHLD) without a new stack: the child continues on a copy. */
pid_t fork(void) {
    long r = sys5(SYS_clone, SIG_CHLD, 0, 0, 0, 0);
    return r < 0 ? -1 : (pid_t)r;
}

pid_t waitpid(pid_t pid, int *status, int options) {
    long r;
    do
        r = sys5(SYS_wait4, pid, (long)status, options, 0, 0);
    while (r == -4); /* EINTR */
    return r < 0 ? -1 : (pid_t)r;
}

/* -------------------------------------------------------------- dlfcn */

void *dlopen(const char *file, int mode) {
    (void)file;
    (void)mode;
    return NULL;
}

void *dlsym(void *handle, const char *name) {
    (void)handle;
    (void)name;
    return NULL;
}

int dladdr(const void *addr, Dl_info *info) {
    (void)addr;
    (void)info;
    return 0; /* no loader, so no shared object to name */
}

char *dlerror(void) {
    return "no dynamic loader: the freestanding loongarch64 harness is static";
}

/* ------------------------------------------------------------- string */

void *memset(void *d, int c, size_t n) {
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n) {
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, size_t n) {
    unsigned char *p = d;
    const unsigned char *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            break;
    }
    return 0;
}

char *strstr(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncmp(hay, needle, n))
            return (char *)hay;
    return n ? NULL : (char *)hay;
}

int strcmp(const char *a, const char *b) {
    return strncmp(a, b, (size_t)-1);
}

/* ------------------------------------------------------------- stdlib */

/* The harness holds at most a few 256 KiB stacks at once; 8 MiB is ample. A
   bump allocator whose free gives back only the most recent block. */
#define ARENA_BYTES (8u << 20)
static unsigned char g_arena[ARENA_BYTES] __attribute__((aligned(16)));
static size_t g_arena_used;
static size_t g_last_start = (size_t)-1;

void *malloc(size_t size) {
    size_t start = (g_arena_used + 15) & ~(size_t)15;
    if (size > ARENA_BYTES - start)
        return NULL;
    g_last_start = start;
    g_arena_used = start + size;
    return g_arena + start;
}

void free(void *p) {
    if (p && (unsigned char *)p == g_arena + g_last_start) {
        g_arena_used = g_last_start;
        g_last_start = (size_t)-1;
    }
}

static int digit_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

/* Sign, base prefix (base 0 or 16: 0x; base 0: leading 0 = octal), digits. */
static unsigned long parse_number(const char *s, char **end, int base, int *negative) {
    const char *p = s;
    unsigned long v = 0;
    int any = 0;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    *negative = 0;
    if (*p == '+' || *p == '-')
        *negative = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    for (; digit_value(*p) < base; p++, any = 1)
        v = v * (unsigned long)base + (unsigned long)digit_value(*p);
    if (end)
        *end = (char *)(any ? p : s);
    return v;
}

unsigned long strtoul(const char *s, char **end, int base) {
    int negative;
    unsigned long v = parse_number(s, end, base, &negative);
    return negative ? -v : v;
}

long strtol(const char *s, char **end, int base) {
    int negative;
    unsigned long v = parse_number(s, end, base, &negative);
    return negative ? -(long)v : (long)v;
}

int atoi(const char *s) {
    return (int)strtol(s, NULL, 10);
}

/* -------------------------------------------------------------- stdio */

/* stdout and stderr are unbuffered (one write per call); streams made by
   fdopen buffer fully until fflush, a full buffer or exit. */
enum { FILE_BUF = 256, MAX_FILES = 4 };
static struct fc_rt_file {
    int fd;
    int buffered;
    size_t len;
    char buf[FILE_BUF];
} g_stdout = {1, 0, 0, {0}}, g_stderr = {2, 0, 0, {0}}, g_files[MAX_FILES];
static int g_nfiles;
FILE *stdout = &g_stdout;
FILE *stderr = &g_stderr;

FILE *fdopen(int fd, const char *mode) {
    (void)mode;
    if (g_nfiles == MAX_FILES)
        return NULL;
    FILE *f = &g_files[g_nfiles++];
    f->fd = fd;
    f->buffered = 1;
    f->len = 0;
    return f;
}

int fflush(FILE *f) {
    if (!f) {
        for (int i = 0; i < g_nfiles; i++)
            fflush(&g_files[i]);
        return 0;
    }
    if (f->len && write(f->fd, f->buf, f->len) < 0)
        return EOF;
    f->len = 0;
    return 0;
}

int fputs(const char *s, FILE *f) {
    size_t n = strlen(s);
    if (!f->buffered)
        return write(f->fd, s, n) < 0 ? EOF : 0;
    for (size_t i = 0; i < n; i++) {
        if (f->len == FILE_BUF && fflush(f) != 0)
            return EOF;
        f->buf[f->len++] = s[i];
    }
    return 0;
}

int setvbuf(FILE *f, char *buf, int mode, size_t size) {
    (void)buf;
    (void)size;
    if (f != stdout && f != stderr)
        f->buffered = mode != _IONBF;
    return 0;
}

/* Output cursor: writes what fits, counts everything. */
typedef struct {
    char *buf;
    size_t cap; /* bytes available for characters (the NUL excluded) */
    size_t len; /* characters produced so far */
} out_t;

static void put(out_t *o, char c) {
    if (o->len < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void put_n(out_t *o, char c, int n) {
    while (n-- > 0)
        put(o, c);
}

/* Spec of one conversion. */
typedef struct {
    int left, plus, space, alt, zero;
    int width, prec; /* prec < 0: none */
} spec_t;

/* Emits prefix + (zeros) + body padded to the width. */
static void emit(out_t *o, const spec_t *s, const char *prefix, const char *body, int body_len,
                 int zeros) {
    int plen = (int)strlen(prefix);
    int total = plen + zeros + body_len;
    int pad = s->width > total ? s->width - total : 0;
    if (!s->left && !s->zero)
        put_n(o, ' ', pad);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (!s->left && s->zero)
        put_n(o, '0', pad);
    put_n(o, '0', zeros);
    for (int i = 0; i < body_len; i++)
        put(o, body[i]);
    if (s->left)
        put_n(o, ' ', pad);
}

static void emit_int(out_t *o, spec_t s, uint64_t v, int negative, int base, int upper) {
    char digits[32];
    int n = 0;
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    const char *prefix = negative ? "-" : s.plus ? "+" : s.space ? " " : "";
    if (s.alt && v != 0 && base == 16)
        prefix = upper ? "0X" : "0x";
    while (v) {
        digits[n++] = set[v % (unsigned)base];
        v /= (unsigned)base;
    }
    if (s.prec < 0 && n == 0)
        digits[n++] = '0';
    if (s.alt && base == 8 && (n == 0 || digits[n - 1] != '0'))
        digits[n++] = '0';
    char body[32];
    for (int i = 0; i < n; i++)
        body[i] = digits[n - 1 - i];
    int zeros = s.prec > n ? s.prec - n : 0;
    if (s.prec >= 0)
        s.zero = 0;
    emit(o, &s, prefix, body, n, zeros);
}

/* Decimal digits of a finite v >= 0: `ndig` significant digits into d[] and
   the decimal exponent of the first (v ~ 0.d0d1d2... * 10^(exp+1)). Repeated
   scaling by ten, so the last digits of 17 may differ from a correctly
   rounded printf. */
static int decimal_digits(double v, int ndig, char *d) {
    int exp = 0;
    if (v == 0) {
        for (int i = 0; i < ndig; i++)
            d[i] = '0';
        return 0;
    }
    while (v >= 1e16) {
        v /= 1e16;
        exp += 16;
    }
    while (v >= 10) {
        v /= 10;
        exp++;
    }
    while (v < 1e-16) {
        v *= 1e16;
        exp -= 16;
    }
    while (v < 1) {
        v *= 10;
        exp--;
    }
    /* v in [1, 10): take ndig digits as one integer, rounded. */
    int take = ndig > 17 ? 17 : ndig;
    double scaled = v;
    for (int i = 1; i < take; i++)
        scaled *= 10;
    uint64_t m = (uint64_t)(scaled + 0.5);
    uint64_t limit = 1;
    for (int i = 0; i < take; i++)
        limit *= 10;
    if (m >= limit) { /* rounding carried into a new digit */
        m /= 10;
        exp++;
    }
    for (int i = take - 1; i >= 0; i--) {
        d[i] = (char)('0' + m % 10);
        m /= 10;
    }
    for (int i = take; i < ndig; i++)
        d[i] = '0';
    return exp;
}

static void emit_double(out_t *o, spec_t s, double v, char conv) {
    char body[512];
    int n = 0;
    int negative = v < 0 || (v == 0 && 1 / v < 0);
    const char *prefix = negative ? "-" : s.plus ? "+" : s.space ? " " : "";
    int upper = conv == 'F' || conv == 'E' || conv == 'G';
    if (negative)
        v = -v;
    if (v != v || v > 1.7976931348623157e308) {
        const char *w = v != v ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
        s.zero = 0;
        emit(o, &s, prefix, w, 3, 0);
        return;
    }
    int prec = s.prec < 0 ? 6 : s.prec;
    char lower = (char)(conv | 0x20);
    char d[400];
    int exp;
    int style = lower; /* 'f' or 'e' after %g picks one */
    int strip = 0;
    if (lower == 'g') {
        int p = prec == 0 ? 1 : prec;
        if (p > 40)
            p = 40;
        exp = decimal_digits(v, p, d);
        if (exp < -4 || exp >= p) {
            style = 'e';
            prec = p - 1;
        } else {
            style = 'f';
            prec = p - 1 - exp;
        }
        strip = !s.alt;
    }
    if (prec > 40)
        prec = 40;
    if (style == 'e') {
        exp = decimal_digits(v, prec + 1, d);
        body[n++] = d[0];
        if (prec || s.alt)
            body[n++] = '.';
        for (int i = 1; i <= prec; i++)
            body[n++] = d[i];
    } else {
        /* exp + 1 digits before the point (none when exp < 0), prec after. */
        exp = decimal_digits(v, 1, d);
        int total = exp + 1 + prec;
        if (total > 360)
            total = 360;
        if (total > 0) {
            int e2 = decimal_digits(v, total, d);
            if (e2 != exp && total < 360) /* rounding carried into a new digit */
                total++;
            exp = decimal_digits(v, total, d);
        }
        if (exp < 0)
            body[n++] = '0';
        for (int i = 0; i <= exp; i++)
            body[n++] = i < total ? d[i] : '0';
        if (prec || s.alt)
            body[n++] = '.';
        for (int i = 1; i <= prec; i++) {
            int at = exp + i; /* index in d of the 10^-i digit */
            body[n++] = at >= 0 && at < total ? d[at] : '0';
        }
    }
    if (strip) {
        int dot = -1;
        for (int i = 0; i < n; i++)
            if (body[i] == '.')
                dot = i;
        if (dot >= 0) {
            while (n > dot + 1 && body[n - 1] == '0')
                n--;
            if (n == dot + 1)
                n--;
        }
    }
    if (style == 'e') {
        body[n++] = upper ? 'E' : 'e';
        body[n++] = exp < 0 ? '-' : '+';
        int e = exp < 0 ? -exp : exp;
        if (e >= 100)
            body[n++] = (char)('0' + e / 100);
        body[n++] = (char)('0' + e / 10 % 10);
        body[n++] = (char)('0' + e % 10);
    }
    emit(o, &s, prefix, body, n, 0);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    out_t o = {buf, size ? size - 1 : 0, 0};
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        spec_t s = {0, 0, 0, 0, 0, 0, -1};
        for (;; f++) {
            char c = f[1];
            if (c == '-')
                s.left = 1;
            else if (c == '+')
                s.plus = 1;
            else if (c == ' ')
                s.space = 1;
            else if (c == '#')
                s.alt = 1;
            else if (c == '0')
                s.zero = 1;
            else
                break;
        }
        f++;
        if (*f == '*') {
            s.width = va_arg(ap, int);
            if (s.width < 0) {
                s.left = 1;
                s.width = -s.width;
            }
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                s.width = s.width * 10 + (*f++ - '0');
        }
        if (*f == '.') {
            f++;
            s.prec = 0;
            if (*f == '*') {
                s.prec = va_arg(ap, int);
                f++;
            } else {
                while (*f >= '0' && *f <= '9')
                    s.prec = s.prec * 10 + (*f++ - '0');
            }
        }
        int longs = 0; /* 0 int, 1 long / size_t / intmax_t (all 64-bit here) */
        while (*f == 'l' || *f == 'h' || *f == 'z' || *f == 'j' || *f == 't') {
            if (*f != 'h')
                longs = 1;
            f++;
        }
        if (s.left)
            s.zero = 0;
        switch (*f) {
        case 'd':
        case 'i': {
            long v = longs ? va_arg(ap, long) : va_arg(ap, int);
            emit_int(&o, s, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v = longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
            int base = *f == 'u' ? 10 : *f == 'o' ? 8 : 16;
            s.plus = s.space = 0;
            emit_int(&o, s, v, 0, base, *f == 'X');
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            s.alt = 1;
            s.plus = s.space = 0;
            if (v == 0) {
                s.zero = 0;
                emit(&o, &s, "", "(nil)", 5, 0);
            } else {
                emit_int(&o, s, v, 0, 16, 0);
            }
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            s.zero = 0;
            emit(&o, &s, "", &c, 1, 0);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int n = 0;
            while (str[n] && (s.prec < 0 || n < s.prec))
                n++;
            s.zero = 0;
            emit(&o, &s, "", str, n, 0);
            break;
        }
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
            emit_double(&o, s, va_arg(ap, double), *f);
            break;
        case '%':
            put(&o, '%');
            break;
        default: /* unknown: print it as written */
            put(&o, '%');
            if (!*f)
                f--;
            else
                put(&o, *f);
            break;
        }
    }
    if (size)
        buf[o.len < o.cap ? o.len : o.cap] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap) {
    char buf[2048];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    return write(1, buf, len) < 0 ? -1 : n;
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* ------------------------------------------------------------- startup */

int main(int argc, char **argv);
_Noreturn void fc_rt_start(long argc, char **argv);

/* Called by _start (loongarch64_start.S) with the initial stack's argc/argv. */
_Noreturn void fc_rt_start(long argc, char **argv) {
    exit(main((int)argc, argv));
}
