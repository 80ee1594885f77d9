//! Runs the C tests of the copy-stack API (`tests/c/copystack.c`) against
//! `libfcontext.a`: every error code, a generator, ownership changes and copy
//! counts, and (in a child process) the abort on an escaped stack pointer.

use fcontext_test_support as tools;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Compiles the C test program once per test binary, or `None` (after a
/// skip) without a C compiler.
fn build() -> Option<PathBuf> {
    static EXE: OnceLock<Option<PathBuf>> = OnceLock::new();
    EXE.get_or_init(compile).clone()
}

fn compile() -> Option<PathBuf> {
    // The escape test moves the stack pointer past the guard page with
    // alloca; stack-clash probes would touch the guard first.
    tools::compile_c_test("copystack", &["-fno-stack-clash-protection"])
}

#[test]
fn c_api_error_paths_generator_and_copy_counts() {
    let Some(exe) = build() else { return };
    let stdout = tools::stdout_of(&mut Command::new(&exe));
    assert!(stdout.contains("copystack C tests passed"), "{stdout}");
}

#[test]
fn escaped_stack_pointer_aborts_with_a_message() {
    let Some(exe) = build() else { return };
    let out = Command::new(&exe).arg("escape").output().unwrap();
    tools::assert_killed_by(&out, libc::SIGABRT, "outside its shared stack");
}

#[test]
fn header_works_from_cpp() {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    if tools::need_tool(&cxx).is_none() {
        return;
    }
    let dir = tools::work_dir("copystack_cpp");
    let out = dir.join("copystack_cpp");
    let repo = tools::repo_dir();
    tools::run_ok(
        Command::new(&cxx)
            .args(["-std=c++17", "-O1", "-Wall", "-Werror"])
            .arg("-I")
            .arg(repo.join("include"))
            .arg(repo.join("tests/c/copystack_cpp.cc"))
            .arg("-o")
            .arg(&out)
            .arg(&tools::artifacts().staticlib),
    );
    let stdout = tools::stdout_of(&mut Command::new(&out));
    assert!(stdout.contains("copystack C++ test passed"), "{stdout}");
}

/// A C++ program built with `-fsanitize=address` (the library is not
/// rebuilt) runs copy-stack coroutines on two threads: the swaps copy the
/// instrumented frames' redzones along with them, which ASan must not take
/// for an overflow, and the coroutines' data must survive every swap.
#[test]
fn asan_program_with_copy_stack_coroutines_is_clean() {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    if tools::need_tool(&cxx).is_none() {
        return;
    }
    let dir = tools::work_dir("copystack_asan");
    let out = dir.join("copystack_asan");
    let repo = tools::repo_dir();
    tools::run_ok(
        Command::new(&cxx)
            .args(["-std=c++17", "-O1", "-g", "-fsanitize=address", "-pthread"])
            .arg("-I")
            .arg(repo.join("include"))
            .arg(repo.join("tests/c/copystack_asan.cc"))
            .arg("-o")
            .arg(&out)
            .arg(&tools::artifacts().staticlib)
            .args(["-ldl", "-lpthread"]),
    );
    let run = Command::new(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success() && !stderr.contains("AddressSanitizer"),
        "status {:?}\nstderr:\n{stderr}",
        run.status
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("copystack ASan test passed"));
}
