// Real Boost.Context / Boost.Coroutine2 code, built from the distribution's
// headers and linked to fcontext instead of -lboost_context. Every check
// prints "ok <name>" or "FAIL <name>: <why>"; the exit status is the number of
// failures. The first line names the file that provides jump_fcontext, so the
// test can tell whether the program really runs on our library.
#include <boost/context/continuation.hpp>
#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <boost/coroutine2/coroutine.hpp>

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctx = boost::context;

static int failures = 0;
// Never reached depth: keeps the runaway recursion below a real function for
// the compiler, which would otherwise reject it as infinite.
static volatile int never = -1;

static void check(bool ok, const char *name, const std::string &why = "") {
    if (ok) {
        std::printf("ok %s\n", name);
    } else {
        std::printf("FAIL %s: %s\n", name, why.c_str());
        ++failures;
    }
}

// A stack allocator that records what Boost asked for, so the checks can
// see where code ran and when the stack was given back.
struct recording_stack {
    ctx::fixedsize_stack inner{64 * 1024};
    uintptr_t *lo, *hi;
    int *released;

    ctx::stack_context allocate() {
        ctx::stack_context sc = inner.allocate();
        *hi = reinterpret_cast<uintptr_t>(sc.sp);
        *lo = *hi - sc.size;
        return sc;
    }
    void deallocate(ctx::stack_context &sc) noexcept {
        ++*released;
        inner.deallocate(sc);
    }
};

struct counted {
    int *count;
    ~counted() { ++*count; }
};

static bool on_stack(const void *p, uintptr_t lo, uintptr_t hi) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    return a >= lo && a < hi;
}

template <typename Alloc> static int fiber_counts(Alloc alloc) {
    int n = 0;
    ctx::fiber f{std::allocator_arg, alloc, [&n](ctx::fiber &&m) {
                     for (;;) {
                         ++n;
                         m = std::move(m).resume();
                     }
                     return std::move(m);
                 }};
    for (int i = 0; i < 10; ++i) f = std::move(f).resume();
    return n;
}

static void fiber_checks() {
    check(fiber_counts(ctx::fixedsize_stack(64 * 1024)) == 10, "fiber_fixedsize_stack");
    check(fiber_counts(ctx::protected_fixedsize_stack(64 * 1024)) == 10,
          "fiber_protected_fixedsize_stack");

    // resume_with runs its function on the fiber's stack before the fiber
    // continues; its result is what the fiber's resume() returns.
    uintptr_t lo = 0, hi = 0;
    int released = 0, destroyed = 0;
    int seen_by_fiber = 0, set_on_top = 0;
    bool ontop_on_fiber_stack = false;
    bool fiber_finished = false;
    {
        ctx::fiber f{std::allocator_arg, recording_stack{{64 * 1024}, &lo, &hi, &released},
                     [&](ctx::fiber &&m) {
                         counted guard{&destroyed};
                         m = std::move(m).resume();
                         seen_by_fiber = set_on_top;
                         m = std::move(m).resume();
                         fiber_finished = true; // never: destroyed while suspended
                         return std::move(m);
                     }};
        f = std::move(f).resume();
        f = std::move(f).resume_with([&](ctx::fiber &&m) {
            int local = 0;
            ontop_on_fiber_stack = on_stack(&local, lo, hi);
            set_on_top = 42;
            return std::move(m);
        });
        check(ontop_on_fiber_stack, "fiber_resume_with_on_fiber_stack");
        check(seen_by_fiber == 42, "fiber_resume_with_runs_first",
              "fiber saw " + std::to_string(seen_by_fiber));
        check(destroyed == 0 && released == 0, "fiber_alive_while_suspended");
        // f goes out of scope suspended: Boost unwinds its stack (forced_unwind
        // thrown through ontop_fcontext) and frees it.
    }
    check(!fiber_finished, "fiber_not_resumed_by_destruction");
    check(destroyed == 1, "fiber_destroyed_suspended_unwinds",
          "destructors run: " + std::to_string(destroyed));
    check(released == 1, "fiber_destroyed_suspended_frees_stack");

    // A fiber that finishes hands control back and releases its stack.
    released = 0;
    {
        ctx::fiber f{std::allocator_arg, recording_stack{{64 * 1024}, &lo, &hi, &released},
                     [](ctx::fiber &&m) { return std::move(m); }};
        f = std::move(f).resume();
        check(!f, "fiber_finished_is_empty");
    }
    check(released == 1, "fiber_finished_frees_stack");
}

static void guard_page_check() {
    // Runaway recursion on a protected_fixedsize_stack must hit the guard
    // page (SIGSEGV), in a child so the suite survives.
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        ctx::fiber f{std::allocator_arg, ctx::protected_fixedsize_stack(64 * 1024),
                     [](ctx::fiber &&m) {
                         struct deep {
                             static int down(int n) {
                                 volatile char pad[256];
                                 pad[0] = static_cast<char>(n);
                                 if (n == never) return 0;
                                 return down(n + 1) + pad[0];
                             }
                         };
                         deep::down(0);
                         return std::move(m);
                     }};
        f = std::move(f).resume();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    check(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "protected_stack_guard_page",
          "status " + std::to_string(status));
}

static void continuation_checks() {
    // callcc: a producer of triangular numbers, resumed on demand.
    long value = 0;
    ctx::continuation producer = ctx::callcc([&value](ctx::continuation &&sink) {
        for (long i = 1;; ++i) {
            value += i;
            sink = sink.resume();
        }
        return std::move(sink);
    });
    bool ok = true;
    for (long n = 1; n <= 20; ++n) {
        ok = ok && value == n * (n + 1) / 2;
        producer = producer.resume();
    }
    check(ok, "continuation_callcc_generator");

    // resume_with on a continuation.
    int on_top = 0, seen = 0;
    ctx::continuation c = ctx::callcc([&](ctx::continuation &&back) {
        back = back.resume();
        seen = on_top;
        return std::move(back);
    });
    c = c.resume_with([&](ctx::continuation &&from) {
        on_top = 7;
        return std::move(from);
    });
    check(seen == 7 && !c, "continuation_resume_with");
}

static void coroutine2_checks() {
    using coro = boost::coroutines2::coroutine<int>;
    std::vector<int> got;
    coro::pull_type squares([](coro::push_type &sink) {
        for (int i = 1; i <= 10; ++i) sink(i * i);
    });
    for (int v : squares) got.push_back(v);
    bool ok = got.size() == 10;
    for (size_t i = 0; ok && i < got.size(); ++i)
        ok = got[i] == static_cast<int>((i + 1) * (i + 1));
    check(ok, "coroutine2_generator");

    // An exception inside the generator reaches the consumer.
    int before = 0;
    std::string message;
    try {
        coro::pull_type failing([](coro::push_type &sink) {
            sink(1);
            sink(2);
            throw std::runtime_error("generator failed");
        });
        for (int v : failing) before += v;
    } catch (const std::runtime_error &e) {
        message = e.what();
    }
    check(before == 3 && message == "generator failed", "coroutine2_exception_propagates",
          "sum " + std::to_string(before) + ", message '" + message + "'");

    // push_type: the consumer side is the coroutine.
    int total = 0;
    {
        coro::push_type sink([&total](coro::pull_type &source) {
            for (int v : source) total += v;
        });
        for (int i = 1; i <= 100; ++i) sink(i);
    }
    check(total == 5050, "coroutine2_push_type");
}

int main() {
    Dl_info info{};
    dladdr(reinterpret_cast<void *>(&ctx::detail::jump_fcontext), &info);
    std::printf("jump_fcontext from %s\n", info.dli_fname ? info.dli_fname : "?");
    fiber_checks();
    guard_page_check();
    continuation_checks();
    coroutine2_checks();
    return failures;
}
