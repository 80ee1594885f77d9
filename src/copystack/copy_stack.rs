//! [`CopyStack`]: the Rust API's copy-stack coroutine is the ordinary
//! [`Coroutine`](crate::Coroutine) on this [`Stack`].

use super::shared::SharedStack;
use super::task::Claim;
use crate::fatal::abort_with;
use crate::stack::Stack;
use core::fmt;
use core::ptr::NonNull;

/// One coroutine's place on a [`SharedStack`]: give it to
/// [`Coroutine::with_stack`](crate::Coroutine::with_stack) to get a
/// copy-stack coroutine with the same API as any other:
///
/// ```
/// use fcontext::copystack::{CopyStack, SharedStack};
/// use fcontext::{Coroutine, CoroutineResult};
///
/// let shared = SharedStack::new(64 * 1024).unwrap();
/// let body = |y: &fcontext::Yielder<i32, i32>, x: i32| y.suspend(x + 1) * 2;
/// // SAFETY: the bodies lend no pointer into their frames to anyone.
/// let mut a = Coroutine::with_stack(unsafe { CopyStack::new(&shared) }, body);
/// let mut b = Coroutine::with_stack(unsafe { CopyStack::new(&shared) }, body);
/// assert_eq!(a.resume(1).unwrap(), CoroutineResult::Yield(2));
/// assert_eq!(b.resume(10).unwrap(), CoroutineResult::Yield(11)); // a is copied out
/// assert_eq!(a.resume(3).unwrap(), CoroutineResult::Complete(6)); // and back in
/// assert_eq!(b.resume(4).unwrap(), CoroutineResult::Complete(8));
/// assert!(shared.stats().copies_in >= 2);
/// ```
///
/// The switch hooks of [`Stack`] do the copying: before a switch into the
/// coroutine it becomes the owner of the shared stack (the previous owner's
/// live bytes go to that owner's buffer, this one's come back), after the
/// switch only its stack pointer is recorded. A copy-stack coroutine is
/// never [`Send`] (the shared stack belongs to one thread):
///
/// ```compile_fail
/// use fcontext::copystack::{CopyStack, SharedStack};
/// use fcontext::{Coroutine, Yielder};
///
/// let shared = SharedStack::new(64 * 1024).unwrap();
/// let place = unsafe { CopyStack::new(&shared) };
/// let mut co = Coroutine::with_stack(place, |_: &Yielder<(), ()>, ()| {});
/// std::thread::spawn(move || co.resume(()));
/// ```
///
/// Making one is `unsafe` (see [`CopyStack::new`]): the compiler cannot see
/// borrows of a coroutine's frames that outlive a suspend.
///
/// ```compile_fail,E0133
/// use fcontext::copystack::{CopyStack, SharedStack};
///
/// let shared = SharedStack::new(64 * 1024).unwrap();
/// let place = CopyStack::new(&shared); // error: call to unsafe function
/// ```
///
/// # Rules checked at run time
/// * While another coroutine of the same shared stack runs, this one can
///   be neither resumed (`Err(ResumeError::StackBusy)`) nor created (the
///   process aborts with a message); drop it then and its frames are
///   abandoned *without* running their destructors (a leak), while the
///   running coroutine keeps the stack. Use coroutines of another shared
///   stack for nesting.
pub struct CopyStack {
    /// Boxed so its address is stable: the shared stack's owner field
    /// points to it while the coroutine value moves around.
    /// The only field, so a copy-stack coroutine value stays small (24
    /// bytes): the stack bounds are read through it.
    claim: NonNull<Claim>,
}

impl CopyStack {
    /// A place on `shared` for one coroutine. Costs a 32-byte header; the
    /// private buffer is allocated at the first swap-out.
    ///
    /// # Safety
    /// While the coroutine given this place is suspended, its frames are
    /// not at their addresses: another coroutine of the shared stack may
    /// run there, and its bytes wait in a private buffer. So for the whole
    /// life of the coroutine, **nothing may access its stack while it is
    /// not running**, and nothing may rely on its frames staying in place
    /// until it is unwound:
    /// * no pointer or reference to a local of the body (or of anything it
    ///   calls) may be used by other code while the coroutine is suspended:
    ///   not by a thread (`std::thread::scope` spawned around a `suspend`),
    ///   not by another coroutine, not through a global or thread-local;
    /// * no pinned value on the coroutine's stack may be registered
    ///   anywhere that touches it while the coroutine is suspended (an
    ///   intrusive wait list, a future's waker node, a timer wheel entry);
    /// * nothing may depend on destructors of its frames running if the
    ///   coroutine is dropped while another coroutine of its stack runs
    ///   (they are then abandoned, see the type's rules).
    ///
    /// Everything else the crate checks at run time.
    pub unsafe fn new(shared: &SharedStack) -> Self {
        let claim = Box::new(Claim::new(shared.inner.clone(), 0));
        CopyStack {
            claim: NonNull::from(Box::leak(claim)),
        }
    }

    fn claim(&self) -> &Claim {
        // SAFETY: the claim lives until we drop it; only shared reads here.
        unsafe { self.claim.as_ref() }
    }

    /// Bytes of stack this coroutine keeps in its private buffer now (0
    /// while its bytes are on the shared stack).
    pub fn saved_bytes(&self) -> usize {
        self.claim().saved_bytes()
    }

    /// Capacity of the private buffer.
    pub fn buffer_capacity(&self) -> usize {
        self.claim().cap as usize
    }

    /// The shared stack this coroutine runs on.
    pub fn shared_stack(&self) -> SharedStack {
        SharedStack {
            inner: self.claim().stack.clone(),
        }
    }
}

impl Drop for CopyStack {
    fn drop(&mut self) {
        // SAFETY: made by Box::leak in `new`; nothing runs on it any more
        // (the coroutine finished, or was unwound or discarded).
        drop(unsafe { Box::from_raw(self.claim.as_ptr()) });
    }
}

impl fmt::Debug for CopyStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyStack")
            .field("saved_bytes", &self.saved_bytes())
            .field("buffer_capacity", &self.buffer_capacity())
            .finish()
    }
}

// SAFETY: `top`/`bottom` are the shared stack's fixed bounds (16-aligned
// top, at least stack_traits::minimum_size apart, checked by SharedStack).
// The memory is shared with the other coroutines of the stack, which the
// contract allows through the hooks: `will_resume` puts back exactly the
// bytes this context had at `did_suspend` (`sp..top`), at the same
// addresses, before every switch into it.
unsafe impl Stack for CopyStack {
    #[inline(always)]
    fn top(&self) -> NonNull<u8> {
        // SAFETY: a mapping's addresses are never null.
        unsafe { NonNull::new_unchecked(self.claim().stack.top) }
    }

    #[inline(always)]
    fn bottom(&self) -> NonNull<u8> {
        // SAFETY: as for top.
        unsafe { NonNull::new_unchecked(self.claim().stack.bottom) }
    }

    fn guard_size(&self) -> usize {
        crate::stack_traits::page_size()
    }

    const HAS_SWITCH_HOOKS: bool = true;

    #[inline(always)]
    fn can_resume(&self) -> bool {
        self.claim().can_acquire()
    }

    #[inline(always)]
    unsafe fn will_resume(&mut self) {
        // SAFETY: no context runs on this claim (the hook's contract).
        if unsafe { Claim::acquire(self.claim.as_ptr()) }.is_err() {
            abort_with(
                "fcontext copystack: cannot switch into a copy-stack coroutine while another \
                 coroutine of the same shared stack runs (create it from outside that coroutine, \
                 or use another shared stack); aborting",
            );
        }
    }

    #[inline(always)]
    unsafe fn did_suspend(&mut self, sp: Option<NonNull<u8>>) {
        // SAFETY: right after the switch that will_resume prepared.
        unsafe { Claim::release(self.claim.as_ptr(), sp.map(NonNull::as_ptr)) }
    }

    unsafe fn abandon(&mut self) {
        // SAFETY: the context is suspended and no switch is prepared.
        unsafe { Claim::abandon(self.claim.as_ptr()) }
    }
}
