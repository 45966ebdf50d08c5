//! UI tests: every fixture under `tests/ui` is checked, and its findings
//! must be exactly the `//~ RULE` markers in it (`//~^ RULE` for the line
//! above). `near_miss_*` fixtures must give nothing at all.

use std::path::{Path, PathBuf};

use vpid_check::{Checker, Rule, SourceFile};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/ui exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    files
}

/// The (line, rule) pairs the markers of a fixture expect.
fn expected(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find("//~") else { continue };
        let rest = &line[at + 3..];
        let (line_no, rest) = match rest.strip_prefix('^') {
            Some(r) => (i, r),
            None => (i + 1, rest),
        };
        for rule in rest.split_whitespace() {
            out.push((line_no, rule.to_owned()));
        }
    }
    out.sort();
    out
}

/// The path a fixture is checked as (`// vpid-check-test: path=…`).
fn checked_path(file: &Path, text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("// vpid-check-test: path="))
        .map_or_else(
            || format!("tests/ui/{}", file.file_name().unwrap().to_string_lossy()),
            str::to_owned,
        )
}

#[test]
fn every_fixture_reports_exactly_its_markers() {
    let checker = Checker::new();
    let mut failures = Vec::new();
    let files = fixtures();
    assert!(files.len() >= 15, "fixtures missing: {files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let report =
            checker.check_sources(&[SourceFile::new(checked_path(file, &text), text.clone())]);
        let mut got: Vec<(usize, String)> = report
            .findings
            .iter()
            .map(|f| (f.line, f.rule.id().to_owned()))
            .collect();
        got.sort();
        let want = expected(&text);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("near_miss") {
            assert!(want.is_empty(), "{name}: a near-miss fixture has markers");
        }
        if got != want {
            let detail: Vec<String> = report
                .findings
                .iter()
                .map(|f| format!("  {}:{} {} {}", f.line, f.column, f.rule, f.message))
                .collect();
            failures.push(format!(
                "{name}:\n want {want:?}\n got  {got:?}\n{}",
                detail.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_rule_has_a_fixture_that_triggers_it() {
    let mut seen = std::collections::BTreeSet::new();
    for file in fixtures() {
        let text = std::fs::read_to_string(&file).unwrap();
        seen.extend(expected(&text).into_iter().map(|(_, r)| r));
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(id) = name.get(..6).filter(|s| s.starts_with("pid")) {
            assert!(Rule::from_id(id).is_some(), "{name} names no rule");
        }
    }
    for rule in Rule::ALL {
        assert!(seen.contains(rule.id()), "no fixture expects {rule}");
        let prefix = rule.id().to_lowercase();
        assert!(
            fixtures().iter().any(|f| f
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)),
            "no fixture file for {rule}"
        );
    }
}

#[test]
fn the_fixtures_are_skipped_when_checking_the_crate() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = vpid_check::walk::rust_files(&[crate_dir]).unwrap();
    assert!(files.iter().any(|f| f.ends_with("src/lib.rs")));
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with(crate_dir.join("tests/ui"))),
        "{files:?}"
    );
}
