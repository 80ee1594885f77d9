//! fcontext.
#![deny(missing_docs)]

mod capi;
pub mod copystack;
pub mod raw;
pub mod overflow;
mod stack;
pub mod stack_traits;
pub mod tools;

pub use capi::{create_fcontext_stack, destroy_fcontext_stack, FcontextStack};
