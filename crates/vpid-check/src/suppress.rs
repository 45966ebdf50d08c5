//! `// vpid-check: allow(RULE)` comments: on the finding's line or the line above.

use std::collections::HashMap;

use crate::rules::Rule;

/// The allowances of one file: line → rules allowed there (by a comment on
/// that line or the one above).
#[derive(Debug, Default)]
pub struct Allowances {
    by_line: HashMap<usize, Vec<Rule>>,
}

const PREFIX: &str = "vpid-check: allow(";

impl Allowances {
    /// Scans a file's text for allow comments.
    #[must_use]
    pub fn scan(text: &str) -> Self {
        let mut by_line: HashMap<usize, Vec<Rule>> = HashMap::new();
        if !text.contains(PREFIX) {
            return Self { by_line };
        }
        for (i, line) in text.lines().enumerate() {
            let Some(comment) = line.find("//").map(|at| &line[at..]) else {
                continue;
            };
            let Some(start) = comment.find(PREFIX) else {
                continue;
            };
            let rest = &comment[start + PREFIX.len()..];
            let Some(end) = rest.find(')') else { continue };
            let rules: Vec<Rule> = rest[..end]
                .split(',')
                .filter_map(|r| Rule::from_id(r.trim()))
                .collect();
            for line_no in [i + 1, i + 2] {
                by_line.entry(line_no).or_default().extend(&rules);
            }
        }
        Self { by_line }
    }

    /// Whether `rule` is allowed on (1-based) `line`.
    #[must_use]
    pub fn allows(&self, rule: Rule, line: usize) -> bool {
        self.by_line
            .get(&line)
            .is_some_and(|rules| rules.contains(&rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_on_the_line_and_the_next() {
        let text = "a\n// vpid-check: allow(PID001, PID002) host view\nb\nc // vpid-check: allow(manual-marker-bit)\n";
        let a = Allowances::scan(text);
        assert!(a.allows(Rule::WrongKindArgument, 2) && a.allows(Rule::WrongKindArgument, 3));
        assert!(a.allows(Rule::MixedComparison, 3));
        assert!(!a.allows(Rule::WrongKindArgument, 4));
        assert!(a.allows(Rule::ManualMarkerBit, 4) && a.allows(Rule::ManualMarkerBit, 5));
        assert!(!a.allows(Rule::ManualMarkerBit, 6));
    }

    #[test]
    fn ignores_text_outside_comments() {
        let a = Allowances::scan("let s = \"vpid-check: allow(PID001)\";\n");
        assert!(!a.allows(Rule::WrongKindArgument, 1));
    }
}
