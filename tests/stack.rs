//! Stacks: size checks, lazy commit, guard layout, pool reuse.

use fcontext::stack_traits;
use fcontext::{Coroutine, FixedStack, ProtectedStack, Stack, StackError, StackPool, Yielder};
use std::hint::black_box;

fn assert_bad_size(result: Result<impl Stack, StackError>, what: &str) -> StackError {
    match result {
        Ok(_) => panic!("{what}: expected an error"),
        Err(err) => err,
    }
}

#[test]
fn zero_and_tiny_sizes_are_errors() {
    let min = stack_traits::minimum_size();
    for err in [
        assert_bad_size(ProtectedStack::new(0), "protected 0"),
        assert_bad_size(FixedStack::new(0), "fixed 0"),
    ] {
        assert!(matches!(err, StackError::ZeroSize), "{err:?}");
        assert!(err.to_string().contains("zero"), "{err}");
    }
    for err in [
        assert_bad_size(ProtectedStack::new(min - 1), "protected min-1"),
        assert_bad_size(FixedStack::new(1), "fixed 1"),
    ] {
        assert!(
            matches!(err, StackError::TooSmall { minimum, .. } if minimum == min),
            "{err:?}"
        );
        assert!(err.to_string().contains("below the minimum"), "{err}");
    }
    assert!(StackPool::new(0, 4).is_err());
    assert!(StackPool::new(min - 1, 4).is_err());
}

#[test]
fn sizes_that_overflow_when_rounded_are_errors() {
    for size in [usize::MAX, usize::MAX - 1, usize::MAX / 2 + 1] {
        for err in [
            assert_bad_size(ProtectedStack::new(size), "protected huge"),
            assert_bad_size(FixedStack::new(size), "fixed huge"),
        ] {
            // With an unbounded RLIMIT_STACK (the usual case) the rounding
            // overflows; with a bounded one the size is refused first.
            assert!(
                matches!(
                    err,
                    StackError::Overflow { .. } | StackError::TooLarge { .. }
                ),
                "{size}: {err:?}"
            );
        }
        assert!(StackPool::new(size, 1).is_err());
    }
}

#[test]
fn protected_stack_layout() {
    let page = stack_traits::page_size();
    let stack = ProtectedStack::new(100_000).unwrap();
    let (bottom, top) = (
        stack.bottom().as_ptr() as usize,
        stack.top().as_ptr() as usize,
    );
    assert_eq!(top % 16, 0);
    assert_eq!(bottom % page, 0);
    // Rounded up to whole pages, guard page below the usable range.
    assert_eq!(stack.size(), 100_000usize.next_multiple_of(page));
    assert_eq!(stack.guard_size(), page);
    assert_eq!(stack.mapping_size(), stack.size() + page);
    assert_eq!(top - bottom, stack.size());
    let default = ProtectedStack::with_default_size().unwrap();
    assert!(default.size() >= stack_traits::default_size());
}

#[test]
fn fixed_stack_layout() {
    let request = stack_traits::minimum_size() + 1;
    let stack = FixedStack::new(request).unwrap();
    assert_eq!(stack.top().as_ptr() as usize % 16, 0);
    assert!(stack.size() >= request && stack.size() < request + 16);
    // The page below the stack is a real guard: inaccessible in the
    // process's memory map, and made accessible again when the stack goes.
    let page = stack_traits::page_size();
    assert_eq!(stack.guard_size(), page);
    let guard = stack.bottom().as_ptr() as usize - page;
    assert_eq!(protection_of(guard).as_deref(), Some("---p"));
    drop(stack);
    assert_ne!(protection_of(guard).as_deref(), Some("---p"));
}

/// The permissions column of the `/proc/self/maps` line holding `addr`.
fn protection_of(addr: usize) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().find_map(|line| {
        let mut cols = line.split_whitespace();
        let (lo, hi) = cols.next()?.split_once('-')?;
        let range = usize::from_str_radix(lo, 16).ok()?..usize::from_str_radix(hi, 16).ok()?;
        range
            .contains(&addr)
            .then(|| cols.next().unwrap().to_string())
    })
}

/// Pages of `stack` the kernel has actually committed (mincore).
fn resident_pages(stack: &ProtectedStack) -> usize {
    let page = stack_traits::page_size();
    let len = stack.size();
    let mut vec = vec![0u8; len / page];
    // SAFETY: the range is our page-aligned mapping; vec has one byte per page.
    let rc = unsafe { libc::mincore(stack.bottom().as_ptr().cast(), len, vec.as_mut_ptr()) };
    assert_eq!(rc, 0, "mincore: {}", std::io::Error::last_os_error());
    vec.iter().filter(|&&b| b & 1 != 0).count()
}

fn use_stack(stack: ProtectedStack, bytes: usize) -> ProtectedStack {
    let mut co = Coroutine::with_stack(stack, move |_: &Yielder<(), ()>, ()| {
        // Touch `bytes` of stack through a recursion of 1 KiB frames that
        // stops when the stack pointer has gone `bytes` down (measured, so
        // debug and release builds use the same amount).
        fn burn(start: usize, bytes: usize) -> u8 {
            let mut frame = [0u8; 1024];
            frame[0] = 1;
            let frame = black_box(frame);
            let here = frame.as_ptr() as usize;
            if start - here >= bytes {
                frame[0]
            } else {
                frame[0].wrapping_add(burn(start, bytes))
            }
        }
        let marker = 0u8;
        let start = black_box(&marker) as *const u8 as usize;
        black_box(burn(start, bytes));
    });
    co.resume(()).unwrap();
    co.into_stack()
}

#[test]
fn protected_stack_is_committed_lazily() {
    let page = stack_traits::page_size();
    let stack = ProtectedStack::new(1 << 20).unwrap();
    let total = stack.size() / page;
    let fresh = resident_pages(&stack);
    let stack = use_stack(stack, 8 * 1024);
    let after_small = resident_pages(&stack);
    // About 8 KiB plus the frames of the crate and the test body; a generous
    // bound of 64 KiB, far below the 1 MiB an eager commit would cost.
    assert!(
        after_small * page <= 64 * 1024,
        "{after_small} of {total} pages resident after using 8 KiB (fresh: {fresh})"
    );
    assert!(after_small >= 2, "the coroutine did run on this stack");
    // The measurement can see growth: using 512 KiB commits about that much.
    let stack = use_stack(stack, 512 * 1024);
    let after_big = resident_pages(&stack);
    assert!(
        after_big * page >= 500 * 1024,
        "{after_big} pages after using 512 KiB"
    );
}

#[test]
fn pool_reuses_stacks_and_respects_capacity() {
    let pool = StackPool::new(64 * 1024, 2).unwrap();
    assert_eq!(pool.cached(), 0);
    let a = pool.get().unwrap();
    let a_top = a.top();
    drop(a);
    assert_eq!(pool.cached(), 1);
    let b = pool.get().unwrap();
    assert_eq!(b.top(), a_top, "the cached stack is handed out again");
    assert_eq!(pool.cached(), 0);
    let more: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
    drop(b);
    drop(more);
    assert_eq!(pool.cached(), 2, "at most `capacity` stacks are kept");
    pool.prefill(10).unwrap();
    assert_eq!(pool.cached(), 2);
    assert_eq!(pool.capacity(), 2);
    assert_eq!(pool.stack_size(), 64 * 1024);
}

#[test]
fn pooled_stack_outlives_its_pool() {
    let pool = StackPool::new(64 * 1024, 4).unwrap();
    let clone = pool.clone();
    let stack = pool.get().unwrap();
    drop(pool);
    drop(clone);
    // The stack is still valid memory; running a coroutine on it works, and
    // dropping it afterwards unmaps it instead of caching it.
    let mut co = Coroutine::with_stack(stack, |_: &Yielder<u8, ()>, x: u8| x + 1);
    assert_eq!(co.resume(1).unwrap().into_complete(), Some(2));
}

#[test]
fn pool_is_shared_between_threads() {
    let pool = StackPool::new(64 * 1024, 8).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                for i in 0..200u32 {
                    let mut co = Coroutine::with_stack(
                        pool.get().unwrap(),
                        move |y: &Yielder<u32, u32>, x: u32| y.suspend(x * 2) + t,
                    );
                    assert_eq!(co.resume(i).unwrap().into_yield(), Some(i * 2));
                    assert_eq!(co.resume(1).unwrap().into_complete(), Some(1 + t));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let cached = pool.cached();
    assert!((1..=8).contains(&cached), "{cached}");
}

#[test]
fn coroutines_run_on_minimum_size_stacks() {
    // The crate's own frames (entry, panic catching, the switch) fit in the
    // smallest stack the size checks accept, with room for a small body, on
    // both stack kinds. (A panic is another matter: the default panic hook
    // printing a backtrace needs more than `minimum_size`, as on any small
    // stack.)
    let min = stack_traits::minimum_size();
    let fixed = FixedStack::new(min).unwrap();
    let mut co = Coroutine::with_stack(fixed, |y: &Yielder<u32, u32>, x: u32| y.suspend(x + 1) * 2);
    assert_eq!(co.resume(1).unwrap().into_yield(), Some(2));
    assert_eq!(co.resume(5).unwrap().into_complete(), Some(10));

    let protected = ProtectedStack::new(min).unwrap();
    let mut co = Coroutine::with_stack(protected, |y: &Yielder<u32, String>, x: u32| {
        let mut text = x.to_string();
        loop {
            text.push('!');
            if y.suspend(text.clone()) == 0 {
                return text.len();
            }
        }
    });
    assert_eq!(co.resume(7).unwrap().into_yield().as_deref(), Some("7!"));
    assert_eq!(co.resume(1).unwrap().into_yield().as_deref(), Some("7!!"));
    assert_eq!(co.resume(0).unwrap().into_complete(), Some(3));
}
