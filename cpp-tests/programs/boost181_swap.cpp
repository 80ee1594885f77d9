// A program built with Boost 1.81's headers and linked against Debian's
// libboost_context.so.1.81.0: fibers (ping-pong, resume_with, an exception
// thrown and caught on a fiber stack, forced unwind on destruction), a callcc
// continuation generator and a coroutines2 generator. Run once on the real
// library and once with fcontext's libfcontext.so standing in for it; both
// runs must print the same lines and end with "boost181 swap passed".
#include <boost/context/continuation.hpp>
#include <boost/context/fiber.hpp>
#include <boost/coroutine2/all.hpp>
#include <boost/version.hpp>
#include <cstdio>
#include <stdexcept>

namespace ctx = boost::context;

static int failures = 0;

static void check(bool ok, const char *what) {
    std::printf("%s %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

struct Counted {
    int *drops;
    ~Counted() { ++*drops; }
};

int main() {
    std::printf("boost %d.%d\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000);

    // Fiber ping-pong with data through a captured reference.
    int value = 0;
    ctx::fiber f{[&value](ctx::fiber &&main) {
        for (int i = 0; i < 1000; i++) {
            value = value * 3 + 1;
            main = std::move(main).resume();
        }
        return std::move(main);
    }};
    for (int i = 0; i < 1000; i++) f = std::move(f).resume();
    unsigned long expect = 0;
    for (int i = 0; i < 1000; i++) expect = (expect * 3 + 1) & 0xffffffffu;
    check(static_cast<unsigned>(value) == expect, "fiber_pingpong");

    // resume_with runs on top of the target before it continues.
    int order = 0;
    ctx::fiber g{[&order](ctx::fiber &&main) {
        main = std::move(main).resume();
        order = order * 10 + 2;
        return std::move(main);
    }};
    g = std::move(g).resume();
    g = std::move(g).resume_with([&order](ctx::fiber &&from) {
        order = order * 10 + 1;
        return std::move(from);
    });
    check(order == 12 && !g, "fiber_resume_with");

    // An exception thrown and caught on the fiber's own stack.
    bool caught = false;
    ctx::fiber h{[&caught](ctx::fiber &&main) {
        try {
            throw std::runtime_error("on a fiber stack");
        } catch (const std::runtime_error &) {
            caught = true;
        }
        return std::move(main);
    }};
    h = std::move(h).resume();
    check(caught && !h, "fiber_exception_caught_on_its_stack");

    // Destroying a suspended fiber unwinds its stack (forced_unwind).
    int drops = 0;
    {
        ctx::fiber k{[&drops](ctx::fiber &&main) {
            Counted c{&drops};
            main = std::move(main).resume();
            return std::move(main);
        }};
        k = std::move(k).resume();
    }
    check(drops == 1, "fiber_destroyed_suspended_unwinds");

    // callcc continuation generator.
    int next = 0;
    ctx::continuation source = ctx::callcc([&next](ctx::continuation &&sink) {
        for (int i = 1; i <= 5; i++) {
            next = i * i;
            sink = sink.resume();
        }
        return std::move(sink);
    });
    int sum = next;
    for (int i = 0; i < 4; i++) {
        source = source.resume();
        sum += next;
    }
    check(sum == 1 + 4 + 9 + 16 + 25, "continuation_callcc_generator");

    // coroutines2 pull_type generator.
    using coro = boost::coroutines2::coroutine<int>;
    int total = 0;
    coro::pull_type squares([](coro::push_type &sink) {
        for (int i = 1; i <= 10; i++) sink(i * i);
    });
    for (int v : squares) total += v;
    check(total == 385, "coroutine2_generator");

    if (failures == 0) std::puts("boost181 swap passed");
    return failures;
}
