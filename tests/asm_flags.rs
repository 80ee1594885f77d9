//! Behaviour behind the `asm!` audit (issue #13): an optimised caller must
//! get correct results when it keeps a comparison in the flags across a
//! Valgrind client request. With the false `preserves_flags` the compiler
//! emitted `cmp; rol x4; xchg rbx, rbx; adc`, and the `rol`s' carry replaced
//! the comparison's, so `c + (a < b)` came out wrong for half the inputs.
//!
//! The test builds a small program with `rustc -C opt-level=3` against the
//! `fcontext` rlib of this profile (the request is `#[inline]`, so it is
//! inlined and optimised with the caller even in a debug build of the
//! crate) and runs it: it counts the wrong sums over 64 inputs.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use fcontext_test_support as tools;

use std::path::PathBuf;
use std::process::Command;

const PROBE: &str = r#"
use std::hint::black_box;

/// `c + (a < b)`, with a client request between the comparison and the add.
#[inline(never)]
fn sum_across_request(a: usize, b: usize, c: usize, p: *const u8) -> usize {
    let carry = usize::from(a < b);
    fcontext::__private::valgrind_make_mem_undefined(p, 0);
    c + carry
}

fn main() {
    let byte = 0u8;
    let mut wrong = 0;
    for i in 0..64usize {
        let got = sum_across_request(black_box(i), black_box(32), black_box(100), black_box(&byte));
        if got != 100 + usize::from(i < 32) {
            wrong += 1;
        }
    }
    println!("wrong results: {wrong}");
}
"#;

fn rustc() -> PathBuf {
    // The rustc next to the cargo running us is the one that built the rlib.
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|c| Some(c.parent()?.join("rustc")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "rustc".into())
}

#[test]
fn flags_survive_a_valgrind_client_request_in_optimised_code() {
    let lib = tools::artifacts();
    let dir = tools::work_dir("asm_flags");
    let src = dir.join("probe.rs");
    let exe = dir.join("probe");
    std::fs::write(&src, PROBE).unwrap();
    tools::run_ok(
        Command::new(rustc())
            .args(["--edition", "2021", "-C", "opt-level=3"])
            .arg("--extern")
            .arg(format!(
                "fcontext={}",
                lib.profile_dir.join("libfcontext.rlib").display()
            ))
            .arg("-L")
            .arg(format!(
                "dependency={}",
                lib.profile_dir.join("deps").display()
            ))
            .arg("-o")
            .arg(&exe)
            .arg(&src),
    );
    let out = tools::stdout_of(&mut Command::new(&exe));
    assert_eq!(out.trim(), "wrong results: 0");
}
