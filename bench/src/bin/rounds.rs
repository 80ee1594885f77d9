//! Round-trip costs measured in interleaved rounds in one process, for the
//! ratios the report's targets are judged on.
//!
//! Criterion runs one benchmark after another, so on a shared machine a
//! burst of load can land on one implementation only. Here every round runs
//! every workload once (`--iters` round trips each, order rotating from
//! round to round) on one pinned CPU, and each ratio is the median of the
//! per-round ratios, as in the C-ABI benchmark. The `context` crate is loaded
//! from the `context-ffi` shared object (its symbols clash with fcontext's
//! in one executable).
//!
//! Usage: rounds --tsv FILE [--rounds N] [--iters N] [--context-ffi PATH]

use fcontext::raw::{jump_fcontext, make_fcontext, Transfer};
use fcontext::{Coroutine, Fiber, Generator, Yielder};
use fcontext_bench::pin::pin_to_one_cpu;
use generator::Gn;
use std::ffi::CString;
use std::hint::black_box;
use std::ptr::null_mut;
use std::time::Instant;

unsafe extern "C" fn raw_partner(mut t: Transfer) {
    loop {
        t = unsafe { jump_fcontext(t.fctx, null_mut()) };
    }
}

fn raw(n: u64) {
    let mut stack = fcontext::create_fcontext_stack(0);
    assert!(!stack.sptr.is_null(), "create_fcontext_stack failed");
    let mut t = unsafe {
        jump_fcontext(
            make_fcontext(stack.sptr, stack.ssize, raw_partner),
            null_mut(),
        )
    };
    for _ in 0..n {
        t = unsafe { jump_fcontext(t.fctx, black_box(null_mut())) };
    }
    // The partner is abandoned suspended; it owns nothing.
    unsafe { fcontext::destroy_fcontext_stack(&mut stack) };
}

fn coroutine(n: u64) {
    let mut co = Coroutine::new(|y: &Yielder<u64, u64>, mut x| loop {
        x = y.suspend(x + 1);
    })
    .expect("stack");
    for i in 0..n {
        black_box(co.resume(i).expect("resume"));
    }
}

fn fiber(n: u64) {
    let mut f = Fiber::new(|mut main| loop {
        main = main.resume().expect("main is alive while it resumes us");
    })
    .expect("stack");
    for _ in 0..n {
        f = f.resume().expect("the fiber switches back");
    }
}

fn generator_next(n: u64) {
    let mut g = Generator::new(|y: &Yielder<(), u64>| {
        let mut i = 0u64;
        loop {
            i += 1;
            y.suspend(i);
        }
    })
    .expect("stack");
    for _ in 0..n {
        black_box(g.next());
    }
}

fn corosensei(n: u64) {
    let mut co = corosensei::Coroutine::new(|y: &corosensei::Yielder<u64, u64>, mut x| loop {
        x = y.suspend(x + 1);
    });
    for i in 0..n {
        black_box(co.resume(i));
    }
}

fn generator_crate(n: u64) {
    let mut g = Gn::<u64>::new_scoped(|mut s| {
        let mut x = 0;
        loop {
            x = s.yield_(x + 1).unwrap_or(0);
        }
    });
    g.send(0);
    for i in 0..n {
        black_box(g.send(i));
    }
}

type ContextRoundTrips = unsafe extern "C" fn(u64) -> u64;

/// A named workload: runs the given number of round trips.
type Workload = (&'static str, Box<dyn Fn(u64)>);

fn load_context_ffi(path: &str) -> ContextRoundTrips {
    let c = CString::new(path).expect("path without NUL");
    // SAFETY: plain dlopen/dlsym; the symbol has the declared signature (context-ffi/src/lib.rs).
    unsafe {
        let h = libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        assert!(!h.is_null(), "dlopen {path} failed");
        let f = libc::dlsym(h, c"context_crate_round_trips".as_ptr());
        assert!(!f.is_null(), "{path} lacks context_crate_round_trips");
        std::mem::transmute::<*mut libc::c_void, ContextRoundTrips>(f)
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut tsv = None;
    let mut rounds = 15usize;
    let mut iters = 1_000_000u64;
    let mut ffi = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut v = || {
            it.next()
                .unwrap_or_else(|| panic!("{a} needs a value"))
                .clone()
        };
        match a.as_str() {
            "--tsv" => tsv = Some(v()),
            "--rounds" => rounds = v().parse().expect("--rounds N"),
            "--iters" => iters = v().parse().expect("--iters N"),
            "--context-ffi" => ffi = Some(v()),
            _ => panic!("unknown argument {a} (usage: rounds --tsv FILE [--rounds N] [--iters N] [--context-ffi PATH])"),
        }
    }
    let tsv = tsv.expect("--tsv FILE is required");
    pin_to_one_cpu();

    let ctx_fn = ffi.as_deref().map(load_context_ffi);
    let mut work: Vec<Workload> = vec![
        ("raw_jump_fcontext", Box::new(raw)),
        ("fcontext_coroutine", Box::new(coroutine)),
        ("fcontext_fiber", Box::new(fiber)),
        ("fcontext_generator", Box::new(generator_next)),
        ("corosensei", Box::new(corosensei)),
        ("generator_crate", Box::new(generator_crate)),
    ];
    if let Some(f) = ctx_fn {
        work.push((
            "context_crate",
            Box::new(move |n| {
                black_box(unsafe { f(n) });
            }),
        ));
    }
    // Warm-up: every workload once, briefly.
    for (_, w) in &work {
        w(iters / 10 + 1);
    }
    let k = work.len();
    // ns[round][workload]
    let mut ns = vec![vec![0.0f64; k]; rounds];
    for (r, row) in ns.iter_mut().enumerate() {
        for j in 0..k {
            let i = (j + r) % k; // rotate who goes first
            let t0 = Instant::now();
            (work[i].1)(iters);
            row[i] = t0.elapsed().as_nanos() as f64 / iters as f64;
        }
    }
    let ratio_to = |i: usize, base: usize| {
        let mut v: Vec<f64> = ns.iter().map(|row| row[i] / row[base]).collect();
        median(&mut v)
    };
    // Ratios against every workload: fcontext's against each peer are what the report needs.
    let names: Vec<&str> = work.iter().map(|w| w.0).collect();
    let mut out = String::from("workload\tmedian_ns");
    for n in &names {
        out.push_str(&format!("\tratio_to_{n}"));
    }
    out.push('\n');
    println!("{rounds} rounds x {iters} round trips; ratio = median of per-round ratios");
    println!("{:<22} {:>10} {:>10}", "workload", "ns/trip", "÷ raw");
    for i in 0..k {
        let med = median(&mut ns.iter().map(|row| row[i]).collect::<Vec<_>>());
        println!("{:<22} {:>10.2} {:>10.3}", names[i], med, ratio_to(i, 0));
        out.push_str(&format!("{}\t{med:.3}", names[i]));
        for b in 0..k {
            out.push_str(&format!("\t{:.4}", ratio_to(i, b)));
        }
        out.push('\n');
    }
    std::fs::write(&tsv, out).expect("write the TSV");
}
