//! Linux (glibc or musl) system calls for the layers above: guarded
//! anonymous mappings, page protection, `errno`, `sysconf`, the hard stack
//! rlimit, the calling thread's stack bounds and its alternate signal
//! stack. Plain wrappers: no policy, no caching (callers cache).

use core::ffi::c_void;
use core::ptr;
use std::io;

/// The system page size (`sysconf(_SC_PAGESIZE)`), or `None` if the C
/// library does not say.
pub(crate) fn page_size() -> Option<usize> {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).ok().filter(|&p| p > 0)
}

/// `sysconf(_SC_SIGSTKSZ)`: the signal stack size the kernel and C library
/// need, or `None` where the C library does not know the name (glibc
/// before 2.34, musl).
pub(crate) fn sigstksz() -> Option<usize> {
    // glibc's _SC_SIGSTKSZ (not in the libc crate); older C libraries reject
    // it with -1.
    const SC_SIGSTKSZ: libc::c_int = 250;
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(SC_SIGSTKSZ) };
    usize::try_from(size).ok().filter(|&s| s > 0)
}

/// The hard `RLIMIT_STACK` limit; `None` when unlimited or unreadable.
pub(crate) fn stack_rlimit_max() -> Option<libc::rlim_t> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) } != 0
        || limit.rlim_max == libc::RLIM_INFINITY
    {
        return None;
    }
    Some(limit.rlim_max)
}

/// Maps `bytes` (a multiple of the page size `page`, at least two pages) of
/// read/write anonymous memory, reserving no swap (`MAP_NORESERVE`: the
/// kernel commits pages as they are touched), and turns its lowest page
/// into a `PROT_NONE` guard. Returns the base (lowest address).
pub(crate) fn map_guarded(bytes: usize, page: usize) -> io::Result<*mut u8> {
    debug_assert!(bytes.is_multiple_of(page) && bytes >= 2 * page);
    // SAFETY: a fresh anonymous mapping aliases nothing.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
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

/// The address of the global symbol `name` in the running program (any
/// loaded object, `dlsym(RTLD_DEFAULT, ..)`), or null when there is none.
pub(crate) fn find_symbol(name: &core::ffi::CStr) -> *mut core::ffi::c_void {
    // SAFETY: dlsym takes any NUL-terminated name; RTLD_DEFAULT searches the
    // global scope and never unloads anything.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

/// Sets the calling thread's `errno`.
pub(crate) fn set_errno(value: i32) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = value };
}

/// The calling thread's own stack `(lowest address, size)`
/// (`pthread_getattr_np`), or `None` if the C library cannot tell. May read
/// `/proc` for the main thread: not for hot paths.
pub(crate) fn thread_stack_bounds() -> Option<(usize, usize)> {
    let mut attr = core::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut addr = ptr::null_mut();
    let mut size = 0;
    // SAFETY: pthread_getattr_np initialises `attr` on success; we read the
    // stack range and destroy it.
    let ok = unsafe {
        libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) == 0 && {
            let ok = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size) == 0;
            libc::pthread_attr_destroy(attr.as_mut_ptr());
            ok
        }
    };
    ok.then_some((addr as usize, size))
}

/// Whether the calling thread has an enabled alternate signal stack, or
/// `None` if `sigaltstack` fails.
pub(crate) fn has_altstack() -> Option<bool> {
    let mut current = core::mem::MaybeUninit::<libc::stack_t>::uninit();
    // SAFETY: querying this thread's alternate stack.
    if unsafe { libc::sigaltstack(ptr::null(), current.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: filled by the successful call above.
    let current = unsafe { current.assume_init() };
    Some(current.ss_flags & libc::SS_DISABLE == 0)
}

/// Makes `sp..sp + size` the calling thread's alternate signal stack.
///
/// # Safety
/// The memory is writable, used for nothing else, and stays mapped until
/// [`disable_altstack`] is called on this thread.
pub(crate) unsafe fn set_altstack(sp: *mut u8, size: usize) -> io::Result<()> {
    let stack = libc::stack_t {
        ss_sp: sp.cast::<c_void>(),
        ss_flags: 0,
        ss_size: size,
    };
    // SAFETY: per the caller.
    if unsafe { libc::sigaltstack(&stack, ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Disables the calling thread's alternate signal stack, so no signal is
/// delivered onto its memory any more.
pub(crate) fn disable_altstack() {
    let disable = libc::stack_t {
        ss_sp: ptr::null_mut(),
        ss_flags: libc::SS_DISABLE,
        ss_size: 0,
    };
    // SAFETY: disabling this thread's alternate stack touches no memory.
    unsafe { libc::sigaltstack(&disable, ptr::null_mut()) };
}
