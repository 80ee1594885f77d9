//! `cargo xtask deps` (and `cargo xtask test --install-deps`): the Debian
//! packages the test suite needs, installed when missing.
//!
//! The list has one home, `.ci/apt-packages` (one package a line, `#`
//! comments). The foreign architectures apt must know are derived: every
//! `:ARCH` suffix in that list, plus every architecture of a `boost_deb`
//! package in `conformance/targets.ini` (the matrix downloads those itself).
//! As root the packages are installed directly, otherwise through `sudo`
//! when it is there; with neither, the command prints the one command that
//! would install them and fails.

use crate::util::{self, Result};
use std::collections::BTreeSet;
use std::fs;
use std::process::Command;

const USAGE: &str = "\
usage: cargo xtask deps [--check]

Installs the Debian packages of .ci/apt-packages that are missing (as root,
or through sudo), after adding the foreign architectures they and the
matrix's Boost downloads need. --check only reports what is missing.";

/// `cargo xtask deps`.
pub fn main(args: &[String]) -> Result {
    match args {
        [] => ensure(),
        [flag] if flag == "--check" => {
            let plan = Plan::read()?;
            plan.report();
            if plan.is_complete() {
                Ok(())
            } else {
                Err("packages are missing (see above)".into())
            }
        }
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown arguments {args:?}\n\n{USAGE}").into()),
    }
}

/// Installs what is missing; a no-op when everything is there.
pub fn ensure() -> Result {
    let plan = Plan::read()?;
    plan.report();
    if plan.is_complete() {
        return Ok(());
    }
    let Some(prefix) = privilege() else {
        return Err(format!(
            "not root and no sudo: run this as root, then the command again:\n  {}",
            plan.shell_command("")
        )
        .into());
    };
    // sudo resets the environment, so the frontend setting travels through
    // `env`; `-n` fails at once instead of waiting for a password prompt.
    let sudo = |args: &[&str]| {
        let mut cmd = if prefix.is_empty() {
            let mut cmd = Command::new(args[0]);
            cmd.args(&args[1..]);
            cmd
        } else {
            let mut cmd = Command::new("sudo");
            cmd.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive"])
                .args(args);
            cmd
        };
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    for arch in &plan.missing_archs {
        util::run(&mut sudo(&["dpkg", "--add-architecture", arch]))?;
    }
    // A mirror caught mid-sync fails one index now and then; the install
    // below still fails loudly if a package is really not to be had.
    if retry(|| util::run(&mut sudo(&["apt-get", "update"]))).is_err() {
        println!("deps: warning: apt-get update reported errors; going on with the lists it got");
    }
    if !plan.missing_packages.is_empty() {
        let mut args = vec!["apt-get", "install", "-y", "--no-install-recommends"];
        args.extend(plan.missing_packages.iter().map(String::as_str));
        retry(|| util::run(&mut sudo(&args)))?;
    }
    let after = Plan::read()?;
    if after.is_complete() {
        println!("deps: every package of .ci/apt-packages is installed");
        Ok(())
    } else {
        Err(format!(
            "still missing after the install: {:?}",
            after.missing_packages
        )
        .into())
    }
}

/// What is missing on this machine.
struct Plan {
    packages: Vec<String>,
    missing_packages: Vec<String>,
    missing_archs: Vec<String>,
}

impl Plan {
    fn read() -> Result<Plan> {
        let root = util::project_root();
        let list = fs::read_to_string(root.join(".ci/apt-packages"))?;
        let packages = parse_packages(&list);
        let targets = fs::read_to_string(root.join("conformance/targets.ini"))?;
        let mut archs = architectures(&packages, &targets);
        let known = known_architectures();
        for arch in &known {
            archs.remove(arch);
        }
        let native = known.first().map(String::as_str).unwrap_or_default();
        let missing_packages = packages
            .iter()
            .filter(|p| !installed(p, native))
            .cloned()
            .collect();
        Ok(Plan {
            packages,
            missing_packages,
            missing_archs: archs.into_iter().collect(),
        })
    }

    fn is_complete(&self) -> bool {
        self.missing_packages.is_empty() && self.missing_archs.is_empty()
    }

    fn report(&self) {
        if self.is_complete() {
            println!(
                "deps: all {} packages of .ci/apt-packages are installed",
                self.packages.len()
            );
            return;
        }
        if !self.missing_archs.is_empty() {
            println!(
                "deps: apt must know the architectures {} (foreign Boost binaries for the interop tests)",
                self.missing_archs.join(" ")
            );
        }
        if !self.missing_packages.is_empty() {
            println!(
                "deps: {} of {} packages the test suite needs (.ci/apt-packages) are missing: {}",
                self.missing_packages.len(),
                self.packages.len(),
                self.missing_packages.join(" ")
            );
        }
    }

    /// The whole installation as one shell command, each part run through
    /// `sudo` (or nothing).
    fn shell_command(&self, sudo: &str) -> String {
        let mut parts: Vec<String> = self
            .missing_archs
            .iter()
            .map(|a| format!("{sudo}dpkg --add-architecture {a}"))
            .collect();
        parts.push(format!("{sudo}apt-get update"));
        if !self.missing_packages.is_empty() {
            parts.push(format!(
                "{sudo}apt-get install -y --no-install-recommends {}",
                self.missing_packages.join(" ")
            ));
        }
        parts.join(" && ")
    }
}

/// The packages of an apt-packages list: one a line, `#` starts a comment
/// line, blank lines ignored.
fn parse_packages(list: &str) -> Vec<String> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(str::to_string)
        .collect()
}

/// Every `:ARCH` of the packages and of targets.ini's `boost_deb` lines.
fn architectures(packages: &[String], targets: &str) -> BTreeSet<String> {
    let deb_lines = targets
        .lines()
        .filter_map(|l| l.trim().strip_prefix("boost_deb"))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .flat_map(str::split_whitespace);
    packages
        .iter()
        .map(String::as_str)
        .chain(deb_lines)
        .filter_map(|p| p.split_once(':').map(|(_, arch)| arch.to_string()))
        .collect()
}

/// The native and foreign architectures dpkg knows.
fn known_architectures() -> Vec<String> {
    let words = |args: &[&str]| {
        Command::new("dpkg")
            .args(args)
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let mut all = words(&["--print-architecture"]);
    all.extend(words(&["--print-foreign-architectures"]));
    all
}

/// Whether dpkg has `package` installed: `name:arch` for that architecture,
/// a plain `name` for the native one (or `all`), as apt-get would read it.
fn installed(package: &str, native: &str) -> bool {
    let Ok(out) = Command::new("dpkg-query")
        .args(["-W", "-f", "${Architecture} ${db:Status-Status}\n", package])
        .output()
    else {
        return false;
    };
    let wanted = package.split_once(':').map(|(_, arch)| arch);
    String::from_utf8_lossy(&out.stdout).lines().any(|line| {
        let (arch, status) = line.split_once(' ').unwrap_or((line, ""));
        status == "installed"
            && match wanted {
                Some(w) => arch == w,
                None => arch == native || arch == "all",
            }
    })
}

/// How to gain root: nothing (we are root), `sudo`, or `None`.
fn privilege() -> Option<Vec<&'static str>> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        Some(vec![])
    } else if util::have("sudo") {
        Some(vec!["sudo"])
    } else {
        None
    }
}

/// Runs `f` up to three times, pausing between tries (apt over the network).
fn retry(mut f: impl FnMut() -> Result) -> Result {
    let mut last = Ok(());
    for attempt in 1..=3 {
        last = f();
        if last.is_ok() {
            return last;
        }
        println!("deps: attempt {attempt} of 3 failed");
        std::thread::sleep(std::time::Duration::from_secs(5 * attempt));
    }
    last
}

#[cfg(test)]
mod tests {
    use super::{architectures, parse_packages};

    #[test]
    fn packages_skip_comments_and_blanks() {
        let list = "# header\nclang\n\n  lld  \n# wine32:i386 is below\nwine32:i386\n";
        assert_eq!(parse_packages(list), ["clang", "lld", "wine32:i386"]);
    }

    #[test]
    fn architectures_come_from_suffixes_and_boost_deb_rows() {
        let packages = parse_packages("libc6:arm64\nclang\nwine32:i386\n");
        let targets = "[a]\nboost_deb = libboost-context1.74.0:armhf\n[b]\nboost_deb=x:s390x y:s390x\nboost = /usr/lib/z:q\n";
        let archs: Vec<String> = architectures(&packages, targets).into_iter().collect();
        assert_eq!(archs, ["arm64", "armhf", "i386", "s390x"]);
    }
}
