/*
 * fcontext.h - context switching with Boost.Context's fcontext ABI.
 *
 * A drop-in for deboost.context's <fcontext/fcontext.h> and binary-compatible
 * with Boost.Context 1.74's make_fcontext / jump_fcontext / ontop_fcontext:
 * contexts made by either library can be resumed by the other.
 *
 * Model. A context is a stack plus the registers a function call must
 * preserve. An fcontext_t is the saved stack pointer of a suspended context.
 * Switching with jump_fcontext() saves the current context on its own stack,
 * consumes the target handle and resumes the target; the target's pending
 * switch returns an fcontext_transfer_t whose `ctx` is the handle of the
 * context that was just left and whose `data` is the pointer passed along.
 *
 * Contract of the three fcontext functions. They are Boost's ABI and cannot
 * report errors; breaking these rules is undefined behaviour:
 *   - make_fcontext(sp, size, fn): sp is the top (one past the highest byte)
 *     of writable memory that outlives the context and holds fn's deepest
 *     call chain plus the frame (64 bytes on x86_64, under a kilobyte on
 *     any target; docs/ABI.md). size is only read on Windows. fn receives the transfer of the
 *     first jump. If fn returns, the process exits with status 0 via _exit().
 *   - jump_fcontext(to, vp) / ontop_fcontext(to, vp, fn): `to` is a handle
 *     from make_fcontext or from a transfer, used once (each handle names one
 *     suspension); never the running context itself.
 *   - ontop_fcontext(to, vp, fn) runs fn(transfer) on to's stack before to's
 *     pending switch returns; fn's result becomes that return value. `to`
 *     must be suspended in a switch, not fresh from make_fcontext.
 *   - A C++ exception must not leave an entry function or an ontop function.
 *
 * Configuration: none at compile time of the user's program. The library
 * itself may be built with FCONTEXT_NO_FPU_CONTROL (cargo feature
 * "no-fpu-control"), which stops switches from saving the floating-point
 * control registers; see docs/FAST_VARIANT.md.
 */
#ifndef FCONTEXT_H
#define FCONTEXT_H

#include <stddef.h>
#include <stdint.h>

/* Version of this header and library: major.minor.patch. */
#define FCONTEXT_VERSION_MAJOR 0
#define FCONTEXT_VERSION_MINOR 1
#define FCONTEXT_VERSION_PATCH 0
/* The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define FCONTEXT_VERSION \
    (FCONTEXT_VERSION_MAJOR * 10000 + FCONTEXT_VERSION_MINOR * 100 + FCONTEXT_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* Handle of a suspended (or fresh) context: its saved stack pointer. */
typedef void *fcontext_t;

/* What a switch delivers: the context we came from and the data passed. */
typedef struct {
    fcontext_t ctx; /* the context that switched here; resume it to go back */
    void *data;     /* the vp argument of that switch */
} fcontext_transfer_t;

/* A stack from create_fcontext_stack(). */
typedef struct {
    void *sptr;   /* top of the stack (one past its highest byte): make_fcontext's sp */
    size_t ssize; /* size of the whole mapping in bytes, guard page included */
} fcontext_stack_t;

/* Entry function of a fresh context. */
typedef void (*pfn_fcontext)(fcontext_transfer_t);

/* Suspends the running context and resumes `to`; returns when something switches back. */
fcontext_transfer_t jump_fcontext(fcontext_t const to, void *vp);

/* Prepares a fresh context on the stack ending at `sp` that runs `corofn` on its first resume. */
fcontext_t make_fcontext(void *sp, size_t size, pfn_fcontext corofn);

/* Like jump_fcontext, but first runs `fn` on top of `to`; fn's result is what `to` receives. */
fcontext_transfer_t ontop_fcontext(fcontext_t const to, void *vp,
                                   fcontext_transfer_t (*fn)(fcontext_transfer_t));

/*
 * Maps a stack of `size` bytes whose lowest page is a PROT_NONE guard, so an
 * overflow faults instead of corrupting memory. size 0 selects 128 KiB. The
 * size is clamped to at least one page above Boost's minimum_size() plus the
 * guard page, and to at most the hard RLIMIT_STACK limit when that is finite,
 * then rounded down to whole pages; `ssize` reports the result. Returns
 * {NULL, 0} with errno set (ENOMEM) when the mapping fails. An overflow into
 * the guard page is reported once fcontext_install_overflow_handler() has
 * been called (see below). Thread-safe.
 */
fcontext_stack_t create_fcontext_stack(size_t size);

/*
 * Unmaps a stack from create_fcontext_stack() and sets *s to {NULL, 0}. A null
 * s or a zeroed *s is a no-op. The library remembers every stack it created
 * and has not yet destroyed; a *s that is not exactly one of them (never
 * returned by create_fcontext_stack, already destroyed, or with sptr or
 * ssize changed) is refused: *s and all memory are left unchanged and errno
 * is set to EINVAL. A stale copy of a destroyed struct cannot be told apart
 * from a newer stack that create_fcontext_stack happened to place at the
 * same address with the same size; do not keep copies. No context may still
 * run on the stack. Thread-safe.
 */
void destroy_fcontext_stack(fcontext_stack_t *s);

/*
 * Installs fcontext's stack-overflow reporter for SIGSEGV and SIGBUS. After
 * it, a fault in the guard page of a stack the library made
 * (create_fcontext_stack, fcontext_cs_stack_create in fcontext_copystack.h)
 * prints
 *     stack overflow in coroutine (stack 0x<lo>..0x<hi>, <n> bytes)
 * (the usable range of that stack) to stderr and aborts the process
 * (SIGABRT). Without it such an overflow is the kernel's plain SIGSEGV.
 * Any other fault goes to the handler installed before this call; if there
 * was none (SIG_DFL) or the signal was ignored (SIG_IGN), the process dies
 * by that signal, as it would have without the reporter.
 *
 * Returns 0, or the errno value of the failing sigaction(2). Only the first
 * call installs the handler; later calls return the first call's result.
 * Install it early, before creating stacks, and before a later
 * sigaction(SIGSEGV/SIGBUS) of the program's own if both should run.
 *
 * The report runs on an alternate signal stack (an overflowing thread has
 * no stack left). The library gives a thread one when the thread calls this
 * function, or creates a stack after the handler is installed. A thread that
 * only runs contexts on stacks it did not create (or created before the
 * install) should call this function itself: on such a call it only sets up
 * the thread's alternate stack. Thread-safe.
 */
int fcontext_install_overflow_handler(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

/* The layout the assembly relies on: two pointers, data at offset sizeof(void*). */
#if defined(__cplusplus) && __cplusplus >= 201103L
static_assert(sizeof(fcontext_transfer_t) == 2 * sizeof(void *), "fcontext_transfer_t layout");
static_assert(offsetof(fcontext_transfer_t, data) == sizeof(void *), "fcontext_transfer_t layout");
static_assert(sizeof(fcontext_stack_t) == sizeof(void *) + sizeof(size_t), "fcontext_stack_t layout");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(fcontext_transfer_t) == 2 * sizeof(void *), "fcontext_transfer_t layout");
_Static_assert(offsetof(fcontext_transfer_t, data) == sizeof(void *), "fcontext_transfer_t layout");
_Static_assert(sizeof(fcontext_stack_t) == sizeof(void *) + sizeof(size_t), "fcontext_stack_t layout");
#endif

#endif /* FCONTEXT_H */
