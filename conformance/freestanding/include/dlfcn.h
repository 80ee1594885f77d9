/* Freestanding shim (conformance/freestanding/README.md): a static executable
   has no dynamic loader, so dlopen always fails (the row has no interop run). */
#ifndef FC_RT_DLFCN_H
#define FC_RT_DLFCN_H

#define RTLD_LAZY 0x1
#define RTLD_NOW 0x2
#define RTLD_LOCAL 0

void *dlopen(const char *file, int mode);
void *dlsym(void *handle, const char *name);
char *dlerror(void);
#endif
