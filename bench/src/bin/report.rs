//! Writes `docs/BENCHMARKS.md` and its PNG plots from the results that
//! `cargo xtask bench` collected: the C-ABI benchmark's TSV files, criterion's
//! estimates and the memory and copy-stack TSV files.
//!
//! Usage: report --results DIR --criterion DIR --out DIR
//!
//! Every figure is taken as measured; a missing input becomes an "n/a" with
//! the reason in the report, never an invented number.

use fcontext_bench::{field_f64, median_of_criterion, read_tsv, Table};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// libaco's published copy-stack switch cost (its README, AWS c5d.large,
/// gcc -O2): (saved stack bytes, ns per switch). Other hardware than ours.
const LIBACO_PUBLISHED: [(f64, f64); 7] = [
    (8.0, 33.0),
    (120.0, 38.0),
    (488.0, 91.0),
    (1000.0, 211.0),
    (2024.0, 350.0),
    (4072.0, 596.0),
    (7992.0, 1090.0),
];

/// The font the plots use; Debian package `fonts-dejavu-core`.
const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

type Res<T = ()> = Result<T, String>;

struct Args {
    results: PathBuf,
    criterion: PathBuf,
    out: PathBuf,
}

fn parse_args() -> Res<Args> {
    let mut results = None;
    let mut criterion = None;
    let mut out = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--results" => results = Some(PathBuf::from(value()?)),
            "--criterion" => criterion = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            _ => {
                return Err(format!(
                "unknown argument `{a}` (usage: report --results DIR --criterion DIR --out DIR)"
            ))
            }
        }
    }
    Ok(Args {
        results: results.ok_or("--results DIR is required")?,
        criterion: criterion.ok_or("--criterion DIR is required")?,
        out: out.ok_or("--out DIR is required")?,
    })
}

/// First line of `program args` (stdout, else stderr), or "not found".
fn first_line(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(o) => {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        }
        Err(_) => "not found".into(),
    }
}

fn machine_description() -> Vec<(&'static str, String)> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let boost = first_line(
        "dpkg-query",
        &["-W", "-f", "${Version}\n", "libboost-context1.74.0"],
    );
    vec![
        ("CPU", model),
        ("Cores available", cores.to_string()),
        ("Kernel", kernel.trim().to_string()),
        ("rustc", first_line("rustc", &["--version"])),
        ("C compiler (x86_64)", first_line("cc", &["--version"])),
        (
            "C compiler (i386)",
            first_line("i686-linux-gnu-gcc", &["--version"]),
        ),
        (
            "Boost.Context binary",
            format!("Debian libboost-context1.74.0 {boost}"),
        ),
    ]
}

fn ns(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ns")
    } else {
        format!("{v:.2} ns")
    }
}

fn ratio(v: f64) -> String {
    format!("{v:.3}×")
}

/// One C-ABI result row: figure, implementation, median, min, median ratio.
struct CRow {
    figure: String,
    imp: String,
    median: f64,
    ratio: Option<f64>,
}

/// Reads `c-<arch>.tsv`; `Err` carries the reason the figure is missing.
fn read_c(results: &Path, arch: &str) -> Res<Vec<CRow>> {
    let na = results.join(format!("c-{arch}.na"));
    if let Ok(reason) = fs::read_to_string(&na) {
        return Err(reason.trim().to_string());
    }
    let rows = read_tsv(&results.join(format!("c-{arch}.tsv")))?;
    rows.iter()
        .map(|r| {
            let num = |k: &str| field_f64(r, k);
            Ok(CRow {
                figure: r.get("figure").cloned().unwrap_or_default(),
                imp: r.get("impl").cloned().unwrap_or_default(),
                median: num("median_ns")?,
                ratio: r.get("ratio_to_boost").and_then(|s| s.parse().ok()),
            })
        })
        .collect()
}

fn c_value<'a>(rows: &'a [CRow], figure: &str, imp: &str) -> Option<&'a CRow> {
    rows.iter().find(|r| r.figure == figure && r.imp == imp)
}

/// The markdown section of one architecture's C-ABI run.
fn c_section(md: &mut String, arch: &str, rows: &Res<Vec<CRow>>, note: &str) {
    let _ = writeln!(md, "### {arch}\n\n{note}\n");
    let rows = match rows {
        Ok(r) => r,
        Err(reason) => {
            let _ = writeln!(md, "n/a: {reason}\n");
            return;
        }
    };
    let mut t = Table::new(&[
        "Figure",
        "fcontext",
        "fcontext fast",
        "Boost 1.74",
        "fcontext ÷ Boost",
        "fast ÷ Boost",
    ]);
    for fig in ["jump_fcontext", "ontop_fcontext", "make_fcontext"] {
        let cell = |imp: &str| c_value(rows, fig, imp).map(|r| ns(r.median));
        let rat = |imp: &str| c_value(rows, fig, imp).and_then(|r| r.ratio).map(ratio);
        t.row(vec![
            format!("`{fig}`"),
            cell("ours").unwrap_or("n/a".into()),
            cell("fast").unwrap_or("n/a".into()),
            cell("boost").unwrap_or("n/a".into()),
            rat("ours").unwrap_or("n/a".into()),
            rat("fast").unwrap_or("n/a".into()),
        ]);
    }
    if let Some(r) = c_value(rows, "swapcontext", "glibc") {
        t.row(vec![
            "glibc `swapcontext` (for scale)".into(),
            "".into(),
            "".into(),
            "".into(),
            format!("{} per switch", ns(r.median)),
            "".into(),
        ]);
    }
    md.push_str(&t.render());
    md.push('\n');
}

/// A figure measured with criterion for us and for some peers.
struct RustFigure {
    title: &'static str,
    ours: &'static str,
    peers: &'static [(&'static str, &'static str)],
}

const PEERS: [&str; 3] = ["corosensei", "context crate", "generator crate"];

const RUST_FIGURES: &[RustFigure] = &[
    RustFigure {
        title: "Raw `jump_fcontext` round trip (2 switches)",
        ours: "round_trip/raw_jump_fcontext",
        peers: &[("context crate", "round_trip/context_crate")],
    },
    RustFigure {
        title: "`Coroutine` resume + suspend round trip",
        ours: "round_trip/fcontext_coroutine",
        peers: &[
            ("corosensei", "round_trip/corosensei"),
            ("context crate", "round_trip/context_crate"),
            ("generator crate", "round_trip/generator_crate"),
        ],
    },
    RustFigure {
        title: "`Generator::next`",
        ours: "generator_next/fcontext_generator",
        peers: &[
            ("corosensei", "generator_next/corosensei"),
            ("generator crate", "generator_next/generator_crate"),
        ],
    },
    RustFigure {
        title: "`Fiber::resume` round trip",
        ours: "fiber_resume/fcontext_fiber",
        peers: &[("context crate", "round_trip/context_crate")],
    },
    RustFigure {
        title: "Coroutine create + run to completion + destroy, reused stack",
        ours: "create_destroy/fcontext_pooled",
        peers: &[
            ("corosensei", "create_destroy/corosensei_reused_stack"),
            ("context crate", "create_destroy/context_crate_reused_stack"),
            ("generator crate", "create_destroy/generator_crate"),
        ],
    },
    RustFigure {
        title: "`ProtectedStack` create + destroy (128 KiB)",
        ours: "stacks/protected_stack",
        peers: &[
            ("corosensei", "stacks/corosensei_default_stack"),
            ("context crate", "stacks/context_crate_protected_stack"),
        ],
    },
    RustFigure {
        title: "`StackPool` hit (get + return)",
        ours: "stacks/stack_pool_hit",
        peers: &[],
    },
    RustFigure {
        title: "`create_fcontext_stack` + `destroy_fcontext_stack` (128 KiB)",
        ours: "stacks/create_fcontext_stack",
        peers: &[],
    },
];

fn rust_section(md: &mut String, crit: &BTreeMap<String, f64>) {
    let mut head = vec!["Figure", "fcontext"];
    head.extend(PEERS);
    let mut t = Table::new(&head);
    for f in RUST_FIGURES {
        let ours = crit.get(f.ours).copied();
        let mut row = vec![f.title.to_string(), ours.map(ns).unwrap_or("n/a".into())];
        for peer in PEERS {
            let cell = match f.peers.iter().find(|(p, _)| *p == peer) {
                None => "—".to_string(),
                Some((_, id)) => match (crit.get(*id), ours) {
                    (Some(&v), Some(o)) => format!("{} (fcontext {})", ns(v), ratio(o / v)),
                    (Some(&v), None) => ns(v),
                    (None, _) => "n/a".into(),
                },
            };
            row.push(cell);
        }
        t.row(row);
    }
    md.push_str(&t.render());
    md.push('\n');
}

/// rounds.tsv: workload -> (median ns per round trip, ratio to each other workload).
struct Rounds {
    median: BTreeMap<String, f64>,
    ratio: BTreeMap<(String, String), f64>,
}

fn read_rounds(results: &Path) -> Res<Rounds> {
    let rows = read_tsv(&results.join("rounds.tsv"))?;
    let mut r = Rounds {
        median: BTreeMap::new(),
        ratio: BTreeMap::new(),
    };
    for row in &rows {
        let w = row
            .get("workload")
            .cloned()
            .ok_or("workload column missing")?;
        for (k, v) in row {
            let Ok(x) = v.parse::<f64>() else { continue };
            if k == "median_ns" {
                r.median.insert(w.clone(), x);
            } else if let Some(base) = k.strip_prefix("ratio_to_") {
                r.ratio.insert((w.clone(), base.to_string()), x);
            }
        }
    }
    Ok(r)
}

const ROUND_LABELS: [(&str, &str); 7] = [
    ("raw_jump_fcontext", "fcontext raw `jump_fcontext`"),
    (
        "fcontext_coroutine",
        "fcontext `Coroutine` resume + suspend",
    ),
    ("fcontext_fiber", "fcontext `Fiber::resume`"),
    ("fcontext_generator", "fcontext `Generator::next`"),
    ("corosensei", "corosensei `Coroutine` resume + suspend"),
    ("context_crate", "context crate `resume` + `resume` back"),
    ("generator_crate", "generator crate `send`"),
];

fn rounds_section(md: &mut String, r: &Res<Rounds>) {
    md.push_str("## Round trips in interleaved rounds\n\n");
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(md, "n/a: {e}\n");
            return;
        }
    };
    md.push_str(
        "The same round trips as above, measured by `bench/src/bin/rounds.rs` the way the C-ABI \
         benchmark measures: one process on one pinned CPU, every round runs every workload once in \
         rotating order, ratios are medians of per-round ratios. The context crate is loaded from a \
         shared object (`bench/context-ffi`), where its clashing C symbols stay hidden. **The targets \
         below are judged on these ratios.**\n\n",
    );
    let mut t = Table::new(&[
        "Round trip",
        "ns",
        "÷ raw jump_fcontext",
        "÷ context crate",
        "÷ generator crate",
        "÷ corosensei",
    ]);
    for (id, label) in ROUND_LABELS {
        let Some(m) = r.median.get(id) else { continue };
        let q = |base: &str| {
            r.ratio
                .get(&(id.to_string(), base.to_string()))
                .map(|&v| ratio(v))
                .unwrap_or("n/a".into())
        };
        t.row(vec![
            label.to_string(),
            ns(*m),
            q("raw_jump_fcontext"),
            q("context_crate"),
            q("generator_crate"),
            q("corosensei"),
        ]);
    }
    md.push_str(&t.render());
    md.push('\n');
}

/// (kind, count, bytes per coroutine, note) from memory.tsv.
fn read_memory(results: &Path) -> Res<Vec<(String, u64, f64, String)>> {
    let rows = read_tsv(&results.join("memory.tsv"))?;
    rows.iter()
        .map(|r| {
            let count = field_f64(r, "count")? as u64;
            let per = field_f64(r, "bytes_per_coroutine")?;
            Ok((
                r.get("kind").cloned().unwrap_or_default(),
                count,
                per,
                r.get("note").cloned().unwrap_or_default(),
            ))
        })
        .collect()
}

const MEMORY_KINDS: [(&str, &str); 3] = [
    ("protected", "ProtectedStack (128 KiB, lazily committed)"),
    ("pooled", "StackPool stacks (128 KiB)"),
    ("copystack", "copy-stack coroutines (one shared stack)"),
];

/// The table label of a memory.tsv kind; kinds from the copy-stack example
/// (`<its kind>-example`) keep the example's own name.
fn memory_label(kind: &str) -> String {
    if let Some((_, label)) = MEMORY_KINDS.iter().find(|(k, _)| *k == kind) {
        return label.to_string();
    }
    match kind.strip_suffix("-example") {
        Some(k) => format!("`copystack_bench` example, `{k}` (less live stack each)"),
        None => format!("`{kind}`"),
    }
}

/// Copy-stack resume cost from `copystack.tsv` (written by the main crate's
/// `copystack_bench` example): (api, target bytes, saved bytes, ns).
fn read_copystack(results: &Path) -> Res<Vec<(String, f64, f64, f64)>> {
    let rows = read_tsv(&results.join("copystack.tsv"))?;
    rows.iter()
        .map(|r| {
            let num = |k: &str| field_f64(r, k);
            Ok((
                r.get("api").cloned().unwrap_or_default(),
                num("target_bytes")?,
                num("saved_bytes")?,
                num("ns_per_resume")?,
            ))
        })
        .collect()
}

fn load_font() -> Res {
    let bytes = fs::read(FONT_PATH).map_err(|e| {
        format!("cannot read the plot font {FONT_PATH} (Debian: fonts-dejavu-core): {e}")
    })?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| format!("{FONT_PATH} is not a usable TrueType font"))
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Horizontal bars: ns per switch by implementation.
fn plot_switch_cost(path: &Path, bars: &[(String, f64)]) -> DrawResult {
    let root = BitMapBackend::new(path, (900, 80 + 42 * bars.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max) * 1.2;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Cost of one context switch (lower is better)",
            ("sans-serif", 24),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(330)
        .build_cartesian_2d(0.0..max, (0..bars.len() - 1).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("ns per switch")
        .y_labels(bars.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.0.clone()).unwrap_or_default(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 16))
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (name, v))| {
        let color = if name.starts_with("fcontext") {
            RGBColor(31, 119, 180)
        } else {
            RGBColor(160, 160, 160)
        };
        let mut r = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (*v, SegmentValue::Exact(i + 1)),
            ],
            color.filled(),
        );
        r.set_margin(5, 5, 0, 0);
        r
    }))?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
        Text::new(
            format!("{v:.2}"),
            (*v + max * 0.01, SegmentValue::CenterOf(i)),
            ("sans-serif", 15),
        )
    }))?;
    root.present()?;
    Ok(())
}

/// The smallest range of whole decades holding `lo..hi`: plotters labels a
/// log axis only at its decades' multiples, so a range cut inside a decade
/// can lose every label below 1.
fn decade(lo: f64, hi: f64) -> std::ops::Range<f64> {
    10f64.powf(lo.log10().floor())..10f64.powf(hi.log10().ceil())
}

/// A log-log line plot of several named series.
fn plot_lines(
    path: &Path,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
    legend: SeriesLabelPosition,
) -> DrawResult {
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let pts = series.iter().flat_map(|s| s.1.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, 0.0f64, f64::MAX, 0.0f64);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x1 == 0.0 {
        (x0, x1, y0, y1) = (1.0, 10.0, 1.0, 10.0);
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((x0 / 1.5..x1 * 1.5).log_scale(), decade(y0, y1).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .y_labels(12)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| {
            if *v >= 1.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        })
        .label_style(("sans-serif", 16))
        .draw()?;
    let colors = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(255, 127, 14),
        RGBColor(140, 86, 75),
    ];
    for (i, (name, data)) in series.iter().enumerate() {
        let c = colors[i % colors.len()];
        chart
            .draw_series(LineSeries::new(data.iter().copied(), c.stroke_width(3)))?
            .label(name.replace('`', ""))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        // Shrinking markers keep series that coincide (protected and pooled stacks) visible.
        let r = 8u32.saturating_sub(2 * i as u32).max(3);
        chart.draw_series(data.iter().map(|&p| Circle::new(p, r, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()?;
    root.present()?;
    Ok(())
}

fn status(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "**met**",
        Some(false) => "**not met**",
        None => "not measured",
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("report: error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res {
    let args = parse_args()?;
    fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    load_font()?;
    let crit = median_of_criterion(&args.criterion)?;
    let c64 = read_c(&args.results, "x86_64");
    let c32 = read_c(&args.results, "i386");
    let i386_note = fs::read_to_string(args.results.join("c-i386.about")).unwrap_or_default();

    let mut md = String::new();
    md.push_str(
        "# Benchmarks\n\n\
         Written by `cargo xtask bench` (how it runs and how to read it: [BENCHMARKING.md](BENCHMARKING.md)); do not edit by hand.\n\n\
         **Read the ratios, not the nanoseconds.** This machine is shared with other jobs, so absolute \
         figures are noisy and drift between runs. The C-ABI ratios come from interleaved rounds in one \
         process (every round times every implementation, in rotating order, on one pinned CPU), and each \
         ratio is the median of the per-round ratios. The Rust figures are criterion medians of \
         benchmarks that ran one after another in the same run, so their ratios are less robust.\n\n",
    );
    md.push_str("## Machine\n\n");
    let mut t = Table::new(&["Item", "Value"]);
    for (k, v) in machine_description() {
        t.row(vec![k.to_string(), v]);
    }
    md.push_str(&t.render());

    md.push_str(
        "\n## C ABI: fcontext against Boost.Context 1.74\n\n\
         `bench/c/fcbench.c` loads each library with `dlopen(RTLD_LOCAL)` and calls it through \
         function pointers. `jump_fcontext` and `ontop_fcontext` are ns per switch in a ping-pong \
         between two contexts (the ontop function returns its argument); `make_fcontext` is ns per call. \
         *fcontext fast* is the `no-fpu-control` build (see [FAST_VARIANT.md](FAST_VARIANT.md)). \
         Ratios below 1 mean fcontext is faster.\n\n",
    );
    c_section(
        &mut md,
        "x86_64",
        &c64,
        "`libfcontext.so` from `cargo build --release` (default and `--features no-fpu-control`) against \
         `/usr/lib/x86_64-linux-gnu/libboost_context.so.1.74.0`.",
    );
    c_section(&mut md, "i386", &c32, i386_note.trim());

    md.push_str(
        "## Rust API against corosensei, the context crate and the generator crate\n\n\
         Criterion medians. Each peer cell shows the peer's time and, in brackets, fcontext's time \
         divided by it (below 1: fcontext faster); — means the peer has no such operation. The \
         context crate wraps Boost.Context's own assembly; it defines the same C symbols as fcontext, \
         so its benchmarks run in a separate binary (`bench/benches/context_crate.rs`). \
         In the create row, corosensei reuses one stack (`into_stack`), the context crate makes a \
         context on one stack and switches in and back (its contexts cannot return), and the \
         generator crate maps a new stack for every generator (it has no pool).\n\n",
    );
    rust_section(&mut md, &crit);
    let rounds = read_rounds(&args.results);
    rounds_section(&mut md, &rounds);

    // Memory.
    md.push_str("## Memory per live coroutine\n\n");
    let mem = read_memory(&args.results);
    let mut mem_series = Vec::new();
    match &mem {
        Err(e) => {
            let _ = writeln!(md, "n/a: {e}\n");
        }
        Ok(rows) => {
            md.push_str(
                "Resident set growth (VmRSS) divided by the number of coroutines, each started and \
                 suspended once, measured in a fresh process per row.\n\n",
            );
            let mut t = Table::new(&["Stacks", "Coroutines", "RSS per coroutine", "Note"]);
            // Kinds in the order they appear in the file.
            let mut kinds: Vec<&str> = Vec::new();
            for r in rows {
                if !kinds.contains(&r.0.as_str()) {
                    kinds.push(&r.0);
                }
            }
            for kind in kinds {
                let label = memory_label(kind);
                let mut pts = Vec::new();
                for (_, count, per, note) in rows.iter().filter(|r| r.0 == kind) {
                    t.row(vec![
                        label.clone(),
                        count.to_string(),
                        format!("{:.1} KiB", per / 1024.0),
                        note.clone(),
                    ]);
                    if *per > 0.0 {
                        pts.push((*count as f64, *per));
                    }
                }
                if !pts.is_empty() {
                    mem_series.push((label, pts));
                }
            }
            md.push_str(&t.render());
            md.push('\n');
        }
    }
    if !mem_series.is_empty() {
        let p = args.out.join("bench-memory.png");
        plot_lines(
            &p,
            "Memory per live coroutine",
            "live coroutines",
            "bytes of RSS per coroutine",
            &mem_series,
            SeriesLabelPosition::MiddleRight,
        )
        .map_err(|e| format!("plot {}: {e}", p.display()))?;
        md.push_str("![Memory per coroutine against coroutine count](bench-memory.png)\n\n");
    }

    // Copy-stack.
    md.push_str("## Copy-stack coroutines\n\n");
    match read_copystack(&args.results) {
        Err(e) => {
            let _ = writeln!(md, "n/a: {e}\n");
        }
        Ok(rows) => {
            md.push_str(
                "Cost of resuming a copy-stack coroutine whose suspended stack holds the given number \
                 of bytes, then switching back out: two coroutines alternate on one shared stack, so \
                 every resume copies the other one's bytes out and its own back in (the round trip \
                 libaco's benchmark times). Measured by the main crate's `copystack_bench` example for \
                 the Rust API and the C API; *saved bytes* is what was really copied (the API's minimum \
                 where the target is smaller). libaco's column is **its published figure on other \
                 hardware** (AWS c5d.large), shown for shape, not as a same-machine comparison.\n\n",
            );
            let mut t = Table::new(&[
                "Target bytes",
                "Saved bytes (Rust)",
                "fcontext Rust API",
                "fcontext C API",
                "libaco (published, c5d.large)",
            ]);
            let mut targets: Vec<f64> = rows.iter().map(|r| r.1).collect();
            targets.sort_by(f64::total_cmp);
            targets.dedup();
            let find = |api: &str, target: f64| rows.iter().find(|r| r.0 == api && r.1 == target);
            for target in targets {
                let aco = LIBACO_PUBLISHED
                    .iter()
                    .find(|p| p.0 == target)
                    .map(|p| ns(p.1))
                    .unwrap_or("—".into());
                t.row(vec![
                    format!("{target:.0}"),
                    find("rust", target)
                        .map(|r| format!("{:.0}", r.2))
                        .unwrap_or("n/a".into()),
                    find("rust", target)
                        .map(|r| ns(r.3))
                        .unwrap_or("n/a".into()),
                    find("c", target).map(|r| ns(r.3)).unwrap_or("n/a".into()),
                    aco,
                ]);
            }
            md.push_str(&t.render());
            md.push('\n');
            let series = |api: &str| -> Vec<(f64, f64)> {
                let mut v: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.0 == api)
                    .map(|r| (r.2, r.3))
                    .collect();
                v.sort_by(|a, b| a.0.total_cmp(&b.0));
                v.dedup_by(|a, b| a.0 == b.0);
                v
            };
            let p = args.out.join("bench-copystack.png");
            plot_lines(
                &p,
                "Copy-stack resume cost against saved stack bytes",
                "saved stack bytes",
                "ns per resume (round trip)",
                &[
                    ("fcontext Rust API (this machine)".into(), series("rust")),
                    ("fcontext C API (this machine)".into(), series("c")),
                    (
                        "libaco (published, AWS c5d.large)".into(),
                        LIBACO_PUBLISHED.to_vec(),
                    ),
                ],
                SeriesLabelPosition::UpperLeft,
            )
            .map_err(|e| format!("plot {}: {e}", p.display()))?;
            md.push_str("![Copy-stack resume cost against saved bytes](bench-copystack.png)\n\n");
        }
    }

    // Switch-cost plot: C figures per switch, Rust round trips halved.
    let mut bars: Vec<(String, f64)> = Vec::new();
    if let Ok(rows) = &c64 {
        for (imp, label) in [
            ("ours", "fcontext jump_fcontext"),
            ("fast", "fcontext fast jump_fcontext"),
            ("boost", "Boost 1.74 jump_fcontext"),
        ] {
            if let Some(r) = c_value(rows, "jump_fcontext", imp) {
                bars.push((format!("{label} (C, x86_64)"), r.median));
            }
        }
    }
    for (id, label) in [
        ("round_trip/raw_jump_fcontext", "fcontext raw jump (Rust)"),
        ("round_trip/fcontext_coroutine", "fcontext Coroutine"),
        ("fiber_resume/fcontext_fiber", "fcontext Fiber"),
        ("round_trip/corosensei", "corosensei Coroutine"),
        ("round_trip/context_crate", "context crate"),
        ("round_trip/generator_crate", "generator crate"),
    ] {
        if let Some(v) = crit.get(id) {
            bars.push((label.to_string(), v / 2.0));
        }
    }
    if !bars.is_empty() {
        let p = args.out.join("bench-switch.png");
        plot_switch_cost(&p, &bars).map_err(|e| format!("plot {}: {e}", p.display()))?;
        md.push_str(
            "## Switch cost by implementation\n\n\
             One switch = half a round trip for the Rust figures. glibc `swapcontext` is left out of the \
             plot (it makes a system call per switch; see the C tables).\n\n\
             ![Cost of one switch by implementation](bench-switch.png)\n\n",
        );
    }

    // Targets.
    md.push_str("## Targets\n\n");
    let jump_ratio = |rows: &Res<Vec<CRow>>, imp: &str| {
        rows.as_ref()
            .ok()
            .and_then(|r| c_value(r, "jump_fcontext", imp))
            .and_then(|r| r.ratio)
    };
    let fmt_opt = |v: Option<f64>| v.map(ratio).unwrap_or("n/a".into());
    let mut t = Table::new(&["Target", "Measured", "Status"]);
    for (arch, rows) in [("x86_64", &c64), ("i386", &c32)] {
        let r = jump_ratio(rows, "ours");
        t.row(vec![
            format!("default build `jump_fcontext` ≤ 1.00× Boost 1.74 ({arch})"),
            fmt_opt(r),
            status(r.map(|r| r <= 1.0)).into(),
        ]);
        let f = jump_ratio(rows, "fast");
        t.row(vec![
            format!("fast variant `jump_fcontext` ≤ 0.85× Boost 1.74 ({arch})"),
            fmt_opt(f),
            status(f.map(|r| r <= 0.85)).into(),
        ]);
    }
    // Interleaved ratios when the rounds ran; criterion medians otherwise.
    let rr = |base: &str| -> (Option<f64>, &'static str) {
        if let Some(v) = rounds.as_ref().ok().and_then(|r| {
            r.ratio
                .get(&("fcontext_coroutine".to_string(), base.to_string()))
        }) {
            return (Some(*v), "interleaved rounds");
        }
        let id = match base {
            "raw_jump_fcontext" => "round_trip/raw_jump_fcontext",
            "context_crate" => "round_trip/context_crate",
            _ => "round_trip/generator_crate",
        };
        let q = crit
            .get("round_trip/fcontext_coroutine")
            .zip(crit.get(id))
            .map(|(c, p)| c / p);
        (q, "criterion medians")
    };
    let (q, how) = rr("raw_jump_fcontext");
    t.row(vec![
        "`Coroutine` round trip ≤ 1.15× raw `jump_fcontext` round trip".into(),
        format!("{} ({how})", fmt_opt(q)),
        status(q.map(|q| q <= 1.15)).into(),
    ]);
    for (peer, base) in [
        ("context crate", "context_crate"),
        ("generator crate", "generator_crate"),
    ] {
        let (q, how) = rr(base);
        t.row(vec![
            format!("`Coroutine` round trip faster than the {peer}"),
            format!("{} ({how})", fmt_opt(q)),
            status(q.map(|q| q < 1.0)).into(),
        ]);
    }
    md.push_str(&t.render());

    let path = args.out.join("BENCHMARKS.md");
    fs::write(&path, md).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("report: wrote {}", path.display());
    Ok(())
}
