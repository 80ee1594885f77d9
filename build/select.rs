// Target -> assembly file selection, shared by build.rs and
// tests/asm_selection.rs (both `include!` this file, so it holds items only).
//
// The file name says (architecture, ABI, binary format, assembler); see
// asm/README.md. MASM (`.asm`) is chosen for x86 and x86_64 `*-msvc` targets,
// which `cc` assembles with ml/ml64; every other target gets a GNU-syntax `.S`
// file (aarch64 Windows MSVC too: clang assembles it, see build.rs).
//
// One table, [`ASM_TABLE`], is the single home of "which targets are
// supported, by which file": `select_asm` picks from it and the
// unsupported-target error lists it. Adding a platform is one row here.

/// The cargo `cfg` values of the target being built (`CARGO_CFG_TARGET_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetCfg<'a> {
    /// `target_arch`, e.g. `x86_64`, `x86`, `aarch64`.
    pub arch: &'a str,
    /// `target_os`, e.g. `linux`, `windows`, `macos`.
    pub os: &'a str,
    /// `target_env`, e.g. `gnu`, `msvc`, `musl`, or empty.
    pub env: &'a str,
    /// `target_abi`, e.g. `eabihf`, `abi64`, `llvm`, or empty.
    pub abi: &'a str,
    /// `target_vendor`, e.g. `apple`, `pc`, `unknown`.
    pub vendor: &'a str,
    /// `target_pointer_width`: `32` or `64`.
    pub pointer_width: &'a str,
    /// `target_endian`: `little` or `big`.
    pub endian: &'a str,
}

/// Operating systems whose objects are ELF and whose C library has `_exit`.
const ELF_OSES: &[&str] = &[
    "linux",
    "android",
    "freebsd",
    "netbsd",
    "openbsd",
    "dragonfly",
    "solaris",
    "illumos",
    "hurd",
];

/// i386 ELF systems whose psABI returns an 8-byte struct through a hidden
/// pointer, as asm/i386_sysv_elf_gas.S expects (the BSDs return it in
/// eax:edx instead).
const I386_HIDDEN_POINTER_OSES: &[&str] = &["linux", "android", "hurd"];

/// 32-bit PowerPC systems whose SysV ABI returns every struct in memory, as
/// asm/ppc32_sysv_elf_gas.S expects (the BSDs return 8-byte structs in r3:r4).
const PPC32_HIDDEN_POINTER_OSES: &[&str] = &["linux"];

fn is_elf(t: &TargetCfg) -> bool {
    ELF_OSES.contains(&t.os)
}

fn is_apple(t: &TargetCfg) -> bool {
    t.vendor == "apple"
}

fn is_msvc(t: &TargetCfg) -> bool {
    t.os == "windows" && t.env == "msvc"
}

fn is_mingw(t: &TargetCfg) -> bool {
    t.os == "windows" && t.env == "gnu"
}

/// x86_64 with 64-bit pointers: x32 packs transfer_t differently.
fn is_x86_64(t: &TargetCfg) -> bool {
    t.arch == "x86_64" && t.pointer_width == "64"
}

/// aarch64 with 64-bit pointers: arm64_32 (watchOS) and ILP32 are other ABIs.
fn is_aarch64(t: &TargetCfg) -> bool {
    t.arch == "aarch64" && t.pointer_width == "64"
}

/// One supported target family.
pub struct AsmRow {
    /// The family as the unsupported-target error lists it.
    pub what: &'static str,
    /// Its file under `asm/`.
    pub file: &'static str,
    /// Whether a target belongs to the family. The rows are disjoint (no
    /// target matches two; tests/asm_selection.rs checks it), so their order
    /// only decides the order of the list.
    pub matches: fn(&TargetCfg) -> bool,
}

/// Every supported target family and its file: the table `select_asm` picks
/// from and the list the build error prints. An Apple vendor wins over the
/// OS, as it always did; Windows needs env `msvc` or `gnu`.
pub const ASM_TABLE: &[AsmRow] = &[
    AsmRow {
        what: "x86_64 ELF (Linux, Android, *BSD, Solaris/illumos, Hurd)",
        file: "x86_64_sysv_elf_gas.S",
        matches: |t| is_x86_64(t) && !is_apple(t) && is_elf(t),
    },
    AsmRow {
        what: "x86_64 Apple (macOS, iOS simulator)",
        file: "x86_64_sysv_macho_gas.S",
        matches: |t| is_x86_64(t) && is_apple(t),
    },
    AsmRow {
        what: "x86_64 Windows MSVC",
        file: "x86_64_ms_pe_masm.asm",
        matches: |t| is_x86_64(t) && !is_apple(t) && is_msvc(t),
    },
    AsmRow {
        what: "x86_64 Windows GNU (MinGW-w64)",
        file: "x86_64_ms_pe_gas.S",
        matches: |t| is_x86_64(t) && !is_apple(t) && is_mingw(t),
    },
    AsmRow {
        what: "x86 (i386..i686) Linux, Android, Hurd",
        file: "i386_sysv_elf_gas.S",
        matches: |t| t.arch == "x86" && !is_apple(t) && I386_HIDDEN_POINTER_OSES.contains(&t.os),
    },
    AsmRow {
        what: "x86 Apple (macOS)",
        file: "i386_sysv_macho_gas.S",
        matches: |t| t.arch == "x86" && is_apple(t),
    },
    AsmRow {
        what: "x86 Windows MSVC",
        file: "i386_ms_pe_masm.asm",
        matches: |t| t.arch == "x86" && !is_apple(t) && is_msvc(t),
    },
    AsmRow {
        what: "x86 Windows GNU (MinGW-w64)",
        file: "i386_ms_pe_gas.S",
        matches: |t| t.arch == "x86" && !is_apple(t) && is_mingw(t),
    },
    AsmRow {
        what: "aarch64 ELF (Linux, Android, *BSD)",
        file: "arm64_aapcs_elf_gas.S",
        matches: |t| is_aarch64(t) && !is_apple(t) && is_elf(t),
    },
    AsmRow {
        what: "aarch64 Apple (macOS, iOS, tvOS, watchOS, visionOS)",
        file: "arm64_aapcs_macho_gas.S",
        matches: |t| is_aarch64(t) && is_apple(t),
    },
    AsmRow {
        // One clang-syntax file; build.rs has clang assemble it for MSVC.
        what: "aarch64 Windows (MSVC: assembled by clang; GNU/LLVM)",
        file: "arm64_aapcs_pe_armclang.S",
        matches: |t| is_aarch64(t) && !is_apple(t) && (is_msvc(t) || is_mingw(t)),
    },
    AsmRow {
        what: "arm (32-bit AAPCS) ELF (Linux, Android, *BSD)",
        file: "arm_aapcs_elf_gas.S",
        matches: |t| t.arch == "arm" && is_elf(t),
    },
    AsmRow {
        what: "riscv64 (LP64D) ELF",
        file: "riscv64_sysv_elf_gas.S",
        matches: |t| t.arch == "riscv64" && is_elf(t),
    },
    AsmRow {
        // ELFv1 (big-endian) has function descriptors and a hidden result pointer.
        what: "powerpc64 little-endian (ELFv2) ELF",
        file: "ppc64_sysv_elf_gas.S",
        matches: |t| t.arch == "powerpc64" && is_elf(t) && t.endian == "little",
    },
    AsmRow {
        // The same file, its ELFv1 half (_CALL_ELF == 1): glibc's big-endian
        // ABI. musl and FreeBSD use ELFv2 on big-endian (not verified here).
        what: "powerpc64 big-endian ELFv1 Linux (glibc)",
        file: "ppc64_sysv_elf_gas.S",
        matches: |t| {
            t.arch == "powerpc64" && t.os == "linux" && t.env == "gnu" && t.endian == "big"
        },
    },
    AsmRow {
        // SPE (`*-gnuspe`) has no FPRs.
        what: "powerpc (32-bit SysV, hard-float) Linux",
        file: "ppc32_sysv_elf_gas.S",
        matches: |t| {
            t.arch == "powerpc" && PPC32_HIDDEN_POINTER_OSES.contains(&t.os) && t.abi != "spe"
        },
    },
    AsmRow {
        what: "s390x ELF",
        file: "s390x_sysv_elf_gas.S",
        matches: |t| t.arch == "s390x" && is_elf(t),
    },
    AsmRow {
        // n32 (`abin32`) has 32-bit pointers and another frame.
        what: "mips64 n64 ELF",
        file: "mips64_n64_elf_gas.S",
        matches: |t| t.arch == "mips64" && is_elf(t) && t.pointer_width == "64",
    },
    AsmRow {
        // LP64D, the ABI of every loongarch64 ELF OS target; the soft-float
        // loongarch64-unknown-none-softfloat (os none) and LA32 have other frames.
        what: "loongarch64 (LP64D) ELF",
        file: "loongarch64_sysv_elf_gas.S",
        matches: |t| t.arch == "loongarch64" && is_elf(t) && t.pointer_width == "64",
    },
    AsmRow {
        // o32, either endianness; mipsisa32r6 (arch `mips32r6`) is another ISA.
        what: "mips32 o32 ELF (little- and big-endian)",
        file: "mips32_o32_elf_gas.S",
        matches: |t| t.arch == "mips" && is_elf(t) && t.pointer_width == "32",
    },
];

/// The file under `asm/` for this target, or the error text naming the target
/// and listing the supported ones. No fallback: an unknown combination is an
/// error, never another architecture's file.
pub fn select_asm(t: &TargetCfg) -> Result<&'static str, String> {
    ASM_TABLE
        .iter()
        .find(|row| (row.matches)(t))
        .map(|row| row.file)
        .ok_or_else(|| unsupported_message(t))
}

/// The build error for a target without a file.
pub fn unsupported_message(t: &TargetCfg) -> String {
    let mut text = format!(
        "fcontext: no context-switch assembly for this target \
         (arch={}, os={}, env={}, abi={}, vendor={}, pointer_width={}, endian={}).\n\
         Supported targets:\n",
        t.arch, t.os, t.env, t.abi, t.vendor, t.pointer_width, t.endian
    );
    for AsmRow { what, file, .. } in ASM_TABLE {
        text.push_str(&format!("  {what:<55} asm/{file}\n"));
    }
    text.push_str(
        "Set FCONTEXT_ASM_FILE=/path/to/file.S (or .asm) to build with your own \
         implementation of make_fcontext/jump_fcontext/ontop_fcontext.",
    );
    text
}
