// Copy-stack coroutines through the C API in a program built with
// -fsanitize=address (the library itself is not rebuilt): two threads, each
// with its own shared stack and several coroutines whose frames hold arrays
// (so the instrumented frames carry redzones), resumed round-robin so every
// resume swaps one coroutine's bytes out and another's in. ASan must report
// nothing, and every coroutine must see its own data intact.
#include <fcontext_copystack.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

constexpr int kCoroutines = 4;
constexpr int kRounds = 200;

struct Arg {
    int id;
    int bad;
};

void *body(fcontext_cs_coroutine_t *co, void *arg, void *) {
    Arg *a = static_cast<Arg *>(arg);
    volatile char frame[256]; // instrumented: redzones around it
    for (int i = 0; i < 256; i++) frame[i] = static_cast<char>(a->id + i);
    for (int round = 0; round < kRounds; round++) {
        char scratch[64]; // another instrumented local, live across the yield
        std::memset(scratch, a->id, sizeof scratch);
        fcontext_cs_yield(co, reinterpret_cast<void *>(static_cast<std::uintptr_t>(round)), nullptr);
        for (int i = 0; i < 64; i++)
            if (scratch[i] != static_cast<char>(a->id)) a->bad++;
        for (int i = 0; i < 256; i++)
            if (frame[i] != static_cast<char>(a->id + i)) a->bad++;
    }
    return nullptr;
}

int run_thread(int base) {
    fcontext_cs_stack_t *st = nullptr;
    if (fcontext_cs_stack_create(64 * 1024, &st) != FCONTEXT_CS_OK) return 1;
    Arg args[kCoroutines];
    fcontext_cs_coroutine_t *cos[kCoroutines];
    for (int i = 0; i < kCoroutines; i++) {
        args[i] = Arg{base + i, 0};
        if (fcontext_cs_create(st, body, &args[i], &cos[i]) != FCONTEXT_CS_OK) return 2;
    }
    for (int round = 0; round <= kRounds; round++)
        for (int i = 0; i < kCoroutines; i++)
            if (fcontext_cs_resume(cos[i], nullptr, nullptr) != FCONTEXT_CS_OK) return 3;
    int bad = 0;
    for (int i = 0; i < kCoroutines; i++) {
        int status = 0;
        fcontext_cs_status(cos[i], &status);
        if (status != FCONTEXT_CS_STATUS_DONE) return 4;
        bad += args[i].bad;
        fcontext_cs_destroy(cos[i]);
    }
    fcontext_cs_stack_destroy(st);
    return bad ? 5 : 0;
}

} // namespace

int main() {
    int r1 = -1, r2 = -1;
    std::thread t1([&] { r1 = run_thread(10); });
    std::thread t2([&] { r2 = run_thread(50); });
    t1.join();
    t2.join();
    if (r1 || r2) {
        std::printf("copystack ASan test failed: %d %d\n", r1, r2);
        return 1;
    }
    std::puts("copystack ASan test passed");
    return 0;
}
