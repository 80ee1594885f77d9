/* Freestanding shim (conformance/freestanding/README.md): a static executable
   has no dynamic loader, so dlopen always fails (the row has no interop run). */
#ifndef FC_RT_DLFCN_H
#define FC_RT_DLFCN_H

#define RTLD_LAZY 0x1
#define RTLD_NOW 0x2
#define RTLD_LOCAL 0

typedef struct {
    const char *dli_fname;
    void *dli_fbase;
    const char *dli_sname;
    void *dli_saddr;
} Dl_info;

void *dlopen(const char *file, int mode);
int dladdr(const void *addr, Dl_info *info);
void *dlsym(void *handle, const char *name);
char *dlerror(void);
#endif
