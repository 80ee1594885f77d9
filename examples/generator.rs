//! Fibonacci numbers from a generator: the producer is a plain loop that
//! hands out each number with `suspend`, the consumer a plain iterator chain.
//!
//! Run with `cargo run --example generator [count]`.

use fcontext::Generator;

fn fibonacci() -> Generator<u64> {
    Generator::new(|y| {
        let (mut a, mut b) = (0u64, 1u64);
        loop {
            y.suspend(a);
            let Some(next) = a.checked_add(b) else {
                // u64 is exhausted: ending the closure ends the iterator.
                return;
            };
            (a, b) = (b, next);
        }
    })
    .expect("cannot allocate the generator's stack")
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("count must be a number"))
        .unwrap_or(20);
    for (i, n) in fibonacci().take(count).enumerate() {
        println!("fib({i}) = {n}");
    }
    // The sequence is finite in u64: the generator ends by itself.
    let all = fibonacci().count();
    println!("{all} Fibonacci numbers fit in a u64");
}
