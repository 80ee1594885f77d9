//! Generator as an iterator.

use fcontext::{FixedStack, Generator};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
fn fibonacci_prefix() {
    let fib = Generator::new(|y| {
        let (mut a, mut b) = (0u64, 1u64);
        loop {
            y.suspend(a);
            (a, b) = (b, a + b);
        }
    })
    .unwrap();
    let first: Vec<u64> = fib.take(12).collect();
    assert_eq!(first, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]);
}

#[test]
fn ends_when_the_closure_returns_and_stays_ended() {
    let mut g = Generator::with_stack(FixedStack::new(64 * 1024).unwrap(), |y| {
        y.suspend("a");
        y.suspend("b");
    });
    assert_eq!(g.next(), Some("a"));
    assert_eq!(g.next(), Some("b"));
    assert!(!g.is_done());
    assert_eq!(g.next(), None);
    assert!(g.is_done());
    assert_eq!(g.next(), None);
}

#[test]
fn panic_surfaces_in_next_then_iteration_stops() {
    let mut g = Generator::new(|y| {
        y.suspend(1);
        panic!("generator failed");
    })
    .unwrap();
    assert_eq!(g.next(), Some(1));
    let err = catch_unwind(AssertUnwindSafe(|| g.next())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"generator failed"));
    assert_eq!(g.next(), None);
}

#[test]
fn local_generator_borrows_thread_local_state() {
    let data = std::rc::Rc::new(vec![3, 1, 2]);
    let d = data.clone();
    let g = Generator::new(move |y| {
        for x in d.iter() {
            y.suspend(*x * 10);
        }
    })
    .unwrap();
    assert_eq!(g.collect::<Vec<_>>(), [30, 10, 20]);
}
