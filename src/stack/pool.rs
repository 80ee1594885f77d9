//! `StackPool`: a bounded, thread-safe cache of protected stacks.

use super::{ProtectedStack, Stack, StackError};
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};

/// A cache of equally sized [`ProtectedStack`]s. [`get`](StackPool::get)
/// hands out a cached stack when there is one (no system call) and maps a new
/// one otherwise; a [`PooledStack`] goes back into the cache when dropped,
/// unless the cache already holds `capacity` stacks, in which case it is
/// unmapped.
///
/// The pool is a cheap handle (`Clone` shares the same cache) and may be
/// used from any thread. Reused stacks keep the pages their previous user
/// touched committed; that is the price of skipping `mmap`.
#[derive(Clone, Debug)]
pub struct StackPool {
    inner: Arc<PoolInner>,
}

#[derive(Debug)]
struct PoolInner {
    stack_size: usize,
    capacity: usize,
    free: Mutex<Vec<ProtectedStack>>,
}

impl PoolInner {
    fn free(&self) -> MutexGuard<'_, Vec<ProtectedStack>> {
        // Nothing panics while the lock is held, but a poisoned list of
        // stacks is still a valid list of stacks.
        self.free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
            inner: Arc::new(PoolInner {
                stack_size,
                capacity,
                free: Mutex::new(Vec::with_capacity(capacity.min(1024))),
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

    /// A cached stack, or a newly mapped one when the cache is empty.
    ///
    /// # Errors
    /// `StackError::Os` when a new mapping is needed and `mmap` fails.
    pub fn get(&self) -> Result<PooledStack, StackError> {
        let cached = self.inner.free().pop();
        let stack = match cached {
            Some(stack) => stack,
            None => ProtectedStack::new(self.inner.stack_size)?,
        };
        Ok(PooledStack {
            stack: ManuallyDrop::new(stack),
            pool: Arc::clone(&self.inner),
        })
    }

    /// Maps stacks until the cache holds `count` of them (at most
    /// `capacity`), so later [`get`](StackPool::get)s make no system call.
    ///
    /// # Errors
    /// `StackError::Os` when `mmap` fails (the stacks made so far stay).
    pub fn prefill(&self, count: usize) -> Result<(), StackError> {
        let want = count.min(self.inner.capacity);
        while self.cached() < want {
            let stack = ProtectedStack::new(self.inner.stack_size)?;
            self.inner.free().push(stack);
        }
        Ok(())
    }

    /// Usable bytes requested for each stack.
    pub fn stack_size(&self) -> usize {
        self.inner.stack_size
    }

    /// The most unused stacks the pool keeps.
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// Unused stacks currently cached.
    pub fn cached(&self) -> usize {
        self.inner.free().len()
    }
}

/// A stack borrowed from a [`StackPool`]; returns to the pool when dropped.
#[derive(Debug)]
pub struct PooledStack {
    stack: ManuallyDrop<ProtectedStack>,
    pool: Arc<PoolInner>,
}

// SAFETY: forwards to the protected stack, which upholds the contract; the
// memory stays the same for as long as this value lives.
unsafe impl Stack for PooledStack {
    #[inline]
    fn top(&self) -> NonNull<u8> {
        self.stack.top()
    }

    #[inline]
    fn bottom(&self) -> NonNull<u8> {
        self.stack.bottom()
    }

    fn guard_size(&self) -> usize {
        self.stack.guard_size()
    }
}

impl Drop for PooledStack {
    fn drop(&mut self) {
        // SAFETY: `stack` is never used again after this take.
        let stack = unsafe { ManuallyDrop::take(&mut self.stack) };
        let mut free = self.pool.free();
        if free.len() < self.pool.capacity {
            free.push(stack);
        } else {
            // Unmap outside the lock.
            drop(free);
            drop(stack);
        }
    }
}
