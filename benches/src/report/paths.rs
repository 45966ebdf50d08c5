//! Where the results are read from and the report is written to.

use std::path::PathBuf;

/// The files and directories the programs use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// Criterion's output directory (`<target>/criterion`).
    pub criterion: PathBuf,
    /// The memory program's results (`<target>/vpid-memory.json`).
    pub memory: PathBuf,
    /// The hand-written analysis included in the report.
    pub analysis: PathBuf,
    /// The report (`docs/benchmarks.md`); plots go to `docs/benchmarks/`.
    pub report: PathBuf,
}

impl Paths {
    /// The defaults: the workspace's target directory (or
    /// `$CARGO_TARGET_DIR`) and its `docs/`.
    #[must_use]
    pub fn from_env() -> Self {
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| workspace.join("target"), PathBuf::from);
        Self {
            criterion: target.join("criterion"),
            memory: target.join("vpid-memory.json"),
            analysis: workspace.join("benches/analysis.md"),
            report: workspace.join("docs/benchmarks.md"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_sit_in_the_workspace() {
        let p = Paths::from_env();
        assert!(p.report.ends_with("docs/benchmarks.md"));
        assert!(p.criterion.ends_with("criterion"));
        assert!(p.analysis.ends_with("benches/analysis.md"));
    }
}
