//! Resident memory per live coroutine.
//!
//! `memory --tsv FILE` measures every (stack kind, count) pair, each in a
//! fresh child process (`memory --one KIND COUNT`), so one measurement's
//! freed-but-cached memory cannot flatter the next. A child reads VmRSS,
//! creates COUNT coroutines, resumes each once so it runs and suspends
//! (its stack is touched, as a real coroutine's would be), reads VmRSS
//! again and prints the growth per coroutine.
//!
//! Kinds: `protected` (a `ProtectedStack` of 128 KiB each: mmap with a guard
//! page, pages committed by the kernel only when touched), `pooled` (the
//! same stacks handed out by a `StackPool`), `copystack` (copy-stack
//! coroutines on one shared stack: a suspended coroutine keeps only the bytes
//! it used, in a heap buffer).

use fcontext::copystack::{CopyStack, SharedStack};
use fcontext::{Coroutine, CoroutineResult, ProtectedStack, StackPool, Yielder};
use std::fs;
use std::hint::black_box;
use std::process::Command;

/// A place on `shared` for one coroutine of this file.
fn place(shared: &SharedStack) -> CopyStack {
    // SAFETY: no coroutine here lends a pointer into its frames to anything
    // that runs while it is suspended.
    unsafe { CopyStack::new(shared) }
}

const STACK_SIZE: usize = 128 * 1024;
const COUNTS: [usize; 3] = [1_000, 10_000, 100_000];
const KINDS: [&str; 3] = ["protected", "pooled", "copystack"];

/// The coroutine body: a little stack use, then one suspension.
fn body(y: &Yielder<u64, u64>, x: u64) -> u64 {
    let mut scratch = [0u8; 256];
    scratch[0] = x as u8;
    black_box(&mut scratch);
    y.suspend(x) + scratch[0] as u64
}

fn vm_rss_bytes() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value");
    kib * 1024
}

/// Memory mappings a process may have (`vm.max_map_count`).
fn max_map_count() -> usize {
    fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65530)
}

fn started<S: fcontext::Stack>(mut co: Coroutine<u64, u64, u64, S>) -> Coroutine<u64, u64, u64, S> {
    match co.resume(1) {
        Ok(CoroutineResult::Yield(_)) => co,
        other => panic!("coroutine did not suspend: {other:?}"),
    }
}

/// Creates `count` suspended coroutines of `kind` and prints bytes of RSS growth per coroutine.
fn one(kind: &str, count: usize) {
    let before = vm_rss_bytes();
    let per = match kind {
        "protected" => {
            let v: Vec<_> = (0..count)
                .map(|_| {
                    started(Coroutine::with_stack(
                        ProtectedStack::new(STACK_SIZE).expect("mmap"),
                        body,
                    ))
                })
                .collect();
            let grown = vm_rss_bytes().saturating_sub(before);
            drop(black_box(v));
            grown
        }
        "pooled" => {
            let pool = StackPool::new(STACK_SIZE, count).expect("pool");
            let v: Vec<_> = (0..count)
                .map(|_| started(Coroutine::with_stack(pool.get().expect("mmap"), body)))
                .collect();
            let grown = vm_rss_bytes().saturating_sub(before);
            drop(black_box(v));
            grown
        }
        "copystack" => {
            let shared = SharedStack::new(STACK_SIZE).expect("shared stack");
            let v: Vec<_> = (0..count)
                .map(|_| started(Coroutine::with_stack(place(&shared), body)))
                .collect();
            let grown = vm_rss_bytes().saturating_sub(before);
            drop(black_box(v));
            grown
        }
        _ => panic!("unknown kind {kind}"),
    };
    println!("{}", per as f64 / count as f64);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--one", kind, count] => one(kind, count.parse().expect("count")),
        ["--tsv", path] => all(path),
        _ => {
            eprintln!("usage: memory --tsv FILE | memory --one KIND COUNT");
            std::process::exit(2);
        }
    }
}

fn all(path: &str) {
    let exe = std::env::current_exe().expect("current_exe");
    let mut out = String::from("kind\tcount\tbytes_per_coroutine\tnote\n");
    // A guarded stack is two mappings (guard + stack); leave room for the rest of the process.
    let map_limit = max_map_count();
    let guarded_fit = map_limit.saturating_sub(1000) / 2;
    for kind in KINDS {
        for &want in &COUNTS {
            let (count, note) = if kind != "copystack" && want > guarded_fit {
                (
                    guarded_fit / 1000 * 1000,
                    format!(
                        "{want} guarded stacks need ~{} mappings > vm.max_map_count = {map_limit}; measured at the largest count that fits",
                        2 * want + 1000
                    ),
                )
            } else if kind != "copystack" && 2 * want + 1000 > 65530 {
                (
                    want,
                    format!("needs ~{} mappings: vm.max_map_count was raised to {map_limit} for this run (the default 65530 fits ~32,000 guarded stacks)", 2 * want + 1000),
                )
            } else {
                (want, String::new())
            };
            let o = Command::new(&exe)
                .args(["--one", kind, &count.to_string()])
                .output()
                .expect("run memory child");
            if !o.status.success() {
                let err = String::from_utf8_lossy(&o.stderr);
                out.push_str(&format!(
                    "{kind}\t{count}\t0\tfailed: {}\n",
                    err.trim().replace(['\t', '\n'], " ")
                ));
                continue;
            }
            let per = String::from_utf8_lossy(&o.stdout).trim().to_string();
            eprintln!("memory: {kind:<10} {count:>7} coroutines: {per} bytes each {note}");
            out.push_str(&format!("{kind}\t{count}\t{per}\t{note}\n"));
        }
    }
    fs::write(path, out).expect("write the TSV");
}
