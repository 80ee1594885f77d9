//! The stack registry: every stack the crate makes (and every stack a user
//! registers through [`overflow::register`](crate::overflow::register)) is
//! recorded here with its usable range and its guard range, so that the
//! overflow reporter can tell a guard-page fault from any other fault and
//! the ASan hooks can find the bounds of the stack a context lives on.
//!
//! The registry is a set of fixed-size records, each protected by its own
//! sequence counter, so a signal handler can read it without locks or
//! allocation while other threads register and unregister stacks.
//! [`StackRegistration`] is the RAII value each stack type holds: it
//! registers the stack here and with Valgrind, and undoes both on drop.

use super::valgrind;
use core::ops::Range;
use core::ptr;
use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Records per registry chunk.
const CHUNK_RECORDS: usize = 256;
/// Maximum number of chunks: 256 × 256 = 65,536 stacks can be registered at
/// once. A stack registered beyond that gets an empty [`Token`]: its overflow
/// is then reported like any other fault (by the previous handler).
const MAX_CHUNKS: usize = 256;

/// One registry record (one registered stack, or free). `seq` is odd while the owner writes the ranges; a
/// reader that sees the same even value before and after reading the ranges
/// has a consistent snapshot. `busy` says the slot is owned by a stack.
struct Record {
    busy: AtomicBool,
    seq: AtomicUsize,
    guard_lo: AtomicUsize,
    guard_hi: AtomicUsize,
    stack_lo: AtomicUsize,
    stack_hi: AtomicUsize,
}

impl Record {
    const fn empty() -> Record {
        Record {
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

type Chunk = [Record; CHUNK_RECORDS];

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
    let fresh = Box::into_raw(Box::new([const { Record::empty() }; CHUNK_RECORDS]));
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
pub struct Token(Option<&'static Record>);

impl core::fmt::Debug for Record {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Record")
    }
}

/// Records that addresses `guard_lo..guard_hi` are the guard page(s) of the
/// stack whose usable memory is `stack_lo..stack_hi`. A fault in the guard
/// range is then reported as an overflow of that stack. Also makes sure the
/// calling thread has an alternate signal stack if the handler is installed
/// (see [`ensure_thread_altstack`](crate::overflow::ensure_thread_altstack)).
///
/// Cheap (a few atomic operations); safe to call before or without
/// [`install_overflow_handler`](crate::overflow::install_overflow_handler).
pub fn register(guard_lo: usize, guard_hi: usize, stack_lo: usize, stack_hi: usize) -> Token {
    if let Some(hook) = REGISTER_HOOK.get() {
        hook();
    }
    let total = MAX_CHUNKS * CHUNK_RECORDS;
    let start = NEXT_HINT.load(Ordering::Relaxed) % total;
    for step in 0..total {
        let index = (start + step) % total;
        let slot = &chunk(index / CHUNK_RECORDS)[index % CHUNK_RECORDS];
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

/// Run by every [`register`]. The overflow reporter (a layer above) sets it
/// when it is installed, so that each thread that makes a stack gets an
/// alternate signal stack; until then registering calls nothing.
static REGISTER_HOOK: OnceLock<fn()> = OnceLock::new();

/// Sets the function every [`register`] calls first (once per process;
/// later calls are ignored).
pub(crate) fn set_register_hook(hook: fn()) {
    let _ = REGISTER_HOOK.set(hook);
}

/// A stack known to Valgrind and to the registry (with its guard range, if
/// it has one, for the overflow reporter). Create one when a stack is
/// allocated; drop it before the memory is freed.
#[derive(Debug)]
pub(crate) struct StackRegistration {
    valgrind_id: usize,
    token: Option<Token>,
}

impl StackRegistration {
    /// Registers the usable stack `stack` (lowest address ..one past the
    /// highest) and its guard range `guard`, if any.
    pub(crate) fn new(stack: Range<usize>, guard: Option<Range<usize>>) -> Self {
        let valgrind_id = valgrind::stack_register(stack.clone());
        // Every stack goes into the registry: one with a guard so its
        // overflows are reported, one without (an empty guard range, which
        // no address matches) so ASan builds can find any context's stack
        // bounds from its address.
        let g = guard.unwrap_or(0..0);
        let token = Some(register(g.start, g.end, stack.start, stack.end));
        StackRegistration { valgrind_id, token }
    }

    /// The id Valgrind assigned (0 when not running under Valgrind).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn valgrind_id(&self) -> usize {
        self.valgrind_id
    }
}

impl Drop for StackRegistration {
    fn drop(&mut self) {
        valgrind::stack_deregister(self.valgrind_id);
        if let Some(token) = self.token.take() {
            unregister(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn registration_records_guard_and_bounds() {
        let stack = 0x5000_1000..0x5002_0000;
        let reg = StackRegistration::new(stack.clone(), Some(0x5000_0000..0x5000_1000));
        // The guard is what the overflow handler looks up ...
        assert_eq!(lookup(0x5000_0800), Some((stack.start, stack.end)));
        // ... the usable range is what the ASan hooks look up.
        assert_eq!(
            stack_containing(0x5001_0000),
            Some((stack.start, stack.end))
        );
        drop(reg);
        assert_eq!(lookup(0x5000_0800), None);
        assert_eq!(stack_containing(0x5001_0000), None);
        // Without a guard: bounds known, nothing reported as an overflow.
        let reg = StackRegistration::new(stack.clone(), None);
        assert_eq!(
            stack_containing(0x5001_0000),
            Some((stack.start, stack.end))
        );
        assert_eq!(lookup(0), None);
        assert_eq!(lookup(stack.start - 1), None);
        drop(reg);
    }
}
