//! The writer's operations: namespaces, `alloc_pid`, fork, exit, reap, setpgid.

use std::sync::atomic::{AtomicU64, Ordering};

use pspace::blocks::{ChunkedArray, PidBitmap};
use vpid_core::{Errno, RawPid};

use crate::ns::{
    Forked, MAX_PID_NS_LEVEL, NO_TASK, Namespace, PidNamespaces, PidRef, TaskRef, TaskView, Writer,
    ZOMBIE, upid,
};

const LEVELS: usize = MAX_PID_NS_LEVEL as usize + 1;

/// The numbers a new PID got, innermost namespace first.
struct Chain {
    links: [(u32, RawPid); LEVELS],
    len: usize,
}

impl PidNamespaces {
    /// Makes a namespace below `parent` (the root if `None`): ENOSPC past
    /// [`MAX_PID_NS_LEVEL`] or when no namespace number is left.
    pub(crate) fn new_namespace(&self, w: &mut Writer, parent: Option<u32>) -> Result<u32, Errno> {
        let level = match parent {
            None => 0,
            Some(p) => w.namespace(p)?.level + 1,
        };
        if level > MAX_PID_NS_LEVEL {
            return Err(Errno::ENOSPC);
        }
        let id = match w.free_namespaces.pop() {
            Some(id) => id,
            None => w.namespaces.len() as u32,
        };
        let Some(slot) = self.namespaces.get_or_alloc(id as usize) else {
            return Err(Errno::ENOSPC);
        };
        slot.level.store(level, Ordering::Relaxed);
        slot.idr
            .get_or_init(|| ChunkedArray::new(self.config.pid_max as usize));
        let record = Namespace {
            parent: parent.unwrap_or(0),
            level,
            init: NO_TASK,
            pids: PidBitmap::new(self.config.pid_max),
        };
        if id as usize == w.namespaces.len() {
            w.namespaces.push(Some(record));
        } else {
            w.namespaces[id as usize] = Some(record);
        }
        Ok(id)
    }

    fn drop_namespace(w: &mut Writer, id: u32) {
        w.namespaces[id as usize] = None;
        w.free_namespaces.push(id);
    }

    /// `alloc_pid` and the task: one number per level from `ns` up to the
    /// root (`set_tid[0]` chooses the innermost), a PID object, a task; then
    /// the IDR entries, which make it findable.
    pub(crate) fn spawn(
        &self,
        w: &mut Writer,
        ns: u32,
        parent: u32,
        pgid: Option<PidRef>,
        set_tid: &[RawPid],
    ) -> Result<TaskRef, Errno> {
        let level = w.namespace(ns)?.level;
        if set_tid.len() > MAX_PID_NS_LEVEL as usize || set_tid.len() > level as usize + 1 {
            return Err(Errno::EINVAL);
        }
        let chain = self.alloc_numbers(w, ns, set_tid)?;
        let pid_level = level as usize;
        let Some(pid_key) = self.pids[pid_level].insert(&mut w.pids[pid_level], |p| {
            p.task.store(NO_TASK, Ordering::Relaxed);
            p.refs.store(1, Ordering::Relaxed);
            let numbers = p
                .numbers
                .get_or_init(|| (0..=pid_level).map(|_| AtomicU64::new(0)).collect());
            for (i, &(at, nr)) in chain.links[..chain.len].iter().enumerate() {
                numbers[pid_level - i].store(upid(at, nr), Ordering::Relaxed);
            }
        }) else {
            Self::free_numbers(w, &chain);
            return Err(Errno::EAGAIN);
        };
        let pid = PidRef {
            level,
            index: pid_key.index,
        };
        let pgid = pgid.unwrap_or(pid);
        let own_nr = chain.links[0].1;
        let Some(task_key) = self.tasks.insert(&mut w.tasks, |t| {
            t.pid.store(pid.pack(), Ordering::Relaxed);
            t.pgid.store(pgid.pack(), Ordering::Relaxed);
            t.parent.store(parent, Ordering::Relaxed);
            t.exit.store(0, Ordering::Relaxed);
            t.ns.store(ns, Ordering::Relaxed);
            t.nr.store(own_nr, Ordering::Relaxed);
        }) else {
            self.pids[pid_level].remove(&mut w.pids[pid_level], pid_key);
            Self::free_numbers(w, &chain);
            return Err(Errno::EAGAIN);
        };
        self.add_ref(pgid);
        if let Some(object) = self.pids[pid_level].get_live(pid_key) {
            object.task.store(task_key.index, Ordering::Release);
        }
        for &(at, nr) in &chain.links[..chain.len] {
            if let Some(entry) = self.idr_entry(at, nr) {
                entry.store(pid.pack(), Ordering::Release);
            }
        }
        w.groups.insert(pgid.pack(), task_key.index);
        if parent != NO_TASK {
            w.children.insert(parent, task_key.index);
        }
        w.residents.insert(ns, task_key.index);
        let record = w.namespace_mut(ns)?;
        if record.init == NO_TASK {
            record.init = task_key.index;
        }
        Ok(TaskRef(task_key))
    }

    /// One number per level, with the Linux errors: EINVAL for a chosen
    /// number outside `1..pid_max` (or other than 1 in a namespace without an
    /// init), EEXIST if taken, EAGAIN if a namespace is full. All or nothing.
    fn alloc_numbers(&self, w: &mut Writer, ns: u32, set_tid: &[RawPid]) -> Result<Chain, Errno> {
        let mut chain = Chain {
            links: [(0, 0); LEVELS],
            len: 0,
        };
        let mut at = ns;
        loop {
            let record = w.namespace_mut(at)?;
            let result = match set_tid.get(chain.len) {
                Some(&tid) if tid < 1 || tid >= self.config.pid_max => Err(Errno::EINVAL),
                Some(&tid) if tid != 1 && record.init == NO_TASK => Err(Errno::EINVAL),
                Some(&tid) => record.pids.alloc_exact(tid).map(|()| tid),
                None => record.pids.alloc().ok_or(Errno::EAGAIN),
            };
            match result {
                Ok(nr) => {
                    chain.links[chain.len] = (at, nr);
                    chain.len += 1;
                }
                Err(e) => {
                    Self::free_numbers(w, &chain);
                    return Err(e);
                }
            }
            if record.level == 0 {
                return Ok(chain);
            }
            at = record.parent;
        }
    }

    fn free_numbers(w: &mut Writer, chain: &Chain) {
        for &(at, nr) in &chain.links[..chain.len] {
            if let Ok(record) = w.namespace_mut(at) {
                record.pids.free(nr);
            }
        }
    }

    fn idr_entry(&self, ns: u32, nr: RawPid) -> Option<&AtomicU64> {
        self.namespaces
            .get(ns as usize)?
            .idr
            .get()?
            .get_or_alloc(nr as usize)
    }

    fn add_ref(&self, pid: PidRef) {
        if let Some(object) = self.pids[pid.level as usize].get_unvalidated(pid.index) {
            object.refs.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drops one use of a PID object; the last one frees its numbers.
    fn put_pid(&self, w: &mut Writer, pid: PidRef) {
        let slab = &self.pids[pid.level as usize];
        let Some(key) = slab.key_at(pid.index) else {
            return;
        };
        let Some(object) = slab.get_live(key) else {
            return;
        };
        if object.refs.fetch_sub(1, Ordering::Relaxed) != 1 {
            return;
        }
        if let Some(numbers) = object.numbers.get() {
            for bits in numbers.iter().map(|n| n.load(Ordering::Relaxed)) {
                let (at, nr) = (crate::ns::upid_ns(bits), crate::ns::upid_nr(bits));
                if let Some(entry) = self.idr_entry(at, nr) {
                    entry.store(0, Ordering::Release);
                }
                if let Ok(record) = w.namespace_mut(at) {
                    record.pids.free(nr);
                }
            }
        }
        slab.remove(&mut w.pids[pid.level as usize], key);
    }

    fn live_caller(&self, caller: TaskRef) -> Result<TaskView, Errno> {
        let view = self.view(caller)?;
        if view.exit & ZOMBIE != 0 {
            return Err(Errno::ESRCH);
        }
        Ok(view)
    }

    /// `fork`/`clone3` in the caller's namespace: `set_tid` chooses numbers,
    /// innermost namespace first (empty: all cyclic). EINVAL if `set_tid` is
    /// longer than the caller's level + 1 (or [`MAX_PID_NS_LEVEL`]), or a
    /// number is out of range; EEXIST if one is taken; EAGAIN if a namespace
    /// or the table is full; ESRCH for a released or exited caller.
    pub fn fork(&self, caller: TaskRef, set_tid: &[RawPid]) -> Result<Forked, Errno> {
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        let parent = self.live_caller(caller)?;
        let child = self.spawn(w, parent.ns, caller.0.index, Some(parent.pgid), set_tid)?;
        Ok(Forked {
            child,
            pid: self.getpid(child)?,
        })
    }

    /// `clone(CLONE_NEWPID)`: the init of a new namespace one level below the
    /// caller's, PID 1 there, with a number in every ancestor namespace; its
    /// process group stays the caller's (invisible inside: 0). ENOSPC past
    /// [`MAX_PID_NS_LEVEL`] levels.
    pub fn create_ns(&self, caller: TaskRef) -> Result<Forked, Errno> {
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        let parent = self.live_caller(caller)?;
        let ns = self.new_namespace(w, Some(parent.ns))?;
        match self.spawn(w, ns, caller.0.index, Some(parent.pgid), &[]) {
            Ok(child) => {
                let pid = self.pid_of(crate::Viewer::Task(caller), child)?;
                Ok(Forked { child, pid })
            }
            Err(e) => {
                Self::drop_namespace(w, ns);
                Err(e)
            }
        }
    }

    /// The task exits with `code` and becomes a zombie until its parent reaps
    /// it; its children go to its namespace's init. A namespace init's exit
    /// kills and releases every other task of its namespace and of those
    /// nested in it (`zap_pid_ns_processes`). ESRCH if the task already
    /// exited; EPERM for the host init.
    pub fn exit(&self, task: TaskRef, code: i32) -> Result<(), Errno> {
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        let view = self.live_caller(task)?;
        if task == self.init {
            return Err(Errno::EPERM);
        }
        if let Some(fields) = self.tasks.get_live(task.0) {
            fields
                .exit
                .store(ZOMBIE | u32::from(code as u8), Ordering::Relaxed);
        }
        let reaper = w.namespace(view.ns)?.init;
        if reaper == task.0.index {
            self.zap(w, view.ns, reaper);
        } else {
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

    /// Releases every task of namespace `ns` but `keep`, nested ones first.
    fn zap(&self, w: &mut Writer, ns: u32, keep: u32) {
        let nested: Vec<(u32, u32)> = w
            .namespaces
            .iter()
            .enumerate()
            .filter_map(|(id, n)| n.as_ref().map(|n| (id as u32, n)))
            .filter(|(_, n)| n.level > 0 && n.parent == ns)
            .map(|(id, n)| (id, n.init))
            .collect();
        for (id, init) in nested {
            self.zap(w, id, init);
            self.release(w, init);
        }
        for index in w.residents.get(&ns).to_vec() {
            if index != keep {
                self.release(w, index);
            }
        }
    }

    /// Reaps the zombie child numbered `nr` in the parent's namespace: its
    /// exit code, or `None` if that child still runs. ECHILD if `nr` is not
    /// a child of `parent` visible there; ESRCH if `parent` was released or
    /// exited.
    pub fn reap(&self, parent: TaskRef, nr: RawPid) -> Result<Option<i32>, Errno> {
        self.live_caller(parent)?;
        let child = self
            .find(crate::Viewer::Task(parent), nr)
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

    /// Removes a task everywhere; frees its PID unless a process group still
    /// uses it, and its namespace if it was that namespace's init.
    fn release(&self, w: &mut Writer, index: u32) {
        let Some(key) = self.tasks.key_at(index) else {
            return;
        };
        let Ok(view) = self.view(TaskRef(key)) else {
            return;
        };
        w.groups.remove(view.pgid.pack(), index);
        w.children.remove(view.parent, index);
        w.residents.remove(view.ns, index);
        if let Some(object) = self.pids[view.pid.level as usize].get_unvalidated(view.pid.index) {
            object.task.store(NO_TASK, Ordering::Release);
        }
        self.put_pid(w, view.pgid);
        self.put_pid(w, view.pid);
        self.tasks.remove(&mut w.tasks, key);
        if view.pid.level > 0 && w.namespace(view.ns).is_ok_and(|n| n.init == index) {
            Self::drop_namespace(w, view.ns);
        }
    }

    /// Moves task `pid` (0: the caller) into process group `pgid` (0: its own
    /// PID), both numbers in the caller's namespace. ESRCH unless the target
    /// is the caller or its child; EPERM if the target is in another
    /// namespace or the group does not exist there; EINVAL for a negative
    /// `pgid`.
    pub fn setpgid(&self, caller: TaskRef, pid: RawPid, pgid: RawPid) -> Result<(), Errno> {
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let target = if pid == 0 {
            caller
        } else {
            self.find(crate::Viewer::Task(caller), pid)?
        };
        let mut guard = self.writer.lock();
        let w = &mut *guard;
        let me = self.live_caller(caller)?;
        let view = self.view(target)?;
        if target != caller && view.parent != caller.0.index {
            return Err(Errno::ESRCH);
        }
        if view.ns != me.ns {
            return Err(Errno::EPERM);
        }
        let group = if pgid == 0 || pgid == view.nr {
            view.pid
        } else {
            let group = self
                .find_pid(me.ns, me.pid.level, pgid)
                .ok_or(Errno::EPERM)?;
            if group.level != me.pid.level || w.groups.get(&group.pack()).is_empty() {
                return Err(Errno::EPERM);
            }
            group
        };
        if group == view.pgid {
            return Ok(());
        }
        w.groups.remove(view.pgid.pack(), target.0.index);
        w.groups.insert(group.pack(), target.0.index);
        self.add_ref(group);
        if let Some(t) = self.tasks.get_live(target.0) {
            t.pgid.store(group.pack(), Ordering::Relaxed);
        }
        self.put_pid(w, view.pgid);
        Ok(())
    }
}

impl Writer {
    pub(crate) fn namespace(&self, id: u32) -> Result<&Namespace, Errno> {
        self.namespaces
            .get(id as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::ESRCH)
    }

    pub(crate) fn namespace_mut(&mut self, id: u32) -> Result<&mut Namespace, Errno> {
        self.namespaces
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::ESRCH)
    }
}
