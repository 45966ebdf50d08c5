//! The writer's operations: new pspaces, fork, exit, reap, setpgid.

use std::sync::atomic::Ordering;

use vpid_core::{Errno, RawPid};

use crate::blocks::{PidBitmap, SlotKey};
use crate::space::{Forked, PidSpaces, Space, Task, TaskRef, TaskView, Writer, ZOMBIE};
use crate::table::MAX_SPACES;

/// Where a new task goes: its pspace, numbers and relations.
struct Placement {
    space: u32,
    pid: RawPid,
    wid_space: u32,
    wid: RawPid,
    pgid: RawPid,
    parent: u32,
}

impl PidSpaces {
    fn live_caller(&self, caller: TaskRef) -> Result<TaskView, Errno> {
        let view = self.view(caller)?;
        if view.exit & ZOMBIE != 0 {
            return Err(Errno::ESRCH);
        }
        Ok(view)
    }

    /// Forks a task in the caller's pspace, with the next free number or the
    /// `chosen` one. EAGAIN if the pspace has no free number or the table is
    /// full; EINVAL for a chosen number outside `1..pid_max`;
    /// EEXIST if it is taken; ESRCH for a released or exited caller.
    pub fn fork(&self, caller: TaskRef, chosen: Option<RawPid>) -> Result<Forked, Errno> {
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        let parent = self.live_caller(caller)?;
        let space = w.space_mut(parent.space)?;
        let pid = match chosen {
            Some(nr) => space.pids.alloc_exact(nr).map(|()| nr)?,
            None => space.pids.alloc().ok_or(Errno::EAGAIN)?,
        };
        let placement = Placement {
            space: parent.space,
            pid,
            wid_space: parent.space,
            wid: pid,
            pgid: parent.pgid,
            parent: caller.0.index,
        };
        match self.publish(w, &placement) {
            Ok(child) => Ok(Forked { child, pid }),
            Err(e) => {
                w.space_mut(parent.space)?.pids.free(pid);
                Err(e)
            }
        }
    }

    /// Forks the leader of a new pspace nested in the caller's (Biederman's
    /// `CLONE_NPSPACE`): PID 1, process group 1 inside, and a wid in the
    /// caller's pspace, which [`Forked::pid`] holds. EAGAIN if the caller's
    /// pspace is full, or no pspace number is left.
    pub fn create_space(&self, caller: TaskRef) -> Result<Forked, Errno> {
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        let parent = self.live_caller(caller)?;
        let id = match w.free_spaces.last() {
            Some(&id) => id,
            None if w.spaces.len() < MAX_SPACES as usize => w.spaces.len() as u32,
            None => return Err(Errno::EAGAIN),
        };
        let wid = w
            .space_mut(parent.space)?
            .pids
            .alloc()
            .ok_or(Errno::EAGAIN)?;
        let mut pids = PidBitmap::new(self.config.pid_max);
        let leader_pid = pids.alloc().ok_or(Errno::EAGAIN)?;
        let record = Space {
            parent: parent.space,
            leader: u32::MAX,
            pids,
        };
        if id as usize == w.spaces.len() {
            w.spaces.push(Some(record));
        } else {
            w.free_spaces.pop();
            w.spaces[id as usize] = Some(record);
        }
        let placement = Placement {
            space: id,
            pid: leader_pid,
            wid_space: parent.space,
            wid,
            pgid: leader_pid,
            parent: caller.0.index,
        };
        match self.publish(w, &placement) {
            Ok(child) => {
                w.space_mut(id)?.leader = child.0.index;
                Ok(Forked { child, pid: wid })
            }
            Err(e) => {
                w.spaces[id as usize] = None;
                w.free_spaces.push(id);
                w.space_mut(parent.space)?.pids.free(wid);
                Err(e)
            }
        }
    }

    /// Fills a slot, then makes it findable: the hash entries come last.
    fn publish(&self, w: &mut Writer, p: &Placement) -> Result<TaskRef, Errno> {
        let key = self
            .tasks
            .insert(&mut w.slots, |t: &Task| {
                t.space.store(p.space, Ordering::Relaxed);
                t.pid.store(p.pid, Ordering::Relaxed);
                t.wid_space.store(p.wid_space, Ordering::Relaxed);
                t.wid.store(p.wid, Ordering::Relaxed);
                t.pgid.store(p.pgid, Ordering::Relaxed);
                t.parent.store(p.parent, Ordering::Relaxed);
                t.exit.store(0, Ordering::Relaxed);
            })
            .ok_or(Errno::EAGAIN)?;
        self.hash.insert(&mut w.hash, p.space, p.pid, key.index);
        if p.wid_space != p.space {
            self.hash.insert(&mut w.hash, p.wid_space, p.wid, key.index);
        }
        w.groups.insert((p.space, p.pgid), key.index);
        w.children.insert(p.parent, key.index);
        w.residents.insert(p.space, key.index);
        Ok(TaskRef(key))
    }

    /// The task exits with `code` and becomes a zombie until its parent reaps
    /// it. Its children go to its pspace's leader. A pspace leader's exit
    /// kills and releases every other task of its pspace and of the pspaces
    /// nested in it at once (so no fork can
    /// race with it, and Biederman's EAGAIN for a fork in an exiting pspace
    /// cannot arise). ESRCH if the task
    /// already exited; EPERM for the host init.
    pub fn exit(&self, task: TaskRef, code: i32) -> Result<(), Errno> {
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        let view = self.live_caller(task)?;
        if task == self.init {
            return Err(Errno::EPERM);
        }
        let fields = self.tasks.get_live(task.0).ok_or(Errno::ESRCH)?;
        fields
            .exit
            .store(ZOMBIE | u32::from(code as u8), Ordering::Relaxed);
        if view.is_leader() {
            self.kill_residents(w, view.space, task.0.index);
        } else {
            let reaper = w.space_mut(view.space)?.leader;
            for child in w.children.get(&task.0.index).to_vec() {
                w.children.remove(task.0.index, child);
                w.children.insert(reaper, child);
                if let Some(t) = self
                    .tasks
                    .key_at(child)
                    .and_then(|k| self.tasks.get_live(k))
                {
                    t.parent.store(reaper, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }

    /// Releases every task of `space` but `keep`, and all nested pspaces.
    fn kill_residents(&self, w: &mut Writer, space: u32, keep: u32) {
        let nested: Vec<u32> = w
            .spaces
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(id, s)| s.as_ref().filter(|s| s.parent == space).map(|_| id as u32))
            .collect();
        for id in nested {
            if let Some(leader) = w.spaces[id as usize].as_ref().map(|s| s.leader) {
                self.kill_residents(w, id, leader);
                self.release(w, leader);
            }
        }
        for index in w.residents.get(&space).to_vec() {
            if index != keep {
                self.release(w, index);
            }
        }
    }

    /// Reaps the zombie child numbered `nr` in the parent's pspace: its exit
    /// code, or `None` if that child still runs. ECHILD if `nr` is not a
    /// child of `parent`; ESRCH if `parent` was released or exited.
    pub fn reap(&self, parent: TaskRef, nr: RawPid) -> Result<Option<i32>, Errno> {
        self.live_caller(parent)?;
        let child = self
            .find(parent.into_viewer(), nr)
            .map_err(|_| Errno::ECHILD)?;
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        self.live_caller(parent)?;
        let view = self.view(child).map_err(|_| Errno::ECHILD)?;
        if view.parent != parent.0.index {
            return Err(Errno::ECHILD);
        }
        match view.state() {
            crate::TaskState::Running => Ok(None),
            crate::TaskState::Zombie(code) => {
                self.release(w, child.0.index);
                Ok(Some(code))
            }
        }
    }

    /// Removes a task everywhere: hash entries, numbers, sets, slot; and its
    /// pspace too if it led one.
    fn release(&self, w: &mut Writer, index: u32) {
        let Some(key) = self.tasks.key_at(index) else {
            return;
        };
        let Ok(view) = self.view(TaskRef(key)) else {
            return;
        };
        self.hash.remove(&mut w.hash, view.space, view.pid);
        w.groups.remove((view.space, view.pgid), index);
        self.release_number(w, view.space, view.pid);
        if view.pgid != view.pid {
            self.release_number(w, view.space, view.pgid);
        }
        if view.is_leader() {
            self.hash.remove(&mut w.hash, view.wid_space, view.wid);
            if let Some(Some(outer)) = w.spaces.get_mut(view.wid_space as usize) {
                outer.pids.free(view.wid);
            }
            w.spaces[view.space as usize] = None;
            w.free_spaces.push(view.space);
        }
        w.children.remove(view.parent, index);
        w.residents.remove(view.space, index);
        self.tasks.remove(&mut w.slots, SlotKey { index, ..key });
    }

    /// Frees number `nr` of `space` once nothing uses it: no task has it as
    /// its PID and no process group as its ID (as the kernel frees a
    /// `pidmap` bit only when every `pid_type` has let go of it).
    fn release_number(&self, w: &mut Writer, space: u32, nr: RawPid) {
        if self.hash.get(space, nr).is_some() || !w.groups.get(&(space, nr)).is_empty() {
            return;
        }
        if let Some(Some(record)) = w.spaces.get_mut(space as usize) {
            record.pids.free(nr);
        }
    }

    /// Moves task `pid` (0: the caller) of the caller's pspace into process
    /// group `pgid` (0: its own number). ESRCH unless the target is the
    /// caller or its child; EPERM for a pspace leader, or a group that does
    /// not exist in the pspace; EINVAL for a negative `pgid`.
    pub fn setpgid(&self, caller: TaskRef, pid: RawPid, pgid: RawPid) -> Result<(), Errno> {
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let target = if pid == 0 {
            caller
        } else {
            self.find(caller.into_viewer(), pid)?
        };
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        let me = self.live_caller(caller)?;
        let view = self.view(target)?;
        if target != caller && view.parent != caller.0.index {
            return Err(Errno::ESRCH);
        }
        if view.space != me.space || view.pid == 1 {
            return Err(Errno::EPERM);
        }
        let pgid = if pgid == 0 { view.pid } else { pgid };
        if pgid != view.pid && w.groups.get(&(view.space, pgid)).is_empty() {
            return Err(Errno::EPERM);
        }
        w.groups.remove((view.space, view.pgid), target.0.index);
        w.groups.insert((view.space, pgid), target.0.index);
        if let Some(t) = self.tasks.get_live(target.0) {
            t.pgid.store(pgid, Ordering::Relaxed);
        }
        self.release_number(w, view.space, view.pgid);
        Ok(())
    }
}

impl Writer {
    fn space_mut(&mut self, id: u32) -> Result<&mut Space, Errno> {
        self.spaces
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::ESRCH)
    }
}

impl TaskRef {
    /// This task as a viewer.
    #[must_use]
    pub fn into_viewer(self) -> crate::Viewer {
        crate::Viewer::Task(self)
    }
}
