// boost_coroutine.cpp - a program using a *compiled* Boost library that
// depends on libboost_context (Boost.Coroutine v1), with our libfcontext
// loaded in front of it:
//
//   c++ boost_coroutine.cpp -Wl,--no-as-needed -lfcontext -Wl,--as-needed -lboost_coroutine
//
// The program never calls an fcontext function itself; libboost_coroutine
// does, and the dynamic linker binds those calls to the first library that
// defines them: ours, since it is a direct dependency of the program.
// `cargo xtask test` runs this with LD_DEBUG=bindings to check exactly that.

#define BOOST_ALLOW_DEPRECATED_HEADERS
#include <boost/coroutine/asymmetric_coroutine.hpp>

#include <cstdio>

using coro = boost::coroutines::asymmetric_coroutine<int>;

int main() {
    // A generator of 1..10 on its own stack; the loop pulls every value.
    coro::pull_type numbers([](coro::push_type &yield) {
        for (int i = 1; i <= 10; ++i) {
            yield(i);
        }
    });
    int sum = 0;
    for (int n : numbers) {
        sum += n;
    }
    std::printf("boost_coroutine: sum of 1..10 = %d\n", sum);
    return sum == 55 ? 0 : 1;
}
