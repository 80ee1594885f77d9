//! `cargo xtask install`: builds the release libraries and installs them with
//! the headers, pkg-config and CMake files into a prefix (cargo-c's layout),
//! then runs the acceptance checks of [`crate::acceptance`] against the
//! installed copy (the C/C++ examples through pkg-config, CMake and the bare
//! archive).

use crate::util::{self, Result};
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "\
usage: cargo xtask install [--prefix DIR] [--features LIST]

Builds fcontext in release mode and installs into DIR (default: $FCONTEXT_PREFIX,
else target/prefix):
  lib/libfcontext.a, lib/libfcontext.so.<version> (+ .so.<major>, .so links),
  include/fcontext.h, include/fcontext/fcontext.h, lib/pkgconfig/fcontext.pc,
  lib/cmake/fcontext/fcontextConfig.cmake, fcontextConfigVersion.cmake.
Then compiles examples/c/pingpong.cpp against the installed copy through
pkg-config (shared, then static) and CMake, and examples/c/squares.c against
the bare archive, and runs each build.

  --prefix DIR      install prefix (relative paths are taken from the current directory)
  --features LIST   cargo features for the library build (e.g. no-fpu-control)";

/// Where the installed files go, following cargo-c's layout.
pub(crate) struct Layout {
    pub(crate) prefix: PathBuf,
    pub(crate) lib: PathBuf,
    pub(crate) include: PathBuf,
    pub(crate) pkgconfig: PathBuf,
    pub(crate) cmake: PathBuf,
}

impl Layout {
    pub(crate) fn new(prefix: PathBuf) -> Layout {
        let lib = prefix.join("lib");
        Layout {
            include: prefix.join("include"),
            pkgconfig: lib.join("pkgconfig"),
            cmake: lib.join("cmake").join("fcontext"),
            lib,
            prefix,
        }
    }
}

/// The library's version, split for the file names and templates.
pub(crate) struct Version {
    pub(crate) full: String,
    pub(crate) major: String,
    pub(crate) minor: String,
}

impl Version {
    pub(crate) fn soname(&self) -> String {
        format!("libfcontext.so.{}", self.major)
    }
}

/// Parsed command line.
#[derive(Debug, PartialEq)]
struct Options {
    prefix: PathBuf,
    features: Option<String>,
}

/// `cargo xtask install`.
pub fn main(args: &[String]) -> Result {
    let Some(options) = parse_args(args, env::var_os("FCONTEXT_PREFIX").map(PathBuf::from))? else {
        println!("{USAGE}");
        return Ok(());
    };
    let prefix = absolute(&options.prefix)?;
    let cmake = if install_and_check(&prefix, options.features.as_deref())? {
        " and CMake"
    } else {
        " (CMake check skipped)"
    };
    println!(
        "xtask install: fcontext installed into {}; the examples ran through pkg-config (shared, static), the bare archive{cmake}",
        prefix.display()
    );
    Ok(())
}

/// Returns `None` for `--help`. The prefix comes from `--prefix`, else from
/// `env_prefix` ($FCONTEXT_PREFIX), else `<target>/prefix`.
fn parse_args(args: &[String], env_prefix: Option<PathBuf>) -> Result<Option<Options>> {
    let mut prefix = env_prefix.filter(|p| !p.as_os_str().is_empty());
    let mut features = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String> {
            let v = inline.clone().or_else(|| args.next().cloned());
            match v {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(format!("{name} needs a value\n\n{USAGE}").into()),
            }
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--prefix" => prefix = Some(PathBuf::from(value("--prefix")?)),
            "--features" => features = Some(value("--features")?),
            _ => return Err(format!("unknown argument `{arg}`\n\n{USAGE}").into()),
        }
    }
    Ok(Some(Options {
        prefix: prefix.unwrap_or_else(|| util::target_dir().join("prefix")),
        features,
    }))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(env::current_dir()?.join(path))
}

/// Builds, installs into `prefix` (absolute) and runs the example checks
/// ([`crate::acceptance::check_example`]);
/// returns whether the CMake check ran (it is skipped without cmake). Also
/// the install step of `cargo xtask test`.
pub fn install_and_check(prefix: &Path, features: Option<&str>) -> Result<bool> {
    let root = util::project_root();
    let version = read_version(&root)?;
    let layout = Layout::new(prefix.to_path_buf());

    println!("==> building the release libraries");
    let mut build = util::cargo();
    build.args(["build", "--release", "-p", "fcontext"]);
    if let Some(features) = features {
        build.args(["--features", features]);
    }
    util::run(&mut build)?;

    println!(
        "==> installing fcontext {} into {}",
        version.full,
        prefix.display()
    );
    let static_libs = native_static_libs()?;
    install_libraries(&layout, &version)?;
    install_headers(&root.join("include"), &layout.include)?;
    install_pkgconfig(&root, &layout, &version, &static_libs)?;
    install_cmake(&root, &layout, &version, &static_libs)?;

    crate::acceptance::check_example(&root, &layout, &version)
}

/// The version in the root `Cargo.toml`; the header's version macros must agree.
pub(crate) fn read_version(root: &Path) -> Result<Version> {
    let manifest = fs::read_to_string(root.join("Cargo.toml"))?;
    let full = package_version(&manifest).ok_or("no [package] version in Cargo.toml")?;
    let parts: Vec<&str> = full.split(['.', '-', '+']).collect();
    if parts.len() < 3 {
        return Err(format!("Cargo.toml version `{full}` is not major.minor.patch").into());
    }
    let header = fs::read_to_string(root.join("include/fcontext.h"))?;
    for (name, want) in ["MAJOR", "MINOR", "PATCH"].iter().zip(&parts) {
        let got = header_define(&header, &format!("FCONTEXT_VERSION_{name}"));
        if got.as_deref() != Some(*want) {
            return Err(format!(
                "include/fcontext.h has FCONTEXT_VERSION_{name} {}, Cargo.toml says {want} (version {full})",
                got.as_deref().unwrap_or("<missing>")
            )
            .into());
        }
    }
    Ok(Version {
        major: parts[0].to_string(),
        minor: parts[1].to_string(),
        full,
    })
}

/// `version = "..."` of the `[package]` table.
fn package_version(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(rest) = line.strip_prefix("version") {
                let value = rest.trim_start().strip_prefix('=')?.trim();
                return Some(value.strip_prefix('"')?.strip_suffix('"')?.to_string());
            }
        }
    }
    None
}

/// The value of `#define NAME value` in a C header.
fn header_define(header: &str, name: &str) -> Option<String> {
    header.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("#define") && words.next() == Some(name))
            .then(|| words.next().map(str::to_string))
            .flatten()
    })
}

/// The system libraries a Rust static library needs on this host, as rustc
/// reports them for an empty `staticlib` (what std pulls in; our own code only
/// adds libc, which is always in the list).
fn native_static_libs() -> Result<String> {
    let work = util::fresh_work_dir("native-static-libs")?;
    let out = util::tool("RUSTC", "rustc")
        .args(["--crate-type", "staticlib", "--crate-name", "probe"])
        .args(["--print", "native-static-libs", "-o"])
        .arg(work.join("libprobe.a"))
        .arg("-")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let libs = stderr.lines().find_map(|l| {
        l.split_once("native-static-libs:")
            .map(|(_, libs)| libs.trim())
    });
    match libs {
        Some(libs) if out.status.success() => Ok(libs.to_string()),
        _ => Err(format!("rustc --print native-static-libs failed:\n{stderr}").into()),
    }
}

/// Copies through a temporary name and renames, so a program that has the old
/// library mapped keeps running instead of crashing.
fn install_file(from: &Path, to: &Path) -> Result {
    let dir = to.parent().expect("install targets have a parent");
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = to.with_extension("xtask-tmp");
    fs::copy(from, &tmp)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), tmp.display()))?;
    fs::rename(&tmp, to)?;
    println!("  {}", to.display());
    Ok(())
}

fn install_text(text: &str, to: &Path) -> Result {
    let dir = to.parent().expect("install targets have a parent");
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    fs::write(to, text).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    println!("  {}", to.display());
    Ok(())
}

fn install_symlink(target: &str, link: &Path) -> Result {
    if link.symlink_metadata().is_ok() {
        fs::remove_file(link)?;
    }
    std::os::unix::fs::symlink(target, link)
        .map_err(|e| format!("cannot link {} -> {target}: {e}", link.display()))?;
    println!("  {} -> {target}", link.display());
    Ok(())
}

fn install_libraries(layout: &Layout, version: &Version) -> Result {
    let built = util::target_dir().join("release");
    install_file(
        &built.join("libfcontext.a"),
        &layout.lib.join("libfcontext.a"),
    )?;
    let real = format!("libfcontext.so.{}", version.full);
    let so = layout.lib.join(&real);
    install_file(&built.join("libfcontext.so"), &so)?;
    check_soname(&so, &version.soname())?;
    install_symlink(&real, &layout.lib.join(version.soname()))?;
    install_symlink(&version.soname(), &layout.lib.join("libfcontext.so"))
}

/// The `.so.<major>` link is only right if the library's SONAME (set by
/// build.rs) names it.
fn check_soname(so: &Path, want: &str) -> Result {
    if !util::have("readelf") {
        return util::skip("SONAME check", "readelf (binutils) not found");
    }
    let dynamic = util::output(Command::new("readelf").arg("-d").arg(so))?;
    let soname = dynamic
        .lines()
        .find(|l| l.contains("(SONAME)"))
        .and_then(|l| {
            l.split_once('[')?
                .1
                .split_once(']')
                .map(|(s, _)| s.to_string())
        });
    match soname {
        Some(s) if s == want => Ok(()),
        other => Err(format!(
            "{} has SONAME {other:?}, expected {want} (see build.rs)",
            so.display()
        )
        .into()),
    }
}

/// Every file under `include/`, keeping subdirectories (`fcontext/fcontext.h`).
fn install_headers(from: &Path, to: &Path) -> Result {
    let mut entries: Vec<_> = fs::read_dir(from)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            install_headers(&path, &dest)?;
        } else {
            install_file(&path, &dest)?;
        }
    }
    Ok(())
}

/// Replaces each `@NAME@` in `template` by its value; a placeholder left
/// without a value is an error naming it.
fn fill(template: &str, values: &[(&str, &str)]) -> Result<String> {
    let mut text = template.to_string();
    for (name, value) in values {
        text = text.replace(&format!("@{name}@"), value);
    }
    // Any word between two `@` that looks like a placeholder is one we missed.
    let pieces: Vec<&str> = text.split('@').collect();
    let inner = &pieces[1..pieces.len().saturating_sub(1).max(1)];
    let leftover = inner
        .iter()
        .find(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
    match leftover {
        Some(word) => Err(format!("template placeholder @{word}@ has no value").into()),
        None => Ok(text),
    }
}

fn install_template(template: &Path, values: &[(&str, &str)], to: &Path) -> Result {
    let text = fs::read_to_string(template)
        .map_err(|e| format!("cannot read {}: {e}", template.display()))?;
    let filled = fill(&text, values).map_err(|e| format!("{}: {e}", template.display()))?;
    install_text(&filled, to)
}

fn install_pkgconfig(root: &Path, layout: &Layout, version: &Version, libs: &str) -> Result {
    let prefix = layout
        .prefix
        .to_str()
        .ok_or("the prefix must be valid UTF-8")?;
    if prefix.contains(char::is_whitespace) {
        return Err(format!("pkg-config cannot handle a prefix with spaces: {prefix}").into());
    }
    install_template(
        &root.join("pkgconfig/fcontext.pc.in"),
        &[
            ("PREFIX", prefix),
            ("VERSION", &version.full),
            ("LIBS_PRIVATE", libs),
        ],
        &layout.pkgconfig.join("fcontext.pc"),
    )
}

fn install_cmake(root: &Path, layout: &Layout, version: &Version, libs: &str) -> Result {
    // CMake wants library names (`m`), not flags (`-lm`), in a ;-list.
    let cmake_libs: Vec<&str> = libs
        .split_whitespace()
        .map(|flag| flag.strip_prefix("-l").unwrap_or(flag))
        .collect();
    let pointer_size = std::mem::size_of::<usize>().to_string();
    let values = [
        ("VERSION", version.full.as_str()),
        ("VERSION_MAJOR", &version.major),
        ("VERSION_MINOR", &version.minor),
        ("SONAME", &version.soname()),
        ("SIZEOF_VOID_P", &pointer_size),
        ("STATIC_LINK_LIBS", &cmake_libs.join(";")),
    ];
    for name in ["fcontextConfig.cmake", "fcontextConfigVersion.cmake"] {
        install_template(
            &root.join("cmake").join(format!("{name}.in")),
            &values,
            &layout.cmake.join(name),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn prefix_from_flag_beats_environment() {
        let env = Some(PathBuf::from("/from/env"));
        let o = parse_args(&args(&["--prefix", "/a"]), env.clone()).unwrap();
        assert_eq!(o.unwrap().prefix, PathBuf::from("/a"));
        let o = parse_args(
            &args(&["--prefix=/b", "--features=no-fpu-control"]),
            env.clone(),
        );
        let o = o.unwrap().unwrap();
        assert_eq!(o.prefix, PathBuf::from("/b"));
        assert_eq!(o.features.as_deref(), Some("no-fpu-control"));
        let o = parse_args(&[], env).unwrap().unwrap();
        assert_eq!(o.prefix, PathBuf::from("/from/env"));
        let o = parse_args(&[], Some(PathBuf::new())).unwrap().unwrap();
        assert_eq!(o.prefix, util::target_dir().join("prefix"));
    }

    #[test]
    fn bad_arguments_are_errors() {
        for bad in [
            &["--prefix"][..],
            &["--prefix="],
            &["--frobnicate"],
            &["extra"],
        ] {
            let err = parse_args(&args(bad), None).unwrap_err().to_string();
            assert!(err.contains("usage:"), "{bad:?}: {err}");
        }
        assert_eq!(parse_args(&args(&["--help"]), None).unwrap(), None);
    }

    #[test]
    fn version_comes_from_the_package_table() {
        let manifest = "[workspace]\nversion = \"9.9.9\"\n[package]\nname = \"x\"\nversion = \"1.2.3\"\n[dependencies]\nversion = \"7\"\n";
        assert_eq!(package_version(manifest).as_deref(), Some("1.2.3"));
        assert_eq!(package_version("[package]\nname = \"x\"\n"), None);
    }

    #[test]
    fn header_defines_are_read_by_exact_name() {
        let h = "#define FCONTEXT_VERSION_MAJOR 4\n#define FCONTEXT_VERSION_MAJOR_X 5\n";
        assert_eq!(
            header_define(h, "FCONTEXT_VERSION_MAJOR").as_deref(),
            Some("4")
        );
        assert_eq!(header_define(h, "FCONTEXT_VERSION_MINOR"), None);
    }

    #[test]
    fn templates_fill_every_placeholder_or_fail() {
        let filled = fill("a=@A@ b=@B@ @A@ mail@host", &[("A", "1"), ("B", "2")]).unwrap();
        assert_eq!(filled, "a=1 b=2 1 mail@host");
        let err = fill("x=@MISSING_ONE@", &[("A", "1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("@MISSING_ONE@"), "{err}");
        // A stray `@` before the placeholder must not hide it.
        let err = fill("a@b @MISSING@", &[]).unwrap_err().to_string();
        assert!(err.contains("@MISSING@"), "{err}");
        assert_eq!(fill("no placeholders", &[]).unwrap(), "no placeholders");
    }

    /// Runs the filled version file the way find_package does, in CMake's
    /// script mode, and returns (compatible, exact, unsuitable).
    fn cmake_version_check(requested: &str, sizeof_void_p: &str) -> (bool, bool, bool) {
        let dir =
            util::fresh_work_dir(&format!("version-check-{requested}-{sizeof_void_p}")).unwrap();
        let template =
            fs::read_to_string(util::project_root().join("cmake/fcontextConfigVersion.cmake.in"))
                .unwrap();
        let values = [
            ("VERSION", "0.1.0"),
            ("VERSION_MAJOR", "0"),
            ("VERSION_MINOR", "1"),
            ("SIZEOF_VOID_P", "8"),
        ];
        fs::write(dir.join("version.cmake"), fill(&template, &values).unwrap()).unwrap();
        let mut parts = requested.split('.');
        let mut script = format!(
            "set(PACKAGE_FIND_VERSION \"{requested}\")\n\
             set(PACKAGE_FIND_VERSION_MAJOR \"{}\")\n\
             set(PACKAGE_FIND_VERSION_MINOR \"{}\")\n\
             set(CMAKE_SIZEOF_VOID_P {sizeof_void_p})\n",
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        script.push_str(
            "include(${CMAKE_CURRENT_LIST_DIR}/version.cmake)\n\
             message(\"[${PACKAGE_VERSION_COMPATIBLE}][${PACKAGE_VERSION_EXACT}][${PACKAGE_VERSION_UNSUITABLE}]\")\n",
        );
        fs::write(dir.join("check.cmake"), script).unwrap();
        let out = Command::new("cmake")
            .arg("-P")
            .arg(dir.join("check.cmake"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let truthy = |field: &str| field == "TRUE" || field == "1";
        let inner = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
        let fields: Vec<&str> = inner.unwrap_or_default().split("][").collect();
        assert_eq!(fields.len(), 3, "{text}");
        (truthy(fields[0]), truthy(fields[1]), truthy(fields[2]))
    }

    #[test]
    fn cmake_version_file_follows_cargo_semver_and_pointer_size() {
        if !util::have("cmake") {
            return util::skip("CMake version-file test", "cmake not found").unwrap();
        }
        // (requested, compatible, exact) against an installed 0.1.0.
        for (requested, compatible, exact) in [
            ("", true, false),
            ("0.1", true, false),
            ("0.1.0", true, true),
            ("0.0.9", false, false),
            ("0.2", false, false),
            ("1.0", false, false),
        ] {
            let (c, e, unsuitable) = cmake_version_check(requested, "8");
            assert_eq!(
                (c, e, unsuitable),
                (compatible, exact, false),
                "requested {requested:?}"
            );
        }
        // A 32-bit project must not pick up a 64-bit library.
        assert!(cmake_version_check("0.1", "4").2);
    }

    #[test]
    fn shipped_templates_have_values_for_every_placeholder() {
        let root = util::project_root();
        let values = [
            ("PREFIX", "/p"),
            ("VERSION", "1.2.3"),
            ("VERSION_MAJOR", "1"),
            ("VERSION_MINOR", "2"),
            ("SONAME", "libfcontext.so.1"),
            ("SIZEOF_VOID_P", "8"),
            ("LIBS_PRIVATE", "-lc"),
            ("STATIC_LINK_LIBS", "c"),
        ];
        for t in [
            "pkgconfig/fcontext.pc.in",
            "cmake/fcontextConfig.cmake.in",
            "cmake/fcontextConfigVersion.cmake.in",
        ] {
            let text = fs::read_to_string(root.join(t)).unwrap();
            assert!(text.contains('@'), "{t} has no placeholders");
            fill(&text, &values).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
    }
}
