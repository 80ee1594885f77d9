//! Symmetric fibers in the style of `boost::context::fiber`.
//!
//! A [`Fiber`] is a handle to a *suspended* context. Resuming it consumes the
//! handle (`resume(self)`), so a suspended context is resumed at most once;
//! whoever switches to it hands over a new handle for the context it left.
//! There is no parent: a fiber's entry closure receives the fiber it came
//! from and returns the fiber to continue with when it ends.
//!
//! # Protocol
//! A switch between fibers is a bare `jump_fcontext` with null data. Non-null
//! data marks the exceptional arrivals, all on cold paths:
//! * the address of a private marker: "unwind your stack", sent by dropping
//!   a `Fiber`, via `ontop_fcontext` so the request is raised on the target's
//!   stack;
//! * anything else: a boxed panic payload from a
//!   [`resume_with`](Fiber::resume_with) closure, re-raised on arrival.
//!
//! A fiber that ends continues with the fiber its closure returned, through
//! `ontop_fcontext(next, &stack, exit)`: `exit` runs on `next`'s stack, frees
//! the finished fiber's stack (its memory is no longer in use) and makes
//! `next`'s pending resume return `None`.

use crate::fatal::abort_with;
use crate::raw::{FcontextT, Transfer};
use crate::stack::{fits_on_stack, DefaultStack, Stack, StackError};
use crate::switch;
use core::any::Any;
use core::cell::Cell;
use core::ffi::c_void;
use core::fmt;
use core::mem::ManuallyDrop;
use core::ptr::{self, NonNull};
use std::panic::{self, AssertUnwindSafe};

/// Marker data: the arrival is a request to unwind.
static UNWIND_MARKER: u8 = 0;

fn unwind_marker() -> *mut c_void {
    ptr::addr_of!(UNWIND_MARKER).cast_mut().cast()
}

/// A suspended context: a fiber made by [`Fiber::new`] or the context that
/// switched to one (for example the thread's original stack).
///
/// ```
/// use fcontext::Fiber;
///
/// let mut log = Vec::new();
/// let fiber = Fiber::new(|main| {
///     // `main` is the context that resumed us; switch back to it.
///     let main = main.resume().unwrap();
///     // Ending continues with the returned fiber.
///     main
/// })
/// .unwrap();
/// log.push(1);
/// let fiber = fiber.resume().unwrap(); // runs up to the first `main.resume()`
/// log.push(2);
/// assert!(fiber.resume().is_none()); // the fiber ended: nothing to go back to
/// assert_eq!(log, [1, 2]);
/// ```
///
/// # Panics and drop
/// A fiber has no resumer to hand a panic to, so a panic that escapes a
/// fiber's entry closure aborts the process (after the panic message is
/// printed). Dropping a `Fiber` unwinds the stack of the context it stands
/// for, running every destructor there; for a fiber made by [`Fiber::new`]
/// the unwind ends at its entry, which then frees the stack and returns to
/// the dropper, whose `drop` returns only then. A fiber that catches that
/// unwind aborts the process when it ends (or when the payload reaches any
/// other fiber's entry); until then the dropper waits, as for any
/// destructor that has not finished. Dropping the handle of a thread's original stack (directly,
/// or because a panicking fiber held it) has nowhere to stop and aborts the
/// process with a message, as does catching the unwind.
///
/// # Threads
/// `Fiber` is not `Send`: the fiber an entry closure receives may be the
/// thread's original stack, which must never run on another thread, and the
/// handle's type does not say what a context holds.
///
/// ```compile_fail,E0277
/// let fiber = fcontext::Fiber::new(|main| main).unwrap();
/// std::thread::spawn(move || fiber.resume());
/// ```
pub struct Fiber {
    ctx: NonNull<c_void>,
}

impl Fiber {
    /// A fiber that runs `f` on a new [`DefaultStack`] of
    /// [`stack_traits::default_size`](crate::stack_traits::default_size).
    /// `f` receives the fiber that first resumed it and returns the fiber to
    /// continue with when it ends.
    ///
    /// # Errors
    /// When the stack cannot be mapped.
    pub fn new<F>(f: F) -> Result<Fiber, StackError>
    where
        F: FnOnce(Fiber) -> Fiber + 'static,
    {
        Ok(Fiber::with_stack(DefaultStack::with_default_size()?, f))
    }

    /// Like [`new`](Fiber::new), on `stack`. The stack moves onto itself (into
    /// the fiber's first frame) and is dropped when the fiber ends or is
    /// unwound.
    ///
    /// A closure (or stack value) too big to leave most of the stack to the
    /// fiber (more than an eighth of it) is boxed, so any capture size works
    /// on any stack.
    pub fn with_stack<S, F>(stack: S, f: F) -> Fiber
    where
        S: Stack + 'static,
        F: FnOnce(Fiber) -> Fiber + 'static,
    {
        const {
            assert!(
                !S::HAS_SWITCH_HOOKS,
                "Fiber cannot run on a stack with switch hooks (use Coroutine)"
            )
        };
        let size = stack.size();
        if fits_on_stack::<(S, F)>(size) {
            Fiber::start(stack, f)
        } else if fits_on_stack::<(S, Box<F>)>(size) {
            Fiber::start(stack, Box::new(f))
        } else {
            Fiber::start(Box::new(stack), Box::new(f))
        }
    }

    /// Makes and primes the context, for a `(stack, f)` that fits.
    fn start<S, F>(stack: S, f: F) -> Fiber
    where
        S: Stack + 'static,
        F: FnOnce(Fiber) -> Fiber + 'static,
    {
        let mut start = ManuallyDrop::new((stack, f));
        // SAFETY: the stack honours the `Stack` contract and will be owned by
        // the context itself. The priming jump runs `root` until it has taken
        // `start` (we forget our copy) and switched back, so the new context
        // is suspended, never fresh, and `ontop` may target it.
        unsafe {
            let ctx = switch::make(&start.0, root::<S, F>);
            let t = switch::jump(ctx, ptr::addr_of_mut!(start).cast());
            Fiber::from_raw(t.fctx)
        }
    }

    /// Switches to this fiber. Returns when some context switches back to
    /// the current one: `Some` of the fiber that did, or `None` if that fiber
    /// ended (its entry returned the handle of the current context).
    #[inline]
    pub fn resume(self) -> Option<Fiber> {
        let ctx = self.into_raw();
        // SAFETY: a Fiber is a suspended, unconsumed context; consuming
        // `self` makes this its only resume.
        unsafe { arrive(switch::jump(ctx, ptr::null_mut())) }
    }

    /// Switches to this fiber and, before it continues, runs `g` on its
    /// stack (through `ontop_fcontext`). `g` receives the fiber we left; its
    /// result is what the target's pending [`resume`](Fiber::resume) returns
    /// (or what its entry closure receives, if it had not started). A panic
    /// in `g` is raised in the target where its pending resume returns; the
    /// fiber `g` received is dropped by that panic, so it is unwound (which
    /// aborts if it stands for a thread's original stack).
    pub fn resume_with<G>(self, g: G) -> Option<Fiber>
    where
        G: FnOnce(Fiber) -> Fiber + 'static,
    {
        let ctx = self.into_raw();
        let mut g = ManuallyDrop::new(g);
        // SAFETY: as in `resume`; the target is suspended (fibers are primed
        // at creation), and `run_on_top` takes `g` before anything else.
        unsafe {
            arrive(switch::ontop(
                ctx,
                ptr::addr_of_mut!(g).cast(),
                run_on_top::<G>,
            ))
        }
    }

    /// Takes the context out of the handle without unwinding it.
    fn into_raw(self) -> FcontextT {
        ManuallyDrop::new(self).ctx.as_ptr()
    }

    /// # Safety
    /// `ctx` is a non-null, suspended, unconsumed context.
    unsafe fn from_raw(ctx: FcontextT) -> Fiber {
        Fiber {
            // SAFETY: per the caller.
            ctx: unsafe { NonNull::new_unchecked(ctx) },
        }
    }
}

impl Drop for Fiber {
    fn drop(&mut self) {
        use core::sync::atomic::{AtomicUsize, Ordering};
        static NEXT_TOKEN: AtomicUsize = AtomicUsize::new(1);
        let target = self.ctx.as_ptr();
        // The request lives in this frame, linked into the thread's list,
        // for as long as this drop waits for the unwind.
        let request = Pending {
            token: NEXT_TOKEN.fetch_add(1, Ordering::Relaxed),
            target: target as usize,
            back_to: Cell::new(ptr::null_mut()),
            taken: Cell::new(false),
            next: Cell::new(PENDING.get()),
        };
        PENDING.set(&request);
        // SAFETY: our context is suspended and unconsumed; `request_unwind`
        // completes the request and makes its pending switch raise the
        // private unwind payload, which the fiber's root catches before it
        // frees its stack and comes back here.
        unsafe {
            switch::ontop(
                target,
                ptr::from_ref(&request).cast_mut().cast(),
                request_unwind,
            )
        };
        // Drops need not finish in the order they started (a destructor on
        // the unwinding stack may switch to other fibers, whose own drops
        // are still waiting), so take our request out wherever it sits.
        unlink(&request);
    }
}

impl fmt::Debug for Fiber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Fiber").field(&self.ctx).finish()
    }
}

/// The payload that unwinds a dropped fiber's stack. It carries no context
/// (a panic payload must be `Send`, and one that carried the dropper's
/// context could take it to another thread), only the number of the request
/// in this thread's [`PENDING`] list, where the dropper's context waits.
/// Only the root of the fiber the request was made for may dispose of it:
/// dropped anywhere else, the dropper would be lost, so that aborts.
struct FiberUnwind {
    /// The request's token; `None` once a root has taken it.
    token: Option<usize>,
}

impl Drop for FiberUnwind {
    fn drop(&mut self) {
        if self.token.is_some() {
            abort_with(
                "fcontext: the forced unwind of a dropped Fiber did not reach a fiber's entry \
                 (it was caught, or the Fiber was a thread's original stack); aborting",
            );
        }
    }
}

/// One unwind request of a dropped [`Fiber`] handle. It lives in the
/// frame of the `Fiber::drop` that made it, which waits in its switch until
/// the fiber's root takes the request and switches back; meanwhile it is
/// linked into this thread's [`PENDING`] list.
struct Pending {
    /// Unique in the process, so a payload taken to another thread never
    /// matches a request there.
    token: usize,
    /// The dropped context (its saved stack pointer, inside its stack).
    target: usize,
    /// The dropper, suspended in `Fiber::drop`'s switch (set by
    /// `request_unwind`).
    back_to: Cell<FcontextT>,
    /// A root took the request (it is going back to the dropper).
    taken: Cell<bool>,
    /// The next older request on this thread (changes when a request
    /// after it is unlinked).
    next: Cell<*const Pending>,
}

std::thread_local! {
    /// The newest of this thread's unwind requests (more than one while a
    /// fiber being unwound drops other fibers). A plain pointer with no
    /// destructor, so drops during thread-local destruction still find it.
    static PENDING: Cell<*const Pending> = const { Cell::new(ptr::null()) };
}

/// The first `f(request)` that is `Some`, over this thread's requests not
/// yet taken, newest first.
fn find_request<T>(mut f: impl FnMut(&Pending) -> Option<T>) -> Option<T> {
    let mut at = PENDING.get();
    while !at.is_null() {
        // SAFETY: every request in the list lives in the frame of a drop
        // that is waiting in its switch and unlinks it before returning, so
        // it is alive while linked; it is only read through shared
        // references (its mutable parts are cells).
        let request = unsafe { &*at };
        if !request.taken.get() {
            if let Some(found) = f(request) {
                return Some(found);
            }
        }
        at = request.next.get();
    }
    None
}

/// Takes `request` out of this thread's list, wherever it is.
fn unlink(request: &Pending) {
    let me: *const Pending = request;
    let mut at = PENDING.get();
    if core::ptr::eq(at, me) {
        PENDING.set(request.next.get());
        return;
    }
    while !at.is_null() {
        // SAFETY: linked requests are alive (see `find_request`).
        let node = unsafe { &*at };
        if core::ptr::eq(node.next.get(), me) {
            node.next.set(request.next.get());
            return;
        }
        at = node.next.get();
    }
}

/// Takes the request `token` if it is this thread's and was made for a
/// context on `stack`: the dropper to go back to.
fn take_request(token: usize, stack: &core::ops::Range<usize>) -> Option<FcontextT> {
    find_request(|p| {
        (p.token == token && stack.contains(&p.target)).then(|| {
            p.taken.set(true);
            p.back_to.get()
        })
    })
}

/// True when a request made for a context on `stack` is still waiting.
fn request_pending_for(stack: &core::ops::Range<usize>) -> bool {
    find_request(|p| stack.contains(&p.target).then_some(())).is_some()
}

/// Handles what a switch delivered to a fiber-side pending switch.
///
/// # Safety
/// `t` comes from a switch made by this module.
#[inline(always)]
unsafe fn arrive(t: Transfer) -> Option<Fiber> {
    if !t.data.is_null() {
        // SAFETY: forwarded.
        unsafe { arrive_signal(t) }
    }
    // SAFETY: a non-null `fctx` is the suspended context that switched here.
    NonNull::new(t.fctx).map(|ctx| Fiber { ctx })
}

/// The cold half of [`arrive`]: raises the unwind request or the panic.
///
/// # Safety
/// As [`arrive`], with `t.data` not null.
#[cold]
unsafe fn arrive_signal(t: Transfer) -> ! {
    if t.data == unwind_marker() {
        if on_thread_stack() {
            // No fiber root below us: the unwind would run through the
            // thread's own frames and never get back to the dropper.
            abort_with(
                "fcontext: a Fiber standing for a thread's original stack was dropped (directly, \
                 or by a panic in the fiber that held it); that stack cannot be unwound; aborting",
            );
        }
        // `request_unwind` left the request's token in `fctx`.
        let token = t.fctx as usize;
        panic::resume_unwind(Box::new(FiberUnwind { token: Some(token) }));
    }
    // SAFETY: any other non-null data is a boxed payload from `run_on_top`.
    let payload = unsafe { Box::from_raw(t.data.cast::<Box<dyn Any + Send>>()) };
    panic::resume_unwind(*payload)
}

/// True when the caller runs on the calling thread's own stack (not on a
/// fiber or coroutine stack). Cold path only: it may read `/proc`.
fn on_thread_stack() -> bool {
    let here = 0u8;
    // Under ASan's use-after-return detection `here` may live in a fake
    // stack on the heap: ask for the frame it stands for.
    let sp = crate::sanitizer::real_stack_address(ptr::addr_of!(here) as usize);
    crate::sys::thread_stack_bounds()
        .is_some_and(|(lo, size)| lo <= sp && sp < lo.saturating_add(size))
}

/// `ontop` function of `Drop`: completes the request (`t.data`) with the
/// dropper's context (`t.fctx`) and turns the switch into an unwind request
/// carrying its token.
///
/// # Safety
/// Only for `ontop_fcontext` from `Fiber::drop`, whose `t.data` is its live
/// [`Pending`].
unsafe extern "C" fn request_unwind(t: Transfer) -> Transfer {
    // SAFETY: the dropper passed its request, alive while it waits.
    let request = unsafe { &*t.data.cast::<Pending>() };
    request.back_to.set(t.fctx);
    Transfer {
        fctx: request.token as FcontextT,
        data: unwind_marker(),
    }
}

/// `ontop` function of `resume_with`: runs the closure on the target's stack.
///
/// # Safety
/// Only for `ontop_fcontext` from `resume_with::<G>`: `t.data` points to a
/// `ManuallyDrop<G>` the resumer gave up, `t.fctx` is the resumer.
unsafe extern "C" fn run_on_top<G>(t: Transfer) -> Transfer
where
    G: FnOnce(Fiber) -> Fiber,
{
    // Ends the switch for ASan now: `g` may switch again before the
    // target's pending switch returns. (With ASan's fake stacks enabled the
    // target then gets a fresh fake stack; see `sanitizer::AsanSwitch`.)
    crate::sanitizer::asan_enter_context();
    // SAFETY: the resumer passed a `ManuallyDrop<G>` it will not touch again;
    // `t.fctx` is the resumer, suspended by this very switch.
    let (g, from) = unsafe { (ptr::read(t.data.cast::<G>()), Fiber::from_raw(t.fctx)) };
    match panic::catch_unwind(AssertUnwindSafe(move || g(from))) {
        Ok(next) => Transfer {
            fctx: next.into_raw(),
            data: ptr::null_mut(),
        },
        Err(payload) => Transfer {
            fctx: ptr::null_mut(),
            data: Box::into_raw(Box::new(payload)).cast(),
        },
    }
}

/// `ontop` function of a fiber's end: runs on the next fiber's stack, where
/// freeing the finished fiber's stack is safe.
///
/// # Safety
/// Only for `ontop_fcontext` from `root::<S, _>`: `t.data` points to the
/// finished fiber's `S`, which is never used again.
unsafe extern "C" fn exit<S: Stack>(t: Transfer) -> Transfer {
    // SAFETY: `t.data` is the finished fiber's stack value, which it will
    // never touch again (it never runs again).
    drop(unsafe { ptr::read(t.data.cast::<S>()) });
    Transfer {
        fctx: ptr::null_mut(),
        data: ptr::null_mut(),
    }
}

/// First code on a fiber's stack.
///
/// # Safety
/// Only as the entry of a context made by `Fiber::with_stack::<S, F>`,
/// whose priming jump passes a `ManuallyDrop<(S, F)>`.
unsafe extern "C" fn root<S, F>(t: Transfer)
where
    S: Stack,
    F: FnOnce(Fiber) -> Fiber,
{
    // Ends, for ASan, the switch that started this context (no-op
    // without the `sanitize-address` feature).
    crate::sanitizer::asan_enter_context();
    // SAFETY: the creator passed a `ManuallyDrop<(S, F)>` it forgets.
    let (stack, f) = unsafe { ptr::read(t.data.cast::<(S, F)>()) };
    // SAFETY: the creator is suspended in its priming jump.
    let t = unsafe { switch::jump(t.fctx, ptr::null_mut()) };
    let result = panic::catch_unwind(AssertUnwindSafe(move || {
        // SAFETY: the first arrival, from one of this module's switches.
        match unsafe { arrive(t) } {
            Some(from) => f(from),
            None => abort_with(
                "fcontext: a fiber was started by a fiber that ended, so it has no fiber to \
                 return to; aborting",
            ),
        }
    }));
    let own = stack.bottom().as_ptr() as usize..stack.top().as_ptr() as usize;
    let next = match result {
        Ok(next) if !request_pending_for(&own) => next.into_raw(),
        Ok(_) => abort_with(
            "fcontext: a fiber whose handle was dropped caught the forced unwind of its stack \
             and ended without letting it finish; aborting",
        ),
        Err(payload) => match payload.downcast::<FiberUnwind>() {
            Ok(mut unwind) => {
                let token = unwind.token.take();
                match token.and_then(|token| take_request(token, &own)) {
                    Some(back_to) => back_to,
                    None => abort_with(
                        "fcontext: the forced unwind of a dropped Fiber reached the entry of a \
                         fiber it was not made for (it was caught and raised again elsewhere); \
                         aborting",
                    ),
                }
            }
            Err(_) => abort_with(
                "fcontext: a fiber's entry panicked; a fiber has nowhere to propagate a panic to; \
                 aborting",
            ),
        },
    };
    let mut stack = ManuallyDrop::new(stack);
    crate::sanitizer::asan_leave_context_for_good();
    // SAFETY: `next` is suspended and unconsumed; `exit` takes the stack
    // value and frees the memory we stand on only after we have left it.
    unsafe { switch::ontop(next, ptr::addr_of_mut!(stack).cast(), exit::<S>) };
    abort_with("fcontext: a finished fiber was resumed")
}
