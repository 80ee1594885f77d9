//! `cargo xtask matrix`: the cross-platform conformance matrix.
//!
//! For every target in `conformance/targets.ini` it assembles the target's
//! context-switch file and register helper, inspects the object (symbols,
//! sections, instruction stream), links `conformance/harness.c` with the
//! target's (cross) compiler, runs it natively, under qemu-user or under wine,
//! and runs the Boost interop pass where a Boost 1.74 binary for the target is
//! installed. It prints the table target x {assembled, linked, ran,
//! conformance, interop}; any failing cell fails the command. A cell that does
//! not apply, or whose tool is missing, reads `n/a` with a footnote; under
//! `FCONTEXT_REQUIRE_ALL=1` a missing tool is a failure instead.

use crate::util::{self, Result};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: cargo xtask matrix [--only NAME[,NAME...]] [--list]

Builds and runs the conformance harness for every target of
conformance/targets.ini (or only the named ones) and prints the table
target x {assembled, linked, ran, conformance, interop}. Fails if any cell
fails. FCONTEXT_REQUIRE_ALL=1 turns a missing tool into a failure.";

/// Keys a target section may use (documented at the top of targets.ini).
const KEYS: &[&str] = &[
    "about",
    "cc",
    "cflags",
    "asm",
    "asm_cmd",
    "regs",
    "libs",
    "exe",
    "run",
    "stack_align",
    "frame",
    "boost",
    "boost_deb",
    "interop_flags",
    "boost_frame",
    "interop_na",
    "cxx",
    "cxx_test",
    "symbols",
    "sections",
    "insns",
    "differs",
];

/// Keys every target must set.
const REQUIRED: &[&str] = &["about", "cc", "asm", "regs", "run", "frame"];

/// How long one harness run may take (qemu on a busy machine included).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// One `[name]` section of targets.ini.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Section name, e.g. `x86_64-linux-gnu`.
    pub name: String,
    keys: BTreeMap<String, String>,
}

impl Target {
    fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
    fn words(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// Parses targets.ini; `origin` names the file in errors.
pub fn parse_targets(text: &str, origin: &str) -> Result<Vec<Target>> {
    let mut targets: Vec<Target> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let at = || format!("{origin}:{}", n + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if targets.iter().any(|t| t.name == name) {
                return Err(format!("{}: target `{name}` defined twice", at()).into());
            }
            targets.push(Target {
                name: name.to_string(),
                keys: BTreeMap::new(),
            });
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("{}: expected `key = value` or `[target]`", at()).into());
        };
        let key = key.trim();
        if !KEYS.contains(&key) {
            return Err(format!("{}: unknown key `{key}`", at()).into());
        }
        let Some(target) = targets.last_mut() else {
            return Err(format!("{}: `{key}` before any [target]", at()).into());
        };
        if target
            .keys
            .insert(key.to_string(), value.trim().to_string())
            .is_some()
        {
            return Err(format!("{}: `{key}` set twice", at()).into());
        }
    }
    for t in &targets {
        for key in REQUIRED {
            if t.get(key).is_none() {
                return Err(format!("{origin}: target `{}` lacks `{key}`", t.name).into());
            }
        }
    }
    Ok(targets)
}

/// The state of one table cell.
#[derive(Debug, Clone)]
enum Cell {
    Pass,
    Fail(String),
    NotApplicable(String),
}

const COLUMNS: [&str; 5] = ["assembled", "linked", "ran", "conformance", "interop"];

/// A missing tool: n/a normally, a failure under FCONTEXT_REQUIRE_ALL=1.
fn missing(reason: String) -> Cell {
    if util::require_all() {
        Cell::Fail(format!("{reason} (FCONTEXT_REQUIRE_ALL=1)"))
    } else {
        Cell::NotApplicable(reason)
    }
}

/// `cargo xtask matrix`.
pub fn main(args: &[String]) -> Result {
    let mut only: Option<Vec<String>> = None;
    let mut list = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--list" => list = true,
            "--only" => {
                let v = it.next().ok_or("--only needs a value")?;
                only = Some(v.split(',').map(str::to_string).collect());
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}").into()),
        }
    }
    let root = util::project_root();
    let ini = root.join("conformance/targets.ini");
    let text = fs::read_to_string(&ini).map_err(|e| format!("{}: {e}", ini.display()))?;
    let mut targets = parse_targets(&text, "conformance/targets.ini")?;
    if list {
        for t in &targets {
            println!("{:<28} {}", t.name, t.get("about").unwrap_or(""));
        }
        return Ok(());
    }
    if let Some(names) = &only {
        for n in names {
            if !targets.iter().any(|t| &t.name == n) {
                return Err(
                    format!("no target `{n}`; `cargo xtask matrix --list` shows them").into(),
                );
            }
        }
        targets.retain(|t| names.contains(&t.name));
    }

    // One directory per run: the suite and a helper may run the matrix at once.
    let work = util::fresh_work_dir(&format!("matrix.{}", std::process::id()))?;
    let mut rows = Vec::new();
    for t in &targets {
        println!("matrix: {} ({})", t.name, t.get("about").unwrap_or(""));
        let dir = work.join(&t.name);
        fs::create_dir_all(&dir)?;
        let cells = run_target(&root, &dir, t);
        rows.push((t, cells));
    }
    let result = print_table(&rows);
    if result.is_ok() {
        let _ = fs::remove_dir_all(&work);
    } else {
        println!(
            "matrix: build products and harness output kept in {}",
            work.display()
        );
    }
    result
}

fn print_table(rows: &[(&Target, [Cell; 5])]) -> Result {
    let width = rows
        .iter()
        .map(|(t, _)| t.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut notes: Vec<String> = Vec::new();
    let mut failures = 0;
    println!();
    print!("{:<width$}", "target");
    for c in COLUMNS {
        print!("  {c:<12}");
    }
    println!();
    for (t, cells) in rows {
        print!("{:<width$}", t.name);
        for cell in cells {
            let text = match cell {
                Cell::Pass => "pass".to_string(),
                Cell::Fail(why) | Cell::NotApplicable(why) => {
                    let n = match notes.iter().position(|x| x == why) {
                        Some(i) => i + 1,
                        None => {
                            notes.push(why.clone());
                            notes.len()
                        }
                    };
                    if matches!(cell, Cell::Fail(_)) {
                        failures += 1;
                        format!("FAIL[{n}]")
                    } else {
                        format!("n/a[{n}]")
                    }
                }
            };
            print!("  {text:<12}");
        }
        println!();
    }
    if !notes.is_empty() {
        println!();
        for (i, n) in notes.iter().enumerate() {
            println!("[{}] {n}", i + 1);
        }
    }
    let differs: Vec<_> = rows
        .iter()
        .filter_map(|(t, _)| t.get("differs").map(|d| (t.name.as_str(), d)))
        .collect();
    if !differs.is_empty() {
        println!("\ndeliberate differences from Boost 1.74:");
        for (name, d) in differs {
            println!("  {name}: {d}");
        }
    }
    if failures > 0 {
        return Err(format!("{failures} cell(s) failed").into());
    }
    println!("\nmatrix: every applicable cell passed");
    Ok(())
}

/// Builds, inspects and runs one target; never panics, every problem is a cell.
fn run_target(root: &Path, dir: &Path, t: &Target) -> [Cell; 5] {
    let na = |why: &str| Cell::NotApplicable(why.to_string());
    let cc = t.words("cc");
    if !util::have(&cc[0]) {
        let m = missing(format!("{}: compiler `{}` not installed", t.name, cc[0]));
        return [m.clone(), m.clone(), m.clone(), m.clone(), m];
    }
    let cflags = t.words("cflags");
    let compile = |src: &Path, out: &Path| -> Command {
        let mut c = Command::new(&cc[0]);
        c.args(&cc[1..])
            .args(&cflags)
            .arg("-c")
            .arg(src)
            .arg("-o")
            .arg(out);
        c
    };

    // assembled: the asm file (own command for MASM), the regs helper, and
    // the object inspection.
    let asm = root.join(t.get("asm").unwrap_or_default());
    let asm_obj = dir.join("fcontext_asm.o");
    // asm_cmd: one or more commands joined by `&&`; {in}, {out} and {tmp}
    // (a scratch object) are replaced.
    let asm_cmds: Vec<Command> = match t.get("asm_cmd") {
        Some(template) => {
            let mut cmds = Vec::new();
            for part in template.split("&&") {
                let words: Vec<String> = part
                    .split_whitespace()
                    .map(|w| {
                        w.replace("{in}", &asm.to_string_lossy())
                            .replace("{out}", &asm_obj.to_string_lossy())
                            .replace("{tmp}", &dir.join("asm_tmp.obj").to_string_lossy())
                    })
                    .collect();
                if !util::have(&words[0]) {
                    let m = missing(format!("{}: tool `{}` not installed", t.name, words[0]));
                    return [m.clone(), m.clone(), m.clone(), m.clone(), m];
                }
                let mut c = Command::new(&words[0]);
                c.args(&words[1..]);
                cmds.push(c);
            }
            cmds
        }
        None => vec![compile(&asm, &asm_obj)],
    };
    let regs_obj = dir.join("regs.o");
    let assembled = asm_cmds
        .into_iter()
        .try_for_each(step)
        .and_then(|()| {
            step(compile(
                &root.join(t.get("regs").unwrap_or_default()),
                &regs_obj,
            ))
        })
        .and_then(|()| inspect(t, &asm_obj));
    if let Err(e) = assembled {
        let f = Cell::Fail(format!("{}: {e}", t.name));
        let after = na("not assembled");
        return [f, after.clone(), after.clone(), after.clone(), after];
    }
    let run = t.words("run");
    if run.first().map(String::as_str) == Some("none") {
        let why = na(&format!(
            "{}: assemble-only here (no linker/runtime for this target); symbols, sections and instructions inspected",
            t.name
        ));
        return [Cell::Pass, why.clone(), why.clone(), why.clone(), why];
    }

    // linked
    let exe = dir.join(format!("harness{}", t.get("exe").unwrap_or("")));
    let mut link = Command::new(&cc[0]);
    link.args(&cc[1..])
        .args(&cflags)
        .arg(root.join("conformance/harness.c"))
        .arg(&asm_obj)
        .arg(&regs_obj)
        .arg("-o")
        .arg(&exe)
        .args(
            t.words("libs")
                .iter()
                .map(|w| w.replace("{root}", &root.to_string_lossy())),
        );
    if let Err(e) = step(link) {
        let after = na("not linked");
        return [
            Cell::Pass,
            Cell::Fail(format!("{}: {e}", t.name)),
            after.clone(),
            after.clone(),
            after,
        ];
    }

    if run.first().map(String::as_str) == Some("link-only") {
        let why = na(&format!(
            "{}: linked, not run: {}",
            t.name,
            run[1..].join(" ")
        ));
        return [Cell::Pass, Cell::Pass, why.clone(), why.clone(), why];
    }

    // ran / conformance
    let runner = match Runner::new(&run) {
        Ok(r) => r,
        Err(why) => {
            let m = missing(format!("{}: {why}", t.name));
            return [Cell::Pass, Cell::Pass, m.clone(), m.clone(), m];
        }
    };
    let align = t.get("stack_align").unwrap_or("16");
    let frame = t.get("frame").unwrap_or_default();
    let (ran, conformance) = match runner.harness(
        &exe,
        &["--frame", frame, "--stack-align", align],
        &dir.join("conformance"),
    ) {
        Ok(out) => out.cells(&t.name),
        Err(e) => {
            let f = Cell::Fail(format!("{}: {e}", t.name));
            (f.clone(), f)
        }
    };

    // cxx_test: a C++ program linked with the asm object, run the same way;
    // its verdict is part of the conformance cell.
    let conformance = match (conformance, t.get("cxx_test")) {
        (Cell::Pass, Some(src)) => cxx_test(root, dir, t, src, &asm_obj, &runner),
        (c, _) => c,
    };

    // interop
    // `boost_deb`: the library comes from Debian packages of the target's
    // architecture, fetched and unpacked under the target dir.
    let boost = match (t.get("boost"), t.get("boost_deb")) {
        (Some(lib), Some(debs)) => debian_boost(&t.name, debs, lib).map(Some),
        (lib, _) => Ok(lib.map(str::to_string)),
    };
    let interop = match (boost.as_ref().map(Option::as_deref), t.get("boost_frame")) {
        (Err(e), _) => missing(format!("{}: {e}", t.name)),
        (Ok(None), _) => na(t
            .get("interop_na")
            .unwrap_or("no Boost binary for this target installed here")),
        (Ok(Some(_)), None) => Cell::Fail(format!("{}: `boost` set without `boost_frame`", t.name)),
        (Ok(Some(lib)), Some(bframe)) if Path::new(lib).is_file() => match runner.harness(
            &exe,
            &[
                "--interop",
                lib,
                "--boost-frame",
                bframe,
                "--stack-align",
                align,
            ]
            .into_iter()
            .chain(t.get("interop_flags").unwrap_or("").split_whitespace())
            .collect::<Vec<_>>(),
            &dir.join("interop"),
        ) {
            Ok(out) => out.cells(&t.name).1,
            Err(e) => Cell::Fail(format!("{}: {e}", t.name)),
        },
        (Ok(Some(lib)), Some(_)) => {
            missing(format!("{}: Boost library {lib} not installed", t.name))
        }
    };
    [Cell::Pass, Cell::Pass, ran, conformance, interop]
}

/// Builds `src` (a C++ program under conformance/) with the row's `cxx` and
/// `cflags` and the assembled object, runs it like the harness and returns
/// its verdict (it prints the harness's start line and PASS/FAIL summary).
fn cxx_test(
    root: &Path,
    dir: &Path,
    t: &Target,
    src: &str,
    asm_obj: &Path,
    runner: &Runner,
) -> Cell {
    let cxx = t.words("cxx");
    let Some(program) = cxx.first() else {
        return Cell::Fail(format!("{}: `cxx_test` set without `cxx`", t.name));
    };
    if !util::have(program) {
        return missing(format!(
            "{}: C++ compiler `{program}` not installed",
            t.name
        ));
    }
    let exe = dir.join(format!("cxx_test{}", t.get("exe").unwrap_or("")));
    let mut build = Command::new(program);
    build
        .args(&cxx[1..])
        .args(t.words("cflags"))
        .arg(root.join(src))
        .arg(asm_obj)
        .arg("-o")
        .arg(&exe);
    if let Err(e) = step(build) {
        return Cell::Fail(format!("{}: {src} did not build: {e}", t.name));
    }
    match runner.harness(&exe, &[], &dir.join("cxx_test")) {
        Ok(out) => match out.cells(&t.name) {
            (_, Cell::Fail(why)) => Cell::Fail(format!("{src}: {why}")),
            (_, c) => c,
        },
        Err(e) => Cell::Fail(format!("{}: {src}: {e}", t.name)),
    }
}

/// Runs a build command quietly; on failure the error carries its output.
fn step(mut cmd: Command) -> Result {
    util::output(&mut cmd).map(|_| ())
}

/// Checks the assembled object: defined global symbols, sections, mnemonics.
fn inspect(t: &Target, obj: &Path) -> Result {
    let symbols = t.words("symbols");
    let sections = t.words("sections");
    let insns = t.words("insns");
    if symbols.is_empty() && sections.is_empty() && insns.is_empty() {
        return Ok(());
    }
    for tool in ["llvm-nm", "llvm-objdump"] {
        if !util::have(tool) {
            return Err(format!("`{tool}` not installed (package llvm)").into());
        }
    }
    if !symbols.is_empty() {
        let nm = util::output(Command::new("llvm-nm").arg("--defined-only").arg(obj))?;
        for s in &symbols {
            // "ADDR T name": an upper-case type letter means global.
            let found = nm.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() == 3 && f[2] == s && f[1].chars().all(|c| c.is_ascii_uppercase())
            });
            if !found {
                return Err(format!("symbol `{s}` not defined globally in the object").into());
            }
        }
    }
    if !sections.is_empty() {
        let h = util::output(Command::new("llvm-objdump").arg("-h").arg(obj))?;
        for s in &sections {
            if !h
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(s.as_str()))
            {
                return Err(format!("section `{s}` missing from the object").into());
            }
        }
    }
    if !insns.is_empty() {
        let d = util::output(Command::new("llvm-objdump").arg("-d").arg(obj))?;
        for i in &insns {
            // Disassembly lines are "addr: bytes<TAB>mnemonic<TAB>operands".
            let found = d.lines().any(|l| {
                l.split('\t')
                    .any(|f| f.split_whitespace().next() == Some(i.as_str()))
            });
            if !found {
                return Err(format!("instruction `{i}` not in the disassembly").into());
            }
        }
    }
    Ok(())
}

/// How a harness executable is started.
struct Runner {
    prefix: Vec<String>,
    env: Vec<(String, PathBufOrStr)>,
}

/// An environment value (a path or plain text).
type PathBufOrStr = std::ffi::OsString;

impl Runner {
    fn new(run: &[String]) -> std::result::Result<Runner, String> {
        let Some(first) = run.first() else {
            return Err("empty `run`".into());
        };
        match first.as_str() {
            "native" => Ok(Runner {
                prefix: vec![],
                env: vec![],
            }),
            "wine" | "wine32" => {
                if !util::have("wine") {
                    return Err("`wine` not installed (packages wine, wine64)".into());
                }
                if first == "wine32" && !Path::new("/usr/lib/wine/wine").is_file() {
                    return Err(
                        "32-bit wine loader /usr/lib/wine/wine not installed (package wine32:i386)"
                            .into(),
                    );
                }
                let prefix = wine_prefix()?;
                Ok(Runner {
                    prefix: vec!["wine".into()],
                    env: wine_env(&prefix),
                })
            }
            program => {
                if !util::have(program) {
                    return Err(format!("runner `{program}` not installed"));
                }
                Ok(Runner {
                    prefix: run.to_vec(),
                    env: vec![],
                })
            }
        }
    }

    /// Runs the harness with `args`, output captured to `<log>.out/.err`.
    fn harness(&self, exe: &Path, args: &[&str], log: &Path) -> Result<RunOutput> {
        let out_path = log.with_extension("out");
        let err_path = log.with_extension("err");
        let mut cmd = match self.prefix.split_first() {
            Some((p, rest)) => {
                let mut c = Command::new(p);
                c.args(rest).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        cmd.args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(File::create(&out_path)?)
            .stderr(File::create(&err_path)?);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if start.elapsed() > RUN_TIMEOUT {
                // Our own child: stop it and report the hang.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Ok(RunOutput {
            success: status.is_some_and(|s| s.success()),
            timed_out: status.is_none(),
            status: status.map(|s| s.to_string()).unwrap_or_default(),
            stdout: fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: fs::read_to_string(&err_path).unwrap_or_default(),
        })
    }
}

/// What a harness run printed and how it ended.
struct RunOutput {
    success: bool,
    timed_out: bool,
    status: String,
    stdout: String,
    stderr: String,
}

impl RunOutput {
    /// The `ran` and result cells: ran = the harness printed its start line;
    /// result = exit 0 with the PASS summary.
    fn cells(&self, name: &str) -> (Cell, Cell) {
        // The harness (or its emulation layer) could not run on this machine.
        if let Some(line) = self
            .stdout
            .lines()
            .find(|l| l.starts_with("fc-harness: unavailable:"))
        {
            let m = missing(format!("{name}: {}", &line["fc-harness: ".len()..]));
            return (m.clone(), m);
        }
        let started = self.stdout.contains("fc-harness: started");
        let fails: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| l.starts_with("FAIL"))
            .collect();
        let tail = || {
            let err: Vec<&str> = self.stderr.lines().rev().take(3).collect();
            err.into_iter().rev().collect::<Vec<_>>().join(" | ")
        };
        let ran = if started {
            Cell::Pass
        } else {
            Cell::Fail(format!(
                "{name}: harness did not start ({}) {}",
                self.status,
                tail()
            ))
        };
        let result = if self.timed_out {
            Cell::Fail(format!(
                "{name}: timed out after {}s",
                RUN_TIMEOUT.as_secs()
            ))
        } else if self.success && self.stdout.contains("fc-harness: PASS") {
            Cell::Pass
        } else if !fails.is_empty() {
            Cell::Fail(format!("{name}: {}", fails.join("; ")))
        } else {
            Cell::Fail(format!(
                "{name}: harness ended without a PASS summary ({}) {}",
                self.status,
                tail()
            ))
        };
        for l in self.stdout.lines() {
            if l.starts_with("FAIL") || l.starts_with("info") {
                println!("  {l}");
            }
        }
        (ran, result)
    }
}

/// The Boost library `lib` (its path inside the package) from the Debian
/// packages `debs` (space-separated, e.g. `libboost-context1.74.0:armhf`),
/// downloaded with `apt-get download` and unpacked with `dpkg -x` under
/// `<target>/xtask/debs/<row>` once. The architecture must be known to apt
/// (`dpkg --add-architecture ARCH && apt-get update`, as `.ci/run` does).
fn debian_boost(row: &str, debs: &str, lib: &str) -> std::result::Result<String, String> {
    let dir = util::target_dir().join("xtask").join("debs").join(row);
    let root = dir.join("root");
    // The package list the unpacked tree came from, written last: a tree
    // without it (an interrupted unpack) or from other packages is redone.
    let stamp = dir.join("packages");
    let path = root.join(lib.trim_start_matches('/'));
    if path.is_file() && fs::read_to_string(&stamp).is_ok_and(|s| s == debs) {
        return Ok(path.display().to_string());
    }
    for tool in ["apt-get", "dpkg"] {
        if !util::have(tool) {
            return Err(format!(
                "`{tool}` not found (a Debian system is needed for {debs})"
            ));
        }
    }
    let _ = fs::remove_dir_all(&dir);
    let unpacking = dir.join("root.tmp");
    fs::create_dir_all(&unpacking)
        .map_err(|e| format!("cannot create {}: {e}", unpacking.display()))?;
    let fetched = Command::new("apt-get")
        .arg("download")
        .args(debs.split_whitespace())
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if !fetched.status.success() {
        let arch = debs
            .split_whitespace()
            .find_map(|d| d.split_once(':'))
            .map(|(_, a)| a);
        return Err(format!(
            "apt-get download {debs} failed ({}){}: {}",
            fetched.status,
            arch.map(|a| format!(
                "; is the architecture known to apt? `dpkg --add-architecture {a} && apt-get update`"
            ))
            .unwrap_or_default(),
            String::from_utf8_lossy(&fetched.stderr).trim()
        ));
    }
    let packages = fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"));
    for deb in packages {
        let status = Command::new("dpkg")
            .arg("-x")
            .arg(&deb)
            .arg(&unpacking)
            .status()
            .map_err(|e| format!("cannot run dpkg: {e}"))?;
        if !status.success() {
            return Err(format!("dpkg -x {} failed ({status})", deb.display()));
        }
    }
    fs::rename(&unpacking, &root).map_err(|e| format!("cannot move the unpacked tree: {e}"))?;
    if !path.is_file() {
        return Err(format!("{lib} is not in {debs}"));
    }
    fs::write(&stamp, debs).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(path.display().to_string())
}

fn wine_env(prefix: &Path) -> Vec<(String, PathBufOrStr)> {
    vec![
        ("WINEPREFIX".into(), prefix.as_os_str().to_owned()),
        ("WINEDEBUG".into(), "-all".into()),
        ("WINEDLLOVERRIDES".into(), "mscoree,mshtml=".into()),
    ]
}

/// A writable wine prefix under the target dir, initialised once (the first
/// wineboot takes a while; later runs reuse it).
fn wine_prefix() -> std::result::Result<PathBuf, String> {
    let prefix = util::target_dir().join("xtask").join("wineprefix");
    // A prefix made before wine32 was installed lacks its 32-bit half
    // (32-bit programs then fail to load kernel32.dll): make it again.
    let wants_wow64 = Path::new("/usr/lib/wine/wine").is_file();
    let has_wow64 = prefix
        .join("drive_c/windows/syswow64/kernel32.dll")
        .is_file();
    if prefix.join("system.reg").is_file() && (has_wow64 || !wants_wow64) {
        return Ok(prefix);
    }
    if prefix.exists() {
        println!(
            "matrix: wine prefix {} has no 32-bit half; making it again",
            prefix.display()
        );
        fs::remove_dir_all(&prefix)
            .map_err(|e| format!("cannot remove {}: {e}", prefix.display()))?;
    }
    fs::create_dir_all(&prefix).map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    println!(
        "matrix: initialising wine prefix {} (once)",
        prefix.display()
    );
    let mut boot = Command::new("wine");
    boot.arg("wineboot")
        .arg("-i")
        .envs(wine_env(&prefix))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let status = boot
        .status()
        .map_err(|e| format!("cannot start wineboot: {e}"))?;
    // The registry reaches the disk when the wine server exits; wait for it.
    let _ = Command::new("wineserver")
        .arg("-w")
        .envs(wine_env(&prefix))
        .status();
    if !status.success() || !prefix.join("system.reg").is_file() {
        return Err(format!(
            "wineboot failed ({status}) for {}",
            prefix.display()
        ));
    }
    Ok(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_and_keys() {
        let text = "# c\n[a]\nabout = x\ncc = gcc -m32\nasm = f.S\nregs = r.S\nrun = native\nframe = 0/16/0x40\n";
        let t = parse_targets(text, "t.ini").unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].name, "a");
        assert_eq!(t[0].words("cc"), vec!["gcc", "-m32"]);
    }

    #[test]
    fn rejects_unknown_keys_missing_keys_and_duplicates() {
        let base =
            "[a]\nabout = x\ncc = gcc\nasm = f.S\nregs = r.S\nrun = native\nframe = 0/16/0\n";
        let err = |text: &str| parse_targets(text, "t.ini").unwrap_err().to_string();
        assert!(err(&format!("{base}colour = red\n")).contains("unknown key `colour`"));
        assert!(err("[a]\nabout = x\n").contains("lacks `cc`"));
        assert!(err(&format!("{base}{base}")).contains("defined twice"));
        assert!(err("cc = gcc\n").contains("before any [target]"));
        assert!(err(&format!("{base}cc = clang\n")).contains("set twice"));
    }

    #[test]
    fn the_real_targets_file_parses() {
        let path = util::project_root().join("conformance/targets.ini");
        let text = fs::read_to_string(path).unwrap();
        let targets = parse_targets(&text, "targets.ini").unwrap();
        assert!(targets.iter().any(|t| t.name == "x86_64-linux-gnu"));
    }
}
