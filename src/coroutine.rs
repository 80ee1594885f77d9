//! Asymmetric coroutines: [`Coroutine`], [`Yielder`], [`CoroutineResult`].
//!
//! # How a switch works
//! A resume and the matching suspend exchange values through one exchange
//! record (`Exchange`) that lives in the *resumer's* stack frame; the pointer
//! to it is the `data` of the jump. The resumer writes `Input(i)` and jumps; the
//! coroutine takes the input, and when it suspends it writes `Yield(y)` into
//! the same exchange and jumps back; the resumer reads `Yield(y)`. When the
//! body returns or panics, the coroutine's root writes the outcome into the
//! exchange and jumps back one last time. So a round trip is two
//! `jump_fcontext` calls plus a few moves: no allocation, no atomics, no
//! thread-local lookups.
//!
//! Creation makes no switch: the closure is written at the top of the stack
//! and `make_fcontext` builds the fresh frame below it; the first resume
//! enters the root with the closure's address (a `Start` record). Stacks
//! with switch hooks are the exception: their coroutines are entered once
//! at creation ("primed") and suspend before running the body.
//!
//! ```text
//!  resumer stack                          coroutine stack (S)
//!  ┌──────────────────────┐               ┌──────────────────────────────┐ top
//!  │ resume(): Exchange   │◄── data ptr ──│ root: Yielder { caller, msg }│
//!  │  msg: Input/Yield    │               │ body f(&yielder, input)      │
//!  │  outcome (at the end)│               │   ... suspend(y) ... ▼ sp    │
//!  └──────────────────────┘               └──────────────────────────────┘ bottom
//! ```
//!
//! The stack's [`will_resume`](Stack::will_resume) /
//! [`did_suspend`](Stack::did_suspend) hooks run around every switch into
//! the coroutine; for ordinary stacks they are empty and vanish after
//! inlining. A copy-stack backend implements them to save and restore the
//! coroutine's bytes, and reuses everything else here unchanged.

use crate::raw::{FcontextT, Transfer};
use crate::stack::{DefaultStack, Local, Stack, StackError};
use crate::switch;
use core::any::Any;
use core::cell::Cell;
use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of, ManuallyDrop, MaybeUninit};
use core::ptr::{self, NonNull};
use std::panic::{self, AssertUnwindSafe};

/// What a [`Coroutine::resume`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoroutineResult<Y, R> {
    /// The coroutine suspended itself with [`Yielder::suspend`] and this
    /// value; it can be resumed again.
    Yield(Y),
    /// The coroutine's body returned this value; it is finished.
    Complete(R),
}

impl<Y, R> CoroutineResult<Y, R> {
    /// The yielded value, if the coroutine suspended.
    pub fn into_yield(self) -> Option<Y> {
        match self {
            CoroutineResult::Yield(y) => Some(y),
            CoroutineResult::Complete(_) => None,
        }
    }

    /// The return value, if the coroutine finished.
    pub fn into_complete(self) -> Option<R> {
        match self {
            CoroutineResult::Yield(_) => None,
            CoroutineResult::Complete(r) => Some(r),
        }
    }
}

/// Why a coroutine cannot be resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResumeError {
    /// Its body has returned.
    Completed,
    /// Its body panicked (the panic was re-raised by the resume that saw it).
    Panicked,
    /// Its stack cannot be switched to now: it is a copy stack whose shared
    /// memory another running coroutine occupies (see
    /// [`CopyStack`](crate::copystack::CopyStack)). Resume it later, from
    /// outside that coroutine.
    StackBusy,
}

impl fmt::Display for ResumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResumeError::Completed => "cannot resume a coroutine that has completed",
            ResumeError::Panicked => "cannot resume a coroutine that has panicked",
            ResumeError::StackBusy => {
                "cannot resume a copy-stack coroutine while another coroutine of its shared \
                 stack is running"
            }
        })
    }
}

impl std::error::Error for ResumeError {}

/// The panic payload that unwinds a suspended coroutine's stack when the
/// coroutine is dropped. Private, so user code cannot fake it; a body that
/// catches it must let it go on (see [`Coroutine`]'s drop rules).
pub(crate) struct ForcedUnwind;

/// The switch-by-switch message, at the start of an [`Exchange`]; this is
/// the part a [`Yielder`] (which does not know `R`) reads and writes.
///
/// Ownership moves with plain reads and writes: the receiver of a message
/// `ptr::read`s it and leaves the stale bits behind, the next sender
/// `ptr::write`s over them. The resumer keeps it in a `ManuallyDrop` and only
/// takes a `Yield` out, so no value is dropped twice and no switch pays for
/// clearing the slot.
pub(crate) enum Message<I, Y> {
    /// Resumer → coroutine: the next input.
    Input(I),
    /// Resumer → coroutine: unwind your stack and finish.
    Unwind,
    /// Coroutine → resumer: suspended with this value.
    Yield(Y),
}

/// How the body ended, written by the coroutine's root just before its last
/// switch.
pub(crate) enum Outcome<R> {
    /// The body returned.
    Returned(R),
    /// The body panicked, or was unwound by a [`ForcedUnwind`].
    Panicked(Box<dyn Any + Send>),
}

/// The resumer's half of a switch: lives in `resume`'s stack frame.
/// `repr(C)` so a pointer to it is also a pointer to its `msg`. `outcome` is
/// written only by the root's final switch, so it is initialised exactly
/// when `msg` does not hold `Yield` after the switch (the resume path then
/// neither initialises nor drops it).
#[repr(C)]
pub(crate) struct Exchange<I, Y, R> {
    pub(crate) msg: ManuallyDrop<Message<I, Y>>,
    pub(crate) outcome: MaybeUninit<Outcome<R>>,
}

impl<I, Y, R> Exchange<I, Y, R> {
    #[inline(always)]
    fn new(msg: Message<I, Y>) -> Self {
        Exchange {
            msg: ManuallyDrop::new(msg),
            outcome: MaybeUninit::uninit(),
        }
    }
}

/// The coroutine's handle for suspending itself, passed to its body.
///
/// [`suspend`](Yielder::suspend) stores the value, switches back to whoever
/// resumed the coroutine, and returns the input of the next resume.
///
/// A `Yielder` only exists on its coroutine's stack and is only lent to the
/// body, so it cannot be used from anywhere else.
pub struct Yielder<I, Y> {
    /// The context that last resumed us (where `suspend` goes back to).
    caller: Cell<FcontextT>,
    /// The resumer's `Exchange` of the resume in progress.
    msg: Cell<*mut Message<I, Y>>,
}

impl<I, Y> Yielder<I, Y> {
    /// Suspends the coroutine, making the pending
    /// [`resume`](Coroutine::resume) return `Yield(value)`, and returns the
    /// input of the next resume.
    ///
    /// If the coroutine is dropped instead of resumed, this call does not
    /// return: it unwinds the coroutine's stack (running every destructor)
    /// with a private panic payload. Let that unwind pass — a body that
    /// catches it and suspends again aborts the process.
    #[inline]
    pub fn suspend(&self, value: Y) -> I {
        let msg = self.msg.get();
        // SAFETY: `msg` points into the frame of the resume in progress,
        // whose `Message` we took (its bits are stale, nobody drops them);
        // the resumer reads it only after we jump back. `caller` is that resumer's
        // context, suspended in its jump to us.
        unsafe {
            ptr::write(msg, Message::Yield(value));
            let t = switch::jump(self.caller.get(), ptr::null_mut());
            self.arrive(t)
        }
    }

    /// Records who resumed us and with which exchange, and takes the input.
    ///
    /// # Safety
    /// `t` is the transfer of a switch made by [`Coroutine`]: `t.data` points
    /// to a live `Exchange` holding `Input` or `Unwind`.
    #[inline(always)]
    unsafe fn arrive(&self, t: Transfer) -> I {
        self.caller.set(t.fctx);
        let msg = t.data.cast::<Message<I, Y>>();
        self.msg.set(msg);
        // SAFETY: per the function's contract.
        match unsafe { ptr::read(msg) } {
            Message::Input(input) => input,
            other => Self::arrive_cold(other),
        }
    }

    /// Anything but an input: the drop's unwind request.
    #[cold]
    #[inline(never)]
    fn arrive_cold(msg: Message<I, Y>) -> ! {
        match msg {
            Message::Unwind => panic::resume_unwind(Box::new(ForcedUnwind)),
            _ => unreachable_message(),
        }
    }
}

impl<I, Y> fmt::Debug for Yielder<I, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yielder").finish_non_exhaustive()
    }
}

#[cold]
fn unreachable_message() -> ! {
    // A switch arrived that the protocol cannot produce; continuing would
    // read a value that is not there.
    abort_with("fcontext: coroutine switch protocol violated")
}

#[cold]
pub(crate) fn abort_with(message: &str) -> ! {
    eprintln!("{message}");
    std::process::abort()
}

/// What the first resume passes to [`root`]: the exchange as usual, plus
/// where the creator left the closure.
#[repr(C)]
struct Start {
    exchange: *mut c_void,
    closure: *mut c_void,
}

/// The closure of a coroutine that has not started yet: it sits at the top
/// of the coroutine's stack, above the fresh context frame.
struct Fresh {
    closure: *mut c_void,
    /// `drop_in_place::<F>`, for a coroutine dropped before it started.
    drop: unsafe fn(*mut c_void),
}

/// Drops the closure of a coroutine that never ran.
///
/// # Safety
/// `closure` points to a live `F` that is not used again.
unsafe fn drop_closure<F>(closure: *mut c_void) {
    // SAFETY: per the caller.
    unsafe { ptr::drop_in_place(closure.cast::<F>()) }
}

/// Low bit of `Coroutine::ctx` while the context is fresh (never switched
/// to); real contexts are stack addresses, at least 4-aligned.
const FRESH_TAG: usize = 1;

/// The first code that runs on a coroutine's stack, entered by the first
/// resume. Creation made only the fresh frame (no switch), with the closure
/// stored just above it.
///
/// # Safety
/// Only as the entry of a context made by `Coroutine::spawn::<F>`, entered
/// with a pointer to a [`Start`] whose closure is an `F` nobody else uses.
unsafe extern "C" fn root<I, Y, R, F>(t: Transfer)
where
    F: FnOnce(&Yielder<I, Y>, I) -> R,
{
    // Ends, for ASan, the switch that started this context (no-op
    // without the `sanitize-address` feature).
    crate::tools::asan_enter_context();
    // SAFETY: the first resume passes a live `Start`; the closure moves from
    // the stack top into this frame and is never touched there again.
    let (f, t) = unsafe {
        let start = &*t.data.cast::<Start>();
        let f = ptr::read(start.closure.cast::<F>());
        (
            f,
            Transfer {
                fctx: t.fctx,
                data: start.exchange,
            },
        )
    };
    // SAFETY: `t` carries the first resume's exchange.
    unsafe { run(f, t) }
}

/// The entry of a coroutine on a stack with switch hooks (a copy stack):
/// creation jumps here once with the closure, which moves into this frame,
/// and the root switches straight back, so the context is suspended in
/// ordinary code before its first resume (the copy-stack accounting counts
/// on that). The first resume then arrives like every later one.
///
/// # Safety
/// Only as the entry of a context made by `Coroutine::spawn_primed::<F>`,
/// whose priming jump passes a `ManuallyDrop<F>` it forgets.
unsafe extern "C" fn root_primed<I, Y, R, F>(t: Transfer)
where
    F: FnOnce(&Yielder<I, Y>, I) -> R,
{
    // Ends, for ASan, the switch that started this context (no-op
    // without the `sanitize-address` feature).
    crate::tools::asan_enter_context();
    // SAFETY: the creator passed a `ManuallyDrop<F>` it will not touch again
    // and is suspended in its jump to us.
    unsafe {
        let f = ptr::read(t.data.cast::<F>());
        let t = switch::jump(t.fctx, ptr::null_mut());
        run(f, t)
    }
}

/// Runs the body to its end on the coroutine's stack and makes the final
/// switch.
///
/// # Safety
/// Called by a root on its coroutine's stack; `t` is the first resume's
/// transfer (exchange as data), or the drop of a primed coroutine that never
/// started (which unwinds here and drops `f`).
unsafe fn run<I, Y, R, F>(f: F, t: Transfer) -> !
where
    F: FnOnce(&Yielder<I, Y>, I) -> R,
{
    let yielder = Yielder {
        caller: Cell::new(ptr::null_mut()),
        msg: Cell::new(ptr::null_mut()),
    };
    // Every value with a destructor lives inside the closure, so by the time
    // catch_unwind returns they have all been dropped (or unwound); nothing
    // on this stack needs cleanup after the final switch.
    let outcome = match panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the function's contract.
        let input = unsafe { yielder.arrive(t) };
        f(&yielder, input)
    })) {
        Ok(value) => Outcome::Returned(value),
        Err(payload) => Outcome::Panicked(payload),
    };
    let exchange = yielder.msg.get().cast::<Exchange<I, Y, R>>();
    // SAFETY: the last resumer's exchange is live and its outcome
    // uninitialised. After the jump the resumer owns the outcome (it sees no
    // `Yield` in `msg`) and never switches to this context again.
    unsafe {
        (*exchange).outcome.write(outcome);
        crate::tools::asan_leave_context_for_good();
        switch::jump(yielder.caller.get(), ptr::null_mut());
    }
    abort_with("fcontext: a finished coroutine was resumed")
}

/// A stackful, asymmetric coroutine: [`resume`](Coroutine::resume) runs its
/// body until it calls [`Yielder::suspend`] or returns.
///
/// * `I`: the type passed in by each `resume` (the first one becomes the
///   body's second argument, later ones are what `suspend` returns);
/// * `Y`: the type passed out by `suspend`;
/// * `R`: the body's return value;
/// * `S`: the [`Stack`] the body runs on.
///
/// ```
/// use fcontext::{Coroutine, CoroutineResult};
///
/// let mut co = Coroutine::new(|yielder, first: i32| {
///     let second = yielder.suspend(first * 10);
///     first + second
/// })
/// .unwrap();
/// assert_eq!(co.resume(1).unwrap(), CoroutineResult::Yield(10));
/// assert_eq!(co.resume(2).unwrap(), CoroutineResult::Complete(3));
/// assert!(co.is_done());
/// assert!(co.resume(3).is_err());
/// ```
///
/// # Finishing, panics and drop
/// * A body that returns completes the coroutine; a later `resume` is
///   `Err(ResumeError::Completed)`.
/// * A body that panics is finished too: the panic is caught on the
///   coroutine's stack and re-raised by the `resume` that was running it;
///   a later `resume` is `Err(ResumeError::Panicked)`.
/// * Dropping a coroutine that has started but not finished unwinds its
///   stack: the pending `suspend` panics with a private payload, every
///   destructor on the coroutine's stack runs, and the stack is freed. (A
///   coroutine that never started only holds its closure, which is simply
///   dropped.) If one of those destructors panics, the drop re-raises that
///   panic (or discards it when the thread is already panicking). A body
///   that catches the forced unwind and suspends again cannot be finished
///   and its stack cannot be freed safely, so the process **aborts** with a
///   message saying so.
///
/// # Threads
/// A coroutine is [`Send`] when its stack and `I`, `Y`, `R` are, and it was
/// made with [`new`](Coroutine::new) or [`with_stack`](Coroutine::with_stack),
/// which require a `Send` body. A body that captures something that is not
/// `Send` is accepted by [`new_local`](Coroutine::new_local) /
/// [`with_stack_local`](Coroutine::with_stack_local), whose coroutine runs on
/// a [`Local`] stack and therefore stays on its thread. See the crate docs
/// ("Threads") for why this is the rule and what it cannot check.
///
/// ```compile_fail,E0277
/// use fcontext::Coroutine;
/// use std::rc::Rc;
///
/// let shared = Rc::new(5);
/// // Rc is not Send: `new` refuses the closure.
/// let co = Coroutine::<(), (), i32>::new(move |_, ()| *shared).unwrap();
/// ```
///
/// ```compile_fail,E0277
/// use fcontext::Coroutine;
/// use std::rc::Rc;
///
/// let shared = Rc::new(5);
/// let mut co = Coroutine::<(), (), i32, _>::new_local(move |_, ()| *shared).unwrap();
/// // A local coroutine cannot move to another thread.
/// std::thread::spawn(move || co.resume(()));
/// ```
///
/// ```compile_fail,E0277
/// use fcontext::Coroutine;
/// use std::rc::Rc;
///
/// // The closure captures nothing, but the coroutine receives `Rc`s from its
/// // resumer, so it is tied to the resumer's thread.
/// let mut co = Coroutine::<Rc<i32>, (), i32>::new(|_, rc| *rc).unwrap();
/// std::thread::spawn(move || co.resume(Rc::new(1)));
/// ```
pub struct Coroutine<I, Y, R, S: Stack = DefaultStack> {
    /// The suspended coroutine, tagged with [`FRESH_TAG`] before its first
    /// switch; null once it has finished.
    ctx: FcontextT,
    /// The closure, until the first resume takes it.
    fresh: Option<Fresh>,
    /// Why it finished (meaningful when `ctx` is null).
    finished: ResumeError,
    stack: S,
    /// Invariant in all three: values of exactly these types cross the
    /// switch in both directions.
    _types: PhantomData<*mut (I, Y, R)>,
}

// SAFETY: everything the coroutine owns is its stack and what runs on it. The
// body closure was required to be `Send` at construction (or the stack is
// `Local`, which is not `Send`), `I`/`Y`/`R` cross between the resumer and the
// coroutine, and the raw context pointer is just an address inside the stack.
// Values the body creates on its stack are covered by the argument in the
// crate docs ("Threads").
unsafe impl<I: Send, Y: Send, R: Send, S: Stack + Send> Send for Coroutine<I, Y, R, S> {}

impl<I, Y, R> Coroutine<I, Y, R, DefaultStack> {
    /// A coroutine running `f` on a new [`DefaultStack`] of
    /// [`stack_traits::default_size`](crate::stack_traits::default_size).
    ///
    /// # Errors
    /// When the stack cannot be mapped.
    pub fn new<F>(f: F) -> Result<Self, StackError>
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + Send + 'static,
    {
        Ok(Self::with_stack(DefaultStack::with_default_size()?, f))
    }
}

impl<I, Y, R> Coroutine<I, Y, R, Local<DefaultStack>> {
    /// Like [`new`](Coroutine::new), for a body that is not `Send`; the
    /// coroutine stays on the thread that made it.
    ///
    /// # Errors
    /// When the stack cannot be mapped.
    pub fn new_local<F>(f: F) -> Result<Self, StackError>
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
    {
        Ok(Self::with_stack_local(
            DefaultStack::with_default_size()?,
            f,
        ))
    }
}

impl<I, Y, R, S: Stack> Coroutine<I, Y, R, Local<S>> {
    /// Like [`with_stack`](Coroutine::with_stack), for a body that is not
    /// `Send`; the coroutine stays on the thread that made it.
    pub fn with_stack_local<F>(stack: S, f: F) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
    {
        // SAFETY: a `Local` stack makes the coroutine `!Send`, so the
        // closure never leaves this thread.
        unsafe { Coroutine::spawn(Local::new(stack), f) }
    }
}

impl<I, Y, R, S: Stack> Coroutine<I, Y, R, S> {
    /// A coroutine running `f` on `stack`. Nothing runs until the first
    /// [`resume`](Coroutine::resume).
    pub fn with_stack<F>(stack: S, f: F) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + Send + 'static,
    {
        // SAFETY: the closure is `Send`.
        unsafe { Self::spawn(stack, f) }
    }

    /// The common constructor.
    ///
    /// # Safety
    /// If `S`, `I`, `Y` and `R` are `Send` (so the coroutine is), `f` must
    /// be `Send` too.
    pub(crate) unsafe fn spawn<F>(stack: S, f: F) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
    {
        // The closure is stored at the top of the stack, so it must leave
        // most of the stack to the body; a big one is boxed instead (the box
        // is itself a closure).
        let room = size_of::<F>() + align_of::<F>();
        // SAFETY: forwarded.
        unsafe {
            if S::HAS_SWITCH_HOOKS {
                Self::spawn_primed(stack, f)
            } else if room <= stack.size() / 8 {
                Self::spawn_in_place(stack, f)
            } else {
                Self::spawn_in_place(stack, Box::new(f))
            }
        }
    }

    /// Makes the context and switches into it once, so that [`root_primed`]
    /// moves `f` onto the coroutine's stack and suspends: creation costs a
    /// switch pair, but the context is never fresh after it.
    ///
    /// # Safety
    /// As [`spawn`](Coroutine::spawn).
    unsafe fn spawn_primed<F>(mut stack: S, f: F) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
    {
        let mut f = ManuallyDrop::new(f);
        // SAFETY: the stack honours the `Stack` contract and moves into the
        // coroutine, which keeps it alive while the context exists. The hook
        // runs before make_fcontext writes the frame (a copy stack must have
        // its region ready); the jump runs `root_primed` up to its jump back.
        unsafe {
            stack.will_resume();
            let ctx = switch::make(&stack, root_primed::<I, Y, R, F>);
            let t = switch::jump(ctx, ptr::addr_of_mut!(f).cast());
            stack.did_suspend(NonNull::new(t.fctx.cast()));
            Coroutine {
                ctx: t.fctx,
                fresh: None,
                finished: ResumeError::Completed,
                stack,
                _types: PhantomData,
            }
        }
    }

    /// Writes `f` at the top of the stack and a fresh context frame below
    /// it. No switch happens: the first resume enters [`root`], which takes
    /// the closure from there.
    ///
    /// # Safety
    /// As [`spawn`](Coroutine::spawn); `f` fits in an eighth of the stack.
    unsafe fn spawn_in_place<F>(mut stack: S, f: F) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
    {
        let top = stack.top().as_ptr() as usize;
        let bottom = stack.bottom().as_ptr() as usize;
        let closure = (top - size_of::<F>()) & !(align_of::<F>() - 1);
        let sp = closure & !15;
        // SAFETY: the stack honours the `Stack` contract (its bytes are ours)
        // and moves into the coroutine, which keeps it alive while the
        // context exists; `closure..top` and the frame below `sp` lie inside
        // it (the caller checked the size). The hooks run first so a copy
        // stack has its region ready for the bytes we write.
        unsafe {
            stack.will_resume();
            ptr::write(closure as *mut F, f);
            let ctx = switch::make_at(sp as *mut c_void, sp - bottom, root::<I, Y, R, F>);
            stack.did_suspend(NonNull::new(ctx.cast()));
            Coroutine {
                ctx: (ctx as usize | FRESH_TAG) as FcontextT,
                fresh: Some(Fresh {
                    closure: closure as *mut c_void,
                    drop: drop_closure::<F>,
                }),
                finished: ResumeError::Completed,
                stack,
                _types: PhantomData,
            }
        }
    }

    /// Runs the coroutine until it suspends or finishes. The first resume
    /// passes `input` as the body's argument; later ones make the pending
    /// [`suspend`](Yielder::suspend) return it.
    ///
    /// # Errors
    /// [`ResumeError`] when the coroutine has already completed or panicked
    /// (`input` is dropped).
    ///
    /// # Panics
    /// Re-raises a panic of the body; the coroutine is then finished.
    #[inline]
    pub fn resume(&mut self, input: I) -> Result<CoroutineResult<Y, R>, ResumeError> {
        if self.ctx.is_null() {
            return Err(self.finished);
        }
        if S::HAS_SWITCH_HOOKS && !self.stack.can_resume() {
            return Err(ResumeError::StackBusy);
        }
        let mut exchange = Exchange::new(Message::Input(input));
        let t = if self.ctx as usize & FRESH_TAG != 0 {
            self.start(&mut exchange)
        } else {
            // SAFETY: `ctx` is our suspended coroutine (not null: checked),
            // its stack is `self.stack`.
            unsafe { self.switch_in(ptr::from_mut(&mut exchange).cast()) }
        };
        self.after_switch(t, exchange)
    }

    /// The first switch: enters `root` with the closure's address.
    #[cold]
    #[inline(never)]
    fn start(&mut self, exchange: &mut Exchange<I, Y, R>) -> Transfer {
        let fresh = self.fresh.take();
        let closure = fresh.map_or(ptr::null_mut(), |fresh| fresh.closure);
        self.ctx = (self.ctx as usize & !FRESH_TAG) as FcontextT;
        let mut start = Start {
            exchange: ptr::from_mut(exchange).cast(),
            closure,
        };
        // SAFETY: a fresh context of ours whose entry expects this `Start`.
        unsafe { self.switch_in(ptr::addr_of_mut!(start).cast()) }
    }

    /// Reads what the coroutine left in `exchange` after a switch into it.
    #[inline(always)]
    fn after_switch(
        &mut self,
        t: Transfer,
        exchange: Exchange<I, Y, R>,
    ) -> Result<CoroutineResult<Y, R>, ResumeError> {
        match &*exchange.msg {
            Message::Yield(value) => {
                // SAFETY: the coroutine wrote this value for us; `msg` is
                // never dropped, so reading it out moves it.
                let value = unsafe { ptr::read(value) };
                self.ctx = t.fctx;
                // SAFETY: right after the switch, as the hook requires.
                unsafe { self.stack.did_suspend(NonNull::new(t.fctx.cast())) };
                Ok(CoroutineResult::Yield(value))
            }
            // SAFETY: no `Yield`: the root wrote the outcome.
            _ => self.finish(unsafe { exchange.outcome.assume_init() }),
        }
    }

    /// Jumps into the coroutine with `data`.
    ///
    /// # Safety
    /// `self.ctx` is a live suspended (untagged) context and `data` what it
    /// expects.
    #[inline(always)]
    unsafe fn switch_in(&mut self, data: *mut c_void) -> Transfer {
        // A coroutine may be resumed on a thread that neither made a stack
        // nor has an alternate signal stack; the overflow reporter needs
        // one there (one relaxed load while the reporter is not installed).
        crate::overflow::ensure_thread_altstack();
        // SAFETY: per the caller; the hooks run around the switch as the
        // `Stack` contract describes.
        unsafe {
            self.stack.will_resume();
            switch::jump(self.ctx, data)
        }
    }

    /// The body has returned or panicked: the context is dead.
    #[cold]
    fn finish(&mut self, outcome: Outcome<R>) -> Result<CoroutineResult<Y, R>, ResumeError> {
        self.ctx = ptr::null_mut();
        // SAFETY: right after the final switch.
        unsafe { self.stack.did_suspend(None) };
        match outcome {
            Outcome::Returned(value) => {
                self.finished = ResumeError::Completed;
                Ok(CoroutineResult::Complete(value))
            }
            Outcome::Panicked(payload) => {
                self.finished = ResumeError::Panicked;
                panic::resume_unwind(payload)
            }
        }
    }

    /// Unwinds a suspended coroutine's stack (see the type's drop rules).
    fn force_unwind(&mut self) {
        if S::HAS_SWITCH_HOOKS && !self.stack.can_resume() {
            // The stack cannot be switched to now, so the frames cannot be
            // unwound: discard them without running their destructors (a
            // leak, never undefined behaviour).
            self.ctx = ptr::null_mut();
            // SAFETY: nothing will ever switch to the context again.
            unsafe { self.stack.did_suspend(None) };
            return;
        }
        if let Some(fresh) = self.fresh.take() {
            // Never started: only the closure exists, at the top of the
            // stack; drop it there, no switch needed.
            self.ctx = ptr::null_mut();
            // SAFETY: the hooks bracket our access to the stack's bytes; the
            // closure is live and never used again.
            unsafe {
                self.stack.will_resume();
                let dropped = panic::catch_unwind(AssertUnwindSafe(|| (fresh.drop)(fresh.closure)));
                self.stack.did_suspend(None);
                if let Err(payload) = dropped {
                    if !std::thread::panicking() {
                        panic::resume_unwind(payload);
                    }
                }
            }
            return;
        }
        let mut exchange = Exchange::<I, Y, R>::new(Message::Unwind);
        // SAFETY: called only while `ctx` is a live suspended context.
        unsafe { self.switch_in(ptr::from_mut(&mut exchange).cast()) };
        if let Message::Yield(_) = &*exchange.msg {
            // The body caught the unwind and suspended again: its frames are
            // alive and may point anywhere, so neither freeing nor keeping
            // the stack is safe.
            abort_with(
                "fcontext: a coroutine being dropped caught the forced unwind of its stack \
                 and suspended again instead of finishing; aborting",
            );
        }
        self.ctx = ptr::null_mut();
        // SAFETY: right after the final switch.
        unsafe { self.stack.did_suspend(None) };
        // SAFETY: no `Yield` (we would have aborted): the root wrote it.
        if let Outcome::Panicked(payload) = unsafe { exchange.outcome.assume_init() } {
            if !payload.is::<ForcedUnwind>() && !std::thread::panicking() {
                // A destructor on the coroutine's stack panicked.
                panic::resume_unwind(payload);
            }
        }
    }

    /// True once the body has returned or panicked.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.ctx.is_null()
    }

    /// The stack the coroutine runs on.
    pub fn stack(&self) -> &S {
        &self.stack
    }

    /// Gives the stack back for reuse. A coroutine that has not finished is
    /// first unwound, exactly as when it is dropped.
    pub fn into_stack(self) -> S {
        let mut this = ManuallyDrop::new(self);
        if !this.ctx.is_null() {
            this.force_unwind();
        }
        // SAFETY: `this` is never used or dropped again.
        unsafe { ptr::read(&this.stack) }
    }
}

impl<I, Y, R, S: Stack> Drop for Coroutine<I, Y, R, S> {
    fn drop(&mut self) {
        if !self.ctx.is_null() {
            self.force_unwind();
        }
    }
}

impl<I, Y, R, S: Stack> fmt::Debug for Coroutine<I, Y, R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coroutine")
            .field("done", &self.is_done())
            .finish_non_exhaustive()
    }
}
