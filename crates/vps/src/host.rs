//! [`Host`]: one real PID space, its process table and its VPSes, safe to
//! call from many threads.
//!
//! # Locks
//!
//! | lock | kind | protects | taken by |
//! |---|---|---|---|
//! | `Host::table` | `parking_lot::Mutex<Table>` | the authoritative state: tasks, processes, the real PID allocator and generations, groups and sessions, every VPS and its virtual map; and it makes its holder the only writer of the read index | every structural operation (fork, exit, waitpid, setpgid, setsid, sigaction, kill, enter, create/destroy, ps, getppid/getpgid/getsid) |
//!
//! There is one lock, so there is no lock order to get wrong. `getpid`,
//! `gettid`, `lookup`, `pid_of` and `vps_of` take no lock: they read the
//! [`ReadIndex`](crate::index) (atomics only, seqlock-checked), so they never
//! wait for a fork in another VPS and never write a shared cache line.

use std::sync::Arc;

use parking_lot::Mutex;
use vpid_core::{CloneFlags, Errno, RawPid, WaitOptions};

use crate::config::{HostConfig, VpsConfig};
use crate::disposition::Disposition;
use crate::ids::{Forked, TaskRef, Viewer, VpsId};
use crate::index::ReadIndex;
use crate::ps::PsEntry;
use crate::signal::Signal;
use crate::table::Table;
use crate::wait_status::Waited;

/// A host: one real PID space, its tasks and its VPSes. `Send + Sync`.
///
/// Every method takes the task making the call (`caller`) and answers in the
/// raw numbers that task sees: virtual inside a VPS, real on the host.
///
/// ```
/// use vps::{Host, HostConfig, VpsConfig, VpsId};
/// use vpid_core::CloneFlags;
///
/// let host = Host::new(HostConfig::default()).unwrap();
/// let init = host.create_vps(host.init(), VpsId(101), VpsConfig::default()).unwrap();
/// assert_eq!(host.getpid(init), Ok(1));
/// let child = host.fork(init, CloneFlags::empty(), None).unwrap();
/// // Linear mapping: the child's virtual PID is its real PID with the marker bit.
/// assert_eq!(child.pid, child.child.real().as_raw() | 1024);
/// assert_eq!(host.getppid(child.child), Ok(1));
/// assert_eq!(host.getppid(init), Ok(0)); // the VPS init's parent is not visible
/// ```
pub struct Host {
    table: Mutex<Table>,
    index: Arc<ReadIndex>,
    init: TaskRef,
    pid_max: i32,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("pid_max", &self.pid_max)
            .field("init", &self.init)
            .finish_non_exhaustive()
    }
}

impl Host {
    /// A host with only its init (real PID 1). `EINVAL` if `pid_max` is
    /// outside `RESERVED_PIDS + 1 ..= PID_MAX_LIMIT`.
    pub fn new(config: HostConfig) -> Result<Host, Errno> {
        config.validate()?;
        let index = Arc::new(ReadIndex::new(config.pid_max));
        let (table, init) = Table::new(config.pid_max, Arc::clone(&index))?;
        Ok(Host {
            table: Mutex::new(table),
            index,
            init,
            pid_max: config.pid_max,
        })
    }

    /// The host init, real PID 1, never freed.
    #[must_use]
    pub fn init(&self) -> TaskRef {
        self.init
    }

    /// Real PIDs are below this number.
    #[must_use]
    pub fn pid_max(&self) -> i32 {
        self.pid_max
    }

    // ----- containers -----

    /// Creates a VPS (OpenVZ `VE_CREATE`): forks its init as a child of
    /// `caller`, with virtual PID, TGID, PGID and SID all 1 and a new real
    /// session and group. `EPERM` from inside a VPS (no nesting), `EINVAL`
    /// for id 0 or a `numproc` of 0, `EEXIST` if the id is in use, `EAGAIN`
    /// if no real PID (or VPS slot) is free.
    pub fn create_vps(
        &self,
        caller: TaskRef,
        id: VpsId,
        config: VpsConfig,
    ) -> Result<TaskRef, Errno> {
        self.table.lock().create_vps(caller, id, config)
    }

    /// Kills every task of a VPS (SIGKILL from the host), reaps them all,
    /// zombies included, and frees the id. `ESRCH` for an unknown id.
    pub fn destroy_vps(&self, id: VpsId) -> Result<(), Errno> {
        self.table.lock().destroy_vps(id)
    }

    /// Every VPS id, ascending (a dying VPS is listed until its last task is reaped).
    pub fn vps_ids(&self) -> Vec<VpsId> {
        self.table.lock().vps_ids()
    }

    /// A VPS's init. `ESRCH` for an unknown id.
    pub fn vps_init(&self, id: VpsId) -> Result<TaskRef, Errno> {
        self.table.lock().vps_init(id)
    }

    /// The VPS a task belongs to (`None` for a host task). Lock-free.
    pub fn vps_of(&self, task: TaskRef) -> Result<Option<VpsId>, Errno> {
        loop {
            let view = self.index.task(task).ok_or(Errno::ESRCH)?;
            let id = view.vps.and_then(|slot| self.index.vps_id(slot));
            if self.index.unchanged(task, view) {
                return Ok(id);
            }
        }
    }

    /// Whether a VPS has switched to sparse mapping. `ESRCH` for an unknown id.
    pub fn is_sparse(&self, id: VpsId) -> Result<bool, Errno> {
        self.table.lock().is_sparse(id)
    }

    /// Whether a VPS's init has exited (the VPS then admits no new task
    /// until its last task is reaped and it disappears). `ESRCH` for an unknown id.
    pub fn is_dying(&self, id: VpsId) -> Result<bool, Errno> {
        self.table.lock().is_dying(id)
    }

    // ----- lifecycle -----

    /// `clone`: a new task. `chosen` requests a virtual PID (ignored from a
    /// host task, as OpenVZ); it must carry the marker bit and be below
    /// `pid_max` (1 is only for a VPS's first process), else `EINVAL`; a
    /// taken one is `EEXIST`; asking for anything but the linear number
    /// switches the VPS to sparse mapping. `CLONE_THREAD` makes a thread of
    /// the caller's group, `CLONE_PARENT` a sibling (`EINVAL` from an init);
    /// other flags are accepted and ignored. `EAGAIN` when no real PID is
    /// free, the VPS's virtual numbers are exhausted, or its `numproc` limit
    /// is reached; `ENOMEM` into a dying VPS. A failed fork changes nothing.
    ///
    /// ```
    /// use vps::{Host, HostConfig, VpsConfig, VpsId};
    /// use vpid_core::{CloneFlags, Errno};
    ///
    /// let host = Host::new(HostConfig::default()).unwrap();
    /// let init = host.create_vps(host.init(), VpsId(1), VpsConfig::default()).unwrap();
    /// let restored = host.fork(init, CloneFlags::empty(), Some(1500)).unwrap();
    /// assert_eq!(restored.pid, 1500);
    /// assert_eq!(host.fork(init, CloneFlags::empty(), Some(1500)).unwrap_err(), Errno::EEXIST);
    /// assert_eq!(host.fork(init, CloneFlags::empty(), Some(300)).unwrap_err(), Errno::EINVAL);
    /// ```
    pub fn fork(
        &self,
        caller: TaskRef,
        flags: CloneFlags,
        chosen: Option<RawPid>,
    ) -> Result<Forked, Errno> {
        self.table.lock().fork(caller, flags, chosen)
    }

    /// `exit`. Called by a thread other than the leader, only that thread
    /// ends (as `pthread_exit`; it is released at once, threads are never
    /// waited for). Called by the leader, `exit_group`: every thread of the
    /// caller's process ends; the leader
    /// becomes a zombie with `WaitStatus::Exited(code & 0xff)` (reaped at
    /// once if its parent ignores SIGCHLD or is the host init that adopted
    /// it). A VPS init's exit kills and reaps its whole VPS first. `EPERM`
    /// for the host init.
    pub fn exit(&self, caller: TaskRef, code: i32) -> Result<(), Errno> {
        self.table.lock().exit(caller, code)
    }

    /// `wait4`. `pid > 0`: that child; `0`: a child in the caller's group;
    /// `-1`: any child; `< -1`: a child in group `-pid`; numbers in the
    /// caller's view. `Ok(None)`: matching children exist but none is
    /// waitable (the model never blocks, with or without `WNOHANG`);
    /// `ECHILD`: no matching child visible to the caller; `EINVAL` for
    /// unknown options; `ESRCH` for `i32::MIN`. The reported PID is in the
    /// caller's view; among several waitable children the lowest real PID wins.
    ///
    /// ```
    /// use vps::{Host, HostConfig, WaitStatus};
    /// use vpid_core::{CloneFlags, Errno, WaitOptions};
    ///
    /// let host = Host::new(HostConfig::default()).unwrap();
    /// let child = host.fork(host.init(), CloneFlags::empty(), None).unwrap();
    /// assert_eq!(host.waitpid(host.init(), -1, WaitOptions::WNOHANG), Ok(None));
    /// host.exit(child.child, 3).unwrap();
    /// let waited = host.waitpid(host.init(), child.pid, WaitOptions::empty()).unwrap().unwrap();
    /// assert_eq!(waited.status, WaitStatus::Exited(3));
    /// assert_eq!(host.waitpid(host.init(), -1, WaitOptions::empty()), Err(Errno::ECHILD));
    /// ```
    pub fn waitpid(
        &self,
        caller: TaskRef,
        pid: RawPid,
        options: WaitOptions,
    ) -> Result<Option<Waited>, Errno> {
        self.table.lock().waitpid(caller, pid, options)
    }

    /// `execve`, as far as PIDs care: the parent may no longer `setpgid`
    /// the caller (`EACCES`) and its handlers reset to the default.
    pub fn exec(&self, caller: TaskRef) -> Result<(), Errno> {
        self.table.lock().exec(caller)
    }

    // ----- identity -----

    /// `getpid`: the caller's TGID in its own view. Lock-free.
    #[inline]
    pub fn getpid(&self, caller: TaskRef) -> Result<RawPid, Errno> {
        self.index.live_ids(caller).map(|(_, tgid)| tgid)
    }

    /// `gettid`: the caller's TID in its own view. Lock-free.
    pub fn gettid(&self, caller: TaskRef) -> Result<RawPid, Errno> {
        self.index.live_ids(caller).map(|(pid, _)| pid)
    }

    /// `getppid`: 0 where the parent is not visible (a VPS init, a task
    /// that entered a VPS from the host).
    pub fn getppid(&self, caller: TaskRef) -> Result<RawPid, Errno> {
        self.table.lock().getppid(caller)
    }

    /// `getpgid` (`pid` 0 = the caller). `ESRCH` if `pid` names no task the
    /// caller can see.
    pub fn getpgid(&self, caller: TaskRef, pid: RawPid) -> Result<RawPid, Errno> {
        self.table.lock().getpgid(caller, pid)
    }

    /// `getsid` (`pid` 0 = the caller).
    pub fn getsid(&self, caller: TaskRef, pid: RawPid) -> Result<RawPid, Errno> {
        self.table.lock().getsid(caller, pid)
    }

    /// `find_task_by_pid_ve`: the task a number names for the caller. Inside
    /// a VPS, 1 and marker-bit numbers are looked up in the VPS's map and a
    /// plain number is a real PID that resolves only to a task of the same
    /// VPS; from the host, real PIDs resolve and marker-bit numbers do not.
    /// `ESRCH` otherwise. Lock-free.
    #[inline]
    pub fn lookup(&self, caller: TaskRef, pid: RawPid) -> Result<TaskRef, Errno> {
        self.index.lookup(caller, pid)
    }

    /// A task's TID in a viewer's numbers: real for the host (or a host
    /// task), virtual for a task of the same VPS, 0 for a task the viewer
    /// cannot see. `ESRCH` for a stale task or viewer. Lock-free.
    #[inline]
    pub fn pid_of(&self, viewer: Viewer, task: TaskRef) -> Result<RawPid, Errno> {
        match viewer {
            Viewer::Host => self.index.pid_in(None, task),
            Viewer::Task(who) => loop {
                let me = self.index.caller(who)?;
                let pid = self.index.pid_in(me.vps, task);
                if self.index.still(who, me) {
                    return pid;
                }
            },
        }
    }

    // ----- groups, sessions, signals -----

    /// `setpgid` (`pid` 0 = the caller, `pgid` 0 = `pid`), with Linux's
    /// errors: `EINVAL` for a negative `pgid` or a non-leader target,
    /// `ESRCH` for a target that is neither the caller nor its child,
    /// `EPERM` for a child in another session, a session leader, or a
    /// group that does not exist in the caller's session, `EACCES` for a
    /// child that has exec'd.
    ///
    /// ```
    /// use vps::{Host, HostConfig, VpsConfig, VpsId};
    /// use vpid_core::CloneFlags;
    ///
    /// let host = Host::new(HostConfig::default()).unwrap();
    /// let init = host.create_vps(host.init(), VpsId(1), VpsConfig::default()).unwrap();
    /// let job = host.fork(init, CloneFlags::empty(), None).unwrap();
    /// host.setpgid(init, job.pid, 0).unwrap(); // the child leads its own group
    /// assert_eq!(host.getpgid(init, job.pid), Ok(job.pid)); // virtual inside
    /// let real = job.child.real().as_raw();
    /// assert_eq!(host.getpgid(host.init(), real), Ok(real)); // real on the host
    /// ```
    pub fn setpgid(&self, caller: TaskRef, pid: RawPid, pgid: RawPid) -> Result<(), Errno> {
        self.table.lock().setpgid(caller, pid, pgid)
    }

    /// `setsid`: returns the new session (and group) ID in the caller's
    /// view. `EPERM` for a group leader or a session leader.
    pub fn setsid(&self, caller: TaskRef) -> Result<RawPid, Errno> {
        self.table.lock().setsid(caller)
    }

    /// `sigaction`: sets the caller's disposition of `sig`, returning the
    /// old one. `EINVAL` for 0, numbers outside `1..=64`, SIGKILL and SIGSTOP.
    pub fn sigaction(
        &self,
        caller: TaskRef,
        sig: Signal,
        disp: Disposition,
    ) -> Result<Disposition, Errno> {
        self.table.lock().sigaction(caller, sig, disp)
    }

    /// The signals pending for the caller (caught by handlers, not yet handled).
    pub fn pending_signals(&self, caller: TaskRef) -> Result<Vec<Signal>, Errno> {
        self.table.lock().pending(caller)
    }

    /// Runs the caller's handler for its lowest pending signal: removes it
    /// from the pending set and returns it.
    pub fn take_signal(&self, caller: TaskRef) -> Result<Option<Signal>, Errno> {
        self.table.lock().take_signal(caller)
    }

    /// `kill`. `pid > 0`: that process; `0`: the caller's group; `-1`: every
    /// process the caller may reach whose own PID is above 1, except the
    /// caller's (from the host this skips every VPS init, as OpenVZ);
    /// `< -1`: group `-pid`. `ESRCH` where nothing qualified; `EINVAL` for a
    /// signal outside `0..=64`. A caller never reaches a task outside its VPS.
    ///
    /// ```
    /// use vps::{Host, HostConfig, Signal, VpsConfig, VpsId};
    /// use vpid_core::{CloneFlags, Errno};
    ///
    /// let host = Host::new(HostConfig::default()).unwrap();
    /// let a = host.create_vps(host.init(), VpsId(1), VpsConfig::default()).unwrap();
    /// let b = host.create_vps(host.init(), VpsId(2), VpsConfig::default()).unwrap();
    /// let in_b = host.fork(b, CloneFlags::empty(), None).unwrap();
    /// // From inside A, B's task does not exist, by any number.
    /// assert_eq!(host.kill(a, in_b.pid, Signal::SIGTERM), Err(Errno::ESRCH));
    /// assert_eq!(host.kill(a, in_b.child.real().as_raw(), Signal::SIGTERM), Err(Errno::ESRCH));
    /// // From the host, kill(-1) reaches it but skips both VPS inits.
    /// host.kill(host.init(), -1, Signal::SIGTERM).unwrap();
    /// assert!(host.getpid(in_b.child).is_err());
    /// assert_eq!(host.getpid(a), Ok(1));
    /// ```
    pub fn kill(&self, caller: TaskRef, pid: RawPid, sig: Signal) -> Result<(), Errno> {
        self.table.lock().kill(caller, pid, sig)
    }

    /// `reboot(2)` with a raw `LINUX_REBOOT_CMD_*` number (see
    /// [`crate::RebootCmd`]). Inside a VPS, restart, halt, power-off and
    /// restart2 SIGKILL the VPS init (which takes the VPS down) and return
    /// `Ok`; CAD_ON and CAD_OFF return `Ok`; other numbers are `EINVAL`.
    /// From a host task: `EPERM`.
    pub fn reboot(&self, caller: TaskRef, cmd: u32) -> Result<(), Errno> {
        self.table.lock().reboot(caller, cmd)
    }

    /// `VE_ENTER`: a host task joins a running VPS. It gets a fresh virtual
    /// PID if it is alone in its group and session, else it keeps its real
    /// PID as its visible PID. Returns the visible PID. `EPERM` from inside
    /// a VPS or for the host init, `EINVAL` for a thread or a multi-threaded
    /// process, `ESRCH` for an unknown VPS, `ENOMEM` for a dying one,
    /// `EAGAIN` at its `numproc` limit or with its virtual numbers exhausted.
    ///
    /// ```
    /// use vps::{Host, HostConfig, VpsConfig, VpsId};
    /// use vpid_core::CloneFlags;
    ///
    /// let host = Host::new(HostConfig::default()).unwrap();
    /// host.create_vps(host.init(), VpsId(1), VpsConfig::default()).unwrap();
    /// let shell = host.fork(host.init(), CloneFlags::empty(), None).unwrap().child;
    /// host.setsid(shell).unwrap(); // alone in its group and session
    /// let pid = host.enter(shell, VpsId(1)).unwrap();
    /// assert_eq!(pid, shell.real().as_raw() | 1024);
    /// assert_eq!(host.getppid(shell), Ok(0));
    /// ```
    pub fn enter(&self, task: TaskRef, id: VpsId) -> Result<RawPid, Errno> {
        self.table.lock().enter(task, id)
    }

    // ----- views -----

    /// The `ps` view: every task the viewer can see (threads included), in
    /// its numbers, sorted by PID. From the host (or a host task) every
    /// task, with its VPS id and virtual PID; from a VPS task, its VPS only.
    ///
    /// ```
    /// use vps::{Host, HostConfig, Viewer, VpsConfig, VpsId};
    /// use vpid_core::CloneFlags;
    ///
    /// let host = Host::new(HostConfig::default()).unwrap();
    /// let init = host.create_vps(host.init(), VpsId(7), VpsConfig::default()).unwrap();
    /// host.fork(init, CloneFlags::empty(), None).unwrap();
    /// let inside: Vec<_> = host.ps(Viewer::Task(init)).unwrap().iter().map(|e| (e.pid, e.ppid)).collect();
    /// assert_eq!(inside.len(), 2);
    /// assert_eq!(inside[0], (1, 0));
    /// let outside = host.ps(Viewer::Host).unwrap();
    /// assert_eq!(outside.len(), 3); // the host init too
    /// assert_eq!(outside[1].vps, Some(VpsId(7)));
    /// assert_eq!(outside[1].vpid, Some(1));
    /// ```
    pub fn ps(&self, viewer: Viewer) -> Result<Vec<PsEntry>, Errno> {
        let table = self.table.lock();
        let ctx = match viewer {
            Viewer::Host => None,
            Viewer::Task(t) => table.context(t)?,
        };
        Ok(table.ps(ctx))
    }

    /// Checks every internal invariant (see [`crate::AuditError`]): for tests
    /// and debugging; it takes the lock and walks the whole table.
    pub fn audit(&self) -> Result<(), crate::AuditError> {
        self.table.lock().audit()
    }

    /// How many tasks (live or zombie) and how many real numbers are in use.
    pub fn usage(&self) -> Usage {
        let table = self.table.lock();
        Usage {
            tasks: table.task_count(),
            numbers: table.numbers_in_use(),
        }
    }
}

/// What a host holds, for leak checks: see [`Host::usage`].
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct Usage {
    /// Tasks, live or zombie (the host init included).
    pub tasks: usize,
    /// Real numbers in use as a PID, PGID or SID (the host init's 1 included).
    pub numbers: usize,
}

/// Checkpoint and restore (see [`crate::checkpoint`] and `docs/checkpoint.md`).
impl Host {
    /// Dumps a VPS to `out` as an image in its own (virtual) numbers.
    ///
    /// The host's lock is held while the image is taken, so it is a
    /// consistent cut: a fork into the VPS waits for the dump, and no longer
    /// (encoding and writing happen after the lock is released).
    ///
    /// ```
    /// use vps::{Host, HostConfig, VpsConfig, VpsId};
    /// use vpid_core::CloneFlags;
    ///
    /// let source = Host::new(HostConfig::default())?;
    /// let init = source.create_vps(source.init(), VpsId(101), VpsConfig::default())?;
    /// let web = source.fork(init, CloneFlags::empty(), Some(5500))?;
    /// let mut image = Vec::new();
    /// source.checkpoint(VpsId(101), &mut image)?;
    ///
    /// let target = Host::new(HostConfig::default())?;
    /// target.fork(target.init(), CloneFlags::empty(), None)?; // real PIDs differ
    /// let restored = target.restore(&image[..], VpsId(202))?;
    /// let web2 = target.lookup(restored, 5500)?;
    /// assert_eq!(target.getpid(web2)?, 5500);
    /// assert_eq!(target.getppid(web2)?, 1);
    /// assert_ne!(web2.real(), web.child.real());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checkpoint<W: std::io::Write>(
        &self,
        id: VpsId,
        out: W,
    ) -> Result<(), crate::CheckpointError> {
        let image = self.checkpoint_image(id)?;
        image.write_to(out)?;
        Ok(())
    }

    /// The image of a VPS, not yet encoded (what [`Host::checkpoint`] writes).
    pub fn checkpoint_image(&self, id: VpsId) -> Result<crate::VpsImage, crate::CheckpointError> {
        self.table.lock().checkpoint_image(id)
    }

    /// Reads an image from `input` and recreates its VPS under `as_id`, with
    /// every virtual PID it had and new real PIDs; returns the restored init.
    ///
    /// The image is untrusted: it is read and validated in full before
    /// anything is allocated, and memory grows only with the bytes read. The
    /// restore is atomic: on any error the host is exactly as before.
    pub fn restore<R: std::io::Read>(
        &self,
        input: R,
        as_id: VpsId,
    ) -> Result<TaskRef, crate::RestoreError> {
        let image = crate::VpsImage::read_from(input)?;
        self.restore_image(&image, as_id)
    }

    /// Recreates a VPS from a decoded image (see [`Host::restore`]).
    pub fn restore_image(
        &self,
        image: &crate::VpsImage,
        as_id: VpsId,
    ) -> Result<TaskRef, crate::RestoreError> {
        image.validate(self.pid_max)?;
        Ok(self.table.lock().restore_image(image, as_id)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Host>();
    }

    #[test]
    fn a_new_host_holds_only_its_init() {
        let host = Host::new(HostConfig { pid_max: 1000 }).expect("host");
        assert_eq!(host.init().real(), vpid_core::RealPid::INIT);
        assert_eq!(host.getpid(host.init()), Ok(1));
        assert_eq!(host.getppid(host.init()), Ok(0));
        assert_eq!(
            host.usage(),
            Usage {
                tasks: 1,
                numbers: 1
            }
        );
        assert_eq!(host.vps_ids(), Vec::<VpsId>::new());
        host.audit().expect("invariants");
    }
}
