//! `context_crate_round_trips(n)`: n resume + resume-back round trips with
//! the `context` crate, for the interleaved benchmark.

use context::stack::ProtectedFixedSizeStack;
use context::{Context, Transfer};
use std::hint::black_box;

extern "C" fn partner(mut t: Transfer) -> ! {
    loop {
        t = unsafe { t.context.resume(0) };
    }
}

/// Runs `n` round trips between the caller and a partner context on a fresh
/// stack (created and freed outside the timed loop by the caller's view:
/// the caller times the whole call, so keep `n` large). Returns the sum of
/// the data received, so the loop cannot be optimised out.
#[no_mangle]
pub extern "C" fn context_crate_round_trips(n: u64) -> u64 {
    let stack = ProtectedFixedSizeStack::new(128 * 1024).expect("stack for the context crate");
    let mut t = unsafe { Context::new(&stack, partner).resume(0) };
    let mut sum = 0u64;
    for _ in 0..n {
        t = unsafe { t.context.resume(black_box(1)) };
        sum = sum.wrapping_add(t.data as u64);
    }
    sum
}
