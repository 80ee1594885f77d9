//! The copy mechanism: a copy-stack coroutine's header and the swap-out /
//! swap-in around each switch ([`Claim::acquire`] / [`Claim::release`]).
//! Both APIs copy through these functions; the switches go through
//! [`crate::switch`] (the Rust API's in [`Coroutine`](crate::Coroutine), the
//! C API's in `capi.rs`).
//!
//! ```text
//!  shared stack (one mapping)            private buffers (heap)
//!  top ->  +--------------------+
//!          | owner's live bytes |  <- copied out to the owner's buffer when
//!          | (top - ctx bytes)  |     another coroutine of this stack resumes
//!  ctx ->  +--------------------+     (swap-out), copied back to the same
//!          |   free             |     addresses when it resumes (swap-in)
//!  bottom->+--------------------+
//!          |   guard page       |
//!  base -> +--------------------+
//! ```
//!
//! A coroutine's saved context (`ctx`) is its stack pointer at suspension,
//! so its live bytes are exactly `ctx..top`; restoring them to the same
//! addresses makes every pointer inside its own frames valid again.
//!
//! A fresh coroutine has no context yet: `make_fcontext` runs on the shared
//! stack at its first resume, once the previous owner's bytes are safe. Until
//! then its private buffer holds its start payload (the closure), so a
//! coroutine that never ran costs the header plus the closure.

use super::shared::StackInner;
use crate::raw::{EntryFn, Transfer};
use core::ffi::c_void;
use core::{mem, ptr};
use std::alloc::{self, Layout};
use std::rc::Rc;

/// Lifecycle of a copy-stack coroutine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum State {
    /// Created, never resumed: the buffer holds the start payload.
    Fresh,
    /// Suspended in a switch; its bytes are on the stack (if owner) or in
    /// its buffer.
    Suspended,
    /// Running (or resuming something else further down the chain).
    Running,
    /// Returned (or unwound) from its entry; never runs again.
    Done,
}

/// Why a resume was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The coroutine has completed.
    Finished,
    /// The coroutine is running (a resume from inside itself).
    Running,
    /// Another coroutine of the same shared stack is running, so the stack
    /// cannot change hands.
    StackBusy,
}

/// Alignment of private buffers and therefore the largest alignment a start
/// payload stored in one may need.
pub(crate) const BUF_ALIGN: usize = 16;

/// Buffers at or below this capacity never shrink.
pub(crate) const SHRINK_FLOOR: usize = 256;

/// One coroutine's claim on a shared stack: how many live bytes it had at
/// its last suspension and its private buffer (24 bytes, so with its
/// allocation header it fills one 32-byte heap chunk). Lives at a stable heap address (the shared stack's
/// `owner` points to it) and is accessed through raw pointers only, because
/// that field aliases it. Both APIs use it: the C API's [`Task`] starts with
/// one, the Rust API's [`CopyStack`](super::CopyStack) boxes one.
#[repr(C)]
pub(crate) struct Claim {
    pub(crate) stack: Rc<StackInner>,
    /// Private buffer: saved bytes while swapped out (and, for a fresh C
    /// task, its start payload). Dangling when `cap` is zero.
    buf: *mut u8,
    /// Live bytes at the last suspension: the saved stack pointer is
    /// `top - len`, and while swapped out `buf` holds them. Zero before the
    /// first switch into the coroutine and after it finished (a suspended
    /// context always has its switch frame, so zero is never a live size).
    pub(crate) len: u32,
    pub(crate) cap: u32,
}

fn buf_layout(cap: usize) -> Layout {
    // Never fails: cap is bounded by the shared stack size.
    Layout::from_size_align(cap, BUF_ALIGN).expect("copy-stack buffer layout")
}

/// Capacity for a buffer of `cap` bytes that must now hold `need` bytes, or
/// `None` to keep it. Grows geometrically (at least doubling) so a
/// coroutine whose stack deepens step by step reallocates O(log n) times;
/// shrinks to twice the need once a save uses a quarter or less of a buffer
/// larger than [`SHRINK_FLOOR`], so one deep excursion does not pin memory
/// forever, while the gap between the two thresholds keeps a coroutine that
/// oscillates from reallocating on every switch. Growth never passes
/// `limit`, the size of the shared stack (a multiple of [`BUF_ALIGN`]): no
/// save can need more, and so a capacity always fits the claim's `u32`.
pub(crate) fn resized_capacity(cap: usize, need: usize, limit: usize) -> Option<usize> {
    let round = |n: usize| n.next_multiple_of(BUF_ALIGN);
    debug_assert!(need <= limit && limit.is_multiple_of(BUF_ALIGN));
    if need > cap {
        Some(round(need.max(cap.saturating_mul(2)).min(limit)))
    } else if cap > SHRINK_FLOOR && need * 4 <= cap {
        Some(round((need * 2).max(SHRINK_FLOOR)))
    } else {
        None
    }
}

impl Claim {
    /// A claim on `stack` with an empty buffer of `cap` bytes.
    pub(crate) fn new(stack: Rc<StackInner>, cap: usize) -> Claim {
        let buf = if cap == 0 {
            ptr::NonNull::<u8>::dangling().as_ptr()
        } else {
            // SAFETY: cap is non-zero.
            let p = unsafe { alloc::alloc(buf_layout(cap)) };
            if p.is_null() {
                alloc::handle_alloc_error(buf_layout(cap));
            }
            p
        };
        Claim {
            stack,
            buf,
            len: 0,
            cap: cap as u32,
        }
    }

    /// Bytes held in the buffer now: the saved stack while swapped out,
    /// else 0.
    pub(crate) fn saved_bytes(&self) -> usize {
        let me: *const Claim = self;
        if self.stack.owner.get().cast_const() == me {
            0
        } else {
            self.len as usize
        }
    }

    /// Releases the buffer.
    unsafe fn free_buf(claim: *mut Claim) {
        // SAFETY: per the caller; the buffer was allocated with this layout.
        unsafe {
            let cap = (*claim).cap as usize;
            if cap != 0 {
                alloc::dealloc((*claim).buf, buf_layout(cap));
            }
            (*claim).buf = ptr::NonNull::<u8>::dangling().as_ptr();
            (*claim).cap = 0;
            (*claim).len = 0;
        }
    }

    /// The saved stack pointer of a suspended claim.
    #[inline]
    pub(crate) fn sp(&self) -> *mut u8 {
        self.stack.top.wrapping_sub(self.len as usize)
    }

    /// Copies the suspended owner's live bytes into its buffer.
    unsafe fn swap_out(owner: *mut Claim, stack: &StackInner) {
        // SAFETY: owner is a live, suspended claim of `stack`; its `len` was
        // checked against the stack when it suspended.
        unsafe {
            let need = (*owner).len as usize;
            let sp = stack.top.sub(need);
            // The live frames' ASan redzones are copied too (ASan build only).
            crate::sanitizer::asan_unpoison(sp, need);
            let cap = (*owner).cap as usize;
            if let Some(new_cap) = resized_capacity(cap, need, stack.size()) {
                let p = if cap == 0 {
                    alloc::alloc(buf_layout(new_cap))
                } else {
                    alloc::realloc((*owner).buf, buf_layout(cap), new_cap)
                };
                if p.is_null() {
                    alloc::handle_alloc_error(buf_layout(new_cap));
                }
                (*owner).buf = p;
                // Bounded by the stack size, which SharedStack::new keeps
                // below 4 GiB.
                (*owner).cap = new_cap as u32;
            }
            ptr::copy_nonoverlapping(sp, (*owner).buf, need);
            stack.record_copy(true, need);
        }
    }

    /// Copies a swapped-out claim's bytes back to their addresses.
    unsafe fn swap_in(claim: *mut Claim, stack: &StackInner) {
        // SAFETY: claim is suspended and swapped out; its bytes fit below top
        // (they came from there).
        unsafe {
            let len = (*claim).len as usize;
            // Memcheck marked this part of the shared stack dead when the
            // previous owner's frames were popped; make it writable for it.
            crate::stack::valgrind::make_mem_undefined(stack.top.sub(len), len);
            crate::sanitizer::asan_unpoison(stack.top.sub(len), len);
            ptr::copy_nonoverlapping((*claim).buf, stack.top.sub(len), len);
            stack.record_copy(false, len);
        }
    }

    /// True when the claim's stack can change hands now (its owner is not
    /// running).
    #[inline]
    pub(crate) fn can_acquire(&self) -> bool {
        !self.stack.busy.get()
    }

    /// Makes `claim` the running owner of its shared stack: swaps the
    /// previous owner out and, unless the claim has never run (`len` 0),
    /// its own bytes in. Refused while the stack's owner runs.
    ///
    /// # Safety
    /// `claim` is live and suspended (or fresh); a switch into it follows,
    /// then [`Claim::release`].
    #[inline]
    pub(crate) unsafe fn acquire(claim: *mut Claim) -> Result<(), Refusal> {
        // SAFETY: per the caller; the stack outlives its claims.
        unsafe {
            let stack = &*(*claim).stack;
            if stack.busy.get() {
                return Err(Refusal::StackBusy);
            }
            let owner = stack.owner.get();
            if owner != claim {
                if !owner.is_null() {
                    Claim::swap_out(owner, stack);
                }
                if (*claim).len != 0 {
                    Claim::swap_in(claim, stack);
                }
                stack.owner.set(claim);
            }
            stack.busy.set(true);
            Ok(())
        }
    }

    /// Gives up a suspended claim without a switch (its frames are
    /// abandoned): frees its buffer and forgets its saved size. The stack
    /// stays busy if its owner runs; only when this claim is the idle owner
    /// do its dead bytes stop counting as anyone's.
    ///
    /// # Safety
    /// `claim` is live and suspended; nothing switches into it again.
    pub(crate) unsafe fn abandon(claim: *mut Claim) {
        // SAFETY: per the caller.
        unsafe {
            let stack = &*(*claim).stack;
            if stack.owner.get() == claim && !stack.busy.get() {
                stack.owner.set(ptr::null_mut());
            }
            Claim::free_buf(claim);
        }
    }

    /// The switch into `claim` came back: records its stack pointer, or with
    /// `None` (it finished) gives up its claim and its buffer.
    ///
    /// # Safety
    /// Pairs with a successful [`Claim::acquire`].
    #[inline]
    pub(crate) unsafe fn release(claim: *mut Claim, sp: Option<*mut u8>) {
        // SAFETY: per the caller.
        unsafe {
            let stack = &*(*claim).stack;
            stack.busy.set(false);
            match sp {
                Some(sp) => {
                    check_stack_pointer(sp, stack);
                    (*claim).len = (stack.top as usize - sp as usize) as u32;
                }
                None => {
                    if stack.owner.get() == claim {
                        stack.owner.set(ptr::null_mut());
                    }
                    // Its frames are gone and every other coroutine's bytes
                    // are in their buffers: no poisoning of its scopes may
                    // survive into the next coroutine's frames (ASan build).
                    crate::sanitizer::asan_unpoison(stack.bottom, stack.size());
                    Claim::free_buf(claim);
                }
            }
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let me: *mut Claim = self;
        debug_assert!(!(self.stack.busy.get() && self.stack.owner.get() == me));
        if self.stack.owner.get() == me {
            // Its bytes on the stack are dead now; nothing to save.
            self.stack.owner.set(ptr::null_mut());
        }
        // SAFETY: the buffer is ours.
        unsafe { Claim::free_buf(me) };
    }
}

/// A C-API coroutine: its [`Claim`] (first, so the two pointers coincide),
/// its state and its entry function. One small heap allocation plus the
/// private buffer; until its first resume the buffer holds the start
/// payload, and its context is made only then.
#[repr(C)]
pub(crate) struct Task {
    pub(crate) claim: Claim,
    pub(crate) state: State,
    /// Entry function given to `make_fcontext` at the first resume.
    pub(crate) entry: EntryFn,
    /// The coroutine's ThreadSanitizer fiber in a `-fsanitize=thread`
    /// program (made at its first resume; see `crate::sanitizer`), else
    /// null.
    pub(crate) tsan_fiber: *mut c_void,
}

impl Task {
    /// Allocates a fresh task on `stack` whose buffer holds `payload`; the
    /// first resume starts `entry`, which must call [`Task::start`] and take
    /// the payload with [`Task::take_payload`].
    pub(crate) fn new<P: Copy>(stack: Rc<StackInner>, payload: P, entry: EntryFn) -> Box<Task> {
        const { assert!(mem::align_of::<P>() <= BUF_ALIGN) };
        let claim = Claim::new(stack, mem::size_of::<P>().next_multiple_of(BUF_ALIGN));
        // SAFETY: the buffer is valid for a P (size and alignment above).
        unsafe { claim.buf.cast::<P>().write(payload) };
        Box::new(Task {
            claim,
            state: State::Fresh,
            entry,
            tsan_fiber: ptr::null_mut(),
        })
    }

    /// Copies the start payload out of a fresh task's buffer.
    ///
    /// # Safety
    /// `task` was made by [`Task::new`] with a payload of type `P` and has
    /// not been swapped out since it started.
    pub(crate) unsafe fn take_payload<P: Copy>(task: *mut Task) -> P {
        // SAFETY: per the caller's promise.
        unsafe { (*task).claim.buf.cast::<P>().read() }
    }

    /// First thing an entry function does: records who resumed it and
    /// returns `(task, input of the first resume)`.
    ///
    /// # Safety
    /// `t` is the transfer an entry function received from [`resume`].
    pub(crate) unsafe fn start(t: Transfer) -> (*mut Task, *mut c_void) {
        let task = t.data.cast::<Task>();
        // SAFETY: resume passes the live task as the first switch's data.
        let stack = unsafe { &*(*task).claim.stack };
        stack.caller.set(t.fctx);
        (task, stack.start_data.get())
    }
}

/// Aborts with a clear message when a coroutine's saved stack pointer is
/// outside its shared stack: its frames went past the bottom (skipping the
/// guard page) or its context was corrupted, and copying "its bytes" would
/// copy someone else's memory.
#[inline]
fn check_stack_pointer(sp: *const u8, stack: &StackInner) {
    if sp < stack.bottom.cast_const() || sp > stack.top.cast_const() {
        stack_pointer_escaped(sp, stack);
    }
}

#[cold]
#[inline(never)]
fn stack_pointer_escaped(sp: *const u8, stack: &StackInner) -> ! {
    eprintln!(
        "fcontext copystack: fatal: a suspended coroutine's stack pointer {sp:p} is outside \
         its shared stack [{:p}, {:p}) ({} bytes): stack overflow past the guard page or a \
         corrupted context; aborting",
        stack.bottom,
        stack.top,
        stack.size()
    );
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::{resized_capacity, SHRINK_FLOOR};

    const LIMIT: usize = 1 << 20;

    #[test]
    fn growth_at_least_doubles_and_covers_the_need() {
        assert_eq!(resized_capacity(0, 144, LIMIT), Some(144));
        assert_eq!(resized_capacity(80, 144, LIMIT), Some(160));
        assert_eq!(resized_capacity(160, 1000, LIMIT), Some(1008));
        assert_eq!(resized_capacity(1008, 1009, LIMIT), Some(2016));
        assert_eq!(resized_capacity(160, 160, LIMIT), None);
    }

    #[test]
    fn growth_stops_at_the_stack_size() {
        // A buffer of 2 GiB + 16 that must grow on a stack of 4 GiB - 1
        // page: doubling would pass u32::MAX (the claim's field), the stack
        // size does not.
        let limit = u32::MAX as usize + 1 - 4096;
        let cap = (1usize << 31) + 16;
        let grown = resized_capacity(cap, cap + 16, limit).unwrap();
        assert_eq!(grown, limit);
        assert!(u32::try_from(grown).is_ok());
        // The need itself is always granted.
        assert_eq!(resized_capacity(16, limit, limit), Some(limit));
    }

    #[test]
    fn shrink_only_below_a_quarter_of_a_buffer_above_the_floor() {
        assert_eq!(resized_capacity(SHRINK_FLOOR, 16, LIMIT), None);
        assert_eq!(resized_capacity(4096, 1025, LIMIT), None);
        assert_eq!(resized_capacity(4096, 1024, LIMIT), Some(2048));
        assert_eq!(resized_capacity(4096, 100, LIMIT), Some(SHRINK_FLOOR));
        // After a shrink, the same need neither grows nor shrinks again.
        assert_eq!(resized_capacity(2048, 1024, LIMIT), None);
    }
}
