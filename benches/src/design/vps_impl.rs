//! [`Design`] for the marker-bit design, through the public `vps` API.

use vpid_core::{CloneFlags, Errno, RawPid, WaitOptions};
use vps::{Host, HostConfig, Signal, TaskRef, Viewer, VpsConfig, VpsId, WaitStatus};

use super::{Design, Forked};

/// The marker-bit design (the `vps` crate).
pub struct Vps(pub Host);

impl Design for Vps {
    type Task = TaskRef;
    const NAME: &'static str = "vps";

    fn with_pid_max(pid_max: RawPid) -> Result<Self, Errno> {
        Host::new(HostConfig { pid_max }).map(Self)
    }
    fn host_init(&self) -> TaskRef {
        self.0.init()
    }
    fn create_container(&self, id: u32) -> Result<Forked<TaskRef>, Errno> {
        let child = self
            .0
            .create_vps(self.0.init(), VpsId(id), VpsConfig::default())?;
        Ok(Forked {
            child,
            pid: self.0.pid_of(Viewer::Host, child)?,
        })
    }
    #[inline]
    fn fork(&self, parent: TaskRef, chosen: Option<RawPid>) -> Result<Forked<TaskRef>, Errno> {
        let f = self.0.fork(parent, CloneFlags::empty(), chosen)?;
        Ok(Forked {
            child: f.child,
            pid: f.pid,
        })
    }
    #[inline]
    fn exit(&self, task: TaskRef, code: i32) -> Result<(), Errno> {
        self.0.exit(task, code)
    }
    #[inline]
    fn reap(&self, parent: TaskRef, pid: RawPid) -> Result<Option<i32>, Errno> {
        Ok(self
            .0
            .waitpid(parent, pid, WaitOptions::WNOHANG)?
            .map(|w| match w.status {
                WaitStatus::Exited(code) => code,
                WaitStatus::Signaled(sig) | WaitStatus::Stopped(sig) => 128 + sig.0,
                WaitStatus::Continued => 0,
            }))
    }
    #[inline]
    fn getpid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        self.0.getpid(task)
    }
    fn getppid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        self.0.getppid(task)
    }
    fn getpgid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        self.0.getpgid(task, 0)
    }
    #[inline]
    fn lookup(&self, viewer: TaskRef, nr: RawPid) -> Result<TaskRef, Errno> {
        self.0.lookup(viewer, nr)
    }
    #[inline]
    fn pid_of(&self, viewer: Option<TaskRef>, task: TaskRef) -> Result<RawPid, Errno> {
        self.0
            .pid_of(viewer.map_or(Viewer::Host, Viewer::Task), task)
    }
    fn setpgid(&self, caller: TaskRef, pid: RawPid, pgid: RawPid) -> Result<(), Errno> {
        self.0.setpgid(caller, pid, pgid)
    }
    #[inline]
    fn kill_group(&self, caller: TaskRef, pgid: RawPid) -> Result<(), Errno> {
        self.0.kill(caller, -pgid, Signal(0))
    }
    fn visible(&self, viewer: Option<TaskRef>) -> Result<Vec<RawPid>, Errno> {
        let mut pids: Vec<RawPid> = self
            .0
            .ps(viewer.map_or(Viewer::Host, Viewer::Task))?
            .into_iter()
            .map(|e| e.pid)
            .collect();
        pids.sort_unstable();
        Ok(pids)
    }
}
