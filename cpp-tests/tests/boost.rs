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
