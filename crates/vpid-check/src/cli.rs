//! The command lines of `vpid-check` and `cargo vpid-check`.
//!
//! Exit status: 0 when there are no errors, 1 when there are (or warnings,
//! with `--deny-warnings`), 2 when the checker could not run: bad usage, a
//! path that cannot be read, or a file that does not parse (its PID000
//! finding is printed with the others).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::Command;

use clap::{Args, Parser};

use crate::render::{self, Format};
use crate::rules::{Rule, Severity};
use crate::{Checker, Report};

/// Options shared by both commands.
#[derive(Args, Debug, Clone)]
pub struct Options {
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit with status 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Print the documentation of every rule and exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// `vpid-check [OPTIONS] [PATHS]...`
#[derive(Parser, Debug)]
#[command(
    name = "vpid-check",
    version,
    about = "Flags real/virtual PID mix-ups in Rust source."
)]
pub struct CheckArgs {
    /// Files and folders to check (default: the current folder).
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub options: Options,
}

/// `cargo vpid-check [OPTIONS] [-p PACKAGE]...`
#[derive(Parser, Debug)]
#[command(
    name = "cargo vpid-check",
    version,
    about = "Flags real/virtual PID mix-ups in a cargo package or workspace."
)]
pub struct CargoArgs {
    /// Check only these packages of the workspace (default: the whole workspace).
    #[arg(short, long = "package")]
    pub packages: Vec<String>,
    /// The Cargo.toml to start from.
    #[arg(long)]
    pub manifest_path: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub options: Options,
}

/// The exit status for "could not run".
pub const EXIT_UNUSABLE: u8 = 2;

fn parse<T: Parser>(args: Vec<OsString>) -> Result<T, u8> {
    T::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        if e.use_stderr() { EXIT_UNUSABLE } else { 0 }
    })
}

/// Runs `vpid-check` with these arguments (the first is the program name).
#[must_use]
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    let args: CheckArgs = match parse(args.into_iter().collect()) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    run(&paths, &args.options)
}

/// Runs `cargo vpid-check` (cargo passes `vpid-check` as the first argument).
#[must_use]
pub fn cargo_main(args: impl IntoIterator<Item = OsString>) -> u8 {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "vpid-check") {
        args.remove(1);
    }
    let args: CargoArgs = match parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match package_dirs(&args) {
        Ok(paths) => run(&paths, &args.options),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_UNUSABLE
        }
    }
}

/// The folders to check for `cargo vpid-check`: the workspace root, or the
/// named packages' folders, from `cargo metadata`.
fn package_dirs(args: &CargoArgs) -> Result<Vec<PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["metadata", "--no-deps", "--format-version", "1"]);
    if let Some(m) = &args.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cannot read cargo metadata: {e}"))?;
    if args.packages.is_empty() {
        let root = meta["workspace_root"]
            .as_str()
            .ok_or("cargo metadata has no workspace_root")?;
        return Ok(vec![PathBuf::from(root)]);
    }
    let packages = meta["packages"]
        .as_array()
        .ok_or("cargo metadata has no packages")?;
    args.packages
        .iter()
        .map(|name| {
            packages
                .iter()
                .find(|p| p["name"].as_str() == Some(name))
                .and_then(|p| p["manifest_path"].as_str())
                .and_then(|m| PathBuf::from(m).parent().map(PathBuf::from))
                .ok_or_else(|| format!("package `{name}` is not in this workspace"))
        })
        .collect()
}

/// The exit status for a report.
#[must_use]
pub fn exit_status(report: &Report, deny_warnings: bool) -> u8 {
    if report.unparsed > 0 {
        EXIT_UNUSABLE
    } else if report.count(Severity::Error) > 0
        || (deny_warnings && report.count(Severity::Warning) > 0)
    {
        1
    } else {
        0
    }
}

fn rules_text() -> String {
    let mut out = String::new();
    for rule in Rule::ALL {
        let d = rule.doc();
        out.push_str(&format!(
            "{} {} ({})\n  what: {}\n  why: {}\n  example:\n    {}\n  fix: {}\n\n",
            rule.id(),
            d.name,
            rule.severity(),
            d.what,
            d.why,
            d.example.replace('\n', "\n    "),
            d.fix
        ));
    }
    out
}

fn run(paths: &[PathBuf], options: &Options) -> u8 {
    let mut stdout = std::io::stdout().lock();
    if options.list_rules {
        return if stdout.write_all(rules_text().as_bytes()).is_ok() {
            0
        } else {
            EXIT_UNUSABLE
        };
    }
    let files = match crate::walk::read_sources(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_UNUSABLE;
        }
    };
    let report = Checker::new().check_sources(&files);
    let text = match options.format {
        Format::Human => {
            let sources: HashMap<String, String> =
                files.into_iter().map(|f| (f.path, f.text)).collect();
            render::human(&report, &sources, stdout.is_terminal())
        }
        Format::Json => render::json(&report) + "\n",
        Format::Sarif => render::sarif(&report) + "\n",
    };
    if stdout.write_all(text.as_bytes()).is_err() {
        return EXIT_UNUSABLE;
    }
    exit_status(&report, options.deny_warnings)
}
