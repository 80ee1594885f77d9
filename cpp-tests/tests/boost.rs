//! Real Boost code (Debian's 1.74 headers) and Boost >= 1.87 style
//! declarations, compiled into standalone programs linked to fcontext's
//! `libfcontext.a` or `libfcontext.so` and never to `-lboost_context`.
//! The programs are in `programs/`; each prints `ok <check>` lines and exits
//! with the number of failed checks.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use fcontext_cpp_tests::tools::{self, Link};
use std::path::Path;
use std::process::Command;

/// The checks `programs/boost_suite.cpp` must report as passed.
const BOOST_CHECKS: &[&str] = &[
    "fiber_fixedsize_stack",
    "fiber_protected_fixedsize_stack",
    "fiber_resume_with_on_fiber_stack",
    "fiber_resume_with_runs_first",
    "fiber_alive_while_suspended",
    "fiber_not_resumed_by_destruction",
    "fiber_destroyed_suspended_unwinds",
    "fiber_destroyed_suspended_frees_stack",
    "fiber_finished_is_empty",
    "fiber_finished_frees_stack",
    "protected_stack_guard_page",
    "continuation_callcc_generator",
    "continuation_resume_with",
    "coroutine2_generator",
    "coroutine2_exception_propagates",
    "coroutine2_push_type",
];

fn boost_headers() -> bool {
    tools::need_file(
        "/usr/include/boost/context/fiber.hpp",
        "libboost-context-dev",
    )
    .is_some()
        && tools::need_file(
            "/usr/include/boost/coroutine2/coroutine.hpp",
            "libboost-coroutine-dev",
        )
        .is_some()
}

/// The program depends on no Boost library, and the fcontext symbols it uses
/// come from us: defined in the program (static) or imported from
/// libfcontext.so.0 (shared).
fn assert_linked_to_us(program: &Path, link: Link, symbol: &str) {
    let needed = tools::needed_libraries(program);
    assert!(
        !needed.iter().any(|l| l.contains("boost")),
        "{} needs {needed:?}",
        program.display()
    );
    let nm = tools::stdout_of(Command::new("nm").arg(program));
    let kind = nm
        .lines()
        .find(|l| l.ends_with(&format!(" {symbol}")))
        .map(|l| l.split_whitespace().rev().nth(1).unwrap_or(""))
        .unwrap_or_else(|| panic!("{symbol} not referenced by {}", program.display()))
        .to_owned();
    match link {
        Link::Static => {
            assert_eq!(kind, "T", "{symbol} should be defined in the program");
            assert!(!needed.iter().any(|l| l.contains("fcontext")));
        }
        Link::Shared => {
            assert_eq!(kind, "U", "{symbol} should be imported");
            assert!(needed.iter().any(|l| l == "libfcontext.so.0"), "{needed:?}");
            // And the loader resolves it to our library.
            let ldd = tools::stdout_of(Command::new("ldd").arg(program));
            let line = ldd
                .lines()
                .find(|l| l.contains("libfcontext.so.0"))
                .expect("ldd lists libfcontext.so.0");
            let dir = program.parent().unwrap().display().to_string();
            assert!(line.contains(&dir), "resolved elsewhere: {line}");
            assert!(!ldd.contains("libboost_context"), "{ldd}");
        }
    }
}

fn run_boost_suite(link: Link) {
    if !boost_headers() {
        return;
    }
    let dir = tools::work_dir(&format!("boost-{link:?}"));
    let prog = tools::compile(&dir, "boost_suite.cpp", "boost_suite", link, &[]);
    assert_linked_to_us(&prog, link, "jump_fcontext");
    let out = Command::new(&prog).output().expect("run boost_suite");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{text}", out.status);
    let first = text.lines().next().unwrap_or("");
    match link {
        Link::Static => assert!(first.ends_with("boost_suite"), "{first}"),
        Link::Shared => assert!(first.contains("libfcontext.so"), "{first}"),
    }
    for check in BOOST_CHECKS {
        assert!(
            text.lines().any(|l| l == format!("ok {check}")),
            "{check} did not pass:\n{text}"
        );
    }
    assert!(!text.contains("FAIL"), "{text}");
}

#[test]
fn boost_fiber_continuation_coroutine2_on_the_static_library() {
    run_boost_suite(Link::Static);
}

#[test]
fn boost_fiber_continuation_coroutine2_on_the_shared_library() {
    run_boost_suite(Link::Shared);
}

const MANGLED_JUMP: &str = "_ZN5boost7context6detail13jump_fcontextEPvS2_";

fn run_boost187_style(link: Link) {
    let dir = tools::work_dir(&format!("boost187-{link:?}"));
    let prog = tools::compile(&dir, "boost187_style.cpp", "boost187_style", link, &[]);
    // The program refers to the C++ names, not the C ones.
    let nm = tools::stdout_of(Command::new("nm").arg(&prog));
    assert!(nm.contains(MANGLED_JUMP), "{nm}");
    assert_linked_to_us(&prog, link, MANGLED_JUMP);
    let out = tools::stdout_of(&mut Command::new(&prog));
    assert_eq!(out, "ok boost187_style\n");
}

#[test]
fn boost_1_87_mangled_declarations_link_statically() {
    run_boost187_style(Link::Static);
}

#[test]
fn boost_1_87_mangled_declarations_link_dynamically() {
    run_boost187_style(Link::Shared);
}

/// Boost 1.81's headers, unpacked once under the target dir from Debian's
/// `libboost1.81-dev` (which cannot be installed beside the 1.74 headers),
/// or a skip.
fn boost181_include_dir() -> Option<std::path::PathBuf> {
    let root = tools::artifacts().profile_dir.join("boost181-headers");
    let include = root.join("usr/include");
    if include.join("boost/version.hpp").is_file() {
        return Some(include);
    }
    for tool in ["apt-get", "dpkg"] {
        tools::need_tool(tool)?;
    }
    std::fs::create_dir_all(&root).unwrap();
    let fetched = Command::new("apt-get")
        .args(["download", "libboost1.81-dev"])
        .current_dir(&root)
        .output()
        .expect("run apt-get download");
    if !fetched.status.success() {
        tools::skip(&format!(
            "apt-get download libboost1.81-dev failed: {}",
            String::from_utf8_lossy(&fetched.stderr).trim()
        ));
        return None;
    }
    let deb = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("apt-get download left a .deb");
    tools::run_ok(Command::new("dpkg").arg("-x").arg(&deb).arg(&root));
    Some(include)
}

/// A program built with Boost 1.81's headers against Debian's
/// `libboost_context.so.1.81.0` runs the same with our `libfcontext.so`
/// standing in for that file (`LD_LIBRARY_PATH`), and the loader binds its
/// fcontext calls to ours. (Contexts are all made by one library in each
/// run: 1.81's x86_64 frame has a guard slot ours lacks, so a context made
/// by the real 1.81 binary could not be resumed by ours.)
#[test]
fn boost_1_81_program_runs_with_ours_standing_in_for_libboost_context() {
    let Some(real) = tools::need_file(
        "/usr/lib/x86_64-linux-gnu/libboost_context.so.1.81.0",
        "libboost-context1.81.0",
    ) else {
        return;
    };
    let Some(include) = boost181_include_dir() else {
        return;
    };
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let dir = tools::work_dir("boost181-swap");
    let prog = dir.join("boost181_swap");
    tools::run_ok(
        Command::new(&cxx)
            .args(["-std=c++17", "-O1"])
            .arg("-I")
            .arg(&include)
            .arg(tools::cpp_tests_dir().join("programs/boost181_swap.cpp"))
            .arg(&real)
            .arg("-o")
            .arg(&prog),
    );
    let on_boost = tools::stdout_of(&mut Command::new(&prog));
    assert!(on_boost.contains("boost 1.81"), "{on_boost}");
    assert!(on_boost.contains("boost181 swap passed"), "{on_boost}");

    run_on_stand_in(
        &prog,
        &dir,
        "libboost_context.so.1.81.0",
        &on_boost,
        "boost181_swap",
    );
}

/// Runs `prog` with our `libfcontext.so` standing in for `soname`
/// (`LD_LIBRARY_PATH`): it must print `expected` (what it printed on Boost's
/// own library), and the loader must bind `binder`'s make/jump/ontop_fcontext
/// references (`binder` names the program or a library it loads) to ours.
fn run_on_stand_in(prog: &Path, dir: &Path, soname: &str, expected: &str, binder: &str) {
    let stand_in = dir.join("stand-in");
    std::fs::create_dir_all(&stand_in).unwrap();
    std::fs::copy(&tools::artifacts().cdylib, stand_in.join(soname)).unwrap();
    let out = tools::run_ok(
        Command::new(prog)
            .env("LD_LIBRARY_PATH", &stand_in)
            .env("LD_DEBUG", "bindings"),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let bindings = String::from_utf8_lossy(&out.stderr);
    for symbol in ["make_fcontext", "jump_fcontext", "ontop_fcontext"] {
        let line = bindings
            .lines()
            .find(|l| {
                l.contains("binding file")
                    && l.contains(binder)
                    && l.contains(&format!("`{symbol}'"))
            })
            .unwrap_or_else(|| panic!("{binder} never bound {symbol}"));
        assert!(line.contains(&stand_in.display().to_string()), "{line}");
    }
}

/// Boost.Fiber 1.74's compiled library (Debian's `libboost_fiber.so.1.74.0`,
/// which needs `libboost_context.so.1.74.0`) runs a program's fibers on two
/// threads the same with our `libfcontext.so` standing in for Boost.Context,
/// and its own fcontext calls bind to ours.
#[test]
fn boost_fiber_library_runs_with_ours_standing_in_for_libboost_context() {
    if tools::need_file("/usr/include/boost/fiber/all.hpp", "libboost-fiber-dev").is_none() {
        return;
    }
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let dir = tools::work_dir("boost-fiber-swap");
    let prog = dir.join("boost_fiber_swap");
    tools::run_ok(
        Command::new(&cxx)
            .args(["-std=c++17", "-O1", "-pthread"])
            .arg(tools::cpp_tests_dir().join("programs/boost_fiber_swap.cpp"))
            .args(["-lboost_fiber", "-lboost_context", "-o"])
            .arg(&prog),
    );
    let on_boost = tools::stdout_of(&mut Command::new(&prog));
    assert!(on_boost.contains("boost fiber swap passed"), "{on_boost}");
    run_on_stand_in(
        &prog,
        &dir,
        "libboost_context.so.1.74.0",
        &on_boost,
        "libboost_fiber.so.1.74.0",
    );
}
