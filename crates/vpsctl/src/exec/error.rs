//! What can go wrong when a scenario runs.

use std::path::PathBuf;

use vpid_core::Errno;

use super::Value;

/// An operation that could not be done.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The model refused, as the system call would.
    #[error("{0}")]
    Errno(#[from] Errno),
    /// The script uses a task name it never gave.
    #[error("unknown task name '{0}'")]
    UnknownName(String),
    /// One operation names tasks on two different hosts.
    #[error("task '{task}' is on host '{its_host}', but this operation runs on host '{host}'")]
    OtherHost {
        /// The task as the script wrote it.
        task: String,
        /// The host it lives on.
        its_host: String,
        /// The host the operation runs on.
        host: String,
    },
    /// `host NAME pid_max N` for an existing host with another `pid_max`.
    #[error("host '{0}' already exists with another pid_max")]
    HostExists(String),
    /// An image file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The model could not checkpoint the VPS.
    #[error("checkpoint failed: {message}")]
    Checkpoint {
        /// The model's explanation.
        message: String,
        /// The error number, where the failure has one.
        errno: Option<Errno>,
    },
    /// The model could not restore the image.
    #[error("restore failed: {message}")]
    Restore {
        /// The model's explanation.
        message: String,
        /// The error number, where the failure has one.
        errno: Option<Errno>,
    },
}

impl OpError {
    /// The error number this failure stands for, which `expect ... fails`
    /// compares with; `None` for mistakes in the script itself.
    #[must_use]
    pub fn errno(&self) -> Option<Errno> {
        match self {
            OpError::Errno(e) => Some(*e),
            OpError::Checkpoint { errno, .. } | OpError::Restore { errno, .. } => *errno,
            OpError::UnknownName(_)
            | OpError::OtherHost { .. }
            | OpError::HostExists(_)
            | OpError::Io { .. } => None,
        }
    }
}

/// A statement whose outcome was not the one it asked for.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The operation failed (and was not expected to).
    #[error("{0}")]
    Op(#[from] OpError),
    /// `expect ... == V` or `!= V` did not hold.
    #[error("expected {}{expected}, got {got}", if *negated { "anything but " } else { "" })]
    Mismatch {
        /// The value the script asked for (or against).
        expected: String,
        /// The value the operation gave.
        got: String,
        /// Whether the script said `!=`.
        negated: bool,
    },
    /// `expect ... fails E` succeeded.
    #[error("expected failure {}, but it succeeded{}", expected.name(), shown(got))]
    UnexpectedSuccess {
        /// The error number the script asked for.
        expected: Errno,
        /// What the operation gave.
        got: Value,
    },
    /// `expect ... fails E` failed another way.
    #[error("expected failure {}, got: {got}", expected.name())]
    WrongFailure {
        /// The error number the script asked for.
        expected: Errno,
        /// The failure that happened.
        got: OpError,
    },
}

fn shown(value: &Value) -> String {
    match value {
        Value::Unit => String::new(),
        other => format!(" with {other}"),
    }
}

/// A failed statement in a file.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {statement}: {error}")]
pub struct RunError {
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// The statement, as canonical text.
    pub statement: String,
    /// What went wrong.
    pub error: Box<StepError>,
}
