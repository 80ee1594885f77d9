//! The child-process runner itself.

use fcontext_test_support as tools;
use std::io::Write;
use std::time::Duration;

/// A child that prints far more than a pipe holds (64 KiB on Linux) must
/// run to its end: the runner drains the pipes while it waits instead of
/// leaving the child blocked until the timeout kills it.
#[test]
fn a_child_that_prints_a_lot_is_not_taken_for_a_hang() {
    let name = "a_child_that_prints_a_lot_is_not_taken_for_a_hang";
    if let Some(out) = tools::rerun_in_child(name, Duration::from_secs(20)) {
        tools::assert_child_ok(&out);
        assert!(out.stdout.len() > 1 << 20, "{} bytes", out.stdout.len());
        assert!(out.stderr.len() > 1 << 20, "{} bytes", out.stderr.len());
        return;
    }
    let line = [b'x'; 1023];
    for _ in 0..2048 {
        std::io::stdout().write_all(&line).unwrap();
        std::io::stdout().write_all(b"\n").unwrap();
        std::io::stderr().write_all(&line).unwrap();
        std::io::stderr().write_all(b"\n").unwrap();
    }
}

/// A child that never ends is killed at the timeout, and the caller sees it.
#[test]
fn a_child_that_hangs_is_killed_at_the_timeout() {
    use std::os::unix::process::ExitStatusExt;
    let name = "a_child_that_hangs_is_killed_at_the_timeout";
    if let Some(out) = tools::rerun_in_child(name, Duration::from_millis(500)) {
        assert_eq!(out.status.signal(), Some(9), "{:?}", out.status);
        return;
    }
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}
