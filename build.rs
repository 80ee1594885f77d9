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
/// `stack_traits` functions, libfcontext's two stack helpers, the installer
/// of the overflow reporter and the eleven copy-stack coroutine functions.
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
    names.push("fcontext_install_overflow_handler".into());
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
    // Files the chosen one #includes: asm/common (the Boost >= 1.87 alias
    // blocks, shared frame code) and, for the Mach-O files, the ELF file
    // whose text they reuse. Watching the folder covers them all.
    println!("cargo:rerun-if-changed=asm");

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
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libfcontext.so.0");
        println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
        // rustc's own version script hides every non-Rust symbol; a second
        // one adds the assembly exports back. LLD merges the two; GNU ld
        // rejects a second anonymous version script and would fail the whole
        // build, so there we leave libfcontext.so without the assembly
        // exports and say so (the rlib and libfcontext.a are unaffected).
        if links_with_lld() {
            let map = write_version_script(&out, &exported_symbols(&width));
            println!(
                "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
                map.display()
            );
        } else {
            println!(
                "cargo:warning=fcontext: this build does not link with LLD, so libfcontext.so \
                 will not export make/jump/ontop_fcontext (GNU ld cannot merge a second version \
                 script with rustc's); the rlib and libfcontext.a are complete. Build the shared \
                 library with RUSTFLAGS=\"-C link-arg=-fuse-ld=lld\" to get every export."
            );
        }
    }
}

/// Whether rustc links this build's cdylib with LLD: the default for
/// `x86_64-unknown-linux-gnu` since Rust 1.90 (rust-lld), or when the flags
/// ask for it. Flags that pick another linker, or turn rust-lld off, win.
fn links_with_lld() -> bool {
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags: Vec<&str> = flags.split('\x1f').collect();
    let says = |needle: &str| flags.iter().any(|f| f.contains(needle));
    if says("-fuse-ld=lld") || says("linker-features=+lld") {
        return true;
    }
    if says("-fuse-ld=") || says("linker-features=-lld") || says("link-self-contained=-linker") {
        return false;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let minor = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            v.split_whitespace()
                .nth(1)?
                .split('.')
                .nth(1)?
                .parse::<u32>()
                .ok()
        })
        .unwrap_or(0);
    env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu") && minor >= 90
}
