//! `cargo xtask <command>`: the project's own build, install and test commands.
//!
//! The alias lives in `.cargo/config.toml`. This crate uses only the standard
//! library so CI compiles it in seconds. Each command is a module with a
//! `main(args) -> util::Result` entry point and one line in [`COMMANDS`].
#![deny(missing_docs)]

mod acceptance;
mod asan;
mod bench;
mod deps;
mod install;
mod matrix;
mod test;
mod util;
mod valgrind;

use std::process::ExitCode;

/// One subcommand: its name, a one-line description and its entry point.
struct Command {
    name: &'static str,
    about: &'static str,
    run: fn(&[String]) -> util::Result,
}

/// The dispatch table. Adding a command: a `mod` line above and a row here.
const COMMANDS: &[Command] = &[
    Command {
        name: "asan",
        about: "fcontext's tests under AddressSanitizer (nightly, feature sanitize-address)",
        run: asan::main,
    },
    Command {
        name: "bench",
        about: "all benchmarks against Boost and the peer crates; writes docs/BENCHMARKS.md",
        run: bench::main,
    },
    Command {
        name: "deps",
        about: "install the Debian packages the test suite needs (.ci/apt-packages) when missing",
        run: deps::main,
    },
    Command {
        name: "install",
        about: "build release, install into a prefix, build and run the C++ example against it",
        run: install::main,
    },
    Command {
        name: "matrix",
        about: "cross-platform conformance matrix (qemu, wine, Boost interop; see conformance/)",
        run: matrix::main,
    },
    Command {
        name: "test",
        about: "the whole test suite (cargo test and every registered pass)",
        run: test::main,
    },
];

fn usage() -> String {
    let mut text = String::from("usage: cargo xtask <command> [options]\n\ncommands:\n");
    for c in COMMANDS {
        text.push_str(&format!("  {:<10} {}\n", c.name, c.about));
    }
    text.push_str("\n`cargo xtask <command> --help` describes a command's options.");
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        eprintln!("{}", usage());
        return ExitCode::FAILURE;
    };
    if name == "--help" || name == "-h" || name == "help" {
        println!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let Some(command) = COMMANDS.iter().find(|c| c.name == name) else {
        eprintln!("xtask: unknown command `{name}`\n\n{}", usage());
        return ExitCode::FAILURE;
    };
    match (command.run)(&args[1..]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {}: error: {e}", command.name);
            ExitCode::FAILURE
        }
    }
}
