// The copy-stack header from C++: a generator driven through the C API,
// with a captureless lambda as the coroutine body.
#include <fcontext_copystack.h>
#include <cstdint>
#include <cstdio>
#include <cstring>

int main() {
    fcontext_cs_stack_t *st = nullptr;
    if (fcontext_cs_stack_create(0, &st) != FCONTEXT_CS_OK) return 1;
    fcontext_cs_fn squares = [](fcontext_cs_coroutine_t *co, void *arg, void *) -> void * {
        auto n = *static_cast<int *>(arg);
        for (std::uintptr_t i = 1; i <= static_cast<std::uintptr_t>(n); i++)
            fcontext_cs_yield(co, reinterpret_cast<void *>(i * i), nullptr);
        return nullptr;
    };
    int n = 5;
    fcontext_cs_coroutine_t *a = nullptr, *b = nullptr;
    if (fcontext_cs_create(st, squares, &n, &a) || fcontext_cs_create(st, squares, &n, &b)) return 2;
    std::uintptr_t sum = 0;
    int status = FCONTEXT_CS_STATUS_FRESH;
    while (fcontext_cs_status(a, &status) == FCONTEXT_CS_OK && status != FCONTEXT_CS_STATUS_DONE) {
        void *x = nullptr, *y = nullptr;
        if (fcontext_cs_resume(a, nullptr, &x) || fcontext_cs_resume(b, nullptr, &y)) return 3;
        if (x != y) return 4;
        sum += reinterpret_cast<std::uintptr_t>(x);
    }
    fcontext_cs_stats_t s;
    fcontext_cs_stack_stats(st, &s);
    // 6 resumes of each (5 yields + the finishing one); every resume after
    // the first changes the owner.
    if (sum != 1 + 4 + 9 + 16 + 25 || s.copies_out < 10) return 5;
    if (std::strcmp(fcontext_cs_strerror(FCONTEXT_CS_OK), "success") != 0) return 6;
    fcontext_cs_destroy(a);
    fcontext_cs_destroy(b);
    if (fcontext_cs_stack_destroy(st) != FCONTEXT_CS_OK) return 7;
    std::puts("copystack C++ test passed");
    return 0;
}
