//! Reading criterion's `new/estimates.json` files.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::ReportError;

/// One benchmark's time per iteration, in nanoseconds.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Estimate {
    /// The median.
    pub median: f64,
    /// The lower bound of the median's 95% confidence interval.
    pub lower: f64,
    /// The upper bound.
    pub upper: f64,
}

/// Every benchmark found, by full id (`group/function/parameter`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Results(pub BTreeMap<String, Estimate>);

impl Results {
    /// The median of benchmark `id`, in nanoseconds.
    #[must_use]
    pub fn median(&self, id: &str) -> Option<f64> {
        self.0.get(id).map(|e| e.median)
    }
}

/// Reads every `*/new/estimates.json` (with its `benchmark.json`) under
/// `dir`, criterion's output directory. A missing directory gives no results.
pub fn load_results(dir: &Path) -> Result<Results, ReportError> {
    let mut results = Results::default();
    if dir.exists() {
        walk(dir, &mut results)?;
    }
    Ok(results)
}

fn walk(dir: &Path, results: &mut Results) -> Result<(), ReportError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ReportError::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| ReportError::io(dir, e))?.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            let estimates = path.join("estimates.json");
            if estimates.exists() {
                let id = full_id(&path.join("benchmark.json"))?;
                results.0.insert(id, read_estimate(&estimates)?);
            }
        } else if path
            .file_name()
            .is_none_or(|n| n != "report" && n != "base")
        {
            walk(&path, results)?;
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ReportError::malformed(path, e.to_string()))
}

fn full_id(path: &Path) -> Result<String, ReportError> {
    read_json(path)?
        .get("full_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ReportError::malformed(path, "no full_id"))
}

fn read_estimate(path: &Path) -> Result<Estimate, ReportError> {
    let json = read_json(path)?;
    let median = json
        .get("median")
        .ok_or_else(|| ReportError::malformed(path, "no median"))?;
    let number = |v: Option<&Value>, what: &str| {
        v.and_then(Value::as_f64)
            .ok_or_else(|| ReportError::malformed(path, format!("no {what}")))
    };
    let interval = median.get("confidence_interval");
    Ok(Estimate {
        median: number(median.get("point_estimate"), "median point estimate")?,
        lower: number(interval.and_then(|i| i.get("lower_bound")), "lower bound")?,
        upper: number(interval.and_then(|i| i.get("upper_bound")), "upper bound")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a benchmark result the way criterion lays it out.
    pub(crate) fn fake(dir: &Path, id: &str, median: f64) {
        let new = dir.join(id).join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            format!(r#"{{"full_id":"{id}"}}"#),
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            format!(
                r#"{{"median":{{"point_estimate":{median},"confidence_interval":{{"lower_bound":{},"upper_bound":{}}}}}}}"#,
                median * 0.9,
                median * 1.1
            ),
        )
        .unwrap();
    }

    #[test]
    fn reads_nested_results_and_skips_reports() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), "translate/vps_linear/1000", 5.0);
        fake(dir.path(), "getpid/kernel", 150.0);
        std::fs::create_dir_all(dir.path().join("report")).unwrap();
        let results = load_results(dir.path()).unwrap();
        assert_eq!(results.0.len(), 2);
        assert_eq!(results.median("getpid/kernel"), Some(150.0));
        let e = results.0["translate/vps_linear/1000"];
        assert!(e.lower < e.median && e.median < e.upper);
    }

    #[test]
    fn malformed_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("x/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"full_id":"x"}"#).unwrap();
        std::fs::write(new.join("estimates.json"), "{}").unwrap();
        let err = load_results(dir.path()).unwrap_err();
        assert!(err.to_string().contains("no median"), "{err}");
        assert_eq!(
            load_results(&dir.path().join("absent")).unwrap(),
            Results::default()
        );
    }
}
