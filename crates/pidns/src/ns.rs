//! The PID-namespace process table: its types and read-only operations.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use parking_lot::Mutex;
use pspace::blocks::{ChunkedArray, Members, PidBitmap, Slab, SlabAllocator, SlotKey};
use vpid_core::{Errno, PID_MAX_DEFAULT, PID_MAX_LIMIT, RESERVED_PIDS, RawPid};

/// The deepest namespace level below the root (Linux `MAX_PID_NS_LEVEL`).
pub const MAX_PID_NS_LEVEL: u32 = 32;
const LEVELS: usize = MAX_PID_NS_LEVEL as usize + 1;

/// The most namespaces a table holds.
const MAX_NAMESPACES: u32 = 1 << 20;

/// A PID namespace number. [`NsId::ROOT`] is the initial namespace.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub struct NsId(pub u32);

impl NsId {
    /// The initial (root) namespace, level 0.
    pub const ROOT: NsId = NsId(0);
}

/// A handle to one task that cannot hit a recycled slot: every operation given
/// a handle to a released task returns ESRCH.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct TaskRef(pub(crate) SlotKey);

/// Who looks: the host (the root namespace) or a task (its active namespace).
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum Viewer {
    /// The root namespace.
    Host,
    /// The namespace of this task.
    Task(TaskRef),
}

/// A new task and its number as the forking task sees it.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct Forked {
    /// The new task.
    pub child: TaskRef,
    /// Its number in the caller's namespace.
    pub pid: RawPid,
}

/// Whether a task runs or waits to be reaped.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum TaskState {
    /// Alive.
    Running,
    /// Exited with this code (its low 8 bits, as `wait` reports), not reaped yet.
    Zombie(i32),
}

/// The limits of a table.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct Config {
    /// Numbers in every namespace are below this.
    pub pid_max: RawPid,
    /// The most tasks the whole table holds.
    pub max_tasks: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pid_max: PID_MAX_DEFAULT,
            max_tasks: PID_MAX_DEFAULT as u32,
        }
    }
}

/// A reference to a PID object: its level and its slot in that level's slab.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub(crate) struct PidRef {
    pub(crate) level: u32,
    pub(crate) index: u32,
}

const PRESENT: u64 = 1 << 63;

impl PidRef {
    pub(crate) fn pack(self) -> u64 {
        PRESENT | (u64::from(self.level) << 32) | u64::from(self.index)
    }

    pub(crate) fn unpack(bits: u64) -> Option<Self> {
        (bits & PRESENT != 0).then_some(Self {
            level: ((bits >> 32) & 0xff) as u32,
            index: bits as u32,
        })
    }
}

/// A `struct upid`: a namespace and the number in it, in one word.
pub(crate) fn upid(ns: u32, nr: RawPid) -> u64 {
    (u64::from(ns) << 32) | u64::from(nr as u32)
}

pub(crate) fn upid_ns(bits: u64) -> u32 {
    (bits >> 32) as u32
}

pub(crate) fn upid_nr(bits: u64) -> RawPid {
    bits as u32 as RawPid
}

/// A `struct pid`. Its `numbers` are allocated once per slot, with the length
/// of its level's slab (level + 1), and reused by later PID objects.
#[derive(Default)]
pub(crate) struct PidObject {
    /// The slot of the task using this PID, or [`NO_TASK`].
    pub(crate) task: AtomicU32,
    /// Tasks using it as their PID or process group (writer only).
    pub(crate) refs: AtomicU32,
    pub(crate) numbers: OnceLock<Box<[AtomicU64]>>,
}

pub(crate) const NO_TASK: u32 = u32::MAX;

/// A `task_struct`, reduced to what the comparison needs.
#[derive(Default)]
pub(crate) struct Task {
    /// Packed [`PidRef`] of its PID.
    pub(crate) pid: AtomicU64,
    /// Packed [`PidRef`] of its process group's PID.
    pub(crate) pgid: AtomicU64,
    /// The slot of its parent.
    pub(crate) parent: AtomicU32,
    /// `ZOMBIE | code as u8` once exited (wait reports the low 8 bits), 0 while running.
    pub(crate) exit: AtomicU32,
    /// Its active namespace (cached from its PID's last number).
    pub(crate) ns: AtomicU32,
    /// Its number in its active namespace (cached likewise).
    pub(crate) nr: AtomicI32,
}

pub(crate) const ZOMBIE: u32 = 1 << 31;

/// A namespace as readers see it: its level and its IDR (number to PID).
#[derive(Default)]
pub(crate) struct NsSlot {
    pub(crate) level: AtomicU32,
    pub(crate) idr: OnceLock<ChunkedArray<AtomicU64>>,
}

/// A namespace on the writer's side.
#[derive(Debug)]
pub(crate) struct Namespace {
    pub(crate) parent: u32,
    pub(crate) level: u32,
    /// The slot of its init (`child_reaper`).
    pub(crate) init: u32,
    pub(crate) pids: PidBitmap,
}

/// Everything the writer changes, behind the table's one mutex.
pub(crate) struct Writer {
    pub(crate) tasks: SlabAllocator,
    pub(crate) pids: Vec<SlabAllocator>,
    pub(crate) namespaces: Vec<Option<Namespace>>,
    pub(crate) free_namespaces: Vec<u32>,
    /// Process groups, keyed by the packed PID of the group.
    pub(crate) groups: Members<u64>,
    /// Children, keyed by the parent's slot.
    pub(crate) children: Members<u32>,
    /// The tasks whose active namespace is the key.
    pub(crate) residents: Members<u32>,
}

/// The process table of a host in the Linux PID-namespace design.
/// `Send + Sync`.
pub struct PidNamespaces {
    pub(crate) tasks: Slab<Task>,
    /// One slab of PID objects per level, as Linux's per-level `pid_cachep`.
    pub(crate) pids: Box<[Slab<PidObject>]>,
    pub(crate) namespaces: ChunkedArray<NsSlot>,
    pub(crate) writer: Mutex<Writer>,
    pub(crate) init: TaskRef,
    pub(crate) config: Config,
}

/// A consistent copy of a task's fields.
#[derive(Copy, Clone, Debug)]
pub(crate) struct TaskView {
    pub(crate) pid: PidRef,
    pub(crate) pgid: PidRef,
    pub(crate) parent: u32,
    pub(crate) exit: u32,
    pub(crate) ns: u32,
    pub(crate) nr: RawPid,
}

impl TaskView {
    pub(crate) fn state(&self) -> TaskState {
        if self.exit & ZOMBIE == 0 {
            TaskState::Running
        } else {
            TaskState::Zombie(i32::from(self.exit as u8))
        }
    }
}

impl PidNamespaces {
    /// A host with its init (PID 1 of the root namespace). EINVAL if
    /// `pid_max` is outside `RESERVED_PIDS + 1 ..= PID_MAX_LIMIT` or
    /// `max_tasks` is 0.
    pub fn new(config: Config) -> Result<Self, Errno> {
        if config.pid_max <= RESERVED_PIDS
            || config.pid_max > PID_MAX_LIMIT
            || config.max_tasks == 0
        {
            return Err(Errno::EINVAL);
        }
        let writer = Writer {
            tasks: SlabAllocator::new(config.max_tasks),
            pids: (0..LEVELS)
                .map(|_| SlabAllocator::new(config.max_tasks))
                .collect(),
            namespaces: Vec::new(),
            free_namespaces: Vec::new(),
            groups: Members::default(),
            children: Members::default(),
            residents: Members::default(),
        };
        let mut table = Self {
            tasks: Slab::new(config.max_tasks),
            pids: (0..LEVELS).map(|_| Slab::new(config.max_tasks)).collect(),
            namespaces: ChunkedArray::new(MAX_NAMESPACES as usize),
            writer: Mutex::new(writer),
            // Replaced below by the first task, which takes slot 0.
            init: TaskRef(SlotKey {
                index: 0,
                generation: 0,
            }),
            config,
        };
        let init = {
            let mut w = table.writer.lock();
            let root = table.new_namespace(&mut w, None)?;
            table.spawn(&mut w, root, NO_TASK, None, &[])?
        };
        table.init = init;
        Ok(table)
    }

    /// The host's init, PID 1 of the root namespace, never released.
    #[must_use]
    pub fn init(&self) -> TaskRef {
        self.init
    }

    /// The limits this table was made with.
    #[must_use]
    pub fn config(&self) -> Config {
        self.config
    }

    /// The number slot `at` of PID object `pid`, if allocated.
    #[inline]
    pub(crate) fn number(&self, pid: PidRef, at: u32) -> Option<u64> {
        let object = self
            .pids
            .get(pid.level as usize)?
            .get_unvalidated(pid.index)?;
        Some(
            object
                .numbers
                .get()?
                .get(at as usize)?
                .load(Ordering::Relaxed),
        )
    }

    #[inline]
    pub(crate) fn view(&self, task: TaskRef) -> Result<TaskView, Errno> {
        self.tasks
            .read(task.0, |t| {
                Some(TaskView {
                    pid: PidRef::unpack(t.pid.load(Ordering::Relaxed))?,
                    pgid: PidRef::unpack(t.pgid.load(Ordering::Relaxed))?,
                    parent: t.parent.load(Ordering::Relaxed),
                    exit: t.exit.load(Ordering::Relaxed),
                    ns: t.ns.load(Ordering::Relaxed),
                    nr: t.nr.load(Ordering::Relaxed),
                })
            })
            .flatten()
            .ok_or(Errno::ESRCH)
    }

    /// The viewer's active namespace and its level.
    #[inline]
    fn viewer_ns(&self, viewer: Viewer) -> Result<(u32, u32), Errno> {
        match viewer {
            Viewer::Host => Ok((0, 0)),
            Viewer::Task(task) => self
                .tasks
                .read(task.0, |t| {
                    let pid = PidRef::unpack(t.pid.load(Ordering::Relaxed))?;
                    Some((t.ns.load(Ordering::Relaxed), pid.level))
                })
                .flatten()
                .ok_or(Errno::ESRCH),
        }
    }

    /// `pid_nr_ns`: the number of PID object `pid` in namespace `ns` of
    /// level `level`, 0 if it has none there.
    #[inline]
    fn pid_nr_ns(&self, pid: PidRef, ns: u32, level: u32) -> RawPid {
        if level > pid.level {
            return 0;
        }
        match self.number(pid, level) {
            Some(bits) if upid_ns(bits) == ns => upid_nr(bits),
            _ => 0,
        }
    }

    /// `find_task_by_pid_ns`: the task numbered `nr` in the viewer's
    /// namespace. ESRCH if there is none.
    #[inline]
    pub fn find(&self, viewer: Viewer, nr: RawPid) -> Result<TaskRef, Errno> {
        let (ns, level) = self.viewer_ns(viewer)?;
        let pid = self.find_pid(ns, level, nr).ok_or(Errno::ESRCH)?;
        loop {
            let (object_key, task) = self.pid_task(pid, ns, level, nr).ok_or(Errno::ESRCH)?;
            let key = self.tasks.key_at(task).ok_or(Errno::ESRCH)?;
            if self.tasks.read(key, |t| t.pid.load(Ordering::Relaxed)) == Some(pid.pack()) {
                return Ok(TaskRef(key));
            }
            // The task slot changed hands: try again if the PID is still there.
            self.pids[pid.level as usize]
                .read(object_key, |_| ())
                .ok_or(Errno::ESRCH)?;
        }
    }

    /// `find_pid_ns`: the PID object numbered `nr` in namespace `ns`.
    #[inline]
    pub(crate) fn find_pid(&self, ns: u32, level: u32, nr: RawPid) -> Option<PidRef> {
        if nr <= 0 {
            return None;
        }
        let idr = self.namespaces.get(ns as usize)?.idr.get()?;
        let pid = PidRef::unpack(idr.get(nr as usize)?.load(Ordering::Acquire))?;
        (pid.level >= level).then_some(pid)
    }

    /// `pid_task`: the task slot using PID object `pid`, checked to still be
    /// numbered `nr` in `ns`.
    #[inline]
    fn pid_task(&self, pid: PidRef, ns: u32, level: u32, nr: RawPid) -> Option<(SlotKey, u32)> {
        let slab = &self.pids[pid.level as usize];
        let key = slab.key_at(pid.index)?;
        let (task, bits) = slab.read(key, |p| {
            let bits = p
                .numbers
                .get()?
                .get(level as usize)?
                .load(Ordering::Relaxed);
            Some((p.task.load(Ordering::Relaxed), bits))
        })??;
        (task != NO_TASK && bits == upid(ns, nr)).then_some((key, task))
    }

    /// `task_pid_nr_ns`: the number of `task` in the viewer's namespace, 0
    /// if it is invisible there. ESRCH for a released task or viewer.
    #[inline]
    pub fn pid_of(&self, viewer: Viewer, task: TaskRef) -> Result<RawPid, Errno> {
        let (ns, level) = self.viewer_ns(viewer)?;
        self.tasks
            .read(task.0, |t| {
                let pid = PidRef::unpack(t.pid.load(Ordering::Relaxed))?;
                Some(self.pid_nr_ns(pid, ns, level))
            })
            .flatten()
            .ok_or(Errno::ESRCH)
    }

    /// The task's number in its own namespace (`task_pid_vnr` by itself).
    #[inline]
    pub fn getpid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        self.tasks
            .read(task.0, |t| t.nr.load(Ordering::Relaxed))
            .ok_or(Errno::ESRCH)
    }

    /// The parent's number in the task's namespace; 0 for a namespace init,
    /// whose parent is outside.
    pub fn getppid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        let view = self.view(task)?;
        let Some(parent) = self.tasks.key_at(view.parent) else {
            return Ok(0);
        };
        let parent = self.view(TaskRef(parent))?;
        Ok(self.pid_nr_ns(parent.pid, view.ns, view.pid.level))
    }

    /// The task's process group in its namespace, 0 if the group's PID is
    /// outside it (a new namespace init, until it calls setpgid).
    pub fn getpgid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        let view = self.view(task)?;
        Ok(self.pid_nr_ns(view.pgid, view.ns, view.pid.level))
    }

    /// Every number of the task, root namespace first: what `NSpid` shows.
    pub fn numbers(&self, task: TaskRef) -> Result<Vec<RawPid>, Errno> {
        let view = self.view(task)?;
        (0..=view.pid.level)
            .map(|level| {
                self.number(view.pid, level)
                    .map(upid_nr)
                    .ok_or(Errno::ESRCH)
            })
            .collect()
    }

    /// The task's active namespace.
    pub fn ns_of(&self, task: TaskRef) -> Result<NsId, Errno> {
        self.view(task).map(|v| NsId(v.ns))
    }

    /// The level of the task's namespace (0 for the root).
    pub fn level_of(&self, task: TaskRef) -> Result<u32, Errno> {
        self.view(task).map(|v| v.pid.level)
    }

    /// Whether the task runs or is a zombie.
    pub fn state(&self, task: TaskRef) -> Result<TaskState, Errno> {
        self.view(task).map(|v| v.state())
    }

    /// The members of process group `pgid` of the viewer's namespace: the
    /// tasks `kill(-pgid)` reaches. ESRCH if the group is empty or unknown.
    pub fn group_members(&self, viewer: Viewer, pgid: RawPid) -> Result<Vec<TaskRef>, Errno> {
        let (ns, level) = self.viewer_ns(viewer)?;
        let group = self.find_pid(ns, level, pgid).ok_or(Errno::ESRCH)?;
        let writer = self.writer.lock();
        let members: Vec<TaskRef> = writer
            .groups
            .get(&group.pack())
            .iter()
            .filter_map(|&index| self.tasks.key_at(index).map(TaskRef))
            .collect();
        if members.is_empty() {
            Err(Errno::ESRCH)
        } else {
            Ok(members)
        }
    }

    /// `kill(-pgid, 0)` from the viewer: the number of tasks of the group it
    /// reaches, without making a list; ESRCH if none.
    pub fn kill_group(&self, viewer: Viewer, pgid: RawPid) -> Result<usize, Errno> {
        let (ns, level) = self.viewer_ns(viewer)?;
        let group = self.find_pid(ns, level, pgid).ok_or(Errno::ESRCH)?;
        let writer = self.writer.lock();
        let reached = writer
            .groups
            .get(&group.pack())
            .iter()
            .filter(|&&index| self.tasks.key_at(index).is_some())
            .count();
        if reached == 0 {
            Err(Errno::ESRCH)
        } else {
            Ok(reached)
        }
    }

    /// The numbers of every task the viewer sees (its namespace's and all
    /// nested ones'), sorted: what its `ps` lists.
    pub fn visible_pids(&self, viewer: Viewer) -> Result<Vec<RawPid>, Errno> {
        let (ns, level) = self.viewer_ns(viewer)?;
        let writer = self.writer.lock();
        let mut pids = Vec::new();
        for (id, _) in writer
            .namespaces
            .iter()
            .enumerate()
            .filter(|(_, n)| n.is_some())
        {
            if !writer.descends_from(id as u32, ns) {
                continue;
            }
            for &index in writer.residents.get(&(id as u32)) {
                if let Some(view) = self
                    .tasks
                    .key_at(index)
                    .and_then(|k| self.view(TaskRef(k)).ok())
                {
                    pids.push(self.pid_nr_ns(view.pid, ns, level));
                }
            }
        }
        pids.sort_unstable();
        Ok(pids)
    }

    /// The number of tasks in the table, zombies included.
    #[must_use]
    pub fn task_count(&self) -> usize {
        self.writer.lock().tasks.in_use()
    }
}

impl Writer {
    /// Whether namespace `id` is `ancestor` or nested in it.
    pub(crate) fn descends_from(&self, mut id: u32, ancestor: u32) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            match self.namespaces.get(id as usize).and_then(Option::as_ref) {
                Some(ns) if ns.level > 0 => id = ns.parent,
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    quickcheck! {
        fn pid_refs_round_trip(level: u8, index: u32) -> bool {
            let pid = PidRef { level: u32::from(level % 33), index };
            PidRef::unpack(pid.pack()) == Some(pid)
        }

        fn upids_round_trip(ns: u32, nr: u32) -> bool {
            let nr = (nr % vpid_core::PID_MAX_LIMIT as u32) as RawPid;
            let bits = upid(ns, nr);
            upid_ns(bits) == ns && upid_nr(bits) == nr
        }
    }

    #[test]
    fn an_empty_idr_entry_is_no_pid() {
        assert_eq!(PidRef::unpack(0), None);
    }
}
