// What a program compiled against Boost >= 1.87 headers references: the three
// functions declared as C++ names in boost::context::detail (no extern "C"),
// so the linker looks for their Itanium-mangled names. The declarations below
// follow those headers. Exit status: number of failed checks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>

namespace boost {
namespace context {
namespace detail {
typedef void *fcontext_t;
struct transfer_t {
    fcontext_t fctx;
    void *data;
};
transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, std::size_t size, void (*fn)(transfer_t));
transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t));
} // namespace detail
} // namespace context
} // namespace boost

namespace d = boost::context::detail;

static void *num(uintptr_t v) { return reinterpret_cast<void *>(v); }
static uintptr_t val(void *p) { return reinterpret_cast<uintptr_t>(p); }

// Replies to every value v with 2v + 1.
static void replier(d::transfer_t t) {
    for (;;) t = d::jump_fcontext(t.fctx, num(2 * val(t.data) + 1));
}

static d::transfer_t add_100(d::transfer_t t) { return d::transfer_t{t.fctx, num(val(t.data) + 100)}; }

int main() {
    const std::size_t size = 64 * 1024;
    std::unique_ptr<char[]> stack(new char[size]);
    d::fcontext_t c = d::make_fcontext(stack.get() + size, size, replier);
    int failures = 0;
    uintptr_t sum = 0;
    for (uintptr_t i = 1; i <= 1000; ++i) {
        d::transfer_t t = d::jump_fcontext(c, num(i));
        c = t.fctx;
        sum += val(t.data);
    }
    // sum of 2i + 1 for i = 1..1000
    if (sum != 1000 * 1001 + 1000) {
        std::printf("FAIL jump: sum %lu\n", static_cast<unsigned long>(sum));
        ++failures;
    }
    // ontop: add_100 runs on the replier's stack and changes what it gets.
    d::transfer_t t = d::ontop_fcontext(c, num(5), add_100);
    if (val(t.data) != 2 * 105 + 1) {
        std::printf("FAIL ontop: got %lu\n", static_cast<unsigned long>(val(t.data)));
        ++failures;
    }
    if (failures == 0) std::printf("ok boost187_style\n");
    return failures;
}
