//! The persistent host of the single-operation commands (`vpsctl create 101`).
//!
//! The state file is a log, not a snapshot: the statements that changed the
//! host, in canonical scenario text, and every restored image inline (in hex,
//! so that replay does not depend on the image file still being there). Each
//! invocation locks `PATH.lock`, replays the log on a fresh model (the model is
//! deterministic, so this rebuilds the same tasks with the same numbers), runs
//! its one operation, and, if the operation changed the host, writes the
//! longer log to a temporary file that it renames over `PATH`. So:
//!
//! - two invocations at once run one after the other, and neither loses the
//!   other's update;
//! - a failed operation, or a crash, leaves the file as it was;
//! - a file that does not parse or does not replay is reported as corrupt and
//!   is never overwritten.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

use crate::exec::{Executor, OpError, StepError, Value, check_outcome};
use crate::scenario::{Op, Outcome, Statement, StatementKind, parse_line};

/// The `format` field every state file carries.
pub const FORMAT: &str = "vpsctl-state";

/// The version of the state format this build reads and writes.
pub const VERSION: u32 = 1;

/// One change to the host.
#[derive(Clone, Eq, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// A statement, in canonical scenario text.
    Statement(String),
    /// An image restored as a VPS.
    Restore {
        /// The VPS id it was restored as.
        as_vps: u32,
        /// The image bytes, in lowercase hex.
        image: String,
    },
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    format: String,
    version: u32,
    log: Vec<Entry>,
}

/// What can go wrong with the state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file or its lock could not be read, written or locked.
    #[error("state file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The file exists but is not a state file this build can replay.
    #[error("state file {} is corrupt ({reason}); it was left untouched", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// A host rebuilt from a state file, held locked until dropped.
pub struct PersistentHost {
    path: PathBuf,
    log: Vec<Entry>,
    changed: bool,
    executor: Executor,
    _lock: File,
}

impl PersistentHost {
    /// Locks the state file at `path` (waiting for another invocation to
    /// finish), and replays it; a missing file is an empty host. Image files
    /// named by later operations are relative to `workdir`.
    pub fn open(path: &Path, workdir: &Path) -> Result<Self, StateError> {
        let io_error = |source| StateError::Io {
            path: path.to_owned(),
            source,
        };
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(path))
            .map_err(io_error)?;
        FileExt::lock_exclusive(&lock).map_err(io_error)?;
        let log = match fs::read(path) {
            Ok(bytes) => parse_state(&bytes).map_err(|reason| StateError::Corrupt {
                path: path.to_owned(),
                reason,
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_error(e)),
        };
        let mut executor = Executor::new(workdir);
        for (index, entry) in log.iter().enumerate() {
            replay(&mut executor, entry).map_err(|why| StateError::Corrupt {
                path: path.to_owned(),
                reason: format!("entry {} does not replay: {why}", index + 1),
            })?;
        }
        Ok(Self {
            path: path.to_owned(),
            log,
            changed: false,
            executor,
            _lock: lock,
        })
    }

    /// The rebuilt host's executor, for read-only use.
    #[must_use]
    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    /// Runs one statement; if it changes the host, it is added to the log.
    /// A `restore` reads its image now and keeps it inline in the log.
    pub fn run(&mut self, statement: &Statement) -> Result<Value, StepError> {
        let (op, outcome) = match &statement.kind {
            StatementKind::Do(op) => (op, &Outcome::Succeeds),
            StatementKind::Expect { op, outcome } => (op, outcome),
        };
        if let Op::Restore { file, as_vps } = op {
            let result = self.restore_file(file, *as_vps);
            return check_outcome(result, outcome);
        }
        let value = self.executor.run_statement(statement)?;
        if changes_host(op) && !matches!(outcome, Outcome::Fails(_)) {
            self.log.push(Entry::Statement(statement.to_string()));
            self.changed = true;
        }
        Ok(value)
    }

    fn restore_file(&mut self, file: &Path, as_vps: u32) -> Result<Value, OpError> {
        let path = self.executor.workdir().join(file);
        let image = fs::read(&path).map_err(|source| OpError::Io { path, source })?;
        self.restore(&image, as_vps)
    }

    /// Restores an image as VPS `as_vps`, and logs it with the image inline.
    pub fn restore(&mut self, image: &[u8], as_vps: u32) -> Result<Value, OpError> {
        let init = self.executor.restore_from(image, as_vps)?;
        self.log.push(Entry::Restore {
            as_vps,
            image: to_hex(image),
        });
        self.changed = true;
        Ok(Value::number(init.real().as_raw()))
    }

    /// Writes the log back if it changed (atomically: temporary file, then
    /// rename), and releases the lock.
    pub fn save(self) -> Result<(), StateError> {
        if !self.changed {
            return Ok(());
        }
        let io_error = |source| StateError::Io {
            path: self.path.clone(),
            source,
        };
        let file = StateFile {
            format: FORMAT.to_owned(),
            version: VERSION,
            log: self.log.clone(),
        };
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io_error)?;
        serde_json::to_writer_pretty(&mut temp, &file).map_err(|e| io_error(e.into()))?;
        temp.write_all(b"\n").map_err(io_error)?;
        temp.as_file().sync_all().map_err(io_error)?;
        temp.persist(&self.path).map_err(|e| io_error(e.error))?;
        Ok(())
    }
}

/// The lock file of a state file: `PATH.lock`.
#[must_use]
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Whether an operation changes the host (and so belongs in the log).
#[must_use]
pub fn changes_host(op: &Op) -> bool {
    !matches!(
        op,
        Op::Ps { .. } | Op::Show { .. } | Op::Echo { .. } | Op::Query(_) | Op::Checkpoint { .. }
    )
}

fn parse_state(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let file: StateFile =
        serde_json::from_slice(bytes).map_err(|e| format!("not a state file: {e}"))?;
    if file.format != FORMAT {
        return Err(format!("format is {:?}, not {FORMAT:?}", file.format));
    }
    if file.version != VERSION {
        return Err(format!(
            "version {} (this build reads version {VERSION})",
            file.version
        ));
    }
    Ok(file.log)
}

fn replay(executor: &mut Executor, entry: &Entry) -> Result<(), String> {
    match entry {
        Entry::Statement(text) => {
            let statement = parse_line(1, text)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "an empty statement".to_owned())?;
            executor
                .run_statement(&statement)
                .map(drop)
                .map_err(|e| format!("{text}: {e}"))
        }
        Entry::Restore { as_vps, image } => {
            let bytes = from_hex(image).ok_or_else(|| "an image that is not hex".to_owned())?;
            executor
                .restore_from(&bytes[..], *as_vps)
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        assert_eq!(to_hex(&bytes), "00017f80ff");
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes.to_vec()));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn the_lock_sits_next_to_the_state() {
        assert_eq!(
            lock_path(Path::new("dir/vpsctl.state")),
            PathBuf::from("dir/vpsctl.state.lock")
        );
    }

    #[test]
    fn a_state_file_of_another_format_is_refused() {
        assert!(
            parse_state(b"{\"format\":\"other\",\"version\":1,\"log\":[]}")
                .unwrap_err()
                .contains("format")
        );
        assert!(
            parse_state(b"{\"format\":\"vpsctl-state\",\"version\":9,\"log\":[]}")
                .unwrap_err()
                .contains("version 9")
        );
        assert!(
            parse_state(b"garbage")
                .unwrap_err()
                .starts_with("not a state file")
        );
        assert_eq!(parse_state(b"{\"format\":\"vpsctl-state\",\"version\":1,\"log\":[{\"statement\":\"create 1\"}]}"), Ok(vec![Entry::Statement("create 1".into())]));
    }
}
