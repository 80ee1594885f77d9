//! The stack-overflow reporter with the public API: a coroutine with runaway
//! recursion, run in a child process (this test binary re-executed with
//! `FCONTEXT_OVERFLOW_TEST_CHILD` set), must print the report naming its
//! stack's exact range and die by SIGABRT.

#[path = "../cpp-tests/src/tools.rs"]
#[allow(dead_code)]
mod tools;

use fcontext::{Coroutine, ProtectedStack, SendCoroutine, Stack};
use std::process::Command;

const CHILD: &str = "FCONTEXT_OVERFLOW_TEST_CHILD";

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[(depth % 64) as usize]
}

/// In the child: overflow a coroutine's stack; prints the expected range
/// first (stdout) so the parent can compare.
fn overflow_child(on_thread: bool) {
    fcontext::overflow::install_overflow_handler().unwrap();
    let run = || {
        let stack = ProtectedStack::new(64 * 1024).unwrap();
        let (lo, hi) = (
            stack.bottom().as_ptr() as usize,
            stack.top().as_ptr() as usize,
        );
        println!(
            "EXPECT stack overflow in coroutine (stack {lo:#x}..{hi:#x}, {} bytes)",
            hi - lo
        );
        let mut co = Coroutine::<(), (), u64, _>::with_stack(stack, |_, ()| recurse(0));
        let _ = co.resume(());
    };
    if on_thread {
        std::thread::spawn(run).join().unwrap();
    } else {
        run();
    }
    unreachable!("the overflow should have aborted the process");
}

/// In the child: the coroutine (and its stack) is made on the main thread
/// and resumed only on a thread without an alternate signal stack (what a
/// thread not started by `std` looks like), which made no stack: the resume
/// itself must give that thread one, or the overflow cannot be reported.
fn overflow_child_resumed_elsewhere() {
    fcontext::overflow::install_overflow_handler().unwrap();
    let stack = ProtectedStack::new(64 * 1024).unwrap();
    let (lo, hi) = (
        stack.bottom().as_ptr() as usize,
        stack.top().as_ptr() as usize,
    );
    println!(
        "EXPECT stack overflow in coroutine (stack {lo:#x}..{hi:#x}, {} bytes)",
        hi - lo
    );
    // SAFETY: the body holds nothing thread-bound across a suspend (it
    // never suspends).
    let mut co = unsafe { SendCoroutine::<(), (), u64, _>::with_stack(stack, |_, ()| recurse(0)) };
    std::thread::spawn(move || {
        let off = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: disabling this thread's own alternate signal stack.
        assert_eq!(unsafe { libc::sigaltstack(&off, std::ptr::null_mut()) }, 0);
        let _ = co.resume(());
    })
    .join()
    .unwrap();
    unreachable!("the overflow should have aborted the process");
}

#[test]
fn child_entry() {
    match std::env::var(CHILD).as_deref() {
        Ok("main") => overflow_child(false),
        Ok("thread") => overflow_child(true),
        Ok("resumed-elsewhere") => overflow_child_resumed_elsewhere(),
        _ => {}
    }
}

fn check(mode: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture"])
        .env(CHILD, mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = stdout
        .lines()
        .find_map(|l| Some(&l[l.find("EXPECT ")? + 7..]))
        .expect("the child printed the expected report");
    tools::assert_killed_by(&out, libc::SIGABRT, &format!("{expected}\n"));
}

#[test]
fn coroutine_overflow_is_reported_on_the_main_thread_of_a_test() {
    check("main");
}

#[test]
fn coroutine_overflow_is_reported_on_a_spawned_thread() {
    check("thread");
}

#[test]
fn coroutine_overflow_is_reported_on_a_thread_that_only_resumes() {
    check("resumed-elsewhere");
}
