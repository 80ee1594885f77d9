//! Copy-stack benchmarks, printing tab-separated results for the benchmark
//! report (`bench/`) and for people.
//!
//! ```text
//! cargo run --release --example copystack_bench -- [cost] [scale] [--large]
//! ```
//!
//! * `cost`: resume-with-copy cost. Two coroutines share one stack and are
//!   resumed alternately, so every resume copies the other one's live bytes
//!   out and its own back in, then switches in and back out (the round trip
//!   libaco's benchmark times). Rows for the Rust API
//!   (`Coroutine<_, _, _, CopyStack>`) and the C API (`fcontext_cs_*`), at the
//!   saved sizes of libaco's published table. Columns: `api target_bytes
//!   saved_bytes ns_per_resume libaco_ns`; `saved_bytes` is measured (the
//!   copy counters), and is the API's minimum where the target is below it.
//!   On x86_64 the extra stack is a gap opened by moving the stack pointer
//!   down (so every byte of it is really copied, and nothing can optimise it
//!   away); elsewhere only the minimum size is measured.
//! * `scale`: 1,000,000 live suspended coroutines (10,000,000 with
//!   `--large`), each holding about 120 bytes of live stack (a `black_box`ed
//!   array that stays alive across its suspension): resident memory per
//!   coroutine and create / resume / destroy rates, for two creation
//!   patterns (`copystack_started`: each started right after creation;
//!   `copystack_batch`: all created, then all started), each in a fresh
//!   process. Columns: `kind count bytes_per_coroutine saved_bytes
//!   create_per_s resume_per_s destroy_per_s note` (`kind`, `count`,
//!   `bytes_per_coroutine` and `note` match the report's `memory.tsv`).
//!
//! With no mode argument both run.

use fcontext::copystack::{
    fcontext_cs_create, fcontext_cs_destroy, fcontext_cs_resume, fcontext_cs_stack_create,
    fcontext_cs_stack_destroy, fcontext_cs_stack_stats, fcontext_cs_yield, CopyStack, CopyStats,
    CsCoroutine, CsStack, SharedStack,
};
use fcontext::{Coroutine, CoroutineResult, Yielder};
use std::ffi::c_void;
use std::hint::black_box;
use std::ptr;
use std::time::{Duration, Instant};

/// A place on `shared` for one coroutine of this file.
fn place(shared: &SharedStack) -> CopyStack {
    // SAFETY: no coroutine here lends a pointer into its frames to anything
    // that runs while it is suspended.
    unsafe { CopyStack::new(shared) }
}

/// libaco's published resume-with-copy costs (its README; AWS c5d.large).
/// 56 and 232 bytes have no published figure.
const TARGETS: [(usize, Option<f64>); 9] = [
    (8, Some(33.0)),
    (56, None),
    (120, Some(38.0)),
    (232, None),
    (488, Some(91.0)),
    (1000, Some(211.0)),
    (2024, Some(350.0)),
    (4072, Some(596.0)),
    (7992, Some(1090.0)),
];

/// Runs `f` with the stack pointer `gap` bytes (rounded down to 16) lower
/// than a normal call would leave it, so everything `f` suspends with
/// keeps `gap` more bytes of live stack.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn with_gap(gap: usize, f: &mut dyn FnMut()) {
    unsafe extern "C" fn call(f: *mut &mut dyn FnMut()) {
        // SAFETY: `with_gap` passes a live closure reference.
        unsafe { (*f)() }
    }
    let mut f = f;
    let gap = gap & !15;
    // SAFETY: the gap keeps the 16-byte call alignment; r12 is callee-saved
    // so it survives the call; `call` does not unwind out of the asm (the
    // benchmark bodies always return normally).
    unsafe {
        core::arch::asm!(
            "sub rsp, r12",
            "call {call}",
            "add rsp, r12",
            call = sym call,
            in("r12") gap,
            in("rdi") &mut f as *mut &mut dyn FnMut(),
            clobber_abi("C"),
        );
    }
}

/// Without a portable way to move the stack pointer, only the API's
/// minimum size is measured on other targets.
#[cfg(not(target_arch = "x86_64"))]
#[inline(never)]
fn with_gap(_gap: usize, f: &mut dyn FnMut()) {
    f()
}

/// Times `round` (one resume of each of two coroutines): the best of 150
/// trials of about 1 ms each. The machine may be shared; a trial that was
/// preempted is slow, and the fastest trial is the one that ran alone.
/// Returns ns per resume.
fn time_rounds(mut round: impl FnMut()) -> f64 {
    // Calibrate a batch that takes about 1 ms.
    let mut batch = 16u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            round();
        }
        if start.elapsed() > Duration::from_micros(500) {
            break;
        }
        batch *= 2;
    }
    let mut best = f64::INFINITY;
    for _ in 0..150 {
        let start = Instant::now();
        for _ in 0..batch {
            round();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / (2 * batch) as f64);
    }
    best
}

/// Average bytes per copy-in during a timed run.
fn saved_of(s: CopyStats) -> usize {
    (s.bytes_in / s.copies_in.max(1)) as usize
}

type Bench = Coroutine<bool, (), (), CopyStack>;

/// A Rust-API coroutine that suspends with `gap` extra live bytes (or none
/// at all when `gap` is `None`) until resumed with `true`.
fn rust_body(shared: &SharedStack, gap: Option<usize>) -> Bench {
    Coroutine::with_stack(
        place(shared),
        move |y: &Yielder<bool, ()>, mut stop| match gap {
            None => {
                while !stop {
                    stop = y.suspend(());
                }
            }
            Some(gap) => with_gap(gap, &mut || {
                while !stop {
                    stop = y.suspend(());
                }
            }),
        },
    )
}

/// (saved bytes, ns per resume) of the Rust API at `gap`.
fn rust_cost(gap: Option<usize>) -> (usize, f64) {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let mut a = rust_body(&shared, gap);
    let mut b = rust_body(&shared, gap);
    for co in [&mut a, &mut b] {
        co.resume(false).unwrap(); // into the body
    }
    shared.reset_stats();
    let ns = time_rounds(|| {
        black_box(a.resume(false).unwrap());
        black_box(b.resume(false).unwrap());
    });
    let saved = saved_of(shared.stats());
    for co in [&mut a, &mut b] {
        assert_eq!(co.resume(true).unwrap(), CoroutineResult::Complete(()));
    }
    (saved, ns)
}

/// The C API's body: `arg` is the gap (`usize::MAX`: none); suspends until
/// resumed with a non-null input.
unsafe extern "C-unwind" fn c_body(
    co: *mut CsCoroutine,
    arg: *mut c_void,
    input: *mut c_void,
) -> *mut c_void {
    let mut input = input;
    let mut wait = || {
        while input.is_null() {
            // SAFETY: `co` is this running coroutine.
            unsafe { fcontext_cs_yield(co, ptr::null_mut(), &mut input) };
        }
    };
    match arg as usize {
        usize::MAX => wait(),
        gap => with_gap(gap, &mut wait),
    }
    ptr::null_mut()
}

/// (saved bytes, ns per resume) of the C API at `gap`.
fn c_cost(gap: Option<usize>) -> (usize, f64) {
    let arg = gap.unwrap_or(usize::MAX) as *mut c_void;
    let mut st: *mut CsStack = ptr::null_mut();
    let (mut a, mut b): (*mut CsCoroutine, *mut CsCoroutine) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: plain use of the C API with valid pointers.
    unsafe {
        assert_eq!(fcontext_cs_stack_create(64 * 1024, &mut st), 0);
        assert_eq!(fcontext_cs_create(st, Some(c_body), arg, &mut a), 0);
        assert_eq!(fcontext_cs_create(st, Some(c_body), arg, &mut b), 0);
        for co in [a, b] {
            fcontext_cs_resume(co, ptr::null_mut(), ptr::null_mut()); // into the body
        }
        let mut before = CopyStats::default();
        fcontext_cs_stack_stats(st, &mut before);
        let ns = time_rounds(|| {
            fcontext_cs_resume(a, ptr::null_mut(), ptr::null_mut());
            fcontext_cs_resume(b, ptr::null_mut(), ptr::null_mut());
        });
        let mut after = CopyStats::default();
        fcontext_cs_stack_stats(st, &mut after);
        let saved = ((after.bytes_in - before.bytes_in)
            / (after.copies_in - before.copies_in).max(1)) as usize;
        let stop = ptr::dangling_mut::<c_void>();
        for co in [a, b] {
            fcontext_cs_resume(co, stop, ptr::null_mut());
            assert_eq!(fcontext_cs_destroy(co), 0);
        }
        assert_eq!(fcontext_cs_stack_destroy(st), 0);
        (saved, ns)
    }
}

fn cost() {
    println!("# resume-with-copy cost: two coroutines alternating on one shared stack");
    println!("api\ttarget_bytes\tsaved_bytes\tns_per_resume\tlibaco_ns");
    for (api, f) in [
        ("rust", rust_cost as fn(Option<usize>) -> (usize, f64)),
        ("c", c_cost),
    ] {
        // The API's own minimum, and the live bytes the gap path adds at 0.
        let (minimum, _) = f(None);
        let (gap_base, _) = f(Some(0));
        for (target, libaco) in TARGETS {
            let gap = if target <= minimum || !cfg!(target_arch = "x86_64") {
                None
            } else {
                Some(target.saturating_sub(gap_base))
            };
            let (saved, ns) = f(gap);
            let libaco = libaco.map_or("-".to_string(), |v| format!("{v:.0}"));
            println!("{api}\t{target}\t{saved}\t{ns:.1}\t{libaco}");
        }
    }
}

/// Resident set size of this process in bytes (`/proc/self/statm`).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * fcontext::stack_traits::page_size()
}

type Live = Coroutine<(), (), (), CopyStack>;

/// Prints the scale table, running each creation pattern in a fresh
/// process (this binary again) so that one's heap does not skew the other's
/// resident-memory figure.
fn scale(count: usize) {
    println!("# {count} live suspended copy-stack coroutines (Rust API, one shared stack)");
    println!(
        "kind\tcount\tbytes_per_coroutine\tsaved_bytes\tcreate_per_s\tresume_per_s\tdestroy_per_s\tnote"
    );
    for pattern in ["started", "batch"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["scale-one", pattern, &count.to_string()])
            .output()
            .expect("run the scale child");
        assert!(out.status.success(), "scale child failed: {:?}", out.status);
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// One scale run. `started`: each coroutine is resumed to its suspension
/// point right after it is created (a server spawning tasks that start at
/// once); `batch`: all are created first, then all resumed. In `batch` each
/// private buffer first holds the small unstarted frame and is reallocated
/// when the body suspends deeper, which leaves the old chunk as a hole in
/// the heap: that shows in the resident memory.
fn scale_one(pattern: &str, count: usize) {
    let shared = SharedStack::new(64 * 1024).unwrap();
    let body = |k: usize| {
        move |y: &Yielder<(), ()>, ()| {
            // Live across every suspension; black_box makes the bytes real.
            let live = black_box([k as u8; 8]);
            loop {
                y.suspend(());
                black_box(&live);
            }
        }
    };
    let before = rss();
    let t = Instant::now();
    let mut cos: Vec<Live> = Vec::with_capacity(count);
    let started = pattern == "started";
    for k in 0..count {
        let mut co = Coroutine::with_stack(place(&shared), body(k));
        if started {
            co.resume(()).unwrap();
        }
        cos.push(co);
    }
    let create = t.elapsed();
    if !started {
        // Every body runs to its suspension with its array live.
        for co in cos.iter_mut() {
            co.resume(()).unwrap();
        }
    }
    let t = Instant::now();
    for co in cos.iter_mut() {
        co.resume(()).unwrap();
    }
    let resume = t.elapsed();
    let per = (rss() - before) as f64 / count as f64;
    let saved = cos[0].stack().saved_bytes();
    let t = Instant::now();
    drop(cos);
    let destroy = t.elapsed();
    let rate = |d: Duration| count as f64 / d.as_secs_f64();
    let create_note = if started {
        "create includes the first resume"
    } else {
        "create only"
    };
    println!(
        "copystack_{pattern}\t{count}\t{per:.0}\t{saved}\t{:.0}\t{:.0}\t{:.0}\tRSS growth incl. the Vec of handles; {create_note}; destroy unwinds each stack",
        rate(create),
        rate(resume),
        rate(destroy)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("scale-one") {
        scale_one(&args[1], args[2].parse().expect("count"));
        return;
    }
    let large = args.iter().any(|a| a == "--large");
    let want =
        |m: &str| args.iter().any(|a| a == m) || !args.iter().any(|a| a == "cost" || a == "scale");
    if want("cost") {
        cost();
    }
    if want("scale") {
        scale(if large { 10_000_000 } else { 1_000_000 });
    }
}
