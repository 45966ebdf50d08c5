//! What `waitpid` reports: [`WaitStatus`] and [`Waited`].

use vpid_core::RawPid;

use crate::signal::Signal;

/// How a child changed state, as `waitpid` reports it.
///
/// ```
/// use vps::{Signal, WaitStatus};
/// assert_eq!(WaitStatus::Exited(3).raw(), 0x0300);
/// assert_eq!(WaitStatus::Signaled(Signal::SIGKILL).raw(), 9);
/// assert_eq!(WaitStatus::Stopped(Signal::SIGSTOP).raw(), 0x137f);
/// assert_eq!(WaitStatus::Continued.raw(), 0xffff);
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum WaitStatus {
    /// The child called exit with this code (only its low 8 bits are kept).
    Exited(i32),
    /// A signal killed the child.
    Signaled(Signal),
    /// A signal stopped the child (reported with `WUNTRACED`).
    Stopped(Signal),
    /// `SIGCONT` continued the child (reported with `WCONTINUED`).
    Continued,
}

impl WaitStatus {
    /// The Linux `wstatus` encoding (`WIFEXITED`, `WEXITSTATUS` and friends
    /// decode it).
    #[must_use]
    pub const fn raw(self) -> i32 {
        match self {
            WaitStatus::Exited(code) => (code & 0xff) << 8,
            WaitStatus::Signaled(sig) => sig.0 & 0x7f,
            WaitStatus::Stopped(sig) => ((sig.0 & 0xff) << 8) | 0x7f,
            WaitStatus::Continued => 0xffff,
        }
    }
}

/// One child reported by `waitpid`.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct Waited {
    /// The child's PID in the waiter's view (virtual inside a VPS).
    pub pid: RawPid,
    /// What happened to it.
    pub status: WaitStatus,
}
