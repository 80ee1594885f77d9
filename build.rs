//! Build script: picks the context-switch assembly for the cargo target,
//! assembles it with `cc`, and gives `libfcontext.so` its SONAME and export
//! list.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The assembly file for the target being built, relative to `asm/`.
fn asm_file(arch: &str, os: &str) -> Option<&'static str> {
    match (arch, os) {
        ("x86_64", "linux") => Some("x86_64_sysv_elf_gas.S"),
        _ => None,
    }
}

/// The symbols `libfcontext.so` exports: the three fcontext functions under
/// their C names and Boost >= 1.87 C++ names, Boost's five
/// `stack_traits` functions, libfcontext's two stack helpers and the eleven
/// copy-stack coroutine functions.
fn exported_symbols(pointer_width: &str) -> Vec<String> {
    // The Itanium encoding of size_t: `m` (unsigned long) on LP64, `j` on ILP32.
    let size_t = if pointer_width == "64" { "m" } else { "j" };
    let mut names: Vec<String> = ["make_fcontext", "jump_fcontext", "ontop_fcontext"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.push(format!(
        "_ZN5boost7context6detail13make_fcontextEPv{size_t}PFvNS1_10transfer_tEE"
    ));
    names.push("_ZN5boost7context6detail13jump_fcontextEPvS2_".into());
    names.push("_ZN5boost7context6detail14ontop_fcontextEPvS2_PFNS1_10transfer_tES3_E".into());
    for f in [
        "12is_unboundedEv",
        "9page_sizeEv",
        "12default_sizeEv",
        "12minimum_sizeEv",
        "12maximum_sizeEv",
    ] {
        names.push(format!("_ZN5boost7context12stack_traits{f}"));
    }
    names.push("create_fcontext_stack".into());
    names.push("destroy_fcontext_stack".into());
    // Copy-stack coroutines (include/fcontext_copystack.h).
    for f in [
        "strerror",
        "stack_create",
        "stack_destroy",
        "stack_stats",
        "create",
        "destroy",
        "resume",
        "yield",
        "status",
        "running",
        "saved_bytes",
    ] {
        names.push(format!("fcontext_cs_{f}"));
    }
    names
}

fn write_version_script(out: &Path, symbols: &[String]) -> PathBuf {
    let path = out.join("fcontext.map");
    let mut text = String::from("{\n  global:\n");
    for s in symbols {
        text.push_str(&format!("    {s};\n"));
    }
    text.push_str("};\n");
    fs::write(&path, text).expect("fcontext: cannot write the version script");
    path
}

fn main() {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let width = env::var("CARGO_CFG_TARGET_POINTER_WIDTH").unwrap_or_default();
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=FCONTEXT_NO_FPU_CONTROL");

    let Some(file) = asm_file(&arch, &os) else {
        panic!("fcontext: no context-switch assembly for target arch={arch} os={os}");
    };
    let path = Path::new("asm").join(file);
    println!("cargo:rerun-if-changed={}", path.display());

    // cargo_metadata(false): we link the archive whole ourselves, so the
    // assembly symbols reach libfcontext.so even though no Rust code calls them.
    let mut build = cc::Build::new();
    build.file(&path).cargo_metadata(false);
    if env::var_os("CARGO_FEATURE_NO_FPU_CONTROL").is_some() {
        build.define("FCONTEXT_NO_FPU_CONTROL", None);
    }
    build.compile("fcontext_asm");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static:+whole-archive=fcontext_asm");

    if os == "linux" {
        // rustc's own version script hides every non-Rust symbol; this second
        // one (merged by the linker) adds the assembly exports back.
        let map = write_version_script(&out, &exported_symbols(&width));
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libfcontext.so.0");
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
            map.display()
        );
    }
}
