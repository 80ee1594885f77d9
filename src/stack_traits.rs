//! Stack size limits, with the behaviour of Boost 1.74's
//! `boost::context::stack_traits` on Linux: the values, read once per
//! process from the OS layer (`sys`), that every stack type checks sizes
//! against.

use crate::sys;
use std::sync::OnceLock;

/// The hard `RLIMIT_STACK`, `None` when unlimited (or unreadable, which
/// Boost treats the same way).
fn stack_rlimit_max() -> Option<libc::rlim_t> {
    static LIMIT: OnceLock<Option<libc::rlim_t>> = OnceLock::new();
    *LIMIT.get_or_init(sys::stack_rlimit_max)
}

/// True when the hard `RLIMIT_STACK` limit is unlimited (read once per process).
pub fn is_unbounded() -> bool {
    stack_rlimit_max().is_none()
}

/// The system page size (read once per process).
pub fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| sys::page_size().unwrap_or(4096))
}

/// Boost's default stack size: 128 KiB.
pub fn default_size() -> usize {
    128 * 1024
}

/// The smallest stack a signal handler can run on: `sysconf(_SC_SIGSTKSZ)`
/// where glibc provides it (as Boost 1.74 built against glibc 2.34 or later
/// does), else the classic `MINSIGSTKSZ` of 2048 bytes.
pub fn minimum_size() -> usize {
    sys::sigstksz().unwrap_or(2048)
}

/// The hard `RLIMIT_STACK` limit in bytes; `usize::MAX` (`RLIM_INFINITY`)
/// when [`is_unbounded`] is true.
pub fn maximum_size() -> usize {
    stack_rlimit_max().map_or(usize::MAX, |max| usize::try_from(max).unwrap_or(usize::MAX))
}
