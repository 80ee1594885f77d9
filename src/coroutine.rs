//! Asymmetric coroutines: [`Coroutine`], [`Yielder`], [`CoroutineResult`].
//!
//! # How a switch works
//! A resume and the matching suspend exchange values through one exchange
//! record (`Exchange`) that lives in the *resumer's* stack frame; the pointer
//! to it is the `data` of the jump. The resumer writes the input into the
//! exchange's value slot and jumps; the coroutine takes the input, and when
//! it suspends it writes the yielded value into the same slot and jumps back
//! with null `data`. When the body returns or panics, the coroutine's root
//! writes the outcome into the exchange and jumps back one last time with
//! non-null `data`. What the slot holds is therefore told by the `data` word
//! of the switch (a register), never by a tag in memory, and the rare
//! requests ride on it too: the drop's unwind request is the exchange's
//! address with its low bit set. So a round trip is two `jump_fcontext`
//! calls, one store and one load of the value each way, and a register test
//! on each side: no allocation, no atomics, no thread-local lookups.
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
//!  │ resume(): Exchange   │◄── data ptr ──│ root: Yielder { caller, slot}│
//!  │  slot: input/yield   │               │ body f(&yielder, input)      │
//!  │  outcome (at the end)│               │   ... suspend(y) ... ▼ sp    │
//!  └──────────────────────┘               └──────────────────────────────┘ bottom
//! ```
//!
//! The stack's [`will_resume`](Stack::will_resume) /
//! [`did_suspend`](Stack::did_suspend) hooks run around every switch into
//! the coroutine; for ordinary stacks they are empty and vanish after
//! inlining. A copy-stack backend implements them to save and restore the
//! coroutine's bytes, and reuses everything else here unchanged.

use crate::fatal::abort_with;
use crate::raw::{FcontextT, Transfer};
use crate::stack::{fits_on_stack, DefaultStack, Stack, StackError};
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

/// The value that crosses one switch: the input on the way in, the yielded
/// value on the way out. Which one it holds is never stored: the `data` word
/// of the switch says it (see the module docs), so a switch writes and reads
/// the bare value.
///
/// Ownership moves with plain reads and writes: the receiver `ptr::read`s
/// the value and leaves the stale bits behind, the next sender `ptr::write`s
/// over them, and the slot itself never drops anything, so no value is
/// dropped twice and no switch pays for clearing it. `repr(C)`: both fields
/// sit at offset 0, so a pointer to the slot is a pointer to either value.
#[repr(C)]
pub(crate) union ValueSlot<I, Y> {
    input: ManuallyDrop<I>,
    yielded: ManuallyDrop<Y>,
}

/// How the body ended, written by the coroutine's root just before its last
/// switch.
pub(crate) enum Outcome<R> {
    /// The body returned.
    Returned(R),
    /// The body panicked, or was unwound by a [`ForcedUnwind`].
    Panicked(Box<dyn Any + Send>),
}

/// The resumer's half of a switch: lives in the resuming function's stack
/// frame. `repr(C)` so a pointer to it is also a pointer to its `slot` (all
/// a [`Yielder`], which does not know `R`, touches). `outcome` is written
/// only by the root's final switch, whose `data` is not null, so the resumer
/// neither initialises nor drops it on a yield.
#[repr(C)]
pub(crate) struct Exchange<I, Y, R> {
    slot: MaybeUninit<ValueSlot<I, Y>>,
    outcome: MaybeUninit<Outcome<R>>,
}

/// Low bit of a resumer→coroutine `data` word: "unwind your stack and
/// finish" instead of "here is your input". The rest of the word is still
/// the exchange, where the root leaves the outcome of the unwind.
const UNWIND: usize = 1;

impl<I, Y, R> Exchange<I, Y, R> {
    /// The tag bit must not collide with an address bit.
    const ALIGNED: () = assert!(align_of::<Self>() > UNWIND);

    /// An exchange with nothing in its slot.
    #[inline(always)]
    fn empty() -> Self {
        Exchange {
            slot: MaybeUninit::uninit(),
            outcome: MaybeUninit::uninit(),
        }
    }

    /// An exchange carrying `input` into the coroutine.
    #[inline(always)]
    fn with_input(input: I) -> Self {
        let mut exchange = Self::empty();
        exchange.slot.write(ValueSlot {
            input: ManuallyDrop::new(input),
        });
        exchange
    }

    /// The `data` word of a switch that hands this exchange over (with
    /// `tag` 0 or [`UNWIND`]).
    #[inline(always)]
    fn data(&mut self, tag: usize) -> *mut c_void {
        let () = Self::ALIGNED;
        ptr::from_mut(self).cast::<u8>().wrapping_add(tag).cast()
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
    /// The value slot of the resumer's `Exchange` (the resume in progress).
    slot: Cell<*mut ValueSlot<I, Y>>,
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
        // SAFETY: the slot is in the frame of the resume in progress, and
        // we took its input (the bits are stale, nobody drops them); the
        // resumer reads it only after we jump back with null `data`, which
        // tells it the slot holds a yielded value. `caller` is that
        // resumer's context, suspended in its jump to us.
        unsafe {
            ptr::write(self.slot.get().cast::<Y>(), value);
            let t = switch::jump(self.caller.get(), ptr::null_mut());
            self.arrive(t)
        }
    }

    /// Records who resumed us and with which exchange, and takes the input.
    ///
    /// # Safety
    /// `t` is the transfer of a switch made by [`Coroutine`]: `t.data` is
    /// `Exchange::data` of a live exchange, with an input in its slot unless
    /// the word carries [`UNWIND`].
    #[inline(always)]
    unsafe fn arrive(&self, t: Transfer) -> I {
        // A coroutine may be resumed on a thread that neither made a stack
        // nor has an alternate signal stack; the overflow reporter needs one
        // there before the body runs on. Checked here, on the coroutine's
        // side of every switch in, rather than before the resumer's jump:
        // it is the same thread, and here the relaxed load is off the
        // critical path of the round trip (before the jump it measured
        // ~3% of a round trip).
        crate::overflow::ensure_thread_altstack();
        self.caller.set(t.fctx);
        if t.data as usize & UNWIND != 0 {
            self.slot
                .set(t.data.cast::<u8>().wrapping_sub(UNWIND).cast());
            Self::unwind_requested();
        }
        let slot = t.data.cast::<ValueSlot<I, Y>>();
        self.slot.set(slot);
        // SAFETY: per the function's contract, the slot holds an input.
        unsafe { ptr::read(slot.cast::<I>()) }
    }

    /// The drop's request: unwind the stack up to the root.
    #[cold]
    #[inline(never)]
    fn unwind_requested() -> ! {
        panic::resume_unwind(Box::new(ForcedUnwind))
    }
}

impl<I, Y> fmt::Debug for Yielder<I, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yielder").finish_non_exhaustive()
    }
}

/// What the first resume passes to [`root`]: the exchange as usual, plus
/// where the creator left the closure.
#[repr(C)]
struct Start {
    exchange: *mut c_void,
    closure: *mut c_void,
}

/// A coroutine that has not started yet: its fresh context, and its closure,
/// which sits at the top of the coroutine's stack above the context frame.
struct Fresh {
    ctx: FcontextT,
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
    crate::sanitizer::asan_enter_context();
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
    crate::sanitizer::asan_enter_context();
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
        slot: Cell::new(ptr::null_mut()),
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
    let exchange = yielder.slot.get().cast::<Exchange<I, Y, R>>();
    // SAFETY: the last resumer's exchange is live and its outcome
    // uninitialised. The jump's `data` (the exchange, never null) tells the
    // resumer the outcome is there; it owns it from then on and never
    // switches to this context again.
    unsafe {
        (*exchange).outcome.write(outcome);
        crate::sanitizer::asan_leave_context_for_good();
        switch::jump(yielder.caller.get(), exchange.cast());
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
///   dropped; a panic in its destructor is re-raised by the drop.)
/// * The forced unwind is a panic, so a destructor that panics while it
///   runs panics during unwinding, and Rust **aborts** the process ("panic
///   in a destructor during cleanup"), exactly as it would for an ordinary
///   panic on a thread.
/// * A body that catches the forced unwind (with `catch_unwind` around a
///   `suspend`) and then returns finishes normally; one that then panics
///   with a payload of its own finishes with that panic, and the drop
///   re-raises it (or discards it when the thread is already panicking).
///   One that suspends again instead cannot be finished and its stack
///   cannot be freed safely, so the process **aborts** with a message
///   saying so.
/// * A copy-stack coroutine dropped while another coroutine of its shared
///   stack runs cannot be switched to, so its frames are abandoned: their
///   destructors never run (a leak), and the running coroutine keeps the
///   stack.
///
/// # Threads
/// A `Coroutine` is never [`Send`]: values that exist only while the body is
/// suspended (a reference from `thread_local!`'s `with`, a `MutexGuard`, an
/// `Rc` clone that also sits in a thread-local) are invisible to the type
/// system, and moving the coroutine to another thread would let them be
/// used there. So the body need not be `Send` either. [`SendCoroutine`] is
/// the `unsafe` opt-in for migration; its constructors state the rule the
/// caller must keep. See the crate docs ("Threads" and "Safety model").
///
/// ```compile_fail,E0277
/// use fcontext::{Coroutine, Yielder};
///
/// // The body captures nothing, yet the coroutine cannot move: its frames
/// // could hold thread-bound values across a suspend.
/// let mut co = Coroutine::new(|_: &Yielder<(), ()>, ()| {}).unwrap();
/// std::thread::spawn(move || co.resume(()));
/// ```
///
/// # Inputs are `'static`
/// The body is `'static`, and so is what `resume` passes in: a coroutine
/// may be leaked (`mem::forget`) while suspended, and then its frames never
/// end. A borrow handed in with an input could end while a frame still
/// uses it, for example through a scoped thread the body started around a
/// `suspend`:
///
/// ```compile_fail,E0597
/// use fcontext::{Coroutine, Yielder};
///
/// let mut data = vec![0u64; 1024];
/// let mut co = Coroutine::new(|y: &Yielder<&mut [u64], ()>, d: &mut [u64]| {
///     std::thread::scope(|s| {
///         s.spawn(move || d.fill(1)); // still writing after `data` is freed
///         y.suspend(());
///     });
/// })
/// .unwrap();
/// co.resume(&mut data).unwrap(); // error: the input must be 'static
/// std::mem::forget(co);
/// drop(data);
/// ```
pub struct Coroutine<I, Y, R, S: Stack = DefaultStack> {
    /// The suspended coroutine; null before its first switch (see `fresh`)
    /// and once it has finished, so one test sends both to the cold path.
    ctx: FcontextT,
    /// The fresh context and its closure, until the first resume.
    fresh: Option<Fresh>,
    /// Why it finished (meaningful when `ctx` and `fresh` are both empty).
    finished: ResumeError,
    stack: S,
    /// Invariant in all three: values of exactly these types cross the
    /// switch in both directions.
    _types: PhantomData<*mut (I, Y, R)>,
}

impl<I, Y, R> Coroutine<I, Y, R, DefaultStack> {
    /// A coroutine running `f` on a new [`DefaultStack`] of
    /// [`stack_traits::default_size`](crate::stack_traits::default_size).
    ///
    /// # Errors
    /// When the stack cannot be mapped.
    pub fn new<F>(f: F) -> Result<Self, StackError>
    where
        I: 'static,
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
    {
        Ok(Self::with_stack(DefaultStack::with_default_size()?, f))
    }
}

impl<I, Y, R, S: Stack> Coroutine<I, Y, R, S> {
    /// A coroutine running `f` on `stack`. Nothing runs until the first
    /// [`resume`](Coroutine::resume).
    ///
    /// A closure too big to leave most of the stack to the body (more than
    /// an eighth of it) is boxed, so any capture size works on any stack.
    pub fn with_stack<F>(stack: S, f: F) -> Self
    where
        I: 'static,
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
    {
        // The closure is moved onto the coroutine's stack (stored at its top,
        // or read into the root's frame), so it must leave most of the stack
        // to the body; a big one is boxed instead (the box is itself a
        // closure).
        if fits_on_stack::<F>(stack.size()) {
            Self::spawn(stack, f)
        } else {
            Self::spawn(stack, Box::new(f))
        }
    }

    /// The common constructor, for a closure that fits (see
    /// [`fits_on_stack`]).
    fn spawn<F>(stack: S, f: F) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
    {
        // SAFETY: the stack honours the `Stack` contract and `f` fits in an
        // eighth of it.
        unsafe {
            if S::HAS_SWITCH_HOOKS {
                Self::spawn_primed(stack, f)
            } else {
                Self::spawn_in_place(stack, f)
            }
        }
    }

    /// Makes the context and switches into it once, so that [`root_primed`]
    /// moves `f` onto the coroutine's stack and suspends: creation costs a
    /// switch pair, but the context is never fresh after it.
    ///
    /// # Safety
    /// `f` fits in an eighth of the stack ([`fits_on_stack`]).
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
    /// `f` fits in an eighth of the stack ([`fits_on_stack`]).
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
                ctx: ptr::null_mut(),
                fresh: Some(Fresh {
                    ctx,
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
        if S::HAS_SWITCH_HOOKS && !self.ctx.is_null() && !self.stack.can_resume() {
            return Err(ResumeError::StackBusy);
        }
        let mut exchange = Exchange::with_input(input);
        let ctx = self.ctx;
        let t = if !ctx.is_null() {
            // SAFETY: `ctx` is our suspended coroutine, which expects an
            // exchange with an input; its stack is `self.stack`.
            unsafe { self.switch_in(ctx, exchange.data(0)) }
        } else {
            // The cold path hands back a plain `Transfer` (two registers),
            // so the hot path's result is never merged through memory.
            let t = self.resume_cold(&mut exchange);
            if t.fctx.is_null() {
                return Err(self.finished);
            }
            t
        };
        self.after_switch(t, &mut exchange)
    }

    /// A resume with no suspended context: the first one (makes the first
    /// switch and returns its transfer), or one after the end (drops the
    /// input and returns a null transfer).
    #[cold]
    #[inline(never)]
    fn resume_cold(&mut self, exchange: &mut Exchange<I, Y, R>) -> Transfer {
        let Some(fresh) = self.fresh.take() else {
            // SAFETY: the input was written by `resume` and is not read again.
            unsafe { ptr::drop_in_place(exchange.slot.as_mut_ptr().cast::<I>()) };
            return Transfer {
                fctx: ptr::null_mut(),
                data: ptr::null_mut(),
            };
        };
        let mut start = Start {
            exchange: exchange.data(0),
            closure: fresh.closure,
        };
        // SAFETY: a fresh context of ours whose entry expects this `Start`.
        unsafe { self.switch_in(fresh.ctx, ptr::addr_of_mut!(start).cast()) }
    }

    /// Takes what the coroutine left in `exchange` after a switch into it.
    #[inline(always)]
    fn after_switch(
        &mut self,
        t: Transfer,
        exchange: &mut Exchange<I, Y, R>,
    ) -> Result<CoroutineResult<Y, R>, ResumeError> {
        if !t.data.is_null() {
            return Ok(CoroutineResult::Complete(self.finish(exchange)));
        }
        // SAFETY: null `data` is a suspend, which wrote its value into the
        // slot for us; the slot never drops, so reading it out moves it.
        let value = unsafe { ptr::read(exchange.slot.as_ptr().cast::<Y>()) };
        self.ctx = t.fctx;
        // SAFETY: right after the switch, as the hook requires.
        unsafe { self.stack.did_suspend(NonNull::new(t.fctx.cast())) };
        Ok(CoroutineResult::Yield(value))
    }

    /// Jumps into the coroutine's context `ctx` with `data`.
    ///
    /// # Safety
    /// `ctx` is this coroutine's live suspended (or fresh) context and
    /// `data` what it expects.
    #[inline(always)]
    unsafe fn switch_in(&mut self, ctx: FcontextT, data: *mut c_void) -> Transfer {
        // SAFETY: per the caller; the hooks run around the switch as the
        // `Stack` contract describes.
        unsafe {
            self.stack.will_resume();
            switch::jump(ctx, data)
        }
    }

    /// The body has returned or panicked (the switch back had non-null
    /// `data`, so the root wrote the outcome into `exchange`): the context is
    /// dead. Returns the body's value or re-raises its panic.
    #[cold]
    #[inline(never)]
    fn finish(&mut self, exchange: &mut Exchange<I, Y, R>) -> R {
        self.ctx = ptr::null_mut();
        // SAFETY: right after the final switch.
        unsafe { self.stack.did_suspend(None) };
        // SAFETY: written by the root's final switch; this is its only reader.
        match unsafe { exchange.outcome.assume_init_read() } {
            Outcome::Returned(value) => {
                self.finished = ResumeError::Completed;
                value
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
            // unwound: abandon them without running their destructors (a
            // leak). The running context keeps the stack; only this
            // context's own claim goes.
            self.ctx = ptr::null_mut();
            self.fresh = None;
            // SAFETY: nothing will ever switch to the context again, and no
            // switch into it was prepared.
            unsafe { self.stack.abandon() };
            return;
        }
        if let Some(fresh) = self.fresh.take() {
            // Never started: only the closure exists, at the top of the
            // stack; drop it there, no switch needed.
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
        let mut exchange = Exchange::<I, Y, R>::empty();
        // SAFETY: called only while `ctx` is a live suspended context (not
        // fresh: handled above); an `UNWIND` word needs no input.
        let t = unsafe { self.switch_in(self.ctx, exchange.data(UNWIND)) };
        if t.data.is_null() {
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
        // SAFETY: non-null `data` (we would have aborted): the root wrote it.
        if let Outcome::Panicked(payload) = unsafe { exchange.outcome.assume_init_read() } {
            if !payload.is::<ForcedUnwind>() && !std::thread::panicking() {
                // A destructor on the coroutine's stack panicked.
                panic::resume_unwind(payload);
            }
        }
    }

    /// True once the body has returned or panicked.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.ctx.is_null() && self.fresh.is_none()
    }

    /// The stack the coroutine runs on.
    pub fn stack(&self) -> &S {
        &self.stack
    }

    /// Gives the stack back for reuse. A coroutine that has not finished is
    /// first unwound, exactly as when it is dropped.
    pub fn into_stack(self) -> S {
        let mut this = ManuallyDrop::new(self);
        if !this.is_done() {
            this.force_unwind();
        }
        // SAFETY: `this` is never used or dropped again.
        unsafe { ptr::read(&this.stack) }
    }
}

impl<I, Y, R, S: Stack> Drop for Coroutine<I, Y, R, S> {
    fn drop(&mut self) {
        if !self.is_done() {
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

/// A [`Coroutine`] that may move to another thread between resumes: the
/// `unsafe` opt-in for migration.
///
/// A plain `Coroutine` is never `Send` (see its "Threads" section). This
/// wrapper is `Send` when its stack and `I`, `Y`, `R` are; its constructors
/// require a `Send` body and are `unsafe`, because the compiler cannot check
/// what the body holds while it is suspended. It offers the same operations
/// as the coroutine it wraps, but never a `&mut Coroutine` (that would let
/// safe code swap a thread-bound coroutine into it).
///
/// ```
/// use fcontext::{CoroutineResult, SendCoroutine, Yielder};
///
/// // SAFETY: the body holds nothing but its own integers across `suspend`.
/// let mut co = unsafe {
///     SendCoroutine::new(|y: &Yielder<u32, u32>, mut n: u32| {
///         loop {
///             n = y.suspend(n * 2);
///         }
///     })
/// }
/// .unwrap();
/// assert_eq!(co.resume(1).unwrap(), CoroutineResult::Yield(2));
/// let co = std::thread::spawn(move || {
///     assert_eq!(co.resume(5).unwrap(), CoroutineResult::Yield(10));
///     co
/// })
/// .join()
/// .unwrap();
/// drop(co); // unwound on this thread
/// ```
///
/// A copy-stack coroutine cannot migrate at all (its shared stack belongs to
/// one thread):
///
/// ```compile_fail,E0277
/// use fcontext::copystack::{CopyStack, SharedStack};
/// use fcontext::{SendCoroutine, Yielder};
///
/// let shared = SharedStack::new(64 * 1024).unwrap();
/// let mut co = unsafe {
///     SendCoroutine::with_stack(CopyStack::new(&shared), |_: &Yielder<(), ()>, ()| {})
/// };
/// std::thread::spawn(move || co.resume(()));
/// ```
pub struct SendCoroutine<I, Y, R, S: Stack = DefaultStack> {
    co: Coroutine<I, Y, R, S>,
}

// SAFETY: the body closure was `Send` (the constructors require it) and the
// caller of the `unsafe` constructor promised that nothing the body holds
// across a suspend is bound to a thread; `I`/`Y`/`R` and the stack are
// `Send` by the bounds. What remains is plain memory: the stack and the
// frames on it, which move as a whole.
unsafe impl<I: Send, Y: Send, R: Send, S: Stack + Send> Send for SendCoroutine<I, Y, R, S> {}

impl<I, Y, R> SendCoroutine<I, Y, R, DefaultStack> {
    /// Like [`Coroutine::new`], for a coroutine that may migrate.
    ///
    /// # Safety
    /// Whenever the coroutine is suspended (in [`Yielder::suspend`]), no
    /// value alive in the body may depend on the thread it runs on: no
    /// reference obtained from a `thread_local!` (`LocalKey::with` around a
    /// `suspend`), no `MutexGuard`, `Rc`, `RefCell` borrow or other `!Send`
    /// value, and nothing that assumes the thread stays the same (a cached
    /// thread id used for safety). Values used only between two suspends
    /// are fine. A panic in flight is thread-bound too: the body must not
    /// suspend from a destructor while it unwinds (the standard library
    /// counts panics per thread, and the unwind would finish on another).
    ///
    /// # Errors
    /// When the stack cannot be mapped.
    pub unsafe fn new<F>(f: F) -> Result<Self, StackError>
    where
        I: 'static,
        F: FnOnce(&Yielder<I, Y>, I) -> R + Send + 'static,
    {
        Ok(SendCoroutine {
            co: Coroutine::new(f)?,
        })
    }
}

impl<I, Y, R, S: Stack> SendCoroutine<I, Y, R, S> {
    /// Like [`Coroutine::with_stack`], for a coroutine that may migrate.
    ///
    /// # Safety
    /// As [`SendCoroutine::new`].
    pub unsafe fn with_stack<F>(stack: S, f: F) -> Self
    where
        I: 'static,
        F: FnOnce(&Yielder<I, Y>, I) -> R + Send + 'static,
    {
        SendCoroutine {
            co: Coroutine::with_stack(stack, f),
        }
    }

    /// [`Coroutine::resume`].
    ///
    /// # Errors
    /// As [`Coroutine::resume`].
    #[inline]
    pub fn resume(&mut self, input: I) -> Result<CoroutineResult<Y, R>, ResumeError> {
        self.co.resume(input)
    }

    /// [`Coroutine::is_done`].
    #[inline]
    pub fn is_done(&self) -> bool {
        self.co.is_done()
    }

    /// [`Coroutine::stack`].
    pub fn stack(&self) -> &S {
        self.co.stack()
    }

    /// [`Coroutine::into_stack`].
    pub fn into_stack(self) -> S {
        self.co.into_stack()
    }

    /// The coroutine, which stays on this thread from now on.
    pub fn into_inner(self) -> Coroutine<I, Y, R, S> {
        self.co
    }
}

impl<I, Y, R, S: Stack> fmt::Debug for SendCoroutine<I, Y, R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendCoroutine")
            .field("done", &self.is_done())
            .finish_non_exhaustive()
    }
}
