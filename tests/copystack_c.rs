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
    let Some(out) = compile_sanitized("copystack_asan", "copystack_asan.cc", "address") else {
        return;
    };
    // Also with the use-after-return detector: locals then live in fake
    // stacks, one per context (the library annotates each switch).
    for uar in ["0", "1"] {
        let run = Command::new(&out)
            .env(
                "ASAN_OPTIONS",
                format!("detect_stack_use_after_return={uar}"),
            )
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            run.status.success() && !stderr.contains("AddressSanitizer"),
            "status {:?}\nstderr:\n{stderr}",
            run.status
        );
        assert!(String::from_utf8_lossy(&run.stdout).contains("copystack ASan test passed"));
    }
}

/// Compiles `tests/c/<source>` with `-fsanitize=<sanitizer>` (the library
/// is not rebuilt) into a program named `name`, or `None` (after a skip)
/// without a compiler or that sanitizer's runtime. C sources use `$CC`
/// (`cc`), C++ sources `$CXX` (`c++`).
fn compile_sanitized(name: &str, source: &str, sanitizer: &str) -> Option<PathBuf> {
    let (var, default, std) = if source.ends_with(".c") {
        ("CC", "cc", "-std=c11")
    } else {
        ("CXX", "c++", "-std=c++17")
    };
    let compiler = std::env::var(var).unwrap_or_else(|_| default.into());
    tools::need_tool(&compiler)?;
    let dir = tools::work_dir(name);
    let out = dir.join(name);
    let repo = tools::repo_dir();
    let built = Command::new(&compiler)
        .args([std, "-O1", "-g", "-fno-omit-frame-pointer", "-pthread"])
        .arg(format!("-fsanitize={sanitizer}"))
        .arg("-I")
        .arg(repo.join("include"))
        .arg(repo.join("tests/c").join(source))
        .arg("-o")
        .arg(&out)
        .arg(&tools::artifacts().staticlib)
        .args(["-ldl", "-lpthread"])
        .output()
        .unwrap();
    if !built.status.success() {
        tools::skip(&format!(
            "{compiler} -fsanitize={sanitizer} cannot build {source}: {}",
            String::from_utf8_lossy(&built.stderr)
        ));
        return None;
    }
    Some(out)
}

/// Runs a sanitized program with `args`; returns (success, stdout, stderr).
/// ThreadSanitizer of some releases refuses some kernels' address-space
/// layout ("unexpected memory mapping"); the run is then repeated with
/// address-space randomisation off (`setarch -R`).
fn run_sanitized(exe: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let out = Command::new(exe).args(args).output().unwrap();
    let mut result = (out.status.success(), text(&out.stdout), text(&out.stderr));
    if result.2.contains("unexpected memory mapping") {
        let arch = text(&Command::new("uname").arg("-m").output().unwrap().stdout);
        let out = Command::new("setarch")
            .args([arch.trim(), "-R"])
            .arg(exe)
            .args(args)
            .output()
            .unwrap();
        result = (out.status.success(), text(&out.stdout), text(&out.stderr));
    }
    result
}

fn tsan_program() -> Option<PathBuf> {
    static EXE: OnceLock<Option<PathBuf>> = OnceLock::new();
    EXE.get_or_init(|| compile_sanitized("copystack_tsan", "copystack_tsan.cc", "thread"))
        .clone()
}

/// A C++ program built with `-fsanitize=thread` runs copy-stack coroutines
/// on two threads, the coroutines of each thread sharing a plain counter
/// (ordered by the switches): TSan reports nothing. (Also clean without
/// the fiber annotations: each coroutine stays on its thread.)
#[test]
fn tsan_program_with_copy_stack_coroutines_is_clean() {
    let Some(exe) = tsan_program() else { return };
    let (ok, stdout, stderr) = run_sanitized(&exe, &[]);
    assert!(
        ok && !stderr.contains("WARNING: ThreadSanitizer"),
        "ok {ok}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("copystack TSan test passed"), "{stdout}");
}

/// The same two-thread program with one coroutine on each thread writing a
/// plain global without synchronisation: ThreadSanitizer reports the race,
/// and each access's stack is the coroutine's own (its body, entered from
/// the library), not the thread's frames below the resume: each coroutine
/// is a TSan fiber. (The race alone is found without the annotations too;
/// the stacks then run on into the thread's `std::thread` frames.)
#[test]
fn tsan_reports_a_race_between_coroutines_of_two_threads() {
    let Some(exe) = tsan_program() else { return };
    let (ok, _, stderr) = run_sanitized(&exe, &["race"]);
    assert!(
        !ok && stderr.contains("WARNING: ThreadSanitizer: data race") && stderr.contains("g_racy"),
        "ok {ok}\nstderr:\n{stderr}"
    );
    // The two access stacks: from the report's first line to "Location".
    let start = stderr.find("data race").unwrap();
    let accesses = &stderr[start..];
    let accesses = &accesses[..accesses.find("Location is").unwrap_or(accesses.len())];
    assert!(
        accesses.matches(" body ").count() == 2 && !accesses.contains("std_thread.h"),
        "access stacks are not the coroutines' own:\n{stderr}"
    );
}

/// A C program built with `-fsanitize=address` overflows a heap block in a
/// copy-stack coroutine (after yields that swapped its frames out and back
/// in): ASan reports it, and both the access and the allocation stacks
/// reach the coroutine's body function. The allocation stack is taken by
/// ASan's fast unwinder, which only follows frames on the stack it thinks
/// is current: without the switch annotations it stops at `malloc`. The
/// same program runs clean with and without ASan's use-after-return
/// detector (each context keeps its own fake stack), and with it reports a
/// read of a returned frame's local after a yield (that part passes
/// without the annotations too).
#[test]
fn asan_c_program_reports_a_heap_overflow_in_a_coroutine() {
    let Some(exe) = compile_sanitized(
        "copystack_asan_overflow",
        "copystack_asan_overflow.c",
        "address",
    ) else {
        return;
    };
    for uar in ["0", "1"] {
        let run = Command::new(&exe)
            .env(
                "ASAN_OPTIONS",
                format!("detect_stack_use_after_return={uar}"),
            )
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            run.status.success() && !stderr.contains("AddressSanitizer"),
            "{stderr}"
        );
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            stdout.contains("copystack ASan overflow test passed"),
            "{stdout}"
        );
    }
    // A read of a returned frame's local after a yield, with the detector on.
    let run = Command::new(&exe)
        .arg("uar")
        .env("ASAN_OPTIONS", "detect_stack_use_after_return=1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success()
            && stderr.contains("AddressSanitizer: stack-use-after-return")
            && stderr.contains("in coroutine_body_that_overflows"),
        "{stderr}"
    );
    let (ok, _, stderr) = run_sanitized(&exe, &["overflow"]);
    assert!(
        !ok && stderr.contains("AddressSanitizer: heap-buffer-overflow"),
        "ok {ok}\nstderr:\n{stderr}"
    );
    let allocated = stderr.split("allocated by").nth(1).unwrap_or("");
    let allocated = &allocated[..allocated.find("SUMMARY").unwrap_or(allocated.len())];
    let access = &stderr[..stderr.find("allocated by").unwrap_or(0)];
    for (what, trace) in [("access", access), ("allocation", allocated)] {
        assert!(
            trace.contains("in coroutine_body_that_overflows"),
            "the {what} stack does not name the coroutine's body:\n{stderr}"
        );
    }
}
