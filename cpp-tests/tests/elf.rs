//! What the built libraries look like to the linker and loader (issue items
//! 2 and 3): the exact export list of `libfcontext.so` (the 13
//! symbols, the overflow reporter's installer, plus the copy-stack
//! extension's declared functions), its SONAME,
//! a non-executable stack, and the IBT property of the assembly object.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use fcontext_cpp_tests::tools;
use std::collections::BTreeSet;
use std::process::Command;

/// The 13 symbols the issue lists: three C names, their Boost >= 1.87
/// Itanium names, Boost's five stack_traits functions, libfcontext's two
/// stack helpers.
const EXPORTS: [&str; 13] = [
    "make_fcontext",
    "jump_fcontext",
    "ontop_fcontext",
    "_ZN5boost7context6detail13make_fcontextEPvmPFvNS1_10transfer_tEE",
    "_ZN5boost7context6detail13jump_fcontextEPvS2_",
    "_ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E",
    "_ZN5boost7context12stack_traits12is_unboundedEv",
    "_ZN5boost7context12stack_traits9page_sizeEv",
    "_ZN5boost7context12stack_traits12default_sizeEv",
    "_ZN5boost7context12stack_traits12minimum_sizeEv",
    "_ZN5boost7context12stack_traits12maximum_sizeEv",
    "create_fcontext_stack",
    "destroy_fcontext_stack",
];

/// fcontext's own addition to `fcontext.h`: the C entry of the overflow
/// reporter.
const OVERFLOW_EXPORT: &str = "fcontext_install_overflow_handler";

/// Functions declared by the copy-stack extension header
/// (`include/fcontext_copystack.h`), which the library also exports.
fn copystack_functions() -> Vec<String> {
    let header = tools::repo_dir().join("include/fcontext_copystack.h");
    let Ok(text) = std::fs::read_to_string(header) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with('*') && !l.starts_with('/') && !l.starts_with('#'))
        .filter_map(|l| {
            let at = l.find("fcontext_cs_")?;
            let name: String = l[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            l[at + name.len()..].starts_with('(').then_some(name)
        })
        .collect()
}

/// The export list is exactly the 13 symbols, the overflow
/// installer and the functions of the public copy-stack header: no Rust std
/// symbol and nothing undeclared.
#[test]
fn shared_library_exports_exactly_the_declared_symbols() {
    let so = &tools::artifacts().cdylib;
    let nm = tools::stdout_of(Command::new("nm").args(["-D", "--defined-only"]).arg(so));
    let found: BTreeSet<&str> = nm
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    let extension = copystack_functions();
    let expected: BTreeSet<&str> = EXPORTS
        .into_iter()
        .chain([OVERFLOW_EXPORT])
        .chain(extension.iter().map(String::as_str))
        .collect();
    assert_eq!(found, expected, "nm -D --defined-only:\n{nm}");
    // All of them are functions.
    for line in nm.lines() {
        assert_eq!(line.split_whitespace().nth(1), Some("T"), "{line}");
    }
}

#[test]
fn shared_library_has_a_soname() {
    let d = tools::stdout_of(
        Command::new("readelf")
            .arg("-dW")
            .arg(&tools::artifacts().cdylib),
    );
    assert!(
        d.lines()
            .any(|l| l.contains("(SONAME)") && l.contains("[libfcontext.so.0]")),
        "{d}"
    );
}

#[test]
fn shared_library_stack_is_not_executable() {
    let l = tools::stdout_of(
        Command::new("readelf")
            .arg("-lW")
            .arg(&tools::artifacts().cdylib),
    );
    let stack = l
        .lines()
        .find(|l| l.trim_start().starts_with("GNU_STACK"))
        .unwrap_or_else(|| panic!("no GNU_STACK header:\n{l}"));
    let flags: String = stack
        .split_whitespace()
        .skip(7)
        .collect::<Vec<_>>()
        .join("");
    assert!(!flags.contains('E'), "executable stack: {stack}");
}

/// `readelf -n` of the archive, split per member: (member, notes text).
fn archive_notes() -> Vec<(String, String)> {
    let text = tools::stdout_of(
        Command::new("readelf")
            .arg("-nW")
            .arg(&tools::artifacts().staticlib),
    );
    text.split("\nFile: ")
        .skip(1)
        .map(|s| {
            let (head, body) = s.split_once('\n').unwrap_or((s, ""));
            (head.to_owned(), body.to_owned())
        })
        .collect()
}

#[test]
fn assembly_object_is_marked_ibt_compatible_with_a_non_executable_stack() {
    let notes = archive_notes();
    let (member, body) = notes
        .iter()
        .find(|(m, _)| m.contains("x86_64_sysv_elf_gas"))
        .unwrap_or_else(|| panic!("no assembly object in libfcontext.a: {notes:?}"));
    assert!(body.contains("x86 feature: IBT"), "{member}:\n{body}");
    // The object must not claim shadow-stack support (switches do not move
    // the shadow stack).
    assert!(!body.contains("SHSTK"), "{member}:\n{body}");

    // .note.GNU-stack present and not executable in that object.
    let dir = tools::work_dir("elf-ibt");
    let name = member
        .trim_end_matches(':')
        .rsplit_once('(')
        .map(|(_, m)| m.trim_end_matches(')'))
        .unwrap()
        .to_owned();
    tools::run_ok(
        Command::new("ar")
            .arg("x")
            .arg(&tools::artifacts().staticlib)
            .arg(&name)
            .current_dir(&dir),
    );
    let sections = tools::stdout_of(Command::new("readelf").arg("-SW").arg(dir.join(&name)));
    let line = sections
        .lines()
        .find(|l| l.contains(".note.GNU-stack"))
        .unwrap_or_else(|| panic!("no .note.GNU-stack:\n{sections}"));
    assert!(!line.contains(" X"), "{line}");
}

/// A program built for IBT that uses only the three switch functions pulls
/// just the assembly object out of `libfcontext.a`, so fcontext does not turn
/// IBT off for it. The linker names every input lacking the property
/// (`-z cet-report`); none may be a member of our archive. (The C runtime of
/// some distributions lacks it too, so the output itself is not checked.)
#[test]
fn archive_keeps_ibt_for_programs_using_only_the_switch_functions() {
    let dir = tools::work_dir("elf-ibt-link");
    let (prog, log) = tools::compile_with_log(
        &dir,
        "switch_only.c",
        "switch_only",
        tools::Link::Static,
        &["-fcf-protection=full", "-Wl,-z,cet-report=warning"],
    );
    let ours: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("libfcontext.a(") && l.contains("missing IBT"))
        .collect();
    assert!(ours.is_empty(), "archive members without IBT: {ours:#?}");
    // The report covers our object (it lacks SHSTK on purpose), so it was
    // really linked and inspected.
    assert!(
        log.lines()
            .any(|l| l.contains("x86_64_sysv_elf_gas") && l.contains("missing SHSTK")),
        "{log}"
    );
    tools::run_ok(&mut Command::new(&prog));
}

/// rustc does not mark its objects IBT-compatible on stable (only the
/// unstable -Zcf-protection does), and the linker ANDs the property over all
/// inputs, so today libfcontext.so carries no IBT property even though the
/// assembly does (and a static program calling the stack helpers pulls in
/// Rust objects without it). Kept as a record of the gap; run with
/// `--ignored`.
#[test]
#[ignore = "rustc objects carry no IBT property on stable"]
fn shared_library_is_marked_ibt_compatible() {
    let n = tools::stdout_of(
        Command::new("readelf")
            .arg("-nW")
            .arg(&tools::artifacts().cdylib),
    );
    assert!(n.contains("x86 feature: IBT"), "{n}");
}
