//! gdb backtraces inside contexts (issue item 2): stopped anywhere in a
//! context, including at every instruction of jump_fcontext and
//! ontop_fcontext, gdb must show the context's frames and end cleanly at the
//! context entry, without garbage frames or "Backtrace stopped" errors.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use fcontext_cpp_tests::tools::{self, Link};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Markers echoed between backtraces so the output splits into sections.
const MARK: &str = "==BT==";

/// Builds `programs/gdb_target.c` at `opt` into a directory named `test`.
fn build(test: &str, opt: &str) -> Option<PathBuf> {
    tools::need_tool("gdb")?;
    let dir = tools::work_dir(test);
    Some(tools::compile(
        &dir,
        "gdb_target.c",
        "gdb_target",
        Link::Static,
        &[opt, "-fno-inline"],
    ))
}

fn gdb(program: &Path, script: &str) -> Option<String> {
    let dir = program.parent().unwrap();
    let file = dir.join("script.gdb");
    std::fs::write(&file, script).unwrap();
    let out = Command::new("gdb")
        .args(["-nx", "-batch", "-x"])
        .arg(&file)
        .arg(program)
        .output()
        .expect("run gdb");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if text.contains("ptrace: Operation not permitted") {
        tools::skip("gdb cannot ptrace here");
        return None;
    }
    Some(text)
}

/// Backtraces (lists of frame lines `#N ...`) in gdb output.
fn backtraces(text: &str) -> Vec<Vec<String>> {
    text.split(MARK)
        .skip(1)
        .map(|section| {
            section
                .lines()
                .filter(|l| l.starts_with('#'))
                .map(str::to_owned)
                .collect()
        })
        .filter(|bt: &Vec<String>| !bt.is_empty())
        .collect()
}

fn frame_function(line: &str) -> &str {
    // "#1  0x... in name (args) at file:line" or "#0  name (args) at ..."
    let rest = line
        .split_once(" in ")
        .map_or_else(|| line.split_whitespace().nth(1).unwrap_or(""), |(_, r)| r);
    rest.split_whitespace().next().unwrap_or("")
}

fn assert_clean(text: &str) {
    for bad in [
        "Backtrace stopped",
        "previous frame inner",
        "corrupt stack",
        "previous frame identical",
    ] {
        assert!(!text.contains(bad), "gdb said {bad:?}:\n{text}");
    }
}

/// A backtrace ends at the context entry (our trampoline) or at main.
fn assert_ends_well(bt: &[String], text: &str) {
    for line in bt {
        assert!(
            !frame_function(line).starts_with("??"),
            "garbage frame {line}\n{text}"
        );
    }
    let last = frame_function(bt.last().unwrap());
    assert!(
        last == "fcontext_trampoline" || last == "main",
        "backtrace ends in {last}:\n{}",
        bt.join("\n")
    );
}

fn names(bt: &[String]) -> Vec<&str> {
    bt.iter().map(|l| frame_function(l)).collect()
}

fn stops_in_context(opt: &str) {
    let Some(prog) = build(&format!("gdb-stops{opt}"), opt) else {
        return;
    };
    let script = format!(
        "set debuginfod enabled off\nbreak fct_gdb_leaf\nrun\n\
         echo {MARK}\\n\nbt\ncontinue\necho {MARK}\\n\nbt\ncontinue\necho {MARK}\\n\nbt\ncontinue\n"
    );
    let Some(text) = gdb(&prog, &script) else {
        return;
    };
    assert_clean(&text);
    let bts = backtraces(&text);
    assert_eq!(bts.len(), 3, "{text}");
    let expected: [&[&str]; 3] = [
        &[
            "fct_gdb_leaf",
            "fct_gdb_middle",
            "fct_gdb_entry",
            "fcontext_trampoline",
        ],
        &[
            "fct_gdb_leaf",
            "fct_gdb_middle",
            "fct_gdb_entry",
            "fcontext_trampoline",
        ],
        &[
            "fct_gdb_leaf",
            "fct_gdb_ontop",
            "fct_gdb_entry",
            "fcontext_trampoline",
        ],
    ];
    for (bt, want) in bts.iter().zip(expected) {
        assert_eq!(names(bt), want, "{text}");
    }
    assert!(text.contains("exited normally"), "{text}");
}

#[test]
fn backtrace_inside_a_context_at_o0() {
    stops_in_context("-O0");
}

#[test]
fn backtrace_inside_a_context_at_o2() {
    stops_in_context("-O2");
}

/// Single-steps from the context's second jump_fcontext through the switch
/// to main and on through ontop_fcontext back onto the context stack: the
/// unwind info must be right at every instruction, in the middle of a switch
/// too.
#[test]
fn backtrace_at_every_instruction_of_a_switch() {
    let Some(prog) = build("gdb-stepi", "-O2") else {
        return;
    };
    let mut script = String::from(
        "set debuginfod enabled off\nbreak fct_gdb_middle if n == 20\nrun\n\
         break jump_fcontext\ncontinue\ndelete\n",
    );
    for _ in 0..80 {
        script.push_str(&format!("echo {MARK}\\n\nbt\nstepi\n"));
    }
    script.push_str("continue\n");
    let Some(text) = gdb(&prog, &script) else {
        return;
    };
    assert_clean(&text);
    let bts = backtraces(&text);
    assert_eq!(bts.len(), 80, "{text}");
    for bt in &bts {
        assert_ends_well(bt, &text);
    }
    // The walk covered both sides of both switches. Frames carry the C
    // names: the Boost >= 1.87 aliases at the same addresses have size 0, so
    // gdb prefers the sized C symbols.
    let is_jump = |n: &str| n == "jump_fcontext";
    let is_ontop = |n: &str| n == "ontop_fcontext";
    let seen = |f0: &dyn Fn(&str) -> bool, f1: &str| {
        bts.iter()
            .any(|bt| bt.len() > 1 && f0(names(bt)[0]) && names(bt)[1] == f1)
    };
    assert!(
        seen(&is_jump, "fct_gdb_entry"),
        "jump before the switch\n{text}"
    );
    assert!(seen(&is_jump, "main"), "jump after the switch\n{text}");
    assert!(seen(&is_ontop, "main"), "ontop before the switch\n{text}");
    assert!(
        bts.iter()
            .any(|bt| names(bt) == ["fct_gdb_ontop", "fct_gdb_entry", "fcontext_trampoline"]),
        "ontop function on the context stack\n{text}"
    );
    assert!(text.contains("exited normally"), "{text}");
}
