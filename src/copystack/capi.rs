//! C API of copy-stack coroutines (`include/fcontext_copystack.h`).
//!
//! Every function checks its arguments and the coroutine's state and
//! returns one of the `FCONTEXT_CS_*` codes; `fcontext_cs_strerror`
//! describes each. Handles are opaque pointers to Rust values:
//! a shared stack is a leaked `Rc<StackInner>`, a coroutine a leaked
//! `Box<Task>`.

use super::shared::{CopyStats, SharedStack, SharedStackError, StackInner};
use super::task::{Claim, Refusal, State, Task};
use crate::raw::{FcontextT, Transfer};
use crate::sanitizer::{self, FiberSave, RuntimeFibers};
use crate::switch;
use core::cell::Cell;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;
use std::rc::Rc;

/// Success.
pub const FCONTEXT_CS_OK: c_int = 0;
/// A required pointer argument was null.
pub const FCONTEXT_CS_NULL_POINTER: c_int = 1;
/// The requested shared stack size is below the minimum.
pub const FCONTEXT_CS_STACK_TOO_SMALL: c_int = 2;
/// The requested shared stack size exceeds 4 GiB - 1 (guard page included).
pub const FCONTEXT_CS_STACK_TOO_LARGE: c_int = 3;
/// Memory or address space could not be obtained.
pub const FCONTEXT_CS_OUT_OF_MEMORY: c_int = 4;
/// The coroutine has finished and cannot be resumed.
pub const FCONTEXT_CS_FINISHED: c_int = 5;
/// The coroutine is running (it cannot be resumed or destroyed).
pub const FCONTEXT_CS_RUNNING: c_int = 6;
/// Yield was called while no copy-stack coroutine runs on this thread.
pub const FCONTEXT_CS_NOT_IN_COROUTINE: c_int = 7;
/// Yield was called with a coroutine other than the one running.
pub const FCONTEXT_CS_NOT_CURRENT: c_int = 8;
/// Another coroutine of the same shared stack is running, so the stack
/// cannot change hands (resume it from outside that coroutine).
pub const FCONTEXT_CS_STACK_BUSY: c_int = 9;
/// The shared stack still has coroutines; destroy them first.
pub const FCONTEXT_CS_STACK_IN_USE: c_int = 10;

/// Coroutine status: created, never resumed.
pub const FCONTEXT_CS_STATUS_FRESH: c_int = State::Fresh as c_int;
/// Coroutine status: suspended in a yield.
pub const FCONTEXT_CS_STATUS_SUSPENDED: c_int = State::Suspended as c_int;
/// Coroutine status: running.
pub const FCONTEXT_CS_STATUS_RUNNING: c_int = State::Running as c_int;
/// Coroutine status: its function returned.
pub const FCONTEXT_CS_STATUS_DONE: c_int = State::Done as c_int;

/// Opaque C handle of a shared stack (`fcontext_cs_stack_t`); points to
/// the crate's reference-counted stack state.
#[repr(C)]
pub struct CsStack {
    _opaque: [u8; 0],
}

/// Opaque C handle of a copy-stack coroutine (`fcontext_cs_coroutine_t`);
/// points to the crate's coroutine header.
#[repr(C)]
pub struct CsCoroutine {
    _opaque: [u8; 0],
}

fn inner_of(stack: *const CsStack) -> *const StackInner {
    stack.cast()
}

fn task_of(co: *const CsCoroutine) -> *mut Task {
    co.cast_mut().cast()
}

/// The coroutine body: `co` is the coroutine itself (for yield), `arg` the
/// creation argument, `input` the value of the first resume; the return
/// value is what the last resume receives.
pub type CsFn = unsafe extern "C-unwind" fn(
    co: *mut CsCoroutine,
    arg: *mut c_void,
    input: *mut c_void,
) -> *mut c_void;

/// What a C coroutine's buffer holds until its first resume.
#[derive(Clone, Copy)]
struct CStart {
    f: CsFn,
    arg: *mut c_void,
}

thread_local! {
    /// The copy-stack coroutine running on this thread through the C API
    /// (null on the thread's own stack). Lets yield tell "outside a
    /// coroutine" and "not the running coroutine" apart.
    static CURRENT: Cell<*mut Task> = const { Cell::new(ptr::null_mut()) };
}

/// Entry of every C coroutine. A C++ exception escaping the body would
/// reach this non-unwinding frame and abort the process, which is the
/// only safe outcome: there is no frame above it to catch it.
unsafe extern "C" fn c_entry(t: Transfer) {
    // In a sanitized program the whole coroutine runs from a separate
    // entry, so this frame (part of every suspended coroutine's saved
    // bytes) stays as small as without the check.
    // (The resume that started it already looked the sanitizer up.)
    if sanitizer::runtime_fibers_found() {
        // SAFETY: as below.
        unsafe { c_entry_annotated(t) }
    }
    // SAFETY: started by fcontext_cs_resume with a task made by fcontext_cs_create.
    unsafe {
        // The first switch into this context ends here (ASan, the crate's
        // own `sanitize-address` build; a no-op otherwise).
        sanitizer::asan_enter_context();
        let (co, input) = Task::start(t);
        let CStart { f, arg } = Task::take_payload::<CStart>(co);
        let result = f(co.cast(), arg, input);
        (*co).state = State::Done;
        let stack: &StackInner = &(*co).claim.stack;
        stack.handoff.set(result);
        sanitizer::asan_leave_context_for_good();
        switch_over::<false>(stack.caller.get(), stack);
    }
    // Unreachable: resume refuses Done tasks.
    std::process::abort()
}

/// [`c_entry`] in a program with a sanitizer runtime (see
/// [`resume_annotated`]): ends the first switch for the sanitizer, keeps
/// the resumer's stack bounds, and leaves for good with an annotated
/// switch.
///
/// # Safety
/// As `c_entry`'s: `t` is the first switch from [`resume_annotated`].
#[cold]
#[inline(never)]
unsafe fn c_entry_annotated(t: Transfer) -> ! {
    let Some(hooks) = sanitizer::runtime_fibers() else {
        // Unreachable: found once, found for good.
        std::process::abort()
    };
    // SAFETY: started by resume_annotated with a task made by fcontext_cs_create.
    unsafe {
        let (co, input) = Task::start(t);
        let stack: &StackInner = &(*co).claim.stack;
        stack.san_caller_bounds.set(hooks.finish(&FiberSave::new()));
        let CStart { f, arg } = Task::take_payload::<CStart>(co);
        let result = f(co.cast(), arg, input);
        (*co).state = State::Done;
        stack.handoff.set(result);
        yield_annotated(stack, hooks, true);
    }
    // Unreachable: resume refuses Done tasks.
    std::process::abort()
}

// The C hot path. Each switch of `fcontext_cs_resume` / `fcontext_cs_yield`
// hands the shared stack as the switch's data (the value travels in its
// `handoff` field) and the arriving side's half of the work is done by
// `arrive_in_coroutine` / `arrive_in_resumer`.
//
// On x86_64 Linux the two C functions end in the switch itself
// (`switch::ontop_code`, a tail call in release builds): the arrival
// function runs as the ontop function on the target stack, called from a
// thunk that then returns code 0 to the target's C caller with `pop; jmp`.
// Why: `jump_fcontext`/`ontop_fcontext` leave by an indirect jump, not a
// `ret`, so each switch leaves the switching side's return address on the
// CPU's return-stack predictor, and the next `ret` on the arriving side is
// predicted from the *other* context's calls and mispredicts (about 8 ns
// here). The Rust API's suspend is inlined into the body and has no such
// `ret`; a C function around each side of the switch had two per round
// trip, about half of the C API's cost (32-34 ns -> ~20 ns at 144 saved
// bytes, copystack_bench). Elsewhere the C functions call `switch::jump`
// and run the arrival function after it returns, on their own side.

/// Switches from a resumer into the suspended coroutine at `to` (on
/// `stack`) when `INTO_COROUTINE`, else from the running coroutine of
/// `stack` back to its resumer `to`; returns the result code for
/// `fcontext_cs_resume` / `fcontext_cs_yield` once something switches back.
#[inline(always)]
unsafe fn switch_over<const INTO_COROUTINE: bool>(to: FcontextT, stack: &StackInner) -> c_int {
    let data = ptr::from_ref(stack).cast_mut().cast();
    // SAFETY: `to` is the suspended coroutine of `stack`, or the live
    // resumer of its running coroutine (per the caller).
    unsafe {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        return switch::ontop_code(
            to,
            data,
            if INTO_COROUTINE {
                fcontext_cs_thunk_to_coroutine
            } else {
                fcontext_cs_thunk_to_resumer
            },
        );
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        {
            // Back on this side: do its half of the switch here.
            let t = switch::jump(to, data);
            if INTO_COROUTINE {
                arrive_in_resumer(t);
            } else {
                arrive_in_coroutine(t);
            }
            FCONTEXT_CS_OK
        }
    }
}

/// The first switch into a fresh coroutine (its entry gets the task);
/// returns the result code for `fcontext_cs_resume`.
#[inline(always)]
unsafe fn start_coroutine(ctx: FcontextT, task: *mut Task) -> c_int {
    // SAFETY: `ctx` was just made for `task` on its acquired stack.
    let t = unsafe { switch::jump(ctx, task.cast()) };
    // With the thunks the coroutine's switch back already ran the arrival
    // (and left code 0 in the first return register).
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    return t.fctx as usize as c_int;
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        // SAFETY: the coroutine switched back (yield or finish).
        unsafe { arrive_in_resumer(t) };
        FCONTEXT_CS_OK
    }
}

// Entered by ontop_fcontext's jump with the target's return address on top
// of the stack (as at a function's entry) and the transfer in rdi:rsi:
// aligns the stack, calls the Rust half (a predicted call/ret pair), then
// returns code 0 to the target's caller by `pop; jmp`.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
macro_rules! return_thunk {
    ($name:literal, $target:path) => {
        core::arch::global_asm!(
            ".text",
            ".p2align 4",
            concat!(".globl ", $name),
            concat!(".hidden ", $name),
            concat!(".type ", $name, ",@function"),
            concat!($name, ":"),
            ".cfi_startproc",
            "endbr64",
            "subq $8, %rsp",
            ".cfi_adjust_cfa_offset 8",
            "call {target}",
            "addq $8, %rsp",
            ".cfi_adjust_cfa_offset -8",
            "xorl %eax, %eax",
            "xorl %edx, %edx",
            "popq %rcx",
            ".cfi_adjust_cfa_offset -8",
            ".cfi_register rip, rcx",
            "notrack jmp *%rcx",
            ".cfi_endproc",
            concat!(".size ", $name, ", .-", $name),
            target = sym $target,
            options(att_syntax),
        );
    };
}
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
return_thunk!("fcontext_cs_thunk_to_coroutine", arrive_in_coroutine);
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
return_thunk!("fcontext_cs_thunk_to_resumer", arrive_in_resumer);
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
unsafe extern "C" {
    fn fcontext_cs_thunk_to_coroutine(t: Transfer) -> Transfer;
    fn fcontext_cs_thunk_to_resumer(t: Transfer) -> Transfer;
}

/// Runs on the coroutine's stack as it is resumed: records its resumer and
/// hands it the resume's input.
unsafe extern "C" fn arrive_in_coroutine(t: Transfer) {
    // SAFETY: data is the live shared stack of the coroutine being resumed.
    unsafe {
        let stack = &*t.data.cast::<StackInner>();
        stack.caller.set(t.fctx);
        let input = stack.yield_in.get();
        if !input.is_null() {
            *input = stack.handoff.get();
        }
    }
}

/// Runs on the resumer's stack as a coroutine yields or finishes: the
/// coroutine's side of the resume (record its stack pointer or release it),
/// the running-coroutine marker, the output.
unsafe extern "C" fn arrive_in_resumer(t: Transfer) {
    // SAFETY: data is the live shared stack whose owner just switched out.
    unsafe {
        let stack = &*t.data.cast::<StackInner>();
        let task: *mut Task = stack.owner.get().cast();
        let claim = ptr::addr_of_mut!((*task).claim);
        if (*task).state == State::Done {
            Claim::release(claim, None);
        } else {
            (*task).state = State::Suspended;
            Claim::release(claim, Some(t.fctx.cast()));
        }
        CURRENT.set(stack.resumer_current.get().cast());
        let output = stack.resume_out.get();
        if !output.is_null() {
            *output = stack.handoff.get();
        }
    }
}

// In a program built with `-fsanitize=thread` or `-fsanitize=address` (the
// library itself is not), every switch of the C API takes the two functions
// below instead: the sanitizer's fiber annotations around a plain
// `switch::jump`, each side's arrival work done after the jump returns (as
// off x86_64 Linux). Whether the program has a sanitizer runtime is decided
// at the first resume and never changes, so both sides of every switch take
// the same path; an ordinary program pays one relaxed load and a branch.

/// [`fcontext_cs_resume`]'s switch into `task` (acquired, marked running)
/// with sanitizer annotations.
#[cold]
#[inline(never)]
unsafe fn resume_annotated(
    task: *mut Task,
    stack: &StackInner,
    hooks: &RuntimeFibers,
    fresh: bool,
    input: *mut c_void,
) -> c_int {
    // SAFETY: as fcontext_cs_resume's own switch; the TSan fiber is the
    // task's (made here at its first resume, destroyed when it finishes).
    unsafe {
        stack.san_caller_fiber.set(hooks.current_fiber());
        if (*task).tsan_fiber.is_null() {
            (*task).tsan_fiber = hooks.create_fiber();
        }
        let (to, data) = if fresh {
            stack.start_data.set(input);
            let ctx = switch::make_at(stack.top.cast(), stack.size(), (*task).entry);
            (ctx, task.cast())
        } else {
            stack.handoff.set(input);
            let data = ptr::from_ref(stack).cast_mut().cast();
            ((*task).claim.sp().cast(), data)
        };
        let mut save = FiberSave::new();
        let size = stack.size();
        hooks.start(
            &mut save,
            false,
            (*task).tsan_fiber,
            stack.bottom as usize,
            size,
        );
        let t = switch::jump(to, data);
        hooks.finish(&save);
        arrive_in_resumer(t);
        if (*task).state == State::Done {
            hooks.destroy_fiber((*task).tsan_fiber);
            (*task).tsan_fiber = ptr::null_mut();
        }
    }
    FCONTEXT_CS_OK
}

/// The running coroutine of `stack` switches back to its resumer with
/// sanitizer annotations (`for_good`: it has finished); returns
/// [`fcontext_cs_yield`]'s code once resumed again.
#[cold]
#[inline(never)]
unsafe fn yield_annotated(stack: &StackInner, hooks: &RuntimeFibers, for_good: bool) -> c_int {
    // SAFETY: as fcontext_cs_yield's own switch; the resumer recorded its
    // fiber and ASan reported its stack's bounds when it switched here.
    unsafe {
        let mut save = FiberSave::new();
        let (lo, len) = stack.san_caller_bounds.get();
        hooks.start(&mut save, for_good, stack.san_caller_fiber.get(), lo, len);
        let t = switch::jump(stack.caller.get(), ptr::from_ref(stack).cast_mut().cast());
        stack.san_caller_bounds.set(hooks.finish(&save));
        arrive_in_coroutine(t);
    }
    FCONTEXT_CS_OK
}

fn refusal_code(r: Refusal) -> c_int {
    match r {
        Refusal::Finished => FCONTEXT_CS_FINISHED,
        Refusal::Running => FCONTEXT_CS_RUNNING,
        Refusal::StackBusy => FCONTEXT_CS_STACK_BUSY,
    }
}

/// Describes an `FCONTEXT_CS_*` code (a static, NUL-terminated string).
#[unsafe(no_mangle)]
pub extern "C" fn fcontext_cs_strerror(code: c_int) -> *const c_char {
    let s: &'static [u8] = match code {
        FCONTEXT_CS_OK => b"success\0",
        FCONTEXT_CS_NULL_POINTER => b"a required pointer argument is NULL\0",
        FCONTEXT_CS_STACK_TOO_SMALL => b"shared stack size is below FCONTEXT_CS_MIN_STACK_SIZE\0",
        FCONTEXT_CS_STACK_TOO_LARGE => b"shared stack size exceeds 4 GiB - 1\0",
        FCONTEXT_CS_OUT_OF_MEMORY => b"out of memory or address space\0",
        FCONTEXT_CS_FINISHED => b"the coroutine has finished and cannot be resumed\0",
        FCONTEXT_CS_RUNNING => b"the coroutine is running\0",
        FCONTEXT_CS_NOT_IN_COROUTINE => b"yield called outside a copy-stack coroutine\0",
        FCONTEXT_CS_NOT_CURRENT => b"yield called with a coroutine that is not the running one\0",
        FCONTEXT_CS_STACK_BUSY => {
            b"another coroutine of this shared stack is running; the stack cannot change hands\0"
        }
        FCONTEXT_CS_STACK_IN_USE => b"the shared stack still has coroutines\0",
        _ => b"unknown fcontext_cs error code\0",
    };
    s.as_ptr().cast()
}

/// Maps a shared stack of at least `size` usable bytes (0: 128 KiB).
///
/// # Safety
/// `out` is null or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_stack_create(size: usize, out: *mut *mut CsStack) -> c_int {
    if out.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    let size = if size == 0 {
        crate::stack_traits::default_size()
    } else {
        size
    };
    match SharedStack::new(size) {
        Ok(stack) => {
            // SAFETY: out is non-null and, per the caller, writable.
            unsafe { *out = Rc::into_raw(stack.inner).cast_mut().cast() };
            FCONTEXT_CS_OK
        }
        Err(SharedStackError::TooSmall { .. }) => FCONTEXT_CS_STACK_TOO_SMALL,
        Err(SharedStackError::TooLarge { .. }) => FCONTEXT_CS_STACK_TOO_LARGE,
        Err(SharedStackError::Map(_)) => FCONTEXT_CS_OUT_OF_MEMORY,
    }
}

/// Unmaps a shared stack that has no coroutines left.
///
/// # Safety
/// `stack` is null or a live handle from `fcontext_cs_stack_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_stack_destroy(stack: *mut CsStack) -> c_int {
    if stack.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    // SAFETY: a live handle is a leaked Rc; we only look at the count here.
    let rc = unsafe { std::mem::ManuallyDrop::new(Rc::from_raw(inner_of(stack))) };
    if Rc::strong_count(&rc) > 1 {
        return FCONTEXT_CS_STACK_IN_USE;
    }
    drop(std::mem::ManuallyDrop::into_inner(rc));
    FCONTEXT_CS_OK
}

/// Copies the copy counters of `stack` into `*out`.
///
/// # Safety
/// Both pointers are null or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_stack_stats(
    stack: *const CsStack,
    out: *mut CopyStats,
) -> c_int {
    if stack.is_null() || out.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    // SAFETY: per the caller.
    unsafe { *out = (*inner_of(stack)).stats.get() };
    FCONTEXT_CS_OK
}

/// Creates a coroutine on `stack` that will run `f(co, arg, input)`.
///
/// # Safety
/// `stack` is null or a live stack handle; `out` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_create(
    stack: *mut CsStack,
    f: Option<CsFn>,
    arg: *mut c_void,
    out: *mut *mut CsCoroutine,
) -> c_int {
    let (Some(f), false, false) = (f, stack.is_null(), out.is_null()) else {
        return FCONTEXT_CS_NULL_POINTER;
    };
    // SAFETY: a live handle is a leaked Rc: take one more reference.
    let inner = unsafe {
        Rc::increment_strong_count(inner_of(stack));
        Rc::from_raw(inner_of(stack))
    };
    let co = Task::new(inner, CStart { f, arg }, c_entry);
    // SAFETY: out is non-null and writable.
    unsafe { *out = Box::into_raw(co).cast() };
    FCONTEXT_CS_OK
}

/// Destroys a coroutine that is not running. A suspended coroutine's stack
/// is discarded without running anything on it.
///
/// # Safety
/// `co` is null or a live coroutine handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_destroy(co: *mut CsCoroutine) -> c_int {
    if co.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    // SAFETY: a live handle is a leaked Box<Task>.
    unsafe {
        let task = task_of(co);
        if (*task).state == State::Running {
            return FCONTEXT_CS_RUNNING;
        }
        if !(*task).tsan_fiber.is_null() {
            if let Some(hooks) = sanitizer::runtime_fibers() {
                // Suspended: its fiber is not current and never runs again.
                hooks.destroy_fiber((*task).tsan_fiber);
            }
        }
        // The start payload (a function pointer and a pointer) needs no drop.
        drop(Box::from_raw(task));
    }
    FCONTEXT_CS_OK
}

/// Resumes `co` with `input`; stores what it yields (or returns) in
/// `*output` when `output` is not null.
///
/// # Safety
/// `co` is null or a live coroutine handle of this thread; `output` is null
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_resume(
    co: *mut CsCoroutine,
    input: *mut c_void,
    output: *mut *mut c_void,
) -> c_int {
    if co.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    let task = task_of(co);
    // SAFETY: co is live per the caller; its stack outlives it.
    unsafe {
        match (*task).state {
            State::Done => return refusal_code(Refusal::Finished),
            State::Running => return refusal_code(Refusal::Running),
            State::Fresh | State::Suspended => {}
        }
        let claim = ptr::addr_of_mut!((*task).claim);
        if let Err(r) = Claim::acquire(claim) {
            return refusal_code(r);
        }
        let stack = &*(*claim).stack;
        stack.resumer_current.set(CURRENT.replace(task).cast());
        stack.resume_out.set(output);
        let fresh = (*task).state == State::Fresh;
        (*task).state = State::Running;
        if let Some(hooks) = sanitizer::runtime_fibers() {
            return resume_annotated(task, stack, hooks, fresh, input);
        }
        if fresh {
            // The previous owner is saved: the fresh frame may go on top.
            // The first switch carries the task; the input waits in the stack.
            stack.start_data.set(input);
            let ctx = switch::make_at(stack.top.cast(), stack.size(), (*task).entry);
            return start_coroutine(ctx, task);
        }
        stack.handoff.set(input);
        switch_over::<true>((*claim).sp().cast(), stack)
    }
}

/// Suspends the running coroutine `co`, handing `output` to its resumer;
/// stores the next resume's input in `*input` when `input` is not null.
///
/// # Safety
/// `co` is null or a live coroutine handle; `input` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_yield(
    co: *mut CsCoroutine,
    output: *mut c_void,
    input: *mut *mut c_void,
) -> c_int {
    if co.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    let current = CURRENT.get();
    if current.is_null() {
        return FCONTEXT_CS_NOT_IN_COROUTINE;
    }
    if current != task_of(co) {
        return FCONTEXT_CS_NOT_CURRENT;
    }
    // SAFETY: co is the coroutine running on this very stack; `caller` is
    // its live resumer.
    unsafe {
        let stack: &StackInner = &(*current).claim.stack;
        stack.yield_in.set(input);
        stack.handoff.set(output);
        if let Some(hooks) = sanitizer::runtime_fibers() {
            return yield_annotated(stack, hooks, false);
        }
        switch_over::<false>(stack.caller.get(), stack)
    }
}

/// Stores the status (`FCONTEXT_CS_STATUS_*`) of `co` in `*out`.
///
/// # Safety
/// Both pointers are null or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_status(co: *const CsCoroutine, out: *mut c_int) -> c_int {
    if co.is_null() || out.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    // SAFETY: per the caller.
    unsafe { *out = (*task_of(co)).state as c_int };
    FCONTEXT_CS_OK
}

/// Stores the running copy-stack coroutine of this thread (or NULL) in
/// `*out`.
///
/// # Safety
/// `out` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_running(out: *mut *mut CsCoroutine) -> c_int {
    if out.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    // SAFETY: per the caller.
    unsafe { *out = CURRENT.get().cast() };
    FCONTEXT_CS_OK
}

/// Stores how many bytes of stack `co` has saved in its private buffer
/// (`*saved`, 0 while its bytes are on the shared stack) and the buffer's
/// capacity (`*capacity`). Either output may be null.
///
/// # Safety
/// `co` is null or live; the outputs are null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcontext_cs_saved_bytes(
    co: *const CsCoroutine,
    saved: *mut usize,
    capacity: *mut usize,
) -> c_int {
    if co.is_null() {
        return FCONTEXT_CS_NULL_POINTER;
    }
    // SAFETY: per the caller.
    unsafe {
        let claim = &(*task_of(co)).claim;
        if !saved.is_null() {
            *saved = claim.saved_bytes();
        }
        if !capacity.is_null() {
            *capacity = claim.cap as usize;
        }
    }
    FCONTEXT_CS_OK
}
