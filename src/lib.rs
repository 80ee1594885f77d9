//! fcontext.
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

pub use capi::{create_fcontext_stack, destroy_fcontext_stack, FcontextStack};
pub use coroutine::{Coroutine, CoroutineResult, ResumeError, Yielder};
pub use fiber::Fiber;
pub use generator::Generator;
pub use stack::{
    DefaultStack, FixedStack, Local, PooledStack, ProtectedStack, Stack, StackError, StackPool,
};
