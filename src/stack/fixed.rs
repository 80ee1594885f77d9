//! `FixedStack`: a stack from the global allocator, without a guard page.

use super::{check_size, Stack, StackError};
use core::ptr::NonNull;
use std::alloc::{alloc, dealloc, Layout};
use std::io;

/// A stack allocated with the global allocator. There is no guard page: a
/// context that overflows it silently overwrites whatever lies below, so
/// prefer [`ProtectedStack`](super::ProtectedStack) unless `mmap` is not an
/// option. Allocation is eager (the allocator may or may not touch the
/// pages).
#[derive(Debug)]
pub struct FixedStack {
    base: NonNull<u8>,
    layout: Layout,
    /// Valgrind stack id (tools helper's seam); no guard page to report.
    registration: Option<crate::tools::StackRegistration>,
}

// SAFETY: plain owned heap memory.
unsafe impl Send for FixedStack {}
// SAFETY: `&FixedStack` only reads the two addresses.
unsafe impl Sync for FixedStack {}

impl FixedStack {
    /// Allocates `size` usable bytes (rounded up to a multiple of 16).
    ///
    /// # Errors
    /// [`StackError`] for a size that is zero, below the minimum, above a
    /// bounded maximum, or that overflows when rounded; `StackError::Os`
    /// with `ENOMEM` when the allocator fails.
    pub fn new(size: usize) -> Result<Self, StackError> {
        check_size(size)?;
        let layout = size
            .checked_next_multiple_of(16)
            .and_then(|rounded| Layout::from_size_align(rounded, 16).ok())
            .ok_or(StackError::Overflow { requested: size })?;
        // SAFETY: the layout has a non-zero size (checked above).
        let base = NonNull::new(unsafe { alloc(layout) })
            .ok_or_else(|| StackError::Os(io::Error::from_raw_os_error(libc::ENOMEM)))?;
        let lo = base.as_ptr() as usize;
        let registration = Some(crate::tools::StackRegistration::new(
            lo..lo + layout.size(),
            None,
        ));
        Ok(FixedStack {
            base,
            layout,
            registration,
        })
    }
}

// SAFETY: an exclusively owned allocation, 16-aligned with a size that is a
// multiple of 16 (so the top is 16-aligned), at least the checked minimum,
// freed only on drop.
unsafe impl Stack for FixedStack {
    #[inline]
    fn top(&self) -> NonNull<u8> {
        // SAFETY: one past the end of our allocation.
        unsafe { self.base.add(self.layout.size()) }
    }

    #[inline]
    fn bottom(&self) -> NonNull<u8> {
        self.base
    }
}

impl Drop for FixedStack {
    fn drop(&mut self) {
        // Unregister before the memory can be reused.
        drop(self.registration.take());
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.base.as_ptr(), self.layout) };
    }
}
