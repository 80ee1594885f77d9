//! Telling Valgrind and AddressSanitizer about our stacks and switches.
//!
//! Both tools track "the current stack" and get confused when the stack
//! pointer jumps into memory they do not know is a stack: Valgrind reports
//! every access there as invalid (or treats the jump as a huge stack
//! change), ASan reports false stack-buffer overflows and cannot unwind its
//! fake stacks. This module is the one seam where the crate tells them:
//!
//! * [`StackRegistration`] is created with every stack the crate makes (and
//!   held until it is freed). It registers the usable range with Valgrind
//!   (`VALGRIND_STACK_REGISTER`, a no-op costing a few register rotations
//!   when not running under Valgrind) and the guard page with the overflow
//!   reporter ([`crate::overflow`]).
//! * [`AsanSwitch`] wraps each context switch in
//!   `__sanitizer_start_switch_fiber` / `__sanitizer_finish_switch_fiber`
//!   when the crate is built with the `sanitize-address` feature (nightly,
//!   `RUSTFLAGS=-Zsanitizer=address`). Without the feature it is an empty
//!   type whose methods compile to nothing.

use core::ffi::c_void;
use core::ops::Range;

use crate::overflow;

// ---------------------------------------------------------------------------
// Valgrind client requests.

/// Valgrind's core client request numbers (`valgrind.h`, `Vg_ClientRequest`).
const VG_USERREQ_RUNNING_ON_VALGRIND: usize = 0x1001;
const VG_USERREQ_STACK_REGISTER: usize = 0x1501;
const VG_USERREQ_STACK_DEREGISTER: usize = 0x1502;
const VG_USERREQ_STACK_CHANGE: usize = 0x1503;

/// Issues a Valgrind client request and returns its result, or `default`
/// when the program does not run under Valgrind (the magic sequence is then
/// a handful of rotations that leave the register unchanged).
#[inline]
fn client_request(default: usize, request: usize, args: [usize; 5]) -> usize {
    let block = [request, args[0], args[1], args[2], args[3], args[4]];
    #[cfg(target_arch = "x86_64")]
    {
        let result: usize;
        // SAFETY: the rotations of rdi by 3+13+61+51 = 128 bits restore it,
        // and `xchg rbx, rbx` is a no-op natively; under Valgrind the
        // sequence reads the request block at rax and returns in rdx. The
        // rotations write CF and OF, and valgrind.h declares the sequence
        // as clobbering "cc" and "memory": so no `preserves_flags` and no
        // `nomem`/`readonly` (the defaults let it touch both).
        unsafe {
            core::arch::asm!(
                "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51",
                "xchg rbx, rbx",
                inout("rdx") default => result,
                in("rax") block.as_ptr(),
                out("rdi") _,
                options(nostack),
            );
        }
        result
    }
    #[cfg(target_arch = "aarch64")]
    {
        let result: usize;
        // SAFETY: as above: rotating x12 by 3+13+51+61 = 128 bits restores
        // it and `orr x10, x10, x10` is a no-op natively; under Valgrind the
        // request block is read from x4 and the result returned in x3.
        // `ror` and `orr` leave NZCV alone natively, but valgrind.h declares
        // the sequence as clobbering "cc", "memory", x3 and x4 (what the
        // tool does under Valgrind is its business), so we promise no more.
        unsafe {
            core::arch::asm!(
                "ror x12, x12, #3", "ror x12, x12, #13", "ror x12, x12, #51", "ror x12, x12, #61",
                "orr x10, x10, x10",
                inout("x3") default => result,
                inout("x4") block.as_ptr() => _,
                out("x12") _,
                options(nostack),
            );
        }
        result
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = block;
        default
    }
}

/// Memcheck's `MAKE_MEM_UNDEFINED` request (`memcheck.h`: tool base
/// `'M','C'` + 1).
const VG_USERREQ_MAKE_MEM_UNDEFINED: usize = 0x4d43_0001;

/// Tells Memcheck that `addr..addr + len` is addressable but holds no
/// defined value yet (`VALGRIND_MAKE_MEM_UNDEFINED`). Code that writes into
/// a part of a stack Memcheck believes dead (the copy-stack swap-in, which
/// restores a suspended coroutine's bytes below the shared stack's top)
/// calls it first. A no-op outside Valgrind.
#[inline]
pub fn valgrind_make_mem_undefined(addr: *const u8, len: usize) {
    client_request(
        0,
        VG_USERREQ_MAKE_MEM_UNDEFINED,
        [addr as usize, len, 0, 0, 0],
    );
}

/// Whether the program runs under Valgrind (`RUNNING_ON_VALGRIND`).
pub fn running_on_valgrind() -> bool {
    client_request(0, VG_USERREQ_RUNNING_ON_VALGRIND, [0; 5]) != 0
}

/// Changes the range of a stack registered with Valgrind (for code that
/// grows or shrinks a stack in place).
pub fn valgrind_stack_change(id: usize, stack: Range<usize>) {
    client_request(
        0,
        VG_USERREQ_STACK_CHANGE,
        [id, stack.start, stack.end, 0, 0],
    );
}

/// A stack known to Valgrind and (if it has a guard page) to the overflow
/// reporter. Create one when a stack is allocated; drop it before the
/// memory is freed.
#[derive(Debug)]
pub struct StackRegistration {
    valgrind_id: usize,
    overflow: Option<overflow::Token>,
}

impl StackRegistration {
    /// Registers the usable stack `stack` (lowest address ..one past the
    /// highest) and its guard range `guard`, if any.
    pub fn new(stack: Range<usize>, guard: Option<Range<usize>>) -> Self {
        // Valgrind wants the highest addressable byte, not one past it.
        let valgrind_id = client_request(
            0,
            VG_USERREQ_STACK_REGISTER,
            [stack.start, stack.end.saturating_sub(1), 0, 0, 0],
        );
        // Every stack goes into the overflow registry: one with a guard so
        // its overflows are reported, one without (an empty guard range,
        // which no address matches) so ASan builds can find any context's
        // stack bounds from its address.
        let g = guard.unwrap_or(0..0);
        let overflow = Some(overflow::register(g.start, g.end, stack.start, stack.end));
        StackRegistration {
            valgrind_id,
            overflow,
        }
    }

    /// The id Valgrind assigned (0 when not running under Valgrind).
    pub fn valgrind_id(&self) -> usize {
        self.valgrind_id
    }
}

impl Drop for StackRegistration {
    fn drop(&mut self) {
        client_request(
            0,
            VG_USERREQ_STACK_DEREGISTER,
            [self.valgrind_id, 0, 0, 0, 0],
        );
        if let Some(token) = self.overflow.take() {
            overflow::unregister(token);
        }
    }
}

// ---------------------------------------------------------------------------
// AddressSanitizer fiber-switch annotations.

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
/// stack behind (`cargo xtask asan` and the fuzz run use `=0`, which the
/// tests need anyway). Ontop functions that never switch (forced unwind
/// request, freeing a finished fiber's stack) leave the finish to the
/// pending switch.
///
/// Without the `sanitize-address` feature this type is empty and every
/// method is an empty inline function.
#[derive(Debug)]
pub struct AsanSwitch {
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
    pub const fn new() -> Self {
        AsanSwitch {
            #[cfg(feature = "sanitize-address")]
            fake_stack: core::ptr::null_mut(),
        }
    }

    /// Announces a switch to the stack `lo..lo + len`; call right before
    /// the jump.
    #[inline(always)]
    pub fn start(&mut self, lo: *const u8, len: usize) {
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
    pub fn start_to(&mut self, ctx: *const c_void) {
        #[cfg(feature = "sanitize-address")]
        {
            let (lo, len) = match overflow::stack_containing(ctx as usize) {
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
    pub fn finish(&mut self) {
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
}

/// Clears ASan's poison on `addr..addr + len` (`ASAN_UNPOISON_MEMORY_REGION`).
/// The copy-stack coroutines copy live stack bytes, redzones included, out
/// of and back into the shared stack; the redzones' poison belongs to
/// frames ASan no longer tracks there, so both copies unpoison first. A
/// no-op without the `sanitize-address` feature.
#[inline(always)]
pub fn asan_unpoison(addr: *const u8, len: usize) {
    #[cfg(feature = "sanitize-address")]
    // SAFETY: only changes ASan's shadow for memory the caller owns.
    unsafe {
        __asan_unpoison_memory_region(addr.cast(), len)
    };
    #[cfg(not(feature = "sanitize-address"))]
    let _ = (addr, len);
}

/// The calling thread's own stack `(lowest address, size)`, cached per
/// thread.
#[cfg(feature = "sanitize-address")]
fn thread_stack_bounds() -> (usize, usize) {
    use core::cell::Cell;
    thread_local! {
        static BOUNDS: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
    }
    if let Some(b) = BOUNDS.with(Cell::get) {
        return b;
    }
    let mut attr = core::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut addr = core::ptr::null_mut();
    let mut size = 0;
    // SAFETY: pthread_getattr_np initialises `attr` on success; we read the
    // stack range and destroy it.
    let ok = unsafe {
        libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) == 0 && {
            let ok = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size) == 0;
            libc::pthread_attr_destroy(attr.as_mut_ptr());
            ok
        }
    };
    let bounds = if ok { (addr as usize, size) } else { (0, 0) };
    BOUNDS.with(|b| b.set(Some(bounds)));
    bounds
}

/// Call first thing on the target stack of a switch that does not return
/// there through `switch::jump`/`switch::ontop`: a fresh context's entry
/// function, and an `ontop_fcontext` function that may switch again. Ends the switch for ASan,
/// as [`AsanSwitch::finish`] does for a switch that returns. A no-op
/// without the `sanitize-address` feature.
#[inline(always)]
pub fn asan_enter_context() {
    AsanSwitch::new().finish();
}

/// Call right before the last switch out of a context that will never run
/// again (a finished coroutine or fiber), so ASan frees that context's fake
/// stack. A no-op without the `sanitize-address` feature.
#[inline(always)]
pub fn asan_leave_context_for_good() {
    #[cfg(feature = "sanitize-address")]
    LEAVING.with(|l| l.set(true));
}

/// Whether the crate was built with the ASan switch annotations.
pub const ASAN_ANNOTATIONS: bool = cfg!(feature = "sanitize-address");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_records_guard_and_bounds() {
        use crate::overflow::{lookup, stack_containing};
        let stack = 0x5000_1000..0x5002_0000;
        let reg = StackRegistration::new(stack.clone(), Some(0x5000_0000..0x5000_1000));
        // The guard is what the overflow handler looks up ...
        assert_eq!(lookup(0x5000_0800), Some((stack.start, stack.end)));
        // ... the usable range is what the ASan hooks look up.
        assert_eq!(
            stack_containing(0x5001_0000),
            Some((stack.start, stack.end))
        );
        drop(reg);
        assert_eq!(lookup(0x5000_0800), None);
        assert_eq!(stack_containing(0x5001_0000), None);
        // Without a guard: bounds known, nothing reported as an overflow.
        let reg = StackRegistration::new(stack.clone(), None);
        assert_eq!(
            stack_containing(0x5001_0000),
            Some((stack.start, stack.end))
        );
        assert_eq!(lookup(0), None);
        assert_eq!(lookup(stack.start - 1), None);
        drop(reg);
    }

    #[test]
    fn valgrind_requests_match_environment() {
        // Natively the request returns its default; under Valgrind (the
        // xtask pass sets FCONTEXT_UNDER_VALGRIND=1) it must answer, and a
        // registration must get a non-zero stack id.
        let expected = std::env::var_os("FCONTEXT_UNDER_VALGRIND").is_some();
        assert_eq!(running_on_valgrind(), expected);
        let reg = StackRegistration::new(0x6000_0000..0x6001_0000, None);
        assert_eq!(reg.valgrind_id() != 0, expected);
    }
}
