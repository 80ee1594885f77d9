//! `FixedStack`: a stack from the global allocator, guarded by a page made
//! inaccessible with `mprotect`.

use super::registry::StackRegistration;
use super::{check_size, Stack, StackError};
use crate::stack_traits;
use crate::sys;
use core::ptr::NonNull;
use std::alloc::{alloc, dealloc, Layout};
use std::io;

/// A stack allocated with the global allocator, for programs that want
/// stack memory to come from (and be counted by) their allocator rather
/// than from `mmap`. The allocation is page aligned and its lowest page is
/// turned into a guard with `mprotect(PROT_NONE)`, so running off the
/// bottom faults exactly as on a [`ProtectedStack`](super::ProtectedStack);
/// the page is made writable again before the memory goes back to the
/// allocator. Unlike a `ProtectedStack`, the allocator may commit the
/// memory eagerly.
#[derive(Debug)]
pub struct FixedStack {
    /// Start of the allocation: the guard page.
    base: NonNull<u8>,
    /// The whole allocation, guard page included.
    layout: Layout,
    /// Valgrind stack id + overflow-reporter entry for the guard page.
    registration: Option<StackRegistration>,
}

// SAFETY: plain owned heap memory.
unsafe impl Send for FixedStack {}
// SAFETY: `&FixedStack` only reads the two addresses.
unsafe impl Sync for FixedStack {}

impl FixedStack {
    /// Allocates `size` usable bytes (rounded up to a multiple of 16) above
    /// a guard page.
    ///
    /// # Errors
    /// [`StackError`] for a size that is zero, below the minimum, above a
    /// bounded maximum, or that overflows when rounded; `StackError::Os`
    /// with `ENOMEM` when the allocator fails, or with `mprotect`'s error
    /// when the guard cannot be made.
    pub fn new(size: usize) -> Result<Self, StackError> {
        check_size(size)?;
        let page = stack_traits::page_size();
        let layout = size
            .checked_next_multiple_of(16)
            .and_then(|usable| usable.checked_add(page))
            .and_then(|total| Layout::from_size_align(total, page).ok())
            .ok_or(StackError::Overflow { requested: size })?;
        // SAFETY: the layout has a non-zero size.
        let base = NonNull::new(unsafe { alloc(layout) })
            .ok_or_else(|| StackError::Os(io::Error::from_raw_os_error(libc::ENOMEM)))?;
        // SAFETY: the first page of an allocation we just made, page aligned.
        if let Err(err) = unsafe { sys::protect(base.as_ptr(), page, true) } {
            // SAFETY: allocated above with this layout, never handed out.
            unsafe { dealloc(base.as_ptr(), layout) };
            return Err(StackError::Os(err));
        }
        let lo = base.as_ptr() as usize;
        let registration = Some(StackRegistration::new(
            lo + page..lo + layout.size(),
            Some(lo..lo + page),
        ));
        Ok(FixedStack {
            base,
            layout,
            registration,
        })
    }
}

// SAFETY: an exclusively owned allocation, page aligned with a size that is
// a multiple of 16 (so the top is 16-aligned), at least the checked minimum
// above the guard page, which stays `PROT_NONE` until drop.
unsafe impl Stack for FixedStack {
    #[inline]
    fn top(&self) -> NonNull<u8> {
        // SAFETY: one past the end of our allocation.
        unsafe { self.base.add(self.layout.size()) }
    }

    #[inline]
    fn bottom(&self) -> NonNull<u8> {
        // SAFETY: the guard page is the first page of the allocation.
        unsafe { self.base.add(stack_traits::page_size()) }
    }

    fn guard_size(&self) -> usize {
        stack_traits::page_size()
    }
}

impl Drop for FixedStack {
    fn drop(&mut self) {
        // Unregister before the memory can be reused.
        drop(self.registration.take());
        // SAFETY: our own guard page; no context runs on the stack any more.
        let unguarded =
            unsafe { sys::protect(self.base.as_ptr(), stack_traits::page_size(), false) };
        if unguarded.is_ok() {
            // SAFETY: allocated in `new` with this layout.
            unsafe { dealloc(self.base.as_ptr(), self.layout) };
        }
        // Otherwise the allocator would meet an inaccessible page: leaking
        // the allocation is the only safe reply.
    }
}
