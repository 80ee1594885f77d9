//! Stack-overflow reporting for coroutine stacks.
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
//! * A **registry** of guard ranges. Every protected stack calls
//!   [`register`] when it is created and [`unregister`] when it is freed. The
//!   registry is a set of fixed-size slots, each protected by its own
//!   sequence counter, so the signal handler can read it without locks or
//!   allocation while other threads register and unregister stacks.
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

use core::cell::Cell;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::io;
use std::sync::OnceLock;

/// Slots per registry chunk.
const CHUNK_SLOTS: usize = 256;
/// Maximum number of chunks: 256 × 256 = 65,536 stacks can be registered at
/// once. A stack registered beyond that gets an empty [`Token`]: its overflow
/// is then reported like any other fault (by the previous handler).
const MAX_CHUNKS: usize = 256;

/// One registry entry. `seq` is odd while the owner writes the ranges; a
/// reader that sees the same even value before and after reading the ranges
/// has a consistent snapshot. `busy` says the slot is owned by a stack.
struct Slot {
    busy: AtomicBool,
    seq: AtomicUsize,
    guard_lo: AtomicUsize,
    guard_hi: AtomicUsize,
    stack_lo: AtomicUsize,
    stack_hi: AtomicUsize,
}

impl Slot {
    const fn empty() -> Slot {
        Slot {
            busy: AtomicBool::new(false),
            seq: AtomicUsize::new(0),
            guard_lo: AtomicUsize::new(0),
            guard_hi: AtomicUsize::new(0),
            stack_lo: AtomicUsize::new(0),
            stack_hi: AtomicUsize::new(0),
        }
    }

    /// Writes the four bounds under the slot's sequence counter. Only the
    /// slot's owner (who set `busy`) calls this, so writers never race.
    fn publish(&self, bounds: [usize; 4]) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // Orders the odd sequence number before the range stores.
        fence(Ordering::Release);
        self.guard_lo.store(bounds[0], Ordering::Relaxed);
        self.guard_hi.store(bounds[1], Ordering::Relaxed);
        self.stack_lo.store(bounds[2], Ordering::Relaxed);
        self.stack_hi.store(bounds[3], Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// A consistent snapshot of the bounds, or `None` while being written.
    fn read(&self) -> Option<[usize; 4]> {
        let before = self.seq.load(Ordering::Acquire);
        if before % 2 == 1 {
            return None;
        }
        let bounds = [
            self.guard_lo.load(Ordering::Relaxed),
            self.guard_hi.load(Ordering::Relaxed),
            self.stack_lo.load(Ordering::Relaxed),
            self.stack_hi.load(Ordering::Relaxed),
        ];
        // Orders the range loads before the second sequence load.
        fence(Ordering::Acquire);
        (self.seq.load(Ordering::Relaxed) == before).then_some(bounds)
    }
}

type Chunk = [Slot; CHUNK_SLOTS];

/// Chunks are allocated on demand (outside any signal handler) and never
/// freed, so the handler can follow these pointers at any time.
static CHUNKS: [AtomicPtr<Chunk>; MAX_CHUNKS] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_CHUNKS];
/// Where the next free-slot search starts (a hint only).
static NEXT_HINT: AtomicUsize = AtomicUsize::new(0);

fn chunk(index: usize) -> &'static Chunk {
    let cell = &CHUNKS[index];
    let existing = cell.load(Ordering::Acquire);
    if !existing.is_null() {
        // SAFETY: published chunks are leaked boxes that live forever.
        return unsafe { &*existing };
    }
    let fresh = Box::into_raw(Box::new([const { Slot::empty() }; CHUNK_SLOTS]));
    match cell.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: we just published it; it is never freed.
        Ok(_) => unsafe { &*fresh },
        Err(winner) => {
            // SAFETY: `fresh` was never shared.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: `winner` was published and lives forever.
            unsafe { &*winner }
        }
    }
}

/// Proof of a registration; pass it to [`unregister`] when the stack is freed.
/// An empty token (registry full) unregisters nothing.
#[derive(Debug)]
#[must_use = "a registered stack must be unregistered before its memory is freed"]
pub struct Token(Option<&'static Slot>);

impl core::fmt::Debug for Slot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Slot")
    }
}

/// Records that addresses `guard_lo..guard_hi` are the guard page(s) of the
/// stack whose usable memory is `stack_lo..stack_hi`. A fault in the guard
/// range is then reported as an overflow of that stack. Also makes sure the
/// calling thread has an alternate signal stack if the handler is installed.
///
/// Cheap (a few atomic operations); safe to call before or without
/// [`install_overflow_handler`].
pub fn register(guard_lo: usize, guard_hi: usize, stack_lo: usize, stack_hi: usize) -> Token {
    ensure_thread_altstack();
    let total = MAX_CHUNKS * CHUNK_SLOTS;
    let start = NEXT_HINT.load(Ordering::Relaxed) % total;
    for step in 0..total {
        let index = (start + step) % total;
        let slot = &chunk(index / CHUNK_SLOTS)[index % CHUNK_SLOTS];
        if slot
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            slot.publish([guard_lo, guard_hi, stack_lo, stack_hi]);
            NEXT_HINT.store(index + 1, Ordering::Relaxed);
            return Token(Some(slot));
        }
    }
    Token(None)
}

/// Forgets a registration made by [`register`]. Call it before the stack's
/// memory is unmapped, so a later mapping at the same address is not
/// mistaken for ours.
pub fn unregister(token: Token) {
    if let Some(slot) = token.0 {
        slot.publish([0; 4]);
        slot.busy.store(false, Ordering::Release);
    }
}

/// The registered stack `(stack_lo, stack_hi)` whose usable range holds
/// `addr`, for the ASan switch annotations (which need the bounds of the
/// stack a context lives on). A linear scan: only used in ASan builds.
#[cfg_attr(not(any(test, feature = "sanitize-address")), allow(dead_code))]
pub(crate) fn stack_containing(addr: usize) -> Option<(usize, usize)> {
    for cell in &CHUNKS {
        let chunk = cell.load(Ordering::Acquire);
        if chunk.is_null() {
            break;
        }
        // SAFETY: published chunks live forever.
        for slot in unsafe { &*chunk } {
            if let Some([_, _, slo, shi]) = slot.read() {
                if slo <= addr && addr < shi {
                    return Some((slo, shi));
                }
            }
        }
    }
    None
}

/// Finds the registered stack whose guard range holds `addr`:
/// `(stack_lo, stack_hi)`. Lock-free and allocation-free (signal-safe).
pub(crate) fn lookup(addr: usize) -> Option<(usize, usize)> {
    for cell in &CHUNKS {
        let chunk = cell.load(Ordering::Acquire);
        if chunk.is_null() {
            // Chunks are filled in order, so nothing follows a gap.
            break;
        }
        // SAFETY: published chunks live forever.
        for slot in unsafe { &*chunk } {
            if let Some([glo, ghi, slo, shi]) = slot.read() {
                if glo <= addr && addr < ghi {
                    return Some((slo, shi));
                }
            }
        }
    }
    None
}

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
        let disable = libc::stack_t {
            ss_sp: ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: plain system calls on this thread's own alternate stack,
        // which only this thread uses.
        unsafe {
            libc::sigaltstack(&disable, ptr::null_mut());
            let _ = crate::stack::unmap(base, self.size.get());
        }
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
    let mut current = MaybeUninit::<libc::stack_t>::uninit();
    // SAFETY: querying this thread's alternate stack.
    if unsafe { libc::sigaltstack(ptr::null(), current.as_mut_ptr()) } != 0 {
        return;
    }
    // SAFETY: filled by the successful call above.
    let current = unsafe { current.assume_init() };
    if current.ss_flags & libc::SS_DISABLE == 0 {
        // The thread has one already (Rust's std installs one per thread).
        return;
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
    let stack = libc::stack_t {
        // SAFETY: stays inside the mapping (above its guard page).
        ss_sp: unsafe { base.add(page) }.cast::<c_void>(),
        ss_flags: 0,
        ss_size: usable,
    };
    // SAFETY: the mapping is ours and outlives its use (see AltStack::drop).
    if unsafe { libc::sigaltstack(&stack, ptr::null_mut()) } != 0 {
        // SAFETY: our own unused mapping.
        let _ = unsafe { crate::stack::unmap(base, usable + page) };
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

    #[test]
    fn registry_lookup_and_unregister() {
        let a = register(0x1000_0000, 0x1000_1000, 0x1000_1000, 0x1002_0000);
        let b = register(0x2000_0000, 0x2000_2000, 0x2000_2000, 0x2004_0000);
        assert_eq!(lookup(0x1000_0000), Some((0x1000_1000, 0x1002_0000)));
        assert_eq!(lookup(0x1000_0fff), Some((0x1000_1000, 0x1002_0000)));
        assert_eq!(
            lookup(0x1000_1000),
            None,
            "the usable stack is not the guard"
        );
        assert_eq!(lookup(0x2000_1abc), Some((0x2000_2000, 0x2004_0000)));
        unregister(a);
        assert_eq!(lookup(0x1000_0010), None);
        assert_eq!(lookup(0x2000_0010), Some((0x2000_2000, 0x2004_0000)));
        unregister(b);
        assert_eq!(lookup(0x2000_0010), None);
    }

    #[test]
    fn registry_handles_concurrent_churn() {
        let threads: Vec<_> = (0..4usize)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..500usize {
                        let lo = 0x4000_0000 + (t * 10_000 + i) * 0x10_000;
                        let token = register(lo, lo + 0x1000, lo + 0x1000, lo + 0x8000);
                        assert_eq!(lookup(lo + 8), Some((lo + 0x1000, lo + 0x8000)));
                        unregister(token);
                        assert_eq!(lookup(lo + 8), None);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    // ---- Child-process tests: the child re-runs this test binary with
    // FCONTEXT_OVERFLOW_CHILD=<mode> and only `child_entry` does anything.

    const CHILD_ENV: &str = "FCONTEXT_OVERFLOW_CHILD";

    /// Recurses until the stack runs out (black_box keeps every frame).
    #[allow(unconditional_recursion)]
    fn recurse(depth: usize) -> usize {
        let frame = core::hint::black_box([depth; 32]);
        recurse(depth + 1) + frame[depth % 32]
    }

    unsafe extern "C" fn runaway(_: crate::raw::Transfer) {
        recurse(0);
    }

    /// Runs `runaway` on a fresh registered 64 KiB protected stack and
    /// returns (never, in practice) the stack range it would print.
    fn overflow_in_coroutine() {
        let page = crate::stack_traits::page_size();
        let size = 16 * page;
        let base = crate::stack::map_guarded(size).unwrap() as usize;
        let _token = register(base, base + page, base + page, base + size);
        println!(
            "RANGE 0x{:x}..0x{:x} {}",
            base + page,
            base + size,
            size - page
        );
        // SAFETY: a fresh context on our own stack; it never comes back.
        unsafe {
            let ctx = crate::raw::make_fcontext((base + size) as *mut c_void, size - page, runaway);
            crate::raw::jump_fcontext(ctx, ptr::null_mut());
        }
    }

    /// Reads an unregistered PROT_NONE page: an ordinary fault.
    fn plain_fault() {
        let page = crate::stack_traits::page_size();
        let base = crate::stack::map_guarded(2 * page).unwrap();
        // SAFETY: deliberately faulting read of our own PROT_NONE page.
        unsafe { ptr::read_volatile(base) };
    }

    extern "C" fn custom_previous(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut c_void) {
        let msg = b"previous handler ran\n";
        // SAFETY: async-signal-safe calls.
        unsafe {
            libc::write(libc::STDERR_FILENO, msg.as_ptr().cast(), msg.len());
            libc::_exit(42);
        }
    }

    fn set_disposition(signal: libc::c_int, target: usize, flags: libc::c_int) {
        // SAFETY: installing a valid disposition in a child process.
        unsafe {
            let mut action: libc::sigaction = core::mem::zeroed();
            action.sa_sigaction = target;
            action.sa_flags = flags;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(libc::sigaction(signal, &action, ptr::null_mut()), 0);
        }
    }

    #[test]
    fn child_entry() {
        let Ok(mode) = std::env::var(CHILD_ENV) else {
            return;
        };
        match mode.as_str() {
            "overflow" => {
                install_overflow_handler().unwrap();
                install_overflow_handler().unwrap(); // idempotent
                overflow_in_coroutine();
            }
            "overflow-foreign-thread" => {
                install_overflow_handler().unwrap();
                std::thread::spawn(|| {
                    // Act like a thread that std did not start: no
                    // alternate stack until the crate installs one.
                    let off = libc::stack_t {
                        ss_sp: ptr::null_mut(),
                        ss_flags: libc::SS_DISABLE,
                        ss_size: 0,
                    };
                    // SAFETY: disabling this thread's alternate stack.
                    assert_eq!(unsafe { libc::sigaltstack(&off, ptr::null_mut()) }, 0);
                    overflow_in_coroutine();
                })
                .join()
                .unwrap();
            }
            "fault-default" => {
                set_disposition(libc::SIGSEGV, libc::SIG_DFL, 0);
                install_overflow_handler().unwrap();
                plain_fault();
            }
            "fault-std" => {
                // The previous handler is std's own SA_SIGINFO handler.
                install_overflow_handler().unwrap();
                plain_fault();
            }
            "fault-custom" => {
                set_disposition(
                    libc::SIGSEGV,
                    custom_previous as *const () as usize,
                    libc::SA_SIGINFO,
                );
                install_overflow_handler().unwrap();
                plain_fault();
            }
            other => panic!("unknown child mode {other}"),
        }
        unreachable!("the child should have died");
    }

    fn run_child(mode: &str) -> std::process::Output {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "overflow::tests::child_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, mode)
            .output()
            .unwrap()
    }

    fn check_overflow_child(mode: &str) {
        use std::os::unix::process::ExitStatusExt;
        let out = run_child(mode);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let range = stdout
            .lines()
            .find_map(|l| Some(&l[l.find("RANGE ")? + 6..]))
            .expect("child printed its range");
        let (span, bytes) = range.split_once(' ').unwrap();
        let expected = format!("stack overflow in coroutine (stack {span}, {bytes} bytes)\n");
        assert!(
            stderr.contains(&expected),
            "stderr {stderr:?} lacks {expected:?}"
        );
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGABRT),
            "status {:?}",
            out.status
        );
    }

    #[test]
    fn overflow_is_reported_and_aborts() {
        check_overflow_child("overflow");
    }

    #[test]
    fn overflow_on_thread_without_altstack() {
        check_overflow_child("overflow-foreign-thread");
    }

    #[test]
    fn other_faults_reach_the_previous_handler() {
        use std::os::unix::process::ExitStatusExt;
        for mode in ["fault-default", "fault-std"] {
            let out = run_child(mode);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if cfg!(feature = "sanitize-address") && mode == "fault-std" {
                // Under ASan the handler before ours is ASan's: it reports
                // the fault and exits with status 1.
                assert!(stderr.contains("AddressSanitizer: SEGV"), "{stderr}");
                continue;
            }
            assert_eq!(
                out.status.signal(),
                Some(libc::SIGSEGV),
                "{mode}: {:?} {stderr}",
                out.status
            );
            assert!(
                !stderr.contains("stack overflow in coroutine"),
                "{mode}: {stderr}"
            );
        }
        let out = run_child("fault-custom");
        assert_eq!(out.status.code(), Some(42), "{:?}", out.status);
        assert!(String::from_utf8_lossy(&out.stderr).contains("previous handler ran"));
    }
}
