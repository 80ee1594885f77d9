//! `ProtectedStack`: an anonymous mapping with a `PROT_NONE` guard page.

use super::registry::StackRegistration;
use super::{check_size, Stack, StackError};
use crate::stack_traits;
use crate::sys;
use core::ptr::NonNull;

/// A stack in its own anonymous mapping, with an inaccessible guard page
/// below it, so running off the bottom faults instead of overwriting other
/// memory (see [`overflow`](crate::overflow) for a readable report).
///
/// The mapping is made with `MAP_NORESERVE` and never touched by the crate
/// except for the few hundred bytes of the initial frame, so the kernel
/// commits pages only as the context actually uses them: a 1 MiB stack
/// whose context uses 8 KiB costs about 8 KiB of memory.
#[derive(Debug)]
pub struct ProtectedStack {
    /// Lowest address of the mapping (the guard page).
    base: NonNull<u8>,
    /// Whole mapping, guard page included.
    mapping: usize,
    /// Valgrind stack id + overflow-reporter entry (see `registry`);
    /// dropped (unregistered) before the mapping goes away.
    registration: Option<StackRegistration>,
}

// SAFETY: the value only owns a mapping; nothing about it is tied to the
// thread that made it.
unsafe impl Send for ProtectedStack {}
// SAFETY: `&ProtectedStack` only reads the two addresses.
unsafe impl Sync for ProtectedStack {}

impl ProtectedStack {
    /// Maps a stack with at least `size` usable bytes (rounded up to whole
    /// pages) plus one guard page.
    ///
    /// # Errors
    /// [`StackError`] for a size that is zero, below
    /// [`stack_traits::minimum_size`], above a bounded
    /// [`stack_traits::maximum_size`], or that overflows when rounded; or
    /// when `mmap` fails.
    pub fn new(size: usize) -> Result<Self, StackError> {
        let mapping = Self::mapping_for(size)?;
        let page = stack_traits::page_size();
        let base = super::map_guarded(mapping).map_err(StackError::Os)?;
        let base = NonNull::new(base).expect("mmap returned a null mapping");
        let lo = base.as_ptr() as usize;
        // Tell Valgrind this is a stack and the overflow reporter where its
        // guard page is.
        let registration = Some(StackRegistration::new(
            lo + page..lo + mapping,
            Some(lo..lo + page),
        ));
        Ok(ProtectedStack {
            base,
            mapping,
            registration,
        })
    }

    /// The mapping size `new(size)` would use, or why `size` is refused.
    pub(crate) fn mapping_for(size: usize) -> Result<usize, StackError> {
        check_size(size)?;
        let page = stack_traits::page_size();
        size.checked_next_multiple_of(page)
            .and_then(|usable| usable.checked_add(page))
            .filter(|&m| m <= isize::MAX as usize)
            .ok_or(StackError::Overflow { requested: size })
    }

    /// A stack of [`stack_traits::default_size`] (128 KiB).
    ///
    /// # Errors
    /// When `mmap` fails, or when a bounded `RLIMIT_STACK` is below the
    /// default size.
    pub fn with_default_size() -> Result<Self, StackError> {
        Self::new(stack_traits::default_size())
    }

    /// Size of the whole mapping, guard page included.
    pub fn mapping_size(&self) -> usize {
        self.mapping
    }
}

// SAFETY: the mapping is ours alone, page aligned (so the top is 16-aligned),
// and lives until drop; bottom is the first byte above the guard page and the
// usable size is at least the checked minimum.
unsafe impl Stack for ProtectedStack {
    #[inline]
    fn top(&self) -> NonNull<u8> {
        // SAFETY: one past the end of our mapping.
        unsafe { self.base.add(self.mapping) }
    }

    #[inline]
    fn bottom(&self) -> NonNull<u8> {
        // SAFETY: the guard page is the first page of the mapping.
        unsafe { self.base.add(stack_traits::page_size()) }
    }

    fn guard_size(&self) -> usize {
        stack_traits::page_size()
    }
}

impl Drop for ProtectedStack {
    fn drop(&mut self) {
        // Unregister first, so no tool ever sees a freed range as ours.
        drop(self.registration.take());
        // SAFETY: our own mapping; the owner of the stack guarantees no
        // context runs on it any more. A failing munmap can only mean the
        // mapping is not ours, which cannot happen; leaking is the safe reply.
        let _ = unsafe { sys::unmap(self.base.as_ptr(), self.mapping) };
    }
}
