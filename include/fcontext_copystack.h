/*
 * fcontext_copystack.h - copy-stack (shared-stack) coroutines for C and C++.
 *
 * Many coroutines run on one shared stack. When a coroutine that does not
 * own the shared stack is resumed, the owner's live bytes (from its saved
 * stack pointer up to the top of the stack) are copied into the owner's
 * private heap buffer and the resumed coroutine's saved bytes are copied
 * back to their addresses. A suspended coroutine costs only the stack bytes
 * it really used; a coroutine alone on its stack never copies.
 *
 * Rules:
 *  - A shared stack and its coroutines belong to one thread.
 *  - Pointers into a suspended coroutine's stack (to its locals) are INVALID
 *    while another coroutine owns the shared stack: the bytes live in the
 *    coroutine's buffer then. Do not keep such pointers across a yield.
 *  - A coroutine cannot resume another coroutine of the same shared stack
 *    (FCONTEXT_CS_STACK_BUSY); coroutines of other shared stacks are fine.
 *  - C++ exceptions must not escape a coroutine function (the process
 *    aborts if one does).
 *  - Destroying a suspended coroutine discards its stack without running
 *    anything on it.
 *  - Overflow: the shared stack has a guard page at its low end. A fault
 *    there is reported on stderr and aborts the process once the program
 *    has called fcontext_install_overflow_handler() (declared in
 *    <fcontext.h>; call it before creating shared stacks); without it the
 *    fault is a plain SIGSEGV. A saved stack pointer outside the shared
 *    stack is reported on stderr and the process aborts.
 *
 * Sanitizers: in a program built with -fsanitize=address or
 * -fsanitize=thread the library (not rebuilt) finds the sanitizer's fiber
 * functions at the first resume and annotates every switch of this API
 * automatically: ASan (__sanitizer_start/finish_switch_fiber) then unwinds
 * through coroutine frames and detects stack-use-after-return in them;
 * TSan sees each coroutine as a fiber of its own (__tsan_create_fiber etc.),
 * ordered with its resumer by every switch. Nothing to call; an ordinary
 * program pays one predictable branch per switch. docs/DEBUGGING.md.
 *
 * Every function returns FCONTEXT_CS_OK (0) or an error code;
 * fcontext_cs_strerror() describes each code. Link with -lfcontext.
 */
#ifndef FCONTEXT_COPYSTACK_H
#define FCONTEXT_COPYSTACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Smallest usable size accepted by fcontext_cs_stack_create (bytes). */
#define FCONTEXT_CS_MIN_STACK_SIZE 16384

/** Result codes of every fcontext_cs_* function. */
enum fcontext_cs_result {
    /** Success. */
    FCONTEXT_CS_OK = 0,
    /** A required pointer argument was NULL. */
    FCONTEXT_CS_NULL_POINTER = 1,
    /** The requested shared stack size is below FCONTEXT_CS_MIN_STACK_SIZE. */
    FCONTEXT_CS_STACK_TOO_SMALL = 2,
    /** The requested shared stack size exceeds 4 GiB - 1 (guard page included). */
    FCONTEXT_CS_STACK_TOO_LARGE = 3,
    /** Memory or address space could not be obtained. */
    FCONTEXT_CS_OUT_OF_MEMORY = 4,
    /** Resume of a coroutine whose function has returned. */
    FCONTEXT_CS_FINISHED = 5,
    /** Resume or destroy of a running coroutine. */
    FCONTEXT_CS_RUNNING = 6,
    /** Yield while no copy-stack coroutine runs on this thread. */
    FCONTEXT_CS_NOT_IN_COROUTINE = 7,
    /** Yield with a coroutine other than the running one. */
    FCONTEXT_CS_NOT_CURRENT = 8,
    /** Resume while another coroutine of the same shared stack runs. */
    FCONTEXT_CS_STACK_BUSY = 9,
    /** Destroy of a shared stack that still has coroutines. */
    FCONTEXT_CS_STACK_IN_USE = 10
};

/** Coroutine states reported by fcontext_cs_status. */
enum fcontext_cs_status_value {
    /** Created, never resumed. */
    FCONTEXT_CS_STATUS_FRESH = 0,
    /** Suspended in fcontext_cs_yield. */
    FCONTEXT_CS_STATUS_SUSPENDED = 1,
    /** Running (possibly resuming another coroutine). */
    FCONTEXT_CS_STATUS_RUNNING = 2,
    /** Its function has returned. */
    FCONTEXT_CS_STATUS_DONE = 3
};

/** Opaque handle of a shared stack. */
typedef struct fcontext_cs_stack fcontext_cs_stack_t;

/** Opaque handle of a copy-stack coroutine. */
typedef struct fcontext_cs_coroutine fcontext_cs_coroutine_t;

/** Copy counters of one shared stack. */
typedef struct fcontext_cs_stats {
    /** Swap-outs: an owner's live bytes copied to its private buffer. */
    uint64_t copies_out;
    /** Swap-ins: saved bytes copied back onto the shared stack. */
    uint64_t copies_in;
    /** Total bytes copied out. */
    uint64_t bytes_out;
    /** Total bytes copied in. */
    uint64_t bytes_in;
    /** Largest single copy in either direction, in bytes. */
    uint64_t max_copy;
} fcontext_cs_stats_t;

/** A coroutine body: co is the coroutine (for yield), arg the creation
 *  argument, input the value of the first resume. Its return value is the
 *  output of the resume that sees it finish. */
typedef void *(*fcontext_cs_fn)(fcontext_cs_coroutine_t *co, void *arg, void *input);

/** Returns a static description of an fcontext_cs_result code. */
const char *fcontext_cs_strerror(int code);

/** Maps a shared stack of at least size usable bytes (0: 128 KiB) above a
 *  guard page; stores its handle in *out. */
int fcontext_cs_stack_create(size_t size, fcontext_cs_stack_t **out);

/** Unmaps a shared stack; fails with FCONTEXT_CS_STACK_IN_USE while it has
 *  coroutines. */
int fcontext_cs_stack_destroy(fcontext_cs_stack_t *stack);

/** Copies the copy counters of stack into *out. */
int fcontext_cs_stack_stats(const fcontext_cs_stack_t *stack, fcontext_cs_stats_t *out);

/** Creates a coroutine on stack that will run fn(co, arg, input) at its
 *  first resume; stores its handle in *out. */
int fcontext_cs_create(fcontext_cs_stack_t *stack, fcontext_cs_fn fn, void *arg,
                       fcontext_cs_coroutine_t **out);

/** Destroys a coroutine that is not running (a suspended one's stack is
 *  discarded without unwinding). */
int fcontext_cs_destroy(fcontext_cs_coroutine_t *co);

/** Resumes co with input; stores the value it yields or returns in *output
 *  (output may be NULL). Check fcontext_cs_status to tell the two apart. */
int fcontext_cs_resume(fcontext_cs_coroutine_t *co, void *input, void **output);

/** Suspends the running coroutine co, handing output to its resumer; stores
 *  the next resume's input in *input (input may be NULL). */
int fcontext_cs_yield(fcontext_cs_coroutine_t *co, void *output, void **input);

/** Stores the state of co (an fcontext_cs_status_value) in *out. */
int fcontext_cs_status(const fcontext_cs_coroutine_t *co, int *out);

/** Stores the copy-stack coroutine running on this thread, or NULL, in *out. */
int fcontext_cs_running(fcontext_cs_coroutine_t **out);

/** Stores the bytes co holds in its private buffer (*saved; 0 while its
 *  bytes are on the shared stack) and the buffer capacity (*capacity);
 *  either output may be NULL. */
int fcontext_cs_saved_bytes(const fcontext_cs_coroutine_t *co, size_t *saved, size_t *capacity);

#ifdef __cplusplus
}
#endif

#endif /* FCONTEXT_COPYSTACK_H */
