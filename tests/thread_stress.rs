//! 1,000 suspended coroutines passed between 4 threads for 1,000,000 resumes
//! in total; every resume checks the coroutine's private state.
//!
//! Each thread owns a channel; a thread resumes the coroutine it receives
//! once and sends it to the next thread, so every coroutine visits all four
//! threads in turn (not merely "may" move). Skipped under Valgrind
//! (`FCONTEXT_UNDER_VALGRIND=1`, set by `cargo xtask test`'s Valgrind pass),
//! which serialises threads and would take minutes for this test.

use fcontext::{CoroutineResult, ProtectedStack, SendCoroutine};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

const COROUTINES: usize = 1_000;
const THREADS: usize = 4;
/// 1,000 × 1,000 = 1,000,000 resumes. The ASan build looks up each switch's
/// target stack with a linear scan of the registered stacks (1,000 here),
/// which would take over a minute, so it does a tenth of the resumes.
const RESUMES_EACH: u64 = if cfg!(feature = "sanitize-address") {
    100
} else {
    1_000
};

/// The value a coroutine reports after `step` resumes: a running mix of its
/// id and its step count, kept in a local on the coroutine's own stack.
fn mix(acc: u64, id: usize, step: u64) -> u64 {
    (acc ^ (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ step)
        .wrapping_mul(0xff51_afd7_ed55_8ccd)
        .rotate_left(17)
}

type Task = SendCoroutine<u64, (u64, usize), u64, ProtectedStack>;

fn make(id: usize) -> Task {
    let stack = ProtectedStack::new(64 * 1024).unwrap();
    let body = move |yielder: &fcontext::Yielder<u64, (u64, usize)>, first: u64| {
        // Private state: lives only in this frame on the coroutine's stack.
        let mut acc = 0u64;
        let mut step = 0u64;
        let mut input = first;
        loop {
            assert_eq!(input, step, "coroutine {id}: resumed out of order");
            acc = mix(acc, id, step);
            step += 1;
            if step == RESUMES_EACH {
                return acc;
            }
            input = yielder.suspend((acc, id));
        }
    };
    // SAFETY: across a suspend the body holds only integers of its own.
    unsafe { SendCoroutine::with_stack(stack, body) }
}

#[test]
fn coroutines_migrate_between_threads() {
    if std::env::var_os("FCONTEXT_UNDER_VALGRIND").is_some() {
        println!("skipped under Valgrind (1,000,000 resumes across threads)");
        return;
    }
    // Message: (coroutine, its id, resumes done so far, the resumer-side
    // model of its accumulator), or None to stop.
    type Msg = Option<(Task, usize, u64, u64)>;
    let mut senders: Vec<Sender<Msg>> = Vec::new();
    let mut receivers = Vec::new();
    for _ in 0..THREADS {
        let (tx, rx) = channel();
        senders.push(tx);
        receivers.push(rx);
    }
    let finished = Arc::new(AtomicUsize::new(0));
    for id in 0..COROUTINES {
        senders[id % THREADS]
            .send(Some((make(id), id, 0, 0)))
            .unwrap();
    }
    let handles: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(t, rx)| {
            let next = senders[(t + 1) % THREADS].clone();
            let all = senders.clone();
            let finished = finished.clone();
            std::thread::spawn(move || {
                let mut resumes = 0u64;
                while let Some((mut co, id, step, model)) = rx.recv().unwrap() {
                    let result = co.resume(step).unwrap();
                    resumes += 1;
                    // The resumer's independent copy of the coroutine's state.
                    let model = mix(model, id, step);
                    match result {
                        CoroutineResult::Yield((acc, who)) => {
                            assert_eq!(who, id, "a coroutine answered for another");
                            assert_eq!(acc, model, "coroutine {id} after {} resumes", step + 1);
                            next.send(Some((co, id, step + 1, model))).unwrap();
                        }
                        CoroutineResult::Complete(acc) => {
                            assert_eq!(step + 1, RESUMES_EACH, "coroutine {id} ended early");
                            assert_eq!(acc, model, "coroutine {id} final state");
                            assert!(co.is_done());
                            if finished.fetch_add(1, Ordering::AcqRel) + 1 == COROUTINES {
                                for s in &all {
                                    s.send(None).unwrap();
                                }
                            }
                        }
                    }
                }
                resumes
            })
        })
        .collect();
    drop(senders);
    let per_thread: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(finished.load(Ordering::Acquire), COROUTINES);
    assert_eq!(
        per_thread.iter().sum::<u64>(),
        COROUTINES as u64 * RESUMES_EACH
    );
    // Passing in a ring gives every thread exactly a quarter of the work.
    assert!(
        per_thread
            .iter()
            .all(|&n| n == COROUTINES as u64 * RESUMES_EACH / THREADS as u64),
        "{per_thread:?}"
    );
}
