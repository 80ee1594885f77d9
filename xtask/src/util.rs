//! Helpers shared by the commands: paths, running programs, skipping a check
//! whose tool is missing.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What every command and helper returns; any error type converts with `?`.
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The workspace root (the directory holding the root `Cargo.toml`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` or `<root>/target`.
pub fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => project_root().join(dir),
        None => project_root().join("target"),
    }
}

/// Scratch space owned by xtask: `<target>/xtask/<name>`, emptied first.
pub fn fresh_work_dir(name: &str) -> Result<PathBuf> {
    let dir = target_dir().join("xtask").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot empty {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The cargo that runs us (so `cargo +nightly xtask` stays on nightly).
pub fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

/// A program named by an environment variable (`CXX`, `PKG_CONFIG`, ...) or
/// its usual name.
pub fn tool(env_var: &str, default: &str) -> Command {
    Command::new(env::var_os(env_var).unwrap_or_else(|| default.into()))
}

/// Whether `program` can be started (it is on `PATH` or a path to a file).
pub fn have(program: impl AsRef<OsStr>) -> bool {
    let program = Path::new(program.as_ref());
    if program.components().count() > 1 {
        return program.is_file();
    }
    env::var_os("PATH")
        .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `cmd` with inherited output, echoing it first; a non-zero exit is an error.
pub fn run(cmd: &mut Command) -> Result {
    let line = describe(cmd);
    println!("$ {line}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if !status.success() {
        return Err(format!("`{line}` failed ({status})").into());
    }
    Ok(())
}

/// Runs `cmd` and returns its standard output; a non-zero exit is an error
/// that carries the program's standard error.
pub fn output(cmd: &mut Command) -> Result<String> {
    let line = describe(cmd);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{line}` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout).map_err(|_| format!("`{line}` printed non-UTF-8 output"))?)
}

/// True when CI asked for every check to run (`FCONTEXT_REQUIRE_ALL=1`).
pub fn require_all() -> bool {
    env::var("FCONTEXT_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// Skips a check whose tool is missing: prints the reason and returns `Ok`,
/// or, under `FCONTEXT_REQUIRE_ALL=1`, returns an error (a skip is a failure in CI).
pub fn skip(what: &str, reason: &str) -> Result {
    skip_unless_required(require_all(), what, reason)
}

fn skip_unless_required(required: bool, what: &str, reason: &str) -> Result {
    if required {
        return Err(format!("{what}: cannot run ({reason}) and FCONTEXT_REQUIRE_ALL=1").into());
    }
    println!("SKIPPED {what}: {reason} (set FCONTEXT_REQUIRE_ALL=1 to make this an error)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_fails_only_when_everything_is_required() {
        assert!(skip_unless_required(false, "check", "tool missing").is_ok());
        let err = skip_unless_required(true, "check", "tool missing").unwrap_err();
        assert!(err.to_string().contains("FCONTEXT_REQUIRE_ALL=1"), "{err}");
    }

    #[test]
    fn failing_commands_are_errors() {
        assert!(run(&mut Command::new("false")).is_err());
        assert!(run(&mut Command::new("true")).is_ok());
        assert!(output(&mut Command::new("fcontext-no-such-program")).is_err());
        assert_eq!(output(Command::new("echo").arg("hi")).unwrap(), "hi\n");
    }
}
