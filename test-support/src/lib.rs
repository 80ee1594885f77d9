//! Shared plumbing for the integration tests: skipping when an external tool
//! is missing, locating the built `libfcontext.{a,so}`, and compiling and
//! running small C/C++ programs against them.
//!
//! One crate for the tests of both packages (`fcontext` and
//! `fcontext-cpp-tests`), so they share one skip policy and one
//! child-process runner; it depends on `std` only.

#![deny(missing_docs)]

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// True when `FCONTEXT_REQUIRE_ALL=1` (set by CI): a skipped test is then a
/// failure, so a missing package cannot silently turn the suite green.
pub fn require_all() -> bool {
    env::var_os("FCONTEXT_REQUIRE_ALL").is_some_and(|v| v == "1")
}

/// Reports that a test cannot run here. Prints the reason and returns, or
/// panics when [`require_all`] is set. Callers `return` right after.
pub fn skip(reason: &str) {
    if require_all() {
        panic!("FCONTEXT_REQUIRE_ALL=1 but this test cannot run: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// The path of `name` on `PATH`, or a [`skip`] and `None`.
pub fn need_tool(name: &str) -> Option<PathBuf> {
    let found = env::var_os("PATH").and_then(|paths| {
        env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        skip(&format!("`{name}` not found on PATH"));
    }
    found
}

/// `path` if it exists, or a [`skip`] naming `package` and `None`.
pub fn need_file(path: &str, package: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        Some(p)
    } else {
        skip(&format!("{path} missing (Debian package {package})"));
        None
    }
}

/// The workspace root (the `fcontext` package).
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support sits in the repository root")
        .to_path_buf()
}

/// The `cpp-tests` directory (its C and C++ programs live in `programs/`).
pub fn cpp_tests_dir() -> PathBuf {
    repo_dir().join("cpp-tests")
}

/// The C libraries of the `fcontext` package, built with the profile of the
/// running test binary.
pub struct Artifacts {
    /// `target/<profile>`: also where test programs are written.
    pub profile_dir: PathBuf,
    /// `libfcontext.a`.
    pub staticlib: PathBuf,
    /// `libfcontext.so`.
    pub cdylib: PathBuf,
}

/// Builds (if needed) and locates `libfcontext.a` and `libfcontext.so`.
///
/// Why a nested `cargo build`: `cargo test` compiles the `fcontext` library
/// with all its crate types as a dependency, but nothing guarantees that
/// `target/<profile>/libfcontext.{a,so}` were refreshed from *this* source
/// tree (for instance after `cargo test -p fcontext-cpp-tests` alone). Asking
/// cargo for the package with the same profile and target directory is a
/// no-op when they are current and rebuilds them when not; cargo releases its
/// build lock before it runs tests, so this does not deadlock. Done once per
/// test binary.
pub fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: OnceLock<Artifacts> = OnceLock::new();
    ARTIFACTS.get_or_init(|| {
        let exe = env::current_exe().expect("test binary path");
        // <target-dir>[/<triple>]/<profile>/deps/<test binary>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary lives in <profile>/deps")
            .to_path_buf();
        let dir_name = profile_dir.file_name().and_then(OsStr::to_str).unwrap();
        let profile = match dir_name {
            "debug" => "dev",
            other => other,
        };
        let above = profile_dir.parent().unwrap();
        let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.current_dir(repo_dir()).args([
            "build",
            "--quiet",
            "-p",
            "fcontext",
            "--profile",
            profile,
        ]);
        // A cargo target directory is marked with CACHEDIR.TAG; without it,
        // `above` is `<target-dir>/<triple>` of a `--target` build.
        if above.join("CACHEDIR.TAG").exists() {
            cmd.arg("--target-dir").arg(above);
        } else {
            cmd.arg("--target-dir").arg(above.parent().unwrap());
            cmd.arg("--target").arg(above.file_name().unwrap());
        }
        run_ok(&mut cmd);
        let a = Artifacts {
            staticlib: profile_dir.join("libfcontext.a"),
            cdylib: profile_dir.join("libfcontext.so"),
            profile_dir,
        };
        assert!(a.staticlib.is_file() && a.cdylib.is_file());
        a
    })
}

/// A fresh directory for the programs of one test, under `target/<profile>`.
pub fn work_dir(test: &str) -> PathBuf {
    let dir = artifacts()
        .profile_dir
        .join("fcontext-cpp-tests")
        .join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create test work directory");
    dir
}

/// Runs `cmd`, panicking with its output unless it exits with status 0.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Asserts that a child process was killed by `signal` and that its standard
/// error contains `needle`; returns that standard error.
pub fn assert_killed_by(out: &Output, signal: i32, needle: &str) -> String {
    use std::os::unix::process::ExitStatusExt;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.signal(),
        Some(signal),
        "expected death by signal {signal}, got {:?}; stderr:\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains(needle),
        "stderr lacks {needle:?}:\n{stderr}"
    );
    stderr
}

/// Standard output of a successful run of `cmd`, as text.
pub fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run_ok(cmd).stdout).into_owned()
}

/// How a test program is linked to fcontext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `libfcontext.a` named as the only library.
    Static,
    /// `-lfcontext` against `libfcontext.so`, run through a `libfcontext.so.0`
    /// link in the program's directory (its rpath).
    Shared,
}

/// Compiles `programs/<source>` into `<dir>/<output>`, linked to fcontext as
/// `link` says; `extra` goes before the library (defines, `-I`, ...).
/// C sources use `cc`, everything else `c++` (or `$CC` / `$CXX`).
pub fn compile(dir: &Path, source: &str, output: &str, link: Link, extra: &[&str]) -> PathBuf {
    compile_with_log(dir, source, output, link, extra).0
}

/// [`compile`], also returning what the compiler and linker printed on
/// standard error (warnings).
pub fn compile_with_log(
    dir: &Path,
    source: &str,
    output: &str,
    link: Link,
    extra: &[&str],
) -> (PathBuf, String) {
    let src = cpp_tests_dir().join("programs").join(source);
    let is_c = source.ends_with(".c");
    let compiler = if is_c {
        env::var("CC").unwrap_or_else(|_| "cc".into())
    } else {
        env::var("CXX").unwrap_or_else(|_| "c++".into())
    };
    let out = dir.join(output);
    let lib = artifacts();
    let mut cmd = Command::new(compiler);
    cmd.arg(if is_c { "-std=c11" } else { "-std=c++17" })
        .args(["-O1", "-g", "-Wall", "-Werror"])
        .arg("-I")
        .arg(repo_dir().join("include"))
        .args(extra)
        .arg(&src)
        .arg("-o")
        .arg(&out);
    match link {
        Link::Static => {
            cmd.arg(&lib.staticlib);
        }
        Link::Shared => {
            // The library's SONAME is libfcontext.so.0, the name the loader
            // will look for; cargo writes only libfcontext.so, so give the
            // program the link an installation would create, next to it.
            let soname = dir.join("libfcontext.so.0");
            let _ = fs::remove_file(&soname);
            std::os::unix::fs::symlink(&lib.cdylib, &soname).expect("symlink libfcontext.so.0");
            cmd.arg(format!("-L{}", lib.profile_dir.display()))
                .arg(format!("-Wl,-rpath,{}", dir.display()))
                .arg("-lfcontext");
        }
    }
    let log = run_ok(&mut cmd).stderr;
    (out, String::from_utf8_lossy(&log).into_owned())
}

/// The `NEEDED` entries of an ELF file (`readelf -d`).
pub fn needed_libraries(elf: &Path) -> Vec<String> {
    stdout_of(Command::new("readelf").arg("-dW").arg(elf))
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next().map(str::to_owned))
        .collect()
}

/// Runs the test `test_name` of the current test binary again in a child
/// process and returns its output; in that child (marked by
/// `FCONTEXT_CHILD_CASE`) returns `None`, so the caller runs the case
/// itself. For cases that crash, abort or spin: the parent judges the
/// child's fate and survives it. A child still running after `timeout` is
/// killed (SIGKILL), which the caller sees as its status.
pub fn rerun_in_child(test_name: &str, timeout: std::time::Duration) -> Option<Output> {
    rerun_in_child_with(test_name, timeout, |_| {})
}

/// [`rerun_in_child`], with `setup` applied to the child's [`Command`]
/// before it is spawned: extra environment (`cmd.env(..)`), or a
/// `std::os::unix::process::CommandExt::pre_exec` hook for process state
/// that must be in place before the exec (an ignored signal, a limit).
pub fn rerun_in_child_with(
    test_name: &str,
    timeout: std::time::Duration,
    setup: impl FnOnce(&mut Command),
) -> Option<Output> {
    use std::process::Stdio;
    use std::time::Instant;
    if env::var_os("FCONTEXT_CHILD_CASE").is_some() {
        return None;
    }
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env::current_exe().expect("test binary path"));
    cmd.args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env("FCONTEXT_CHILD_CASE", test_name)
        // Its own process group, so a timeout kills whatever it started too
        // (a grandchild holding the pipes open would stall the readers).
        .process_group(0);
    setup(&mut cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the test binary again");
    // Drain both pipes while waiting, so a child that prints more than a
    // pipe holds is not blocked into a timeout.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() > timeout {
            // The whole group: the child is its leader (see above).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            break child.wait().expect("reap the killed child");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Some(Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    })
}

/// Asserts that a child run by [`rerun_in_child`] exited successfully after
/// running its one test (a mistyped test name runs none and exits 0).
pub fn assert_child_ok(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "the child failed or ran no test: {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles the C test program `tests/c/<name>.c` of the `fcontext` package
/// against `libfcontext.a` (with `extra` flags) into a work directory, or a
/// [`skip`] and `None` without a C compiler. Callers cache the result.
pub fn compile_c_test(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    need_tool(&cc)?;
    let out = work_dir(&format!("{name}_c")).join(name);
    let repo = repo_dir();
    run_ok(
        Command::new(&cc)
            .args(["-std=c11", "-O1", "-g", "-Wall", "-Werror"])
            .args(extra)
            .arg("-I")
            .arg(repo.join("include"))
            .arg(repo.join("tests/c").join(format!("{name}.c")))
            .arg("-o")
            .arg(&out)
            .arg(&artifacts().staticlib),
    );
    Some(out)
}
