// Target -> assembly file selection, shared by build.rs and
// tests/asm_selection.rs (both `include!` this file, so it holds items only).
//
// The file name says (architecture, ABI, binary format, assembler); see
// asm/README.md. MASM (`.asm`) is chosen for x86 and x86_64 `*-msvc` targets,
// which `cc` assembles with ml/ml64; every other target gets a GNU-syntax `.S`
// file (aarch64 Windows MSVC too: clang assembles it, see build.rs).

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

/// Every supported target family and its file, for error messages and docs.
pub const SUPPORTED: &[(&str, &str)] = &[
    (
        "x86_64 ELF (Linux, Android, *BSD, Solaris/illumos, Hurd)",
        "x86_64_sysv_elf_gas.S",
    ),
    (
        "x86_64 Apple (macOS, iOS simulator)",
        "x86_64_sysv_macho_gas.S",
    ),
    ("x86_64 Windows MSVC", "x86_64_ms_pe_masm.asm"),
    ("x86_64 Windows GNU (MinGW-w64)", "x86_64_ms_pe_gas.S"),
    (
        "x86 (i386..i686) Linux, Android, Hurd",
        "i386_sysv_elf_gas.S",
    ),
    ("x86 Apple (macOS)", "i386_sysv_macho_gas.S"),
    ("x86 Windows MSVC", "i386_ms_pe_masm.asm"),
    ("x86 Windows GNU (MinGW-w64)", "i386_ms_pe_gas.S"),
    (
        "aarch64 ELF (Linux, Android, *BSD)",
        "arm64_aapcs_elf_gas.S",
    ),
    (
        "aarch64 Apple (macOS, iOS, tvOS, watchOS, visionOS)",
        "arm64_aapcs_macho_gas.S",
    ),
    (
        "aarch64 Windows (MSVC: assembled by clang; GNU/LLVM)",
        "arm64_aapcs_pe_armclang.S",
    ),
    (
        "arm (32-bit AAPCS) ELF (Linux, Android, *BSD)",
        "arm_aapcs_elf_gas.S",
    ),
    ("riscv64 (LP64D) ELF", "riscv64_sysv_elf_gas.S"),
    (
        "powerpc64 little-endian (ELFv2) ELF",
        "ppc64_sysv_elf_gas.S",
    ),
    ("s390x ELF", "s390x_sysv_elf_gas.S"),
    ("mips64 n64 ELF", "mips64_n64_elf_gas.S"),
];

/// The file under `asm/` for this target, or the error text naming the target
/// and listing the supported ones. No fallback: an unknown combination is an
/// error, never another architecture's file.
pub fn select_asm(t: &TargetCfg) -> Result<&'static str, String> {
    let elf = ELF_OSES.contains(&t.os);
    let apple = t.vendor == "apple";
    let windows = t.os == "windows";
    let msvc = windows && t.env == "msvc";
    let mingw = windows && t.env == "gnu";
    let file = match t.arch {
        // x32 (x86_64 with 32-bit pointers) packs transfer_t differently.
        "x86_64" if t.pointer_width == "64" => {
            if apple {
                Some("x86_64_sysv_macho_gas.S")
            } else if msvc {
                Some("x86_64_ms_pe_masm.asm")
            } else if mingw {
                Some("x86_64_ms_pe_gas.S")
            } else if elf {
                Some("x86_64_sysv_elf_gas.S")
            } else {
                None
            }
        }
        "x86" => {
            if apple {
                Some("i386_sysv_macho_gas.S")
            } else if msvc {
                Some("i386_ms_pe_masm.asm")
            } else if mingw {
                Some("i386_ms_pe_gas.S")
            } else if I386_HIDDEN_POINTER_OSES.contains(&t.os) {
                Some("i386_sysv_elf_gas.S")
            } else {
                None
            }
        }
        // arm64_32 (watchOS, 32-bit pointers) and ILP32 are other ABIs.
        "aarch64" if t.pointer_width == "64" => {
            if apple {
                Some("arm64_aapcs_macho_gas.S")
            } else if msvc || mingw {
                // One clang-syntax file; build.rs has clang assemble it for MSVC.
                Some("arm64_aapcs_pe_armclang.S")
            } else if elf {
                Some("arm64_aapcs_elf_gas.S")
            } else {
                None
            }
        }
        "arm" if elf => Some("arm_aapcs_elf_gas.S"),
        "riscv64" if elf => Some("riscv64_sysv_elf_gas.S"),
        // ELFv1 (big-endian) has function descriptors and a hidden result pointer.
        "powerpc64" if elf && t.endian == "little" => Some("ppc64_sysv_elf_gas.S"),
        "s390x" if elf => Some("s390x_sysv_elf_gas.S"),
        // n32 (`abin32`) has 32-bit pointers and another frame.
        "mips64" if elf && t.pointer_width == "64" => Some("mips64_n64_elf_gas.S"),
        _ => None,
    };
    file.ok_or_else(|| unsupported_message(t))
}

/// The build error for a target without a file.
pub fn unsupported_message(t: &TargetCfg) -> String {
    let mut text = format!(
        "fcontext: no context-switch assembly for this target \
         (arch={}, os={}, env={}, abi={}, vendor={}, pointer_width={}, endian={}).\n\
         Supported targets:\n",
        t.arch, t.os, t.env, t.abi, t.vendor, t.pointer_width, t.endian
    );
    for (what, file) in SUPPORTED {
        text.push_str(&format!("  {what:<55} asm/{file}\n"));
    }
    text.push_str(
        "Set FCONTEXT_ASM_FILE=/path/to/file.S (or .asm) to build with your own \
         implementation of make_fcontext/jump_fcontext/ontop_fcontext.",
    );
    text
}
