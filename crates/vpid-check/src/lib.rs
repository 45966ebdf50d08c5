//! A static analyzer that flags real/virtual PID mix-ups in Rust source.
//!
//! vpid-check does for PIDs what sparse does for `__user` and `__bitwise`: it
//! follows the *kind* of each PID value (real, virtual, unknown, or either)
//! through a function body, and reports where a value of one kind reaches a
//! place that wants the other: a parameter, a comparison, a conversion, a
//! struct field, a return. Kinds come from the `RealPid`/`VirtPid` types, a
//! built-in table of the vpid-core and vps APIs ([`spec`]), and annotations
//! in doc comments:
//!
//! ```text
//! /// vpid-check: pid=real, target=virtual, return=virtual   (on a fn)
//! /// vpid-check: user-facing                                (on a fn: returns to user space)
//! /// vpid-check: real                                       (on a field, const or static)
//! /// vpid-check: view                                       (on a field: a number in the caller's view;
//!                                                            also `pid=view`, `return=view` on a fn)
//! // vpid-check: allow(PID001) reason                        (suppression, this or the next line)
//! ```
//!
//! ```
//! use vpid_check::{Checker, SourceFile};
//!
//! let src = r#"
//! use vpid_core::{convert::pid_to_vpid, IdType};
//! /// vpid-check: pid=real
//! fn find_task(pid: i32) {}
//! fn f(r: i32) -> Result<(), vpid_core::KindError> {
//!     let v = pid_to_vpid(IdType::Pid, r, None)?;
//!     find_task(v);
//!     Ok(())
//! }
//! "#;
//! let report = Checker::new().check_sources(&[SourceFile::new("demo.rs", src)]);
//! assert_eq!(report.findings.len(), 1);
//! assert_eq!(report.findings[0].rule.id(), "PID001");
//! assert_eq!(report.findings[0].line, 7);
//! ```
#![forbid(unsafe_code)]

pub mod annot;
pub mod cli;
pub mod collect;
pub mod eval;

pub mod facts;
pub mod flow;
pub mod kind;
pub mod render;
pub mod rules;
pub mod spec;
pub mod suppress;
pub mod synth;
pub mod walk;

use std::path::Path;
use std::sync::{Barrier, Mutex, OnceLock, PoisonError};

use rayon::prelude::*;

pub use crate::facts::{FileContext, Table};
pub use crate::kind::Kind;
pub use crate::rules::{Rule, Severity};

/// One finding, with 1-based positions; the end column is exclusive.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    /// The file, as given.
    pub file: String,
    /// First line (1-based).
    pub line: usize,
    /// First column (1-based, in characters).
    pub column: usize,
    /// Last line (1-based).
    pub end_line: usize,
    /// The column after the last character (1-based).
    pub end_column: usize,
    /// The rule.
    pub rule: Rule,
    /// The severity.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

/// A source file to check: a display path and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path, as shown in findings (and used to tell vpid-core's and vps's own files).
    pub path: String,
    /// The text.
    pub text: String,
}

impl SourceFile {
    /// A source file from a path and its text.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// The result of a run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every finding not suppressed, sorted by file and position.
    pub findings: Vec<Finding>,
    /// How many findings a `// vpid-check: allow(…)` comment suppressed.
    pub suppressed: usize,
    /// How many files were checked.
    pub files: usize,
    /// How many lines they have.
    pub lines: usize,
    /// How many files did not parse (each also has a PID000 finding).
    pub unparsed: usize,
}

impl Report {
    /// The number of findings of a severity.
    #[must_use]
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// The checker: the built-in facts, ready to check files.
#[derive(Clone, Debug)]
pub struct Checker {
    builtin: Table,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

/// Which facts apply to a file, from its path and text.
#[must_use]
pub fn file_context(path: &str, text: &str) -> FileContext {
    let parts: Vec<&str> = Path::new(path)
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    let in_crate = |name: &str| {
        parts
            .windows(2)
            .any(|w| w[0] == name && matches!(w[1], "src" | "tests" | "benches" | "examples"))
    };
    FileContext {
        in_vpid_core: in_crate("vpid-core"),
        in_vps: in_crate("vps"),
        uses_vps: names_vps(text),
    }
}

/// Whether the text names the `vps` crate (`vps::` not preceded by an identifier character).
fn names_vps(text: &str) -> bool {
    text.match_indices("vps::").any(|(i, _)| {
        !text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parses a file, runs `f` on its syntax tree, and frees the thread's span
/// table (proc-macro2 keeps every parsed file's text otherwise).
pub(crate) fn with_parsed<T>(text: &str, f: impl FnOnce(Result<&syn::File, syn::Error>) -> T) -> T {
    let parsed = syn::parse_file(strip_bom(text));
    let out = f(parsed.as_ref().map_err(Clone::clone));
    drop(parsed);
    proc_macro2::extra::invalidate_current_thread_spans();
    out
}

impl Checker {
    /// A checker with the built-in table of the vpid-core and vps APIs.
    #[must_use]
    pub fn new() -> Self {
        Self {
            builtin: spec::builtin(),
        }
    }

    /// The facts of the files' own items added to the built-in ones, with
    /// the inferred return kinds of their functions.
    #[must_use]
    pub fn table_for(&self, files: &[SourceFile]) -> Table {
        self.pipeline(files, false).0
    }

    /// Checks files in parallel, parsing each once. Every thread of the rayon
    /// pool parses its share of the files (syn trees cannot move between
    /// threads) and collects their facts; once all facts are merged into one
    /// table, each thread infers the return kinds of its files' functions;
    /// once those are merged too, each thread analyzes its files.
    #[must_use]
    pub fn check_sources(&self, files: &[SourceFile]) -> Report {
        let results = self.pipeline(files, true).1;
        Self::report(files, results.into_iter())
    }

    fn pipeline(&self, files: &[SourceFile], analyze: bool) -> (Table, Vec<FileResult>) {
        // A pool of our own, as large as the current one: its threads run
        // nothing else, so they all reach the barriers (two checks sharing a
        // pool could each hold threads the other waits for).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(rayon::current_num_threads().max(1))
            .build()
            .ok();
        let threads = pool
            .as_ref()
            .map_or(1, rayon::ThreadPool::current_num_threads);
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(files[i].text.len()));
        let mut shares = vec![Vec::new(); threads];
        let mut loads = vec![0usize; threads];
        for i in order {
            let t = (0..threads).min_by_key(|&t| loads[t]).unwrap_or(0);
            shares[t].push(i);
            loads[t] += files[i].text.len();
        }
        let barrier = Barrier::new(threads);
        let locals: Mutex<Vec<Table>> = Mutex::new(Vec::new());
        let inferred: Mutex<Vec<(facts::FnKey, (Kind, bool))>> = Mutex::new(Vec::new());
        let base: OnceLock<Table> = OnceLock::new();
        let full: OnceLock<Table> = OnceLock::new();
        let work = |index: usize| {
            let mine = shares.get(index).map_or(&[][..], Vec::as_slice);
            let parsed: Vec<syn::Result<syn::File>> = mine
                .iter()
                .map(|&i| syn::parse_file(strip_bom(&files[i].text)))
                .collect();
            let mut collected: Vec<Option<collect::Collected<'_>>> = parsed
                .iter()
                .map(|p| p.as_ref().ok().map(collect::collect))
                .collect();
            let mut local = Table::default();
            for c in collected.iter_mut().flatten() {
                local.extend(std::mem::take(&mut c.table));
            }
            locals
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(local);
            barrier.wait();
            let base = base.get_or_init(|| {
                let mut table = self.builtin.clone();
                for t in locals
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .drain(..)
                {
                    table.extend(t);
                }
                table
            });
            let mut analyses: Vec<Option<flow::FileAnalysis<'_, '_>>> = collected
                .iter()
                .zip(mine)
                .map(|(c, &i)| {
                    c.as_ref().map(|c| {
                        flow::FileAnalysis::new(
                            base,
                            file_context(&files[i].path, &files[i].text),
                            &c.fns,
                        )
                    })
                })
                .collect();
            let first: Vec<Option<flow::FirstPass>> = analyses
                .iter()
                .zip(&collected)
                .map(|(a, c)| match (a, c) {
                    (Some(a), Some(c)) if analyze => Some(a.first_pass(c)),
                    _ => None,
                })
                .collect();
            let mine_inferred: Vec<_> = analyses
                .iter()
                .flatten()
                .flat_map(flow::FileAnalysis::infer_all)
                .collect();
            inferred
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(mine_inferred);
            barrier.wait();
            let table = full.get_or_init(|| {
                let mut table = base.clone();
                table.apply_inferred(
                    inferred
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .drain(..),
                );
                table
            });
            let mut out = Vec::new();
            if analyze {
                for ((k, &i), first) in mine.iter().enumerate().zip(first) {
                    let raw = match (&mut analyses[k], &collected[k], &parsed[k]) {
                        (Some(a), Some(c), _) => {
                            a.table = table;
                            Ok(a.final_findings(c, first.unwrap_or_default()))
                        }
                        (_, _, Err(e)) => Err(e),
                        _ => Ok(Vec::new()),
                    };
                    out.push((i, finish(&files[i], raw)));
                }
            }
            drop(analyses);
            drop(collected);
            drop(parsed);
            proc_macro2::extra::invalidate_current_thread_spans();
            out
        };
        let per_thread: Vec<Vec<(usize, FileResult)>> = match &pool {
            Some(pool) => pool.broadcast(|ctx| work(ctx.index())),
            None => vec![work(0)],
        };
        let table = full.into_inner().unwrap_or_else(|| self.builtin.clone());
        let mut results: Vec<FileResult> = vec![FileResult::default(); files.len()];
        for (i, r) in per_thread.into_iter().flatten() {
            results[i] = r;
        }
        (table, results)
    }

    fn report(files: &[SourceFile], results: impl Iterator<Item = FileResult>) -> Report {
        let mut report = Report {
            files: files.len(),
            ..Report::default()
        };
        for (f, (findings, suppressed, parsed)) in files.iter().zip(results) {
            report.lines += f.text.lines().count();
            report.findings.extend(findings);
            report.suppressed += suppressed;
            report.unparsed += usize::from(!parsed);
        }
        report.findings.sort();
        report
    }

    /// Checks files against a table made by [`Checker::table_for`] (each
    /// file is parsed again).
    #[must_use]
    pub fn check_with_table(&self, files: &[SourceFile], table: &Table) -> Report {
        let per_file: Vec<FileResult> = files.par_iter().map(|f| check_file(f, table)).collect();
        Self::report(files, per_file.into_iter())
    }
}

/// The findings of one file (suppressions applied), how many were
/// suppressed, and whether it parsed.
pub type FileResult = (Vec<Finding>, usize, bool);

fn finding(path: &str, raw: flow::RawFinding) -> Finding {
    Finding {
        file: path.to_owned(),
        line: raw.start.0,
        column: raw.start.1 + 1,
        end_line: raw.end.0,
        end_column: raw.end.1 + 1,
        rule: raw.rule,
        severity: raw.rule.severity(),
        message: raw.message,
    }
}

/// The kind of every expression of a file, as the final pass sees it (empty
/// if the file does not parse). The evaluation picks its mutation sites
/// with it.
#[must_use]
pub fn probe_file(f: &SourceFile, table: &Table) -> Vec<flow::Probe> {
    with_parsed(&f.text, |parsed| {
        let Ok(file) = parsed else { return Vec::new() };
        let collected = collect::collect(file);
        let mut analysis =
            flow::FileAnalysis::new(table, file_context(&f.path, &f.text), &collected.fns);
        analysis.probe = Some(std::cell::RefCell::default());
        let _ = analysis.findings(&collected);
        analysis
            .probe
            .map(std::cell::RefCell::into_inner)
            .unwrap_or_default()
    })
}

/// Checks one file against a table made by [`Checker::table_for`]: its
/// findings (suppressions applied), the number suppressed, and whether it
/// parsed.
#[must_use]
pub fn check_file(f: &SourceFile, table: &Table) -> FileResult {
    with_parsed(&f.text, |parsed| match parsed {
        Ok(file) => {
            let collected = collect::collect(file);
            let analysis =
                flow::FileAnalysis::new(table, file_context(&f.path, &f.text), &collected.fns);
            finish(f, Ok(analysis.findings(&collected)))
        }
        Err(e) => finish(f, Err(&e)),
    })
}

/// Turns a file's raw findings (or its parse error) into its result:
/// positions, dedup, suppressions.
fn finish(f: &SourceFile, raw: Result<Vec<flow::RawFinding>, &syn::Error>) -> FileResult {
    let parsed = raw.is_ok();
    let raw = raw.unwrap_or_else(|e| {
        vec![flow::raw_at(
            Rule::BadInput,
            e.span(),
            format!("file does not parse: {e}"),
        )]
    });
    let mut findings: Vec<Finding> = raw.into_iter().map(|r| finding(&f.path, r)).collect();
    findings.sort();
    findings.dedup();
    let before = findings.len();
    let allow = suppress::Allowances::scan(&f.text);
    findings.retain(|x| (x.rule == Rule::BadInput && !parsed) || !allow.allows(x.rule, x.line));
    let suppressed = before - findings.len();
    (findings, suppressed, parsed)
}

/// Checks files and folders: reads every `.rs` file under them (skipping
/// `target/`, ignored and hidden files), then checks them in parallel.
///
/// # Errors
/// A path that does not exist or a file that cannot be read.
pub fn check_paths(
    checker: &Checker,
    paths: &[impl AsRef<Path>],
) -> Result<Report, walk::WalkError> {
    let files = walk::read_sources(paths)?;
    Ok(checker.check_sources(&files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_files() -> Vec<SourceFile> {
        let helper = "use vpid_core::{convert::pid_to_vpid, IdType};
pub fn for_user(r: i32) -> i32 { pid_to_vpid(IdType::Pid, r, None).unwrap_or(0) }
/// vpid-check: pid=real
pub fn find_task(pid: i32) {}
";
        let user = "fn f(r: i32) {
    let v = for_user(r);
    find_task(v);
}
";
        vec![
            SourceFile::new("a/helper.rs", helper),
            SourceFile::new("a/user.rs", user),
        ]
    }

    #[test]
    fn kinds_flow_across_files() {
        let report = Checker::new().check_sources(&two_files());
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        let f = &report.findings[0];
        assert_eq!(
            (f.file.as_str(), f.line, f.rule),
            ("a/user.rs", 3, Rule::WrongKindArgument)
        );
    }

    #[test]
    fn one_parse_and_two_parses_agree() {
        let files = two_files();
        let checker = Checker::new();
        let table = checker.table_for(&files);
        assert_eq!(
            checker.check_sources(&files).findings,
            checker.check_with_table(&files, &table).findings
        );
    }

    #[test]
    fn concurrent_checks_do_not_block_each_other() {
        let files = two_files();
        let checker = Checker::new();
        std::thread::scope(|s| {
            let runs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| checker.check_sources(&files).findings.len()))
                .collect();
            for r in runs {
                assert_eq!(r.join().expect("no panic"), 1);
            }
        });
    }

    #[test]
    fn a_file_that_does_not_parse_is_reported_and_the_others_checked() {
        let mut files = two_files();
        files.push(SourceFile::new("a/broken.rs", "fn broken( {\n"));
        let report = Checker::new().check_sources(&files);
        assert_eq!(report.unparsed, 1);
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule == Rule::BadInput && f.file == "a/broken.rs" && f.line == 1)
        );
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule == Rule::WrongKindArgument)
        );
    }

    #[test]
    fn file_context_tells_the_numbering_crates() {
        assert!(file_context("crates/vpid-core/src/pid.rs", "").in_vpid_core);
        assert!(file_context("crates/vps/src/table/mod.rs", "").in_vps);
        assert!(!file_context("crates/vpsctl/src/main.rs", "").in_vps);
        assert!(file_context("x.rs", "use vps::Host;").uses_vps);
        assert!(!file_context("x.rs", "use pidns_vps::Host;").uses_vps);
    }
}
