//! Every assembly file is accounted for wherever the project lists targets:
//! its `conformance/targets.ini` row (so the matrix runs it), its row in the
//! README's platform grid and in `docs/PLATFORMS.md`, and its entry in
//! `asm/README.md` (the register proof). The selection table is checked by
//! `tests/asm_selection.rs`. Adding a platform without one of these fails here.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The context-switch files under `asm/` (`*.S`, `*.asm`; not `asm/common/`).
fn asm_files() -> BTreeSet<String> {
    let files: BTreeSet<String> = fs::read_dir(root().join("asm"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".S") || n.ends_with(".asm"))
        .collect();
    assert!(!files.is_empty(), "no assembly files under asm/");
    files
}

/// The `asm = ...` values of `conformance/targets.ini`, with their sections.
fn matrix_rows() -> Vec<(String, String)> {
    let mut section = String::new();
    let mut rows = Vec::new();
    for line in read("conformance/targets.ini").lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
        } else if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "asm" {
                rows.push((section.clone(), value.trim().to_owned()));
            }
        }
    }
    rows
}

/// The table rows (lines starting with `|`) under the `## {heading}` heading
/// of a markdown file, up to the next heading of the same or a higher level.
fn table_rows(text: &str, heading: &str) -> Vec<String> {
    let mut inside = false;
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            inside = h.trim() == heading;
            continue;
        }
        if line.starts_with("# ") {
            inside = false;
        }
        if inside && line.starts_with('|') {
            rows.push(line.to_owned());
        }
    }
    rows
}

/// The `asm/...` file names a table row names (in its second column, the
/// assembly file column of both platform tables).
fn file_of_row(row: &str) -> Option<String> {
    let cell = row.split('|').nth(2)?.trim();
    let at = cell.find("asm/")?;
    let name: String = cell[at + 4..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .collect();
    Some(name)
}

/// The names a code span spells, with one `{a,b}` brace group expanded
/// (`i386_ms_pe_{masm.asm,gas.S}` names two files).
fn expand(span: &str) -> Vec<String> {
    match (span.find('{'), span.find('}')) {
        (Some(open), Some(close)) if open < close => span[open + 1..close]
            .split(',')
            .map(|alt| format!("{}{}{}", &span[..open], alt, &span[close + 1..]))
            .collect(),
        _ => vec![span.to_owned()],
    }
}

/// Every name the code spans of `asm/README.md` spell.
fn names_in_asm_readme() -> BTreeSet<String> {
    let text = read("asm/README.md");
    text.split('`')
        .skip(1)
        .step_by(2)
        .flat_map(expand)
        .collect()
}

#[test]
fn every_asm_file_has_a_conformance_matrix_row() {
    let rows = matrix_rows();
    for file in asm_files() {
        assert!(
            rows.iter().any(|(_, asm)| *asm == format!("asm/{file}")),
            "asm/{file} has no row in conformance/targets.ini (`asm = asm/{file}`)"
        );
    }
    // And no row points at a file that is not there.
    for (section, asm) in rows {
        assert!(
            root().join(&asm).is_file(),
            "conformance/targets.ini [{section}]: {asm} does not exist"
        );
    }
}

fn check_platform_table(path: &str, heading: &str) {
    let rows = table_rows(&read(path), heading);
    let named: Vec<String> = rows.iter().filter_map(|r| file_of_row(r)).collect();
    for file in asm_files() {
        assert!(
            named.contains(&file),
            "asm/{file} has no row in the \"{heading}\" table of {path}"
        );
    }
    for file in &named {
        assert!(
            Path::new(&root().join("asm").join(file)).is_file(),
            "{path}: the \"{heading}\" table names asm/{file}, which does not exist"
        );
    }
}

#[test]
fn every_asm_file_has_a_row_in_the_readme_platform_grid() {
    check_platform_table("README.md", "Platforms");
}

#[test]
fn every_asm_file_has_a_row_in_docs_platforms() {
    check_platform_table("docs/PLATFORMS.md", "Per target");
}

#[test]
fn every_asm_file_has_an_entry_in_asm_readme() {
    let names = names_in_asm_readme();
    let missing: Vec<String> = asm_files()
        .into_iter()
        .filter(|f| !names.contains(f))
        .collect();
    assert!(
        missing.is_empty(),
        "asm/README.md does not name {missing:?} (its register tables name each file in a code span)"
    );
}

#[test]
fn brace_groups_in_asm_readme_are_expanded() {
    // The helper the test above relies on.
    assert_eq!(
        expand("i386_ms_pe_{masm.asm,gas.S}"),
        ["i386_ms_pe_masm.asm", "i386_ms_pe_gas.S"]
    );
    assert_eq!(expand("x86_64_sysv_elf_gas.S"), ["x86_64_sysv_elf_gas.S"]);
}
