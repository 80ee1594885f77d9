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
//! allocator, with its lowest page made a guard by `mprotect`. Every stack
//! has a guard ([`Stack`]'s contract requires one). [`StackPool`] caches protected stacks so that
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
//!   A destructor that panics during that unwind is a panic while
//!   panicking, which Rust answers with an abort.
//! * Fibers are unwound the same way when their handle is dropped (the
//!   request is delivered with `ontop_fcontext`). A fiber has no resumer to
//!   receive a panic, so a panic escaping a fiber aborts the process.
//!
//! # Threads
//!
//! [`Coroutine`], [`Generator`] and [`Fiber`] are never [`Send`], so their
//! bodies may capture anything (`Rc`, `RefCell` references, ...). The
//! reason is what the type system cannot see: values that exist only while
//! a body is suspended. A body that holds, across a `suspend`, a reference
//! from `thread_local!`'s `with`, a `MutexGuard`, or an `Rc` clone that also
//! sits in a thread-local, would use another thread's state if the
//! coroutine were resumed elsewhere; none of those values appear in the
//! coroutine's type.
//!
//! ```compile_fail,E0277
//! use fcontext::Generator;
//! let mut g = Generator::new(|y| y.suspend(1)).unwrap();
//! std::thread::spawn(move || g.next()); // error: Generator is not Send
//! ```
//!
//! Migration is an explicit `unsafe` opt-in: [`SendCoroutine`] requires a
//! `Send` body, and its constructors' `# Safety` sections state the rule
//! the caller keeps (nothing thread-bound alive across a `suspend`).
//! Copy-stack coroutines never migrate: their shared stack belongs to one
//! thread.
//!
//! # Safety model
//!
//! Safe code cannot cause undefined behaviour through this crate. For each
//! public type, what holds and why:
//!
//! * **[`Coroutine`], [`Yielder`], [`Generator`]**: a context is resumed only
//!   through `&mut Coroutine`, so never twice at once, and never after it
//!   finished (the handle checks; `Err(ResumeError)`). A [`Yielder`] is only
//!   lent to its body, is not `Sync` and cannot leave the body (the body is
//!   `'static` and gets `&Yielder` for a shorter lifetime), so only the
//!   coroutine itself suspends. Values cross a switch by move through a
//!   slot whose content is told by the switch's data word, so each value is
//!   dropped exactly once. Dropping a suspended coroutine unwinds its stack
//!   before the memory is freed, so borrows lent out by its frames (a
//!   scoped thread) end first; a body that refuses the unwind aborts the
//!   process rather than leave live frames on freed memory. Not `Send`: see
//!   "Threads".
//! * **[`Fiber`]**: `resume(self)` consumes the handle, so a suspended
//!   context is resumed once. Dropping a handle unwinds that fiber; the
//!   unwind payload carries only a token, never a context, and its
//!   request is kept on the dropping thread, so a payload caught and raised
//!   again elsewhere, or caught and forgotten, aborts (checked at the
//!   fiber's entry) instead of switching to a context of another thread.
//!   A handle for a thread's own stack cannot be unwound: dropping it
//!   aborts. Never `Send`.
//! * **Stacks ([`Stack`], [`ProtectedStack`], [`FixedStack`], [`PooledStack`])**:
//!   [`Stack`] is an `unsafe trait` whose contract includes a guard below
//!   the stack, so a body that runs out faults (reported by
//!   [`overflow::install_overflow_handler`]) instead of writing into other
//!   memory. Constructors check sizes ([`StackError`]). Closures too big to
//!   leave most of a stack to the body are boxed by every constructor.
//! * **Copy-stack coroutines ([`copystack`])**: what the compiler cannot see
//!   is a pointer into a suspended coroutine's frames (held by a scoped
//!   thread, or by a registration of a pinned value) while a sibling's
//!   bytes occupy those addresses. So [`copystack::CopyStack::new`] and
//!   [`copystack::CopyStackSource::new`] are `unsafe`, with that rule as
//!   their contract. Checked at run time: a resume while a sibling runs is
//!   `Err(ResumeError::StackBusy)` (tested), a creation there aborts
//!   (tested), a drop there abandons the frames and keeps the running
//!   owner's claim (tested), and a saved stack pointer outside the shared
//!   stack aborts (tested).
//! * **[`scheduler::Scheduler`]**: tasks are coroutines on the thread that
//!   made the scheduler; a task's panic, even one whose payload panics when
//!   dropped, is contained and counted.
//! * **C helpers and the raw layer** ([`raw`], the `extern "C"` exports):
//!   `unsafe`, with each function's contract in its docs and the headers.
//!
//! **Known gaps** (not yet closed). Both come from the same fact: a
//! suspended coroutine's frames can still exist when its thread's
//! thread-locals are destroyed, while `LocalKey::with` assumes its closure
//! returns before then.
//! * A suspended coroutine kept in a `thread_local!` whose body holds,
//!   across a `suspend`, a reference from *another* thread-local is unwound
//!   when the thread's thread-locals are destroyed; if the other one was
//!   destroyed first, destructors on the coroutine's stack can reach its
//!   dropped value.
//! * A coroutine leaked (`mem::forget`) while suspended inside
//!   `LocalKey::with`, after lending that reference to a scoped thread,
//!   lets the scoped thread use the value after the thread exits.
//!
//! Do not keep suspended coroutines in thread-locals or leak them while
//! they hold thread-local references.
//!
//! The `unsafe` opt-ins, in one list: [`SendCoroutine::new`] /
//! [`SendCoroutine::with_stack`] (migration), [`copystack::CopyStack::new`]
//! / [`copystack::CopyStackSource::new`] (copy stacks), implementing
//! [`Stack`], and everything in [`raw`].
//!
//! # The raw layer
//!
//! [`raw`] exposes the three assembly functions with Boost's exact contract;
//! every `unsafe fn` there documents what the caller must guarantee. The
//! safe types above are the intended way to use them from Rust.
#![deny(missing_docs)]

// Modules bottom-up, one layer per group (tests/layers.rs checks that no
// module names one of a higher layer).
// Layer 0: OS calls, aborting, the assembly functions.
mod fatal;
pub mod raw;
mod sys;
// 1-2: size limits, then stacks (allocation, registry, Valgrind).
pub mod stack;
pub mod stack_traits;
// 3: tools that watch the stacks: ASan hooks, the overflow reporter.
pub mod overflow;
mod sanitizer;
// 4: the one place the safe API switches.
mod switch;
// 5-6: the safe types.
pub mod copystack;
pub mod coroutine;
pub mod fiber;
pub mod generator;
// 7: many tasks.
pub mod scheduler;
// 8: C exports of the stack helpers.
mod c_stack;

#[doc(hidden)]
pub use c_stack::{
    create_fcontext_stack, destroy_fcontext_stack, fcontext_install_overflow_handler, FcontextStack,
};
pub use coroutine::{Coroutine, CoroutineResult, ResumeError, SendCoroutine, Yielder};
pub use fiber::Fiber;
pub use generator::Generator;
pub use stack::{
    DefaultStack, FixedStack, PooledStack, ProtectedStack, Stack, StackError, StackPool,
};

/// Internals the crate's own tests reach from outside (`tests/asm_flags.rs`
/// compiles a probe against the rlib that inlines a Valgrind client
/// request; `tests/fiber.rs` asks where a local really lives under ASan).
/// Not part of the API: may change or go away in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::sanitizer::real_stack_address;
    pub use crate::stack::valgrind::make_mem_undefined as valgrind_make_mem_undefined;
}
