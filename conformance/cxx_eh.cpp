// C++ exceptions on context stacks, linked with a target's assembly object by
// the conformance matrix (targets.ini `cxx_test`) and run like the harness.
//
// Written for x86_64 Windows (MinGW g++, SEH exceptions) under wine, where a
// switch that leaves the TEB's ExceptionList pointing at the thread's own
// stack made every throw on a context end in std::terminate (see
// asm/x86_64_ms_pe_gas.S); the program itself is portable C++.
//
// Prints "fc-harness: started", one FAIL line per failed check and
// "fc-harness: PASS|FAIL (...)" like conformance/harness.c, so the matrix
// reads it the same way.
//
//   cxx_eh            all checks
//   cxx_eh escape     child mode: an exception leaves the entry function
//                     (must end the process, never reach the code after it)
//
// Built with -DFC_EXPECT_TERMINATE=1 (the row's `cxx`), the escaping
// exception must end in std::terminate, as one leaving a thread's outermost
// function does; with 0 it must end the process some other way (x86_64 MASM
// file: the system's unhandled-exception path, see its header).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

#ifdef _WIN32
#include <process.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "../include/fcontext.h"

#ifndef FC_EXPECT_TERMINATE
#define FC_EXPECT_TERMINATE 1
#endif

namespace {

int g_checks, g_failed;

void check(bool ok, const char *name, const char *detail = "") {
    ++g_checks;
    if (!ok) {
        ++g_failed;
        std::printf("FAIL %s %s\n", name, detail);
    }
    std::fflush(stdout);
}

// Stacks: malloc'd, so they lie at addresses unrelated to the thread's stack
// (under wine usually above it, the case that used to fail).
struct Stack {
    explicit Stack(std::size_t n = 256 * 1024) : size(n), mem(static_cast<char *>(std::malloc(n))) {}
    ~Stack() { std::free(mem); }
    Stack(const Stack &) = delete;
    Stack &operator=(const Stack &) = delete;
    void *top() const { return mem + size; }
    std::size_t size;
    char *mem;
};

int g_dtors;
struct Counted {
    ~Counted() { ++g_dtors; }
};

__attribute__((noinline)) void thrower(int depth) {
    Counted c;
    if (depth == 0)
        throw std::runtime_error("from a callee");
    thrower(depth - 1);
    std::printf("unreachable %d\n", depth); // keeps the recursion a real call
}

// 1: throw and catch in the entry function's own frame.
void entry_local(fcontext_transfer_t t) {
    intptr_t r = 0;
    try {
        throw std::runtime_error("local");
    } catch (std::runtime_error const &e) {
        r = std::strcmp(e.what(), "local") == 0 ? 1 : -1;
    }
    jump_fcontext(t.ctx, reinterpret_cast<void *>(r));
    std::abort();
}

// 2: thrown five frames down, destructors on the way, caught in the entry.
void entry_callee(fcontext_transfer_t t) {
    intptr_t r = 0;
    g_dtors = 0;
    try {
        thrower(4);
    } catch (std::exception const &e) {
        r = std::strcmp(e.what(), "from a callee") == 0 && g_dtors == 5 ? 2 : -2;
    }
    jump_fcontext(t.ctx, reinterpret_cast<void *>(r));
    std::abort();
}

// 3: suspended and resumed between throws; each round trip the main side
// throws on its own stack too (its ExceptionList must come back).
void entry_pingpong(fcontext_transfer_t t) {
    for (intptr_t i = 0;; ++i) {
        intptr_t r = -1;
        try {
            if (i % 2)
                thrower(2);
            throw i;
        } catch (intptr_t v) {
            r = v;
        } catch (std::runtime_error const &) {
            r = i;
        }
        t = jump_fcontext(t.ctx, reinterpret_cast<void *>(r));
    }
}

// 4: Boost's fiber destruction: ontop_fcontext runs a function on the
// suspended context that throws, caught around the context's pending jump.
struct Unwind {
    fcontext_t from;
};
fcontext_transfer_t ontop_throws(fcontext_transfer_t t) { throw Unwind{t.ctx}; }

void entry_unwound(fcontext_transfer_t t) {
    Counted guard;
    try {
        Counted inner;
        t = jump_fcontext(t.ctx, reinterpret_cast<void *>(1));
        std::printf("FAIL ontop unwind: the pending jump returned normally\n");
    } catch (Unwind const &u) {
        t.ctx = u.from; // inner's destructor has run (g_dtors == 1)
        t.data = reinterpret_cast<void *>(static_cast<intptr_t>(g_dtors) + 40);
    }
    jump_fcontext(t.ctx, t.data);
    std::abort();
}

// 5: nested: a context makes a second one; both throw and catch.
void entry_inner(fcontext_transfer_t t) {
    intptr_t r = 0;
    try {
        thrower(1);
    } catch (std::runtime_error const &) {
        r = 5;
    }
    jump_fcontext(t.ctx, reinterpret_cast<void *>(r));
    std::abort();
}

void entry_outer(fcontext_transfer_t t) {
    Stack s;
    fcontext_t inner = make_fcontext(s.top(), s.size, entry_inner);
    intptr_t got = reinterpret_cast<intptr_t>(jump_fcontext(inner, nullptr).data);
    intptr_t r = 0;
    try {
        throw std::string("outer");
    } catch (std::string const &v) {
        r = got == 5 && v == "outer" ? 6 : -6;
    }
    jump_fcontext(t.ctx, reinterpret_cast<void *>(r));
    std::abort();
}

// Child mode: the exception leaves the entry function.
void entry_escape(fcontext_transfer_t) {
    thrower(0);
    std::printf("fc-cxx-eh: escaped exception returned\n");
    std::fflush(stdout);
    std::exit(0);
}

intptr_t run(void (*fn)(fcontext_transfer_t), Stack &s) {
    fcontext_t c = make_fcontext(s.top(), s.size, fn);
    return reinterpret_cast<intptr_t>(jump_fcontext(c, nullptr).data);
}

// The escape child's terminate handler: a distinct exit status.
const int kTerminated = 77;

int escape_child() {
    std::set_terminate([] {
        std::fflush(stdout);
        std::_Exit(kTerminated);
    });
    Stack s;
    run(entry_escape, s);
    std::printf("fc-cxx-eh: escape child: control came back to main\n");
    return 0;
}

void escape_check(const char *self) {
#ifdef _WIN32
    // _spawnl passes the path through as the child's argv[0]; quoting keeps
    // paths with spaces in one argument.
    std::string quoted = std::string("\"") + self + "\"";
    std::fflush(stdout);
    intptr_t rc = _spawnl(_P_WAIT, self, quoted.c_str(), "escape", static_cast<char *>(nullptr));
    char detail[96];
    std::snprintf(detail, sizeof detail, "(child exit status %#lx)", static_cast<unsigned long>(rc));
    bool ended = rc != 0 && rc != -1;
    bool terminated = rc == kTerminated;
#else
    (void)self;
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        std::fclose(stdout); // the child's "escaped" lines must not count
        _exit(escape_child());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    char detail[96];
    std::snprintf(detail, sizeof detail, "(child wait status %#x)", static_cast<unsigned>(status));
    bool ended = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    bool terminated = WIFEXITED(status) && WEXITSTATUS(status) == kTerminated;
#endif
    check(ended, "an exception leaving the entry function ends the process", detail);
#if FC_EXPECT_TERMINATE
    check(terminated, "an exception leaving the entry function ends in std::terminate", detail);
#else
    check(!terminated, "an exception leaving the entry function ends the process without std::terminate (as documented for this file)", detail);
#endif
    std::printf("info an exception leaving the entry function ended the child %s%s\n", detail,
                terminated ? " in std::terminate" : "");
}

} // namespace

int main(int argc, char **argv) {
    if (argc > 1 && std::strcmp(argv[1], "escape") == 0)
        return escape_child();
    std::printf("fc-harness: started (C++ exceptions on context stacks)\n");
    std::fflush(stdout);

    try { // the thread's own stack, before any switch
        thrower(1);
    } catch (std::runtime_error const &) {
    }

    {
        Stack s;
        check(run(entry_local, s) == 1, "throw and catch in the entry function");
    }
    {
        Stack s;
        check(run(entry_callee, s) == 2, "throw in a callee, caught in the entry function (destructors run)");
    }
    {
        Stack s;
        fcontext_t c = make_fcontext(s.top(), s.size, entry_pingpong);
        bool ok = true, main_ok = true;
        for (intptr_t i = 0; i < 100; ++i) {
            fcontext_transfer_t t = jump_fcontext(c, nullptr);
            c = t.ctx;
            ok = ok && reinterpret_cast<intptr_t>(t.data) == i;
            try {
                throw std::runtime_error("main");
            } catch (std::runtime_error const &) {
                continue;
            }
            main_ok = false;
        }
        check(ok, "throws on a context across 100 suspensions");
        check(main_ok, "throws on the thread's stack between switches");
    }
    {
        Stack s;
        g_dtors = 0;
        fcontext_t c = make_fcontext(s.top(), s.size, entry_unwound);
        fcontext_transfer_t t = jump_fcontext(c, nullptr); // suspended inside the try
        bool suspended = reinterpret_cast<intptr_t>(t.data) == 1;
        t = ontop_fcontext(t.ctx, nullptr, ontop_throws);
        check(suspended && reinterpret_cast<intptr_t>(t.data) == 41,
              "ontop_fcontext function throws into the suspended context (Boost's forced_unwind)");
    }
    {
        Stack s;
        check(run(entry_outer, s) == 6, "nested contexts: both throw and catch");
    }
    try {
        throw 7;
    } catch (int) {
        check(true, "throw on the thread's stack after all contexts");
    }
    escape_check(argv[0]);

    std::printf("fc-harness: %s (%d checks, %d failed)\n", g_failed ? "FAIL" : "PASS", g_checks,
                g_failed);
    return g_failed ? 1 : 0;
}
