//! Runs 10,000 cooperative tasks on a round-robin scheduler.
//!
//! Each task sums a slice of numbers a few at a time, yielding between
//! chunks, so the passes interleave all of them. Stacks come from a pool:
//! a task that finishes hands its stack to the next one spawned.
//!
//! `cargo run --release --example scheduler` (10,000 tasks, about 5 million
//! resumes). Under the Valgrind pass of `cargo xtask test`
//! (`FCONTEXT_UNDER_VALGRIND=1`) it runs 1,000 tasks: the full run takes
//! about five minutes there.

use fcontext::scheduler::Scheduler;
use fcontext::stack::StackPool;
use std::cell::Cell;
use std::rc::Rc;

fn main() {
    let tasks: u64 = if std::env::var_os("FCONTEXT_UNDER_VALGRIND").is_some() {
        1_000
    } else {
        10_000
    };
    // 16 KiB is plenty for this task body; the pool keeps up to 1,024 idle.
    let pool = StackPool::new(16 * 1024, 1024).expect("stack pool");
    let mut sched = Scheduler::with_pool(pool);
    let total = Rc::new(Cell::new(0u64));
    for n in 0..tasks {
        let total = total.clone();
        sched
            .spawn(move |task| {
                // Task n adds 0..n, ten numbers per turn.
                let mut sum = 0;
                for chunk in (0..n).collect::<Vec<_>>().chunks(10) {
                    sum += chunk.iter().sum::<u64>();
                    task.yield_now();
                }
                total.set(total.get() + sum);
            })
            .expect("spawn");
    }
    sched.run();
    let stats = sched.stats();
    // Σ_{n<T} n(n-1)/2 = T(T-1)(T-2)/6.
    let expected = tasks * (tasks - 1) * (tasks - 2) / 6;
    println!(
        "{} tasks finished in {} passes ({} resumes); total {} (expected {expected})",
        stats.finished,
        stats.passes,
        stats.resumes,
        total.get()
    );
    assert_eq!(total.get(), expected);
    assert_eq!(stats.finished, tasks);
}
