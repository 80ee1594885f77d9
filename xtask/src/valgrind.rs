//! The Valgrind pass of `cargo xtask test`: every test binary and example of
//! the `fcontext` package runs under `valgrind --error-exitcode=1`.
//!
//! The crate registers each coroutine stack with Valgrind (see
//! `src/stack/valgrind.rs`), so memcheck must report nothing. The binaries are found
//! from cargo's JSON messages rather than guessed from file names. The pass
//! sets `FCONTEXT_UNDER_VALGRIND=1`: tests that would take minutes under
//! Valgrind's ~50x slowdown (the 1,000,000-resume thread stress test)
//! skip themselves when it is set, and one test checks that the crate's
//! Valgrind client requests are answered.

use crate::util::{self, Result};

/// Memcheck handles a stack-pointer move smaller than `--max-stackframe`
/// (2 MiB by default) inline, as an ordinary frame push or pop, without
/// looking at the registered stacks. Coroutine stacks are often mapped
/// within 2 MiB of each other and of thread stacks, so a switch would be
/// taken for a huge frame and the memory in between marked inaccessible.
/// With the limit at one page, every switch between two stacks separated by
/// a guard page is a larger move and goes through Valgrind's registered-stack
/// check; ordinary frames stay below it because Rust (and Debian's C
/// toolchain, with stack-clash protection) grow the stack a page at a time.
const MAX_STACKFRAME: &str = "--max-stackframe=16384";

/// Targets left out: `bindgen_layout` checks headers by running compilers
/// (bindgen, rustc) and makes no context switch; `copystack_bench` is a
/// benchmark (a million live coroutines) that would run for many minutes.
const NOT_UNDER_VALGRIND: &[&str] = &["bindgen_layout", "copystack_bench"];

/// Runs the pass (skips, or fails under `FCONTEXT_REQUIRE_ALL=1`, when
/// Valgrind is not installed).
pub fn run() -> Result {
    if !util::have("valgrind") {
        return util::skip(
            "valgrind pass",
            "`valgrind` is not on PATH (Debian package valgrind)",
        );
    }
    let tests = executables(&["test", "-p", "fcontext", "--lib", "--tests", "--no-run"])?;
    let examples = executables(&["build", "-p", "fcontext", "--examples"])?;
    if tests.is_empty() {
        return Err("cargo reported no test binaries for fcontext".into());
    }
    let mut failed = Vec::new();
    for (exe, is_test) in tests
        .iter()
        .map(|e| (e, true))
        .chain(examples.iter().map(|e| (e, false)))
    {
        let mut cmd = util::tool("VALGRIND", "valgrind");
        cmd.args(["--error-exitcode=1", "--quiet", MAX_STACKFRAME])
            .arg(exe)
            .env("FCONTEXT_UNDER_VALGRIND", "1")
            .current_dir(util::project_root());
        if is_test {
            // Valgrind runs one thread at a time anyway; fewer threads keep
            // its output readable.
            cmd.arg("--test-threads=2");
        }
        if let Err(e) = util::run(&mut cmd) {
            println!("valgrind: {e}");
            failed.push(exe.clone());
        }
    }
    if failed.is_empty() {
        println!(
            "valgrind: {} test binaries and {} examples clean",
            tests.len(),
            examples.len()
        );
        Ok(())
    } else {
        Err(format!(
            "{} binaries failed under valgrind: {failed:?}",
            failed.len()
        )
        .into())
    }
}

/// Runs `cargo <args> --message-format=json` and returns the executables it
/// reports (test harnesses or examples), in order, without duplicates.
fn executables(args: &[&str]) -> Result<Vec<String>> {
    executables_of(util::cargo().args(args), NOT_UNDER_VALGRIND)
}

/// Runs `cmd` (a cargo build or `test --no-run`) with
/// `--message-format=json` and returns the executables it reports, in
/// order, without duplicates, leaving out targets named in `skip`. Shared
/// with the ASan pass.
pub fn executables_of(cmd: &mut std::process::Command, skip: &[&str]) -> Result<Vec<String>> {
    let json = util::output(cmd.arg("--message-format=json"))?;
    let mut found = Vec::new();
    for line in json
        .lines()
        .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
    {
        let skipped = skip
            .iter()
            .any(|name| line.contains(&format!(r#""name":"{name}""#)));
        if skipped {
            continue;
        }
        if let Some(exe) = json_string(line, "executable") {
            if !found.contains(&exe) {
                found.push(exe);
            }
        }
    }
    Ok(found)
}

/// The string value of `"key":"..."` in one line of cargo's JSON (paths only
/// ever need `\\` and `\"` unescaped), or `None` when absent or `null`.
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}
