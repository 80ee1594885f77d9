//! Coroutine behaviour: values both ways, completion, errors after the end,
//! panics, forced unwind, nesting.

use fcontext::{Coroutine, CoroutineResult, FixedStack, ResumeError, SendCoroutine, Yielder};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn values_travel_both_ways() {
    let mut co = Coroutine::new(|y: &Yielder<u64, u64>, mut input: u64| {
        let mut sum = 0;
        while input != 0 {
            sum += input;
            input = y.suspend(sum);
        }
        format!("sum={sum}")
    })
    .unwrap();
    assert_eq!(co.resume(3).unwrap(), CoroutineResult::Yield(3));
    assert_eq!(co.resume(4).unwrap(), CoroutineResult::Yield(7));
    assert_eq!(co.resume(10).unwrap(), CoroutineResult::Yield(17));
    assert!(!co.is_done());
    assert_eq!(
        co.resume(0).unwrap(),
        CoroutineResult::Complete("sum=17".to_string())
    );
    assert!(co.is_done());
}

#[test]
fn ping_pong_many_times() {
    let mut co = Coroutine::new(|y: &Yielder<u32, u32>, mut n: u32| loop {
        n = y.suspend(n + 1);
    })
    .unwrap();
    let mut value = 0;
    for _ in 0..100_000 {
        value = co.resume(value).unwrap().into_yield().unwrap();
    }
    assert_eq!(value, 100_000);
}

#[test]
fn resume_after_complete_is_err() {
    let mut co = Coroutine::new(|_: &Yielder<(), ()>, ()| 42).unwrap();
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Complete(42));
    assert_eq!(co.resume(()), Err(ResumeError::Completed));
    assert_eq!(co.resume(()), Err(ResumeError::Completed));
    assert!(ResumeError::Completed.to_string().contains("completed"));
}

#[test]
fn panic_propagates_to_resumer_and_finishes() {
    let mut co = Coroutine::new(|y: &Yielder<(), i32>, ()| {
        y.suspend(1);
        panic!("boom inside");
    })
    .unwrap();
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Yield(1));
    let err = catch_unwind(AssertUnwindSafe(|| co.resume(()))).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"boom inside"));
    assert!(co.is_done());
    assert_eq!(co.resume(()), Err(ResumeError::Panicked));
}

/// Counts its drops in a shared counter.
struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn nest(depth: u32, drops: &Arc<AtomicUsize>, y: &Yielder<(), u32>) {
    let _guard = Counted(drops.clone());
    if depth == 0 {
        y.suspend(7);
        unreachable!("a dropped coroutine must not be resumed normally");
    }
    nest(depth - 1, drops, y);
}

#[test]
fn drop_while_suspended_runs_every_destructor() {
    let drops = Arc::new(AtomicUsize::new(0));
    let captured = Counted(drops.clone());
    let inner = drops.clone();
    let mut co = Coroutine::new(move |y: &Yielder<(), u32>, ()| {
        let _keep = captured;
        nest(10, &inner, y);
    })
    .unwrap();
    assert_eq!(co.resume(()).unwrap(), CoroutineResult::Yield(7));
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(co);
    // 11 guards in `nest` plus the captured value.
    assert_eq!(drops.load(Ordering::SeqCst), 12);
}

#[test]
fn drop_before_first_resume_drops_the_closure() {
    let drops = Arc::new(AtomicUsize::new(0));
    let captured = Counted(drops.clone());
    let co = Coroutine::new(move |_: &Yielder<(), ()>, ()| drop(captured)).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(co);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn drop_during_unwinding_of_the_owner() {
    let drops = Arc::new(AtomicUsize::new(0));
    let inner = drops.clone();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut co = Coroutine::new(move |y: &Yielder<(), u32>, ()| nest(3, &inner, y)).unwrap();
        co.resume(()).unwrap();
        panic!("owner panics while the coroutine is suspended");
    }));
    assert!(result.is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn panic_raised_during_forced_unwind_reaches_the_dropper() {
    // A body that intercepts the forced unwind and panics with its own
    // payload instead: the drop re-raises that panic.
    let mut co = Coroutine::new(|y: &Yielder<(), ()>, ()| {
        let caught = catch_unwind(AssertUnwindSafe(|| y.suspend(())));
        assert!(caught.is_err());
        panic!("replacement panic");
    })
    .unwrap();
    co.resume(()).unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| drop(co))).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"replacement panic"));
}

#[test]
fn into_stack_returns_the_stack_for_reuse() {
    let stack = FixedStack::new(64 * 1024).unwrap();
    let top = fcontext::Stack::top(&stack);
    let mut co = Coroutine::with_stack(stack, |y: &Yielder<(), ()>, ()| y.suspend(()));
    co.resume(()).unwrap();
    let stack = co.into_stack();
    assert_eq!(fcontext::Stack::top(&stack), top);
    let mut again = Coroutine::with_stack(stack, |_: &Yielder<i32, ()>, x: i32| x * 2);
    assert_eq!(again.resume(21).unwrap(), CoroutineResult::Complete(42));
}

#[test]
fn nested_coroutines() {
    let mut outer = Coroutine::new(|y: &Yielder<(), u32>, ()| {
        let mut inner = Coroutine::new(|yi: &Yielder<(), u32>, ()| {
            for i in 0..3 {
                yi.suspend(i);
            }
        })
        .unwrap();
        while let CoroutineResult::Yield(v) = inner.resume(()).unwrap() {
            y.suspend(v * 100);
        }
        999
    })
    .unwrap();
    let mut seen = Vec::new();
    loop {
        match outer.resume(()).unwrap() {
            CoroutineResult::Yield(v) => seen.push(v),
            CoroutineResult::Complete(r) => {
                seen.push(r);
                break;
            }
        }
    }
    assert_eq!(seen, vec![0, 100, 200, 999]);
}

#[test]
fn coroutine_resumed_from_another_coroutine() {
    // `worker` is created outside and resumed alternately by the main thread
    // and by `driver`, so its caller changes between resumes.
    let worker = Rc::new(RefCell::new(
        Coroutine::new(|y: &Yielder<&'static str, String>, mut who: &'static str| {
            let mut log = String::new();
            for _ in 0..3 {
                log.push_str(who);
                log.push(';');
                who = y.suspend(log.clone());
            }
            log.push_str(who);
            log.push(';');
            log
        })
        .unwrap(),
    ));
    let w = worker.clone();
    let mut driver = Coroutine::new(move |y: &Yielder<(), String>, ()| {
        let got = w
            .borrow_mut()
            .resume("driver")
            .unwrap()
            .into_yield()
            .unwrap();
        y.suspend(got);
        w.borrow_mut()
            .resume("driver")
            .unwrap()
            .into_yield()
            .unwrap()
    })
    .unwrap();
    let first = driver.resume(()).unwrap().into_yield().unwrap();
    assert_eq!(first, "driver;");
    let second = worker
        .borrow_mut()
        .resume("main")
        .unwrap()
        .into_yield()
        .unwrap();
    assert_eq!(second, "driver;main;");
    let third = driver.resume(()).unwrap().into_complete().unwrap();
    assert_eq!(third, "driver;main;driver;");
    let last = worker
        .borrow_mut()
        .resume("main")
        .unwrap()
        .into_complete()
        .unwrap();
    assert_eq!(last, "driver;main;driver;main;");
}

#[test]
fn local_coroutine_accepts_rc() {
    let counter = Rc::new(RefCell::new(0));
    let c = counter.clone();
    let mut co = Coroutine::new(move |y: &Yielder<(), ()>, ()| {
        for _ in 0..3 {
            *c.borrow_mut() += 1;
            y.suspend(());
        }
    })
    .unwrap();
    while let CoroutineResult::Yield(()) = co.resume(()).unwrap() {}
    assert_eq!(*counter.borrow(), 3);
}

#[test]
fn send_coroutine_moves_between_threads() {
    // SAFETY: the body holds only its own Vec across a suspend.
    let mut co = unsafe {
        SendCoroutine::new(|y: &Yielder<u32, u32>, mut x: u32| {
            let mut state = vec![x];
            loop {
                x = y.suspend(state.iter().sum());
                state.push(x);
            }
        })
    }
    .unwrap();
    assert_eq!(co.resume(1).unwrap(), CoroutineResult::Yield(1));
    let mut co = std::thread::spawn(move || {
        assert_eq!(co.resume(2).unwrap(), CoroutineResult::Yield(3));
        co
    })
    .join()
    .unwrap();
    assert_eq!(co.resume(3).unwrap(), CoroutineResult::Yield(6));
}

#[test]
fn send_and_sync_bounds() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<SendCoroutine<u32, String, Vec<u8>>>();
    send::<SendCoroutine<u32, u32, u32, FixedStack>>();
    send::<SendCoroutine<u32, u32, u32, fcontext::PooledStack>>();
    send_sync::<fcontext::ProtectedStack>();
    send_sync::<FixedStack>();
    send_sync::<fcontext::StackPool>();
    send::<fcontext::PooledStack>();
    // The non-Send cases (Coroutine, Generator, Fiber, a SendCoroutine on a
    // copy stack) are compile_fail doctests (a test cannot assert that
    // something does not compile).
}

#[test]
fn closures_large_and_small_keep_their_captures() {
    // 1 KiB of captures sits at the top of the coroutine's stack; 256 KiB
    // does not fit there (a 128 KiB stack) and is boxed instead. Both must
    // arrive intact, and both must be dropped if the coroutine never runs.
    let small = [7u8; 1024];
    let mut co =
        Coroutine::new(move |_: &Yielder<(), ()>, ()| small.iter().map(|&b| b as u32).sum::<u32>())
            .unwrap();
    assert_eq!(co.resume(()).unwrap().into_complete(), Some(7 * 1024));

    let big = vec![3u8; 256 * 1024].into_boxed_slice();
    let big: Box<[u8; 256 * 1024]> = big.try_into().unwrap();
    let big = *big;
    let mut co =
        Coroutine::new(move |_: &Yielder<(), ()>, ()| big.iter().map(|&b| b as u32).sum::<u32>())
            .unwrap();
    assert_eq!(co.resume(()).unwrap().into_complete(), Some(3 * 256 * 1024));

    let drops = Arc::new(AtomicUsize::new(0));
    let guard = Counted(drops.clone());
    let padding = [0u8; 64 * 1024];
    let co = Coroutine::new(move |_: &Yielder<(), ()>, ()| {
        let _keep = (&guard, padding.len());
    })
    .unwrap();
    drop(co);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn suspended_coroutine_dropped_on_another_thread_unwinds_there() {
    let drops = Arc::new(AtomicUsize::new(0));
    let inner = drops.clone();
    // SAFETY: the body holds only Arcs and its own values across a suspend.
    let mut co =
        unsafe { SendCoroutine::new(move |y: &Yielder<(), u32>, ()| nest(5, &inner, y)) }.unwrap();
    assert_eq!(co.resume(()).unwrap().into_yield(), Some(7));
    let dropper = std::thread::spawn(move || {
        drop(co);
        std::thread::current().id()
    });
    let dropper_id = dropper.join().unwrap();
    assert_ne!(dropper_id, std::thread::current().id());
    assert_eq!(drops.load(Ordering::SeqCst), 6);
}

/// A value with an identity that counts its drops, so a test can tell
/// whether each value that crossed a switch was dropped exactly once.
struct Tagged(Arc<AtomicUsize>, u8);

impl Drop for Tagged {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn owned_values_cross_switches_and_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    // Input and yield of different sizes share the exchange's value slot.
    let mut co = Coroutine::new(|y: &Yielder<Tagged, [u64; 8]>, first: Tagged| {
        let mut seen = vec![first.1];
        drop(first);
        for k in 0..3u64 {
            let next = y.suspend([k; 8]);
            seen.push(next.1);
        }
        seen
    })
    .unwrap();
    let tagged = |n| Tagged(drops.clone(), n);
    assert_eq!(
        co.resume(tagged(10)).unwrap(),
        CoroutineResult::Yield([0; 8])
    );
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(
        co.resume(tagged(11)).unwrap(),
        CoroutineResult::Yield([1; 8])
    );
    assert_eq!(
        co.resume(tagged(12)).unwrap(),
        CoroutineResult::Yield([2; 8])
    );
    // Inputs 11 and 12 went into the body's `next` and were dropped there.
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(
        co.resume(tagged(13)).unwrap(),
        CoroutineResult::Complete(vec![10, 11, 12, 13])
    );
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    // After the end the input is refused and dropped right away.
    assert_eq!(co.resume(tagged(14)), Err(ResumeError::Completed));
    assert_eq!(drops.load(Ordering::SeqCst), 5);

    // Yielded values belong to the resumer: one drop each, none left behind
    // in the exchange; the unfinished body's own value is unwound at drop.
    let yields = Arc::new(AtomicUsize::new(0));
    let inner = yields.clone();
    let mut gen = Coroutine::new(move |y: &Yielder<(), Tagged>, ()| {
        let _held = Tagged(inner.clone(), 99);
        for n in 0..4 {
            y.suspend(Tagged(inner.clone(), n));
        }
    })
    .unwrap();
    for n in 0..3 {
        let value = gen.resume(()).unwrap().into_yield().unwrap();
        assert_eq!(value.1, n);
    }
    assert_eq!(yields.load(Ordering::SeqCst), 3);
    drop(gen);
    assert_eq!(yields.load(Ordering::SeqCst), 4);
}
