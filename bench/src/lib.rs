//! Shared pieces of the fcontext benchmarks: result files and markdown tables.
#![deny(missing_docs)]

#[path = "pin.rs"]
pub mod pin;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

/// Reads a tab-separated file whose first line names the columns.
pub fn read_tsv(path: &Path) -> Result<Vec<HashMap<String, String>>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines
        .next()
        .ok_or(format!("{} is empty", path.display()))?
        .split('\t')
        .collect();
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            head.iter()
                .map(|h| h.to_string())
                .zip(l.split('\t').map(str::to_string))
                .collect()
        })
        .collect())
}

/// The number in column `key` of a row from [`read_tsv`].
pub fn field_f64(row: &HashMap<String, String>, key: &str) -> Result<f64, String> {
    row.get(key)
        .ok_or(format!("column {key} missing"))?
        .parse()
        .map_err(|e| format!("column {key}: {e}"))
}

/// Criterion's median estimate (ns per iteration) of every benchmark under
/// `dir` (criterion's output directory), keyed by its full id
/// (`group/function` or `group/function/parameter`).
pub fn median_of_criterion(dir: &Path) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    if dir.is_dir() {
        collect(dir, &mut out)?;
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut BTreeMap<String, f64>) -> Result<(), String> {
    let new = dir.join("new");
    let (bench, est) = (new.join("benchmark.json"), new.join("estimates.json"));
    if bench.is_file() && est.is_file() {
        let read = |p: &Path| -> Result<serde_json::Value, String> {
            let text =
                fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
        };
        let id = read(&bench)?["full_id"]
            .as_str()
            .ok_or(format!("{}: no full_id", bench.display()))?
            .to_string();
        let median = read(&est)?["median"]["point_estimate"]
            .as_f64()
            .ok_or(format!("{}: no median", est.display()))?;
        out.insert(id, median);
    }
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir()
            && p.file_name()
                .is_some_and(|n| n != "new" && n != "base" && n != "change")
        {
            collect(&p, out)?;
        }
    }
    Ok(())
}

/// A markdown table built row by row.
pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings.
    pub fn new(head: &[&str]) -> Self {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (as many cells as headings).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as GitHub-flavoured markdown.
    pub fn render(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut s = line(&self.head);
        s.push_str(&line(&vec!["---".to_string(); self.head.len()]));
        for r in &self.rows {
            s.push_str(&line(r));
        }
        s
    }
}
