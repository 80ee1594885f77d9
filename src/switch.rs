//! The one place where the safe API switches contexts.
//!
//! Every switch made by [`Coroutine`](crate::Coroutine),
//! [`Yielder`](crate::Yielder) and [`Fiber`](crate::Fiber) goes through these
//! two wrappers around [`raw`](crate::raw), so tools that must observe every
//! switch (sanitizer fiber annotations) hook in here and nowhere else. In a
//! normal build they compile to the bare call.

use crate::raw::{self, FcontextT, OntopFn, Transfer};
use core::ffi::c_void;

/// Switches to `to`, passing `data`; returns when something switches back.
///
/// # Safety
/// As [`raw::jump_fcontext`]: `to` is a live, unconsumed context whose stack
/// is alive.
#[inline(always)]
pub(crate) unsafe fn jump(to: FcontextT, data: *mut c_void) -> Transfer {
    // ASan (feature `sanitize-address`) must hear of every change of stack;
    // without the feature these two calls are empty.
    let mut asan = crate::sanitizer::AsanSwitch::new();
    asan.start_to(to);
    // SAFETY: forwarded contract.
    let t = unsafe { raw::jump_fcontext(to, data) };
    asan.finish();
    t
}

/// Switches to the suspended context `to` and runs `f` on top of it.
///
/// # Safety
/// As [`raw::ontop_fcontext`]: `to` is suspended (not fresh) and unconsumed,
/// `f` does not unwind.
#[inline(always)]
pub(crate) unsafe fn ontop(to: FcontextT, data: *mut c_void, f: OntopFn) -> Transfer {
    // As in `jump`; `f` runs on the target's stack before ASan hears the
    // switch has finished, so ontop functions stay small.
    let mut asan = crate::sanitizer::AsanSwitch::new();
    asan.start_to(to);
    // SAFETY: forwarded contract.
    let t = unsafe { raw::ontop_fcontext(to, data, f) };
    asan.finish();
    t
}

/// Builds a fresh context whose frame ends at `sp` (the top of the usable
/// area, `size` bytes above its bottom) and that starts in `entry`.
///
/// # Safety
/// `sp - size .. sp` is writable stack memory that outlives the context.
#[inline]
pub(crate) unsafe fn make_at(sp: *mut c_void, size: usize, entry: raw::EntryFn) -> FcontextT {
    // SAFETY: forwarded contract.
    unsafe { raw::make_fcontext(sp, size, entry) }
}

/// Builds a fresh context at the top of `stack` that starts in `entry`.
///
/// # Safety
/// `stack` satisfies the [`Stack`](crate::stack::Stack) contract and outlives
/// the context.
#[inline]
pub(crate) unsafe fn make<S: crate::stack::Stack + ?Sized>(
    stack: &S,
    entry: raw::EntryFn,
) -> FcontextT {
    // SAFETY: a valid, exclusively owned stack per the caller.
    unsafe { raw::make_fcontext(stack.top().as_ptr().cast(), stack.size(), entry) }
}

/// [`ontop`] for a C API function that ends in the switch: `f` (run on the
/// target) does the arriving side's work and leaves the C result code in
/// the first return register, which becomes this call's value, so the
/// caller can tail-call here and `f` can return straight to the target's C
/// caller (the copy-stack C API in `copystack/capi.rs` explains why that
/// matters: a `ret` right after a switch mispredicts).
///
/// # Safety
/// As [`ontop`]; the pending call in `to` also expects this code.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[inline(always)]
pub(crate) unsafe fn ontop_code(to: FcontextT, data: *mut c_void, f: OntopFn) -> core::ffi::c_int {
    unsafe extern "C" {
        // The same symbol, declared with the first return register only
        // (SysV x86_64 returns a two-pointer struct in rax:rdx).
        #[allow(clashing_extern_declarations)] // deliberately, see above
        #[link_name = "ontop_fcontext"]
        fn ontop_code_raw(to: FcontextT, vp: *mut c_void, f: OntopFn) -> core::ffi::c_int;
    }
    let mut asan = crate::sanitizer::AsanSwitch::new();
    asan.start_to(to);
    // SAFETY: forwarded contract.
    let code = unsafe { ontop_code_raw(to, data, f) };
    asan.finish();
    code
}
