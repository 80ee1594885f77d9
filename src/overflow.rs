//! Stack-overflow reporting for coroutine stacks: the signal handler and
//! the per-thread alternate signal stacks it runs on.
//!
//! A coroutine that recurses too deeply runs into the `PROT_NONE` guard page
//! at the bottom of its [`ProtectedStack`](crate::stack::ProtectedStack) and
//! the kernel sends `SIGSEGV` (or `SIGBUS`). Without help that is a bare
//! "Segmentation fault". [`install_overflow_handler`] installs a handler that
//! recognises a fault inside the guard page of one of *our* stacks and prints
//!
//! ```text
//! stack overflow in coroutine (stack 0x7f3a1c000000..0x7f3a1c020000, 131072 bytes)
//! ```
//!
//! to stderr, then aborts (`SIGABRT`). Any other fault is passed on to the
//! handler that was installed before ours (for a Rust program that is the
//! standard library's own stack-overflow reporter). When there was none
//! (`SIG_DFL`), or the signal was ignored (`SIG_IGN`, e.g. inherited across
//! `exec`), the process dies by the original signal, as the kernel would
//! have killed it without us; only a signal sent by another process or by
//! `raise` stays ignored.
//!
//! # Pieces
//! * The **stack registry** (`stack::registry`),
//!   which this module reads: every stack of the crate is registered with
//!   its guard range when it is created and unregistered when it is freed;
//!   [`register`] and [`unregister`] (re-exported here) do the same for
//!   stacks the crate did not make. The handler reads it without locks or
//!   allocation.
//! * An **alternate signal stack** per thread. When a coroutine overflows,
//!   its stack pointer sits in the guard page, so the kernel cannot push the
//!   signal frame there; the handler must run on a `sigaltstack`. Threads
//!   started by Rust's `std::thread` already have one (the standard library
//!   installs it). For every other thread the crate installs one lazily with
//!   [`ensure_thread_altstack`], which is called for the calling thread by
//!   [`install_overflow_handler`], by [`register`] (i.e. whenever a stack is
//!   created on a thread) and on every [`Coroutine`](crate::Coroutine)
//!   resume (by the coroutine, as it receives control, before its body
//!   continues). A thread that only switches through [`Fiber`](crate::Fiber)s
//!   or the raw API, never made a stack and was not started by `std`, calls
//!   it itself. It is freed by a
//!   thread-local destructor when the thread exits. Before the handler is
//!   installed, the check costs one relaxed atomic load.
//! * The **handler** itself only calls async-signal-safe functions:
//!   `write(2)` with a hand-formatted message, `sigaction`, `raise` and
//!   `abort`.

use crate::stack::registry::{self, lookup};
use crate::sys;
use core::cell::Cell;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use std::io;
use std::sync::OnceLock;

pub use crate::stack::registry::{register, unregister, Token};

// ---------------------------------------------------------------------------
// Alternate signal stacks.

/// Set once the handler is installed; until then no thread needs an
/// alternate stack from us.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A `sigaltstack` mapping this thread installed; unmapped at thread exit.
struct AltStack {
    base: Cell<*mut u8>,
    size: Cell<usize>,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let base = self.base.get();
        if base.is_null() {
            return;
        }
        // Disable it first: the kernel must never deliver a signal onto
        // memory we are about to unmap.
        sys::disable_altstack();
        // SAFETY: this thread's own former alternate stack, which only this
        // thread used and no signal is delivered onto any more.
        let _ = unsafe { sys::unmap(base, self.size.get()) };
    }
}

thread_local! {
    static ALTSTACK: AltStack = const { AltStack { base: Cell::new(ptr::null_mut()), size: Cell::new(0) } };
    static ALTSTACK_CHECKED: Cell<bool> = const { Cell::new(false) };
}

/// Makes sure the calling thread can run the overflow handler: if the
/// handler is installed and the thread has no alternate signal stack, maps
/// one (with a guard page) and installs it. Called automatically when a
/// stack is registered, when the handler is installed and on every
/// [`Coroutine`](crate::Coroutine) resume (on the coroutine's side of the
/// switch, before its body continues); call it yourself on a thread
/// that was not started by `std`, made no stack, and switches through
/// fibers or the raw API. Costs one relaxed atomic load while
/// the handler is not installed, and one thread-local read after the first
/// call on a thread.
#[inline]
pub fn ensure_thread_altstack() {
    if INSTALLED.load(Ordering::Relaxed) {
        install_altstack_once();
    }
}

#[cold]
fn install_altstack_once() {
    if ALTSTACK_CHECKED.with(Cell::get) {
        return;
    }
    ALTSTACK_CHECKED.with(|c| c.set(true));
    match sys::has_altstack() {
        // The thread has one already (Rust's std installs one per thread).
        Some(true) => return,
        Some(false) => {}
        None => return,
    }
    let page = crate::stack_traits::page_size();
    let min = crate::stack_traits::minimum_size();
    // Room for the kernel's signal frame (large with AVX-512 state) and our
    // handler, rounded to pages, plus the guard page.
    let usable = min.max(16 * 1024).div_ceil(page) * page;
    let Ok(base) = crate::stack::map_guarded(usable + page) else {
        // Out of memory: overflows on this thread fall back to a plain crash.
        return;
    };
    // SAFETY: the usable part of a mapping that is ours alone (above its
    // guard page) and outlives its use (see AltStack::drop).
    if unsafe { sys::set_altstack(base.add(page), usable) }.is_err() {
        // SAFETY: our own unused mapping.
        let _ = unsafe { sys::unmap(base, usable + page) };
        return;
    }
    ALTSTACK.with(|alt| {
        alt.base.set(base);
        alt.size.set(usable + page);
    });
}

// ---------------------------------------------------------------------------
// The handler.

/// Dispositions in place before ours, for SIGSEGV and SIGBUS. Written once
/// before our handler is installed, only read afterwards.
struct Previous([core::cell::UnsafeCell<MaybeUninit<libc::sigaction>>; 2]);
// SAFETY: written once under `INSTALL` before any reader can exist.
unsafe impl Sync for Previous {}
static PREVIOUS: Previous = Previous([
    core::cell::UnsafeCell::new(MaybeUninit::uninit()),
    core::cell::UnsafeCell::new(MaybeUninit::uninit()),
]);
const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

static INSTALL: OnceLock<Result<(), i32>> = OnceLock::new();

/// Installs the stack-overflow handler for `SIGSEGV` and `SIGBUS` (once per
/// process; later calls return the first call's result) and gives the
/// calling thread an alternate signal stack if it has none.
///
/// After this, a fault in the guard page of a registered coroutine stack
/// prints `stack overflow in coroutine (stack <lo>..<hi>, <N> bytes)` to
/// stderr and aborts; other faults go to the previously installed handler,
/// or, if the previous action was `SIG_DFL` or `SIG_IGN`, kill the process
/// with the signal (what the kernel does with such a fault without us).
///
/// # Errors
/// The `sigaction` error if the handler could not be installed.
pub fn install_overflow_handler() -> io::Result<()> {
    let result = *INSTALL.get_or_init(|| {
        // Every thread that makes a stack gets an alternate signal stack
        // once the handler is in place: the registry calls this on each
        // registration (it checks `INSTALLED` itself).
        registry::set_register_hook(ensure_thread_altstack);
        for (index, &signal) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed sigaction is a valid "query" buffer; the
            // previous-action slot is written before our handler can run,
            // which is the only reader.
            unsafe {
                let mut action: libc::sigaction = core::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let old = (*PREVIOUS.0[index].get()).as_mut_ptr();
                if libc::sigaction(signal, ptr::null(), old) != 0
                    || libc::sigaction(signal, &action, ptr::null_mut()) != 0
                {
                    return Err(io::Error::last_os_error()
                        .raw_os_error()
                        .unwrap_or(libc::EINVAL));
                }
            }
        }
        INSTALLED.store(true, Ordering::Release);
        Ok(())
    });
    ensure_thread_altstack();
    result.map_err(io::Error::from_raw_os_error)
}

/// Appends `value` as `0x…` lowercase hex.
fn push_hex(buf: &mut Buf, value: usize) {
    buf.push(b"0x");
    let digits = (usize::BITS - value.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        buf.push(&[b"0123456789abcdef"[(value >> (shift * 4)) & 0xf]]);
    }
}

/// Appends `value` in decimal.
fn push_dec(buf: &mut Buf, mut value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    buf.push(&digits[at..]);
}

/// A fixed-size message buffer (no allocation in the handler).
struct Buf {
    bytes: [u8; 128],
    len: usize,
}

impl Buf {
    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }
}

/// The overflow message for the stack `lo..hi`.
fn format_message(lo: usize, hi: usize) -> Buf {
    let mut buf = Buf {
        bytes: [0; 128],
        len: 0,
    };
    buf.push(b"stack overflow in coroutine (stack ");
    push_hex(&mut buf, lo);
    buf.push(b"..");
    push_hex(&mut buf, hi);
    buf.push(b", ");
    push_dec(&mut buf, hi - lo);
    buf.push(b" bytes)\n");
    buf
}

extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // Only a fault the kernel raised (si_code > 0) has a meaningful address;
    // for kill(2)/raise(3) the field holds a pid.
    let overflow = if code > 0 { lookup(addr) } else { None };
    if let Some((lo, hi)) = overflow {
        let msg = format_message(lo, hi);
        // SAFETY: write(2) and abort(3) are async-signal-safe.
        unsafe {
            libc::write(libc::STDERR_FILENO, msg.bytes.as_ptr().cast(), msg.len);
            libc::abort();
        }
    }
    let index = usize::from(signal == libc::SIGBUS);
    // SAFETY: written before our handler was installed, never again.
    let previous = unsafe { (*PREVIOUS.0[index].get()).assume_init_ref() };
    let target = previous.sa_sigaction;
    if target == libc::SIG_IGN && code <= 0 {
        // Sent by kill(2), sigqueue(3) or raise(3) while the program had the
        // signal ignored: ignoring it is what would have happened without us.
        return;
    }
    if target == libc::SIG_IGN || target == libc::SIG_DFL {
        // Without us the kernel would kill the process with this signal: by
        // the default action, and for a fault also when the signal was
        // ignored (it forces the default action on a synchronous fault it
        // cannot deliver). Our handler stands in the way of both, so put
        // the default back and raise the signal: it is delivered, and kills
        // the process, as soon as the handler returns (before that, for a
        // fault, the instruction would fault again under the default). A
        // handler that merely returned while the previous action was
        // SIG_IGN would re-run the faulting instruction into this handler
        // for ever.
        // SAFETY: a zeroed sigaction with an empty mask is SIG_DFL;
        // sigemptyset, sigaction and raise are async-signal-safe.
        unsafe {
            let mut default: libc::sigaction = core::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut default.sa_mask);
            libc::sigaction(signal, &default, ptr::null_mut());
            libc::raise(signal);
        }
        return;
    }
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: a SA_SIGINFO handler has this signature.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
            unsafe { core::mem::transmute(target) };
        f(signal, info, context);
    } else {
        // SAFETY: a plain handler has this signature.
        let f: extern "C" fn(libc::c_int) = unsafe { core::mem::transmute(target) };
        f(signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_format() {
        let msg = format_message(0x7f00_0000_1000, 0x7f00_0002_1000);
        assert_eq!(
            core::str::from_utf8(&msg.bytes[..msg.len]).unwrap(),
            "stack overflow in coroutine (stack 0x7f0000001000..0x7f0000021000, 131072 bytes)\n"
        );
        let msg = format_message(0, 9);
        assert_eq!(
            core::str::from_utf8(&msg.bytes[..msg.len]).unwrap(),
            "stack overflow in coroutine (stack 0x0..0x9, 9 bytes)\n"
        );
    }
}
