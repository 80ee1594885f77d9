//! Stack size limits, with the behaviour of Boost 1.74's
//! `boost::context::stack_traits` on Linux.

use std::sync::OnceLock;

fn stack_rlimit_max() -> libc::rlim_t {
    static LIMIT: OnceLock<libc::rlim_t> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass.
        if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) } != 0 {
            return libc::RLIM_INFINITY;
        }
        limit.rlim_max
    })
}

/// True when the hard `RLIMIT_STACK` limit is unlimited (read once per process).
pub fn is_unbounded() -> bool {
    stack_rlimit_max() == libc::RLIM_INFINITY
}

/// The system page size (read once per process).
pub fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(page)
            .ok()
            .filter(|&p| p > 0)
            .unwrap_or(4096)
    })
}

/// Boost's default stack size: 128 KiB.
pub fn default_size() -> usize {
    128 * 1024
}

/// The smallest stack a signal handler can run on: `sysconf(_SC_SIGSTKSZ)`
/// where glibc provides it (as Boost 1.74 built against glibc 2.34 or later
/// does), else the classic `MINSIGSTKSZ` of 2048 bytes.
pub fn minimum_size() -> usize {
    // glibc's _SC_SIGSTKSZ; older C libraries reject it with -1.
    const SC_SIGSTKSZ: libc::c_int = 250;
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(SC_SIGSTKSZ) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(2048)
}

/// The hard `RLIMIT_STACK` limit in bytes; `usize::MAX` (`RLIM_INFINITY`)
/// when [`is_unbounded`] is true.
pub fn maximum_size() -> usize {
    usize::try_from(stack_rlimit_max()).unwrap_or(usize::MAX)
}
