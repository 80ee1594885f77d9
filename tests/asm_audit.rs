//! An audit of every inline `asm!` block in `src/`: the options a block
//! declares are promises to the compiler, and a false one is silent
//! miscompilation (issue #13: the Valgrind client request claimed
//! `preserves_flags` while its `rol`s write CF and OF, so an optimised caller
//! could keep a comparison in the flags across it and read garbage).
//!
//! The audit reads the source text (no compiler involved), splits each
//! block into its template (the string literals) and its operands and
//! options, and fails for:
//!
//! * `preserves_flags` on a block with an instruction that writes the
//!   condition flags of the block's architecture (x86 `rol`, `add`, `cmp`,
//!   ...; aarch64 `adds`, `cmp`, `tst`, ...), or that calls out;
//! * a Valgrind client request (its magic preamble) that claims
//!   `preserves_flags`, `nomem`, `readonly` or `pure`: `valgrind.h` declares
//!   the sequence as clobbering `"cc"` and `"memory"` on every architecture,
//!   since under Valgrind it reads the request block and the tool may do
//!   anything;
//! * `nomem` on a block with a memory operand;
//! * `nostack` on an x86 block that pushes, pops or calls;
//! * a call without `clobber_abi` (the callee may clobber every
//!   caller-saved register).
//!
//! The block's architecture is the nearest `target_arch = "..."` before it
//! in its file; a block under no such cfg is checked against every
//! architecture's rules.

use std::fs;
use std::path::{Path, PathBuf};

/// One `asm!` invocation found in a source file.
#[derive(Debug)]
struct Block {
    /// `file:line` of the `asm!`.
    place: String,
    /// `x86_64`, `x86`, `aarch64`, ... or `None` when no cfg says.
    arch: Option<String>,
    /// The instructions, one per entry, as written (labels and directives
    /// removed).
    instructions: Vec<String>,
    /// Options named in `options(...)`.
    options: Vec<String>,
    /// Whether a `clobber_abi(...)` is present.
    clobber_abi: bool,
}

/// x86 (and x86_64) mnemonics that write at least one of CF, PF, AF, ZF, SF,
/// OF, DF (or may, like a call). Lower case, Intel or AT&T size suffix
/// stripped by [`x86_mnemonic`].
const X86_FLAG_WRITERS: &[&str] = &[
    "add",
    "adc",
    "adcx",
    "adox",
    "sub",
    "sbb",
    "cmp",
    "test",
    "and",
    "or",
    "xor",
    "neg",
    "inc",
    "dec",
    "shl",
    "shr",
    "sal",
    "sar",
    "rol",
    "ror",
    "rcl",
    "rcr",
    "shld",
    "shrd",
    "mul",
    "imul",
    "div",
    "idiv",
    "bt",
    "bts",
    "btr",
    "btc",
    "bsf",
    "bsr",
    "lzcnt",
    "tzcnt",
    "popcnt",
    "andn",
    "blsi",
    "blsr",
    "blsmsk",
    "bextr",
    "bzhi",
    "cmpxchg",
    "cmpxchg8b",
    "cmpxchg16b",
    "xadd",
    "cmps",
    "cmpsb",
    "cmpsw",
    "cmpsd",
    "cmpsq",
    "scas",
    "scasb",
    "scasw",
    "scasd",
    "scasq",
    "comiss",
    "comisd",
    "ucomiss",
    "ucomisd",
    "ptest",
    "sahf",
    "popf",
    "popfd",
    "popfq",
    "stc",
    "clc",
    "cmc",
    "std",
    "cld",
    "stac",
    "clac",
    "daa",
    "das",
    "aaa",
    "aas",
    "aam",
    "aad",
    "call",
    "iret",
    "iretq",
    "rdrand",
    "rdseed",
    "verr",
    "verw",
    "lar",
    "lsl",
    "arpl",
    "xtest",
];

/// aarch64 mnemonics that write NZCV (or may, like a call).
const AARCH64_FLAG_WRITERS: &[&str] = &[
    "adds", "adcs", "subs", "sbcs", "negs", "ngcs", "ands", "bics", "cmp", "cmn", "tst", "ccmp",
    "ccmn", "fcmp", "fcmpe", "fccmp", "fccmpe", "setf8", "setf16", "rmif", "cfinv", "axflag",
    "xaflag", "bl", "blr", "blraa", "blrab", "blraaz", "blrabz", "svc",
];

/// The Valgrind client-request preambles (`valgrind.h`, `__SPECIAL_
/// INSTRUCTION_PREAMBLE`), as the first rotation of each.
const VALGRIND_PREAMBLES: &[&str] = &["rol rdi, 3", "rolq $3, %rdi", "ror x12, x12, #3"];

/// The architecture families a `target_arch` value falls into for the
/// rules: "x86" (x86 and x86_64) or "aarch64".
fn family(arch: &str) -> Option<&'static str> {
    match arch {
        "x86" | "x86_64" => Some("x86"),
        "aarch64" | "arm64ec" => Some("aarch64"),
        _ => None,
    }
}

/// The mnemonic of an x86 instruction: first word, lower case, with an
/// AT&T size suffix dropped when the bare name is a known mnemonic.
fn x86_mnemonic(insn: &str) -> String {
    let word = first_word(insn);
    for known in X86_FLAG_WRITERS {
        if word == *known {
            return word;
        }
    }
    match word.strip_suffix(['b', 'w', 'l', 'q']) {
        Some(bare) if X86_FLAG_WRITERS.contains(&bare) => bare.to_owned(),
        _ => word,
    }
}

fn first_word(insn: &str) -> String {
    let insn = insn.trim();
    // Prefixes (lock, rep, notrack, ...) do not change what the
    // instruction does to the flags; look at what follows them.
    let mut words = insn.split_whitespace().map(str::to_ascii_lowercase);
    loop {
        match words.next() {
            Some(w)
                if matches!(
                    w.as_str(),
                    "lock" | "rep" | "repe" | "repz" | "repne" | "repnz" | "notrack"
                ) => {}
            Some(w) => return w,
            None => return String::new(),
        }
    }
}

/// Every problem the audit finds in `block`, as messages.
fn problems(block: &Block) -> Vec<String> {
    let families: Vec<&str> = match block.arch.as_deref().map(family) {
        Some(Some(f)) => vec![f],
        Some(None) => vec![],
        None => vec!["x86", "aarch64"],
    };
    let has = |option: &str| block.options.iter().any(|o| o == option);
    let mut found = Vec::new();
    let place = &block.place;
    for insn in &block.instructions {
        for fam in &families {
            let (mnemonic, writers) = match *fam {
                "x86" => (x86_mnemonic(insn), X86_FLAG_WRITERS),
                _ => (first_word(insn), AARCH64_FLAG_WRITERS),
            };
            let calls = matches!(mnemonic.as_str(), "call" | "bl" | "blr");
            if has("preserves_flags") && writers.contains(&mnemonic.as_str()) {
                found.push(format!(
                    "{place}: `{insn}` writes the {fam} condition flags, but the block \
                     declares preserves_flags"
                ));
            }
            if *fam == "x86"
                && has("nostack")
                && (mnemonic.starts_with("push") || mnemonic.starts_with("pop") || calls)
            {
                found.push(format!(
                    "{place}: `{insn}` uses the stack, but the block declares nostack"
                ));
            }
            if calls && !block.clobber_abi {
                found.push(format!(
                    "{place}: `{insn}` calls out without clobber_abi(..)"
                ));
            }
        }
        let memory = insn.contains('[') || insn.contains("(%");
        if has("nomem") && memory {
            found.push(format!(
                "{place}: `{insn}` has a memory operand, but the block declares nomem"
            ));
        }
    }
    let text = block.instructions.join("\n");
    if VALGRIND_PREAMBLES.iter().any(|p| text.contains(p)) {
        for option in ["preserves_flags", "nomem", "readonly", "pure"] {
            if has(option) {
                found.push(format!(
                    "{place}: a Valgrind client request clobbers \"cc\" and \"memory\" \
                     (valgrind.h), but the block declares {option}"
                ));
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------
// Reading the source.

/// All `.rs` files under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Splits the text between a macro's parentheses into its top-level,
/// comma-separated arguments (commas inside strings, parentheses, brackets
/// and braces do not split).
fn top_level_args(body: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                current.push(c);
                while let Some(s) = chars.next() {
                    current.push(s);
                    if s == '\\' {
                        if let Some(escaped) = chars.next() {
                            current.push(escaped);
                        }
                    } else if s == '"' {
                        break;
                    }
                }
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                args.push(std::mem::take(&mut current).trim().to_owned());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        args.push(current.trim().to_owned());
    }
    args
}

/// The contents of the string literals in `arg`, unescaped for `\n`,
/// `\t`, `\"` and `\\`.
fn string_literals(arg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = arg.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(other) => s.push(other),
                    None => {}
                },
                '"' => break,
                other => s.push(other),
            }
        }
        out.push(s);
    }
    out
}

/// Whether a top-level argument of `asm!` is part of the template: a string
/// literal, or a `concat!` of them.
fn is_template(arg: &str) -> bool {
    arg.starts_with('"') || arg.starts_with("concat!")
}

/// The instructions of a template: split at newlines and `;`, with
/// comments, labels and assembler directives removed.
fn instructions(template: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for piece in template {
        for line in piece.split(['\n', ';']) {
            let line = line.split("//").next().unwrap().trim();
            // A leading label ("1:" or "name:") is not an instruction.
            let line = match line.split_once(':') {
                Some((label, rest))
                    if !label.is_empty()
                        && label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') =>
                {
                    rest.trim()
                }
                _ => line,
            };
            if line.is_empty() || line.starts_with('.') {
                continue;
            }
            out.push(line.to_owned());
        }
    }
    out
}

/// The nearest `target_arch = "..."` in `text`.
fn last_target_arch(text: &str) -> Option<String> {
    let at = text.rfind("target_arch = \"")? + "target_arch = \"".len();
    Some(text[at..].split('"').next()?.to_owned())
}

/// The `asm!` blocks of one file's text (not `global_asm!`/`naked_asm!`,
/// which take no such options).
fn blocks_in(file: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(rel) = text[from..].find("asm!(") {
        let at = from + rel;
        from = at + "asm!(".len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // global_asm!, naked_asm!, ...
        }
        // Skip the mention in a comment or doc line.
        let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        if text[line_start..at].contains("//") {
            continue;
        }
        // The body: up to the matching parenthesis (strings respected by
        // counting only outside them).
        let body_start = from;
        let (mut depth, mut end, mut in_str, mut escaped) = (1usize, None, false, false);
        for (i, c) in text[body_start..].char_indices() {
            if in_str {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(body_start + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("{file}: unbalanced asm!( block"));
        let args = top_level_args(&text[body_start..end]);
        let template: Vec<String> = args
            .iter()
            .filter(|a| is_template(a))
            .flat_map(|a| string_literals(a))
            .collect();
        let options: Vec<String> = args
            .iter()
            .filter_map(|a| a.strip_prefix("options"))
            .flat_map(|a| {
                a.trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
                    .split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect();
        let line = text[..at].matches('\n').count() + 1;
        out.push(Block {
            place: format!("{file}:{line}"),
            arch: last_target_arch(&text[..at]),
            instructions: instructions(&template),
            options,
            clobber_abi: args.iter().any(|a| a.starts_with("clobber_abi")),
        });
    }
    out
}

fn src_blocks() -> Vec<Block> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut blocks = Vec::new();
    for path in rust_files(&root.join("src")) {
        let text = fs::read_to_string(&path).unwrap();
        let name = path.strip_prefix(root).unwrap().display().to_string();
        blocks.extend(blocks_in(&name, &text));
    }
    blocks
}

#[test]
fn every_asm_block_in_src_declares_only_true_options() {
    let blocks = src_blocks();
    // The Valgrind client request exists for x86_64 and aarch64; finding
    // fewer blocks means the parser no longer sees them.
    assert!(blocks.len() >= 2, "asm! blocks found: {blocks:#?}");
    for b in &blocks {
        assert!(!b.instructions.is_empty(), "no instructions parsed: {b:#?}");
    }
    let found: Vec<String> = blocks.iter().flat_map(problems).collect();
    assert!(found.is_empty(), "asm! audit:\n{}", found.join("\n"));
}

// ---------------------------------------------------------------------------
// The audit itself must catch what it claims to.

fn audit(src: &str) -> Vec<String> {
    blocks_in("example.rs", src)
        .iter()
        .flat_map(problems)
        .collect()
}

#[test]
fn audit_flags_a_rotation_that_claims_preserves_flags() {
    let src = r#"
        #[cfg(target_arch = "x86_64")]
        unsafe { core::arch::asm!("rol rdi, 3", "xchg rbx, rbx",
            out("rdi") _, options(nostack, preserves_flags)) }
    "#;
    let found = audit(src);
    assert!(
        found.iter().any(|m| m.contains("`rol rdi, 3`")),
        "{found:?}"
    );
    assert!(found.iter().any(|m| m.contains("Valgrind")), "{found:?}");
    // Without the option the same block is fine.
    assert!(audit(&src.replace(", preserves_flags", "")).is_empty());
}

#[test]
fn audit_knows_flag_writers_per_architecture() {
    // aarch64 `ror` (an alias of `extr`) and `orr` leave NZCV alone ...
    let aarch64 = r#"
        #[cfg(target_arch = "aarch64")]
        asm!("ror x1, x1, #3", "orr x2, x2, x2", out("x1") _, options(preserves_flags));
    "#;
    assert!(audit(aarch64).is_empty(), "{:?}", audit(aarch64));
    // ... but `subs`/`cmp` write it; x86 `add` (with AT&T suffix) writes CF.
    let subs = aarch64.replace("orr x2, x2, x2", "subs x2, x2, #1");
    assert_eq!(audit(&subs).len(), 1, "{:?}", audit(&subs));
    let x86 = r#"
        #[cfg(target_arch = "x86_64")]
        asm!("mov {0}, 1\n addq $1, %rax", out(reg) _, options(att_syntax, preserves_flags));
    "#;
    assert_eq!(audit(x86).len(), 1, "{:?}", audit(x86));
}

#[test]
fn audit_flags_memory_stack_and_call_promises() {
    let src = r#"
        #[cfg(target_arch = "x86_64")]
        asm!("mov {0}, [{1}]", "push rax", "pop rax", "call {f}",
             out(reg) _, in(reg) p, f = sym g, options(nomem, nostack));
    "#;
    let found = audit(src);
    assert!(found.iter().any(|m| m.contains("nomem")), "{found:?}");
    assert_eq!(
        found.iter().filter(|m| m.contains("nostack")).count(),
        3,
        "{found:?}"
    );
    assert!(found.iter().any(|m| m.contains("clobber_abi")), "{found:?}");
    // Templates and operands are told apart: "rax" in in("rax") is a
    // register, not an instruction; a label is not one either.
    let fine = r#"
        #[cfg(target_arch = "x86_64")]
        asm!("2: xchg rbx, rbx", in("rax") x, options(nostack, preserves_flags));
    "#;
    let blocks = blocks_in("fine.rs", fine);
    assert_eq!(blocks[0].instructions, ["xchg rbx, rbx"]);
    assert!(audit(fine).is_empty());
    // global_asm! blocks are not asm! blocks.
    assert!(blocks_in("g.rs", r#"core::arch::global_asm!("addq $1, %rax");"#).is_empty());
}
