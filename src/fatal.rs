//! The crate's one way to give up: print a message and abort the process.
//! Used where continuing would be unsound (frames that can neither be
//! resumed nor freed, a context on the wrong stack) and unwinding is not
//! possible (across a switch, out of an `extern "C"` entry).

/// Prints `message` to stderr and aborts the process.
#[cold]
pub(crate) fn abort_with(message: &str) -> ! {
    eprintln!("{message}");
    std::process::abort()
}
