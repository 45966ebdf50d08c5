//! The `ps` view: [`PsEntry`] and [`TaskState`].

use std::fmt;

use vpid_core::RawPid;

use crate::ids::{TaskRef, VpsId};
use crate::wait_status::WaitStatus;

/// The state of a task, as `ps` shows it.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum TaskState {
    /// Running or runnable (`R`).
    Running,
    /// Stopped by a signal (`T`).
    Stopped,
    /// Exited, waiting to be reaped (`Z`).
    Zombie,
}

impl TaskState {
    /// The `ps` STAT letter.
    ///
    /// ```
    /// use vps::TaskState;
    /// assert_eq!(TaskState::Zombie.letter(), 'Z');
    /// ```
    #[must_use]
    pub const fn letter(self) -> char {
        match self {
            TaskState::Running => 'R',
            TaskState::Stopped => 'T',
            TaskState::Zombie => 'Z',
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

/// One line of the `ps` view, in the viewer's numbers.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct PsEntry {
    /// The task's TID.
    pub pid: RawPid,
    /// Its thread group (process) ID.
    pub tgid: RawPid,
    /// Its parent's process ID, 0 where the parent is not visible.
    pub ppid: RawPid,
    /// Its process group ID.
    pub pgid: RawPid,
    /// Its session ID.
    pub sid: RawPid,
    /// Running, stopped or zombie.
    pub state: TaskState,
    /// For a zombie, what `waitpid` will report.
    pub exit_status: Option<WaitStatus>,
    /// In the host view only: the task's VPS (OpenVZ `envID`), `None` for a host task.
    pub vps: Option<VpsId>,
    /// In the host view only, for a task in a VPS: its PID inside the VPS (OpenVZ `VPid`).
    pub vpid: Option<RawPid>,
    /// A handle to the task.
    pub task: TaskRef,
}
