//! `StackPool`: a bounded, thread-safe cache of protected stacks.

use super::{ProtectedStack, Stack, StackError};
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};

/// A cache of equally sized [`ProtectedStack`]s. [`get`](StackPool::get)
/// hands out a cached stack when there is one (no system call) and maps a new
/// one otherwise; a [`PooledStack`] goes back into the cache when dropped,
/// unless the cache already holds `capacity` stacks (or every handle to the
/// pool is gone), in which case it is unmapped.
///
/// The pool is a cheap handle (`Clone` shares the same cache) and may be
/// used from any thread. Reused stacks keep the pages their previous user
/// touched committed; that is the price of skipping `mmap`.
///
/// ```
/// use fcontext::{Coroutine, StackPool};
///
/// let pool = StackPool::new(64 * 1024, 8).unwrap();
/// for i in 0..100 {
///     let mut co = Coroutine::<(), (), i32, _>::with_stack(pool.get().unwrap(), move |_, ()| i);
///     assert_eq!(co.resume(()).unwrap().into_complete(), Some(i));
/// } // each coroutine's stack returns to the pool here
/// assert_eq!(pool.cached(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct StackPool {
    handle: Arc<PoolHandle>,
}

/// The user-facing side of the pool. Cached stacks hold the shared state
/// alive (each carries an `Arc` to it, so handing one out costs no
/// reference-count traffic); when the last handle goes, the cache is closed
/// and emptied, which breaks that cycle.
#[derive(Debug)]
struct PoolHandle {
    shared: Arc<PoolShared>,
}

#[derive(Debug)]
struct PoolShared {
    stack_size: usize,
    capacity: usize,
    state: Mutex<PoolState>,
}

#[derive(Debug)]
struct PoolState {
    free: Vec<Entry>,
    /// Every `StackPool` handle is gone: returned stacks are unmapped.
    closed: bool,
}

/// A stack together with its pool, in or out of the cache.
#[derive(Debug)]
struct Entry {
    stack: ProtectedStack,
    pool: Arc<PoolShared>,
}

impl PoolShared {
    fn state(&self) -> MutexGuard<'_, PoolState> {
        // Nothing panics while the lock is held, but a poisoned list of
        // stacks is still a valid list of stacks.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn new_entry(self: &Arc<Self>) -> Result<Entry, StackError> {
        Ok(Entry {
            stack: ProtectedStack::new(self.stack_size)?,
            pool: Arc::clone(self),
        })
    }
}

impl Drop for PoolHandle {
    fn drop(&mut self) {
        let cached = {
            let mut state = self.shared.state();
            state.closed = true;
            core::mem::take(&mut state.free)
        };
        // Unmap outside the lock.
        drop(cached);
    }
}

impl StackPool {
    /// A pool of stacks with `stack_size` usable bytes each, caching at most
    /// `capacity` unused stacks.
    ///
    /// # Errors
    /// The size is checked here, with the rules of [`ProtectedStack::new`],
    /// so [`get`](StackPool::get) can only fail when `mmap` does.
    pub fn new(stack_size: usize, capacity: usize) -> Result<Self, StackError> {
        ProtectedStack::mapping_for(stack_size)?;
        Ok(StackPool {
            handle: Arc::new(PoolHandle {
                shared: Arc::new(PoolShared {
                    stack_size,
                    capacity,
                    state: Mutex::new(PoolState {
                        free: Vec::with_capacity(capacity.min(1024)),
                        closed: false,
                    }),
                }),
            }),
        })
    }

    /// A pool of [`stack_traits::default_size`](crate::stack_traits::default_size)
    /// stacks.
    ///
    /// # Errors
    /// As [`new`](StackPool::new).
    pub fn with_default_size(capacity: usize) -> Result<Self, StackError> {
        Self::new(crate::stack_traits::default_size(), capacity)
    }

    fn shared(&self) -> &Arc<PoolShared> {
        &self.handle.shared
    }

    /// A cached stack, or a newly mapped one when the cache is empty.
    ///
    /// # Errors
    /// `StackError::Os` when a new mapping is needed and `mmap` fails.
    #[inline]
    pub fn get(&self) -> Result<PooledStack, StackError> {
        let cached = self.shared().state().free.pop();
        let entry = match cached {
            Some(entry) => entry,
            None => self.shared().new_entry()?,
        };
        Ok(PooledStack {
            entry: ManuallyDrop::new(entry),
        })
    }

    /// Maps stacks until the cache holds `count` of them (at most
    /// `capacity`), so later [`get`](StackPool::get)s make no system call.
    ///
    /// # Errors
    /// `StackError::Os` when `mmap` fails (the stacks made so far stay).
    pub fn prefill(&self, count: usize) -> Result<(), StackError> {
        let want = count.min(self.shared().capacity);
        while self.cached() < want {
            let entry = self.shared().new_entry()?;
            self.shared().state().free.push(entry);
        }
        Ok(())
    }

    /// Usable bytes requested for each stack.
    pub fn stack_size(&self) -> usize {
        self.shared().stack_size
    }

    /// The most unused stacks the pool keeps.
    pub fn capacity(&self) -> usize {
        self.shared().capacity
    }

    /// Unused stacks currently cached.
    pub fn cached(&self) -> usize {
        self.shared().state().free.len()
    }
}

/// A stack borrowed from a [`StackPool`]; returns to the pool when dropped.
#[derive(Debug)]
pub struct PooledStack {
    entry: ManuallyDrop<Entry>,
}

// SAFETY: forwards to the protected stack, which upholds the contract; the
// memory stays the same for as long as this value lives.
unsafe impl Stack for PooledStack {
    #[inline]
    fn top(&self) -> NonNull<u8> {
        self.entry.stack.top()
    }

    #[inline]
    fn bottom(&self) -> NonNull<u8> {
        self.entry.stack.bottom()
    }

    fn guard_size(&self) -> usize {
        self.entry.stack.guard_size()
    }
}

impl Drop for PooledStack {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `entry` is never used again after this take.
        let entry = unsafe { ManuallyDrop::take(&mut self.entry) };
        // Our own reference keeps the pool's mutex alive until the unlock
        // has finished: once `entry` is in the cache another thread may take
        // it and drop the last other reference.
        let pool = Arc::clone(&entry.pool);
        let mut state = pool.state();
        if !state.closed && state.free.len() < pool.capacity {
            state.free.push(entry);
        } else {
            // Unmap outside the lock.
            drop(state);
            drop(entry);
        }
    }
}
