//! 1,000,000 cooperative tasks on copy-stack coroutines.
//!
//! ```text
//! cargo run --release --example copystack_million [-- TASKS]
//! ```
//!
//! (10,000 tasks by default when `FCONTEXT_UNDER_VALGRIND` is set.)
//!
//! Each task runs under [`Scheduler`] as a copy-stack coroutine: the
//! scheduler takes its stacks from a `SharedStackSet` of four shared stacks
//! (round-robin). A task runs three steps, yielding after each; every pass
//! resumes each live task once, in spawn order, until all have finished.
//! Each task checks its own arithmetic and adds its result to a shared
//! total, which `main` checks at the end. A suspended task keeps only its
//! live stack bytes, so a million of them fit in a few hundred MB.

use fcontext::copystack::{CopyStackSource, SharedStackSet};
use fcontext::scheduler::Scheduler;
use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Instant;

/// Resident set size of this process in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * fcontext::stack_traits::page_size()
}

fn main() {
    // Under Valgrind (`cargo xtask test`'s pass) a million tasks would take
    // minutes; ten thousand exercise the same code.
    let default = if std::env::var_os("FCONTEXT_UNDER_VALGRIND").is_some() {
        10_000
    } else {
        1_000_000
    };
    let tasks: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("TASKS must be a number"))
        .unwrap_or(default);
    let stacks = SharedStackSet::new(4, 64 * 1024).expect("map the shared stacks");
    // SAFETY: the tasks keep their counters to themselves: no pointer into
    // a task's frames is lent to anything else.
    let mut sched = Scheduler::with_source(unsafe { CopyStackSource::new(stacks) });
    let total = Rc::new(Cell::new(0u64));
    let base_rss = rss();

    let start = Instant::now();
    for id in 0..tasks {
        let total = total.clone();
        sched
            .spawn(move |task| {
                // State that lives across the suspensions.
                let mut acc = black_box([id, 1, 2, 3]);
                for step in 1..=3 {
                    acc[step] += acc[0] * step as u64;
                    task.yield_now();
                }
                // acc = [id, 1 + id, 2 + 2 id, 3 + 3 id]
                let sum: u64 = acc.iter().sum();
                assert_eq!(sum, 7 * id + 6, "task {id} computed a wrong result");
                total.set(total.get() + sum);
            })
            .expect("spawn");
    }
    let spawned = start.elapsed();
    let spawn_rss = rss();

    let mut peak_rss = spawn_rss;
    while sched.run_once() > 0 {
        peak_rss = peak_rss.max(rss());
    }
    let elapsed = start.elapsed();
    let stats = sched.stats();
    assert_eq!(stats.finished, tasks);
    assert_eq!(stats.panicked, 0);
    assert_eq!(total.get(), 7 * tasks * (tasks - 1) / 2 + 6 * tasks);

    let copies = sched.source().set().stats();
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    println!("tasks              {tasks}");
    println!("passes             {}", stats.passes);
    println!("resumes            {}", stats.resumes);
    println!(
        "spawn              {:.3} s ({:.0} tasks/s)",
        spawned.as_secs_f64(),
        tasks as f64 / spawned.as_secs_f64()
    );
    println!("total              {:.3} s", elapsed.as_secs_f64());
    println!(
        "rss after spawn    {:.1} MiB ({:.0} bytes/task)",
        mib(spawn_rss - base_rss),
        (spawn_rss - base_rss) as f64 / tasks as f64
    );
    println!(
        "peak rss           {:.1} MiB ({:.0} bytes/task)",
        mib(peak_rss - base_rss),
        (peak_rss - base_rss) as f64 / tasks as f64
    );
    println!(
        "copies             {} out, {} in, max {} bytes",
        copies.copies_out, copies.copies_in, copies.max_copy
    );
}
