//! [`Generator`]: a coroutine seen as an [`Iterator`].

use crate::coroutine::ResumeError;
use crate::coroutine::{Coroutine, CoroutineResult, Yielder};
use crate::stack::{DefaultStack, Stack, StackError};
use core::fmt;
use core::iter::FusedIterator;

/// An iterator whose items are produced by a closure that runs on its own
/// stack and hands out each item with [`Yielder::suspend`]; the iterator
/// ends when the closure returns.
///
/// ```
/// use fcontext::Generator;
///
/// let squares = Generator::new(|y| {
///     for i in 1..=4u32 {
///         y.suspend(i * i);
///     }
/// })
/// .unwrap();
/// assert_eq!(squares.collect::<Vec<_>>(), [1, 4, 9, 16]);
/// ```
///
/// A panic in the closure is re-raised by the `next` that ran it; the
/// generator then yields nothing more. Dropping an unfinished generator
/// unwinds its stack like dropping a [`Coroutine`]. Like a coroutine, a
/// generator stays on the thread that made it.
///
/// `None` means the closure has finished, and stays so ([`FusedIterator`]).
/// A copy-stack generator polled while another coroutine of its shared
/// stack runs cannot run now without having finished: `next` panics then
/// (its state is untouched), and [`try_next`](Generator::try_next) reports
/// it as `Err(ResumeError::StackBusy)`.
pub struct Generator<T, S: Stack = DefaultStack> {
    co: Coroutine<(), T, (), S>,
}

impl<T> Generator<T, DefaultStack> {
    /// A generator on a new [`DefaultStack`].
    ///
    /// # Errors
    /// When the stack cannot be mapped.
    pub fn new<F>(f: F) -> Result<Self, StackError>
    where
        F: FnOnce(&Yielder<(), T>) + 'static,
    {
        Ok(Generator {
            co: Coroutine::new(move |y, ()| f(y))?,
        })
    }
}

impl<T, S: Stack> Generator<T, S> {
    /// A generator running on `stack`.
    pub fn with_stack<F>(stack: S, f: F) -> Self
    where
        F: FnOnce(&Yielder<(), T>) + 'static,
    {
        Generator {
            co: Coroutine::with_stack(stack, move |y, ()| f(y)),
        }
    }

    /// The next item, `Ok(None)` once the closure has finished, or why the
    /// generator cannot run now (`Err(ResumeError::StackBusy)`: a copy-stack
    /// generator polled from inside another coroutine of its shared stack;
    /// it can be polled again later).
    ///
    /// # Errors
    /// [`ResumeError::StackBusy`], as above.
    ///
    /// # Panics
    /// Re-raises a panic of the closure.
    #[inline]
    pub fn try_next(&mut self) -> Result<Option<T>, ResumeError> {
        match self.co.resume(()) {
            Ok(CoroutineResult::Yield(item)) => Ok(Some(item)),
            Ok(CoroutineResult::Complete(())) => Ok(None),
            Err(ResumeError::StackBusy) => Err(ResumeError::StackBusy),
            Err(_) => Ok(None),
        }
    }

    /// True once the closure has returned or panicked.
    pub fn is_done(&self) -> bool {
        self.co.is_done()
    }

    /// Gives the stack back, unwinding the closure first if it has not
    /// finished.
    pub fn into_stack(self) -> S {
        self.co.into_stack()
    }
}

impl<T, S: Stack> Iterator for Generator<T, S> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match self.try_next() {
            Ok(item) => item,
            Err(busy) => busy_generator(busy),
        }
    }
}

impl<T, S: Stack> FusedIterator for Generator<T, S> {}

#[cold]
#[inline(never)]
fn busy_generator(why: ResumeError) -> ! {
    panic!("Generator::next: {why} (use try_next to handle this)")
}

impl<T, S: Stack> fmt::Debug for Generator<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("done", &self.is_done())
            .finish_non_exhaustive()
    }
}
