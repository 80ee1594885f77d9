//! The shared run stack: one guarded mapping on which many copy-stack
//! coroutines take turns, plus the bookkeeping of whose bytes it holds.

use super::task::Claim;
use crate::raw::FcontextT;
use core::cell::Cell;
use core::fmt;
use core::ptr;
use std::io;
use std::rc::Rc;

/// Why a [`SharedStack`] could not be made.
#[derive(Debug)]
pub enum SharedStackError {
    /// The requested usable size is below [`SharedStack::MIN_SIZE`].
    TooSmall {
        /// The size that was asked for.
        requested: usize,
    },
    /// The requested size (plus the guard page) exceeds 4 GiB - 1, the
    /// most a coroutine's saved size is recorded in.
    TooLarge {
        /// The size that was asked for.
        requested: usize,
    },
    /// The kernel refused the mapping.
    Map(io::Error),
}

impl fmt::Display for SharedStackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooSmall { requested } => write!(
                f,
                "shared stack of {requested} bytes is too small (minimum {} bytes)",
                SharedStack::MIN_SIZE
            ),
            Self::TooLarge { requested } => {
                write!(f, "shared stack of {requested} bytes is too large")
            }
            Self::Map(err) => write!(f, "cannot map a shared stack: {err}"),
        }
    }
}

impl std::error::Error for SharedStackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Map(err) => Some(err),
            _ => None,
        }
    }
}

/// Copy statistics of one shared stack (C: `fcontext_cs_stats_t`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Swap-outs: a suspended owner's live bytes copied to its private buffer.
    pub copies_out: u64,
    /// Swap-ins: a coroutine's saved bytes copied back onto the shared stack.
    pub copies_in: u64,
    /// Total bytes copied out.
    pub bytes_out: u64,
    /// Total bytes copied in.
    pub bytes_in: u64,
    /// The largest single copy (in either direction), in bytes.
    pub max_copy: u64,
}

/// The state behind a [`SharedStack`] handle; coroutines keep it alive.
pub(crate) struct StackInner {
    /// Lowest address of the mapping (the guard page).
    base: *mut u8,
    /// Size of the mapping, guard included.
    map_len: usize,
    /// Lowest usable address (just above the guard page).
    pub(crate) bottom: *mut u8,
    /// One past the highest usable byte; 16-aligned.
    pub(crate) top: *mut u8,
    /// The coroutine whose live bytes are on the stack now (null: nobody's).
    pub(crate) owner: Cell<*mut Claim>,
    /// True while the owner runs: the stack cannot change hands then.
    pub(crate) busy: Cell<bool>,
    /// The context that resumed the running owner (valid while `busy`).
    /// Only one coroutine runs on a shared stack at a time, so one field
    /// per stack serves all of its coroutines.
    pub(crate) caller: Cell<FcontextT>,
    /// The input of a first resume, parked here because that switch carries
    /// the task pointer instead.
    pub(crate) start_data: Cell<*mut core::ffi::c_void>,
    /// C API switches (one pending per stack, like `caller`): the value
    /// handed across and where the arriving side stores it (the resumer's
    /// `output`, the coroutine's `input`), and the resumer's running
    /// coroutine to restore. The arriving side's `ontop` function does this
    /// work, so the C functions can end in the switch itself (see capi.rs).
    pub(crate) handoff: Cell<*mut core::ffi::c_void>,
    pub(crate) resume_out: Cell<*mut *mut core::ffi::c_void>,
    pub(crate) yield_in: Cell<*mut *mut core::ffi::c_void>,
    pub(crate) resumer_current: Cell<*mut core::ffi::c_void>,
    pub(crate) stats: Cell<CopyStats>,
    /// In a program built with a sanitizer (`crate::sanitizer::RuntimeFibers`):
    /// the resumer's TSan fiber and the bounds `(lo, len)` of its stack as
    /// ASan knows them, for the switch back (one pending per stack, like
    /// `caller`).
    pub(crate) san_caller_fiber: Cell<*mut core::ffi::c_void>,
    pub(crate) san_caller_bounds: Cell<(usize, usize)>,
    /// Registration with Valgrind (a stack, so switches onto it are not
    /// mistaken for huge frames) and with the overflow reporter (its guard).
    registration: Option<crate::stack::registry::StackRegistration>,
}

impl StackInner {
    /// Usable bytes between the guard page and the top.
    pub(crate) fn size(&self) -> usize {
        self.top as usize - self.bottom as usize
    }

    pub(crate) fn record_copy(&self, out: bool, bytes: usize) {
        let mut s = self.stats.get();
        let bytes = bytes as u64;
        if out {
            s.copies_out += 1;
            s.bytes_out += bytes;
        } else {
            s.copies_in += 1;
            s.bytes_in += bytes;
        }
        s.max_copy = s.max_copy.max(bytes);
        self.stats.set(s);
    }
}

impl Drop for StackInner {
    fn drop(&mut self) {
        // Unregistered before the memory goes.
        drop(self.registration.take());
        // SAFETY: the mapping is ours and no coroutine refers to it any more
        // (every coroutine holds a strong reference to this value).
        let _ = unsafe { crate::sys::unmap(self.base, self.map_len) };
    }
}

/// A run stack shared by many copy-stack coroutines.
///
/// The mapping has a `PROT_NONE` guard page at its low end, so running off
/// the bottom faults instead of corrupting memory. Handles are cheap to clone
/// (reference counted); every coroutine keeps its stack alive. A shared stack
/// belongs to one thread (it is neither `Send` nor `Sync`).
///
/// # Pointers into a suspended coroutine's stack
/// While a coroutine is suspended and *another* coroutine owns the shared
/// stack, the suspended coroutine's stack bytes live in its private buffer,
/// not at their addresses: a pointer to one of its locals, held anywhere,
/// points into the other coroutine's frames. Such pointers are valid again
/// only while their coroutine runs. The compiler cannot see such pointers
/// (a scoped thread spawned around a `suspend` holds one), which is why
/// [`CopyStack::new`](super::CopyStack::new) is `unsafe` and states the
/// rule; C callers keep the same rule.
#[derive(Clone)]
pub struct SharedStack {
    pub(crate) inner: Rc<StackInner>,
}

impl fmt::Debug for SharedStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedStack")
            .field("bottom", &self.inner.bottom)
            .field("top", &self.inner.top)
            .field("stats", &self.inner.stats.get())
            .finish()
    }
}

impl SharedStack {
    /// Smallest usable size accepted by [`SharedStack::new`]; a smaller
    /// [`stack_traits::minimum_size`](crate::stack_traits::minimum_size),
    /// which every [`Stack`](crate::stack::Stack) must provide, raises the
    /// size actually mapped.
    pub const MIN_SIZE: usize = 16 * 1024;

    /// Maps a shared stack with at least `size` usable bytes above a guard
    /// page, rounded up to whole pages and to at least
    /// [`stack_traits::minimum_size`](crate::stack_traits::minimum_size)
    /// (which depends on the machine: 47,808 bytes on a CPU with AMX).
    ///
    /// # Errors
    /// [`SharedStackError::TooSmall`] below [`MIN_SIZE`](Self::MIN_SIZE),
    /// [`SharedStackError::TooLarge`] when the mapping would reach 4 GiB,
    /// [`SharedStackError::Map`] when `mmap` fails.
    pub fn new(size: usize) -> Result<Self, SharedStackError> {
        if size < Self::MIN_SIZE {
            return Err(SharedStackError::TooSmall { requested: size });
        }
        let requested = size;
        let size = size.max(crate::stack_traits::minimum_size());
        let page = crate::stack_traits::page_size();
        let map_len = size
            .checked_next_multiple_of(page)
            .and_then(|n| n.checked_add(page))
            .filter(|n| *n <= u32::MAX as usize)
            .ok_or(SharedStackError::TooLarge { requested })?;
        let base = crate::stack::map_guarded(map_len).map_err(SharedStackError::Map)?;
        // SAFETY: both offsets are inside (or one past) the mapping just made.
        let (bottom, top) = unsafe { (base.add(page), base.add(map_len)) };
        // A fault in the guard page is then reported as a stack overflow.
        let registration = Some(crate::stack::registry::StackRegistration::new(
            bottom as usize..top as usize,
            Some(base as usize..bottom as usize),
        ));
        Ok(Self {
            inner: Rc::new(StackInner {
                base,
                map_len,
                bottom,
                top,
                owner: Cell::new(ptr::null_mut()),
                busy: Cell::new(false),
                caller: Cell::new(ptr::null_mut()),
                start_data: Cell::new(ptr::null_mut()),
                handoff: Cell::new(ptr::null_mut()),
                resume_out: Cell::new(ptr::null_mut()),
                yield_in: Cell::new(ptr::null_mut()),
                resumer_current: Cell::new(ptr::null_mut()),
                stats: Cell::new(CopyStats::default()),
                san_caller_fiber: Cell::new(ptr::null_mut()),
                san_caller_bounds: Cell::new((0, 0)),
                registration,
            }),
        })
    }

    /// Usable bytes (the guard page excluded).
    pub fn size(&self) -> usize {
        self.inner.size()
    }

    /// One past the highest usable byte.
    pub fn top(&self) -> *const u8 {
        self.inner.top
    }

    /// Lowest usable byte (just above the guard page).
    pub fn bottom(&self) -> *const u8 {
        self.inner.bottom
    }

    /// Copy counters since creation (or the last [`reset_stats`](Self::reset_stats)).
    pub fn stats(&self) -> CopyStats {
        self.inner.stats.get()
    }

    /// Zeroes the copy counters.
    pub fn reset_stats(&self) {
        self.inner.stats.set(CopyStats::default());
    }

    /// Number of coroutines created on this stack that still exist.
    pub fn coroutines(&self) -> usize {
        Rc::strong_count(&self.inner) - 1
    }
}

/// Hands out shared stacks round-robin, so that `n` stacks split the
/// coroutines into `n` groups: a coroutine only swaps out the owner of its
/// own stack, and with fewer coroutines per stack a resumed coroutine more
/// often finds its bytes still in place.
#[derive(Debug)]
pub struct SharedStackSet {
    stacks: Vec<SharedStack>,
    next: Cell<usize>,
}

impl SharedStackSet {
    /// Maps `count` (at least one) shared stacks of `size` usable bytes each.
    pub fn new(count: usize, size: usize) -> Result<Self, SharedStackError> {
        let stacks = (0..count.max(1))
            .map(|_| SharedStack::new(size))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            stacks,
            next: Cell::new(0),
        })
    }

    /// The next stack in round-robin order.
    pub fn next_stack(&self) -> &SharedStack {
        let i = self.next.get();
        self.next.set((i + 1) % self.stacks.len());
        &self.stacks[i]
    }

    /// All stacks of the set.
    pub fn stacks(&self) -> &[SharedStack] {
        &self.stacks
    }

    /// Sum of the copy counters of all stacks (`max_copy` is the maximum).
    pub fn stats(&self) -> CopyStats {
        self.stacks.iter().fold(CopyStats::default(), |mut acc, s| {
            let x = s.stats();
            acc.copies_out += x.copies_out;
            acc.copies_in += x.copies_in;
            acc.bytes_out += x.bytes_out;
            acc.bytes_in += x.bytes_in;
            acc.max_copy = acc.max_copy.max(x.max_copy);
            acc
        })
    }
}

/// A [`StackSource`](crate::scheduler::StackSource) (implemented in
/// [`scheduler`](crate::scheduler)) that runs every task of
/// a [`Scheduler`](crate::scheduler::Scheduler) as a copy-stack coroutine,
/// round-robin over the stacks of a [`SharedStackSet`]:
///
/// ```
/// use fcontext::copystack::{CopyStackSource, SharedStackSet};
/// use fcontext::scheduler::Scheduler;
///
/// let set = SharedStackSet::new(2, 64 * 1024).unwrap();
/// // SAFETY: no task lends a pointer into its frames to anyone.
/// let mut sched = Scheduler::with_source(unsafe { CopyStackSource::new(set) });
/// for _ in 0..4 {
///     sched.spawn(|task| task.yield_now()).unwrap();
/// }
/// sched.run();
/// assert_eq!(sched.stats().finished, 4);
/// ```
#[derive(Debug)]
pub struct CopyStackSource {
    set: SharedStackSet,
}

impl CopyStackSource {
    /// Tasks spawned with this source run on the stacks of `set`.
    ///
    /// # Safety
    /// Every task spawned with this source is a copy-stack coroutine, so
    /// each task body must keep the rules of
    /// [`CopyStack::new`](super::CopyStack::new): nothing may access a
    /// task's stack while the task is suspended (no pointer into its frames
    /// held by a thread, another task, or a registration of a pinned value),
    /// and nothing may depend on the destructors of a task abandoned while
    /// another task of its stack runs.
    pub unsafe fn new(set: SharedStackSet) -> Self {
        CopyStackSource { set }
    }

    /// The stacks the tasks run on.
    pub fn set(&self) -> &SharedStackSet {
        &self.set
    }

    /// A copy stack on the next shared stack of the set, for one task.
    pub(crate) fn next_copy_stack(&mut self) -> super::CopyStack {
        // SAFETY: whoever made this source took on CopyStack::new's rules
        // for every task spawned with it.
        unsafe { super::CopyStack::new(self.set.next_stack()) }
    }
}
