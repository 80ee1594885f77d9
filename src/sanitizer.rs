//! AddressSanitizer hooks: the fiber-switch annotations around every
//! context switch and the unpoisoning of copied stack bytes.
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
