//! The C-ABI stack exports (everything C sees that is not assembly or the
//! copy-stack API): Boost's `stack_traits` functions, libfcontext's
//! `create_fcontext_stack` / `destroy_fcontext_stack` and the installer of
//! the overflow reporter. Hidden from the Rust docs: Rust code uses
//! [`stack`](crate::stack), [`stack_traits`](crate::stack_traits) and
//! [`overflow`](crate::overflow) instead.
//!
//! Symbol names are fixed by the programs we replace: the `stack_traits`
//! functions carry their Itanium-mangled Boost names, the stack helpers the
//! plain C names from deboost.context's `fcontext.h`. The overflow
//! installer is ours (`fcontext_install_overflow_handler`).

use crate::stack_traits;
use core::ffi::{c_int, c_void};
use core::ptr;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// `boost::context::stack_traits::is_unbounded()`.
#[doc(hidden)]
#[unsafe(export_name = "_ZN5boost7context12stack_traits12is_unboundedEv")]
pub extern "C" fn boost_stack_traits_is_unbounded() -> bool {
    stack_traits::is_unbounded()
}

/// `boost::context::stack_traits::page_size()`.
#[doc(hidden)]
#[unsafe(export_name = "_ZN5boost7context12stack_traits9page_sizeEv")]
pub extern "C" fn boost_stack_traits_page_size() -> usize {
    stack_traits::page_size()
}

/// `boost::context::stack_traits::default_size()`.
#[doc(hidden)]
#[unsafe(export_name = "_ZN5boost7context12stack_traits12default_sizeEv")]
pub extern "C" fn boost_stack_traits_default_size() -> usize {
    stack_traits::default_size()
}

/// `boost::context::stack_traits::minimum_size()`.
#[doc(hidden)]
#[unsafe(export_name = "_ZN5boost7context12stack_traits12minimum_sizeEv")]
pub extern "C" fn boost_stack_traits_minimum_size() -> usize {
    stack_traits::minimum_size()
}

/// `boost::context::stack_traits::maximum_size()`.
#[doc(hidden)]
#[unsafe(export_name = "_ZN5boost7context12stack_traits12maximum_sizeEv")]
pub extern "C" fn boost_stack_traits_maximum_size() -> usize {
    stack_traits::maximum_size()
}

/// libfcontext's `fcontext_stack_t`: `sptr` is the top (one past the highest
/// byte), `ssize` the whole mapping including the guard page.
#[doc(hidden)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FcontextStack {
    /// Top of the stack: the value to pass to `make_fcontext`.
    pub sptr: *mut c_void,
    /// Size of the mapping in bytes, guard page included.
    pub ssize: usize,
}

const FAILED: FcontextStack = FcontextStack {
    sptr: ptr::null_mut(),
    ssize: 0,
};

/// Mapping size `create_fcontext_stack` uses for `size`: 0 selects
/// [`stack_traits::default_size`]; the result is clamped to
/// [`stack_traits::minimum_size`] plus a guard page from below and to the hard
/// `RLIMIT_STACK` from above, then rounded down to whole pages.
pub(crate) fn helper_mapping_size(size: usize) -> usize {
    let page = stack_traits::page_size();
    let requested = if size == 0 {
        stack_traits::default_size()
    } else {
        size
    };
    // One usable region of at least minimum_size(), plus the guard page.
    let minimum = stack_traits::minimum_size()
        .div_ceil(page)
        .saturating_mul(page)
        .saturating_add(page);
    let mut bytes = requested.max(minimum);
    if !stack_traits::is_unbounded() {
        bytes = bytes.min(stack_traits::maximum_size().max(minimum));
    }
    bytes / page * page
}

/// The stacks [`create_fcontext_stack`] has made and
/// [`destroy_fcontext_stack`] has not yet freed: top address -> mapping
/// size. Destroy frees only an exact `{top, size}` pair found here, so a
/// struct no create returned (or one already destroyed) is refused instead
/// of unmapping memory that is not, or not all, a stack of ours.
static LIVE_STACKS: Mutex<BTreeMap<usize, LiveStack>> = Mutex::new(BTreeMap::new());

/// What the registry keeps about one live helper stack.
#[derive(Debug)]
struct LiveStack {
    /// Size of the whole mapping, guard page included.
    bytes: usize,
    /// Valgrind's stack id and the overflow reporter's entry for the guard
    /// page; dropped (unregistered) before the mapping goes away.
    _registration: crate::stack::registry::StackRegistration,
}

fn live_stacks() -> std::sync::MutexGuard<'static, BTreeMap<usize, LiveStack>> {
    // The map is consistent after every operation on it, so a panic
    // elsewhere while it was held leaves nothing to repair.
    LIVE_STACKS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// libfcontext's `create_fcontext_stack`: maps a stack with a `PROT_NONE`
/// guard page at its low end, registered with the overflow reporter (see
/// [`fcontext_install_overflow_handler`]) and with Valgrind. Returns `{NULL, 0}` with `errno` set when the
/// kernel refuses the mapping.
#[doc(hidden)]
#[unsafe(no_mangle)]
pub extern "C" fn create_fcontext_stack(size: usize) -> FcontextStack {
    let bytes = helper_mapping_size(size);
    match crate::stack::map_guarded(bytes) {
        Ok(base) => {
            let (lo, top) = (base as usize, base as usize + bytes);
            let page = stack_traits::page_size();
            // Tell Valgrind this is a stack and the overflow reporter where
            // its guard page is, as for every stack of the crate.
            let registration =
                crate::stack::registry::StackRegistration::new(lo + page..top, Some(lo..lo + page));
            live_stacks().insert(
                top,
                LiveStack {
                    bytes,
                    _registration: registration,
                },
            );
            FcontextStack {
                sptr: top as *mut c_void,
                ssize: bytes,
            }
        }
        Err(err) => {
            crate::sys::set_errno(err.raw_os_error().unwrap_or(libc::ENOMEM));
            FAILED
        }
    }
}

/// libfcontext's `destroy_fcontext_stack`: unmaps a stack made by
/// [`create_fcontext_stack`] and zeroes `*s`. A null `s`, or a `*s` that is
/// already `{NULL, 0}`, is a no-op. A `*s` that is not exactly a live stack
/// of [`create_fcontext_stack`] (never returned by it, already destroyed, or
/// with a changed top or size) is left untouched, its memory too, and
/// `errno` is set to `EINVAL`.
///
/// # Safety
/// `s` must be null or point to a readable and writable `fcontext_stack_t`
/// whose mapping, if any, is no longer used by a running context.
#[doc(hidden)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn destroy_fcontext_stack(s: *mut FcontextStack) {
    // SAFETY: the caller hands us a valid pointer or null.
    let Some(stack) = (unsafe { s.as_mut() }) else {
        return;
    };
    if stack.sptr.is_null() && stack.ssize == 0 {
        return;
    }
    let top = stack.sptr as usize;
    let mut live = live_stacks();
    if live
        .get(&top)
        .is_none_or(|entry| entry.bytes != stack.ssize)
    {
        crate::sys::set_errno(libc::EINVAL);
        return;
    }
    // Unregister first (dropping the entry), so no tool ever sees the freed
    // range as a stack of ours.
    drop(live.remove(&top));
    drop(live);
    let base = (top - stack.ssize) as *mut u8;
    // SAFETY: base..top is a mapping create_fcontext_stack made and nobody
    // has freed (it was in the registry, which we just took it out of), and
    // the caller promises no context runs on it. A failing munmap can only
    // mean the mapping is not ours, which cannot happen; leaking is the safe
    // reply.
    let _ = unsafe { crate::sys::unmap(base, stack.ssize) };
    *stack = FAILED;
}

/// `fcontext_install_overflow_handler`: the C entry to
/// [`install_overflow_handler`](crate::overflow::install_overflow_handler).
/// Returns 0 on success, or the `errno` value of the failing `sigaction`.
/// Every call also gives the calling thread an alternate signal stack if it
/// has none; only the first call installs the handler, later ones return its
/// result.
#[doc(hidden)]
#[unsafe(no_mangle)]
pub extern "C" fn fcontext_install_overflow_handler() -> c_int {
    match crate::overflow::install_overflow_handler() {
        Ok(()) => 0,
        Err(err) => err.raw_os_error().unwrap_or(libc::EINVAL),
    }
}
