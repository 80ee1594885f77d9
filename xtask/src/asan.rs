//! `cargo xtask asan`: the test suite of the `fcontext` package built with
//! AddressSanitizer on nightly, with the crate's `sanitize-address` feature
//! (which tells ASan about every context switch; see `src/sanitizer.rs`).
//! `.ci/run` runs it after `cargo xtask test`.
//!
//! Equivalent by hand:
//!
//! ```text
//! RUSTFLAGS=-Zsanitizer=address cargo +nightly test -p fcontext \
//!     --features sanitize-address --target x86_64-unknown-linux-gnu \
//!     --target-dir target/asan --lib --tests
//! ```
//! (`--target` keeps build scripts uninstrumented; the separate target
//! directory keeps the normal build's artifacts.)

use crate::util::{self, Result};
use std::process::Command;

/// The only target the ASan runtime is set up for here.
const TARGET: &str = "x86_64-unknown-linux-gnu";

/// Test targets left out, and why:
/// * `copystack_c` compiles C programs against the instrumented
///   `libfcontext.a`, which would need the C side built with
///   `-fsanitize=address` as well;
/// * `copystack` asserts exact copy sizes that ASan's larger frames change.
///   (Its stack copies themselves are ASan-clean: they unpoison the bytes
///   they copy.)
const NOT_UNDER_ASAN: &[&str] = &["copystack_c", "copystack"];

/// Tests skipped by name in every binary: `protected_stack_is_committed_lazily`
/// measures resident memory, which ASan's shadow memory inflates.
const SKIPPED_TESTS: &[&str] = &["protected_stack_is_committed_lazily"];

/// `cargo xtask asan`.
pub fn main(args: &[String]) -> Result {
    if !args.is_empty() {
        return Err(format!("`asan` takes no arguments, got {args:?}").into());
    }
    if !util::have("rustup") {
        return util::skip(
            "asan pass",
            "rustup (for the nightly toolchain) is not on PATH",
        );
    }
    let mut build = Command::new("cargo");
    build
        .current_dir(util::project_root())
        .env("RUSTFLAGS", "-Zsanitizer=address")
        .args([
            "+nightly",
            "test",
            "-p",
            "fcontext",
            "--features",
            "sanitize-address",
        ])
        .args([
            "--target",
            TARGET,
            "--target-dir",
            "target/asan",
            "--lib",
            "--tests",
            "--no-run",
        ]);
    let tests = executables_of(&mut build, NOT_UNDER_ASAN)?;
    if tests.is_empty() {
        return Err("cargo reported no ASan test binaries for fcontext".into());
    }
    let mut failed = Vec::new();
    for exe in &tests {
        let mut cmd = Command::new(exe);
        cmd.current_dir(util::project_root())
            // Use-after-return detection on, as in users' ordinary ASan
            // runs: locals then live in heap "fake stacks", which the crate
            // and the tests that check where a local lives map back to
            // their real frames (sanitizer::real_stack_address).
            .env("ASAN_OPTIONS", "detect_stack_use_after_return=1");
        for name in SKIPPED_TESTS {
            cmd.args(["--skip", name]);
        }
        if let Err(e) = util::run(&mut cmd) {
            println!("asan: {e}");
            failed.push(exe.clone());
        }
    }
    if failed.is_empty() {
        println!("asan: {} test binaries clean", tests.len());
        Ok(())
    } else {
        Err(format!("{} binaries failed under ASan: {failed:?}", failed.len()).into())
    }
}

/// Runs `cmd` (a cargo `test --no-run`) with `--message-format=json` and
/// returns the executables it reports, in order, without duplicates, leaving
/// out targets named in `skip`.
fn executables_of(cmd: &mut Command, skip: &[&str]) -> Result<Vec<String>> {
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
