//! Stacks for coroutines and fibers: the [`Stack`] contract, the three
//! allocators ([`ProtectedStack`], [`FixedStack`], [`StackPool`]), the stack
//! registry every stack is recorded in (`registry`, read by the overflow
//! reporter and the ASan hooks) and the Valgrind stack registration
//! (`valgrind`).
//!
//! A context runs on memory that somebody else owns: [`Coroutine`] and
//! [`Fiber`] take a value implementing [`Stack`] and keep it alive for as long
//! as a context may run on it. Three implementations ship with the crate:
//!
//! | Type | Memory | Guard page | Use it when |
//! |---|---|---|---|
//! | [`ProtectedStack`] ([`DefaultStack`]) | `mmap`, committed lazily by the kernel | yes | the default: an overflow faults instead of corrupting memory |
//! | [`FixedStack`] | the global allocator, lowest page `mprotect`ed | yes | stack memory from (and counted by) the allocator |
//! | [`PooledStack`] from a [`StackPool`] | a cached [`ProtectedStack`] | yes | many short-lived coroutines: creation skips `mmap`/`munmap` |
//!
//! Sizes follow [`stack_traits`](crate::stack_traits): the default is
//! [`default_size`](crate::stack_traits::default_size) (128 KiB), the
//! smallest accepted is [`minimum_size`](crate::stack_traits::minimum_size)
//! and, when `RLIMIT_STACK` is bounded, the largest is
//! [`maximum_size`](crate::stack_traits::maximum_size). A size outside those
//! limits is a [`StackError`], never a panic.
//!
//! The minimum (`SIGSTKSZ`: 8-16 KiB on most machines, 47,808 bytes on a
//! CPU with AMX) holds the crate's own frames and a small body, but not,
//! for example, the default panic hook printing a backtrace; give any
//! coroutine that may panic or call into deep library code a stack of the
//! default size or more. On every stack type running out is a fault in the
//! guard page below the stack (reported readably once
//! [`install_overflow_handler`](crate::overflow::install_overflow_handler)
//! ran), never a write into other memory.
//!
//! [`Coroutine`]: crate::Coroutine
//! [`Fiber`]: crate::Fiber

use core::fmt;
use core::ptr::NonNull;
use std::io;

mod fixed;
mod pool;
mod protected;
pub(crate) mod registry;
pub(crate) mod valgrind;

pub use fixed::FixedStack;
pub use pool::{PooledStack, StackPool};
pub use protected::ProtectedStack;

/// Maps `bytes` (a multiple of the page size, at least two pages) of
/// read/write memory, committed lazily, whose lowest page is a `PROT_NONE`
/// guard. Returns the base (lowest address); free it with
/// [`sys::unmap`](crate::sys::unmap).
pub(crate) fn map_guarded(bytes: usize) -> io::Result<*mut u8> {
    crate::sys::map_guarded(bytes, crate::stack_traits::page_size())
}

/// True when a closure (or other start value) of type `F` may be moved
/// onto a stack of `size` bytes: it takes at most an eighth of it, so the
/// body keeps the rest. Bigger ones are boxed by the constructors of
/// [`Coroutine`](crate::Coroutine) and [`Fiber`](crate::Fiber).
pub(crate) const fn fits_on_stack<F>(size: usize) -> bool {
    core::mem::size_of::<F>() + core::mem::align_of::<F>() <= size / 8
}

/// The stack type used when none is named: a guarded, lazily committed
/// [`ProtectedStack`].
pub type DefaultStack = ProtectedStack;

/// Memory a context can run on.
///
/// # Safety
/// An implementation promises, for as long as the value is alive (including
/// after it has been moved — the memory must not live inside the value):
/// * `bottom() < top()`, `top()` is 16-byte aligned, and every byte of
///   `bottom()..top()` is readable and writable and is used by nothing but
///   the one context this stack is given to;
/// * `top()` and `bottom()` always return the same addresses;
/// * `top() - bottom()` is at least
///   [`stack_traits::minimum_size`](crate::stack_traits::minimum_size), so
///   the context frame and the crate's entry code fit (how much more the
///   code running on it needs is the user's business, as with threads);
/// * code that runs off the bottom cannot reach other memory: the
///   [`guard_size`](Stack::guard_size) bytes directly below `bottom()` (at
///   least one page) are inaccessible for as long as a context may run on
///   the stack, so the first access below `bottom()` faults. Safe Rust
///   touches every page of a large frame in order (stack probes), so one
///   guard page suffices for Rust code; foreign code compiled without stack
///   probes can jump over a guard, as on any thread stack;
/// * the hooks [`will_resume`](Stack::will_resume) and
///   [`did_suspend`](Stack::did_suspend), when overridden, leave the bytes a
///   suspended context relies on exactly as they were when it suspended, at
///   the same addresses, by the time the context is switched to.
///
/// A context is only ever switched to while its stack is alive; dropping the
/// stack value frees the memory.
pub unsafe trait Stack {
    /// One past the highest usable byte; 16-byte aligned. The context's frame
    /// is built just below it.
    fn top(&self) -> NonNull<u8>;

    /// The lowest usable byte (above any guard page).
    fn bottom(&self) -> NonNull<u8>;

    /// Size in bytes of the inaccessible guard region directly below
    /// [`bottom`](Stack::bottom) (at least one page, see the contract).
    fn guard_size(&self) -> usize;

    /// Usable bytes: `top() - bottom()`.
    fn size(&self) -> usize {
        self.top().as_ptr() as usize - self.bottom().as_ptr() as usize
    }

    /// True when this stack overrides [`will_resume`](Stack::will_resume) /
    /// [`did_suspend`](Stack::did_suspend). [`Coroutine`](crate::Coroutine)
    /// calls the hooks around every switch; [`Fiber`](crate::Fiber) cannot
    /// (a fiber is resumed by whoever holds its handle), so it rejects such a
    /// stack at compile time.
    const HAS_SWITCH_HOOKS: bool = false;

    /// False when a switch into the context cannot happen now (a copy
    /// stack whose shared memory another running coroutine occupies);
    /// [`Coroutine::resume`](crate::Coroutine::resume) then refuses with
    /// [`ResumeError::StackBusy`](crate::ResumeError::StackBusy). Only
    /// consulted when [`HAS_SWITCH_HOOKS`](Stack::HAS_SWITCH_HOOKS) is true.
    #[inline(always)]
    fn can_resume(&self) -> bool {
        true
    }

    /// Called right before a switch into the context that runs on this
    /// stack. A stack whose memory is shared between several contexts (a
    /// copy stack) restores this context's bytes here.
    ///
    /// # Safety
    /// Called only by the crate's switch code, with no context running on
    /// the stack.
    #[inline(always)]
    unsafe fn will_resume(&mut self) {}

    /// Called right after the context on this stack switched away. `sp` is
    /// its saved stack pointer (the lowest byte it still needs, up to
    /// [`top`](Stack::top)), or `None` when the context has finished and
    /// needs nothing any more.
    ///
    /// # Safety
    /// Called only by the crate's switch code, right after the switch, before
    /// anything else runs on the stack.
    #[inline(always)]
    unsafe fn did_suspend(&mut self, sp: Option<NonNull<u8>>) {
        let _ = sp;
    }

    /// Called instead of a switch when a suspended context is dropped while
    /// [`can_resume`](Stack::can_resume) is false: its frames are given up
    /// without being unwound and it never runs again. The stack releases
    /// what it holds for that context (a copy stack: its saved bytes),
    /// leaving everything the running context uses as it is. Only called
    /// when [`HAS_SWITCH_HOOKS`](Stack::HAS_SWITCH_HOOKS) is true.
    ///
    /// # Safety
    /// Called only by the crate's switch code, with the context suspended
    /// and no switch into it prepared.
    #[inline(always)]
    unsafe fn abandon(&mut self) {}
}

/// Why a stack could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum StackError {
    /// A size of zero was requested.
    ZeroSize,
    /// The requested size is below
    /// [`stack_traits::minimum_size`](crate::stack_traits::minimum_size).
    TooSmall {
        /// Bytes requested.
        requested: usize,
        /// The smallest size accepted.
        minimum: usize,
    },
    /// The requested size exceeds the hard `RLIMIT_STACK`
    /// ([`stack_traits::maximum_size`](crate::stack_traits::maximum_size)).
    TooLarge {
        /// Bytes requested.
        requested: usize,
        /// The largest size accepted.
        maximum: usize,
    },
    /// Rounding the size up to whole pages (plus the guard page) does not fit
    /// in `usize`.
    Overflow {
        /// Bytes requested.
        requested: usize,
    },
    /// The operating system or the allocator refused the memory.
    Os(io::Error),
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackError::ZeroSize => f.write_str("stack size must not be zero"),
            StackError::TooSmall { requested, minimum } => write!(
                f,
                "stack size {requested} bytes is below the minimum of {minimum} bytes"
            ),
            StackError::TooLarge { requested, maximum } => write!(
                f,
                "stack size {requested} bytes exceeds the maximum of {maximum} bytes (hard RLIMIT_STACK)"
            ),
            StackError::Overflow { requested } => write!(
                f,
                "stack size {requested} bytes overflows when rounded up to whole pages"
            ),
            StackError::Os(err) => write!(f, "cannot allocate stack memory: {err}"),
        }
    }
}

impl std::error::Error for StackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StackError::Os(err) => Some(err),
            _ => None,
        }
    }
}

/// Checks a requested usable size against the `stack_traits` limits; the
/// rules every stack type shares.
pub(crate) fn check_size(requested: usize) -> Result<(), StackError> {
    use crate::stack_traits;
    if requested == 0 {
        return Err(StackError::ZeroSize);
    }
    let minimum = stack_traits::minimum_size();
    if requested < minimum {
        return Err(StackError::TooSmall { requested, minimum });
    }
    if !stack_traits::is_unbounded() {
        let maximum = stack_traits::maximum_size();
        if requested > maximum {
            return Err(StackError::TooLarge { requested, maximum });
        }
    }
    Ok(())
}

// SAFETY: every method forwards to the boxed stack, which upholds the
// contract itself; its memory does not live inside the box either.
unsafe impl<S: Stack> Stack for Box<S> {
    #[inline(always)]
    fn top(&self) -> NonNull<u8> {
        (**self).top()
    }
    #[inline(always)]
    fn bottom(&self) -> NonNull<u8> {
        (**self).bottom()
    }
    fn guard_size(&self) -> usize {
        (**self).guard_size()
    }
    const HAS_SWITCH_HOOKS: bool = S::HAS_SWITCH_HOOKS;
    #[inline(always)]
    fn can_resume(&self) -> bool {
        (**self).can_resume()
    }
    #[inline(always)]
    unsafe fn will_resume(&mut self) {
        // SAFETY: forwarded under the same contract.
        unsafe { (**self).will_resume() }
    }
    #[inline(always)]
    unsafe fn did_suspend(&mut self, sp: Option<NonNull<u8>>) {
        // SAFETY: forwarded under the same contract.
        unsafe { (**self).did_suspend(sp) }
    }
    #[inline(always)]
    unsafe fn abandon(&mut self) {
        // SAFETY: forwarded under the same contract.
        unsafe { (**self).abandon() }
    }
}
