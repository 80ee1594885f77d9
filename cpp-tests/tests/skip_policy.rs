//! The skip policy of `tools`: a test whose tool is missing passes with a
//! printed reason, and fails under `FCONTEXT_REQUIRE_ALL=1`. Checked by
//! running each test again in a child (`tools::rerun_in_child_with`) with
//! the setting under test, where it asks for a tool that does not exist.

use fcontext_cpp_tests::tools;
use std::time::Duration;

/// In the parent: reruns `test_name` in a child with
/// `FCONTEXT_REQUIRE_ALL=require_all` and returns whether it passed and
/// everything it printed. In the child: asks for a missing tool, returns
/// `None`.
fn run_child(test_name: &str, require_all: &str) -> Option<(bool, String)> {
    let child = tools::rerun_in_child_with(test_name, Duration::from_secs(60), |cmd| {
        cmd.env("FCONTEXT_REQUIRE_ALL", require_all);
    });
    let Some(out) = child else {
        assert!(tools::need_tool("fcontext-no-such-tool").is_none());
        return None;
    };
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), text))
}

#[test]
fn missing_tool_skips_with_a_reason() {
    let Some((ok, text)) = run_child("missing_tool_skips_with_a_reason", "0") else {
        return;
    };
    assert!(ok, "{text}");
    assert!(
        text.contains("SKIPPED: `fcontext-no-such-tool` not found on PATH"),
        "{text}"
    );
}

#[test]
fn missing_tool_fails_when_everything_is_required() {
    let Some((ok, text)) = run_child("missing_tool_fails_when_everything_is_required", "1") else {
        return;
    };
    assert!(!ok, "{text}");
    assert!(text.contains("FCONTEXT_REQUIRE_ALL=1"), "{text}");
}
