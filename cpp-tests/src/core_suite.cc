// The core C++ scenarios: each drives make/jump/ontop_fcontext through the
// C header exactly as a C++ program would and reports what it observed. The
// Rust tests in tests/core.rs hold the expectations.
//
// Only what is C++ (or C library) specific lives here: exceptions thrown and
// caught on a context stack, C++ objects and stdio used across switches, and
// the cxx bridge that returns them. The ABI checks (callee-saved registers,
// FP control, alignment, entry return, Boost interop) belong to the
// conformance harness, run on every target (conformance/harness.c,
// `cargo xtask matrix`).
#include "fcontext-cpp-tests/src/core_suite.h"
#include "fcontext-cpp-tests/src/lib.rs.h"

#include <fcontext.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace fctests {
namespace {

// A heap stack; 256 KiB leaves printf and the unwinder plenty of room.
class Stack {
public:
    explicit Stack(size_t size = 256 * 1024) : mem_(new char[size]), size_(size) {}
    void *top() const { return mem_.get() + size_; }
    size_t size() const { return size_; }

private:
    std::unique_ptr<char[]> mem_;
    size_t size_;
};

template <typename T> rust::Vec<T> to_rust(const std::vector<T> &v) {
    rust::Vec<T> out;
    for (const T &x : v) out.push_back(x);
    return out;
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

} // namespace

ByPointer struct_by_pointer() {
    Stack stack;
    Parcel parcel{20, 0, 4.0, "parcel"};
    fcontext_t ctx = make_fcontext(stack.top(), stack.size(), parcel_entry);
    fcontext_transfer_t t = jump_fcontext(ctx, &parcel);
    return ByPointer{t.data == &parcel, parcel.seen_id, parcel.id, parcel.weight,
                     rust::String(parcel.label)};
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

} // namespace fctests
