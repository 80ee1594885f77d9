//! Acceptance checks of an installed fcontext (run by `cargo xtask install`
//! and the install step of `cargo xtask test`): `examples/c/pingpong.cpp`
//! built and run against the prefix through pkg-config (shared and static)
//! and CMake's `find_package(fcontext)`, `examples/c/squares.c` against the
//! bare archive, and a compiled Boost library rebound to the installed
//! libfcontext. The installer itself is [`crate::install`].

use crate::install::{read_version, Layout, Version};
use crate::util::{self, Result};
use std::path::Path;
use std::process::Command;

/// What `examples/c/pingpong.cpp` prints when it works: the first ten
/// Fibonacci numbers, the first five again after the restart, then its
/// closing lines.
const EXAMPLE_OUTPUT: &str = "\
fibonacci: 0 1 1 2 3 5 8 13 21 34
restarted on the generator's stack by ontop_fcontext: 0 1 1 2 3
generator stopped, stack released
pingpong: ok
";

/// What `examples/c/squares.c` prints: the squares of 1..5 and their sum.
const SQUARES_OUTPUT: &str = "squares: 1 4 9 16 25\nsum: 55\n";

/// Builds the example through pkg-config (shared, then static) and CMake and
/// runs every build against the installed library.
pub fn check_example(root: &Path, layout: &Layout, version: &Version) -> Result<bool> {
    let source = root.join("examples/c/pingpong.cpp");
    let work = util::fresh_work_dir("example")?;
    let pkg_config = util::tool("PKG_CONFIG", "pkg-config");
    if !util::have(pkg_config.get_program()) {
        return Err("pkg-config not found (Debian: apt-get install pkg-config)".into());
    }
    let pkg = |args: &[&str]| -> Result<Vec<String>> {
        let mut cmd = util::tool("PKG_CONFIG", "pkg-config");
        cmd.env("PKG_CONFIG_PATH", &layout.pkgconfig).args(args);
        Ok(util::output(&mut cmd)?
            .split_whitespace()
            .map(str::to_string)
            .collect())
    };
    let found = pkg(&["--modversion", "fcontext"])?.join(" ");
    if found != version.full {
        return Err(format!(
            "pkg-config finds fcontext {found}, expected {}",
            version.full
        )
        .into());
    }

    println!("==> example through pkg-config, shared library");
    let shared = work.join("pingpong-shared");
    let mut flags = pkg(&["--cflags", "--libs", "fcontext"])?;
    flags.push(format!("-Wl,-rpath,{}", layout.lib.display()));
    compile(&source, &shared, &flags)?;
    run_example(&shared, layout, Some(&version.soname()), EXAMPLE_OUTPUT)?;

    println!("==> example through pkg-config --static, static library");
    let statik = work.join("pingpong-static");
    // `-l:libfcontext.a` makes the linker take the archive although the .so
    // sits next to it; the rest is what `--static` adds (Libs.private).
    let flags: Vec<String> = pkg(&["--cflags", "--static", "--libs", "fcontext"])?
        .into_iter()
        .map(|f| {
            if f == "-lfcontext" {
                "-l:libfcontext.a".into()
            } else {
                f
            }
        })
        .collect();
    compile(&source, &statik, &flags)?;
    run_example(&statik, layout, None, EXAMPLE_OUTPUT)?;

    println!("==> C example linked with nothing but the archive");
    let plain = work.join("squares");
    let flags = [
        format!("-I{}", layout.include.display()),
        layout.lib.join("libfcontext.a").display().to_string(),
    ];
    compile(&root.join("examples/c/squares.c"), &plain, &flags)?;
    run_example(&plain, layout, None, SQUARES_OUTPUT)?;

    println!("==> example through CMake find_package(fcontext)");
    check_cmake(root, layout, version)
}

/// Compiles and links `source` with `$CXX` (C++) or `$CC` (C), warnings as errors.
fn compile(source: &Path, out: &Path, flags: &[String]) -> Result {
    let mut cxx = if source.extension().is_some_and(|e| e == "c") {
        util::tool("CC", "cc")
    } else {
        util::tool("CXX", "c++")
    };
    cxx.args(["-O2", "-Wall", "-Wextra", "-Werror"])
        .arg(source)
        .arg("-o")
        .arg(out)
        .args(flags);
    util::run(&mut cxx)
}

/// Runs an example binary and checks its exit status and output. With
/// `soname`, the binary must load that library from the prefix; without, it
/// must not depend on any libfcontext.so at all.
fn run_example(binary: &Path, layout: &Layout, soname: Option<&str>, expected: &str) -> Result {
    // Ask the dynamic loader which libraries it would map (what ldd does),
    // with any LD_LIBRARY_PATH removed so only the binary's own paths count.
    let loaded = util::output(
        Command::new(binary)
            .env_remove("LD_LIBRARY_PATH")
            .env("LD_TRACE_LOADED_OBJECTS", "1"),
    )?;
    let fcontext_line = loaded.lines().find(|l| l.contains("libfcontext"));
    match (soname, fcontext_line) {
        (None, None) => {}
        (None, Some(line)) => {
            return Err(format!(
                "{} should be statically linked but loads {}",
                binary.display(),
                line.trim()
            )
            .into())
        }
        (Some(soname), line) => {
            let want = format!("{soname} => {}", layout.lib.join(soname).display());
            if !line.is_some_and(|l| l.trim().starts_with(&want)) {
                return Err(format!(
                    "{} does not load the installed library (expected `{want}`), loader says:\n{loaded}",
                    binary.display()
                )
                .into());
            }
        }
    }
    let out = Command::new(binary)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines() {
        println!("  | {line}");
    }
    if !out.status.success() || stdout != expected {
        return Err(format!(
            "{} failed ({}); stderr:\n{}\nexpected output:\n{expected}",
            binary.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// Configures `examples/c/CMakeLists.txt` against the prefix, builds the
/// shared and static variants and runs them.
fn check_cmake(root: &Path, layout: &Layout, version: &Version) -> Result<bool> {
    let cmake = util::tool("CMAKE", "cmake");
    if !util::have(cmake.get_program()) {
        util::skip("CMake consumer check", "cmake not found")?;
        return Ok(false);
    }
    let build = util::fresh_work_dir("cmake-example")?;
    let mut configure = util::tool("CMAKE", "cmake");
    configure
        .arg("-S")
        .arg(root.join("examples/c"))
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", layout.prefix.display()))
        .arg("-DCMAKE_BUILD_TYPE=Release")
        .arg("-DCMAKE_COMPILE_WARNING_AS_ERROR=ON");
    util::output(&mut configure)?;
    util::run(util::tool("CMAKE", "cmake").arg("--build").arg(&build))?;
    run_example(
        &build.join("pingpong"),
        layout,
        Some(&version.soname()),
        EXAMPLE_OUTPUT,
    )?;
    run_example(&build.join("pingpong_static"), layout, None, EXAMPLE_OUTPUT)?;
    Ok(true)
}

/// What `examples/c/boost_coroutine.cpp` prints when it works.
const BOOST_COROUTINE_OUTPUT: &str = "boost_coroutine: sum of 1..10 = 55\n";

/// A compiled Boost library (Debian's `libboost_coroutine`, which depends on
/// `libboost_context.so`) must call our fcontext functions once the program
/// links `-lfcontext` first: checked with the loader's own binding log.
pub fn check_boost_library_rebinding(prefix: &Path) -> Result {
    let layout = Layout::new(prefix.to_path_buf());
    let source = util::project_root().join("examples/c/boost_coroutine.cpp");
    let probe = util::tool("CXX", "c++")
        .args(["-x", "c++", "-E", "-o", "/dev/null", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin is piped");
            stdin.write_all(
                b"#define BOOST_ALLOW_DEPRECATED_HEADERS\n#include <boost/coroutine/asymmetric_coroutine.hpp>\n",
            )?;
            drop(stdin);
            child.wait()
        });
    if !probe.is_ok_and(|status| status.success()) {
        return util::skip(
            "compiled Boost library rebinding",
            "Boost.Coroutine headers not found (Debian: libboost-coroutine-dev)",
        );
    }
    let work = util::fresh_work_dir("boost-rebinding")?;
    let binary = work.join("boost_coroutine");
    let lib = layout.lib.display();
    compile(
        &source,
        &binary,
        &[
            format!("-I{}", layout.include.display()),
            format!("-L{lib}"),
            format!("-Wl,-rpath,{lib}"),
            "-Wl,--no-as-needed".into(),
            "-lfcontext".into(),
            "-Wl,--as-needed".into(),
            "-lboost_coroutine".into(),
        ],
    )?;
    let out = Command::new(&binary)
        .env_remove("LD_LIBRARY_PATH")
        .env("LD_DEBUG", "bindings")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("  | {stdout}");
    if !out.status.success() || stdout != BOOST_COROUTINE_OUTPUT {
        return Err(format!("{} failed ({})", binary.display(), out.status).into());
    }
    // glibc logs "binding file <from> [0] to <to> [0]: normal symbol `name'".
    let ours = layout
        .lib
        .join(read_version(&util::project_root())?.soname());
    let log = String::from_utf8_lossy(&out.stderr);
    for symbol in ["make_fcontext", "jump_fcontext"] {
        let line = log
            .lines()
            .find(|l| l.contains("libboost_coroutine") && l.ends_with(&format!("`{symbol}'")))
            .ok_or_else(|| format!("libboost_coroutine never bound {symbol}"))?;
        let target = line.split(" to ").nth(1).unwrap_or_default();
        if !target.starts_with(&ours.display().to_string()) {
            return Err(format!(
                "libboost_coroutine bound {symbol} elsewhere: {}",
                line.trim()
            )
            .into());
        }
        println!("  libboost_coroutine: {symbol} -> {}", ours.display());
    }
    Ok(())
}
