//! `cargo xtask bench`: every benchmark, then `docs/BENCHMARKS.md` and its plots.
//!
//! 1. Builds `libfcontext.so` twice (default and `--features no-fpu-control`).
//! 2. Runs the C-ABI benchmark `bench/c/fcbench.c` against them and Debian's
//!    Boost 1.74 `libboost_context.so`, on x86_64 and (when the i386 compiler,
//!    assembly file and Boost binary are present) on i386, where the library
//!    is just the assembly file linked as a shared object: the Rust crate
//!    cannot be built for i386 here (no i686 Rust standard library).
//! 3. Runs the criterion benchmarks of the separate `bench/` workspace, and
//!    the round trips again in interleaved rounds (`bench` binary `rounds`).
//! 4. Runs the memory figures (`bench` binary `memory`) and the main crate's
//!    `copystack_bench` example.
//! 5. Writes the report with the `bench` binary `report`.
//!
//! Raw results go to `<target>/bench/results`. About 5-8 minutes on two cores.

use crate::util::{cargo, have, output, project_root, run, target_dir, tool, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const HELP: &str = "usage: cargo xtask bench [--quick]

Runs the C-ABI benchmark (ours, ours with no-fpu-control, Boost 1.74; x86_64 and i386),
the criterion benchmarks of bench/, the memory and copy-stack figures, and writes
docs/BENCHMARKS.md with PNG plots. --quick: fewer rounds and shorter measurements (a smoke
run; do not commit its report).";

const BOOST_X86_64: &str = "/usr/lib/x86_64-linux-gnu/libboost_context.so.1.74.0";
const BOOST_I386: &str = "/usr/lib/i386-linux-gnu/libboost_context.so.1.74.0";

/// Entry point of `cargo xtask bench`.
pub fn main(args: &[String]) -> Result {
    let mut quick = false;
    for a in args {
        match a.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!("{HELP}");
                return Ok(());
            }
            _ => return Err(format!("unknown argument `{a}`\n\n{HELP}").into()),
        }
    }
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return Err("the benchmark compares against Debian's x86_64/i386 Boost binaries: run it on x86_64 Linux".into());
    }
    let root = project_root();
    let target = target_dir();
    let results = target.join("bench").join("results");
    if results.exists() {
        fs::remove_dir_all(&results)?;
    }
    fs::create_dir_all(&results)?;
    let rounds = if quick { "9" } else { "21" };

    // 1. The two x86_64 libraries.
    run(cargo().args(["build", "--release", "-p", "fcontext"]))?;
    let fast_dir = target.join("bench-fast");
    run(cargo()
        .args([
            "build",
            "--release",
            "-p",
            "fcontext",
            "--features",
            "no-fpu-control",
            "--target-dir",
        ])
        .arg(&fast_dir))?;
    let ours = target.join("release").join("libfcontext.so");
    let fast = fast_dir.join("release").join("libfcontext.so");

    // 2. C ABI, x86_64.
    let src = root.join("bench").join("c").join("fcbench.c");
    let bin_dir = target.join("bench");
    let fcbench = bin_dir.join("fcbench-x86_64");
    run(tool("CC", "cc")
        .args(["-O2", "-o"])
        .arg(&fcbench)
        .arg(&src)
        .arg("-ldl"))?;
    if !Path::new(BOOST_X86_64).is_file() {
        return Err(
            format!("{BOOST_X86_64} is missing (Debian package libboost-context1.74.0)").into(),
        );
    }
    c_bench(
        &fcbench,
        rounds,
        &results.join("c-x86_64.tsv"),
        &ours,
        &fast,
        Path::new(BOOST_X86_64),
    )?;

    // 2b. C ABI, i386: a shared object made of the assembly alone.
    i386(&root, &bin_dir, &src, rounds, &results)?;

    // 3. Criterion.
    let bench_ws = root.join("bench");
    let manifest = bench_ws.join("Cargo.toml");
    let (warm, measure) = if quick { ("0.5", "1") } else { ("1", "3") };
    run(cargo()
        .args(["bench", "--manifest-path"])
        .arg(&manifest)
        .args(["--bench", "switch", "--bench", "context_crate", "--"])
        .args(["--warm-up-time", warm, "--measurement-time", measure]))?;

    // 3b. Interleaved round trips (the ratios the targets are judged on),
    // with the context crate loaded from its own shared object.
    run(cargo()
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .args(["-p", "context-ffi"]))?;
    let ffi = bench_ws
        .join("target")
        .join("release")
        .join("libcontext_ffi.so");
    run(cargo()
        .args(["run", "--release", "--manifest-path"])
        .arg(&manifest)
        .args(["--bin", "rounds", "--", "--rounds", rounds, "--tsv"])
        .arg(results.join("rounds.tsv"))
        .arg("--context-ffi")
        .arg(&ffi))?;

    // 4. Memory and copy-stack figures.
    let memory_tsv = results.join("memory.tsv");
    run(cargo()
        .args(["run", "--release", "--manifest-path"])
        .arg(&manifest)
        .args(["--bin", "memory", "--", "--tsv"])
        .arg(&memory_tsv))?;
    copystack(&results, &memory_tsv)?;

    // 5. The report.
    run(cargo()
        .args(["run", "--release", "--manifest-path"])
        .arg(&manifest)
        .args(["--bin", "report", "--", "--results"])
        .arg(&results)
        .arg("--criterion")
        .arg(bench_ws.join("target").join("criterion"))
        .arg("--out")
        .arg(root.join("docs")))?;
    println!("xtask bench: wrote docs/BENCHMARKS.md and docs/bench-*.png");
    Ok(())
}

fn c_bench(
    fcbench: &Path,
    rounds: &str,
    tsv: &Path,
    ours: &Path,
    fast: &Path,
    boost: &Path,
) -> Result {
    let arg = |name: &str, p: &Path| format!("{name}={}", p.display());
    run(Command::new(fcbench)
        .args(["--rounds", rounds, "--tsv"])
        .arg(tsv)
        .arg(arg("ours", ours))
        .arg(arg("fast", fast))
        .arg(arg("boost", boost)))
}

/// The i386 run, or a `c-i386.na` file saying why there is none.
fn i386(root: &Path, bin_dir: &Path, src: &Path, rounds: &str, results: &Path) -> Result {
    let asm = root.join("asm").join("i386_sysv_elf_gas.S");
    let cc = "i686-linux-gnu-gcc";
    let missing = if !have(cc) {
        Some(format!(
            "{cc} not found (Debian package gcc-i686-linux-gnu)"
        ))
    } else if !asm.is_file() {
        Some("asm/i386_sysv_elf_gas.S does not exist".to_string())
    } else if !Path::new(BOOST_I386).is_file() {
        Some(format!(
            "{BOOST_I386} is missing (Debian package libboost-context1.74.0:i386)"
        ))
    } else {
        None
    };
    if let Some(reason) = missing {
        println!("xtask bench: no i386 run: {reason}");
        fs::write(results.join("c-i386.na"), reason)?;
        return Ok(());
    }
    let dir = bin_dir.join("i386");
    fs::create_dir_all(&dir)?;
    let ours = dir.join("libfcontext.so");
    let fast = dir.join("libfcontext-fast.so");
    run(Command::new(cc)
        .args(["-shared", "-o"])
        .arg(&ours)
        .arg(&asm))?;
    run(Command::new(cc)
        .args(["-shared", "-DFCONTEXT_NO_FPU_CONTROL", "-o"])
        .arg(&fast)
        .arg(&asm))?;
    let fcbench = dir.join("fcbench");
    run(Command::new(cc)
        .args(["-O2", "-o"])
        .arg(&fcbench)
        .arg(src)
        .arg("-ldl"))?;
    let version = output(Command::new(cc).arg("--version"))?;
    fs::write(
        results.join("c-i386.about"),
        format!(
            "`libfcontext.so` here is `asm/i386_sysv_elf_gas.S` alone, linked with `{cc} -shared` ({}), \
             and again with `-DFCONTEXT_NO_FPU_CONTROL`: the Rust crate cannot be built for i386 on this \
             machine (no i686 Rust standard library), and the three fcontext functions are all assembly. \
             Against `{BOOST_I386}`; the i386 programs run natively.",
            version.lines().next().unwrap_or(cc)
        ),
    )?;
    c_bench(
        &fcbench,
        rounds,
        &results.join("c-i386.tsv"),
        &ours,
        &fast,
        Path::new(BOOST_I386),
    )
}

/// Runs the main crate's `copystack_bench` example: its cost table becomes
/// `copystack.tsv`, its scale row is appended to the memory figures.
fn copystack(results: &Path, memory_tsv: &PathBuf) -> Result {
    let tsv_lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let cost = output(cargo().args([
        "run",
        "--release",
        "--example",
        "copystack_bench",
        "--",
        "cost",
    ]))?;
    fs::write(
        results.join("copystack.tsv"),
        tsv_lines(&cost).join("\n") + "\n",
    )?;

    // Columns: kind count bytes_per_coroutine saved_bytes ... note; memory.tsv
    // keeps kind, count, bytes_per_coroutine and note.
    let scale = output(cargo().args([
        "run",
        "--release",
        "--example",
        "copystack_bench",
        "--",
        "scale",
    ]))?;
    let lines = tsv_lines(&scale);
    let head: Vec<&str> = lines
        .first()
        .ok_or("copystack_bench scale printed nothing")?
        .split('\t')
        .collect();
    let col = |name: &str| {
        head.iter()
            .position(|h| *h == name)
            .ok_or(format!("copystack_bench scale: no `{name}` column"))
    };
    let (k, c, b, n) = (
        col("kind")?,
        col("count")?,
        col("bytes_per_coroutine")?,
        col("note")?,
    );
    let mut mem = fs::read_to_string(memory_tsv)?;
    for l in &lines[1..] {
        let f: Vec<&str> = l.split('\t').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        // Its own kind: the example's coroutines keep less live stack than memory.rs's.
        mem.push_str(&format!(
            "{}-example\t{}\t{}\t{}\n",
            get(k),
            get(c),
            get(b),
            get(n)
        ));
    }
    fs::write(memory_tsv, mem)?;
    Ok(())
}
