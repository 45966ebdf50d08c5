//! Writes `docs/benchmarks.md` (and its plots in `docs/benchmarks/`) from
//! criterion's results and the memory program's figures.
//!
//! `cargo bench -p vpid-benches`, then
//! `cargo run --release -p vpid-benches --bin memory`, then
//! `cargo run -p vpid-benches --bin report`.
#![forbid(unsafe_code)]

use vpid_benches::report::{Machine, Memory, Paths, Verdict, load_results, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths = Paths::from_env();
    let results = load_results(&paths.criterion)?;
    let memory = Memory::load(&paths.memory)?;
    let analysis = std::fs::read_to_string(&paths.analysis).unwrap_or_default();
    let report = render(&results, memory.as_ref(), &Machine::detect(), &analysis);
    let plots = paths.report.with_extension("");
    std::fs::create_dir_all(&plots)?;
    for (name, svg) in &report.plots {
        std::fs::write(plots.join(name), svg)?;
    }
    std::fs::write(&paths.report, &report.markdown)?;
    let all = vpid_benches::report::checks(&results, memory.as_ref());
    for check in &all {
        let verdict = match check.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Missing => "----",
            Verdict::Reference => "ref ",
        };
        let measured = check
            .measured
            .map_or_else(|| "-".to_owned(), |m| format!("{m:.2}"));
        println!(
            "{verdict}  {:60} {measured:>10} {}",
            check.target, check.bound
        );
    }
    println!(
        "{} benchmarks; report written to {}",
        results.0.len(),
        paths.report.display()
    );
    Ok(())
}
