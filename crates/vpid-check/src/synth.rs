//! A generator of synthetic Rust source trees that use the PID APIs, for the
//! throughput benchmark and for stress tests.

use std::fmt::Write;

use crate::SourceFile;

/// Makes one synthetic module of about `fns * 30` lines: annotated structs,
/// conversions, branches, loops, matches, closures and macros, with doc
/// comments and blank lines in about the proportion of the project's own
/// sources (18% of the lines).
#[must_use]
pub fn module(index: usize, fns: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "//! Generated module {index}.\nuse vpid_core::convert::{{pid_to_vpid, vpid_to_pid}};\nuse vpid_core::{{Context, IdType, KindError, LinearMapping, RealPid, VirtPid, is_virtual_pid}};\n"
    );
    let _ = writeln!(
        s,
        "/// A task.\npub struct Task{index} {{\n    /// vpid-check: real\n    pub pid: i32,\n    /// vpid-check: virtual\n    pub vpid: i32,\n    pub typed: RealPid,\n    pub name: String,\n}}\n"
    );
    let _ = writeln!(
        s,
        "/// vpid-check: pid=real\nfn find_task{index}(pid: i32) -> Option<usize> {{\n    usize::try_from(pid).ok()\n}}\n"
    );
    for f in 0..fns {
        let _ = writeln!(
            s,
            r#"
/// Function {f} of module {index}: resolves `raw` as user space passed it,
/// stores the real PID in the task and sums the virtual PIDs of a small
/// range (generated code for the throughput benchmark).
pub fn work{index}_{f}(t: &mut Task{index}, raw: i32, map: Option<LinearMapping>) -> Result<i32, KindError> {{
    // A number from user space: translate it if it is virtual.
    let r = if is_virtual_pid(raw, Context::Vps) {{ vpid_to_pid(IdType::Pid, raw, map)? }} else {{ raw }};
    let mut total = 0;
    for i in 0..4 {{
        let v = pid_to_vpid(IdType::Pid, r + i, map)?;
        if v > total {{
            total = v;
        }}
    }}
    t.pid = r;
    let found = find_task{index}(t.pid).map(|x| x + 1).unwrap_or(0);
    let label = match found {{
        0 => "none".to_owned(),
        n if n > 100 => format!("big {{n}}"),
        n => n.to_string(),
    }};
    assert!(!label.is_empty(), "label {{}}", label);
    let typed = VirtPid::from_raw(t.vpid).map_or(0, VirtPid::as_raw);
    let same = t.typed.as_raw() == r;
    let ids: Vec<i32> = (0..3).map(|k| k * {f} + typed).collect();
    if same && ids.len() == 3 {{
        t.name.push_str(&label);
    }}
    Ok(total + ids.iter().sum::<i32>())
}}
"#
        );
    }
    s
}

/// A tree of `files` modules of about `lines_per_file` lines each.
#[must_use]
pub fn tree(files: usize, lines_per_file: usize) -> Vec<SourceFile> {
    let fns = (lines_per_file / 30).max(1);
    (0..files)
        .map(|i| SourceFile::new(format!("gen/src/m{i}.rs"), module(i, fns)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Checker;

    #[test]
    fn generated_code_parses_and_is_clean() {
        let files = tree(3, 300);
        let report = Checker::new().check_sources(&files);
        assert_eq!(report.unparsed, 0);
        assert!(report.lines > 600, "{} lines", report.lines);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        let text = &files[0].text;
        let total = text.lines().count();
        let quiet = text
            .lines()
            .filter(|l| l.trim().is_empty() || l.trim_start().starts_with("//"))
            .count();
        let ratio = quiet as f64 / total as f64;
        assert!(
            (0.12..0.25).contains(&ratio),
            "comment and blank lines: {ratio}"
        );
    }
}
