//! The report: criterion's results and the memory figures, turned into
//! `docs/benchmarks.md` with tables, the ratio targets, and SVG plots.

mod estimates;
mod machine;
mod markdown;
mod memory;
mod paths;
mod svg;
mod targets;

pub use estimates::{Estimate, Results, load_results};
pub use machine::Machine;
pub use markdown::{Report, render};
pub use memory::Memory;
pub use paths::Paths;
pub use svg::{Chart, Series, bar_chart};
pub use targets::{Check, Verdict, checks};

/// What can go wrong while reading results or writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A results file is not what criterion or the memory program writes.
    #[error("malformed results file {path}: {reason}")]
    Malformed {
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl ReportError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn malformed(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }
}
