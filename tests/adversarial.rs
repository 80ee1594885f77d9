//! Adversarial use of the safe API: forgotten handles, re-entrant and
//! nested resumes, sibling operations on shared stacks, panics in every
//! callback and destructor, payloads that panic when dropped, oversized
//! captures, and every stack type at its minimum size. Each case checks the
//! documented outcome; none may corrupt memory (the Valgrind pass of
//! `cargo xtask test` runs this file too).

use fcontext::copystack::{CopyStack, SharedStack};
use fcontext::scheduler::Scheduler;
use fcontext::stack_traits::minimum_size;
use fcontext::{
    Coroutine, CoroutineResult, Fiber, FixedStack, Generator, ProtectedStack, ResumeError,
    SendCoroutine, Stack, StackError, StackPool, Yielder,
};
use std::cell::{Cell, RefCell};
use std::panic::{self, catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

/// A place on `shared`.
fn place(shared: &SharedStack) -> CopyStack {
    // SAFETY: no body in this file lends a pointer into its frames to
    // anything that runs while it is suspended.
    unsafe { CopyStack::new(shared) }
}

/// Counts its drops in a shared cell.
struct Counted(Rc<Cell<u32>>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A panic payload whose destructor panics too.
struct NastyPayload;

impl Drop for NastyPayload {
    fn drop(&mut self) {
        panic!("the payload's destructor panicked");
    }
}

/// Silences the default panic hook's output for panics this file causes
/// on purpose (the hook itself would need a large stack, too).
fn quiet<T>(f: impl FnOnce() -> T) -> T {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let out = f();
    panic::set_hook(hook);
    out
}

#[test]
#[cfg_attr(
    feature = "sanitize-address",
    ignore = "leaks on purpose, which LeakSanitizer reports (Valgrind runs it)"
)]
fn forgotten_handles_leak_but_break_nothing() {
    let drops = Rc::new(Cell::new(0));

    let d = drops.clone();
    let mut co = Coroutine::new(move |y: &Yielder<(), ()>, ()| {
        let _c = Counted(d);
        y.suspend(());
    })
    .unwrap();
    co.resume(()).unwrap();
    std::mem::forget(co);

    let d = drops.clone();
    let mut g = Generator::new(move |y| {
        let _c = Counted(d);
        y.suspend(1);
        y.suspend(2);
    })
    .unwrap();
    assert_eq!(g.next(), Some(1));
    std::mem::forget(g);

    let fiber = Fiber::new(|main| main.resume().unwrap()).unwrap();
    let fiber = fiber.resume().unwrap();
    std::mem::forget(fiber);

    // SAFETY: the body holds nothing thread-bound.
    let mut send = unsafe { SendCoroutine::new(|y: &Yielder<(), ()>, ()| y.suspend(())) }.unwrap();
    send.resume(()).unwrap();
    std::mem::forget(send);

    // A forgotten pooled stack never returns; the pool goes on.
    let pool = StackPool::new(64 * 1024, 2).unwrap();
    let mut co =
        Coroutine::with_stack(pool.get().unwrap(), |y: &Yielder<(), ()>, ()| y.suspend(()));
    co.resume(()).unwrap();
    std::mem::forget(co);
    let mut co = Coroutine::<(), (), u8, _>::with_stack(pool.get().unwrap(), |_, ()| 5);
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Complete(5));

    // No destructor on a forgotten stack ran.
    assert_eq!(drops.get(), 0);
}

#[test]
#[cfg_attr(
    feature = "sanitize-address",
    ignore = "leaks on purpose, which LeakSanitizer reports (Valgrind runs it)"
)]
fn forgotten_copy_stack_coroutines_leave_their_siblings_working() {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let body = |y: &Yielder<u64, u64>, mut x: u64| {
        let mut frame = [x; 32];
        loop {
            x = y.suspend(frame.iter().sum());
            frame[(x % 32) as usize] = x;
        }
    };
    let mut a = Coroutine::with_stack(place(&shared), body);
    let mut b = Coroutine::with_stack(place(&shared), body);
    assert_eq!(a.resume(1).unwrap(), CoroutineResult::Yield(32));
    // b now owns the stack; forget it while it is the owner.
    assert_eq!(b.resume(2).unwrap(), CoroutineResult::Yield(64));
    std::mem::forget(b);
    // a swaps the forgotten owner's bytes out (into its leaked buffer) and
    // goes on with its own frames intact.
    assert_eq!(a.resume(1).unwrap(), CoroutineResult::Yield(32));
    let mut c = Coroutine::with_stack(place(&shared), body);
    assert_eq!(c.resume(3).unwrap(), CoroutineResult::Yield(96));
    // a forgotten while swapped out; c keeps working.
    std::mem::forget(a);
    assert_eq!(c.resume(3).unwrap(), CoroutineResult::Yield(96));
}

#[test]
fn nested_resumes_return_to_their_own_resumers() {
    fn level(depth: u32) -> Coroutine<u32, u32, u32> {
        Coroutine::new(move |y: &Yielder<u32, u32>, mut x: u32| {
            let mut inner = (depth > 0).then(|| level(depth - 1));
            for _ in 0..3 {
                let from_inner = match inner.as_mut() {
                    Some(co) => co.resume(x).unwrap().into_yield().unwrap(),
                    None => x,
                };
                x = y.suspend(from_inner + 1);
            }
            depth
        })
        .unwrap()
    }
    let mut top = level(4);
    // Each of the five levels adds one on the way out.
    assert_eq!(top.resume(10).unwrap(), CoroutineResult::Yield(15));
    assert_eq!(top.resume(20).unwrap(), CoroutineResult::Yield(25));
    assert_eq!(top.resume(30).unwrap(), CoroutineResult::Yield(35));
    assert_eq!(top.resume(0).unwrap(), CoroutineResult::Complete(4));
}

#[test]
fn a_coroutine_cannot_reach_itself_through_shared_ownership() {
    // The only way for a body to name its own coroutine is shared
    // ownership; the borrow held by the running resume refuses the second.
    type Me = Rc<RefCell<Option<Coroutine<(), (), bool>>>>;
    let me: Me = Rc::new(RefCell::new(None));
    let inner = me.clone();
    let co =
        Coroutine::new(move |_: &Yielder<(), ()>, ()| inner.try_borrow_mut().is_err()).unwrap();
    *me.borrow_mut() = Some(co);
    let result = me.borrow_mut().as_mut().unwrap().resume(()).unwrap();
    assert_eq!(result, CoroutineResult::Complete(true));
    me.borrow_mut().take();
}

#[test]
fn copy_stack_siblings_across_two_shared_stacks_nest() {
    let one = SharedStack::new(64 * 1024).unwrap();
    let two = SharedStack::new(64 * 1024).unwrap();
    let two_inner = two.clone();
    let mut outer = Coroutine::with_stack(place(&one), move |y: &Yielder<(), u32>, ()| {
        let mut a = Coroutine::with_stack(place(&two_inner), |y: &Yielder<(), u32>, ()| {
            y.suspend(1);
            2
        });
        let mut b = Coroutine::with_stack(place(&two_inner), |y: &Yielder<(), u32>, ()| {
            y.suspend(10);
            20
        });
        let mut total = 0;
        for _ in 0..2 {
            for co in [&mut a, &mut b] {
                total += match co.resume(()).unwrap() {
                    CoroutineResult::Yield(v) | CoroutineResult::Complete(v) => v,
                };
            }
        }
        y.suspend(total);
        total
    });
    assert_eq!(outer.resume(()).unwrap(), CoroutineResult::Yield(33));
    assert!(two.stats().copies_in >= 2);
    assert_eq!(outer.resume(()).unwrap(), CoroutineResult::Complete(33));
    assert_eq!(outer.resume(()), Err(ResumeError::Completed));
}

#[test]
fn panics_in_every_callback_are_contained_or_reraised() {
    quiet(|| {
        // A coroutine body: re-raised by resume, then Panicked.
        let mut co = Coroutine::<(), (), (), _>::new(|_, ()| panic!("body")).unwrap();
        assert!(catch_unwind(AssertUnwindSafe(|| co.resume(()))).is_err());
        assert_eq!(co.resume(()), Err(ResumeError::Panicked));

        // A generator closure: re-raised by next, then the end, for good.
        let mut g = Generator::new(|y| {
            y.suspend(1);
            panic!("generator");
        })
        .unwrap();
        assert_eq!(g.next(), Some(1));
        assert!(catch_unwind(AssertUnwindSafe(|| g.next())).is_err());
        assert_eq!(g.next(), None);
        assert_eq!(g.next(), None);

        // A destructor of a never-started coroutine's closure: the drop
        // re-raises it.
        struct PanicsOnDrop;
        impl Drop for PanicsOnDrop {
            fn drop(&mut self) {
                panic!("closure destructor");
            }
        }
        let guard = PanicsOnDrop;
        let co = Coroutine::<(), (), (), _>::new(move |_, ()| drop(guard)).unwrap();
        assert!(catch_unwind(AssertUnwindSafe(move || drop(co))).is_err());

        // A resume_with closure: raised in the target where its pending
        // resume returns. The closure parks the fiber it received (fiber
        // `a`) where the target finds it, so the target can end with it.
        thread_local! {
            static PARKED: RefCell<Option<Fiber>> = const { RefCell::new(None) };
        }
        let b = Fiber::new(|a| {
            let outcome = catch_unwind(AssertUnwindSafe(move || a.resume()));
            let payload = outcome.expect_err("resume_with's panic arrives here");
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"on top"));
            PARKED
                .with(|p| p.borrow_mut().take())
                .expect("the parked fiber")
        })
        .unwrap();
        let a = Fiber::new(move |main| {
            let b = b.resume().expect("b switched back");
            let back = b.resume_with(|from_a| {
                PARKED.with(|p| *p.borrow_mut() = Some(from_a));
                panic!("on top")
            });
            assert!(back.is_none(), "b ended, continuing with a");
            main
        })
        .unwrap();
        assert!(a.resume().is_none());

        // A scheduler task: counted, the others go on.
        let mut sched = Scheduler::new().unwrap();
        sched.spawn(|_| panic!("task")).unwrap();
        sched.spawn(|t| t.yield_now()).unwrap();
        sched.run();
        assert_eq!(sched.stats().panicked, 1);
        assert_eq!(sched.stats().finished, 2);
    });
}

#[test]
fn payloads_that_panic_when_dropped_leave_coroutines_consistent() {
    quiet(|| {
        let mut co =
            Coroutine::<(), (), (), _>::new(|_, ()| panic::panic_any(NastyPayload)).unwrap();
        let payload = catch_unwind(AssertUnwindSafe(|| co.resume(()))).unwrap_err();
        assert!(payload.is::<NastyPayload>());
        // Dropping it would panic again; the coroutine does not care.
        std::mem::forget(payload);
        assert!(co.is_done());
        assert_eq!(co.resume(()), Err(ResumeError::Panicked));

        let mut sched = Scheduler::new().unwrap();
        for _ in 0..3 {
            sched.spawn(|_| panic::panic_any(NastyPayload)).unwrap();
        }
        assert_eq!(sched.run_once(), 0);
        assert_eq!(sched.stats().panicked, 3);
    });
}

#[test]
fn oversized_captures_work_on_every_constructor() {
    const BIG: usize = 64 * 1024;
    let sum = |b: &[u8; BIG]| b.iter().map(|&x| x as usize).sum::<usize>();
    let small = FixedStack::new(minimum_size()).unwrap();
    let big = Box::new([1u8; BIG]);
    let mut co = Coroutine::with_stack(small, move |_: &Yielder<(), ()>, ()| sum(&big));
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Complete(BIG));

    let big = Box::new([2u8; BIG]);
    let g = Generator::with_stack(ProtectedStack::new(minimum_size()).unwrap(), move |y| {
        y.suspend(sum(&big))
    });
    assert_eq!(g.collect::<Vec<_>>(), [2 * BIG]);

    let shared = SharedStack::new(SharedStack::MIN_SIZE).unwrap();
    let big = Box::new([3u8; BIG]);
    let mut co = Coroutine::with_stack(place(&shared), move |_: &Yielder<(), ()>, ()| sum(&big));
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Complete(3 * BIG));

    let pool = StackPool::new(minimum_size(), 1).unwrap();
    let mut sched = Scheduler::with_pool(pool);
    let big = Box::new([4u8; BIG]);
    let seen = Rc::new(Cell::new(0));
    let out = seen.clone();
    sched
        .spawn(move |t| {
            t.yield_now();
            out.set(sum(&big));
        })
        .unwrap();
    sched.run();
    assert_eq!(seen.get(), 4 * BIG);
}

/// A coroutine that keeps a value with a destructor across two suspends,
/// then returns: run to the end on `stack`, and once more dropped while
/// suspended (so the drop unwinds it on the same kind of stack).
fn exercise<S: Stack>(stack: impl Fn() -> S) {
    let drops = Rc::new(Cell::new(0));
    for finish in [true, false] {
        let d = drops.clone();
        let mut co = Coroutine::with_stack(stack(), move |y: &Yielder<u8, u8>, x| {
            let _c = Counted(d);
            let x = y.suspend(x + 1);
            let x = y.suspend(x + 1);
            x + 1
        });
        assert_eq!(co.resume(1).unwrap(), CoroutineResult::Yield(2));
        if finish {
            assert_eq!(co.resume(5).unwrap(), CoroutineResult::Yield(6));
            assert_eq!(co.resume(7).unwrap(), CoroutineResult::Complete(8));
        }
    }
    assert_eq!(drops.get(), 2);
}

#[test]
fn every_stack_type_works_at_its_minimum_size() {
    let min = minimum_size();
    exercise(|| ProtectedStack::new(min).unwrap());
    exercise(|| FixedStack::new(min).unwrap());
    let pool = StackPool::new(min, 1).unwrap();
    exercise(|| pool.get().unwrap());
    let shared = SharedStack::new(SharedStack::MIN_SIZE).unwrap();
    exercise(|| place(&shared));
    let fiber = Fiber::with_stack(FixedStack::new(min).unwrap(), |main| main);
    assert!(fiber.resume().is_none());
}

#[test]
fn sizes_below_the_minimum_are_errors_for_every_stack_type() {
    let below = minimum_size() - 1;
    assert!(matches!(
        ProtectedStack::new(below),
        Err(StackError::TooSmall { .. })
    ));
    assert!(matches!(
        FixedStack::new(below),
        Err(StackError::TooSmall { .. })
    ));
    assert!(matches!(
        StackPool::new(below, 1),
        Err(StackError::TooSmall { .. })
    ));
    assert!(matches!(FixedStack::new(0), Err(StackError::ZeroSize)));
    assert!(FixedStack::new(usize::MAX).is_err());
    assert!(SharedStack::new(SharedStack::MIN_SIZE - 1).is_err());
}
