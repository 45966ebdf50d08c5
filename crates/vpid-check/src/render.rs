//! Output: rustc-like text, JSON and SARIF 2.1.0.

use std::collections::HashMap;

use annotate_snippets::{Level, Renderer, Snippet};
use serde_json::{Value, json};

use crate::rules::{Rule, Severity};
use crate::{Finding, Report};

/// The output format.
#[derive(Copy, Clone, Eq, PartialEq, Debug, Default, clap::ValueEnum)]
pub enum Format {
    /// rustc-like diagnostics with the source line and a caret.
    #[default]
    Human,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The byte offset of a 1-based line and 1-based character column.
fn offset(text: &str, starts: &[usize], line: usize, column: usize) -> usize {
    let Some(&start) = starts.get(line.saturating_sub(1)) else {
        return text.len();
    };
    let rest = &text[start..];
    rest.char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| start + i)
}

/// Renders findings as rustc-like diagnostics. `sources` maps each finding's
/// file to its text; `styled` adds colours.
#[must_use]
pub fn human(report: &Report, sources: &HashMap<String, String>, styled: bool) -> String {
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        };
        let help = format!("fix: {}", f.rule.doc().fix);
        let name = f.rule.doc().name;
        let rendered = match sources.get(&f.file) {
            Some(text) => {
                let starts = line_starts(text);
                let first = offset(text, &starts, f.line, 1);
                let last_line_end = starts.get(f.end_line).map_or(text.len(), |&s| s);
                let window = &text[first..last_line_end];
                let lo = offset(text, &starts, f.line, f.column) - first;
                let hi = (offset(text, &starts, f.end_line, f.end_column) - first)
                    .max(lo + 1)
                    .min(window.len().max(lo + 1));
                let hi = hi.min(window.len());
                let lo = lo.min(hi);
                let message = level
                    .title(&f.message)
                    .id(f.rule.id())
                    .snippet(
                        Snippet::source(window)
                            .line_start(f.line)
                            .origin(&f.file)
                            .fold(false)
                            .annotation(level.span(lo..hi).label(name)),
                    )
                    .footer(Level::Help.title(&help));
                renderer.render(message).to_string()
            }
            None => {
                let message = level
                    .title(&f.message)
                    .id(f.rule.id())
                    .footer(Level::Note.title(&help));
                format!(
                    "{}\n  --> {}:{}:{}",
                    renderer.render(message),
                    f.file,
                    f.line,
                    f.column
                )
            }
        };
        out.push_str(&rendered);
        out.push_str("\n\n");
    }
    let (e, w) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
    );
    out.push_str(&format!(
        "vpid-check: {} file(s), {} line(s): {e} error(s), {w} warning(s), {} suppressed\n",
        report.files, report.lines, report.suppressed
    ));
    out
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "rule": f.rule.id(),
        "severity": f.severity.as_str(),
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "message": f.message,
    })
}

/// The findings as a JSON array.
#[must_use]
pub fn json(report: &Report) -> String {
    let arr: Vec<Value> = report.findings.iter().map(finding_json).collect();
    serde_json::to_string_pretty(&Value::Array(arr)).expect("json values serialize")
}

fn sarif_rule(rule: Rule) -> Value {
    let d = rule.doc();
    json!({
        "id": rule.id(),
        "name": d.name,
        "shortDescription": { "text": d.what },
        "fullDescription": { "text": format!("{} {}", d.what, d.why) },
        "help": {
            "text": format!("{}\n\nExample:\n{}\n\nFix: {}", d.why, d.example, d.fix),
            "markdown": format!("{}\n\n```rust\n{}\n```\n\n**Fix:** {}", d.why, d.example, d.fix),
        },
        "defaultConfiguration": { "level": rule.severity().as_str() },
        "properties": { "tags": ["correctness", "pid"], "precision": "high" },
    })
}

/// The findings as a SARIF 2.1.0 log that GitHub code scanning accepts.
#[must_use]
pub fn sarif(report: &Report) -> String {
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule.id(),
                "ruleIndex": Rule::ALL.iter().position(|r| *r == f.rule),
                "level": f.severity.as_str(),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file.replace('\\', "/") },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        }
                    }
                }],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "vpid-check",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/vpid/docs/checker.md",
                "rules": Rule::ALL.iter().map(|r| sarif_rule(*r)).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).expect("json values serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            findings: vec![Finding {
                file: "src/a.rs".into(),
                line: 2,
                column: 5,
                end_line: 2,
                end_column: 6,
                rule: Rule::WrongKindArgument,
                severity: Severity::Error,
                message:
                    "incorrect pid kind in argument 1 of `find_task` (expected real, got virtual)"
                        .into(),
            }],
            files: 1,
            lines: 3,
            ..Report::default()
        }
    }

    #[test]
    fn human_output_shows_the_line_and_a_caret() {
        let sources = HashMap::from([(
            "src/a.rs".to_owned(),
            "fn f() {\n    find_task(v);\n}\n".to_owned(),
        )]);
        let out = human(&report(), &sources, false);
        assert!(out.contains("error[PID001]: incorrect pid kind"), "{out}");
        assert!(out.contains("--> src/a.rs:2:5"), "{out}");
        assert!(out.contains("2 |     find_task(v);"), "{out}");
        assert!(out.contains("^ wrong-kind-argument"), "{out}");
        assert!(out.contains("1 error(s), 0 warning(s)"), "{out}");
    }

    #[test]
    fn json_has_exactly_the_documented_fields() {
        let v: Value = serde_json::from_str(&json(&report())).unwrap();
        let obj = v[0].as_object().unwrap();
        let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "column",
                "end_column",
                "end_line",
                "file",
                "line",
                "message",
                "rule",
                "severity"
            ]
        );
        assert_eq!(obj["line"], 2);
        assert_eq!(obj["rule"], "PID001");
    }

    #[test]
    fn sarif_has_the_required_fields() {
        let v: Value = serde_json::from_str(&sarif(&report())).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "vpid-check");
        for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
            for key in ["id", "name"] {
                assert!(!rule[key].as_str().unwrap().is_empty());
            }
            for key in ["shortDescription", "fullDescription", "help"] {
                assert!(!rule[key]["text"].as_str().unwrap().is_empty());
            }
        }
        let result = &run["results"][0];
        assert_eq!(result["ruleId"], "PID001");
        assert_eq!(result["ruleIndex"], 1);
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (region["startLine"].as_u64(), region["startColumn"].as_u64()),
            (Some(2), Some(5))
        );
        assert_eq!(region["endColumn"], 6);
    }
}
