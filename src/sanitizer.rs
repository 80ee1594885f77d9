//! Sanitizer hooks: the fiber-switch annotations around every context
//! switch (ASan, and TSan for the C API) and the unpoisoning of copied
//! stack bytes.
//!
//! ASan tracks "the current stack" and gets confused when the stack pointer
//! jumps into memory it does not know is a stack: it reports false
//! stack-buffer overflows and cannot unwind its fake stacks. With the
//! `sanitize-address` feature (nightly, `RUSTFLAGS=-Zsanitizer=address`)
//! [`AsanSwitch`] wraps each switch made by [`switch`](crate::switch) in
//! `__sanitizer_start_switch_fiber` / `__sanitizer_finish_switch_fiber`;
//! the target stack's bounds come from the stack registry
//! ([`stack::registry`](crate::stack::registry)). Without the feature every
//! item here is empty and compiles to nothing.
//!
//! For C and C++ programs built with `-fsanitize=address` or
//! `-fsanitize=thread` the C library (built without a sanitizer) finds the
//! runtime's functions at run time instead: [`asan_unpoison`] for the stack
//! copies and [`RuntimeFibers`] for the copy-stack C API's switches.

use core::ffi::c_void;

#[cfg(feature = "sanitize-address")]
unsafe extern "C" {
    fn __sanitizer_start_switch_fiber(
        fake_stack_save: *mut *mut c_void,
        bottom: *const c_void,
        size: usize,
    );
    fn __sanitizer_finish_switch_fiber(
        fake_stack_save: *mut c_void,
        bottom_old: *mut *const c_void,
        size_old: *mut usize,
    );
}

/// ASan bookkeeping for one context switch, made by `switch::jump` and
/// `switch::ontop` (the only places the safe API switches):
///
/// ```text
/// let mut asan = AsanSwitch::new();
/// asan.start_to(target);        // __sanitizer_start_switch_fiber(target's stack)
/// jump_fcontext(target, ..);    // ... we are suspended, later resumed ...
/// asan.finish();                // __sanitizer_finish_switch_fiber
/// ```
///
/// Code that runs on the target stack and may switch again before a pending
/// switch there returns must end the switch itself: a fresh context's entry
/// function, and an `ontop_fcontext` function that runs user code
/// (`Fiber::resume_with`), call [`asan_enter_context`] first. A per-thread
/// flag makes the later `finish` of the pending switch a no-op then, so ASan
/// sees each switch finished exactly once. The cost: that pending switch
/// cannot hand its saved fake stack back, so with ASan's
/// `detect_stack_use_after_return=1` each `resume_with` leaves one fake
/// stack behind (`cargo xtask asan` runs with `=1` all the same; the fuzz
/// run, which calls it millions of times, uses `=0`). Ontop functions that never switch (forced unwind
/// request, freeing a finished fiber's stack) leave the finish to the
/// pending switch.
///
/// Without the `sanitize-address` feature this type is empty and every
/// method is an empty inline function.
#[derive(Debug)]
pub(crate) struct AsanSwitch {
    #[cfg(feature = "sanitize-address")]
    fake_stack: *mut c_void,
}

#[cfg(feature = "sanitize-address")]
thread_local! {
    /// A switch was started on this thread and not yet finished.
    static SWITCHING: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    /// The next switch leaves a context that never runs again.
    static LEAVING: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

impl Default for AsanSwitch {
    fn default() -> Self {
        Self::new()
    }
}

impl AsanSwitch {
    /// Fresh state (no switch in progress).
    #[inline(always)]
    pub(crate) const fn new() -> Self {
        AsanSwitch {
            #[cfg(feature = "sanitize-address")]
            fake_stack: core::ptr::null_mut(),
        }
    }

    /// Announces a switch to the stack `lo..lo + len`; call right before
    /// the jump.
    #[cfg_attr(not(feature = "sanitize-address"), allow(dead_code))]
    #[inline(always)]
    fn start(&mut self, lo: *const u8, len: usize) {
        #[cfg(feature = "sanitize-address")]
        {
            SWITCHING.with(|s| s.set(true));
            // A context that never runs again passes no save slot, so ASan
            // frees its fake stack instead of keeping it for a return.
            let save: *mut *mut c_void = if LEAVING.with(|l| l.replace(false)) {
                core::ptr::null_mut()
            } else {
                &mut self.fake_stack
            };
            // SAFETY: ASan's documented fiber protocol; `fake_stack` is ours.
            unsafe { __sanitizer_start_switch_fiber(save, lo.cast(), len) };
        }
        #[cfg(not(feature = "sanitize-address"))]
        let _ = (lo, len);
    }

    /// Announces a switch to the context `ctx` (its saved stack pointer):
    /// finds the bounds of the stack it lives on among the registered
    /// stacks, else takes the current thread's own stack (a context that is
    /// not on one of our stacks is a thread stack, and only its own thread
    /// ever switches to it).
    #[inline(always)]
    pub(crate) fn start_to(&mut self, ctx: *const c_void) {
        #[cfg(feature = "sanitize-address")]
        {
            let (lo, len) = match crate::stack::registry::stack_containing(ctx as usize) {
                Some((lo, hi)) => (lo, hi - lo),
                None => thread_stack_bounds(),
            };
            self.start(lo as *const u8, len);
        }
        #[cfg(not(feature = "sanitize-address"))]
        let _ = ctx;
    }

    /// Completes the switch onto the current stack, unless code on this
    /// stack already did (see the type's docs).
    #[inline(always)]
    pub(crate) fn finish(&mut self) {
        #[cfg(feature = "sanitize-address")]
        if SWITCHING.with(|s| s.replace(false)) {
            // SAFETY: ASan's documented fiber protocol.
            unsafe {
                __sanitizer_finish_switch_fiber(
                    self.fake_stack,
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                )
            };
        }
    }
}

#[cfg(feature = "sanitize-address")]
unsafe extern "C" {
    fn __asan_unpoison_memory_region(addr: *const c_void, size: usize);
    fn __asan_get_current_fake_stack() -> *mut c_void;
    fn __asan_addr_is_in_fake_stack(
        fake_stack: *mut c_void,
        addr: *mut c_void,
        beg: *mut *mut c_void,
        end: *mut *mut c_void,
    ) -> *mut c_void;
}

/// Where a local whose address is `addr` really lives on the stack. With
/// ASan's use-after-return detection (`detect_stack_use_after_return=1`)
/// locals live in a heap "fake stack" frame; this maps such an address to
/// the real stack frame that owns it, so "which stack am I on" questions
/// get the right answer. Without the `sanitize-address` feature, `addr`.
#[inline]
pub fn real_stack_address(addr: usize) -> usize {
    #[cfg(feature = "sanitize-address")]
    {
        // SAFETY: ASan's documented queries; they only read its bookkeeping.
        let real = unsafe {
            __asan_addr_is_in_fake_stack(
                __asan_get_current_fake_stack(),
                addr as *mut c_void,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            )
        };
        if !real.is_null() {
            return real as usize;
        }
    }
    addr
}

/// Clears ASan's poison on `addr..addr + len` (`ASAN_UNPOISON_MEMORY_REGION`).
/// The copy-stack coroutines copy live stack bytes, redzones included, out
/// of and back into the shared stack; the redzones' poison belongs to
/// frames ASan no longer tracks there, so both copies unpoison first.
///
/// With the `sanitize-address` feature (the Rust crate built with ASan) the
/// call is direct. Without it the C library may still run inside a program
/// built with `-fsanitize=address`, whose runtime intercepts the copy's
/// `memcpy` and would report the redzones: the runtime's function is then
/// looked up once ([`runtime_unpoison`]) and called when present. In an
/// ordinary program that costs one relaxed load and a predictable branch
/// per copy.
#[inline(always)]
pub(crate) fn asan_unpoison(addr: *const u8, len: usize) {
    #[cfg(feature = "sanitize-address")]
    // SAFETY: only changes ASan's shadow for memory the caller owns.
    unsafe {
        __asan_unpoison_memory_region(addr.cast(), len)
    };
    #[cfg(not(feature = "sanitize-address"))]
    if let Some(unpoison) = runtime_unpoison() {
        // SAFETY: the sanitized program's own ASan runtime function, with
        // its documented signature; it only changes shadow memory.
        unsafe { unpoison(addr.cast(), len) }
    }
}

/// `__asan_unpoison_memory_region` of the running program when it was built
/// with AddressSanitizer, found at the first call and remembered.
#[cfg(not(feature = "sanitize-address"))]
#[inline(always)]
fn runtime_unpoison() -> Option<unsafe extern "C" fn(*const c_void, usize)> {
    use core::sync::atomic::{AtomicUsize, Ordering};
    /// 1: not looked up yet; 0: the program has no ASan runtime.
    static FOUND: AtomicUsize = AtomicUsize::new(1);
    let mut found = FOUND.load(Ordering::Relaxed);
    if found == 1 {
        found = crate::sys::find_symbol(c"__asan_unpoison_memory_region") as usize;
        FOUND.store(found, Ordering::Relaxed);
    }
    // SAFETY: a non-null address of that symbol is that function (ASan's
    // interface: `void __asan_unpoison_memory_region(void const volatile *,
    // size_t)`); 1 is never a function address.
    (found > 1).then(|| unsafe {
        core::mem::transmute::<usize, unsafe extern "C" fn(*const c_void, usize)>(found)
    })
}

/// The calling thread's own stack `(lowest address, size)`, cached per
/// thread (`(0, 0)` when the C library cannot tell).
#[cfg(feature = "sanitize-address")]
fn thread_stack_bounds() -> (usize, usize) {
    use core::cell::Cell;
    thread_local! {
        static BOUNDS: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
    }
    if let Some(b) = BOUNDS.with(Cell::get) {
        return b;
    }
    let bounds = crate::sys::thread_stack_bounds().unwrap_or((0, 0));
    BOUNDS.with(|b| b.set(Some(bounds)));
    bounds
}

/// Call first thing on the target stack of a switch that does not return
/// there through `switch::jump`/`switch::ontop`: a fresh context's entry
/// function, and an `ontop_fcontext` function that may switch again. Ends the switch for ASan,
/// as [`AsanSwitch::finish`] does for a switch that returns. A no-op
/// without the `sanitize-address` feature.
#[inline(always)]
pub(crate) fn asan_enter_context() {
    AsanSwitch::new().finish();
}

/// Call right before the last switch out of a context that will never run
/// again (a finished coroutine or fiber), so ASan frees that context's fake
/// stack. A no-op without the `sanitize-address` feature.
#[inline(always)]
pub(crate) fn asan_leave_context_for_good() {
    #[cfg(feature = "sanitize-address")]
    LEAVING.with(|l| l.set(true));
}

/// Fiber-switch functions of a sanitizer runtime linked into the running
/// program, found at run time: how the C library (built without any
/// sanitizer) annotates the copy-stack C API's switches in C and C++
/// programs built with `-fsanitize=thread` or `-fsanitize=address`.
///
/// [`runtime_fibers`] looks the functions up once; in an ordinary program
/// each later call costs one relaxed load and a predictable branch. The
/// caller (`copystack/capi.rs`) then takes its annotated switch path,
/// which per switch does
///
/// ```text
/// hooks.start(&mut save, for_good, tsan_fiber, target stack bounds);
/// jump_fcontext(..);   // ... suspended, later resumed ...
/// hooks.finish(save)   // -> the bounds of the stack switched from
/// ```
///
/// ThreadSanitizer: each copy-stack coroutine gets its own TSan fiber
/// (created at its first resume, destroyed when it finishes or is
/// destroyed); the resumer side is whatever fiber was current when it
/// resumed (the thread's own, or an outer coroutine's).
/// `__tsan_switch_to_fiber(fiber, 0)` is called right before the jump,
/// from this uninstrumented code, so the switch also orders the two sides
/// for TSan. AddressSanitizer (only when the crate itself is not built with
/// the `sanitize-address` feature, which annotates every switch directly):
/// `__sanitizer_start_switch_fiber` / `__sanitizer_finish_switch_fiber`
/// with a fake-stack save slot per switching side, `NULL` only when a
/// coroutine leaves for good.
#[derive(Debug)]
pub(crate) struct RuntimeFibers {
    tsan: Option<TsanFibers>,
    #[cfg(not(feature = "sanitize-address"))]
    asan: Option<AsanFibers>,
}

#[derive(Debug, Clone, Copy)]
struct TsanFibers {
    create: unsafe extern "C" fn(flags: u32) -> *mut c_void,
    destroy: unsafe extern "C" fn(fiber: *mut c_void),
    switch_to: unsafe extern "C" fn(fiber: *mut c_void, flags: u32),
    current: unsafe extern "C" fn() -> *mut c_void,
}

#[cfg(not(feature = "sanitize-address"))]
#[derive(Debug, Clone, Copy)]
struct AsanFibers {
    start: unsafe extern "C" fn(save: *mut *mut c_void, bottom: *const c_void, size: usize),
    finish: unsafe extern "C" fn(save: *mut c_void, bottom: *mut *const c_void, size: *mut usize),
}

/// One side's state across an annotated switch: where ASan parks the
/// suspended side's fake stack. Lives in the frame of the function that
/// switches, so a coroutine's copy travels with its stack bytes.
#[derive(Debug)]
pub(crate) struct FiberSave {
    // Read only by the run-time path, which the `sanitize-address` build
    // (annotating at compile time) leaves out.
    #[cfg_attr(feature = "sanitize-address", allow(dead_code))]
    fake_stack: *mut c_void,
}

impl FiberSave {
    /// An empty save slot.
    pub(crate) const fn new() -> Self {
        FiberSave {
            fake_stack: core::ptr::null_mut(),
        }
    }
}

/// The sanitizer fiber functions of the running program, or `None` in an
/// ordinary program (one relaxed load and a branch after the first call).
#[inline(always)]
pub(crate) fn runtime_fibers() -> Option<&'static RuntimeFibers> {
    use core::sync::atomic::Ordering;
    if RUNTIME_STATE.load(Ordering::Relaxed) == RUNTIME_ABSENT {
        return None;
    }
    runtime_fibers_slow()
}

/// True when an earlier [`runtime_fibers`] found the functions: for code
/// that only runs after such a call (a copy-stack coroutine's entry), so
/// no look-up is needed and the check is one load and a compare.
#[inline(always)]
pub(crate) fn runtime_fibers_found() -> bool {
    RUNTIME_STATE.load(core::sync::atomic::Ordering::Relaxed) == RUNTIME_PRESENT
}

/// 0: not looked up yet; [`RUNTIME_ABSENT`]; [`RUNTIME_PRESENT`].
static RUNTIME_STATE: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);
const RUNTIME_ABSENT: u8 = 1;
const RUNTIME_PRESENT: u8 = 2;

#[cold]
#[inline(never)]
fn runtime_fibers_slow() -> Option<&'static RuntimeFibers> {
    use core::sync::atomic::Ordering;
    static FOUND: std::sync::OnceLock<Option<RuntimeFibers>> = std::sync::OnceLock::new();
    let found = FOUND.get_or_init(RuntimeFibers::look_up).as_ref();
    let state = if found.is_some() {
        RUNTIME_PRESENT
    } else {
        RUNTIME_ABSENT
    };
    RUNTIME_STATE.store(state, Ordering::Relaxed);
    found
}

/// `name`'s address in the running program as a function pointer of type
/// `F`, or `None`.
///
/// # Safety
/// `F` is a function pointer type matching the symbol's real signature.
unsafe fn find_fn<F: Copy>(name: &core::ffi::CStr) -> Option<F> {
    const { assert!(core::mem::size_of::<F>() == core::mem::size_of::<*mut c_void>()) };
    let p = crate::sys::find_symbol(name);
    // SAFETY: a non-null address of the symbol is that function, whose
    // type the caller names.
    (!p.is_null()).then(|| unsafe { core::mem::transmute_copy::<*mut c_void, F>(&p) })
}

impl RuntimeFibers {
    fn look_up() -> Option<RuntimeFibers> {
        // SAFETY: the types are the documented signatures of
        // sanitizer/tsan_interface.h and sanitizer/common_interface_defs.h.
        unsafe {
            let tsan = (|| {
                Some(TsanFibers {
                    create: find_fn(c"__tsan_create_fiber")?,
                    destroy: find_fn(c"__tsan_destroy_fiber")?,
                    switch_to: find_fn(c"__tsan_switch_to_fiber")?,
                    current: find_fn(c"__tsan_get_current_fiber")?,
                })
            })();
            #[cfg(not(feature = "sanitize-address"))]
            let asan = (|| {
                Some(AsanFibers {
                    start: find_fn(c"__sanitizer_start_switch_fiber")?,
                    finish: find_fn(c"__sanitizer_finish_switch_fiber")?,
                })
            })();
            #[cfg(not(feature = "sanitize-address"))]
            let any = tsan.is_some() || asan.is_some();
            #[cfg(feature = "sanitize-address")]
            let any = tsan.is_some();
            any.then_some(RuntimeFibers {
                tsan,
                #[cfg(not(feature = "sanitize-address"))]
                asan,
            })
        }
    }

    /// The current TSan fiber (null without TSan).
    pub(crate) fn current_fiber(&self) -> *mut c_void {
        match self.tsan {
            // SAFETY: TSan's documented interface.
            Some(t) => unsafe { (t.current)() },
            None => core::ptr::null_mut(),
        }
    }

    /// A new TSan fiber (null without TSan).
    pub(crate) fn create_fiber(&self) -> *mut c_void {
        match self.tsan {
            // SAFETY: TSan's documented interface.
            Some(t) => unsafe { (t.create)(0) },
            None => core::ptr::null_mut(),
        }
    }

    /// Destroys a TSan fiber made by [`create_fiber`](Self::create_fiber).
    ///
    /// # Safety
    /// `fiber` is null or such a fiber, not current and not used again.
    pub(crate) unsafe fn destroy_fiber(&self, fiber: *mut c_void) {
        if let (Some(t), false) = (self.tsan, fiber.is_null()) {
            // SAFETY: per the caller.
            unsafe { (t.destroy)(fiber) }
        }
    }

    /// Announces a switch, right before the jump: to the TSan fiber
    /// `fiber` and (ASan) to the stack `lo..lo + len`. `for_good`: the
    /// current context never runs again (ASan frees its fake stack).
    ///
    /// # Safety
    /// The jump follows at once; `fiber` is a live TSan fiber when TSan is
    /// present; `save` stays in place (or is copied back) until
    /// [`finish`](Self::finish) on this side.
    #[inline]
    pub(crate) unsafe fn start(
        &self,
        save: &mut FiberSave,
        for_good: bool,
        fiber: *mut c_void,
        lo: usize,
        len: usize,
    ) {
        #[cfg(not(feature = "sanitize-address"))]
        if let Some(a) = self.asan {
            let slot: *mut *mut c_void = if for_good {
                core::ptr::null_mut()
            } else {
                &mut save.fake_stack
            };
            // SAFETY: ASan's documented fiber protocol.
            unsafe { (a.start)(slot, lo as *const c_void, len) };
        }
        #[cfg(feature = "sanitize-address")]
        let _ = (save, for_good, lo, len);
        if let Some(t) = self.tsan {
            // SAFETY: per the caller, with synchronisation (flags 0).
            unsafe { (t.switch_to)(fiber, 0) };
        }
    }

    /// Completes a switch onto the current stack (first thing after the
    /// jump returns, or in a fresh context's entry with a fresh `save`);
    /// returns the bounds `(lo, len)` of the stack switched from, as ASan
    /// knew them (`(0, 0)` without ASan).
    ///
    /// # Safety
    /// Pairs with a [`start`](Self::start) on the other side.
    #[inline]
    pub(crate) unsafe fn finish(&self, save: &FiberSave) -> (usize, usize) {
        #[cfg(not(feature = "sanitize-address"))]
        if let Some(a) = self.asan {
            let mut lo: *const c_void = core::ptr::null();
            let mut len = 0usize;
            // SAFETY: ASan's documented fiber protocol.
            unsafe { (a.finish)(save.fake_stack, &mut lo, &mut len) };
            return (lo as usize, len);
        }
        let _ = save;
        (0, 0)
    }
}
