//! Random sequences of create / resume / resume_with / drop / panic over a
//! few coroutines and fibers whose stacks come from one small pool.
//!
//! The input is read as a list of 3-byte operations `(op, slot, value)`.
//! A model of every coroutine (its running accumulator, whether it is
//! finished) and counters of destructor runs predict each result; any
//! difference, a crash, a leak or an ASan report is a finding.

#![no_main]

use fcontext::{Coroutine, CoroutineResult, Fiber, PooledStack, ResumeError, StackPool};
use libfuzzer_sys::fuzz_target;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

const SLOTS: usize = 4;
/// The message of the panics the coroutines raise on purpose.
const INTENDED: &str = "fuzz: intended panic";

/// Counts its own drops: proves a dropped coroutine's stack was unwound.
struct DropGuard(Arc<AtomicUsize>);
impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// One step of a coroutine body and of its model: the new accumulator, and
/// what the body does with input `v`.
fn step(acc: u32, v: u32) -> u32 {
    acc.wrapping_mul(31).wrapping_add(v)
}
enum Action {
    Yield,
    Return,
    Panic,
}
fn action(v: u32) -> Action {
    match v % 8 {
        6 => Action::Return,
        7 => Action::Panic,
        _ => Action::Yield,
    }
}

type Co = Coroutine<u32, u32, u32, PooledStack>;

struct CoSlot {
    co: Co,
    acc: u32,
    finished: Option<ResumeError>,
}

struct FiberSlot {
    fiber: Fiber,
    hits: Rc<Cell<u32>>,
}

fn make_coroutine(pool: &StackPool, seed: u32, drops: &Arc<AtomicUsize>) -> CoSlot {
    let guard = DropGuard(drops.clone());
    let stack = pool.get().expect("pool stack");
    let co = Coroutine::with_stack(stack, move |y, first: u32| {
        let _guard = guard;
        let mut acc = seed;
        let mut v = first;
        loop {
            acc = step(acc, v);
            match action(v) {
                Action::Yield => v = y.suspend(acc),
                Action::Return => return acc,
                Action::Panic => panic!("{INTENDED}"),
            }
        }
    });
    CoSlot {
        co,
        acc: seed,
        finished: None,
    }
}

fn make_fiber(pool: &StackPool, drops: &Arc<AtomicUsize>) -> FiberSlot {
    let hits = Rc::new(Cell::new(0u32));
    let h = hits.clone();
    let guard = DropGuard(drops.clone());
    let fiber = Fiber::with_stack(pool.get().expect("pool stack"), move |mut back| {
        let _guard = guard;
        loop {
            h.set(h.get() + 1);
            back = back.resume().expect("the fuzzer always resumes back");
        }
    });
    FiberSlot { fiber, hits }
}

fn quiet_intended_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let intended = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m == INTENDED);
            if !intended {
                // A real failure: report it and stop, as libFuzzer expects.
                default(info);
                std::process::abort();
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    quiet_intended_panics();
    // Few, small stacks and a tiny cache, so stacks are reused constantly.
    let pool = StackPool::new(64 * 1024, 2).expect("pool");
    let drops = Arc::new(AtomicUsize::new(0));
    let mut guards_made = 0usize;
    let mut cos: Vec<Option<CoSlot>> = (0..SLOTS).map(|_| None).collect();
    let mut fibers: Vec<Option<FiberSlot>> = (0..SLOTS).map(|_| None).collect();

    for op in data.chunks_exact(3) {
        let slot = usize::from(op[1]) % SLOTS;
        let v = u32::from(op[2]);
        match op[0] % 8 {
            // create (dropping whatever was there)
            0 => {
                cos[slot] = Some(make_coroutine(&pool, v, &drops));
                guards_made += 1;
            }
            // resume
            1 | 2 => {
                let Some(s) = cos[slot].as_mut() else {
                    continue;
                };
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| s.co.resume(v)));
                if let Some(err) = s.finished {
                    assert!(
                        matches!(outcome, Ok(Err(e)) if e == err),
                        "finished coroutine resumed"
                    );
                    continue;
                }
                s.acc = step(s.acc, v);
                match (action(v), outcome) {
                    (Action::Yield, Ok(Ok(CoroutineResult::Yield(got)))) => assert_eq!(got, s.acc),
                    (Action::Return, Ok(Ok(CoroutineResult::Complete(got)))) => {
                        assert_eq!(got, s.acc);
                        s.finished = Some(ResumeError::Completed);
                    }
                    (Action::Panic, Err(payload)) => {
                        assert_eq!(
                            payload.downcast_ref::<String>().map(String::as_str),
                            Some(INTENDED)
                        );
                        s.finished = Some(ResumeError::Panicked);
                    }
                    _ => panic!("coroutine result differs from the model"),
                }
                assert_eq!(s.co.is_done(), s.finished.is_some());
            }
            // drop (a suspended one is unwound)
            3 => cos[slot] = None,
            // take the stack back from a finished coroutine
            4 => {
                if cos[slot].as_ref().is_some_and(|s| s.finished.is_some()) {
                    let s = cos[slot].take().unwrap();
                    drop(s.co.into_stack());
                }
            }
            // fiber: create, resume, resume_with, drop
            5 => {
                fibers[slot] = Some(make_fiber(&pool, &drops));
                guards_made += 1;
            }
            6 => {
                let Some(f) = fibers[slot].take() else {
                    continue;
                };
                let before = f.hits.get();
                let back = if v % 2 == 0 {
                    f.fiber.resume()
                } else {
                    let on_top = Rc::new(Cell::new(false));
                    let seen = on_top.clone();
                    let back = f.fiber.resume_with(move |main| {
                        seen.set(true);
                        main
                    });
                    assert!(on_top.get(), "resume_with closure did not run");
                    back
                };
                assert_eq!(f.hits.get(), before + 1, "fiber did not run exactly once");
                let fiber = back.expect("the fiber resumes us back");
                fibers[slot] = Some(FiberSlot {
                    fiber,
                    hits: f.hits,
                });
            }
            _ => fibers[slot] = None,
        }
        // Every guard is either alive in a live body or dropped exactly once.
        let live = cos
            .iter()
            .flatten()
            .filter(|s| s.finished.is_none())
            .count()
            + fibers.iter().flatten().count();
        assert_eq!(
            drops.load(Ordering::Relaxed) + live,
            guards_made,
            "destructor count"
        );
    }
    drop(cos);
    drop(fibers);
    assert_eq!(
        drops.load(Ordering::Relaxed),
        guards_made,
        "every body's locals were dropped"
    );
});
