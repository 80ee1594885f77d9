//! The Rust declarations of the C ABI (`fcontext::raw` and
//! `fcontext::FcontextStack`) must match `include/fcontext.h` as a C compiler
//! sees it. bindgen (libclang) translates the header at test time; a small
//! crate made of its output plus compile-time checks against our items is
//! then type-checked by rustc (`--emit=metadata`, no linking):
//!
//! * sizes, alignments and field offsets of both structs, computed by clang
//!   (bindgen's layout) and by rustc (ours), must be equal, and each field
//!   must have the same type;
//! * every function bindgen finds must have our counterpart, and our fn item
//!   must coerce to the fn-pointer type of bindgen's declaration, with the C
//!   structs replaced by ours: any difference in arity, argument or return
//!   types fails to compile.
//!
//! bindgen is a dev-dependency only, so building the library never needs
//! libclang. Without libclang the test skips (fails under
//! `FCONTEXT_REQUIRE_ALL=1`).

#[path = "../cpp-tests/src/tools.rs"]
#[allow(dead_code)]
mod tools;

use std::path::PathBuf;
use std::process::Command;

/// A struct of the header and our type for it.
struct Mirror {
    /// The C typedef name.
    c: &'static str,
    /// Path of our `#[repr(C)]` type.
    ours: &'static str,
    /// Fields: (C name, Rust name), in declaration order.
    fields: &'static [(&'static str, &'static str)],
}

const STRUCTS: &[Mirror] = &[
    Mirror {
        c: "fcontext_transfer_t",
        ours: "fcontext::raw::Transfer",
        fields: &[("ctx", "fctx"), ("data", "data")],
    },
    Mirror {
        c: "fcontext_stack_t",
        ours: "fcontext::FcontextStack",
        fields: &[("sptr", "sptr"), ("ssize", "ssize")],
    },
];

/// The header's typedefs and the Rust aliases that stand for them.
const TYPEDEFS: &[(&str, &str)] = &[
    ("fcontext_t", "fcontext::raw::FcontextT"),
    ("pfn_fcontext", "fcontext::raw::EntryFn"),
];

/// Where our declaration of each C function lives.
fn our_function(name: &str) -> Option<&'static str> {
    Some(match name {
        "make_fcontext" => "fcontext::raw::make_fcontext",
        "jump_fcontext" => "fcontext::raw::jump_fcontext",
        "ontop_fcontext" => "fcontext::raw::ontop_fcontext",
        "create_fcontext_stack" => "fcontext::create_fcontext_stack",
        "destroy_fcontext_stack" => "fcontext::destroy_fcontext_stack",
        "fcontext_install_overflow_handler" => "fcontext::fcontext_install_overflow_handler",
        _ => return None,
    })
}

/// Runs bindgen on the header; `blocked` types are left out (the caller
/// supplies them). `None` (after a skip) when libclang cannot be loaded.
fn bindgen(blocked: &[&str]) -> Option<String> {
    let header = tools::repo_dir().join("include/fcontext.h");
    let blocked: Vec<String> = blocked.iter().map(|s| s.to_string()).collect();
    let result = std::panic::catch_unwind(move || {
        let mut b = bindgen::Builder::default()
            .header(header.to_str().unwrap())
            .allowlist_file(".*fcontext\\.h")
            .layout_tests(false)
            .derive_debug(false)
            .derive_copy(false);
        for t in &blocked {
            b = b.blocklist_type(t);
        }
        b.generate().map(|bindings| bindings.to_string())
    });
    match result {
        Ok(Ok(text)) => Some(text),
        Ok(Err(e)) => panic!("bindgen failed on include/fcontext.h: {e}"),
        Err(_) => {
            tools::skip("bindgen could not load libclang (Debian package libclang-dev)");
            None
        }
    }
}

/// C function pointers are nullable, so bindgen spells them
/// `Option<unsafe extern "C" fn(..)>`; our declarations take the bare fn
/// type, which Rust guarantees has the same ABI (the null-pointer
/// optimisation of `Option<fn>`). Unwraps every such Option so the
/// signatures can be compared.
fn strip_fn_options(text: &str) -> String {
    const OPTION: &str = "::std::option::Option<";
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(OPTION) {
        out.push_str(&rest[..at]);
        let inner = &rest[at + OPTION.len()..];
        if !inner.trim_start().starts_with("unsafe extern \"C\" fn") {
            out.push_str(OPTION);
            rest = inner;
            continue;
        }
        // Find the matching '>', ignoring the '>' of "->".
        let bytes = inner.as_bytes();
        let (mut depth, mut end) = (1usize, None);
        for i in 0..bytes.len() {
            match bytes[i] {
                b'<' => depth += 1,
                b'>' if i == 0 || bytes[i - 1] != b'-' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.expect("unbalanced Option<..> in bindgen output");
        // prettyplease may leave a trailing comma after a long type.
        out.push_str(inner[..end].trim().trim_end_matches(','));
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Names of the functions declared in bindgen output.
fn functions(text: &str) -> Vec<String> {
    text.split("pub fn ")
        .skip(1)
        .map(|s| s.split('(').next().unwrap().trim().to_owned())
        .collect()
}

/// Number of parameters in `text`, which starts right after a function's
/// opening parenthesis: top-level commas split them (parameter types may
/// contain parentheses, angle brackets and "->"; a trailing comma is allowed).
fn arity(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut count, mut current) = (0usize, 0usize, false);
    for i in 0..bytes.len() {
        match bytes[i] {
            b'(' | b'<' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b')' | b'>' if depth == 0 => break,
            b')' | b'>' => depth -= 1,
            b',' if depth == 0 => {
                count += usize::from(current);
                current = false;
                continue;
            }
            _ => {}
        }
        if !bytes[i].is_ascii_whitespace() {
            current = true;
        }
    }
    count + usize::from(current)
}

fn rustc() -> PathBuf {
    // The rustc next to the cargo running us is the one that built the rlib.
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|c| Some(c.parent()?.join("rustc")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "rustc".into())
}

#[test]
fn rust_declarations_match_the_c_header() {
    let Some(c_side) = bindgen(&[]) else { return };
    let struct_names: Vec<&str> = STRUCTS.iter().map(|s| s.c).collect();
    let Some(sig_side) = bindgen(&struct_names) else {
        return;
    };

    let mut check = String::from(
        "#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, \
         unused_assignments, unused_variables)]\n\
         use core::mem::{align_of, offset_of, size_of};\n",
    );
    // The header as clang sees it.
    check.push_str(&format!("mod c {{\n{c_side}\n}}\n"));
    // The header's functions and typedefs, with our structs substituted.
    check.push_str("mod sig {\n");
    for Mirror { c, ours, .. } in STRUCTS {
        check.push_str(&format!("pub use {ours} as {c};\n"));
    }
    check.push_str(&strip_fn_options(&sig_side));
    check.push_str("}\n");

    for Mirror { c, ours, fields } in STRUCTS {
        assert!(
            c_side.contains(&format!("pub struct {c} ")),
            "{c} missing:\n{c_side}"
        );
        check.push_str(&format!(
            "const _: () = assert!(size_of::<c::{c}>() == size_of::<{ours}>());\n\
             const _: () = assert!(align_of::<c::{c}>() == align_of::<{ours}>());\n"
        ));
        let mut same_types = String::new();
        for (cf, rf) in *fields {
            check.push_str(&format!(
                "const _: () = assert!(offset_of!(c::{c}, {cf}) == offset_of!({ours}, {rf}));\n"
            ));
            same_types.push_str(&format!("let mut v = a.{cf}; v = b.{rf};\n"));
        }
        check.push_str(&format!(
            "fn fields_{c}(a: c::{c}, b: {ours}) {{\n{same_types}}}\n"
        ));
        // Every field bindgen saw is in the table (so none escapes a check).
        let body = c_side
            .split(&format!("pub struct {c} "))
            .nth(1)
            .and_then(|s| s.split('}').next())
            .unwrap();
        assert_eq!(
            body.matches("pub ").count(),
            fields.len(),
            "fields of {c}: {body}"
        );
    }
    for (c, ours) in TYPEDEFS {
        check.push_str(&format!("fn typedef_{c}(a: {ours}) -> sig::{c} {{ a }}\n"));
    }
    let names = functions(&sig_side);
    assert_eq!(names.len(), 6, "functions bindgen found: {names:?}");
    for name in &names {
        let ours = our_function(name)
            .unwrap_or_else(|| panic!("no Rust declaration for C function {name}"));
        // `as fn(_, ..) -> _` turns bindgen's item into its own fn-pointer
        // type; assigning our item to it type-checks the whole signature.
        let arity = arity(sig_side.split(&format!("pub fn {name}(")).nth(1).unwrap());
        let holes = vec!["_"; arity].join(", ");
        check.push_str(&format!(
            "fn function_{name}() {{\n\
             let mut p = sig::{name} as unsafe extern \"C\" fn({holes}) -> _;\n\
             p = {ours};\n}}\n"
        ));
    }

    let lib = tools::artifacts();
    let dir = lib.profile_dir.join("fcontext-bindgen-layout");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("check.rs");
    std::fs::write(&src, &check).unwrap();
    let out = Command::new(rustc())
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--emit=metadata",
        ])
        .arg("--crate-name")
        .arg("fcontext_header_check")
        .arg("--extern")
        .arg(format!(
            "fcontext={}",
            lib.profile_dir.join("libfcontext.rlib").display()
        ))
        .arg("-L")
        .arg(format!(
            "dependency={}",
            lib.profile_dir.join("deps").display()
        ))
        .arg("--out-dir")
        .arg(&dir)
        .arg(&src)
        .output()
        .expect("run rustc");
    assert!(
        out.status.success(),
        "the Rust declarations differ from include/fcontext.h:\n{}\n--- {}:\n{check}",
        String::from_utf8_lossy(&out.stderr),
        src.display()
    );
}

#[test]
fn option_wrappers_of_c_function_pointers_are_unwrapped() {
    let text = "fn_: ::std::option::Option<\n unsafe extern \"C\" fn(arg1: t) -> t,\n>,\n\
                x: ::std::option::Option<u8>";
    assert_eq!(
        strip_fn_options(text),
        "fn_: unsafe extern \"C\" fn(arg1: t) -> t,\nx: ::std::option::Option<u8>"
    );
}

#[test]
fn arity_counts_top_level_parameters_only() {
    assert_eq!(arity(") -> T;"), 0);
    assert_eq!(arity("size: usize) -> T;"), 1);
    assert_eq!(
        arity("a: A, f: unsafe extern \"C\" fn(x: X, y: Y) -> Z,\n) -> T;"),
        2
    );
    assert_eq!(arity("a: Option<fn(u8) -> u8>, b: *mut c_void) -> T;"), 2);
}
