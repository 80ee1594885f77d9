// The core C++ scenarios: each drives make/jump/ontop_fcontext through the
// C header exactly as a C++ program would and reports what it observed. The
// Rust tests in tests/core.rs hold the expectations.
#include "fcontext-cpp-tests/src/core_suite.h"
#include "fcontext-cpp-tests/src/lib.rs.h"

#include <fcontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>
#include <xmmintrin.h>

// Probes from regs_x86_64.S.
extern "C" {
void fct_regs_jump(fcontext_t to, void *vp, const uint64_t *load, uint64_t *seen,
                   fcontext_transfer_t *result);
void fct_regs_ontop(fcontext_t to, void *vp, const uint64_t *load, uint64_t *seen,
                    fcontext_transfer_t *result,
                    fcontext_transfer_t (*fn)(fcontext_transfer_t));
void fct_probe_entry(fcontext_transfer_t t);
extern uintptr_t fct_probe_entry_rsp;
}

namespace fctests {
namespace {

// A heap stack; 256 KiB leaves printf and the unwinder plenty of room.
class Stack {
public:
    explicit Stack(size_t size = 256 * 1024) : mem_(new char[size]), size_(size) {}
    void *top() const { return mem_.get() + size_; }
    size_t size() const { return size_; }
    uintptr_t lo() const { return reinterpret_cast<uintptr_t>(mem_.get()); }
    uintptr_t hi() const { return lo() + size_; }

private:
    std::unique_ptr<char[]> mem_;
    size_t size_;
};

void *as_data(uint64_t v) { return reinterpret_cast<void *>(static_cast<uintptr_t>(v)); }
uint64_t from_data(void *p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

template <typename T> rust::Vec<T> to_rust(const std::vector<T> &v) {
    rust::Vec<T> out;
    for (const T &x : v) out.push_back(x);
    return out;
}

// ---- ping-pong ------------------------------------------------------------

void ping_entry(fcontext_transfer_t t) {
    auto *seen = static_cast<std::vector<uint64_t> *>(t.data);
    t = jump_fcontext(t.ctx, nullptr); // ready; the next resume carries a value
    for (;;) {
        uint64_t v = from_data(t.data);
        seen->push_back(v);
        t = jump_fcontext(t.ctx, as_data(3 * v + 1));
    }
}

// ---- struct by pointer ----------------------------------------------------

struct Parcel {
    int id;
    int seen_id;
    double weight;
    char label[32];
};

void parcel_entry(fcontext_transfer_t t) {
    auto *p = static_cast<Parcel *>(t.data);
    p->seen_id = p->id;
    p->id = p->id * 2 + 1;
    p->weight *= 1.5;
    std::string label = std::string(p->label) + "+ctx";
    std::snprintf(p->label, sizeof p->label, "%s", label.c_str());
    jump_fcontext(t.ctx, p); // hand the pointer back unchanged
}

// ---- ontop ----------------------------------------------------------------

struct OntopState {
    uintptr_t ontop_local = 0;
    uint64_t ontop_data = 0;
    uint64_t target_data = 0;
};
thread_local OntopState *ontop_state = nullptr;

fcontext_transfer_t ontop_fn(fcontext_transfer_t t) {
    volatile char local = 0;
    ontop_state->ontop_local = reinterpret_cast<uintptr_t>(&local);
    ontop_state->ontop_data = from_data(t.data);
    // t.ctx is main's frame: pass it on so the target can return there.
    return fcontext_transfer_t{t.ctx, as_data(from_data(t.data) * 10 + 5)};
}

void ontop_target_entry(fcontext_transfer_t t) {
    auto *st = static_cast<OntopState *>(t.data);
    t = jump_fcontext(t.ctx, nullptr); // suspend; main applies ontop to us
    st->target_data = from_data(t.data);
    jump_fcontext(t.ctx, as_data(0x600d));
}

// ---- exception ------------------------------------------------------------

struct Counted {
    unsigned *count;
    ~Counted() { ++*count; }
};

void throw_deep(int depth, unsigned *count) {
    Counted c{count};
    if (depth == 0) throw std::runtime_error("thrown on a context stack");
    throw_deep(depth - 1, count);
}

struct ExceptionState {
    std::string message;
    unsigned destructors = 0;
    bool switched_after = false;
};

void exception_entry(fcontext_transfer_t t) {
    auto *st = static_cast<ExceptionState *>(t.data);
    t = jump_fcontext(t.ctx, nullptr); // throw only after a real resume
    try {
        Counted outer{&st->destructors};
        throw_deep(3, &st->destructors);
    } catch (const std::exception &e) {
        st->message = e.what();
    }
    t = jump_fcontext(t.ctx, nullptr);
    st->switched_after = true;
    jump_fcontext(t.ctx, nullptr);
}

// ---- floating point -------------------------------------------------------

void float_entry(fcontext_transfer_t t) {
    auto *out = static_cast<double *>(t.data);
    double x = 1.0;
    for (;;) {
        t = jump_fcontext(t.ctx, nullptr);
        if (t.data == nullptr) break;
        x = x * 1.0625 + 0.375;
    }
    *out = x;
    jump_fcontext(t.ctx, nullptr);
}

// ---- FPU control ----------------------------------------------------------

uint16_t get_fcw() {
    uint16_t cw;
    asm volatile("fnstcw %0" : "=m"(cw));
    return cw;
}
void set_fcw(uint16_t cw) { asm volatile("fldcw %0" : : "m"(cw)); }

// Rounding-control fields: MXCSR bits 13-14, x87 CW bits 10-11, the same
// encoding (00 nearest, 01 down, 10 up, 11 toward zero); x87 precision
// control is CW bits 8-9.
constexpr uint32_t MXCSR_RC = 3u << 13;
constexpr uint16_t FCW_RC = 3u << 10;
constexpr uint16_t FCW_PC = 3u << 8;

double third() {
    volatile double one = 1.0, three = 3.0;
    return one / three;
}

void fpu_entry(fcontext_transfer_t t) {
    auto *st = static_cast<FpuSeen *>(t.data);
    _mm_setcsr((_mm_getcsr() & ~MXCSR_RC) | (2u << 13));                  // round up
    set_fcw(static_cast<uint16_t>((get_fcw() & ~(FCW_RC | FCW_PC)) | (2u << 10) | (2u << 8)));
    st->ctx_mxcsr_set = _mm_getcsr();
    st->ctx_fcw_set = get_fcw();
    st->ctx_third = third();
    t = jump_fcontext(t.ctx, nullptr);
    st->ctx_mxcsr_after_main_change = _mm_getcsr();
    st->ctx_fcw_after_main_change = get_fcw();
    jump_fcontext(t.ctx, nullptr);
}

// ---- nested ---------------------------------------------------------------

struct NestState {
    std::vector<uint32_t> trace;
    Stack stacks[2];
};

void nest_c(fcontext_transfer_t t) {
    auto *st = static_cast<NestState *>(t.data);
    st->trace.push_back(30);
    t = jump_fcontext(t.ctx, nullptr); // back to B
    st->trace.push_back(31);
    jump_fcontext(t.ctx, nullptr);
}

void nest_b(fcontext_transfer_t t) {
    auto *st = static_cast<NestState *>(t.data);
    fcontext_t a = t.ctx;
    st->trace.push_back(20);
    fcontext_t c = make_fcontext(st->stacks[1].top(), st->stacks[1].size(), nest_c);
    fcontext_transfer_t r = jump_fcontext(c, st);
    c = r.ctx;
    st->trace.push_back(21);
    t = jump_fcontext(a, nullptr); // back to A
    a = t.ctx;
    st->trace.push_back(22);
    r = jump_fcontext(c, nullptr);
    st->trace.push_back(23);
    jump_fcontext(a, nullptr);
}

void nest_a(fcontext_transfer_t t) {
    auto *st = static_cast<NestState *>(t.data);
    fcontext_t main_ctx = t.ctx;
    st->trace.push_back(10);
    fcontext_t b = make_fcontext(st->stacks[0].top(), st->stacks[0].size(), nest_b);
    fcontext_transfer_t r = jump_fcontext(b, st);
    b = r.ctx;
    st->trace.push_back(11);
    t = jump_fcontext(main_ctx, nullptr);
    main_ctx = t.ctx;
    st->trace.push_back(12);
    r = jump_fcontext(b, nullptr);
    st->trace.push_back(13);
    jump_fcontext(main_ctx, nullptr);
}

// ---- stdio ----------------------------------------------------------------

struct StdioState {
    char formatted[64];
    int number;
    double real;
    char word[32];
    int fields;
};

void stdio_entry(fcontext_transfer_t t) {
    auto *st = static_cast<StdioState *>(t.data);
    std::snprintf(st->formatted, sizeof st->formatted, "%d %.3f %s", 42, 1.625, "fiber");
    std::printf("[fcontext-cpp-tests] printf on a context stack: %s %g\n", st->formatted, 0.5);
    std::fflush(stdout);
    st->fields = std::sscanf(st->formatted, "%d %lf %31s", &st->number, &st->real, st->word);
    jump_fcontext(t.ctx, nullptr);
}

// ---- registers ------------------------------------------------------------

struct RegsState {
    uint64_t main_load[6], main_after[6], ctx_load[6], ctx_after[6];
};

void fill_patterns(RegsState &st) {
    for (int i = 0; i < 6; ++i) {
        st.main_load[i] = 0x6d61696e00000000ull | (0x01010101ull * (i + 1));
        st.ctx_load[i] = 0x6374780000000000ull | (0x10203040ull * (i + 1));
        st.main_after[i] = st.ctx_after[i] = 0;
    }
}

RegsSeen regs_result(const RegsState &st) {
    RegsSeen out;
    for (int i = 0; i < 6; ++i) {
        out.main_loaded.push_back(st.main_load[i]);
        out.main_after.push_back(st.main_after[i]);
        out.ctx_loaded.push_back(st.ctx_load[i]);
        out.ctx_after.push_back(st.ctx_after[i]);
    }
    return out;
}

void regs_entry(fcontext_transfer_t t) {
    auto *st = static_cast<RegsState *>(t.data);
    fcontext_transfer_t r;
    // Switch to main with our patterns live; whatever main does, they must
    // be back when we are resumed (by jump or by ontop + return).
    fct_regs_jump(t.ctx, nullptr, st->ctx_load, st->ctx_after, &r);
    jump_fcontext(r.ctx, nullptr);
}

fcontext_transfer_t regs_ontop_fn(fcontext_transfer_t t) { return t; }

// ---- entry return ---------------------------------------------------------

int exit_pipe_fd = -1;

void write_pipe(const char *text) {
    ssize_t ignored = write(exit_pipe_fd, text, std::strlen(text));
    (void)ignored;
}

void returning_entry(fcontext_transfer_t) { write_pipe("entry"); }

// ---- counting -------------------------------------------------------------

struct CountState {
    uint64_t jumps = 0;
    uint64_t sum = 0;
};
thread_local CountState *count_state = nullptr;

void count_entry(fcontext_transfer_t t) {
    CountState *st = count_state;
    for (;;) {
        st->sum += from_data(t.data);
        ++st->jumps;
        t = jump_fcontext(t.ctx, nullptr);
    }
}

} // namespace
} // namespace fctests

// Continuation of fct_probe_entry (assembly), which recorded rsp.
extern "C" void fct_probe_entry_continue(fcontext_transfer_t t) {
    jump_fcontext(t.ctx, nullptr);
}

namespace fctests {

PingPong ping_pong(uint32_t rounds) {
    Stack stack;
    std::vector<uint64_t> ctx_seen, main_seen;
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), ping_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &ctx_seen);
    for (uint32_t i = 1; i <= rounds; ++i) {
        t = jump_fcontext(t.ctx, as_data(i));
        main_seen.push_back(from_data(t.data));
    }
    return PingPong{to_rust(ctx_seen), to_rust(main_seen)};
}

ByPointer struct_by_pointer() {
    Stack stack;
    Parcel parcel{20, 0, 4.0, "parcel"};
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), parcel_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &parcel);
    return ByPointer{t.data == &parcel, parcel.seen_id, parcel.id, parcel.weight,
                     rust::String(parcel.label)};
}

OntopSeen ontop_changes_data() {
    Stack stack;
    OntopState st;
    ontop_state = &st;
    volatile char main_local = 0;
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), ontop_target_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &st);
    t = ontop_fcontext(t.ctx, as_data(7), ontop_fn);
    ontop_state = nullptr;
    return OntopSeen{st.ontop_local, stack.lo(), stack.hi(),
                     reinterpret_cast<uintptr_t>(&main_local), st.ontop_data, st.target_data,
                     from_data(t.data) == 0x600d};
}

ExceptionSeen exception_in_context() {
    Stack stack;
    ExceptionState st;
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), exception_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &st);
    t = jump_fcontext(t.ctx, nullptr); // throws and catches over there
    // Main throws too while the context is suspended: separate stacks,
    // separate unwinds.
    try {
        throw std::logic_error("main side");
    } catch (const std::logic_error &) {
    }
    jump_fcontext(t.ctx, nullptr);
    return ExceptionSeen{rust::String(st.message), st.destructors, st.switched_after};
}

FloatSeen float_across_switches(uint32_t rounds) {
    Stack stack;
    double ctx_value = 0.0;
    double y = 2.0;
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), float_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &ctx_value);
    for (uint32_t i = 0; i < rounds; ++i) {
        y = y * 0.9375 - 0.125;
        t = jump_fcontext(t.ctx, &ctx_value); // non-null: one more step
    }
    jump_fcontext(t.ctx, nullptr);
    return FloatSeen{ctx_value, y};
}

FpuSeen fpu_control_per_context() {
    Stack stack;
    FpuSeen st{};
    const uint32_t saved_mxcsr = _mm_getcsr();
    const uint16_t saved_fcw = get_fcw();
    st.main_mxcsr_start = saved_mxcsr;
    st.main_fcw_start = saved_fcw;
    st.main_third = third();
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), fpu_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &st);
    st.main_mxcsr_after_ctx_change = _mm_getcsr();
    st.main_fcw_after_ctx_change = get_fcw();
    _mm_setcsr(saved_mxcsr | MXCSR_RC);                        // toward zero
    set_fcw(static_cast<uint16_t>(saved_fcw | FCW_RC));
    st.main_mxcsr_set = _mm_getcsr();
    st.main_fcw_set = get_fcw();
    jump_fcontext(t.ctx, nullptr);
    _mm_setcsr(saved_mxcsr);
    set_fcw(saved_fcw);
    return st;
}

rust::Vec<uint32_t> nested_contexts() {
    Stack stack;
    NestState st;
    st.trace.push_back(1);
    fcontext_t a = make_fcontext(stack.top(), stack.size(), nest_a);
    fcontext_transfer_t t = jump_fcontext(a, &st);
    st.trace.push_back(2);
    jump_fcontext(t.ctx, nullptr);
    st.trace.push_back(3);
    return to_rust(st.trace);
}

StdioSeen stdio_on_context() {
    Stack stack;
    StdioState st{};
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), stdio_entry);
    jump_fcontext(ctx, &st);
    return StdioSeen{rust::String(st.formatted), st.number, st.real, rust::String(st.word),
                     st.fields};
}

rust::Vec<EntrySp> entry_stack_pointers() {
    Stack stack(64 * 1024);
    rust::Vec<EntrySp> out;
    for (uintptr_t k = 0; k < 16; ++k) {
        char *top = static_cast<char *>(stack.top()) - k;
        fct_probe_entry_rsp = 0;
        fcontext_t ctx = make_fcontext(top, stack.size() - k, fct_probe_entry);
        jump_fcontext(ctx, nullptr);
        out.push_back(EntrySp{reinterpret_cast<uintptr_t>(top), reinterpret_cast<uintptr_t>(ctx),
                              fct_probe_entry_rsp});
    }
    return out;
}

RegsSeen registers_across_jump() {
    Stack stack;
    RegsState st;
    fill_patterns(st);
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), regs_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &st); // context suspends in fct_regs_jump
    fcontext_transfer_t r;
    fct_regs_jump(t.ctx, nullptr, st.main_load, st.main_after, &r);
    return regs_result(st);
}

RegsSeen registers_across_ontop() {
    Stack stack;
    RegsState st;
    fill_patterns(st);
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), regs_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &st);
    fcontext_transfer_t r;
    fct_regs_ontop(t.ctx, nullptr, st.main_load, st.main_after, &r, regs_ontop_fn);
    return regs_result(st);
}

ChildStatus entry_return_in_child() {
    // Everything the child needs is allocated before fork: the parent is a
    // multi-threaded test harness, so the child must not call malloc.
    Stack stack(64 * 1024);
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        close(fds[0]);
        exit_pipe_fd = fds[1];
        // _exit must skip this handler; exit() would run it.
        std::atexit([] { write_pipe("atexit"); });
        fcontext_t ctx = make_fcontext(stack.top(), stack.size(), returning_entry);
        jump_fcontext(ctx, nullptr);
        _exit(3); // unreachable: the context never switches back
    }
    close(fds[1]);
    std::string text;
    char buf[64];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return ChildStatus{WIFEXITED(status) != 0, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                       WIFSIGNALED(status) != 0, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                       rust::String(text)};
}

SwitchCount count_switches(uint64_t switches) {
    Stack stack(64 * 1024);
    CountState st;
    count_state = &st;
    uint64_t main_jumps = 0;
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), count_entry);
    for (uint64_t i = 1; i <= switches / 2; ++i) {
        ctx = jump_fcontext(ctx, as_data(i)).ctx;
        ++main_jumps;
    }
    count_state = nullptr;
    return SwitchCount{main_jumps, st.jumps, st.sum};
}

} // namespace fctests
