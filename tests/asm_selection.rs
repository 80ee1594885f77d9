//! build.rs's target -> assembly table (build/select.rs), tested as a unit:
//! cross targets cannot be built here (no std for them), but the choice for
//! each can be checked.

include!("../build/select.rs");

use std::path::Path;

/// A target as cargo describes it; `abi` and `endian` default to the common case.
fn cfg<'a>(
    arch: &'a str,
    os: &'a str,
    env: &'a str,
    vendor: &'a str,
    width: &'a str,
) -> TargetCfg<'a> {
    TargetCfg {
        arch,
        os,
        env,
        abi: "",
        vendor,
        pointer_width: width,
        endian: "little",
    }
}

/// (rustc target triple, its cfg values, expected file) for x86 and x86_64.
fn x86_cases() -> Vec<(&'static str, TargetCfg<'static>, &'static str)> {
    vec![
        (
            "x86_64-unknown-linux-gnu",
            cfg("x86_64", "linux", "gnu", "unknown", "64"),
            "x86_64_sysv_elf_gas.S",
        ),
        (
            "x86_64-unknown-linux-musl",
            cfg("x86_64", "linux", "musl", "unknown", "64"),
            "x86_64_sysv_elf_gas.S",
        ),
        (
            "x86_64-linux-android",
            cfg("x86_64", "android", "", "unknown", "64"),
            "x86_64_sysv_elf_gas.S",
        ),
        (
            "x86_64-unknown-freebsd",
            cfg("x86_64", "freebsd", "", "unknown", "64"),
            "x86_64_sysv_elf_gas.S",
        ),
        (
            "x86_64-apple-darwin",
            cfg("x86_64", "macos", "", "apple", "64"),
            "x86_64_sysv_macho_gas.S",
        ),
        (
            "x86_64-apple-ios (simulator)",
            cfg("x86_64", "ios", "", "apple", "64"),
            "x86_64_sysv_macho_gas.S",
        ),
        (
            "x86_64-pc-windows-msvc",
            cfg("x86_64", "windows", "msvc", "pc", "64"),
            "x86_64_ms_pe_masm.asm",
        ),
        (
            "x86_64-pc-windows-gnu",
            cfg("x86_64", "windows", "gnu", "pc", "64"),
            "x86_64_ms_pe_gas.S",
        ),
        (
            "i686-unknown-linux-gnu",
            cfg("x86", "linux", "gnu", "unknown", "32"),
            "i386_sysv_elf_gas.S",
        ),
        (
            "i586-unknown-linux-gnu",
            cfg("x86", "linux", "gnu", "unknown", "32"),
            "i386_sysv_elf_gas.S",
        ),
        (
            "i686-linux-android",
            cfg("x86", "android", "", "unknown", "32"),
            "i386_sysv_elf_gas.S",
        ),
        (
            "i686-apple-darwin",
            cfg("x86", "macos", "", "apple", "32"),
            "i386_sysv_macho_gas.S",
        ),
        (
            "i686-pc-windows-msvc",
            cfg("x86", "windows", "msvc", "pc", "32"),
            "i386_ms_pe_masm.asm",
        ),
        (
            "i686-pc-windows-gnu",
            cfg("x86", "windows", "gnu", "pc", "32"),
            "i386_ms_pe_gas.S",
        ),
    ]
}

/// The same for every other architecture.
fn other_cases() -> Vec<(&'static str, TargetCfg<'static>, &'static str)> {
    let mut armhf = cfg("arm", "linux", "gnu", "unknown", "32");
    armhf.abi = "eabihf";
    let mut ppc64le = cfg("powerpc64", "linux", "gnu", "unknown", "64");
    ppc64le.endian = "little";
    let mut mips64el = cfg("mips64", "linux", "gnu", "unknown", "64");
    mips64el.abi = "abi64";
    let mut mips = cfg("mips", "linux", "gnu", "unknown", "32");
    mips.endian = "big";
    let mut ppc64be = cfg("powerpc64", "linux", "gnu", "unknown", "64");
    ppc64be.endian = "big";
    let mut ppc32 = cfg("powerpc", "linux", "gnu", "unknown", "32");
    ppc32.endian = "big";
    let mut ppc32_musl = cfg("powerpc", "linux", "musl", "unknown", "32");
    ppc32_musl.endian = "big";
    vec![
        (
            "aarch64-unknown-linux-gnu",
            cfg("aarch64", "linux", "gnu", "unknown", "64"),
            "arm64_aapcs_elf_gas.S",
        ),
        (
            "aarch64-linux-android",
            cfg("aarch64", "android", "", "unknown", "64"),
            "arm64_aapcs_elf_gas.S",
        ),
        (
            "aarch64-apple-darwin",
            cfg("aarch64", "macos", "", "apple", "64"),
            "arm64_aapcs_macho_gas.S",
        ),
        (
            "aarch64-apple-ios",
            cfg("aarch64", "ios", "", "apple", "64"),
            "arm64_aapcs_macho_gas.S",
        ),
        (
            "aarch64-pc-windows-msvc",
            cfg("aarch64", "windows", "msvc", "pc", "64"),
            "arm64_aapcs_pe_armclang.S",
        ),
        (
            "aarch64-pc-windows-gnullvm",
            cfg("aarch64", "windows", "gnu", "pc", "64"),
            "arm64_aapcs_pe_armclang.S",
        ),
        (
            "armv7-unknown-linux-gnueabihf",
            armhf,
            "arm_aapcs_elf_gas.S",
        ),
        (
            "riscv64gc-unknown-linux-gnu",
            cfg("riscv64", "linux", "gnu", "unknown", "64"),
            "riscv64_sysv_elf_gas.S",
        ),
        (
            "powerpc64le-unknown-linux-gnu",
            ppc64le,
            "ppc64_sysv_elf_gas.S",
        ),
        (
            "powerpc64-unknown-linux-gnu",
            ppc64be,
            "ppc64_sysv_elf_gas.S",
        ),
        ("powerpc-unknown-linux-gnu", ppc32, "ppc32_sysv_elf_gas.S"),
        (
            "powerpc-unknown-linux-musl",
            ppc32_musl,
            "ppc32_sysv_elf_gas.S",
        ),
        (
            "s390x-unknown-linux-gnu",
            cfg("s390x", "linux", "gnu", "ibm", "64"),
            "s390x_sysv_elf_gas.S",
        ),
        (
            "mips64el-unknown-linux-gnuabi64",
            mips64el,
            "mips64_n64_elf_gas.S",
        ),
        (
            "loongarch64-unknown-linux-gnu",
            cfg("loongarch64", "linux", "gnu", "unknown", "64"),
            "loongarch64_sysv_elf_gas.S",
        ),
        (
            "mipsel-unknown-linux-gnu",
            cfg("mips", "linux", "gnu", "unknown", "32"),
            "mips32_o32_elf_gas.S",
        ),
        ("mips-unknown-linux-gnu", mips, "mips32_o32_elf_gas.S"),
    ]
}

#[test]
fn picks_the_file_for_each_x86_target() {
    for (triple, t, file) in x86_cases() {
        assert_eq!(select_asm(&t), Ok(file), "{triple}");
    }
}

#[test]
fn picks_the_file_for_each_other_architecture() {
    for (triple, t, file) in other_cases() {
        assert_eq!(select_asm(&t), Ok(file), "{triple}");
    }
}

#[test]
fn every_row_of_the_table_is_picked_by_a_known_target() {
    // A row no real target reaches is dead, or its rule is wrong.
    let cases: Vec<_> = x86_cases().into_iter().chain(other_cases()).collect();
    for row in ASM_TABLE {
        assert!(
            cases.iter().any(|(_, t, _)| (row.matches)(t)),
            "no known target matches the row for asm/{} ({})",
            row.file,
            row.what
        );
    }
}

#[test]
fn no_target_matches_two_rows() {
    // The rows are disjoint, so select_asm's "first match" never depends on
    // their order: every combination of these cfg values matches at most one.
    let arches = "x86_64 x86 aarch64 arm riscv64 powerpc64 s390x mips64 mips wasm32";
    let oses = "linux android freebsd netbsd openbsd dragonfly solaris illumos hurd \
                macos ios windows uefi none";
    let envs = ["", "gnu", "musl", "msvc"];
    let vendors = ["unknown", "pc", "apple"];
    let widths = ["32", "64"];
    let endians = ["little", "big"];
    for arch in arches.split(' ') {
        for os in oses.split_whitespace() {
            for env in envs {
                for vendor in vendors {
                    for pointer_width in widths {
                        for endian in endians {
                            let t = TargetCfg {
                                arch,
                                os,
                                env,
                                abi: "",
                                vendor,
                                pointer_width,
                                endian,
                            };
                            let hits: Vec<&str> = ASM_TABLE
                                .iter()
                                .filter(|row| (row.matches)(&t))
                                .map(|row| row.file)
                                .collect();
                            assert!(hits.len() <= 1, "{t:?} matches {hits:?}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn unsupported_targets_get_an_error_naming_them_and_listing_the_supported() {
    let mut ppc64be_musl = cfg("powerpc64", "linux", "musl", "unknown", "64");
    ppc64be_musl.endian = "big";
    let mut ppc32_spe = cfg("powerpc", "linux", "gnu", "unknown", "32");
    ppc32_spe.endian = "big";
    ppc32_spe.abi = "spe";
    let mut ppc32_freebsd = cfg("powerpc", "freebsd", "", "unknown", "32");
    ppc32_freebsd.endian = "big";
    let mut x32 = cfg("x86_64", "linux", "gnu", "unknown", "32");
    x32.abi = "x32";
    let unsupported = [
        (
            "wasm32-unknown-unknown",
            cfg("wasm32", "unknown", "", "unknown", "32"),
        ),
        (
            "powerpc64-unknown-linux-musl (ELFv2 big-endian)",
            ppc64be_musl,
        ),
        ("powerpc-unknown-linux-gnuspe (no FPRs)", ppc32_spe),
        (
            "powerpc-unknown-freebsd (struct return in registers)",
            ppc32_freebsd,
        ),
        ("x86_64-unknown-linux-gnux32", x32),
        (
            "i686-unknown-freebsd (struct return in registers)",
            cfg("x86", "freebsd", "", "unknown", "32"),
        ),
        (
            "riscv32imac-unknown-none-elf",
            cfg("riscv32", "none", "", "unknown", "32"),
        ),
        (
            "x86_64-unknown-uefi",
            cfg("x86_64", "uefi", "", "unknown", "64"),
        ),
        (
            "sparc64-unknown-linux-gnu",
            cfg("sparc64", "linux", "gnu", "unknown", "64"),
        ),
        (
            "loongarch64-unknown-none-softfloat",
            cfg("loongarch64", "none", "", "unknown", "64"),
        ),
    ];
    for (triple, t) in unsupported {
        let err = select_asm(&t).expect_err(triple);
        assert!(err.contains(&format!("arch={}", t.arch)), "{triple}: {err}");
        assert!(err.contains(&format!("os={}", t.os)), "{triple}: {err}");
        assert!(
            err.contains(&format!("pointer_width={}", t.pointer_width)),
            "{triple}: {err}"
        );
        for AsmRow { what, file, .. } in ASM_TABLE {
            assert!(err.contains(file), "{triple}: the list lacks {file}");
            assert!(err.contains(what), "{triple}: the list lacks {what}");
        }
        assert!(
            err.contains("FCONTEXT_ASM_FILE"),
            "{triple}: no hint at the override"
        );
    }
}

#[test]
fn the_supported_list_and_the_asm_directory_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Every file in asm/ is reachable from the table (names are coordinated).
    for entry in std::fs::read_dir(root.join("asm")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".S") || name.ends_with(".asm") {
            assert!(
                ASM_TABLE.iter().any(|row| row.file == name),
                "asm/{name} is selected by no target in build/select.rs"
            );
        }
    }
}

#[test]
fn the_host_target_selects_an_existing_file() {
    let t = TargetCfg {
        arch: std::env::consts::ARCH,
        os: std::env::consts::OS,
        env: if cfg!(target_env = "gnu") {
            "gnu"
        } else if cfg!(target_env = "musl") {
            "musl"
        } else {
            ""
        },
        abi: "",
        vendor: if cfg!(target_vendor = "apple") {
            "apple"
        } else {
            "unknown"
        },
        pointer_width: if cfg!(target_pointer_width = "64") {
            "64"
        } else {
            "32"
        },
        endian: if cfg!(target_endian = "little") {
            "little"
        } else {
            "big"
        },
    };
    let file = select_asm(&t).expect("the host builds, so it must be supported");
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("asm")
        .join(file)
        .is_file());
}
