//! The evaluation of docs/checker.md: injects PID mix-ups into the given
//! source folders (default: crates/vps/src and crates/vpid-core/src) and
//! prints how many the checker finds, and its findings on the clean source.
//!
//! `cargo run -p vpid-check --example evaluate [-- PATHS...]`
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        paths = vec![
            root.join("crates/vps/src"),
            root.join("crates/vpid-core/src"),
        ];
    }
    let files = match vpid_check::walk::read_sources(&paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let evaluation = vpid_check::eval::evaluate(&vpid_check::Checker::new(), &files);
    print!("{evaluation}");
    for f in &evaluation.clean_findings {
        println!(
            "clean finding: {}:{} {} {}",
            f.file, f.line, f.rule, f.message
        );
    }
    ExitCode::SUCCESS
}
