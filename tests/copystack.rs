//! Copy-stack coroutines through the Rust API: `Coroutine` on a `CopyStack`.
//! Values, ownership changes, exact copy counts, buffer growth and shrink,
//! panics, forced unwind, the busy-stack rule and the scheduler.

use fcontext::copystack::{CopyStack, CopyStackSource, SharedStack, SharedStackSet};
use fcontext::{Coroutine, CoroutineResult, ResumeError, Yielder};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// A place on `shared` for one coroutine of this file.
fn place(shared: &SharedStack) -> CopyStack {
    // SAFETY: no coroutine here lends a pointer into its frames to anything
    // that runs while it is suspended.
    unsafe { CopyStack::new(shared) }
}

type Co<I, Y, R> = Coroutine<I, Y, R, CopyStack>;

/// A counter generator that keeps `N` bytes of pattern on its stack and
/// checks them after every resume (they must survive swap-out and swap-in).
fn counter<const N: usize>(shared: &SharedStack, seed: u8) -> Co<(), u64, u64> {
    Coroutine::with_stack(place(shared), move |y: &Yielder<(), u64>, ()| {
        let pad = black_box([seed; N]);
        let mut i = 0u64;
        loop {
            y.suspend(i);
            assert!(
                black_box(&pad).iter().all(|&b| b == seed),
                "stack bytes corrupted"
            );
            i += 1;
            if i == 50 {
                return i * 1000;
            }
        }
    })
}

#[test]
fn two_coroutines_alternate_with_exact_copy_counts() {
    let shared = SharedStack::new(64 * 1024).unwrap();
    // Creation switches into each new coroutine once (its root frames, not
    // yet the body), making it the owner: creating b swaps a out. How many
    // bytes those frames take depends on codegen; the body's 200-byte pad is
    // checked once the bodies run, below.
    let mut a = counter::<200>(&shared, 0xA5);
    let mut b = counter::<200>(&shared, 0x5A);
    let after_create = shared.stats();
    assert_eq!(after_create.copies_out, 1);
    assert_eq!(after_create.copies_in, 0);
    assert!(a.stack().saved_bytes() > 0, "a is swapped out");
    assert_eq!(b.stack().saved_bytes(), 0, "b owns the stack");
    for i in 0..50 {
        assert_eq!(a.resume(()).unwrap(), CoroutineResult::Yield(i));
        // Before its first resume b holds only its root frames.
        assert!(b.stack().saved_bytes() > if i == 0 { 0 } else { 200 });
        assert_eq!(b.resume(()).unwrap(), CoroutineResult::Yield(i));
        assert!(a.stack().saved_bytes() > 200);
    }
    let s = shared.stats();
    // Every one of the 100 resumes changed the owner: one out, one in each.
    assert_eq!(s.copies_out - after_create.copies_out, 100);
    assert_eq!(s.copies_in, 100);
    assert!(s.max_copy > 200 && s.max_copy < 4096, "{s:?}");
    assert_eq!(a.resume(()).unwrap(), CoroutineResult::Complete(50_000));
    assert_eq!(b.resume(()).unwrap(), CoroutineResult::Complete(50_000));
    assert_eq!(a.resume(()), Err(ResumeError::Completed));
    assert_eq!(shared.coroutines(), 2);
    drop((a, b));
    assert_eq!(shared.coroutines(), 0);
}

#[test]
fn a_coroutine_alone_on_its_stack_never_copies() {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let mut co = counter::<100>(&shared, 7);
    for i in 0..50 {
        assert_eq!(co.resume(()).unwrap(), CoroutineResult::Yield(i));
    }
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Complete(50_000));
    let s = shared.stats();
    assert_eq!((s.copies_out, s.copies_in, s.max_copy), (0, 0, 0));
}

#[test]
fn pointers_within_own_frames_survive_a_swap() {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let mut a = Coroutine::with_stack(place(&shared), |y: &Yielder<(), usize>, ()| {
        let data = black_box([3usize; 16]);
        let r: &[usize; 16] = &data; // a pointer into this stack
        y.suspend(r.iter().sum());
        y.suspend(r.iter().sum());
        r.as_ptr() as usize
    });
    let mut b = counter::<512>(&shared, 1);
    assert_eq!(a.resume(()).unwrap(), CoroutineResult::Yield(48));
    b.resume(()).unwrap(); // a swapped out, b's frames on the same addresses
    assert_eq!(a.resume(()).unwrap(), CoroutineResult::Yield(48));
    b.resume(()).unwrap();
    let addr = a.resume(()).unwrap().into_complete().unwrap();
    assert!(addr >= shared.bottom() as usize && addr < shared.top() as usize);
}

#[test]
fn buffers_grow_geometrically_and_shrink_after_a_deep_excursion() {
    /// Suspends `depth` frames of 256 bytes deep; returns the next input.
    fn deep(y: &Yielder<usize, ()>, depth: usize) -> usize {
        let frame = black_box([depth as u8; 256]);
        let next = if depth == 0 {
            y.suspend(())
        } else {
            deep(y, depth - 1)
        };
        black_box(&frame);
        next
    }
    let shared = SharedStack::new(256 * 1024).unwrap();
    let mut co = Coroutine::with_stack(place(&shared), |y: &Yielder<usize, ()>, mut d| loop {
        d = deep(y, d);
    });
    let mut other = counter::<16>(&shared, 2);
    let mut caps = Vec::new();
    for depth in [1usize, 2, 4, 8, 16, 32, 64] {
        co.resume(depth).unwrap();
        other.resume(()).unwrap(); // swap co out at this depth
        let saved = co.stack().saved_bytes();
        assert!(saved > depth * 256, "depth {depth}: saved {saved}");
        let cap = co.stack().buffer_capacity();
        assert!(cap >= saved);
        caps.push(cap);
    }
    // Doubling growth: each step needs about twice the last, and a grown
    // buffer is never more than twice what the largest save needed.
    assert!(caps.windows(2).all(|w| w[1] >= w[0]));
    let deepest = co.stack().saved_bytes();
    assert!(*caps.last().unwrap() <= 2 * deepest.next_multiple_of(16) + 16);
    // Back to a shallow stack: a save using a quarter or less of the buffer
    // shrinks it to twice the saved size (at least 256 bytes).
    co.resume(1).unwrap();
    other.resume(()).unwrap();
    let saved = co.stack().saved_bytes();
    let cap = co.stack().buffer_capacity();
    assert!(
        cap < *caps.last().unwrap() / 4,
        "cap {cap} after deep {caps:?}"
    );
    assert_eq!(cap, (2 * saved).max(256).next_multiple_of(16));
}

#[test]
fn panics_propagate_to_the_resumer() {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let mut other = counter::<64>(&shared, 9);
    let mut co = Coroutine::with_stack(place(&shared), |y: &Yielder<(), ()>, ()| {
        y.suspend(());
        panic!("boom from a copy-stack coroutine");
    });
    co.resume(()).unwrap();
    other.resume(()).unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| co.resume(())))
        .expect_err("the body's panic reaches the resumer");
    assert_eq!(
        err.downcast_ref::<&str>(),
        Some(&"boom from a copy-stack coroutine")
    );
    assert_eq!(co.resume(()), Err(ResumeError::Panicked));
    // The stack is released: the other coroutine goes on undisturbed.
    assert_eq!(other.resume(()).unwrap(), CoroutineResult::Yield(1));
}

struct CountDrop(Arc<AtomicU32>);
impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_a_swapped_out_coroutine_unwinds_its_stack() {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let drops = Arc::new(AtomicU32::new(0));
    let d = drops.clone();
    let co = Coroutine::with_stack(place(&shared), move |y: &Yielder<(), ()>, ()| {
        let _guard = CountDrop(d);
        loop {
            y.suspend(());
        }
    });
    let mut co = co;
    co.resume(()).unwrap();
    let mut other = counter::<64>(&shared, 3);
    other.resume(()).unwrap();
    assert!(co.stack().saved_bytes() > 0);
    drop(co); // swapped back in, unwound
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(other.resume(()).unwrap(), CoroutineResult::Yield(1));
}

#[test]
fn a_coroutine_cannot_resume_a_sibling_of_its_own_shared_stack() {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let elsewhere = SharedStack::new(64 * 1024).unwrap();
    let sibling = counter::<64>(&shared, 4);
    let foreign = counter::<64>(&elsewhere, 5);
    let drops = Arc::new(AtomicU32::new(0));
    let d = drops.clone();
    let victim = Coroutine::with_stack(place(&shared), move |y: &Yielder<(), ()>, ()| {
        let _g = CountDrop(d);
        y.suspend(());
    });
    let mut outer = Coroutine::with_stack(place(&shared), move |_: &Yielder<(), ()>, ()| {
        let (mut sibling, mut foreign, victim) = (sibling, foreign, victim);
        assert_eq!(sibling.resume(()), Err(ResumeError::StackBusy));
        assert_eq!(foreign.resume(()).unwrap(), CoroutineResult::Yield(0));
        // Cannot be unwound now: its frames are discarded (leaked).
        drop(victim);
        (sibling, foreign)
    });
    let (mut sibling, _foreign) = outer.resume(()).unwrap().into_complete().unwrap();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the discarded coroutine's destructors did not run"
    );
    // From outside, the sibling resumes fine.
    assert_eq!(sibling.resume(()).unwrap(), CoroutineResult::Yield(0));
    assert_eq!(
        ResumeError::StackBusy.to_string(),
        "cannot resume a copy-stack coroutine while another coroutine of its shared stack is running"
    );
}

#[test]
fn many_coroutines_round_robin_over_a_stack_set() {
    let set = SharedStackSet::new(4, 32 * 1024).unwrap();
    let mut cos: Vec<_> = (0..1000u64)
        .map(|k| {
            Coroutine::with_stack(
                place(set.next_stack()),
                move |y: &Yielder<u64, u64>, mut x| {
                    let mut acc = black_box([k; 8]);
                    loop {
                        acc[(x % 8) as usize] += x;
                        x = y.suspend(acc.iter().sum());
                    }
                },
            )
        })
        .collect();
    for s in set.stacks() {
        assert_eq!(s.coroutines(), 250);
    }
    let mut expect: Vec<u64> = (0..1000).map(|k| 8 * k).collect();
    for round in 1..=5u64 {
        for (k, co) in cos.iter_mut().enumerate() {
            expect[k] += round;
            assert_eq!(co.resume(round).unwrap(), CoroutineResult::Yield(expect[k]));
        }
    }
    let s = set.stats();
    assert!(s.copies_in >= 5 * 1000 - 4, "{s:?}");
    cos.clear();
    assert!(set.stacks().iter().all(|s| s.coroutines() == 0));
}

#[test]
fn shared_stack_size_errors() {
    let err = SharedStack::new(100).unwrap_err();
    assert!(err.to_string().contains("too small"), "{err}");
    let err = SharedStack::new(usize::MAX).unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
    let s = SharedStack::new(SharedStack::MIN_SIZE).unwrap();
    assert!(s.size() >= SharedStack::MIN_SIZE);
    assert_eq!(s.top() as usize % 16, 0);
}

// Guard-page overflow of a shared stack is tested in tests/aborts.rs
// (`copy_stack_guard_page_overflow_is_reported`, in a child process).

#[test]
fn scheduler_runs_copy_stack_tasks_in_round_robin_order() {
    use fcontext::scheduler::Scheduler;
    use std::cell::RefCell;
    let mut sched = Scheduler::with_source(
        // SAFETY: the tasks lend no pointer into their frames.
        unsafe { CopyStackSource::new(SharedStackSet::new(2, 32 * 1024).unwrap()) },
    );
    let log = std::rc::Rc::new(RefCell::new(Vec::new()));
    for name in ["a", "b", "c"] {
        let log = log.clone();
        sched
            .spawn(move |task| {
                let mine = black_box([name.len() as u8; 64]);
                for step in 0..2 {
                    log.borrow_mut().push(format!("{name}{step}"));
                    task.yield_now();
                }
                assert_eq!(black_box(&mine)[63], 1);
            })
            .unwrap();
    }
    sched.run();
    assert_eq!(*log.borrow(), ["a0", "b0", "c0", "a1", "b1", "c1"]);
    assert_eq!(sched.stats().finished, 3);
    // a and c share the first stack, so they swapped each other out.
    let s = sched.source().set().stacks()[0].stats();
    assert!(s.copies_out >= 2 && s.copies_in >= 2, "{s:?}");
    assert!(sched
        .source()
        .set()
        .stacks()
        .iter()
        .all(|s| s.coroutines() == 0));
}
