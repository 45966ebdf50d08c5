//! Names for things in the process table: [`VpsId`], [`TaskRef`], [`Viewer`], [`Forked`].

use std::fmt;

use vpid_core::{RawPid, RealPid};

/// A VPS number chosen by the manager (OpenVZ's VEID). 0 is the host and is
/// never a VPS.
///
/// ```
/// use vps::VpsId;
/// assert_eq!(VpsId(101).to_string(), "101");
/// assert!(VpsId::HOST.is_host());
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub struct VpsId(pub u32);

impl VpsId {
    /// The number OpenVZ gives the host (VE0). No VPS may use it.
    pub const HOST: VpsId = VpsId(0);

    /// Whether this is the host's number, 0.
    #[must_use]
    pub const fn is_host(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for VpsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A handle to a task that cannot hit a recycled PID: the real PID plus the
/// generation of that PID's slot when the task was created.
///
/// Every operation given a stale handle (the task was reaped, and perhaps its
/// PID handed to a new task) returns `Err(Errno::ESRCH)`, as a pidfd would.
///
/// ```
/// use vps::{Host, HostConfig};
/// use vpid_core::{CloneFlags, Errno};
///
/// let host = Host::new(HostConfig::default()).unwrap();
/// let child = host.fork(host.init(), CloneFlags::empty(), None).unwrap().child;
/// host.exit(child, 0).unwrap();
/// host.waitpid(host.init(), child.real().as_raw(), Default::default()).unwrap();
/// assert_eq!(host.getpid(child), Err(Errno::ESRCH)); // stale now
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct TaskRef {
    real: RealPid,
    generation: u32,
}

impl TaskRef {
    /// Makes a handle from its parts. A handle that names no task is harmless:
    /// every operation given it fails with `ESRCH`.
    #[must_use]
    pub const fn from_parts(real: RealPid, generation: u32) -> TaskRef {
        TaskRef { real, generation }
    }

    /// The task's real (host) PID.
    #[must_use]
    pub const fn real(self) -> RealPid {
        self.real
    }

    /// The generation of the task's PID slot: how many tasks have held this
    /// real PID, counting this one.
    #[must_use]
    pub const fn generation(self) -> u32 {
        self.generation
    }
}

impl fmt::Display for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.real, self.generation)
    }
}

/// Who is looking: the host (sees every task, in real PIDs) or a task (sees
/// what its VPS sees, in its VPS's numbers; a host task sees as the host).
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum Viewer {
    /// The host, OpenVZ's VE0.
    Host,
    /// A task, which sees as its VPS (or as the host, for a host task).
    Task(TaskRef),
}

/// The result of a successful fork.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct Forked {
    /// A handle to the new task.
    pub child: TaskRef,
    /// The child's TID as the *caller* sees it (virtual inside a VPS).
    pub pid: RawPid,
}
