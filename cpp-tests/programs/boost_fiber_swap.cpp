// Boost.Fiber 1.74 (Debian's libboost_fiber.so.1.74.0, which itself needs
// libboost_context.so.1.74.0): fibers on two threads' schedulers passing
// values through a buffered channel, a mutex-protected counter, a
// fiber-local exception, and fibers joined. Run once on Debian's
// libboost_context and once with fcontext's libfcontext.so standing in for
// it; both runs print the same lines ending in "boost fiber swap passed".
#include <boost/fiber/all.hpp>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace fibers = boost::fibers;

static int failures = 0;

static void check(bool ok, const char *what) {
    std::printf("%s %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

static long run_pipeline() {
    fibers::buffered_channel<long> ch{8};
    long sum = 0;
    fibers::fiber producer([&ch] {
        for (long i = 1; i <= 1000; i++) ch.push(i);
        ch.close();
    });
    fibers::fiber consumer([&ch, &sum] {
        long v;
        while (ch.pop(v) == fibers::channel_op_status::success) {
            sum += v;
            boost::this_fiber::yield();
        }
    });
    producer.join();
    consumer.join();
    return sum;
}

int main() {
    long sums[2] = {0, 0};
    std::thread t([&sums] { sums[1] = run_pipeline(); });
    sums[0] = run_pipeline();
    t.join();
    check(sums[0] == 500500 && sums[1] == 500500, "channel_pipeline_on_two_threads");

    fibers::mutex m;
    int counter = 0;
    {
        fibers::fiber a([&] {
            for (int i = 0; i < 100; i++) {
                std::lock_guard<fibers::mutex> lock(m);
                counter++;
                boost::this_fiber::yield();
            }
        });
        fibers::fiber b([&] {
            for (int i = 0; i < 100; i++) {
                std::lock_guard<fibers::mutex> lock(m);
                counter++;
                boost::this_fiber::yield();
            }
        });
        a.join();
        b.join();
    }
    check(counter == 200, "mutex_counter");

    bool caught = false;
    fibers::fiber e([&caught] {
        try {
            throw std::runtime_error("inside a fiber");
        } catch (const std::runtime_error &) {
            caught = true;
        }
    });
    e.join();
    check(caught, "exception_inside_a_fiber");

    if (failures == 0) std::puts("boost fiber swap passed");
    return failures;
}
