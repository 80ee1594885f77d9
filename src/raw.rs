//! The raw fcontext ABI: the three assembly functions and their types, exactly
//! as C declares them in `include/fcontext.h` (and Boost in
//! `boost/context/detail/fcontext.hpp`).
//!
//! Nothing here is safe to call casually: a context switch moves the stack
//! pointer to memory the compiler knows nothing about. The safe API of this
//! crate is built on these three functions and is what Rust code should use.
//!
//! # The contract (Boost's; the functions cannot report errors)
//! * `make_fcontext(sp, size, f)`: `sp` is the top of a writable stack (one
//!   past its highest byte) with room for at least the frame (64 bytes on
//!   x86_64) and everything `f` will use; `size` is only read on Windows.
//!   The result is a fresh context that starts `f` on the first jump to it.
//!   `f` must never return normally unless the process may end: the return
//!   path calls `_exit(0)`.
//! * `jump_fcontext(to, vp)`: `to` must be a fresh context or one suspended in
//!   `jump_fcontext`/`ontop_fcontext`, each used exactly once: after a switch
//!   the `fcontext_t` that was jumped to is consumed, and the only handle to the
//!   context we left is the `fctx` that the other side received.
//! * `ontop_fcontext(to, vp, f)`: `to` must be a suspended context (not a
//!   fresh one); `f` runs on `to`'s stack and its return value becomes the
//!   result of `to`'s pending switch.
//! * Unwinding (a Rust panic or a C++ exception) must never cross a switch or
//!   leave the entry function.

use core::ffi::c_void;

/// A context handle: the saved stack pointer of a suspended (or fresh)
/// context. C: `fcontext_t`.
pub type FcontextT = *mut c_void;

/// What a switch delivers to the context that resumes: the context it came
/// from (now suspended) and the pointer passed to the switch.
/// C: `fcontext_transfer_t` (Boost: `transfer_t`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    /// The context that switched to us; resume it to go back. C: `ctx`
    /// (Boost: `fctx`).
    pub fctx: FcontextT,
    /// The `vp` argument of that switch. C: `data`.
    pub data: *mut c_void,
}

/// Entry function of a fresh context. C: `pfn_fcontext`.
pub type EntryFn = unsafe extern "C" fn(Transfer);

/// A function run on top of a resumed context by [`ontop_fcontext`].
pub type OntopFn = unsafe extern "C" fn(Transfer) -> Transfer;

unsafe extern "C" {
    /// Prepares a fresh context on the stack whose top is `sp` that will call
    /// `f` the first time it is jumped to.
    ///
    /// # Safety
    /// See the module's contract: `sp` must be the top of a writable stack
    /// that outlives the context and is large enough for `f`.
    pub fn make_fcontext(sp: *mut c_void, size: usize, f: EntryFn) -> FcontextT;

    /// Suspends the current context and resumes `to`, whose pending switch
    /// returns `Transfer { fctx: <the current context>, data: vp }`.
    ///
    /// # Safety
    /// `to` must be a live, unconsumed context (see the module's contract).
    pub fn jump_fcontext(to: FcontextT, vp: *mut c_void) -> Transfer;

    /// Suspends the current context, switches to `to`'s stack and calls
    /// `f(Transfer { fctx: <the current context>, data: vp })` there; `f`'s
    /// result is what `to`'s pending switch returns.
    ///
    /// # Safety
    /// `to` must be a suspended (not fresh), unconsumed context; `f` must not
    /// unwind.
    pub fn ontop_fcontext(to: FcontextT, vp: *mut c_void, f: OntopFn) -> Transfer;
}
