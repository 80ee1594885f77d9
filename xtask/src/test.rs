//! `cargo xtask test`: the whole test suite, as a list of steps run in order.
//!
//! Every step runs even when an earlier one failed; the command ends with the
//! line `xtask: N passed, M failed` and fails if any step did. A step that
//! cannot run because a tool is missing calls [`util::skip`], which fails
//! under `FCONTEXT_REQUIRE_ALL=1` (CI) and only reports otherwise.
//!
//! Registering a step is one line in [`STEPS`]: a name and a non-capturing
//! closure returning [`util::Result`]. Use [`cargo`] to run a cargo command,
//! [`xtask`] to run another xtask command in a child process, or call a
//! module's function directly.

use crate::util::{self, Result};
use std::time::Instant;

/// One step of the suite.
struct Step {
    name: &'static str,
    run: fn() -> Result,
}

/// The suite, in order.
const STEPS: &[Step] = &[
    Step {
        name: "cargo test --workspace",
        run: || cargo(&["test", "--workspace"]),
    },
    // Further passes (platform matrix, Valgrind, ...) go here, one line each, e.g.
    //   Step { name: "platform matrix", run: || xtask(&["matrix"]) },
    Step {
        name: "platform matrix (conformance/targets.ini: native, qemu, wine, Boost interop)",
        run: || xtask(&["matrix"]),
    },
    Step {
        name: "valgrind: fcontext tests + examples (memcheck)",
        run: crate::valgrind::run,
    },
    Step {
        name: "install into a scratch prefix + C++ examples (pkg-config, CMake, Boost rebinding)",
        run: install_check,
    },
    Step {
        name:
            "package: cargo package -p fcontext (the crates.io package builds from what it holds)",
        run: || cargo(&["package", "-p", "fcontext", "--allow-dirty"]),
    },
    Step {
        name: "lint: cargo fmt --check, cargo clippy -D warnings",
        run: lint,
    },
];

const USAGE: &str = "\
usage: cargo xtask test [--install-deps] [--list] [NAME-SUBSTRING...]

Runs every step of the test suite in order (or only the steps whose name
contains one of the given substrings) and ends with `xtask: N passed, M failed`.
--install-deps first installs the Debian packages the suite needs when they
are missing (`cargo xtask deps`: as root, or through sudo; otherwise it prints
the command). FCONTEXT_REQUIRE_ALL=1 turns every skipped check into a failure.";

/// `cargo xtask test`.
pub fn main(args: &[String]) -> Result {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    if args.iter().any(|a| a == "--list") {
        for step in STEPS {
            println!("{}", step.name);
        }
        return Ok(());
    }
    let install_deps = args.iter().any(|a| a == "--install-deps");
    let args: Vec<String> = args
        .iter()
        .filter(|a| *a != "--install-deps")
        .cloned()
        .collect();
    if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
        return Err(format!("unknown option `{flag}`\n\n{USAGE}").into());
    }
    if install_deps {
        crate::deps::ensure()?;
    }
    let selected: Vec<&Step> = STEPS
        .iter()
        .filter(|s| args.is_empty() || args.iter().any(|a| s.name.contains(a.as_str())))
        .collect();
    if selected.is_empty() {
        return Err(
            format!("no step matches {args:?}; `cargo xtask test --list` shows them").into(),
        );
    }
    if util::require_all() {
        println!("xtask: FCONTEXT_REQUIRE_ALL=1: a skipped check counts as a failure");
    }

    let failed = run_steps(&selected);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} of {} steps failed", failed.len(), selected.len()).into())
    }
}

/// Runs every step (a failure does not stop the next one), prints the
/// summary line and returns the names of the steps that failed.
fn run_steps(steps: &[&Step]) -> Vec<&'static str> {
    let mut failed = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        println!("\n=== [{}/{}] {}", i + 1, steps.len(), step.name);
        let start = Instant::now();
        let result = (step.run)();
        let secs = start.elapsed().as_secs_f64();
        match result {
            Ok(()) => println!("=== ok: {} ({secs:.1} s)", step.name),
            Err(e) => {
                println!("=== FAILED: {} ({secs:.1} s): {e}", step.name);
                failed.push(step.name);
            }
        }
    }
    println!();
    for name in &failed {
        println!("failed: {name}");
    }
    println!(
        "xtask: {} passed, {} failed",
        steps.len() - failed.len(),
        failed.len()
    );
    failed
}

/// Runs `cargo <args>` in the workspace root.
pub fn cargo(args: &[&str]) -> Result {
    util::run(util::cargo().args(args))
}

/// Runs `cargo xtask <args>` (this binary) in a child process.
#[allow(dead_code)] // used by the steps other passes register
pub fn xtask(args: &[&str]) -> Result {
    let me = std::env::current_exe()?;
    util::run(std::process::Command::new(me).args(args))
}

/// The tree is formatted and clippy-clean (the project's standard); both
/// tools run even when the first complains.
fn lint() -> Result {
    let mut problems = Vec::new();
    for (tool, args) in [
        ("rustfmt", &["fmt", "--all", "--check"][..]),
        (
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    ] {
        let installed = util::cargo()
            .args([args[0], "--version"])
            .output()
            .is_ok_and(|out| out.status.success());
        if !installed {
            util::skip(
                &format!("cargo {}", args[0]),
                &format!("{tool} is not installed (rustup component add {tool})"),
            )?;
            continue;
        }
        if let Err(e) = cargo(args) {
            problems.push(e.to_string());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; ").into())
    }
}

/// The main job into a scratch prefix (owned by xtask, emptied first), so the
/// suite never touches the user's `target/prefix`.
fn install_check() -> Result {
    let prefix = util::fresh_work_dir("test-prefix")?;
    // Without cmake the install has already reported the skip (an error
    // under FCONTEXT_REQUIRE_ALL=1).
    crate::install::install_and_check(&prefix, None)?;
    println!("==> a compiled Boost library bound to the installed libfcontext");
    crate::acceptance::check_boost_library_rebinding(&prefix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static RUNS: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn a_failing_step_is_counted_and_does_not_stop_the_rest() {
        let steps = [
            Step {
                name: "fails",
                run: || {
                    RUNS.fetch_add(1, Ordering::SeqCst);
                    Err("broken".into())
                },
            },
            Step {
                name: "passes",
                run: || {
                    RUNS.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                },
            },
        ];
        let selected: Vec<&Step> = steps.iter().collect();
        assert_eq!(run_steps(&selected), vec!["fails"]);
        assert_eq!(RUNS.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn step_names_are_unique() {
        for (i, a) in STEPS.iter().enumerate() {
            assert!(
                STEPS[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
    }
}
