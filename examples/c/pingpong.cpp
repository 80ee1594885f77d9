// pingpong.cpp - a short tour of the fcontext C API.
//
// main() and a generator context take turns on one thread. The generator hands
// out Fibonacci numbers, one switch there and one back per number; main then
// restarts it with ontop_fcontext (the restart runs on the generator's own
// stack) and finally tells it to stop. The program checks every value and
// exits 0 when all is well, 1 otherwise.
//
// `cargo xtask install` builds this against the installed library:
//   c++ pingpong.cpp $(pkg-config --cflags --libs fcontext)
//   (or with CMake: see CMakeLists.txt next to this file)

#include <fcontext/fcontext.h>

#include <cstdio>

namespace {

// What main asks of the generator each time it resumes it.
enum class Command { Next, Restart, Stop };

Command restart_command = Command::Restart;

// The generator's stack, so the ontop function can check where it runs.
fcontext_stack_t generator_stack;
bool ontop_ran_on_generator_stack = false;

// Entry function of the generator context. `t.ctx` is main, suspended in the
// jump that started us; `t.data` points to main's first command.
void fibonacci(fcontext_transfer_t t) {
    unsigned long current = 0, next = 1;
    for (;;) {
        Command command = *static_cast<Command *>(t.data);
        if (command == Command::Stop) {
            break;
        }
        if (command == Command::Restart) {
            current = 0;
            next = 1;
        }
        unsigned long value = current;
        current = next;
        next += value;
        // Hand main the value (it lives on this stack, which stays put while
        // we are suspended) and wait for the next command. Each switch gives
        // us a fresh handle to main: keep it.
        t = jump_fcontext(t.ctx, &value);
    }
    // Returning from an entry function would end the whole process, so leave
    // for good instead: main never resumes this context again.
    jump_fcontext(t.ctx, nullptr);
}

// Runs on top of the generator, on its stack, just before its pending
// jump_fcontext returns; what we return is what that jump returns.
fcontext_transfer_t restart_on_top(fcontext_transfer_t t) {
    char here;
    char *top = static_cast<char *>(generator_stack.sptr);
    ontop_ran_on_generator_stack = &here < top && &here >= top - generator_stack.ssize;
    return fcontext_transfer_t{t.ctx, &restart_command};
}

// Resumes the generator with `command` and returns the value it yields.
unsigned long pull(fcontext_t *generator, Command command) {
    fcontext_transfer_t t = jump_fcontext(*generator, &command);
    *generator = t.ctx;
    return *static_cast<unsigned long *>(t.data);
}

bool expect(const char *what, unsigned long got, unsigned long want) {
    if (got != want) {
        std::fprintf(stderr, "pingpong: %s: got %lu, expected %lu\n", what, got, want);
    }
    return got == want;
}

}  // namespace

int main() {
    static const unsigned long fib[] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34};
    bool ok = true;

    // 64 KiB with a guard page at the low end: an overflow faults.
    generator_stack = create_fcontext_stack(64 * 1024);
    if (generator_stack.sptr == nullptr) {
        std::perror("pingpong: create_fcontext_stack");
        return 1;
    }
    fcontext_t generator =
        make_fcontext(generator_stack.sptr, generator_stack.ssize, fibonacci);

    std::printf("fibonacci:");
    for (unsigned long want : fib) {
        unsigned long got = pull(&generator, Command::Next);
        std::printf(" %lu", got);
        ok &= expect("fibonacci", got, want);
    }
    std::printf("\n");

    // The generator sits in its jump_fcontext; make that jump return a
    // Restart command instead of the Next we send.
    Command next = Command::Next;
    fcontext_transfer_t t = ontop_fcontext(generator, &next, restart_on_top);
    generator = t.ctx;
    ok &= expect("first value after restart", *static_cast<unsigned long *>(t.data), 0);
    ok &= expect("ontop function ran on the generator's stack", ontop_ran_on_generator_stack, 1);
    std::printf("restarted on the generator's stack by ontop_fcontext: 0");
    for (int i = 1; i < 5; ++i) {
        unsigned long got = pull(&generator, Command::Next);
        std::printf(" %lu", got);
        ok &= expect("fibonacci after restart", got, fib[i]);
    }
    std::printf("\n");

    Command stop = Command::Stop;
    t = jump_fcontext(generator, &stop);
    ok &= expect("stop reply is null", t.data == nullptr, 1);
    destroy_fcontext_stack(&generator_stack);
    ok &= expect("stack released", generator_stack.sptr == nullptr, 1);
    std::printf("generator stopped, stack released\n");

    std::printf(ok ? "pingpong: ok\n" : "pingpong: FAILED\n");
    return ok ? 0 : 1;
}
