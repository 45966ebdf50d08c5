//! One interface over the three designs, so every workload and every
//! conformance scenario runs the same code against each.

mod rivals;
mod vps_impl;

use std::fmt::Debug;
use std::hash::Hash;

use vpid_core::{Errno, RawPid};

pub use rivals::{Nestable, Pidns, Pspace};
pub use vps_impl::Vps;

/// A new task and its number as the forking task sees it.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct Forked<T> {
    /// The new task.
    pub child: T,
    /// Its number in the caller's view.
    pub pid: RawPid,
}

/// The operations the comparison needs, in the calling task's numbers.
///
/// Every method is a thin call into the design's own crate; the benchmarks
/// are generic over this trait, so the calls are inlined, not dynamic.
pub trait Design: Sync + Sized {
    /// The design's task handle.
    type Task: Copy + Eq + Hash + Debug + Send + Sync;
    /// The name used in benchmark ids and reports.
    const NAME: &'static str;

    /// A host whose PIDs are below `pid_max`, with room for that many tasks.
    fn with_pid_max(pid_max: RawPid) -> Result<Self, Errno>;
    /// The host's init.
    fn host_init(&self) -> Self::Task;
    /// A new container (VPS, pspace, PID namespace) whose init is a child of
    /// the host init; `id` names it where the design names containers.
    fn create_container(&self, id: u32) -> Result<Forked<Self::Task>, Errno>;
    /// Fork, with the next number or a chosen one.
    fn fork(&self, parent: Self::Task, chosen: Option<RawPid>)
    -> Result<Forked<Self::Task>, Errno>;
    /// Exit with `code`, becoming a zombie.
    fn exit(&self, task: Self::Task, code: i32) -> Result<(), Errno>;
    /// Reap the zombie child `pid` (parent's numbers): its code, `None` if it
    /// still runs.
    fn reap(&self, parent: Self::Task, pid: RawPid) -> Result<Option<i32>, Errno>;
    /// The task's own number.
    fn getpid(&self, task: Self::Task) -> Result<RawPid, Errno>;
    /// Its parent's number in its view (0 if invisible).
    fn getppid(&self, task: Self::Task) -> Result<RawPid, Errno>;
    /// Its process group in its view.
    fn getpgid(&self, task: Self::Task) -> Result<RawPid, Errno>;
    /// The task numbered `nr` in `viewer`'s view.
    fn lookup(&self, viewer: Self::Task, nr: RawPid) -> Result<Self::Task, Errno>;
    /// The number of `task` in the view of `viewer` (`None`: the host), 0 if
    /// it is invisible there.
    fn pid_of(&self, viewer: Option<Self::Task>, task: Self::Task) -> Result<RawPid, Errno>;
    /// `setpgid(pid, pgid)` from `caller`.
    fn setpgid(&self, caller: Self::Task, pid: RawPid, pgid: RawPid) -> Result<(), Errno>;
    /// `kill(-pgid, 0)` from `caller`: Ok if the group has members.
    fn kill_group(&self, caller: Self::Task, pgid: RawPid) -> Result<(), Errno>;
    /// Every number the viewer sees (`None`: the host), sorted.
    fn visible(&self, viewer: Option<Self::Task>) -> Result<Vec<RawPid>, Errno>;
}
