//! The crate's layering, checked from the source text: every file of `src/`
//! belongs to a top-level module, every top-level module to a layer, and a
//! module may only name modules of *lower* layers (`crate::<module>`, in a
//! `use` or in a path, including `crate::{a, b}` groups and the crate-root
//! re-exports of `lib.rs`, which count as the module they come from).
//! Siblings on one layer are independent. The module graph must also be
//! free of cycles (checked separately, so a cycle is named as such even
//! when it runs through a module the table does not know yet).
//!
//! Comments and string literals are skipped, so doc links to higher layers
//! (`[`Coroutine`](crate::Coroutine)` in a stack's docs) are fine: they are
//! documentation, not dependencies.
//!
//! A new file under `src/` belongs to an existing module or needs a row in
//! [`LAYERS`]; a new dependency on a higher layer means the code is in the
//! wrong place.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level module -> layer, bottom first. Read it as the crate's map:
/// an entry may use anything in a row above it, nothing in its own row or
/// below.
const LAYERS: &[(&str, u32, &str)] = &[
    (
        "sys",
        0,
        "OS calls: mmap/mprotect, errno, sysconf, rlimits, thread stack bounds",
    ),
    ("fatal", 0, "abort with a message"),
    ("raw", 0, "the three assembly functions and their types"),
    ("stack_traits", 1, "stack size limits and the page size"),
    (
        "stack",
        2,
        "stack allocation, the stack registry, Valgrind registration",
    ),
    ("sanitizer", 3, "sanitizer hooks (ASan, TSan fibers)"),
    (
        "overflow",
        3,
        "the stack-overflow reporter (signal handler, alternate stacks)",
    ),
    ("switch", 4, "the one place the safe API switches"),
    ("coroutine", 5, "Coroutine, Yielder, SendCoroutine"),
    ("fiber", 5, "Fiber"),
    ("generator", 6, "Generator, on Coroutine"),
    ("copystack", 6, "copy-stack coroutines (Rust stack + C API)"),
    ("scheduler", 7, "round-robin scheduler over stack sources"),
    (
        "c_stack",
        8,
        "C exports: Boost stack_traits, libfcontext stacks",
    ),
    ("lib", 9, "the crate root: module list and re-exports"),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`lib` for lib.rs).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src_dir()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap();
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

/// The source with comments and string/char literals blanked out (kept as
/// spaces, newlines preserved so line numbers stay right).
fn code_only(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('x' or '\n'); a lifetime has no closing quote.
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first identifier of every item of a `{ ... }` group (`s` starts
/// right after the `{`).
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_item_start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => {
                depth += 1;
                at_item_start = false;
            }
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_item_start = true,
            c if at_item_start && (c.is_alphanumeric() || c == '_') => {
                heads.push(ident_at(&s[i..]).to_string());
                at_item_start = false;
            }
            _ => {}
        }
    }
    heads
}

/// Every `crate::<name>` a file's code names, with its line number.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line_start) in line_starts(code).into_iter().enumerate() {
        let line_end = code[line_start..]
            .find('\n')
            .map_or(code.len(), |e| line_start + e);
        let line = &code[line_start..line_end];
        let mut from = 0;
        while let Some(at) = line[from..].find("crate::") {
            let start = from + at;
            from = start + "crate::".len();
            // `$crate::` or `foo_crate::` is not our crate.
            if line[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
            {
                continue;
            }
            let rest = line[from..].trim_start();
            if let Some(group) = rest.strip_prefix('{') {
                // The group may span lines: read on from here in the file.
                let offset = line_start + from + (line[from..].len() - rest.len()) + 1;
                let _ = group;
                for head in group_heads(&code[offset..]) {
                    found.push((n + 1, head));
                }
            } else {
                let name = ident_at(rest);
                if !name.is_empty() {
                    found.push((n + 1, name.to_string()));
                }
            }
        }
    }
    found
}

fn line_starts(s: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(s.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < s.len())
        .collect()
}

/// Root re-exports of lib.rs: `pub use module::{A, B};` / `pub use module::A;`
/// -> name -> module.
fn root_reexports(lib_code: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for stmt in lib_code.split(';') {
        let stmt = stmt.trim();
        let Some(rest) = stmt
            .strip_prefix("pub use ")
            .or_else(|| stmt.rsplit_once("pub use ").map(|(_, r)| r))
        else {
            continue;
        };
        let rest = rest.trim();
        let module = ident_at(rest).to_string();
        let after = rest[module.len()..].trim_start().trim_start_matches("::");
        let after = after.trim_start();
        if let Some(group) = after.strip_prefix('{') {
            for name in group
                .trim_end_matches('}')
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let name = name.rsplit(" as ").next().unwrap().trim();
                map.insert(name.to_string(), module.clone());
            }
        } else {
            let name = after.rsplit(" as ").next().unwrap().trim();
            let name = name.rsplit("::").next().unwrap();
            map.insert(name.to_string(), module.clone());
        }
    }
    map
}

struct Edge {
    from: String,
    to: String,
    place: String,
}

fn edges() -> (Vec<Edge>, BTreeSet<String>) {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    files.sort();
    let lib_code = code_only(&fs::read_to_string(src_dir().join("lib.rs")).unwrap());
    let reexports = root_reexports(&lib_code);
    let mut modules = BTreeSet::new();
    for f in &files {
        modules.insert(module_of(f));
    }
    let mut edges = Vec::new();
    for f in &files {
        let from = module_of(f);
        let code = code_only(&fs::read_to_string(f).unwrap());
        for (line, name) in crate_paths(&code) {
            let to = if modules.contains(&name) {
                name.clone()
            } else if let Some(m) = reexports.get(&name) {
                m.clone()
            } else {
                format!("<unknown crate::{name}>")
            };
            if to != from {
                let place = format!(
                    "{}:{line}",
                    f.strip_prefix(src_dir().parent().unwrap())
                        .unwrap()
                        .display()
                );
                edges.push(Edge {
                    from: from.clone(),
                    to,
                    place,
                });
            }
        }
    }
    (edges, modules)
}

fn layer(module: &str) -> Option<u32> {
    LAYERS
        .iter()
        .find(|(m, ..)| *m == module)
        .map(|&(_, l, _)| l)
}

/// One cycle of the module graph, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = path.iter().position(|p| p == next).unwrap();
                    let mut cycle = path[at..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, graph, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn modules_only_use_lower_layers_and_form_no_cycle() {
    let (edges, modules) = edges();
    let mut problems = Vec::new();

    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in &edges {
        graph
            .entry(e.from.clone())
            .or_default()
            .insert(e.to.clone());
    }
    if let Some(cycle) = find_cycle(&graph) {
        problems.push(format!("module cycle: {}", cycle.join(" -> ")));
    }

    for m in &modules {
        if layer(m).is_none() {
            problems.push(format!("src module `{m}` has no row in LAYERS"));
        }
    }
    for e in &edges {
        match (layer(&e.from), layer(&e.to)) {
            (Some(from), Some(to)) if to >= from => problems.push(format!(
                "{}: `{}` (layer {from}) uses `{}` (layer {to}): {}",
                e.place,
                e.from,
                e.to,
                if to == from {
                    "same layer (siblings must be independent)"
                } else {
                    "a higher layer"
                }
            )),
            (Some(_), None) => problems.push(format!(
                "{}: `{}` uses `{}`, which has no row in LAYERS",
                e.place, e.from, e.to
            )),
            _ => {}
        }
    }
    assert!(
        problems.is_empty(),
        "layering violations:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_table_names_only_modules_that_exist() {
    let (_, modules) = edges();
    for (m, ..) in LAYERS {
        assert!(
            modules.contains(*m),
            "LAYERS names `{m}`, which is not in src/"
        );
    }
}

#[test]
fn the_scanner_sees_groups_reexports_and_skips_comments() {
    let code = code_only(
        "use crate::{a, b::c,\n    d::{e, f}};\n// crate::zzz\nlet s = \"crate::yyy\";\nx = crate::g::h;\n$crate::no;",
    );
    let names: Vec<_> = crate_paths(&code).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["a", "b", "d", "g"]);
    let re = root_reexports("pub use m::{A, B as C};\n#[doc(hidden)]\npub use n::D;");
    assert_eq!(re.get("A").map(String::as_str), Some("m"));
    assert_eq!(re.get("C").map(String::as_str), Some("m"));
    assert_eq!(re.get("D").map(String::as_str), Some("n"));
}
