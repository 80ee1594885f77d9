//! Misuse that cannot be recovered from must abort with a clear message.
//! Each case runs in a child process (this test binary, re-run with one
//! test selected, by `tools::rerun_in_child`), whose death by SIGABRT and
//! stderr are checked.

use fcontext_test_support as tools;

use fcontext::copystack::{CopyStack, SharedStack};
use fcontext::{Coroutine, Fiber, Yielder};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A place on `shared` for one coroutine of this file.
fn place(shared: &SharedStack) -> CopyStack {
    // SAFETY: no coroutine here lends a pointer into its frames to anything
    // that runs while it is suspended.
    unsafe { CopyStack::new(shared) }
}

/// In the parent: runs `test_name` in a child with the case enabled and
/// checks it aborted printing `message`. In the child: returns true.
fn in_child(test_name: &str, message: &str) -> bool {
    match tools::rerun_in_child(test_name, std::time::Duration::from_secs(60)) {
        Some(out) => {
            tools::assert_killed_by(&out, libc::SIGABRT, message);
            false
        }
        None => true,
    }
}

#[test]
fn coroutine_that_refuses_to_unwind_aborts() {
    if !in_child(
        "coroutine_that_refuses_to_unwind_aborts",
        "caught the forced unwind of its stack and suspended again",
    ) {
        return;
    }
    let mut co = Coroutine::new(|y: &Yielder<(), ()>, ()| loop {
        // Swallows the forced unwind and keeps suspending.
        let _ = catch_unwind(AssertUnwindSafe(|| y.suspend(())));
    })
    .unwrap();
    co.resume(()).unwrap();
    drop(co);
    unreachable!("drop must abort");
}

#[test]
fn fiber_entry_panic_aborts() {
    if !in_child("fiber_entry_panic_aborts", "a fiber's entry panicked") {
        return;
    }
    let fiber = Fiber::new(|main| {
        // Keep `main` out of the unwind (dropping it would abort first, see
        // the next test).
        std::mem::forget(main);
        panic!("fiber body failed")
    })
    .unwrap();
    fiber.resume();
    unreachable!("the fiber's panic must abort");
}

#[test]
fn dropping_the_thread_stack_fiber_aborts() {
    if !in_child(
        "dropping_the_thread_stack_fiber_aborts",
        "a Fiber standing for a thread's original stack was dropped",
    ) {
        return;
    }
    let fiber = Fiber::new(|main| {
        drop(main);
        unreachable!("dropping `main` aborts");
    })
    .unwrap();
    fiber.resume();
    unreachable!("the fiber's drop of main must abort");
}

#[test]
fn fiber_that_catches_its_unwind_aborts() {
    if !in_child(
        "fiber_that_catches_its_unwind_aborts",
        "forced unwind of a dropped Fiber did not reach a fiber's entry",
    ) {
        return;
    }
    let fiber = Fiber::new(|main| {
        let caught = catch_unwind(AssertUnwindSafe(|| main.resume()));
        drop(caught);
        unreachable!("dropping the caught payload aborts");
    })
    .unwrap();
    let fiber = fiber.resume().unwrap();
    drop(fiber);
    unreachable!("drop must abort");
}

#[test]
fn copy_stack_guard_page_overflow_is_reported() {
    use std::hint::black_box;
    if !in_child(
        "copy_stack_guard_page_overflow_is_reported",
        "stack overflow in coroutine",
    ) {
        return;
    }
    fcontext::overflow::install_overflow_handler().unwrap();
    #[allow(unconditional_recursion)]
    fn recurse(n: u64) -> u64 {
        let frame = black_box([n; 64]);
        recurse(n + 1) + black_box(&frame)[0]
    }
    let shared = SharedStack::new(64 * 1024).unwrap();
    let mut co = Coroutine::with_stack(place(&shared), |_: &Yielder<(), ()>, ()| {
        black_box(recurse(0));
    });
    let _ = co.resume(());
    unreachable!("the recursion must hit the shared stack's guard page");
}
