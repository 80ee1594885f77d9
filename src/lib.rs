//! Stackful coroutines on the fcontext context-switch ABI.
//!
//! This crate is two things. For C and C++ it is a drop-in replacement for
//! the context-switch layer of Boost.Context and for `libfcontext`: the
//! assembly functions `make_fcontext`, `jump_fcontext` and `ontop_fcontext`
//! (declared in [`raw`]) plus the stack helpers of both libraries. For Rust
//! it is a safe coroutine library built on exactly those three functions:
//! [`Coroutine`], [`Fiber`], [`Generator`], stacks ([`stack`]), a
//! round-robin [`scheduler`] and copy-stack coroutines ([`copystack`]).
//!
//! # Mental model
//!
//! **A context** is a computation that has its own stack. When it is not
//! running it is *suspended*: its registers are saved in a small frame at
//! the lowest live address of its stack, and the address of that frame (an
//! `fcontext_t`, a [`raw::FcontextT`]) is the only thing needed to continue
//! it. A switch saves the current context the same way and loads another;
//! there is no scheduler and no kernel involvement, just a few dozen
//! instructions.
//!
//! **Who owns the stack.** A context never owns memory by itself: a
//! [`Stack`] value does. A [`Coroutine`] owns its stack (and gives it back
//! with [`Coroutine::into_stack`]); a [`Fiber`] moves its stack onto the
//! stack itself and frees it when the fiber ends, exactly as Boost's fiber
//! does. The thread you start on keeps its ordinary thread stack.
//!
//! **Suspended means blocked inside a switch.** A coroutine suspended in
//! [`Yielder::suspend`] is sitting in that call, with every local of every
//! frame above it intact; the next [`Coroutine::resume`] makes the call
//! return. While a coroutine runs, its resumer is suspended in the same way
//! inside `resume`:
//!
//! ```text
//!   thread stack                       coroutine stack
//!   main() ─ co.resume(i) ──switch──►  body(yielder, i)
//!            (suspended)               ... yielder.suspend(y)
//!   match result ◄──────────switch───  (suspended)
//! ```
//!
//! **Asymmetric vs symmetric.** A [`Coroutine`] always returns to whoever
//! resumed it (like a function call that can pause). A [`Fiber`] names the
//! context it switches to and hands over the one it left, so fibers can pass
//! control around in any pattern; `resume(self)` consumes the handle, so a
//! suspended context can never be resumed twice.
//!
//! # A first coroutine
//!
//! ```
//! use fcontext::{Coroutine, CoroutineResult, Yielder};
//!
//! // Input u32 (what resume passes in), yield String, return usize.
//! let mut co = Coroutine::new(|y: &Yielder<u32, String>, mut n: u32| {
//!     let mut calls = 0;
//!     while n > 0 {
//!         calls += 1;
//!         n = y.suspend(format!("got {n}")); // pause; returns the next input
//!     }
//!     calls
//! })
//! .expect("stack allocation");
//!
//! assert_eq!(co.resume(5).unwrap(), CoroutineResult::Yield("got 5".to_string()));
//! assert_eq!(co.resume(7).unwrap(), CoroutineResult::Yield("got 7".to_string()));
//! assert_eq!(co.resume(0).unwrap(), CoroutineResult::Complete(2));
//! assert!(co.resume(1).is_err()); // completed coroutines cannot be resumed
//! ```
//!
//! Values cross a switch through a slot in the resumer's stack frame whose
//! address travels as the switch's data pointer: a round trip is two
//! `jump_fcontext` calls and a few moves, with no allocation, no atomic
//! operation and no thread-local lookup.
//!
//! # Generators and fibers
//!
//! ```
//! use fcontext::{Fiber, Generator};
//!
//! let evens = Generator::new(|y| (0..10).filter(|n| n % 2 == 0).for_each(|n| y.suspend(n)))
//!     .unwrap();
//! assert_eq!(evens.collect::<Vec<i32>>(), [0, 2, 4, 6, 8]);
//!
//! // A fiber receives the context that started it and ends by naming the
//! // context to continue with.
//! let fiber = Fiber::new(|main| {
//!     let main = main.resume().unwrap(); // switch back, wait to be resumed
//!     main // end: continue with main
//! })
//! .unwrap();
//! let fiber = fiber.resume().unwrap(); // runs until the fiber switches back
//! assert!(fiber.resume().is_none()); // the fiber ended
//! ```
//!
//! # Stacks
//!
//! [`ProtectedStack`] (the [`DefaultStack`]) is an `mmap` with a `PROT_NONE`
//! guard page, committed lazily by the kernel: a 1 MiB stack whose code uses
//! 8 KiB costs about 8 KiB of memory. [`FixedStack`] comes from the global
//! allocator and has no guard. [`StackPool`] caches protected stacks so that
//! creating a coroutine makes no system call. Sizes follow
//! [`stack_traits`]; a bad size is a [`StackError`]. Overflowing a guarded
//! stack faults; [`overflow::install_overflow_handler`] turns that fault
//! into a readable message.
//!
//! # Panics and unwinding
//!
//! * A panic in a coroutine body is caught at the bottom of the coroutine's
//!   stack and re-raised by the [`Coroutine::resume`] that was running it;
//!   the coroutine is then finished ([`ResumeError::Panicked`]). Panics never
//!   unwind across a switch.
//! * Dropping a coroutine that has not finished **unwinds its stack**: the
//!   pending `suspend` panics with a private payload, every destructor runs,
//!   and the coroutine's root catches the payload and switches back for the
//!   last time. Code in a coroutine must therefore let that unwind pass (do
//!   not swallow every panic with `catch_unwind` around a `suspend`); a body
//!   that catches it and suspends again makes the drop abort the process
//!   with a message, because its frames can neither be resumed nor freed.
//! * Fibers are unwound the same way when their handle is dropped (the
//!   request is delivered with `ontop_fcontext`). A fiber has no resumer to
//!   receive a panic, so a panic escaping a fiber aborts the process.
//!
//! # Threads
//!
//! [`Coroutine`] is [`Send`] when its stack and its `I`, `Y`, `R` types are
//! `Send`, and its body closure was `Send` ([`Coroutine::new`] and
//! [`Coroutine::with_stack`] require that). A body that captures something
//! that is not `Send` (an `Rc`, a `RefCell` reference, ...) is accepted by
//! [`Coroutine::new_local`]; such a coroutine runs on a [`Local`] stack and
//! is therefore not `Send`:
//!
//! ```compile_fail,E0277
//! use fcontext::Coroutine;
//! let counter = std::rc::Rc::new(0);
//! let co = Coroutine::<(), (), usize, _>::new_local(move |_, ()| *counter).unwrap();
//! std::thread::spawn(move || drop(co)); // error: `*mut ()` cannot be sent between threads
//! ```
//!
//! **Why captures and stack are the rule.** Moving a suspended coroutine to
//! another thread moves everything it owns at once: its closure, its stack
//! memory and every value living in the frames on that stack. A value that
//! the body *created* — even an `Rc` — moves together with all the other
//! values that could refer to it, so no other thread can observe it
//! half-way; the values that can be shared with the outside are exactly the
//! captures and the `I`/`Y`/`R` values that cross `resume`/`suspend`, and
//! those are checked.
//!
//! **What the type system cannot see: thread-bound state held across a
//! suspend.** A body that, across a `suspend`, holds a reference into a
//! thread-local (`LocalKey::with` around a `suspend`), a clone of an `Rc`
//! that also sits in a thread-local, a `MutexGuard`, or any other value
//! that is only valid on the thread that created it, breaks if the
//! coroutine is then resumed on another thread: the reference now points at
//! the old thread's storage while that thread keeps using it. That is a data
//! race, and the compiler cannot reject it because those values are locals
//! of the body, not part of the coroutine's type. So: **a `Send` coroutine
//! must not hold thread-bound values across a `suspend`**; take what you
//! need from a thread-local, drop the guard, then suspend. Reading a
//! thread-local *after* a migration is fine and observes the new thread's
//! value (a body that caches "my thread" before a `suspend` sees a stale
//! answer after one). When in doubt use [`Coroutine::new_local`], which
//! cannot migrate. [`Fiber`] is never `Send`, since a fiber handle may stand
//! for a thread's own stack.
//!
//! # The raw layer
//!
//! [`raw`] exposes the three assembly functions with Boost's exact contract;
//! every `unsafe fn` there documents what the caller must guarantee. The
//! safe types above are the intended way to use them from Rust.
#![deny(missing_docs)]

mod capi;
pub mod copystack;
pub mod coroutine;
pub mod fiber;
pub mod generator;
pub mod overflow;
pub mod raw;
pub mod scheduler;
pub mod stack;
pub mod stack_traits;
mod switch;
pub mod tools;

pub use capi::{
    create_fcontext_stack, destroy_fcontext_stack, fcontext_install_overflow_handler, FcontextStack,
};
pub use coroutine::{Coroutine, CoroutineResult, ResumeError, Yielder};
pub use fiber::Fiber;
pub use generator::Generator;
pub use stack::{
    DefaultStack, FixedStack, Local, PooledStack, ProtectedStack, Stack, StackError, StackPool,
};
