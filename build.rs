//! Build script: picks the context-switch assembly for the cargo target,
//! assembles it with `cc`, and gives `libfcontext.so` its SONAME and export
//! list.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

// Target -> asm file table (also unit-tested by tests/asm_selection.rs).
include!("build/select.rs");

/// The assembly file to build: `FCONTEXT_ASM_FILE` if set (for toolchains the
/// table does not know), else the table's file for the target. Panics with
/// the target and the supported list when there is none.
fn asm_path(target: &TargetCfg) -> PathBuf {
    println!("cargo:rerun-if-env-changed=FCONTEXT_ASM_FILE");
    if let Some(file) = env::var_os("FCONTEXT_ASM_FILE") {
        let path = PathBuf::from(file);
        if !path.is_file() {
            panic!(
                "fcontext: FCONTEXT_ASM_FILE={} is not a file",
                path.display()
            );
        }
        return path;
    }
    let file = select_asm(target).unwrap_or_else(|message| panic!("{message}"));
    let path = Path::new("asm").join(file);
    if !path.is_file() {
        panic!(
            "fcontext: this target needs {}, which is missing from this source tree",
            path.display()
        );
    }
    path
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
    let cfg = |name: &str| env::var(format!("CARGO_CFG_TARGET_{name}")).unwrap_or_default();
    let (arch, os, target_env) = (cfg("ARCH"), cfg("OS"), cfg("ENV"));
    let (abi, vendor, width, endian) = (
        cfg("ABI"),
        cfg("VENDOR"),
        cfg("POINTER_WIDTH"),
        cfg("ENDIAN"),
    );
    let target = TargetCfg {
        arch: &arch,
        os: &os,
        env: &target_env,
        abi: &abi,
        vendor: &vendor,
        pointer_width: &width,
        endian: &endian,
    };
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=FCONTEXT_NO_FPU_CONTROL");

    let path = asm_path(&target);
    println!("cargo:rerun-if-changed={}", path.display());
    println!("cargo:rerun-if-changed=build/select.rs");
    // Shared pieces the ELF files #include (the Boost >= 1.87 alias block).
    println!("cargo:rerun-if-changed=asm/common");

    // cargo_metadata(false): we link the archive whole ourselves, so the
    // assembly symbols reach libfcontext.so even though no Rust code calls them.
    let mut build = cc::Build::new();
    build.file(&path).cargo_metadata(false);
    if env::var_os("CARGO_FEATURE_NO_FPU_CONTROL").is_some() {
        build.define("FCONTEXT_NO_FPU_CONTROL", None);
    }
    if target_env == "msvc" && path.extension().is_some_and(|e| e == "S") {
        // cl.exe cannot assemble GNU-syntax files; clang (--target=...-msvc) can.
        // An explicit CC or CC_<target> still wins.
        let target = env::var("TARGET").unwrap_or_default();
        let target_cc = format!("CC_{}", target.replace('-', "_"));
        if env::var_os("CC").is_none() && env::var_os(target_cc).is_none() {
            build.compiler("clang");
        }
    }
    if arch == "x86" && target_env == "msvc" {
        // The MASM object registers no SEH handlers; say so, or /SAFESEH images reject it.
        build.asm_flag("/safeseh");
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
