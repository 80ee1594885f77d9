//! Copy-stack (shared-stack) coroutines: many coroutines take turns on one
//! [`SharedStack`]; a suspended coroutine keeps only the bytes it really
//! used, in a private heap buffer.
//!
//! # How it works
//! A coroutine's live stack is the range from its saved stack pointer up to
//! the top of the shared stack. The coroutine whose bytes are on the stack
//! is its *owner*. Resuming the owner is a plain switch; resuming any other
//! coroutine of the stack first copies the owner's live bytes out to the
//! owner's buffer and the resumed coroutine's saved bytes back to their
//! original addresses. A coroutine alone on its stack never copies. The
//! switches are this crate's `make_fcontext`/`jump_fcontext`; a fresh
//! coroutine gets its context only at its first resume, so until then it
//! costs a small header plus its start closure.
//!
//! # Buffers
//! A private buffer grows geometrically (at least doubling) when a save
//! needs more room, and shrinks to twice the saved size when a save uses a
//! quarter or less of a buffer above 256 bytes. A finished coroutine frees
//! its buffer at once.
//!
//! # Safety rules
//! * **Pointers into a suspended coroutine's stack are invalid while another
//!   coroutine owns the shared stack**: its bytes are in its buffer then, and
//!   the addresses hold the other coroutine's frames. Such pointers are
//!   valid again only while their coroutine runs. The compiler cannot check
//!   this (a scoped thread spawned around a `suspend` holds such a
//!   pointer), so making a copy-stack coroutine is `unsafe`:
//!   [`CopyStack::new`] and [`CopyStackSource::new`] state the rule.
//! * A coroutine cannot resume another coroutine of the *same* shared stack
//!   (the stack cannot change hands while its owner runs); that resume is
//!   refused. Resuming a coroutine of a different shared stack is fine.
//! * Overflow: the shared stack has a guard page at its low end, so running
//!   off the bottom faults. A saved stack pointer found outside the shared
//!   stack when a coroutine suspends or is swapped out (frames that jumped
//!   over the guard page, or a corrupted context) is reported on stderr and
//!   the process aborts, instead of copying foreign memory.

mod capi;
mod copy_stack;
mod shared;
mod task;

// The C API (`include/fcontext_copystack.h`): exported symbols, hidden from
// the Rust docs (Rust code uses the types below).
#[doc(hidden)]
pub use capi::*;
pub use copy_stack::CopyStack;
pub use shared::{CopyStackSource, CopyStats, SharedStack, SharedStackError, SharedStackSet};
