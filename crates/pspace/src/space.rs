//! The pspace process table: its types and its read-only operations.

use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use parking_lot::Mutex;
use vpid_core::{Errno, PID_MAX_DEFAULT, PID_MAX_LIMIT, RESERVED_PIDS, RawPid};

use crate::blocks::{Members, PidBitmap, Slab, SlabAllocator, SlotKey};
use crate::table::{MAX_SLOTS, PidHash, PidHashWriter};

/// A pspace number. [`SpaceId::HOST`] is the initial pspace.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub struct SpaceId(pub u32);

impl SpaceId {
    /// The initial (host) pspace.
    pub const HOST: SpaceId = SpaceId(0);
}

/// A handle to one task that cannot hit a recycled slot: every operation given
/// a handle to a released task returns ESRCH.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct TaskRef(pub(crate) SlotKey);

/// Who looks: the host (the initial pspace) or a task (its pspace).
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum Viewer {
    /// The initial pspace.
    Host,
    /// The pspace of this task.
    Task(TaskRef),
}

/// A new task and its number as the forking task sees it.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct Forked {
    /// The new task.
    pub child: TaskRef,
    /// Its number in the caller's pspace (the wid, for a new pspace leader).
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
    /// PIDs of every pspace are below this (Biederman's per-pspace `max`).
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

/// The fields of a task, atomics so that readers can load them while the
/// writer changes them; read through [`Slab::read`], which validates them.
#[derive(Default)]
pub(crate) struct Task {
    /// The task's own pspace.
    pub(crate) space: AtomicU32,
    /// Its number in its own pspace (1 for a leader).
    pub(crate) pid: AtomicI32,
    /// Its number in `wid_space`: the parent pspace for a leader, else the
    /// same as `space` and `pid`.
    pub(crate) wid: AtomicI32,
    pub(crate) wid_space: AtomicU32,
    /// Its process group, a number in its own pspace.
    pub(crate) pgid: AtomicI32,
    /// The slot of its parent.
    pub(crate) parent: AtomicU32,
    /// `ZOMBIE | code as u8` once exited (wait reports the low 8 bits), 0 while running.
    pub(crate) exit: AtomicU32,
}

pub(crate) const ZOMBIE: u32 = 1 << 31;

/// A consistent copy of a task's fields.
#[derive(Copy, Clone, Debug)]
pub(crate) struct TaskView {
    pub(crate) space: u32,
    pub(crate) pid: RawPid,
    pub(crate) wid: RawPid,
    pub(crate) wid_space: u32,
    pub(crate) pgid: RawPid,
    pub(crate) parent: u32,
    pub(crate) exit: u32,
}

impl TaskView {
    pub(crate) fn is_leader(&self) -> bool {
        self.space != self.wid_space
    }

    pub(crate) fn state(&self) -> TaskState {
        if self.exit & ZOMBIE == 0 {
            TaskState::Running
        } else {
            TaskState::Zombie(i32::from(self.exit as u8))
        }
    }

    /// The number of this task seen from pspace `space`, 0 if invisible.
    #[inline]
    pub(crate) fn number_in(&self, space: u32) -> RawPid {
        if self.space == space {
            self.pid
        } else if self.wid_space == space {
            self.wid
        } else {
            0
        }
    }
}

fn load(task: &Task) -> TaskView {
    TaskView {
        space: task.space.load(Ordering::Relaxed),
        pid: task.pid.load(Ordering::Relaxed),
        wid: task.wid.load(Ordering::Relaxed),
        wid_space: task.wid_space.load(Ordering::Relaxed),
        pgid: task.pgid.load(Ordering::Relaxed),
        parent: task.parent.load(Ordering::Relaxed),
        exit: task.exit.load(Ordering::Relaxed),
    }
}

/// One pspace, on the writer's side.
#[derive(Debug)]
pub(crate) struct Space {
    pub(crate) parent: u32,
    pub(crate) leader: u32,
    pub(crate) pids: PidBitmap,
}

/// Everything the writer changes, behind the table's one mutex.
pub(crate) struct Writer {
    pub(crate) slots: SlabAllocator,
    pub(crate) hash: PidHashWriter,
    pub(crate) spaces: Vec<Option<Space>>,
    pub(crate) free_spaces: Vec<u32>,
    /// Process groups, keyed by `(space, pgid)`.
    pub(crate) groups: Members<(u32, RawPid)>,
    /// Children, keyed by the parent's slot.
    pub(crate) children: Members<u32>,
    /// The tasks of each pspace (leader included), keyed by pspace.
    pub(crate) residents: Members<u32>,
}

/// The process table of a host in Biederman's pspace design. `Send + Sync`.
pub struct PidSpaces {
    pub(crate) tasks: Slab<Task>,
    pub(crate) hash: PidHash,
    pub(crate) writer: Mutex<Writer>,
    pub(crate) init: TaskRef,
    pub(crate) config: Config,
}

impl PidSpaces {
    /// A host with its init (PID 1 of the initial pspace). EINVAL if
    /// `pid_max` is outside `RESERVED_PIDS + 1 ..= PID_MAX_LIMIT` or
    /// `max_tasks` is 0 or above 2^22.
    pub fn new(config: Config) -> Result<Self, Errno> {
        if config.pid_max <= RESERVED_PIDS
            || config.pid_max > PID_MAX_LIMIT
            || config.max_tasks == 0
            || config.max_tasks > MAX_SLOTS
        {
            return Err(Errno::EINVAL);
        }
        let tasks = Slab::new(config.max_tasks);
        let hash = PidHash::new();
        let mut pids = PidBitmap::new(config.pid_max);
        let init_pid = pids.alloc().ok_or(Errno::EAGAIN)?;
        let mut writer = Writer {
            slots: SlabAllocator::new(config.max_tasks),
            hash: PidHashWriter::default(),
            spaces: Vec::new(),
            free_spaces: Vec::new(),
            groups: Members::default(),
            children: Members::default(),
            residents: Members::default(),
        };
        let key = tasks
            .insert(&mut writer.slots, |t: &Task| {
                t.pid.store(init_pid, Ordering::Relaxed);
                t.wid.store(init_pid, Ordering::Relaxed);
                t.pgid.store(init_pid, Ordering::Relaxed);
            })
            .ok_or(Errno::EAGAIN)?;
        hash.insert(&mut writer.hash, 0, init_pid, key.index);
        writer.spaces.push(Some(Space {
            parent: 0,
            leader: key.index,
            pids,
        }));
        writer.groups.insert((0, init_pid), key.index);
        writer.residents.insert(0, key.index);
        Ok(Self {
            tasks,
            hash,
            writer: Mutex::new(writer),
            init: TaskRef(key),
            config,
        })
    }

    /// The host's init, PID 1 of the initial pspace, never released.
    #[must_use]
    pub fn init(&self) -> TaskRef {
        self.init
    }

    /// The limits this table was made with.
    #[must_use]
    pub fn config(&self) -> Config {
        self.config
    }

    #[inline]
    pub(crate) fn view(&self, task: TaskRef) -> Result<TaskView, Errno> {
        self.tasks.read(task.0, load).ok_or(Errno::ESRCH)
    }

    #[inline]
    fn viewer_space(&self, viewer: Viewer) -> Result<u32, Errno> {
        match viewer {
            Viewer::Host => Ok(0),
            Viewer::Task(task) => self
                .tasks
                .read(task.0, |t| t.space.load(Ordering::Relaxed))
                .ok_or(Errno::ESRCH),
        }
    }

    /// The task numbered `nr` in the viewer's pspace (`find_task_by_pid`):
    /// a task of that pspace, or the leader of a child pspace by its wid.
    /// ESRCH if there is none.
    #[inline]
    pub fn find(&self, viewer: Viewer, nr: RawPid) -> Result<TaskRef, Errno> {
        let space = self.viewer_space(viewer)?;
        if nr <= 0 || nr >= self.config.pid_max {
            return Err(Errno::ESRCH);
        }
        loop {
            let index = self.hash.get(space, nr).ok_or(Errno::ESRCH)?;
            let key = self.tasks.key_at(index).ok_or(Errno::ESRCH)?;
            if self.tasks.read(key, |t| load(t).number_in(space) == nr) == Some(true) {
                return Ok(TaskRef(key));
            }
            // The slot changed hands between the two loads: look again.
        }
    }

    /// The number of `task` in the viewer's pspace, 0 if it is invisible
    /// there. ESRCH for a released task or viewer.
    #[inline]
    pub fn pid_of(&self, viewer: Viewer, task: TaskRef) -> Result<RawPid, Errno> {
        let space = self.viewer_space(viewer)?;
        self.tasks
            .read(task.0, |t| {
                let own = t.space.load(Ordering::Relaxed);
                if own == space {
                    t.pid.load(Ordering::Relaxed)
                } else if t.wid_space.load(Ordering::Relaxed) == space {
                    t.wid.load(Ordering::Relaxed)
                } else {
                    0
                }
            })
            .ok_or(Errno::ESRCH)
    }

    /// The task's number in its own pspace.
    #[inline]
    pub fn getpid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        self.tasks
            .read(task.0, |t| t.pid.load(Ordering::Relaxed))
            .ok_or(Errno::ESRCH)
    }

    /// The parent's number in the task's pspace; 0 for a pspace leader
    /// (Biederman's patch 02/20) and for the host init.
    pub fn getppid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        let view = self.view(task)?;
        if view.pid == 1 {
            return Ok(0);
        }
        let parent = self.tasks.key_at(view.parent).ok_or(Errno::ESRCH)?;
        Ok(self.view(TaskRef(parent))?.number_in(view.space))
    }

    /// The task's process group, a number in its own pspace.
    pub fn getpgid(&self, task: TaskRef) -> Result<RawPid, Errno> {
        self.tasks
            .read(task.0, |t| t.pgid.load(Ordering::Relaxed))
            .ok_or(Errno::ESRCH)
    }

    /// The task's own pspace.
    pub fn space_of(&self, task: TaskRef) -> Result<SpaceId, Errno> {
        self.view(task).map(|v| SpaceId(v.space))
    }

    /// Whether the task runs or is a zombie.
    pub fn state(&self, task: TaskRef) -> Result<TaskState, Errno> {
        self.view(task).map(|v| v.state())
    }

    /// The members of process group `pgid` of the viewer's pspace, the tasks
    /// `kill(-pgid)` reaches. ESRCH if the group is empty or unknown.
    pub fn group_members(&self, viewer: Viewer, pgid: RawPid) -> Result<Vec<TaskRef>, Errno> {
        let space = self.viewer_space(viewer)?;
        let writer = self.writer.lock();
        let members: Vec<TaskRef> = writer
            .groups
            .get(&(space, pgid))
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
        let space = self.viewer_space(viewer)?;
        let writer = self.writer.lock();
        let reached = writer
            .groups
            .get(&(space, pgid))
            .iter()
            .filter(|&&index| self.tasks.key_at(index).is_some())
            .count();
        if reached == 0 {
            Err(Errno::ESRCH)
        } else {
            Ok(reached)
        }
    }

    /// The numbers the viewer sees (its pspace's tasks and the wids of its
    /// child pspaces' leaders), sorted: what its `ps` lists.
    pub fn visible_pids(&self, viewer: Viewer) -> Result<Vec<RawPid>, Errno> {
        let space = self.viewer_space(viewer)?;
        let writer = self.writer.lock();
        let mut pids: Vec<RawPid> = writer
            .residents
            .get(&space)
            .iter()
            .filter_map(|&index| self.tasks.key_at(index))
            .filter_map(|key| self.tasks.read(key, load))
            .map(|view| view.pid)
            .collect();
        for s in writer.spaces.iter().skip(1).flatten() {
            if s.parent != space {
                continue;
            }
            if let Some(view) = self
                .tasks
                .key_at(s.leader)
                .and_then(|k| self.tasks.read(k, load))
            {
                pids.push(view.wid);
            }
        }
        pids.sort_unstable();
        Ok(pids)
    }

    /// The number of tasks in the table, zombies included.
    #[must_use]
    pub fn task_count(&self) -> usize {
        self.writer.lock().slots.in_use()
    }

    /// Bytes the shared hash table has allocated.
    #[must_use]
    pub fn hash_bytes(&self) -> usize {
        self.hash.allocated_bytes()
    }
}
