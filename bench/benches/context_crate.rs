//! The `context` crate (Boost.Context's own assembly, built by the crate) on
//! the workloads of `switch.rs`.
//!
//! A separate binary on purpose: the crate defines `jump_fcontext`,
//! `make_fcontext` and `ontop_fcontext` under the same C names as fcontext,
//! so the two cannot be linked into one executable (duplicate symbols), and
//! the crate has no feature to rename them. This binary links no fcontext.

use context::stack::ProtectedFixedSizeStack;
use context::{Context, Transfer};
#[path = "../src/pin.rs"]
mod pin;

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const STACK_SIZE: usize = 128 * 1024;

extern "C" fn partner(mut t: Transfer) -> ! {
    loop {
        t = unsafe { t.context.resume(0) };
    }
}

/// Returns to its creator at once; the context is then abandoned.
extern "C" fn once(t: Transfer) -> ! {
    unsafe { t.context.resume(7) };
    unreachable!("an abandoned context is never resumed")
}

fn round_trip(c: &mut Criterion) {
    pin::pin_to_one_cpu(); // the first group runs first
    let mut g = c.benchmark_group("round_trip");
    let stack = ProtectedFixedSizeStack::new(STACK_SIZE).expect("stack for the context crate");
    // Context::resume consumes the handle and returns the next one: one
    // resume there and one resume back make a round trip.
    let mut t = Some(unsafe { Context::new(&stack, partner).resume(0) });
    g.bench_function("context_crate", |b| {
        b.iter(|| {
            let here = t.take().expect("the partner always switches back");
            t = Some(unsafe { here.context.resume(black_box(0)) });
        })
    });
    g.finish();
}

fn create_destroy(c: &mut Criterion) {
    let mut g = c.benchmark_group("create_destroy");
    // The crate's contexts cannot finish (their entry never returns), so a
    // "run to completion" is one switch in and one back, then abandoning it.
    let stack = ProtectedFixedSizeStack::new(STACK_SIZE).expect("stack");
    g.bench_function("context_crate_reused_stack", |b| {
        b.iter(|| {
            let t = unsafe { Context::new(&stack, once).resume(0) };
            assert_eq!(t.data, 7);
        })
    });
    g.finish();
}

fn stacks(c: &mut Criterion) {
    let mut g = c.benchmark_group("stacks");
    g.bench_function("context_crate_protected_stack", |b| {
        b.iter(|| ProtectedFixedSizeStack::new(black_box(STACK_SIZE)).expect("mmap"))
    });
    g.finish();
}

criterion_group!(benches, round_trip, create_destroy, stacks);
criterion_main!(benches);
