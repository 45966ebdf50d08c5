//! The targets, as ratios measured in one run.

use super::{Memory, Results};

/// Whether a target is met.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Verdict {
    /// Met.
    Pass,
    /// Missed.
    Fail,
    /// Some figure it needs was not measured.
    Missing,
    /// Not a target: a reference figure that helps read the others.
    Reference,
}

/// One target: what it asks, the measured figure, the verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// What is compared, as the issue puts it.
    pub target: String,
    /// The measured ratio (or bytes), if every figure was there.
    pub measured: Option<f64>,
    /// The bound, written out (`≤ 1.5×`).
    pub bound: String,
    /// Met, missed, or not measured.
    pub verdict: Verdict,
}

#[derive(Copy, Clone)]
enum Bound {
    AtMost(f64),
    AtLeast(f64),
}

fn check(target: String, measured: Option<f64>, bound: Bound, unit: &str) -> Check {
    let (text, ok) = match bound {
        Bound::AtMost(b) => (format!("≤ {b}{unit}"), measured.map(|m| m <= b)),
        Bound::AtLeast(b) => (format!("≥ {b}{unit}"), measured.map(|m| m >= b)),
    };
    Check {
        target,
        measured,
        bound: text,
        verdict: match ok {
            Some(true) => Verdict::Pass,
            Some(false) => Verdict::Fail,
            None => Verdict::Missing,
        },
    }
}

fn ratio(results: &Results, a: &str, b: &str) -> Option<f64> {
    Some(results.median(a)? / results.median(b)?)
}

/// The faster of the two rivals' medians for `group/{rival}{suffix}`.
fn faster_rival(results: &Results, group: &str, suffix: &str) -> Option<f64> {
    let p = results.median(&format!("{group}/pspace{suffix}"))?;
    let n = results.median(&format!("{group}/pidns{suffix}"))?;
    Some(p.min(n))
}

/// Every target of the issue, evaluated on `results` and `memory`.
#[must_use]
pub fn checks(results: &Results, memory: Option<&Memory>) -> Vec<Check> {
    let mut out = Vec::new();
    for n in [1000, 32000] {
        out.push(check(
            format!("translate: marker_bit / array_index, n = {n}"),
            ratio(
                results,
                &format!("translate/marker_bit/{n}"),
                &format!("translate/array_index/{n}"),
            ),
            Bound::AtMost(1.5),
            "×",
        ));
    }
    for (n, limit) in [(1000, 5.0), (32000, 8.0)] {
        out.push(check(
            format!("translate: vps_linear / array_index, n = {n}"),
            ratio(
                results,
                &format!("translate/vps_linear/{n}"),
                &format!("translate/array_index/{n}"),
            ),
            Bound::AtMost(limit),
            "×",
        ));
    }
    for n in [1000, 32000] {
        out.push(check(
            format!("translate: vps_sparse / vps_linear, n = {n}"),
            ratio(
                results,
                &format!("translate/vps_sparse/{n}"),
                &format!("translate/vps_linear/{n}"),
            ),
            Bound::AtMost(1.3),
            "×",
        ));
        for mapping in ["vps_linear", "vps_sparse"] {
            out.push(check(
                format!("translate: miss / hit, {mapping}, n = {n}"),
                ratio(
                    results,
                    &format!("translate_miss/{mapping}/{n}"),
                    &format!("translate/{mapping}/{n}"),
                ),
                Bound::AtMost(1.2),
                "×",
            ));
        }
        out.push(check(
            format!("translate: vps_linear / faster rival, n = {n}"),
            results
                .median(&format!("translate/vps_linear/{n}"))
                .zip(faster_rival(results, "translate", &format!("/{n}")))
                .map(|(v, r)| v / r),
            Bound::AtMost(1.0),
            "×",
        ));
    }
    out.push(check(
        "getpid: vps / faster rival".to_owned(),
        results
            .median("getpid/vps")
            .zip(faster_rival(results, "getpid", ""))
            .map(|(v, r)| v / r),
        Bound::AtMost(1.0),
        "×",
    ));
    out.push(check(
        "fork_exit: vps / faster rival".to_owned(),
        results
            .median("fork_exit/vps")
            .zip(faster_rival(results, "fork_exit", ""))
            .map(|(v, r)| v / r),
        Bound::AtMost(1.1),
        "×",
    ));
    out.push(check(
        "fork_exit: vps / bitmap_alloc".to_owned(),
        ratio(results, "fork_exit/vps", "fork_exit/bitmap_alloc"),
        Bound::AtMost(40.0),
        "×",
    ));
    out.push(check(
        "getpid: kernel / vps (vps faster by)".to_owned(),
        ratio(results, "getpid/kernel", "getpid/vps"),
        Bound::AtLeast(10.0),
        "×",
    ));
    out.push(check(
        "scaling: read_only speed-up, 1 → 2 threads".to_owned(),
        ratio(results, "scaling/read_only/1", "scaling/read_only/2"),
        Bound::AtLeast(1.8),
        "×",
    ));
    out.push(check(
        "scaling: mixed_90_10 speed-up, 1 → 2 threads".to_owned(),
        ratio(results, "scaling/mixed_90_10/1", "scaling/mixed_90_10/2"),
        Bound::AtLeast(1.3),
        "×",
    ));
    for (function, what) in [
        ("dense_array", "dense array reads"),
        ("pspace_read_only", "pspace read_only"),
        ("pidns_read_only", "pidns read_only"),
        ("pspace_mixed_90_10", "pspace mixed_90_10"),
        ("pidns_mixed_90_10", "pidns mixed_90_10"),
    ] {
        let mut reference = check(
            format!("scaling reference: {what}, speed-up 1 → 2 threads"),
            ratio(
                results,
                &format!("scaling_reference/{function}/1"),
                &format!("scaling_reference/{function}/2"),
            ),
            Bound::AtLeast(1.8),
            "×",
        );
        reference.bound = "(not a target)".to_owned();
        if reference.verdict != Verdict::Missing {
            reference.verdict = Verdict::Reference;
        }
        out.push(reference);
    }
    let per_level = results
        .median("nesting/pidns/32")
        .zip(results.median("nesting/pidns/1"))
        .map(|(deep, shallow)| (deep - shallow) / 31.0);
    out.push(Check {
        target: "nesting reference: pidns fork_exit, ns added per level (1 → 32)".to_owned(),
        measured: per_level,
        bound: "(not a target)".to_owned(),
        verdict: if per_level.is_some() {
            Verdict::Reference
        } else {
            Verdict::Missing
        },
    });
    let flat = ratio(results, "nesting_lookup/pidns/32", "nesting_lookup/pidns/1");
    out.push(Check {
        target: "nesting reference: pidns lookup, depth 32 / depth 1".to_owned(),
        measured: flat,
        bound: "(not a target)".to_owned(),
        verdict: if flat.is_some() {
            Verdict::Reference
        } else {
            Verdict::Missing
        },
    });
    for design in ["vps", "pspace", "pidns"] {
        out.push(check(
            format!("kill_group: {design}, group of 1000 / group of 10 (grows with the group)"),
            ratio(
                results,
                &format!("kill_group/{design}/1000"),
                &format!("kill_group/{design}/10"),
            ),
            Bound::AtLeast(10.0),
            "×",
        ));
    }
    // The checkpoint issue's target: under 1 µs per process each way.
    for way in ["checkpoint", "restore"] {
        for n in [1000u32, 100_000] {
            out.push(check(
                format!("checkpoint_restore: {way}, ns per process, n = {n}"),
                results
                    .median(&format!("checkpoint_restore/{way}/{n}"))
                    .map(|ns| ns / f64::from(n)),
                Bound::AtMost(1000.0),
                " ns",
            ));
        }
    }
    let bytes = |d: &str| memory.and_then(|m| m.bytes_per_task.get(d).copied());
    out.push(check(
        "memory: vps bytes per task".to_owned(),
        bytes("vps"),
        Bound::AtMost(200.0),
        " B",
    ));
    out.push(check(
        "memory: vps / lighter rival".to_owned(),
        bytes("vps")
            .zip(bytes("pspace").zip(bytes("pidns")).map(|(p, n)| p.min(n)))
            .map(|(v, r)| v / r),
        Bound::AtMost(1.0),
        "×",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Estimate;

    fn results(pairs: &[(&str, f64)]) -> Results {
        Results(
            pairs
                .iter()
                .map(|&(id, m)| {
                    (
                        id.to_owned(),
                        Estimate {
                            median: m,
                            lower: m,
                            upper: m,
                        },
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn ratios_are_judged_against_their_bounds() {
        let r = results(&[
            ("translate/marker_bit/1000", 1.0),
            ("translate/array_index/1000", 0.8),
            ("translate/marker_bit/32000", 2.0),
            ("translate/array_index/32000", 1.0),
            ("getpid/kernel", 150.0),
            ("getpid/vps", 3.0),
            ("getpid/pspace", 2.0),
            ("getpid/pidns", 4.0),
        ]);
        let all = checks(&r, None);
        let find = |t: &str| all.iter().find(|c| c.target == t).unwrap();
        assert_eq!(
            find("translate: marker_bit / array_index, n = 1000").verdict,
            Verdict::Pass
        );
        assert_eq!(
            find("translate: marker_bit / array_index, n = 32000").verdict,
            Verdict::Fail
        );
        assert_eq!(
            find("getpid: kernel / vps (vps faster by)").measured,
            Some(50.0)
        );
        let rival = find("getpid: vps / faster rival");
        assert_eq!((rival.measured, rival.verdict), (Some(1.5), Verdict::Fail));
        assert_eq!(find("memory: vps bytes per task").verdict, Verdict::Missing);
        assert_eq!(find("fork_exit: vps / bitmap_alloc").bound, "≤ 40×");
        let per_process = |ns: f64| {
            let r = results(&[("checkpoint_restore/restore/1000", ns)]);
            let all = checks(&r, None);
            let c = all
                .iter()
                .find(|c| c.target == "checkpoint_restore: restore, ns per process, n = 1000")
                .unwrap()
                .clone();
            (c.measured, c.verdict)
        };
        assert_eq!(per_process(500_000.0), (Some(500.0), Verdict::Pass));
        assert_eq!(per_process(2_000_000.0), (Some(2000.0), Verdict::Fail));
    }
}
