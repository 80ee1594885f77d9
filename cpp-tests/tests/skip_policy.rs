//! The skip policy of `tools`: a test whose tool is missing passes with a
//! printed reason, and fails under `FCONTEXT_REQUIRE_ALL=1`. Checked by
//! running this test binary again as a child with each setting.

use fcontext_cpp_tests::tools;
use std::process::Command;

/// Only does something in the child: asks for a tool that does not exist.
#[test]
fn child_needs_a_missing_tool() {
    if std::env::var_os("FCT_SKIP_POLICY_CHILD").is_none() {
        return;
    }
    assert!(tools::need_tool("fcontext-no-such-tool").is_none());
}

fn run_child(require_all: &str) -> (bool, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_needs_a_missing_tool", "--nocapture"])
        .env("FCT_SKIP_POLICY_CHILD", "1")
        .env("FCONTEXT_REQUIRE_ALL", require_all)
        .output()
        .expect("run the test binary");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn missing_tool_skips_with_a_reason() {
    let (ok, text) = run_child("0");
    assert!(ok, "{text}");
    assert!(
        text.contains("SKIPPED: `fcontext-no-such-tool` not found on PATH"),
        "{text}"
    );
}

#[test]
fn missing_tool_fails_when_everything_is_required() {
    let (ok, text) = run_child("1");
    assert!(!ok, "{text}");
    assert!(text.contains("FCONTEXT_REQUIRE_ALL=1"), "{text}");
}
