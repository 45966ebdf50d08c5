//! The memory figures the `memory` program writes, as JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::ReportError;

/// Bytes per task for each design, at a number of tasks.
#[derive(Clone, Debug, PartialEq)]
pub struct Memory {
    /// How many tasks were live when measured.
    pub tasks: u64,
    /// The hosts' `pid_max`.
    pub pid_max: i64,
    /// Heap bytes per task, by design name.
    pub bytes_per_task: BTreeMap<String, f64>,
}

impl Memory {
    /// The JSON form.
    #[must_use]
    pub fn to_json(&self) -> String {
        json!({
            "tasks": self.tasks,
            "pid_max": self.pid_max,
            "bytes_per_task": self.bytes_per_task,
        })
        .to_string()
    }

    /// Reads the JSON form; `None` if the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, ReportError> {
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
        let json: Value =
            serde_json::from_str(&text).map_err(|e| ReportError::malformed(path, e.to_string()))?;
        let field = |name: &str| {
            json.get(name)
                .ok_or_else(|| ReportError::malformed(path, format!("no {name}")))
        };
        let tasks = field("tasks")?
            .as_u64()
            .ok_or_else(|| ReportError::malformed(path, "tasks"))?;
        let pid_max = field("pid_max")?
            .as_i64()
            .ok_or_else(|| ReportError::malformed(path, "pid_max"))?;
        let bytes_per_task = field("bytes_per_task")?
            .as_object()
            .ok_or_else(|| ReportError::malformed(path, "bytes_per_task"))?
            .iter()
            .map(|(k, v)| {
                v.as_f64()
                    .map(|b| (k.clone(), b))
                    .ok_or_else(|| ReportError::malformed(path, format!("bytes of {k}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(Self {
            tasks,
            pid_max,
            bytes_per_task,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let memory = Memory {
            tasks: 1_000_000,
            pid_max: 4_194_304,
            bytes_per_task: [("vps".to_owned(), 120.5), ("pidns".to_owned(), 180.0)].into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memory.json");
        std::fs::write(&path, memory.to_json()).unwrap();
        assert_eq!(Memory::load(&path).unwrap(), Some(memory));
        assert_eq!(Memory::load(&dir.path().join("none.json")).unwrap(), None);
        std::fs::write(&path, r#"{"tasks":1}"#).unwrap();
        assert!(Memory::load(&path).is_err());
    }
}
