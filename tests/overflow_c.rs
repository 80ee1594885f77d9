//! The overflow reporter from C (`tests/c/overflow.c` against
//! `libfcontext.a`): after `fcontext_install_overflow_handler()`, runaway
//! recursion on a copy-stack coroutine's shared stack or on a
//! `create_fcontext_stack` stack must end the process by SIGABRT with the
//! report on stderr, not with a bare SIGSEGV.

use fcontext_test_support as tools;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Compiles the C program once per test binary, or `None` (after a skip)
/// without a C compiler.
fn build() -> Option<PathBuf> {
    static EXE: OnceLock<Option<PathBuf>> = OnceLock::new();
    EXE.get_or_init(compile).clone()
}

fn compile() -> Option<PathBuf> {
    tools::compile_c_test("overflow", &[])
}

fn run(exe: &PathBuf, mode: &str) -> Output {
    Command::new(exe).arg(mode).output().unwrap()
}

#[test]
fn install_returns_zero_and_is_idempotent() {
    let Some(exe) = build() else { return };
    let out = run(&exe, "install");
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("installed twice"));
}

#[test]
fn copystack_overflow_is_reported_and_aborts() {
    let Some(exe) = build() else { return };
    let out = run(&exe, "copystack");
    tools::assert_killed_by(&out, libc::SIGABRT, "stack overflow in coroutine (stack 0x");
}

#[test]
fn helper_stack_overflow_is_reported_with_its_range() {
    let Some(exe) = build() else { return };
    let out = run(&exe, "helper");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = stdout
        .lines()
        .find_map(|l| l.strip_prefix("EXPECT "))
        .unwrap_or_else(|| panic!("no EXPECT line in {stdout:?}"));
    tools::assert_killed_by(&out, libc::SIGABRT, &format!("{expected}\n"));
}

/// The handler is opt-in: without the call, the same overflow is the
/// kernel's plain SIGSEGV.
#[test]
fn without_install_an_overflow_is_a_plain_segv() {
    let Some(exe) = build() else { return };
    let out = run(&exe, "plain");
    let stderr = tools::assert_killed_by(&out, libc::SIGSEGV, "");
    assert!(!stderr.contains("stack overflow"), "{stderr}");
}
