//! 1,000,000 cooperative tasks on copy-stack coroutines.
//!
//! ```text
//! cargo run --release --example copystack_million [-- TASKS]
//! ```
//!
//! Each task is a `Coroutine` on a `CopyStack` of one of four shared stacks
//! (handed out round-robin by a `SharedStackSet`). A task runs three steps,
//! yielding its partial result after each; the driver resumes every live
//! task once per pass, in spawn order, until all have finished, and checks
//! every task's result. A suspended task keeps only its live stack bytes,
//! so a million of them fit in a few hundred MB.
//!
//! The driver is a plain round-robin loop over a `Vec` (what `Scheduler`
//! does) because `Scheduler` takes its stacks from a `StackPool` of whole
//! stacks; see the README's copy-stack section.

use fcontext::copystack::{CopyStack, SharedStackSet};
use fcontext::{Coroutine, CoroutineResult, Yielder};
use std::hint::black_box;
use std::time::Instant;

/// Resident set size of this process in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * fcontext::stack_traits::page_size()
}

type TaskCo = Coroutine<(), u64, u64, CopyStack>;

fn main() {
    let tasks: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("TASKS must be a number"))
        .unwrap_or(1_000_000);
    let stacks = SharedStackSet::new(4, 64 * 1024).expect("map the shared stacks");
    let base_rss = rss();

    let start = Instant::now();
    let mut live: Vec<(u64, TaskCo)> = (0..tasks as u64)
        .map(|id| {
            let co = Coroutine::with_stack(
                CopyStack::new(stacks.next_stack()),
                move |y: &Yielder<(), u64>, ()| {
                    // State that lives across the suspensions.
                    let mut acc = black_box([id, 1, 2, 3]);
                    for step in 1..=3 {
                        acc[step] += acc[0] * step as u64;
                        y.suspend(acc.iter().sum());
                    }
                    acc.iter().sum::<u64>() * 2
                },
            );
            (id, co)
        })
        .collect();
    let spawned = start.elapsed();
    let spawn_rss = rss();

    let mut passes = 0;
    let mut peak_rss = spawn_rss;
    let mut finished = 0u64;
    while !live.is_empty() {
        passes += 1;
        live.retain_mut(|(id, co)| match co.resume(()).expect("task resumes") {
            CoroutineResult::Yield(partial) => {
                black_box(partial);
                true
            }
            CoroutineResult::Complete(total) => {
                // acc = [id, 1 + id, 2 + 2 id, 3 + 3 id]
                assert_eq!(
                    total,
                    2 * (7 * *id + 6),
                    "task {id} computed a wrong result"
                );
                finished += 1;
                false
            }
        });
        peak_rss = peak_rss.max(rss());
    }
    let total = start.elapsed();
    assert_eq!(finished, tasks as u64);

    let stats = stacks.stats();
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    println!("tasks              {tasks}");
    println!("passes             {passes}");
    println!(
        "spawn              {:.3} s ({:.0} tasks/s)",
        spawned.as_secs_f64(),
        tasks as f64 / spawned.as_secs_f64()
    );
    println!("total              {:.3} s", total.as_secs_f64());
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
        stats.copies_out, stats.copies_in, stats.max_copy
    );
}
