//! Writing `docs/benchmarks.md` and its plots.

use std::fmt::Write;

use super::svg::bar_chart;
use super::{Chart, Check, Machine, Memory, Results, Series, Verdict, checks};

/// The document and the SVG files it links to (`benchmarks/<name>`).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The Markdown text.
    pub markdown: String,
    /// `(file name, SVG text)` of each plot.
    pub plots: Vec<(String, String)>,
}

const DESIGNS: [&str; 3] = ["vps", "pspace", "pidns"];
const TRANSLATE: [&str; 6] = [
    "array_index",
    "marker_bit",
    "vps_linear",
    "vps_sparse",
    "pspace",
    "pidns",
];

/// A time in nanoseconds, in the unit that keeps it short.
fn ns(v: f64) -> String {
    if v >= 10_000_000.0 {
        format!("{:.2} ms", v / 1e6)
    } else if v >= 10_000.0 {
        format!("{:.1} µs", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0} ns")
    } else {
        format!("{v:.2} ns")
    }
}

/// Orders benchmark ids with their numeric parts compared as numbers
/// (`pidns/4` before `pidns/32`).
fn natural_key(id: &str) -> Vec<(u64, String)> {
    id.split('/')
        .map(|part| match part.parse::<u64>() {
            Ok(n) => (n, String::new()),
            Err(_) => (u64::MAX, part.to_owned()),
        })
        .collect()
}

fn series(
    results: &Results,
    name: &str,
    ids: impl Iterator<Item = (f64, String)>,
) -> Option<Series> {
    let points: Vec<(f64, f64)> = ids
        .filter_map(|(x, id)| results.median(&id).map(|y| (x, y)))
        .collect();
    (!points.is_empty()).then(|| Series {
        name: name.to_owned(),
        points,
    })
}

fn plots(results: &Results) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let lookup = Chart {
        title: "translate: one lookup, random task".to_owned(),
        x_label: "tasks in the container (n)".to_owned(),
        y_label: "ns per lookup".to_owned(),
        log_x: true,
        log_y: true,
        series: TRANSLATE
            .iter()
            .filter_map(|f| {
                series(
                    results,
                    f,
                    [1000.0, 32000.0]
                        .into_iter()
                        .map(|n| (n, format!("translate/{f}/{n}"))),
                )
            })
            .collect(),
    };
    if !lookup.series.is_empty() {
        out.push(("translate.svg".to_owned(), lookup.to_svg()));
    }
    let bars: Vec<(String, f64)> = ["bitmap_alloc", "vps", "vps_chosen", "pspace", "pidns"]
        .iter()
        .filter_map(|f| {
            results
                .median(&format!("fork_exit/{f}"))
                .map(|m| ((*f).to_owned(), m))
        })
        .collect();
    if !bars.is_empty() {
        out.push((
            "fork_exit.svg".to_owned(),
            bar_chart("fork_exit: fork + exit + reap", "ns", &bars),
        ));
    }
    let nesting = Chart {
        title: "nesting depth: fork_exit and lookup".to_owned(),
        x_label: "container depth".to_owned(),
        y_label: "ns".to_owned(),
        log_x: false,
        log_y: true,
        series: ["pidns", "pspace"]
            .iter()
            .flat_map(|design| {
                [("fork_exit", "nesting"), ("lookup", "nesting_lookup")].map(|(what, group)| {
                    series(
                        results,
                        &format!("{design} {what}"),
                        [1.0, 4.0, 32.0]
                            .into_iter()
                            .map(|d| (d, format!("{group}/{design}/{d}"))),
                    )
                })
            })
            .flatten()
            .collect(),
    };
    if !nesting.series.is_empty() {
        out.push(("nesting.svg".to_owned(), nesting.to_svg()));
    }
    out
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "**FAIL**",
        Verdict::Missing => "not measured",
        Verdict::Reference => "reference",
    }
}

fn targets_table(out: &mut String, all: &[Check]) {
    out.push_str("| target | measured | bound | verdict |\n|---|---|---|---|\n");
    for c in all {
        let measured = c
            .measured
            .map_or_else(|| "–".to_owned(), |m| format!("{m:.2}"));
        let _ = writeln!(
            out,
            "| {} | {measured} | {} | {} |",
            c.target,
            c.bound,
            verdict(c.verdict)
        );
    }
}

fn results_table(out: &mut String, results: &Results) {
    let mut ids: Vec<&String> = results.0.keys().collect();
    ids.sort_by_key(|id| natural_key(id));
    let mut group = "";
    for id in ids {
        let e = results.0[id];
        let (this_group, rest) = id.split_once('/').unwrap_or((id, ""));
        if this_group != group {
            group = this_group;
            let _ = writeln!(
                out,
                "\n### {group}\n\n| benchmark | median | 95% interval of the median |\n|---|---|---|"
            );
        }
        let _ = writeln!(
            out,
            "| `{rest}` | {} | {} – {} |",
            ns(e.median),
            ns(e.lower),
            ns(e.upper)
        );
    }
}

fn memory_table(out: &mut String, memory: Option<&Memory>) {
    match memory {
        None => out.push_str(
            "Not measured: run `cargo run --release -p vpid-benches --bin memory` first.\n",
        ),
        Some(m) => {
            let _ = writeln!(
                out,
                "Heap bytes per task with {} tasks live (100 containers), `pid_max` {}; counted by a global allocator wrapper.\n",
                m.tasks, m.pid_max
            );
            out.push_str("| design | bytes per task |\n|---|---|\n");
            for d in DESIGNS {
                if let Some(b) = m.bytes_per_task.get(d) {
                    let _ = writeln!(out, "| {d} | {b:.1} |");
                }
            }
        }
    }
}

/// The report for these results. `analysis` is the hand-written part (why a
/// target is missed, what the figures mean), kept in `benches/analysis.md`.
#[must_use]
pub fn render(
    results: &Results,
    memory: Option<&Memory>,
    machine: &Machine,
    analysis: &str,
) -> Report {
    let all = checks(results, memory);
    let plots = plots(results);
    let mut out = String::new();
    out.push_str("# Benchmarks: the marker-bit design against pspace and Linux namespaces\n\n");
    out.push_str(
        "Generated by `cargo run -p vpid-benches --bin report` from the results of \
         `cargo bench -p vpid-benches` and `cargo run --release -p vpid-benches --bin memory`; \
         do not edit by hand (the analysis comes from `benches/analysis.md`).\n\n",
    );
    let _ = writeln!(
        out,
        "Measured on {} ({} logical cores), {}, on {}. Every ratio below comes from one run.\n",
        machine.cpu, machine.cores, machine.kernel, machine.date
    );
    let count = |v: Verdict| all.iter().filter(|c| c.verdict == v).count();
    let (failed, missing) = (count(Verdict::Fail), count(Verdict::Missing));
    let _ = writeln!(
        out,
        "## Targets\n\n{} of {} targets met, {failed} missed, {missing} not measured.\n",
        count(Verdict::Pass),
        all.len() - count(Verdict::Reference)
    );
    targets_table(&mut out, &all);
    out.push_str("\n## Memory\n\n");
    memory_table(&mut out, memory);
    if !plots.is_empty() {
        out.push_str("\n## Plots\n\n");
        let links: Vec<String> = plots
            .iter()
            .map(|(name, _)| format!("![{name}](benchmarks/{name})"))
            .collect();
        let _ = writeln!(out, "{}", links.join("\n\n"));
    }
    out.push_str("\n## Every benchmark\n");
    if results.0.is_empty() {
        out.push_str("\nNo criterion results found.\n");
    } else {
        results_table(&mut out, results);
    }
    if !analysis.trim().is_empty() {
        out.push('\n');
        out.push_str(analysis.trim_end());
        out.push('\n');
    }
    Report {
        markdown: out,
        plots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Estimate;

    #[test]
    fn units_and_order() {
        assert_eq!(ns(3.456), "3.46 ns");
        assert_eq!(ns(4321.0), "4321 ns");
        assert_eq!(ns(69_198.0), "69.2 µs");
        assert_eq!(ns(32_960_600.0), "32.96 ms");
        let mut ids = vec!["n/pidns/32", "n/pidns/4", "n/pidns/1", "n/bitmap"];
        ids.sort_by_key(|id| natural_key(id));
        assert_eq!(ids, ["n/bitmap", "n/pidns/1", "n/pidns/4", "n/pidns/32"]);
    }

    #[test]
    fn renders_targets_results_and_plots() {
        let mut results = Results::default();
        for (id, m) in [
            ("translate/vps_linear/1000", 4.0),
            ("translate/vps_linear/32000", 6.0),
            ("translate/pidns/1000", 9.0),
            ("fork_exit/vps", 150.0),
            ("fork_exit/bitmap_alloc", 3.0),
            ("nesting/pidns/4", 300.0),
        ] {
            results.0.insert(
                id.to_owned(),
                Estimate {
                    median: m,
                    lower: m,
                    upper: m,
                },
            );
        }
        let machine = Machine {
            cpu: "cpu".to_owned(),
            cores: 2,
            kernel: "Linux 6".to_owned(),
            date: "2026-01-01 00:00 UTC".to_owned(),
        };
        let report = render(&results, None, &machine, "## Analysis\n\nwhy.\n");
        assert!(
            report
                .markdown
                .contains("| fork_exit: vps / bitmap_alloc | 50.00 | ≤ 40× | **FAIL** |")
        );
        assert!(report.markdown.contains("### translate\n"));
        assert!(report.markdown.contains("| `vps_linear/1000` | 4.00 ns"));
        assert!(report.markdown.contains("## Analysis"));
        assert!(report.markdown.contains("on 2026-01-01 00:00 UTC"));
        let names: Vec<&str> = report.plots.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["translate.svg", "fork_exit.svg", "nesting.svg"]);
        assert!(
            report
                .markdown
                .contains("![translate.svg](benchmarks/translate.svg)")
        );
    }
}
