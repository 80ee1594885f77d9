//! Regression tests for soundness defects: safe programs (plus the one
//! `unsafe` opt-in they name) that used to corrupt memory, crash, or break a
//! documented promise. Cases that crashed or must abort run in a child
//! process (`tools::rerun_in_child`), so the verdict is the child's fate.

use fcontext_test_support as tools;

use fcontext::copystack::{CopyStack, SharedStack};
use fcontext::scheduler::Scheduler;
use fcontext::stack::FixedStack;
use fcontext::{Coroutine, CoroutineResult, Fiber, Generator, ResumeError, Yielder};
use std::any::Any;
use std::cell::RefCell;
use std::hint::black_box;
use std::panic::{self, catch_unwind, AssertUnwindSafe};
use std::process::Output;
use std::time::Duration;

/// The child's output in the parent, `None` in the child (which then runs
/// the case).
fn child(test_name: &str) -> Option<Output> {
    tools::rerun_in_child(test_name, Duration::from_secs(60))
}

/// A place on `shared`, through the opt-in whose contract these tests keep
/// (no pointer into a suspended coroutine's frames is used).
fn place(shared: &SharedStack) -> CopyStack {
    // SAFETY: no test body here lends a pointer into its frames to anything
    // that runs while it is suspended.
    #[allow(unused_unsafe)]
    unsafe {
        CopyStack::new(shared)
    }
}

type Sibling = Coroutine<(), u64, u64, CopyStack>;

/// A suspended copy-stack coroutine with 512 live bytes of its own on
/// `shared`: it yields their sum (448) and then completes with 1.
fn suspended_sibling(shared: &SharedStack) -> Sibling {
    let mut co = Coroutine::with_stack(place(shared), |y: &Yielder<(), u64>, ()| {
        let mut local = [7u64; 64];
        black_box(&mut local);
        y.suspend(local.iter().sum());
        black_box(&local)[0] - 6
    });
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Yield(448));
    co
}

thread_local! {
    static SIBLINGS: RefCell<Vec<Sibling>> = const { RefCell::new(Vec::new()) };
    static SHARED: RefCell<Option<SharedStack>> = const { RefCell::new(None) };
}

/// Defect 1: dropping a suspended sibling from inside the running owner of
/// the same shared stack cleared the stack's busy flag; the next sibling's
/// resume then copied its bytes over the running owner's frames.
#[test]
fn dropping_a_sibling_inside_the_owner_keeps_the_stack_busy() {
    if let Some(out) = child("dropping_a_sibling_inside_the_owner_keeps_the_stack_busy") {
        tools::assert_child_ok(&out);
        return;
    }
    let shared = SharedStack::new(64 * 1024).unwrap();
    SIBLINGS.with(|s| {
        let mut s = s.borrow_mut();
        for _ in 0..3 {
            s.push(suspended_sibling(&shared));
        }
    });
    let mut owner = Coroutine::with_stack(place(&shared), |_: &Yielder<(), ()>, ()| {
        let mut frame = [3u64; 256];
        black_box(&mut frame);
        SIBLINGS.with(|s| {
            let mut s = s.borrow_mut();
            // Two drops in a row, then a resume that must be refused.
            drop(s.remove(0));
            drop(s.remove(0));
            assert_eq!(s[0].resume(()), Err(ResumeError::StackBusy));
        });
        black_box(&frame).iter().sum::<u64>()
    });
    assert_eq!(owner.resume(()).unwrap(), CoroutineResult::Complete(768));
    // The survivor's frames are intact and it finishes normally.
    let mut last = SIBLINGS.with(|s| s.borrow_mut().pop().unwrap());
    assert_eq!(last.resume(()).unwrap(), CoroutineResult::Complete(1));
}

/// Defect 1, second half: after a sibling was dropped inside the owner,
/// creating a coroutine on the busy stack must still abort as documented.
#[test]
fn creating_on_a_busy_stack_after_a_sibling_drop_aborts() {
    if let Some(out) = child("creating_on_a_busy_stack_after_a_sibling_drop_aborts") {
        tools::assert_killed_by(
            &out,
            libc::SIGABRT,
            "cannot switch into a copy-stack coroutine while another coroutine of the same \
             shared stack runs",
        );
        return;
    }
    let shared = SharedStack::new(64 * 1024).unwrap();
    SIBLINGS.with(|s| s.borrow_mut().push(suspended_sibling(&shared)));
    SHARED.with(|s| *s.borrow_mut() = Some(shared.clone()));
    let mut owner = Coroutine::with_stack(place(&shared), |_: &Yielder<(), ()>, ()| {
        SIBLINGS.with(|s| drop(s.borrow_mut().pop()));
        let inner = SHARED.with(|s| s.borrow().clone().unwrap());
        let _late = Coroutine::with_stack(place(&inner), |_: &Yielder<(), ()>, ()| ());
        unreachable!("creating on a busy stack must abort");
    });
    let _ = owner.resume(());
}

#[inline(never)]
fn deep(n: u64) -> u64 {
    let mut frame = [0u8; 1024];
    black_box(&mut frame);
    if n == 0 {
        0
    } else {
        deep(n - 1).wrapping_add(frame[0] as u64)
    }
}

/// Defect 3: a `FixedStack` had no guard, so a body that ran off its bottom
/// silently overwrote the heap below it. Now the overrun hits a guard page
/// and the overflow handler reports it.
#[test]
fn fixed_stack_overflow_hits_its_guard() {
    if let Some(out) = child("fixed_stack_overflow_hits_its_guard") {
        tools::assert_killed_by(&out, libc::SIGABRT, "stack overflow in coroutine");
        return;
    }
    fcontext::overflow::install_overflow_handler().unwrap();
    let canary = vec![0xA5u8; 64 * 1024];
    let stack = FixedStack::new(64 * 1024).unwrap();
    let mut co = Coroutine::with_stack(stack, |_: &Yielder<(), ()>, ()| {
        black_box(deep(black_box(1 << 20)));
    });
    let _ = co.resume(());
    assert!(
        canary.iter().all(|&b| b == 0xA5),
        "the heap was overwritten"
    );
    unreachable!("the overflow must be reported");
}

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("a destructor on the coroutine's stack panicked");
    }
}

/// Defect 4: a destructor that panics while the drop unwinds a suspended
/// coroutine is a panic during unwinding, which Rust turns into an abort;
/// the docs now say so, and this pins it down.
#[test]
fn panicking_destructor_during_the_drop_unwind_aborts() {
    if let Some(out) = child("panicking_destructor_during_the_drop_unwind_aborts") {
        tools::assert_killed_by(&out, libc::SIGABRT, "panic in a destructor during cleanup");
        return;
    }
    let mut co = Coroutine::new(|y: &Yielder<(), ()>, ()| {
        let _bomb = PanicsOnDrop;
        y.suspend(());
    })
    .unwrap();
    co.resume(()).unwrap();
    drop(co);
    unreachable!("the drop must abort");
}

/// Defect 4, the other documented case: a body that catches the forced
/// unwind and then panics with a payload of its own (not during unwinding)
/// finishes, and the drop re-raises that payload.
#[test]
fn panic_after_a_caught_forced_unwind_is_reraised_by_the_drop() {
    let mut co = Coroutine::new(|y: &Yielder<(), ()>, ()| {
        let caught = catch_unwind(AssertUnwindSafe(|| y.suspend(())));
        assert!(caught.is_err(), "the drop unwinds the suspend");
        panic::panic_any(42u32);
    })
    .unwrap();
    co.resume(()).unwrap();
    let payload = catch_unwind(AssertUnwindSafe(move || drop(co))).unwrap_err();
    assert_eq!(payload.downcast_ref::<u32>(), Some(&42));
}

struct PayloadThatPanicsOnDrop;

impl Drop for PayloadThatPanicsOnDrop {
    fn drop(&mut self) {
        panic!("dropping the panic payload panicked");
    }
}

/// Defect 6: a task whose panic payload panics when dropped made `run_once`
/// panic out and left the scheduler inconsistent.
#[test]
fn scheduler_survives_a_payload_that_panics_when_dropped() {
    let mut sched = Scheduler::new().unwrap();
    sched
        .spawn(|_| panic::panic_any(PayloadThatPanicsOnDrop))
        .unwrap();
    sched
        .spawn(|task| {
            task.yield_now();
            task.yield_now();
        })
        .unwrap();
    let live = catch_unwind(AssertUnwindSafe(|| sched.run_once()));
    assert_eq!(live.ok(), Some(1), "run_once must return normally");
    let stats = sched.stats();
    assert_eq!((stats.live, stats.finished, stats.panicked), (1, 1, 1));
    sched.run();
    let stats = sched.stats();
    assert_eq!((stats.live, stats.finished, stats.panicked), (0, 2, 1));
}

thread_local! {
    static GENERATOR: RefCell<Option<Generator<u32, CopyStack>>> = const { RefCell::new(None) };
}

/// Defect 7: a copy-stack generator polled from inside a sibling of its
/// shared stack returned `None` (the refusal looked like the end) although
/// it was not done, and later returned items again: a broken
/// `FusedIterator`. Now the refusal panics with the reason, the generator is
/// untouched, and it goes on when polled from outside.
#[test]
fn copy_stack_generator_polled_from_a_sibling_is_not_ended() {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let generator = Generator::with_stack(place(&shared), |y: &Yielder<(), u32>| {
        for i in 0..3 {
            y.suspend(i);
        }
    });
    GENERATOR.with(|g| *g.borrow_mut() = Some(generator));
    let next = || GENERATOR.with(|g| g.borrow_mut().as_mut().unwrap().next());
    assert_eq!(next(), Some(0));
    let mut owner = Coroutine::with_stack(place(&shared), |_: &Yielder<(), ()>, ()| {
        GENERATOR.with(|g| {
            let mut g = g.borrow_mut();
            let g = g.as_mut().unwrap();
            let polled = catch_unwind(AssertUnwindSafe(|| g.next()));
            assert!(
                !matches!(polled, Ok(None)),
                "a generator that cannot run now reported its end"
            );
            assert!(!g.is_done());
        });
    });
    owner.resume(()).unwrap();
    assert_eq!(next(), Some(1));
    assert_eq!(next(), Some(2));
    assert_eq!(next(), None);
    assert_eq!(next(), None);
}

const BIG: usize = 256 * 1024;

/// Runs `f` on a thread with a stack large enough for debug builds to move
/// `BIG`-byte closures around on it.
fn on_a_big_thread(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

/// Defect 8: a fiber's closure was moved onto the fiber's own stack, so a
/// capture larger than the stack crashed.
#[test]
fn fiber_with_a_capture_larger_than_its_stack() {
    if let Some(out) = child("fiber_with_a_capture_larger_than_its_stack") {
        tools::assert_child_ok(&out);
        return;
    }
    on_a_big_thread(fiber_with_a_big_capture);
}

fn fiber_with_a_big_capture() {
    let big = [1u8; BIG];
    let fiber = Fiber::new(move |main| {
        assert_eq!(big.iter().map(|&b| b as usize).sum::<usize>(), BIG);
        main
    })
    .unwrap();
    assert!(fiber.resume().is_none());
    let big = [2u8; BIG];
    let stack = FixedStack::new(fcontext::stack_traits::minimum_size()).unwrap();
    let fiber = Fiber::with_stack(stack, move |main| {
        assert_eq!(big.iter().map(|&b| b as usize).sum::<usize>(), 2 * BIG);
        main
    });
    assert!(fiber.resume().is_none());
}

/// Defect 8 for copy-stack coroutines: the constructor moved the closure
/// onto the shared stack and crashed inside itself.
#[test]
fn copy_stack_coroutine_with_a_capture_larger_than_its_stack() {
    if let Some(out) = child("copy_stack_coroutine_with_a_capture_larger_than_its_stack") {
        tools::assert_child_ok(&out);
        return;
    }
    on_a_big_thread(copy_stack_coroutine_with_a_big_capture);
}

fn copy_stack_coroutine_with_a_big_capture() {
    let shared = SharedStack::new(SharedStack::MIN_SIZE).unwrap();
    let big = [3u8; BIG];
    let mut co = Coroutine::with_stack(place(&shared), move |_: &Yielder<(), ()>, ()| {
        big.iter().map(|&b| b as usize).sum::<usize>()
    });
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Complete(3 * BIG));
}

/// Defect 11: the fiber forced-unwind payload carried the dropper's
/// context and was `Send`; caught, sent to another thread and re-raised in a
/// fiber there, it made that fiber's end jump to the dropper's stack on the
/// wrong thread. Now a payload that reaches the root of a fiber it was not
/// meant for aborts.
#[test]
fn fiber_unwind_payload_reraised_on_another_thread_aborts() {
    if let Some(out) = child("fiber_unwind_payload_reraised_on_another_thread_aborts") {
        tools::assert_killed_by(&out, libc::SIGABRT, "forced unwind");
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel::<Box<dyn Any + Send>>();
    let fiber = Fiber::new(move |main| {
        let caught = catch_unwind(AssertUnwindSafe(move || drop(main.resume())));
        tx.send(caught.expect_err("the drop unwinds this fiber"))
            .unwrap();
        // The other thread ends the process; this fiber has nowhere to go.
        loop {
            std::thread::park();
        }
    })
    .unwrap();
    let fiber = fiber.resume().unwrap();
    let other = std::thread::spawn(move || {
        let payload = rx.recv().unwrap();
        let thief = Fiber::new(move |from| {
            // Keep this thread's own stack out of the unwind (dropping its
            // handle would abort first, for another reason).
            std::mem::forget(from);
            panic::resume_unwind(payload)
        })
        .unwrap();
        thief.resume();
    });
    drop(fiber);
    let _ = other.join();
    unreachable!("the stray payload must abort");
}

/// Defect 11, second half: a fiber that catches the unwind of its dropped
/// handle and forgets the payload must not dodge the documented abort.
#[test]
fn fiber_that_forgets_its_unwind_payload_aborts() {
    if let Some(out) = child("fiber_that_forgets_its_unwind_payload_aborts") {
        tools::assert_killed_by(&out, libc::SIGABRT, "forced unwind");
        return;
    }
    let fiber = Fiber::new(|main| {
        let caught = catch_unwind(AssertUnwindSafe(move || drop(main.resume())));
        std::mem::forget(caught);
        Fiber::new(|from| from).unwrap()
    })
    .unwrap();
    let fiber = fiber.resume().unwrap();
    drop(fiber);
    unreachable!("the fiber's end must abort");
}

/// Found in review: a suspended fiber kept in a thread-local is dropped
/// during thread-local destruction; the crate's own per-thread record of
/// unwind requests was a thread-local with a destructor, already gone by
/// then when a fiber had been dropped on that thread before, so the drop
/// aborted instead of unwinding the fiber. The records now live in the
/// droppers' frames.
#[test]
fn fiber_in_a_thread_local_is_unwound_at_thread_exit() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if let Some(out) = child("fiber_in_a_thread_local_is_unwound_at_thread_exit") {
        tools::assert_child_ok(&out);
        return;
    }
    static UNWOUND: AtomicUsize = AtomicUsize::new(0);
    struct CountsDrop;
    impl Drop for CountsDrop {
        fn drop(&mut self) {
            UNWOUND.fetch_add(1, Ordering::SeqCst);
        }
    }
    thread_local! {
        static KEPT: RefCell<Option<Fiber>> = const { RefCell::new(None) };
    }
    std::thread::spawn(|| {
        // Registered first, so destroyed after anything registered later.
        KEPT.with(|_| {});
        // A fiber dropped here touches the crate's per-thread state after.
        drop(Fiber::new(|main| main).unwrap());
        let fiber = Fiber::new(|main| {
            let _counts = CountsDrop;
            main.resume().unwrap()
        })
        .unwrap();
        let fiber = fiber.resume().unwrap();
        KEPT.with(|k| *k.borrow_mut() = Some(fiber));
    })
    .join()
    .unwrap();
    assert_eq!(UNWOUND.load(Ordering::SeqCst), 1);
}

type FiberSlot = std::rc::Rc<RefCell<Option<Fiber>>>;

fn fiber_slot() -> FiberSlot {
    std::rc::Rc::new(RefCell::new(None))
}

/// Unwinds A: resumes B, which drops C; gets C's handle back and keeps it.
struct UnwindsIntoB {
    b: FiberSlot,
    keep: FiberSlot,
}

impl Drop for UnwindsIntoB {
    fn drop(&mut self) {
        let b = self.b.borrow_mut().take().unwrap();
        let c = b.resume().expect("C comes back from its unwind");
        *self.keep.borrow_mut() = Some(c);
    }
}

/// Unwinds C: resumes A (itself mid-unwind) and waits.
struct UnwindsIntoA {
    a: FiberSlot,
    back: FiberSlot,
}

impl Drop for UnwindsIntoA {
    fn drop(&mut self) {
        let a = self.a.borrow_mut().take().unwrap();
        let next = a.resume().expect("resumed again later");
        *self.back.borrow_mut() = Some(next);
    }
}

#[inline(never)]
fn scribble_stack(depth: usize) -> usize {
    let frame = black_box([0xA5u8; 2048]);
    if depth == 0 {
        frame[0] as usize
    } else {
        scribble_stack(depth - 1) + black_box(&frame)[depth] as usize
    }
}

/// Found in review: fiber drops need not finish in the order they started.
/// M drops A; while A unwinds it switches to B, which drops C; C's unwind
/// switches back into A, whose unwind then finishes, so M's drop returns
/// while B's drop of C still waits. The thread's list of unwind requests
/// assumed last-in-first-out and lost B's request (or, in a debug build,
/// panicked and left M's dead request linked): C's later unwind then
/// aborted or walked freed stack memory. Every drop must complete.
#[test]
fn fiber_drops_that_finish_out_of_order_all_complete() {
    if let Some(out) = child("fiber_drops_that_finish_out_of_order_all_complete") {
        tools::assert_child_ok(&out);
        assert!(String::from_utf8_lossy(&out.stdout).contains("all drops done"));
        return;
    }
    let (slot_a, slot_b, slot_c, slot_m, keep) = (
        fiber_slot(),
        fiber_slot(),
        fiber_slot(),
        fiber_slot(),
        fiber_slot(),
    );
    let c = {
        let (a, back) = (slot_a.clone(), slot_m.clone());
        Fiber::new(move |from| {
            let _g = UnwindsIntoA { a, back };
            drop(from.resume());
            unreachable!("C is only ever unwound")
        })
        .unwrap()
    };
    *slot_c.borrow_mut() = Some(c.resume().unwrap());
    let b = {
        let (a, c, m) = (slot_a.clone(), slot_c.clone(), slot_m.clone());
        Fiber::new(move |from_a| {
            *a.borrow_mut() = Some(from_a);
            drop(c.borrow_mut().take()); // waits until C's unwind ends
            m.borrow_mut().take().expect("C handed over M")
        })
        .unwrap()
    };
    *slot_b.borrow_mut() = Some(b);
    let a = {
        let (b, keep) = (slot_b.clone(), keep.clone());
        Fiber::new(move |m| {
            let _g = UnwindsIntoB { b, keep };
            drop(m.resume());
            unreachable!("A is only ever unwound")
        })
        .unwrap()
    };
    let a = a.resume().unwrap();
    drop(a); // returns while B's drop of C is still waiting
    black_box(scribble_stack(8)); // reuse the stack where M's request lived
    let c = keep.borrow_mut().take().expect("A kept C's handle");
    assert!(c.resume().is_none(), "B ends, continuing with M");
    black_box(scribble_stack(8));
    // A fiber's end walks the request list: it must be intact.
    assert!(Fiber::new(|m| m).unwrap().resume().is_none());
    println!("all drops done");
}
