//! Stack memory: guarded anonymous mappings.

use std::io;

/// Maps `bytes` (a multiple of the page size, at least two pages) of
/// read/write anonymous memory and turns its lowest page into a `PROT_NONE`
/// guard. Returns the base (lowest address) of the mapping.
pub(crate) fn map_guarded(bytes: usize) -> io::Result<*mut u8> {
    let page = crate::stack_traits::page_size();
    debug_assert!(bytes.is_multiple_of(page) && bytes >= 2 * page);
    // SAFETY: a fresh anonymous mapping aliases nothing.
    let base = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the first page belongs to the mapping made above.
    if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
        let err = io::Error::last_os_error();
        // SAFETY: undoing our own mapping.
        unsafe { libc::munmap(base, bytes) };
        return Err(err);
    }
    Ok(base.cast())
}

/// Makes the page-aligned range `base..base + bytes` inaccessible
/// (`guard`) or readable and writable again.
///
/// # Safety
/// The range is memory this crate owns exclusively (for example the start
/// of an allocation it made) and nothing else is using it.
pub(crate) unsafe fn protect(base: *mut u8, bytes: usize, guard: bool) -> io::Result<()> {
    let prot = if guard {
        libc::PROT_NONE
    } else {
        libc::PROT_READ | libc::PROT_WRITE
    };
    // SAFETY: per the caller's promise.
    if unsafe { libc::mprotect(base.cast(), bytes, prot) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Unmaps a region made by [`map_guarded`].
///
/// # Safety
/// `base..base + bytes` must be a mapping of ours that nothing uses any more.
pub(crate) unsafe fn unmap(base: *mut u8, bytes: usize) -> io::Result<()> {
    // SAFETY: per the caller's promise.
    if unsafe { libc::munmap(base.cast(), bytes) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets the calling thread's `errno`.
pub(crate) fn set_errno(value: i32) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = value };
}
