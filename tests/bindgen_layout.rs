//! The Rust declarations of the C ABI must match the public headers as a C
//! compiler sees them: `include/fcontext.h` against `fcontext::raw` and
//! `fcontext::FcontextStack`, `include/fcontext_copystack.h` against
//! `fcontext::copystack` (its `FCONTEXT_CS_*` constants, `CopyStats`, the
//! opaque handles, the callback type and the eleven functions). bindgen
//! (libclang) translates each header at test time; a small crate made of its
//! output plus compile-time checks against our items is then type-checked by
//! rustc (`--emit=metadata`, no linking):
//!
//! * sizes, alignments and field offsets of every struct, computed by clang
//!   (bindgen's layout) and by rustc (ours), must be equal, and each field
//!   must have the same type;
//! * every constant (`#define` or enum value) bindgen finds must have our
//!   counterpart with the same value;
//! * every function bindgen finds must have our counterpart, and our fn item
//!   must coerce to the fn-pointer type of bindgen's declaration, with the C
//!   structs replaced by ours: any difference in arity, argument or return
//!   types fails to compile.
//!
//! For the copy-stack header the test also checks the other direction: every
//! `FCONTEXT_CS_*` constant the crate's sources define is in the header, and
//! `fcontext_cs_strerror` describes exactly the header's result codes.
//!
//! bindgen is a dev-dependency only, so building the library never needs
//! libclang. Without libclang the test skips (fails under
//! `FCONTEXT_REQUIRE_ALL=1`).

use fcontext_test_support as tools;

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

/// The copy-stack header's structs (bindgen names them by their tags); the
/// two handles are opaque, so only their size and alignment are compared.
const COPYSTACK_STRUCTS: &[Mirror] = &[
    Mirror {
        c: "fcontext_cs_stats",
        ours: "fcontext::copystack::CopyStats",
        fields: &[
            ("copies_out", "copies_out"),
            ("copies_in", "copies_in"),
            ("bytes_out", "bytes_out"),
            ("bytes_in", "bytes_in"),
            ("max_copy", "max_copy"),
        ],
    },
    Mirror {
        c: "fcontext_cs_stack",
        ours: "fcontext::copystack::CsStack",
        fields: &[],
    },
    Mirror {
        c: "fcontext_cs_coroutine",
        ours: "fcontext::copystack::CsCoroutine",
        fields: &[],
    },
];

/// The copy-stack callback typedef. C cannot say whether a callback may
/// unwind; ours is `extern "C-unwind"` (an escaping panic or C++ exception
/// reaches a non-unwinding frame and aborts, as the header says), so bindgen
/// is told that ABI for it (`Header::unwinding`).
const COPYSTACK_TYPEDEFS: &[(&str, &str)] = &[(
    "fcontext_cs_fn",
    "::core::option::Option<fcontext::copystack::CsFn>",
)];

/// One public header and the Rust items it is checked against.
struct Header {
    /// Path under the repository root.
    path: &'static str,
    /// Its structs.
    structs: &'static [Mirror],
    /// Its typedefs and the Rust types that stand for them.
    typedefs: &'static [(&'static str, &'static str)],
    /// Function-pointer typedefs whose Rust type is `extern "C-unwind"`.
    unwinding: &'static [&'static str],
    /// Where our declaration of each C function lives.
    our_function: fn(&str) -> Option<&'static str>,
    /// How many functions the header declares (a guard against bindgen
    /// silently finding none).
    functions: usize,
    /// Our value for each constant of the header, as a Rust expression.
    our_constant: fn(&str) -> Option<String>,
}

const FCONTEXT_H: Header = Header {
    path: "include/fcontext.h",
    structs: STRUCTS,
    typedefs: TYPEDEFS,
    unwinding: &[],
    our_function,
    functions: 6,
    our_constant: |name| {
        // The header's version is the package's.
        let (major, minor, patch) = (
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR"),
            env!("CARGO_PKG_VERSION_PATCH"),
        );
        Some(match name {
            "FCONTEXT_VERSION_MAJOR" => major.to_owned(),
            "FCONTEXT_VERSION_MINOR" => minor.to_owned(),
            "FCONTEXT_VERSION_PATCH" => patch.to_owned(),
            "FCONTEXT_VERSION" => format!("{major} * 10000 + {minor} * 100 + {patch}"),
            _ => return None,
        })
    },
};

const COPYSTACK_H: Header = Header {
    path: "include/fcontext_copystack.h",
    structs: COPYSTACK_STRUCTS,
    typedefs: COPYSTACK_TYPEDEFS,
    unwinding: &["fcontext_cs_fn"],
    our_function: copystack_function,
    functions: 11,
    our_constant: |name| {
        Some(match name {
            "FCONTEXT_CS_MIN_STACK_SIZE" => "fcontext::copystack::SharedStack::MIN_SIZE".into(),
            _ if name.starts_with("FCONTEXT_CS_") => format!("fcontext::copystack::{name}"),
            _ => return None,
        })
    },
};

/// Where our declaration of each copy-stack C function lives.
fn copystack_function(name: &str) -> Option<&'static str> {
    Some(match name {
        "fcontext_cs_strerror" => "fcontext::copystack::fcontext_cs_strerror",
        "fcontext_cs_stack_create" => "fcontext::copystack::fcontext_cs_stack_create",
        "fcontext_cs_stack_destroy" => "fcontext::copystack::fcontext_cs_stack_destroy",
        "fcontext_cs_stack_stats" => "fcontext::copystack::fcontext_cs_stack_stats",
        "fcontext_cs_create" => "fcontext::copystack::fcontext_cs_create",
        "fcontext_cs_destroy" => "fcontext::copystack::fcontext_cs_destroy",
        "fcontext_cs_resume" => "fcontext::copystack::fcontext_cs_resume",
        "fcontext_cs_yield" => "fcontext::copystack::fcontext_cs_yield",
        "fcontext_cs_status" => "fcontext::copystack::fcontext_cs_status",
        "fcontext_cs_running" => "fcontext::copystack::fcontext_cs_running",
        "fcontext_cs_saved_bytes" => "fcontext::copystack::fcontext_cs_saved_bytes",
        _ => return None,
    })
}

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
fn bindgen(header: &Header, blocked: &[&str]) -> Option<String> {
    // One libclang session at a time (the two header tests run in parallel).
    static CLANG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = CLANG.lock().unwrap_or_else(|e| e.into_inner());
    let path = tools::repo_dir().join(header.path);
    // Only the header's own declarations, not those of what it includes.
    let file_name = path.file_name().unwrap().to_str().unwrap().to_owned();
    let own_file = format!(".*/{}", file_name.replace('.', "\\."));
    let blocked: Vec<String> = blocked.iter().map(|s| s.to_string()).collect();
    let unwinding = header.unwinding;
    let result = std::panic::catch_unwind(move || {
        let mut b = bindgen::Builder::default()
            .header(path.to_str().unwrap())
            .allowlist_file(own_file)
            .prepend_enum_name(false)
            .layout_tests(false)
            .derive_debug(false)
            .derive_copy(false);
        for t in &blocked {
            b = b.blocklist_type(t);
        }
        for t in unwinding {
            b = b.override_abi(bindgen::Abi::CUnwind, *t);
        }
        b.generate().map(|bindings| bindings.to_string())
    });
    match result {
        Ok(Ok(text)) => Some(text),
        Ok(Err(e)) => panic!("bindgen failed on {}: {e}", header.path),
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

/// Constants (`#define`s and enum values) of bindgen output: (name, type).
fn constants(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let ty = rest.split('=').next()?.trim();
            Some((name.trim().to_owned(), ty.to_owned()))
        })
        .collect()
}

/// Checks one header against our items (see the module docs); returns what
/// bindgen made of it, or `None` after a skip.
fn check_header(header: &Header) -> Option<String> {
    let Header {
        path,
        structs,
        typedefs,
        our_function,
        functions: function_count,
        our_constant,
        ..
    } = header;
    let c_side = bindgen(header, &[])?;
    let struct_names: Vec<&str> = structs.iter().map(|s| s.c).collect();
    let sig_side = bindgen(header, &struct_names)?;

    let mut check = String::from(
        "#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, \
         unused_assignments, unused_variables)]\n\
         use core::mem::{align_of, offset_of, size_of};\n",
    );
    // The header as clang sees it.
    check.push_str(&format!("mod c {{\n{c_side}\n}}\n"));
    // The header's functions and typedefs, with our structs substituted.
    check.push_str("mod sig {\n");
    for Mirror { c, ours, .. } in *structs {
        check.push_str(&format!("pub use {ours} as {c};\n"));
    }
    check.push_str(&strip_fn_options(&sig_side));
    check.push_str("}\n");

    for Mirror { c, ours, fields } in *structs {
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
    for (c, ours) in *typedefs {
        check.push_str(&format!("fn typedef_{c}(a: {ours}) -> sig::{c} {{ a }}\n"));
    }
    for (name, _) in constants(&c_side) {
        let ours = our_constant(&name)
            .unwrap_or_else(|| panic!("no Rust counterpart for {name} of {path}"));
        check.push_str(&format!(
            "const _: () = assert!(c::{name} as i128 == ({ours}) as i128, \"{name}\");\n"
        ));
    }
    let names = functions(&sig_side);
    assert_eq!(
        names.len(),
        *function_count,
        "functions bindgen found: {names:?}"
    );
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
    let stem = path.trim_start_matches("include/").trim_end_matches(".h");
    let dir = lib.profile_dir.join("fcontext-bindgen-layout").join(stem);
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
        "the Rust declarations differ from {path}:\n{}\n--- {}:\n{check}",
        String::from_utf8_lossy(&out.stderr),
        src.display()
    );
    Some(c_side)
}

#[test]
fn rust_declarations_match_the_c_header() {
    check_header(&FCONTEXT_H);
}

#[test]
fn rust_declarations_match_the_copystack_header() {
    let Some(c_side) = check_header(&COPYSTACK_H) else {
        return;
    };
    let in_header: Vec<(String, String)> = constants(&c_side);

    // Every FCONTEXT_CS_* constant the crate defines is in the header.
    let mut sources = vec![tools::repo_dir().join("src")];
    let mut defined = Vec::new();
    while let Some(dir) = sources.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines() {
                    let Some(rest) = line.trim().strip_prefix("pub const FCONTEXT_CS_") else {
                        continue;
                    };
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    defined.push((format!("FCONTEXT_CS_{name}"), path.clone()));
                }
            }
        }
    }
    assert!(
        !defined.is_empty(),
        "no FCONTEXT_CS_* constant found under src/"
    );
    for (name, file) in &defined {
        assert!(
            in_header.iter().any(|(c, _)| c == name),
            "{name} ({}) is not in include/fcontext_copystack.h",
            file.display()
        );
    }

    // fcontext_cs_strerror describes exactly the header's result codes.
    let describe = |code: i32| {
        let text = fcontext::copystack::fcontext_cs_strerror(code);
        // SAFETY: fcontext_cs_strerror returns a static NUL-terminated string.
        unsafe { std::ffi::CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    };
    let unknown = describe(-1);
    let codes: Vec<i32> = in_header
        .iter()
        .filter(|(_, ty)| ty == "fcontext_cs_result")
        .map(|(name, _)| {
            let value = c_side
                .split(&format!("pub const {name}: fcontext_cs_result = "))
                .nth(1)
                .and_then(|s| s.split(';').next())
                .unwrap();
            value.trim().parse().unwrap()
        })
        .collect();
    assert!(codes.len() > 1, "result codes in the header: {codes:?}");
    let mut texts = Vec::new();
    for &code in &codes {
        let text = describe(code);
        assert_ne!(
            text, unknown,
            "code {code} of the header has no description"
        );
        assert!(!texts.contains(&text), "two codes share {text:?}");
        texts.push(text);
    }
    let past = codes.iter().max().unwrap() + 1;
    assert_eq!(
        describe(past),
        unknown,
        "fcontext_cs_strerror describes code {past}, which the header lacks"
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
