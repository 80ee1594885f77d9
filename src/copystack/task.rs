//! The copy mechanism: a copy-stack coroutine's header and the swap-out /
//! swap-in around each switch. Both the C API and the Rust API drive
//! coroutines through these few functions; the switches themselves are our
//! `make_fcontext` / `jump_fcontext`.
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
use crate::raw::{jump_fcontext, make_fcontext, EntryFn, FcontextT, Transfer};
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

/// A copy-stack coroutine's header: one small heap allocation, plus the
/// private buffer. Accessed through raw pointers only, because the shared
/// stack's `owner` field aliases it.
pub(crate) struct Task {
    /// Saved stack pointer while suspended; null before the first resume
    /// and after completion.
    pub(crate) ctx: FcontextT,
    pub(crate) stack: Rc<StackInner>,
    /// Private buffer: start payload while fresh, saved bytes while swapped
    /// out. Null when `cap` is zero.
    buf: *mut u8,
    /// Bytes of `buf` that hold saved stack (meaningful while swapped out).
    pub(crate) len: u32,
    pub(crate) cap: u32,
    pub(crate) state: State,
    /// Entry function given to `make_fcontext` at the first resume.
    entry: EntryFn,
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
/// oscillates from reallocating on every switch.
pub(crate) fn resized_capacity(cap: usize, need: usize) -> Option<usize> {
    let round = |n: usize| n.next_multiple_of(BUF_ALIGN);
    if need > cap {
        Some(round(need.max(cap * 2)))
    } else if cap > SHRINK_FLOOR && need * 4 <= cap {
        Some(round((need * 2).max(SHRINK_FLOOR)))
    } else {
        None
    }
}

impl Task {
    /// Allocates a fresh task on `stack` whose buffer holds `payload`; the
    /// first resume starts `entry`, which must call [`Task::start`] and take
    /// the payload with [`Task::take_payload`].
    pub(crate) fn new<P>(stack: Rc<StackInner>, payload: P, entry: EntryFn) -> Box<Task> {
        const { assert!(mem::align_of::<P>() <= BUF_ALIGN) };
        let cap = mem::size_of::<P>().next_multiple_of(BUF_ALIGN);
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
        // SAFETY: buf is valid for a P (size and alignment checked above).
        unsafe { buf.cast::<P>().write(payload) };
        Box::new(Task {
            ctx: ptr::null_mut(),
            stack,
            buf,
            len: 0,
            cap: cap as u32,
            state: State::Fresh,
            entry,
        })
    }

    /// Moves the start payload out of a fresh task's buffer.
    ///
    /// # Safety
    /// `task` was made by [`Task::new`] with a payload of type `P` that has
    /// not been taken yet.
    pub(crate) unsafe fn take_payload<P>(task: *mut Task) -> P {
        // SAFETY: per the caller's promise.
        unsafe { (*task).buf.cast::<P>().read() }
    }

    /// First thing an entry function does: records who resumed it and
    /// returns `(task, input of the first resume)`.
    ///
    /// # Safety
    /// `t` is the transfer an entry function received from [`resume`].
    pub(crate) unsafe fn start(t: Transfer) -> (*mut Task, *mut c_void) {
        let task = t.data.cast::<Task>();
        // SAFETY: resume passes the live task as the first switch's data.
        let stack = unsafe { &*(*task).stack };
        stack.caller.set(t.fctx);
        (task, stack.start_data.get())
    }

    /// Releases the buffer (the task must not be swapped out with live
    /// bytes that anyone still needs).
    unsafe fn free_buf(task: *mut Task) {
        // SAFETY: per the caller; the buffer was allocated with this layout.
        unsafe {
            let cap = (*task).cap as usize;
            if cap != 0 {
                alloc::dealloc((*task).buf, buf_layout(cap));
            }
            (*task).buf = ptr::NonNull::<u8>::dangling().as_ptr();
            (*task).cap = 0;
            (*task).len = 0;
        }
    }

    /// Copies the suspended owner's live bytes into its buffer.
    unsafe fn swap_out(owner: *mut Task, stack: &StackInner) {
        // SAFETY: owner is a live, suspended task of `stack`.
        unsafe {
            let sp = (*owner).ctx.cast::<u8>();
            check_stack_pointer(sp, stack);
            let need = stack.top as usize - sp as usize;
            let cap = (*owner).cap as usize;
            if let Some(new_cap) = resized_capacity(cap, need) {
                let p = if cap == 0 {
                    alloc::alloc(buf_layout(new_cap))
                } else {
                    alloc::realloc((*owner).buf, buf_layout(cap), new_cap)
                };
                if p.is_null() {
                    alloc::handle_alloc_error(buf_layout(new_cap));
                }
                (*owner).buf = p;
                (*owner).cap = new_cap as u32;
            }
            ptr::copy_nonoverlapping(sp, (*owner).buf, need);
            (*owner).len = need as u32;
            stack.record_copy(true, need);
        }
    }

    /// Copies a swapped-out task's bytes back to their addresses.
    unsafe fn swap_in(task: *mut Task, stack: &StackInner) {
        // SAFETY: task is suspended and swapped out; its bytes fit below top
        // (they came from there).
        unsafe {
            let len = (*task).len as usize;
            ptr::copy_nonoverlapping((*task).buf, stack.top.sub(len), len);
            stack.record_copy(false, len);
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let me: *mut Task = self;
        debug_assert!(self.state != State::Running);
        if self.stack.owner.get() == me {
            // Its bytes on the stack are dead now; nothing to save.
            self.stack.owner.set(ptr::null_mut());
        }
        // SAFETY: the buffer is ours; a fresh task's payload was dropped (or
        // taken) by the layer above before the task.
        unsafe { Task::free_buf(me) };
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

/// Makes `task` the running owner of its shared stack (swapping the previous
/// owner out and `task` in, or creating its context on the first resume)
/// and returns the context to switch to, plus whether this is the first
/// resume (whose switch must carry the task pointer; see [`Task::start`]).
///
/// # Safety
/// `task` is live. After `Ok`, the caller must switch to the returned
/// context and then call [`switched_back`] with the transfer it got.
#[inline]
pub(crate) unsafe fn prepare_resume(task: *mut Task) -> Result<(FcontextT, bool), Refusal> {
    // SAFETY: task is live; its stack outlives it.
    unsafe {
        match (*task).state {
            State::Done => return Err(Refusal::Finished),
            State::Running => return Err(Refusal::Running),
            State::Fresh | State::Suspended => {}
        }
        let stack = &*(*task).stack;
        if stack.busy.get() {
            return Err(Refusal::StackBusy);
        }
        let fresh = (*task).state == State::Fresh;
        let owner = stack.owner.get();
        if owner != task {
            if !owner.is_null() {
                Task::swap_out(owner, stack);
            }
            if fresh {
                (*task).ctx = make_fcontext(stack.top.cast(), stack.size(), (*task).entry);
            } else {
                Task::swap_in(task, stack);
            }
            stack.owner.set(task);
        }
        stack.busy.set(true);
        (*task).state = State::Running;
        Ok(((*task).ctx, fresh))
    }
}

/// Bookkeeping after the switch into `task` came back: stores its new
/// context (or, if it completed, drops its claim on the stack).
///
/// # Safety
/// Pairs with a successful [`prepare_resume`] of `task`; `t` is what the
/// switch returned.
#[inline]
pub(crate) unsafe fn switched_back(task: *mut Task, t: Transfer) {
    // SAFETY: task is live (it cannot be freed while running).
    unsafe {
        let stack = &*(*task).stack;
        stack.busy.set(false);
        if (*task).state == State::Done {
            (*task).ctx = ptr::null_mut();
            if stack.owner.get() == task {
                stack.owner.set(ptr::null_mut());
            }
            Task::free_buf(task);
        } else {
            check_stack_pointer(t.fctx.cast(), stack);
            (*task).ctx = t.fctx;
            (*task).state = State::Suspended;
        }
    }
}

/// Resumes `task` with `data`; returns the data of its next suspension (or
/// of its completion; check [`Task::state`]).
///
/// # Safety
/// `task` is live and every resume of it goes through this function or the
/// [`prepare_resume`]/[`switched_back`] pair.
#[inline]
pub(crate) unsafe fn resume(task: *mut Task, data: *mut c_void) -> Result<*mut c_void, Refusal> {
    // SAFETY: per the caller's promise.
    unsafe {
        let (ctx, fresh) = prepare_resume(task)?;
        let vp = if fresh {
            (&(*task).stack).start_data.set(data);
            task.cast()
        } else {
            data
        };
        let t = jump_fcontext(ctx, vp);
        switched_back(task, t);
        Ok(t.data)
    }
}

/// Suspends the running `task`, handing `data` to its resumer; returns the
/// data of the next resume.
///
/// # Safety
/// Called on `task`'s own stack while it runs.
#[inline]
pub(crate) unsafe fn suspend(task: *mut Task, data: *mut c_void) -> *mut c_void {
    // SAFETY: the stack outlives the task; `caller` is the live resumer.
    unsafe {
        let stack: *const StackInner = &*(*task).stack;
        let t = jump_fcontext((*stack).caller.get(), data);
        // Our bytes are back at their addresses (swap-in restores them
        // before the switch), so `stack` is still valid.
        (*stack).caller.set(t.fctx);
        t.data
    }
}

/// Marks the running `task` done and leaves it for good.
///
/// # Safety
/// Called on `task`'s own stack while it runs, with nothing left on that
/// stack that needs dropping.
pub(crate) unsafe fn finish(task: *mut Task, data: *mut c_void) -> ! {
    // SAFETY: as for suspend; nobody resumes a Done task.
    unsafe {
        (*task).state = State::Done;
        let caller = (&(*task).stack).caller.get();
        jump_fcontext(caller, data);
    }
    unreachable!("a finished copy-stack coroutine was resumed")
}
