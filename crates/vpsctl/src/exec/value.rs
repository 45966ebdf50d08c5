//! What an operation gives back.

use std::fmt;

use serde::Serialize;
use vpid_core::RawPid;

use crate::view::PsTable;

/// The result of one operation, printed for people, serialized for programs,
/// and compared as text by `expect ... == VALUE`.
#[derive(Clone, Eq, PartialEq, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    /// Nothing to report.
    Unit,
    /// A PID or another number.
    Number {
        /// The number.
        value: i64,
    },
    /// A word or short text (`R`, `none`, a disposition, a task name).
    Text {
        /// The text.
        text: String,
    },
    /// What `waitpid` reaped, in the waiter's numbers.
    Waited {
        /// The PID, as the waiter sees it.
        pid: RawPid,
        /// `exited 0`, `signaled SIGKILL`, `stopped SIGTSTP` or `continued`.
        status: String,
    },
    /// A `ps` view.
    Ps {
        /// The view.
        table: PsTable,
        /// Whether to print it as a tree.
        tree: bool,
    },
    /// Lines of text for people (`echo`, `show`).
    Lines {
        /// The text.
        text: String,
    },
}

impl Value {
    /// A number.
    #[must_use]
    pub fn number(value: impl Into<i64>) -> Value {
        Value::Number {
            value: value.into(),
        }
    }

    /// A word.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Value {
        Value::Text { text: text.into() }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unit => f.write_str("ok"),
            Value::Number { value } => write!(f, "{value}"),
            Value::Text { text } | Value::Lines { text } => f.write_str(text.trim_end()),
            Value::Waited { pid, status } => write!(f, "{pid} {status}"),
            Value::Ps { table, tree } => {
                let text = if *tree { table.tree() } else { table.columns() };
                f.write_str(text.trim_end())
            }
        }
    }
}
