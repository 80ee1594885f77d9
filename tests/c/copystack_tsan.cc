// Copy-stack coroutines through the C API in a program built with
// -fsanitize=thread (the library itself is not rebuilt): two threads, each
// with its own shared stack and several coroutines resumed round-robin, so
// every resume swaps one coroutine's bytes out and another's in. The
// coroutines of one thread hand values to each other through a plain global
// per thread (ordered by the switches, so no race) and each thread's
// coroutines count in a thread-local array; TSan must report nothing.
//
// With the argument "race" one coroutine on each thread also writes the
// same plain global int without synchronisation: a real data race between
// two coroutines on different threads, which TSan must report.
#include <fcontext_copystack.h>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

constexpr int kCoroutines = 4;
constexpr int kRounds = 200;

bool g_race = false;
int g_racy = 0; // written by a coroutine on each thread in "race" mode
std::atomic<int> g_ready{0};

struct Arg {
    int id;
    int bad;
    int *baton; // shared by the coroutines of one thread, unsynchronised
};

void *body(fcontext_cs_coroutine_t *co, void *arg, void *) {
    Arg *a = static_cast<Arg *>(arg);
    volatile char frame[256];
    for (int i = 0; i < 256; i++) frame[i] = static_cast<char>(a->id + i);
    if (g_race && a->id % 10 == 0) {
        // Both threads' first coroutines get here at about the same time.
        g_ready.fetch_add(1, std::memory_order_relaxed);
        while (g_ready.load(std::memory_order_relaxed) < 2) {
        }
        g_racy = a->id; // the race
    }
    for (int round = 0; round < kRounds; round++) {
        char scratch[64];
        std::memset(scratch, a->id, sizeof scratch);
        *a->baton += 1; // ordered by the switches of this thread
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
    int baton = 0;
    Arg args[kCoroutines];
    fcontext_cs_coroutine_t *cos[kCoroutines];
    for (int i = 0; i < kCoroutines; i++) {
        args[i] = Arg{base + i, 0, &baton};
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
    // One suspended coroutine destroyed without finishing.
    fcontext_cs_coroutine_t *left = nullptr;
    Arg extra{base + 9, 0, &baton};
    if (fcontext_cs_create(st, body, &extra, &left) != FCONTEXT_CS_OK) return 2;
    if (fcontext_cs_resume(left, nullptr, nullptr) != FCONTEXT_CS_OK) return 3;
    fcontext_cs_destroy(left);
    fcontext_cs_stack_destroy(st);
    if (baton != kCoroutines * kRounds + 1) return 6;
    return bad ? 5 : 0;
}

} // namespace

int main(int argc, char **argv) {
    g_race = argc > 1 && std::strcmp(argv[1], "race") == 0;
    int r1 = -1, r2 = -1;
    std::thread t1([&] { r1 = run_thread(10); });
    std::thread t2([&] { r2 = run_thread(50); });
    t1.join();
    t2.join();
    if (r1 || r2) {
        std::printf("copystack TSan test failed: %d %d\n", r1, r2);
        return 1;
    }
    std::printf("copystack TSan test passed (%d)\n", g_racy);
    return 0;
}
