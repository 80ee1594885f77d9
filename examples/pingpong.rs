//! Ping-pong two ways: an asymmetric `Coroutine` that answers each ball it is
//! resumed with, and two symmetric `Fiber`s that switch to each other
//! directly, without going back through `main`.
//!
//! Run with `cargo run --example pingpong [rounds]`.

use fcontext::{Coroutine, CoroutineResult, Fiber, Yielder};
use std::cell::RefCell;
use std::rc::Rc;

fn coroutine_pingpong(rounds: u32) {
    // The coroutine receives "ping n" and answers "pong n"; resume returns
    // the answer. When main sends `None`, the coroutine returns its count.
    let mut pong = Coroutine::new(|y: &Yielder<Option<u32>, String>, mut ball: Option<u32>| {
        let mut hits = 0;
        while let Some(n) = ball {
            hits += 1;
            ball = y.suspend(format!("pong {n}"));
        }
        hits
    })
    .expect("cannot allocate the coroutine's stack");
    for n in 1..=rounds {
        println!("main: ping {n}");
        match pong.resume(Some(n)).unwrap() {
            CoroutineResult::Yield(answer) => println!("coroutine: {answer}"),
            CoroutineResult::Complete(_) => unreachable!("the coroutine only ends on None"),
        }
    }
    let hits = pong.resume(None).unwrap().into_complete().unwrap();
    println!("coroutine returned after {hits} hits");
}

fn fiber_pingpong(rounds: u32) {
    let log = Rc::new(RefCell::new(Vec::new()));
    // `pong` is started by `ping`, so the fiber it receives first is `ping`.
    let pong_log = log.clone();
    let pong = Fiber::new(move |mut ping| {
        for n in 1..=rounds {
            pong_log.borrow_mut().push(format!("pong {n}"));
            ping = ping.resume().expect("ping is alive");
        }
        // Ending continues with `ping`.
        ping
    })
    .expect("cannot allocate a fiber stack");
    let ping_log = log.clone();
    let ping = Fiber::new(move |main| {
        let mut pong = pong;
        for n in 1..=rounds {
            ping_log.borrow_mut().push(format!("ping {n}"));
            // Straight to pong; it switches straight back.
            match pong.resume() {
                Some(fiber) => pong = fiber,
                None => unreachable!("pong ends only after the last round"),
            }
        }
        // Let pong finish its loop; it ends by continuing with us (None).
        assert!(pong.resume().is_none());
        main
    })
    .expect("cannot allocate a fiber stack");
    assert!(ping.resume().is_none(), "ping ends by returning to main");
    for line in log.borrow().iter() {
        println!("fiber {line}");
    }
}

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("rounds must be a number"))
        .unwrap_or(3);
    coroutine_pingpong(rounds);
    fiber_pingpong(rounds);
}
