//! libfcontext (deboost.context) style: a C program using
//! `<fcontext/fcontext.h>` and the stack helpers, linked with nothing but
//! `libfcontext.a` (or with `-lfcontext`). The program checks the helpers'
//! contract itself (`programs/libfcontext_style.c`).
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use fcontext_cpp_tests::tools::{self, Link};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

fn run(link: Link) {
    let dir = tools::work_dir(&format!("libfcontext-{link:?}"));
    let prog = tools::compile(&dir, "libfcontext_style.c", "libfcontext_style", link, &[]);
    let out = Command::new(&prog).output().expect("run libfcontext_style");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{text}", out.status);
    assert!(!text.contains("FAIL"), "{text}");
    // 3 ping-pong checks, 6 sizes x 2, 2 for the huge request, 3 for destroy
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        20,
        "{text}"
    );

    // Runaway recursion on a helper stack hits the guard page.
    let status = Command::new(&prog)
        .arg("overflow")
        .status()
        .expect("run overflow");
    assert_eq!(
        status.signal(),
        Some(libc::SIGSEGV),
        "overflow child ended with {status}"
    );
}

/// Item 3 of the issue: `cc main.c libfcontext.a`, no other library named.
#[test]
fn c_program_linked_with_only_the_archive() {
    run(Link::Static);
}

#[test]
fn c_program_linked_with_the_shared_library() {
    run(Link::Shared);
}
