// Interoperation with Boost's own binary: Debian's libboost_context is
// dlopened RTLD_LOCAL, so its make/jump/ontop_fcontext never interpose on
// ours (which the test binary links statically) and each call below names
// exactly one implementation. Frames made by either must be resumable by the
// other, because both use Boost 1.74's x86_64 frame layout.
#include "fcontext-cpp-tests/src/core_suite.h"
#include "fcontext-cpp-tests/src/lib.rs.h"

#include <fcontext.h>

#include <dlfcn.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace fctests {
namespace {

using make_fn = fcontext_t (*)(void *, size_t, pfn_fcontext);
using jump_fn = fcontext_transfer_t (*)(fcontext_t, void *);
using ontop_target = fcontext_transfer_t (*)(fcontext_transfer_t);
using ontop_fn = fcontext_transfer_t (*)(fcontext_t, void *, ontop_target);

struct Impl {
    make_fn make;
    jump_fn jump;
    ontop_fn ontop;
};

Impl ours() { return Impl{make_fcontext, jump_fcontext, ontop_fcontext}; }

// Boost's three functions from `lib`. The handle is deliberately never
// closed: contexts may outlive a call, and the library is reused.
Impl boost(rust::Str lib) {
    std::string path(lib);
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) throw std::runtime_error("dlopen " + path + ": " + dlerror());
    Impl b{reinterpret_cast<make_fn>(dlsym(h, "make_fcontext")),
           reinterpret_cast<jump_fn>(dlsym(h, "jump_fcontext")),
           reinterpret_cast<ontop_fn>(dlsym(h, "ontop_fcontext"))};
    if (!b.make || !b.jump || !b.ontop) throw std::runtime_error(path + " lacks an fcontext symbol");
    Impl o = ours();
    if (b.make == o.make || b.jump == o.jump || b.ontop == o.ontop)
        throw std::runtime_error("dlsym returned our own functions: RTLD_LOCAL did not isolate");
    return b;
}

Impl by_name(rust::Str name, rust::Str lib) {
    std::string n(name);
    if (n == "ours") return ours();
    if (n == "boost") return boost(lib);
    throw std::runtime_error("unknown implementation " + n);
}

std::string file_of(const void *fn) {
    Dl_info info{};
    if (dladdr(fn, &info) == 0 || info.dli_fname == nullptr) return "";
    return info.dli_fname;
}

void *as_data(uint64_t v) { return reinterpret_cast<void *>(static_cast<uintptr_t>(v)); }
uint64_t from_data(void *p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

struct RoundState {
    Impl ours, boost;
    std::string main_mode, ctx_mode;
    uint64_t ctx_sum = 0, on_stack = 0;
    uintptr_t lo = 0, hi = 0;
    Impl maker;
};
thread_local RoundState *round_state = nullptr;

// "mixed" alternates with a period that differs per side, so every pairing
// (our jump answered by Boost's and the reverse) occurs.
jump_fn pick(const RoundState &st, const std::string &mode, uint64_t n, uint64_t period) {
    if (mode == "ours") return st.ours.jump;
    if (mode == "boost") return st.boost.jump;
    return n % period == 0 ? st.ours.jump : st.boost.jump;
}

void round_entry(fcontext_transfer_t t) {
    RoundState *st = round_state;
    for (uint64_t n = 0;; ++n) {
        uint64_t v = from_data(t.data);
        st->ctx_sum += v;
        t = pick(*st, st->ctx_mode, n, 3)(t.ctx, as_data(2 * v));
    }
}

fcontext_transfer_t add_on_target(fcontext_transfer_t t) {
    RoundState *st = round_state;
    volatile char local = 0;
    uintptr_t here = reinterpret_cast<uintptr_t>(&local);
    if (here >= st->lo && here < st->hi) ++st->on_stack;
    return fcontext_transfer_t{t.ctx, as_data(from_data(t.data) + 1000)};
}

void ontop_entry(fcontext_transfer_t t) {
    RoundState *st = round_state;
    t = st->maker.jump(t.ctx, nullptr); // suspend: from now on resumed by ontop
    for (;;) {
        uint64_t v = from_data(t.data);
        st->ctx_sum += v;
        t = st->maker.jump(t.ctx, as_data(v));
    }
}

struct HeapStack {
    static constexpr size_t size = 128 * 1024;
    std::unique_ptr<char[]> mem{new char[size]};
    void *top() const { return mem.get() + size; }
    uintptr_t lo() const { return reinterpret_cast<uintptr_t>(mem.get()); }
};

} // namespace

rust::Vec<rust::String> boost_symbol_files(rust::Str lib) {
    Impl b = boost(lib), o = ours();
    rust::Vec<rust::String> out;
    for (const void *fn : {reinterpret_cast<const void *>(b.make), reinterpret_cast<const void *>(b.jump),
                           reinterpret_cast<const void *>(b.ontop), reinterpret_cast<const void *>(o.make),
                           reinterpret_cast<const void *>(o.jump), reinterpret_cast<const void *>(o.ontop)})
        out.push_back(rust::String(file_of(fn)));
    return out;
}

Interop interop_round_trips(rust::Str lib, rust::Str maker, rust::Str main_jump, rust::Str ctx_jump,
                            uint32_t rounds) {
    RoundState st;
    st.ours = ours();
    st.boost = boost(lib);
    st.main_mode = std::string(main_jump);
    st.ctx_mode = std::string(ctx_jump);
    HeapStack stack;
    round_state = &st;
    fcontext_t ctx = by_name(maker, lib).make(stack.top(), HeapStack::size, round_entry);
    uint64_t main_sum = 0, done = 0;
    for (uint64_t i = 1; i <= rounds; ++i) {
        fcontext_transfer_t t = pick(st, st.main_mode, i, 2)(ctx, as_data(i));
        ctx = t.ctx;
        main_sum += from_data(t.data);
        ++done;
    }
    round_state = nullptr;
    return Interop{done, st.ctx_sum, main_sum, 0};
}

Interop interop_ontop(rust::Str lib, rust::Str maker, rust::Str ontop, uint32_t rounds) {
    RoundState st;
    st.ours = ours();
    st.boost = boost(lib);
    st.maker = by_name(maker, lib);
    Impl on = by_name(ontop, lib);
    HeapStack stack;
    st.lo = stack.lo();
    st.hi = st.lo + HeapStack::size;
    round_state = &st;
    fcontext_t ctx = st.maker.make(stack.top(), HeapStack::size, ontop_entry);
    ctx = st.maker.jump(ctx, nullptr).ctx; // start it; it suspends at once
    uint64_t main_sum = 0, done = 0;
    for (uint64_t i = 1; i <= rounds; ++i) {
        fcontext_transfer_t t = on.ontop(ctx, as_data(i), add_on_target);
        ctx = t.ctx;
        main_sum += from_data(t.data);
        ++done;
    }
    round_state = nullptr;
    return Interop{done, st.ctx_sum, main_sum, st.on_stack};
}

} // namespace fctests
