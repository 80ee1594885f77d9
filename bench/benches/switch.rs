//! Switch and creation costs of fcontext's raw and safe APIs, side by side
//! with corosensei and the generator crate (the `context` crate runs in
//! `context_crate.rs`: it defines the same C symbols as fcontext).
//!
//! Benchmark ids are `<group>/<implementation>`; the report generator
//! (`src/bin/report.rs`) reads criterion's estimates under those ids.
//! A "round trip" is one resume and the suspend that comes back: two switches.
//! Copy-stack costs come from the copy-stack example
//! (`examples/copystack_bench.rs` in the main crate), not from here.

#[path = "../src/pin.rs"]
mod pin;

use criterion::{criterion_group, criterion_main, Criterion};
use fcontext::raw::{jump_fcontext, make_fcontext, Transfer};
use fcontext::{Coroutine, CoroutineResult, Fiber, Generator, ProtectedStack, StackPool, Yielder};
use generator::Gn;
use std::hint::black_box;
use std::ptr::null_mut;

const STACK_SIZE: usize = 128 * 1024;

/// Partner of the raw round trip: switch straight back, forever.
unsafe extern "C" fn raw_partner(mut t: Transfer) {
    loop {
        t = unsafe { jump_fcontext(t.fctx, null_mut()) };
    }
}

fn round_trip(c: &mut Criterion) {
    pin::pin_to_one_cpu(); // the first group runs first
    let mut g = c.benchmark_group("round_trip");

    // Raw jump_fcontext: the floor the safe layer is measured against. The
    // partner context is abandoned at the end (it owns nothing).
    let stack = fcontext::create_fcontext_stack(0);
    assert!(!stack.sptr.is_null(), "create_fcontext_stack failed");
    let mut t = unsafe {
        jump_fcontext(
            make_fcontext(stack.sptr, stack.ssize, raw_partner),
            null_mut(),
        )
    };
    g.bench_function("raw_jump_fcontext", |b| {
        b.iter(|| t = unsafe { jump_fcontext(t.fctx, black_box(null_mut())) })
    });

    let mut ours = Coroutine::new(|y: &Yielder<usize, usize>, mut x| loop {
        x = y.suspend(x + 1);
    })
    .expect("stack");
    g.bench_function("fcontext_coroutine", |b| {
        b.iter(|| ours.resume(black_box(1)))
    });
    drop(ours);

    let mut co = corosensei::Coroutine::new(|y: &corosensei::Yielder<usize, usize>, mut x| loop {
        x = y.suspend(x + 1);
    });
    g.bench_function("corosensei", |b| b.iter(|| co.resume(black_box(1))));
    drop(co);

    let mut gen = Gn::<usize>::new_scoped(|mut s| {
        let mut x = 0;
        loop {
            x = s.yield_(x + 1).unwrap_or(0);
        }
    });
    gen.send(0);
    g.bench_function("generator_crate", |b| b.iter(|| gen.send(black_box(1))));
    g.finish();
}

fn generator_next(c: &mut Criterion) {
    let mut g = c.benchmark_group("generator_next");
    let mut ours = Generator::new(|y: &Yielder<(), u64>| {
        let mut i = 0u64;
        loop {
            i += 1;
            y.suspend(i);
        }
    })
    .expect("stack");
    g.bench_function("fcontext_generator", |b| b.iter(|| ours.next()));
    drop(ours);

    // corosensei has no generator type: a coroutine that yields is its equivalent.
    let mut co = corosensei::Coroutine::new(|y: &corosensei::Yielder<(), u64>, ()| {
        let mut i = 0u64;
        loop {
            i += 1;
            y.suspend(i);
        }
    });
    g.bench_function("corosensei", |b| {
        b.iter(|| match co.resume(()) {
            corosensei::CoroutineResult::Yield(v) => Some(v),
            corosensei::CoroutineResult::Return(()) => None,
        })
    });
    drop(co);

    let mut gen = Gn::<()>::new_scoped(|mut s| {
        let mut i = 0u64;
        loop {
            i += 1;
            s.yield_with(i);
        }
    });
    g.bench_function("generator_crate", |b| b.iter(|| gen.next()));
    g.finish();
}

fn fiber_resume(c: &mut Criterion) {
    let mut g = c.benchmark_group("fiber_resume");
    let mut fiber = Some(
        Fiber::new(|mut main| loop {
            main = main.resume().expect("main is alive while it resumes us");
        })
        .expect("stack"),
    );
    g.bench_function("fcontext_fiber", |b| {
        b.iter(|| fiber = fiber.take().expect("fiber").resume())
    });
    g.finish();
}

fn create_destroy(c: &mut Criterion) {
    let mut g = c.benchmark_group("create_destroy");
    // Create a coroutine on a stack that is reused, run it to completion, destroy it.
    let pool = StackPool::new(STACK_SIZE, 4).expect("pool");
    pool.prefill(1).expect("prefill");
    g.bench_function("fcontext_pooled", |b| {
        b.iter(|| {
            let mut co =
                Coroutine::with_stack(pool.get().expect("pool"), |_: &Yielder<(), ()>, ()| 7u32);
            assert_eq!(co.resume(()), Ok(CoroutineResult::Complete(7)));
        })
    });

    let mut stack = Some(corosensei::stack::DefaultStack::new(STACK_SIZE).expect("stack"));
    g.bench_function("corosensei_reused_stack", |b| {
        b.iter(|| {
            let mut co = corosensei::Coroutine::with_stack(
                stack.take().expect("stack"),
                |_: &corosensei::Yielder<(), ()>, ()| 7u32,
            );
            assert!(matches!(
                co.resume(()),
                corosensei::CoroutineResult::Return(7)
            ));
            stack = Some(co.into_stack());
        })
    });

    // The generator crate allocates a stack for every generator (no pool).
    g.bench_function("generator_crate", |b| {
        b.iter(|| {
            let mut gen = Gn::<()>::new_scoped(|_| 7u32);
            assert_eq!(gen.resume(), Some(7));
        })
    });
    g.finish();
}

fn stacks(c: &mut Criterion) {
    let mut g = c.benchmark_group("stacks");
    g.bench_function("protected_stack", |b| {
        b.iter(|| ProtectedStack::new(black_box(STACK_SIZE)).expect("mmap"))
    });
    let pool = StackPool::new(STACK_SIZE, 4).expect("pool");
    pool.prefill(1).expect("prefill");
    g.bench_function("stack_pool_hit", |b| b.iter(|| pool.get().expect("pool")));
    g.bench_function("create_fcontext_stack", |b| {
        b.iter(|| {
            let mut s = fcontext::create_fcontext_stack(black_box(STACK_SIZE));
            assert!(!s.sptr.is_null());
            unsafe { fcontext::destroy_fcontext_stack(&mut s) };
        })
    });
    g.bench_function("corosensei_default_stack", |b| {
        b.iter(|| corosensei::stack::DefaultStack::new(black_box(STACK_SIZE)).expect("mmap"))
    });
    g.finish();
}

criterion_group!(
    benches,
    round_trip,
    generator_next,
    fiber_resume,
    create_destroy,
    stacks
);
criterion_main!(benches);
