//! The Valgrind pass of `cargo xtask test`: every test binary and example of
//! the `fcontext` package runs under `valgrind --error-exitcode=1`.
//!
//! The crate registers each coroutine stack with Valgrind (see
//! `src/stack/valgrind.rs`), so memcheck must report nothing. Cargo runs the binaries
//! itself, through its `target.<host triple>.runner` setting
//! (`CARGO_TARGET_<TRIPLE>_RUNNER` in the environment of `cargo test` and
//! `cargo run --example`), so no binary path is guessed or scraped. The pass
//! sets `FCONTEXT_UNDER_VALGRIND=1`: tests that would take minutes under
//! Valgrind's ~50x slowdown (the 1,000,000-resume thread stress test)
//! skip themselves when it is set, and one test checks that the crate's
//! Valgrind client requests are answered.

use crate::util::{self, Result};
use std::fs;
use std::path::Path;
use std::process::Command;

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
    let root = util::project_root();
    let tests = targets(&root, "tests")?;
    let examples = targets(&root, "examples")?;
    if tests.is_empty() {
        return Err("found no test targets for fcontext in tests/".into());
    }
    // Build first, without the runner: a compile error is an error of the
    // pass, not a binary that failed under Valgrind.
    let mut build = util::cargo();
    build.args(["test", "-p", "fcontext", "--lib", "--no-run"]);
    for t in &tests {
        build.args(["--test", t]);
    }
    util::run(&mut build)?;
    let mut build = util::cargo();
    build.args(["build", "-p", "fcontext"]);
    for e in &examples {
        build.args(["--example", e]);
    }
    util::run(&mut build)?;

    let runner = runner_variable()?;
    let valgrind = util::tool("VALGRIND", "valgrind");
    let runner_value = format!(
        "{} --error-exitcode=1 --quiet {MAX_STACKFRAME}",
        valgrind.get_program().to_string_lossy()
    );
    // One cargo invocation per binary, so every one runs even when an
    // earlier one failed, and the failures can be named.
    let mut runs: Vec<(String, Command)> = Vec::new();
    let lib_and_tests = std::iter::once(("--lib".to_string(), None))
        .chain(tests.iter().map(|t| (format!("--test {t}"), Some(t))));
    for (label, test) in lib_and_tests {
        let mut cmd = util::cargo();
        cmd.args(["test", "-p", "fcontext"]);
        match test {
            None => cmd.arg("--lib"),
            Some(t) => cmd.args(["--test", t]),
        };
        // Valgrind runs one thread at a time anyway; fewer threads keep
        // its output readable.
        cmd.args(["--", "--test-threads=2"]);
        runs.push((label, cmd));
    }
    for e in &examples {
        let mut cmd = util::cargo();
        cmd.args(["run", "-p", "fcontext", "--example", e]);
        runs.push((format!("--example {e}"), cmd));
    }
    let mut failed = Vec::new();
    for (label, mut cmd) in runs {
        cmd.env(&runner, &runner_value)
            .env("FCONTEXT_UNDER_VALGRIND", "1");
        if let Err(e) = util::run(&mut cmd) {
            println!("valgrind: {e}");
            failed.push(label);
        }
    }
    if failed.is_empty() {
        println!(
            "valgrind: {} test binaries and {} examples clean",
            tests.len() + 1,
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

/// `CARGO_TARGET_<HOST TRIPLE>_RUNNER`: the binaries are built for the host.
fn runner_variable() -> Result<String> {
    let version = util::output(util::tool("RUSTC", "rustc").arg("-vV"))?;
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or("`rustc -vV` names no host triple")?;
    Ok(runner_variable_for(host))
}

fn runner_variable_for(triple: &str) -> String {
    let upper: String = triple
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("CARGO_TARGET_{upper}_RUNNER")
}

/// The names of the targets cargo discovers in `<root>/<dir>` (`tests` or
/// `examples`): each `*.rs` file and each subdirectory with a `main.rs`,
/// sorted, without [`NOT_UNDER_VALGRIND`]. The package declares no
/// `[[test]]` or `[[example]]` tables (checked), so this is the full list.
fn targets(root: &Path, dir: &str) -> Result<Vec<String>> {
    let manifest = fs::read_to_string(root.join("Cargo.toml"))?;
    let table = if dir == "tests" {
        "[[test]]"
    } else {
        "[[example]]"
    };
    if manifest.lines().any(|l| l.trim() == table) {
        return Err(format!(
            "Cargo.toml declares {table} targets; xtask/src/valgrind.rs only knows \
             the ones cargo discovers in {dir}/"
        )
        .into());
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(root.join(dir))? {
        let path = entry?.path();
        let name = if path.is_dir() {
            path.join("main.rs")
                .is_file()
                .then(|| path.file_name().unwrap().to_string_lossy().into_owned())
        } else if path.extension().is_some_and(|e| e == "rs") {
            Some(path.file_stem().unwrap().to_string_lossy().into_owned())
        } else {
            None
        };
        if let Some(name) = name.filter(|n| !NOT_UNDER_VALGRIND.contains(&n.as_str())) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_variable_follows_cargos_spelling() {
        assert_eq!(
            runner_variable_for("x86_64-unknown-linux-gnu"),
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER"
        );
    }

    #[test]
    fn targets_are_the_discovered_ones_minus_the_exclusions() {
        let root = util::project_root();
        let tests = targets(&root, "tests").unwrap();
        assert!(tests.iter().any(|t| t == "overflow"), "{tests:?}");
        assert!(!tests.iter().any(|t| t == "bindgen_layout" || t == "c"));
        let examples = targets(&root, "examples").unwrap();
        assert!(examples.iter().any(|e| e == "pingpong"), "{examples:?}");
        assert!(!examples.iter().any(|e| e == "copystack_bench" || e == "c"));
    }
}
