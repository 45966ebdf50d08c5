//! The reference model: the same semantics as `vps::Host`, written as plainly
//! as possible. Single-threaded, `BTreeMap`s only, no indexes: every group,
//! session, child list and VPS membership is found by scanning all tasks, and
//! the real PID allocator scans number by number. Slow and obviously correct;
//! the property tests run random operations against both and compare.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use vpid_core::{CloneFlags, Errno, RawPid, RealPid, WaitOptions};
use vps::{
    DefaultAction, Disposition, Forked, PsEntry, Signal, TaskRef, TaskState, Viewer, VpsConfig,
    VpsId, WaitStatus, Waited,
};

const MARKER: i32 = 1024;
const RESERVED: i32 = 300;
const HOST_INIT: i32 = 1;

#[derive(Clone, Debug, PartialEq)]
enum Run {
    Running,
    Stopped(Signal),
    Zombie(WaitStatus),
}

/// One task. The process fields are meaningful on thread-group leaders only.
#[derive(Clone, Debug)]
struct Task {
    generation: u32,
    tgid: i32,
    vps: Option<u32>,
    parent: Option<i32>,
    /// The parent's thread that forked it, when not the parent's leader:
    /// each thread has its own list of children.
    parent_thread: Option<i32>,
    pgid: i32,
    sid: i32,
    run: Run,
    stop_unreported: bool,
    continued_unreported: bool,
    dispositions: BTreeMap<i32, Disposition>,
    pending: BTreeSet<i32>,
    did_exec: bool,
    adopted: bool,
    /// When it joined its parent (fork or adoption): `waitpid` walks
    /// children in this order, as Linux walks its children list.
    joined: u64,
}

#[derive(Clone, Debug)]
struct Vps {
    init: i32,
    dying: bool,
    sparse: bool,
    numproc: Option<u32>,
}

/// The model host.
#[derive(Clone, Debug)]
pub struct Model {
    pid_max: i32,
    last: i32,
    generations: BTreeMap<i32, u32>,
    tasks: BTreeMap<i32, Task>,
    vpses: BTreeMap<u32, Vps>,
    /// number → (VPS id, virtual number)
    vnr: BTreeMap<i32, (u32, i32)>,
    /// The next `joined` stamp.
    next_join: u64,
}

fn handle(real: i32, generation: u32) -> TaskRef {
    TaskRef::from_parts(RealPid::from_raw(real).expect("a real pid"), generation)
}

impl Model {
    pub fn new(pid_max: i32) -> Model {
        let mut m = Model {
            pid_max,
            last: 0,
            generations: BTreeMap::new(),
            tasks: BTreeMap::new(),
            vpses: BTreeMap::new(),
            vnr: BTreeMap::new(),
            next_join: 0,
        };
        let init = HOST_INIT;
        m.last = init;
        m.add_task(
            init,
            Self::record(init, None, None, init, init, BTreeMap::new()),
        );
        m
    }

    pub fn init(&self) -> TaskRef {
        handle(HOST_INIT, 1)
    }

    // ----- helpers -----

    fn in_use(&self, n: i32) -> bool {
        n == HOST_INIT
            || self.tasks.contains_key(&n)
            || self
                .tasks
                .iter()
                .any(|(r, t)| t.tgid == *r && (t.pgid == n || t.sid == n))
    }

    fn alloc_real(&mut self) -> Result<i32, Errno> {
        let mut pid = self.last;
        for _ in 0..self.pid_max + 1 {
            pid += 1;
            if pid & MARKER != 0 {
                pid += MARKER;
            }
            if pid >= self.pid_max {
                pid = RESERVED;
            }
            if !self.in_use(pid) {
                self.last = pid;
                return Ok(pid);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// A running task's record (generation filled in by `add_task`).
    fn record(
        tgid: i32,
        vps: Option<u32>,
        parent: Option<i32>,
        pgid: i32,
        sid: i32,
        dispositions: BTreeMap<i32, Disposition>,
    ) -> Task {
        Task {
            generation: 0,
            tgid,
            vps,
            parent,
            parent_thread: None,
            pgid,
            sid,
            run: Run::Running,
            stop_unreported: false,
            continued_unreported: false,
            dispositions,
            pending: BTreeSet::new(),
            did_exec: false,
            adopted: false,
            joined: 0,
        }
    }

    fn add_task(&mut self, real: i32, mut task: Task) -> TaskRef {
        let g = self.generations.entry(real).or_insert(0);
        *g = g.wrapping_add(1).max(1);
        task.generation = *g;
        task.joined = self.next_join;
        self.next_join += 1;
        self.tasks.insert(real, task);
        handle(real, *g)
    }

    fn is_leader(&self, t: i32) -> bool {
        self.tasks.get(&t).is_some_and(|x| x.tgid == t)
    }

    fn leader_of(&self, t: TaskRef) -> Result<i32, Errno> {
        match self.tasks.get(&t.real().as_raw()) {
            Some(x) if x.generation == t.generation() => Ok(x.tgid),
            _ => Err(Errno::ESRCH),
        }
    }

    /// The leader of a live caller.
    fn caller(&self, t: TaskRef) -> Result<i32, Errno> {
        let l = self.leader_of(t)?;
        if matches!(self.tasks[&l].run, Run::Zombie(_)) {
            return Err(Errno::ESRCH);
        }
        Ok(l)
    }

    fn vps_of_task(&self, t: i32) -> Option<u32> {
        self.tasks[&self.tasks[&t].tgid].vps
    }

    fn leaders(&self) -> Vec<i32> {
        self.tasks
            .keys()
            .copied()
            .filter(|t| self.is_leader(*t))
            .collect()
    }

    /// The children of a process, in the order they joined it.
    fn children(&self, leader: i32) -> Vec<i32> {
        let mut children: Vec<i32> = self
            .leaders()
            .into_iter()
            .filter(|c| self.tasks[c].parent == Some(leader))
            .collect();
        children.sort_by_key(|c| self.tasks[c].joined);
        children
    }

    fn threads(&self, leader: i32) -> Vec<i32> {
        self.tasks
            .iter()
            .filter(|(r, t)| t.tgid == leader && **r != leader)
            .map(|(r, _)| *r)
            .collect()
    }

    fn vps_members(&self, id: u32) -> Vec<i32> {
        self.tasks
            .keys()
            .copied()
            .filter(|t| self.vps_of_task(*t) == Some(id))
            .collect()
    }

    fn group(&self, pgid: i32) -> Vec<i32> {
        self.leaders()
            .into_iter()
            .filter(|l| self.tasks[l].pgid == pgid)
            .collect()
    }

    fn session_size(&self, sid: i32) -> usize {
        self.leaders()
            .into_iter()
            .filter(|l| self.tasks[l].sid == sid)
            .count()
    }

    fn is_zombie(&self, l: i32) -> bool {
        matches!(self.tasks[&l].run, Run::Zombie(_))
    }

    fn disp(&self, l: i32, sig: Signal) -> Disposition {
        self.tasks[&l]
            .dispositions
            .get(&sig.0)
            .copied()
            .unwrap_or_default()
    }

    fn vnr_taken(&self, id: u32, v: i32) -> bool {
        self.vnr.values().any(|x| *x == (id, v))
    }

    fn is_init(&self, l: i32) -> bool {
        l == HOST_INIT || self.vpses.values().any(|v| v.init == l)
    }

    /// A number seen from `ctx`.
    fn visible(&self, n: i32, ctx: Option<u32>) -> RawPid {
        match (ctx, self.vnr.get(&n)) {
            (None, _) => n,
            (Some(id), Some((vid, v))) if *vid == id => *v,
            (Some(_), Some(_)) => 0,
            (Some(_), None) => n,
        }
    }

    /// A raw number resolved in `ctx` to a real number.
    fn resolve(&self, ctx: Option<u32>, raw: RawPid) -> Option<i32> {
        match ctx {
            Some(id) if raw == 1 || (raw > 0 && raw & MARKER != 0) => self
                .vnr
                .iter()
                .find(|(_, (vid, v))| *vid == id && *v == raw)
                .map(|(n, _)| *n),
            _ => RealPid::from_raw(raw).map(RealPid::as_raw),
        }
    }

    fn accessible(ctx: Option<u32>, vps: Option<u32>) -> bool {
        ctx.is_none() || ctx == vps
    }

    fn find_task(&self, ctx: Option<u32>, raw: RawPid) -> Result<i32, Errno> {
        let n = self.resolve(ctx, raw).ok_or(Errno::ESRCH)?;
        if self.tasks.contains_key(&n) && Self::accessible(ctx, self.vps_of_task(n)) {
            Ok(n)
        } else {
            Err(Errno::ESRCH)
        }
    }

    /// The next virtual number after `v` in the sparse probe.
    fn probe_next(&self, v: i32) -> i32 {
        let mut v = v + 1;
        if v & MARKER == 0 {
            v += MARKER;
        }
        if v >= self.pid_max {
            v = RESERVED + MARKER;
        }
        v
    }

    fn auto_vnr(&mut self, id: u32, real: i32) -> Result<i32, Errno> {
        let first = real | MARKER;
        if !self.vpses[&id].sparse || (first < self.pid_max && !self.vnr_taken(id, first)) {
            return Ok(first);
        }
        let mut v = first;
        for _ in 0..=self.pid_max {
            v = self.probe_next(v);
            if v < self.pid_max && !self.vnr_taken(id, v) {
                self.last = v - MARKER;
                return Ok(v);
            }
        }
        Err(Errno::EAGAIN)
    }

    fn free_unused_numbers(&mut self) {
        let unused: Vec<i32> = self
            .vnr
            .keys()
            .copied()
            .filter(|n| !self.in_use(*n))
            .collect();
        for n in unused {
            self.vnr.remove(&n);
        }
        let gone: Vec<u32> = self
            .vpses
            .iter()
            .filter(|(id, v)| v.dying && self.vps_members(**id).is_empty())
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.vpses.remove(&id);
            self.vnr.retain(|_, (vid, _)| *vid != id);
        }
    }

    // ----- containers -----

    pub fn create_vps(
        &mut self,
        caller: TaskRef,
        id: VpsId,
        config: VpsConfig,
    ) -> Result<TaskRef, Errno> {
        let creator = self.caller(caller)?;
        if self.tasks[&creator].vps.is_some() {
            return Err(Errno::EPERM);
        }
        if id.0 == 0 || config.numproc == Some(0) {
            return Err(Errno::EINVAL);
        }
        if self.vpses.contains_key(&id.0) {
            return Err(Errno::EEXIST);
        }
        if self.vpses.len() >= vps::MAX_VPS {
            return Err(Errno::EAGAIN);
        }
        let init = self.alloc_real()?;
        self.vpses.insert(
            id.0,
            Vps {
                init,
                dying: false,
                sparse: false,
                numproc: config.numproc,
            },
        );
        self.vnr.insert(init, (id.0, 1));
        let record = Self::record(init, Some(id.0), Some(creator), init, init, BTreeMap::new());
        Ok(self.add_task(init, record))
    }

    pub fn destroy_vps(&mut self, id: VpsId) -> Result<(), Errno> {
        let v = self.vpses.get(&id.0).ok_or(Errno::ESRCH)?;
        let init = v.init;
        if self
            .tasks
            .get(&init)
            .is_some_and(|t| !matches!(t.run, Run::Zombie(_)))
        {
            self.exit_group(init, WaitStatus::Signaled(Signal::SIGKILL));
        }
        while self.vpses.contains_key(&id.0) {
            let Some(z) = self
                .vps_members(id.0)
                .into_iter()
                .find(|t| self.is_leader(*t))
            else {
                break;
            };
            self.reap(z);
        }
        Ok(())
    }

    pub fn vps_ids(&self) -> Vec<VpsId> {
        self.vpses.keys().map(|k| VpsId(*k)).collect()
    }

    pub fn vps_init(&self, id: VpsId) -> Result<TaskRef, Errno> {
        let v = self.vpses.get(&id.0).ok_or(Errno::ESRCH)?;
        let t = self.tasks.get(&v.init).ok_or(Errno::ESRCH)?;
        Ok(handle(v.init, t.generation))
    }

    pub fn vps_of(&self, t: TaskRef) -> Result<Option<VpsId>, Errno> {
        let l = self.leader_of(t)?;
        Ok(self.tasks[&l].vps.map(VpsId))
    }

    pub fn is_sparse(&self, id: VpsId) -> Result<bool, Errno> {
        self.vpses.get(&id.0).map(|v| v.sparse).ok_or(Errno::ESRCH)
    }

    pub fn is_dying(&self, id: VpsId) -> Result<bool, Errno> {
        self.vpses.get(&id.0).map(|v| v.dying).ok_or(Errno::ESRCH)
    }

    pub fn enter(&mut self, t: TaskRef, id: VpsId) -> Result<RawPid, Errno> {
        let l = self.caller(t)?;
        if t.real().as_raw() != l || !self.threads(l).is_empty() {
            return Err(Errno::EINVAL);
        }
        if self.tasks[&l].vps.is_some() || l == HOST_INIT {
            return Err(Errno::EPERM);
        }
        let v = self.vpses.get(&id.0).ok_or(Errno::ESRCH)?.clone();
        if v.dying {
            return Err(Errno::ENOMEM);
        }
        if v.numproc
            .is_some_and(|n| self.vps_members(id.0).len() >= n as usize)
        {
            return Err(Errno::EAGAIN);
        }
        let (pgid, sid) = (self.tasks[&l].pgid, self.tasks[&l].sid);
        if self.group(pgid).len() == 1 && self.session_size(sid) == 1 {
            let saved = self.last;
            let vnr = self.auto_vnr(id.0, l).inspect_err(|_| self.last = saved)?;
            self.vnr.insert(l, (id.0, vnr));
        }
        self.tasks.get_mut(&l).expect("leader").vps = Some(id.0);
        Ok(self.visible(l, Some(id.0)))
    }

    // ----- lifecycle -----

    pub fn fork(
        &mut self,
        caller: TaskRef,
        flags: CloneFlags,
        chosen: Option<RawPid>,
    ) -> Result<Forked, Errno> {
        let l = self.caller(caller)?;
        let thread = flags.contains(CloneFlags::CLONE_THREAD);
        let sibling = flags.contains(CloneFlags::CLONE_PARENT);
        if sibling && !thread && self.is_init(l) {
            return Err(Errno::EINVAL);
        }
        let me = self.tasks[&l].clone();
        let chosen = match me.vps {
            None => None,
            Some(id) => {
                let v = &self.vpses[&id];
                if v.dying {
                    return Err(Errno::ENOMEM);
                }
                if let Some(w) = chosen {
                    let valid = w > 1 && w & MARKER != 0 && w < self.pid_max;
                    if !valid {
                        return Err(Errno::EINVAL);
                    }
                }
                if v.numproc
                    .is_some_and(|n| self.vps_members(id).len() >= n as usize)
                {
                    return Err(Errno::EAGAIN);
                }
                chosen
            }
        };
        let saved = self.last;
        let real = self.alloc_real()?;
        let mut vnr = None;
        if let Some(id) = me.vps {
            let v = match chosen {
                Some(w) if self.vnr_taken(id, w) => Err(Errno::EEXIST),
                Some(w) => Ok(w),
                None => self.auto_vnr(id, real),
            };
            match v {
                Ok(v) => vnr = Some((id, v)),
                Err(e) => {
                    self.last = saved;
                    return Err(e);
                }
            }
        }
        let parent = if sibling { me.parent } else { Some(l) };
        let tgid = if thread { l } else { real };
        let record = Self::record(
            tgid,
            me.vps,
            parent,
            me.pgid,
            me.sid,
            me.dispositions.clone(),
        );
        let child = self.add_task(real, record);
        if !thread {
            let forker = caller.real().as_raw();
            self.tasks.get_mut(&real).expect("child").parent_thread = if sibling {
                me.parent_thread
            } else {
                (forker != l).then_some(forker)
            };
        }
        if let Some((id, v)) = vnr {
            if v != real | MARKER {
                self.vpses.get_mut(&id).expect("vps").sparse = true;
            }
            self.vnr.insert(real, (id, v));
        }
        Ok(Forked {
            child,
            pid: self.visible(real, me.vps),
        })
    }

    pub fn exit(&mut self, caller: TaskRef, code: i32) -> Result<(), Errno> {
        let l = self.caller(caller)?;
        if caller.real().as_raw() != l {
            // The thread's children go to the end of the leader's list.
            let t = caller.real().as_raw();
            for c in self.children(l) {
                if self.tasks[&c].parent_thread == Some(t) {
                    let child = self.tasks.get_mut(&c).expect("child");
                    child.parent_thread = None;
                    child.joined = self.next_join;
                    self.next_join += 1;
                }
            }
            self.tasks.remove(&t);
            self.free_unused_numbers();
            return Ok(());
        }
        if l == HOST_INIT {
            return Err(Errno::EPERM);
        }
        self.exit_group(l, WaitStatus::Exited(code & 0xff));
        Ok(())
    }

    fn exit_group(&mut self, l: i32, status: WaitStatus) {
        let vps = self.tasks[&l].vps;
        if let Some(id) = vps {
            if self.vpses[&id].init == l {
                // The VPS init: kill every other process, reap its zombie children.
                self.vpses.get_mut(&id).expect("vps").dying = true;
                for victim in self.vps_members(id) {
                    if victim != l && self.is_leader(victim) && !self.is_zombie(victim) {
                        self.exit_group(victim, WaitStatus::Signaled(Signal::SIGKILL));
                    }
                }
                for c in self.children(l) {
                    if self.tasks.contains_key(&c) && self.is_zombie(c) {
                        self.reap(c);
                    }
                }
            }
        }
        for t in self.threads(l) {
            self.tasks.remove(&t);
        }
        for c in self.children(l) {
            // The child's own VPS init adopts it, if that is someone else
            // and still alive; otherwise the host init.
            let reaper = match self.tasks[&c].vps {
                Some(id) => {
                    let init = self.vpses[&id].init;
                    let alive = self.tasks.contains_key(&init) && !self.is_zombie(init);
                    if init != c && init != l && alive {
                        init
                    } else {
                        HOST_INIT
                    }
                }
                None => HOST_INIT,
            };
            self.reparent(c, reaper);
        }
        let t = self.tasks.get_mut(&l).expect("leader");
        t.run = Run::Zombie(status);
        t.pending.clear();
        t.stop_unreported = false;
        t.continued_unreported = false;
        self.notify_exit(l);
        self.free_unused_numbers();
    }

    fn reparent(&mut self, c: i32, reaper: i32) {
        let t = self.tasks.get_mut(&c).expect("child");
        t.parent = Some(reaper);
        t.parent_thread = None;
        t.joined = self.next_join;
        self.next_join += 1;
        if reaper == HOST_INIT {
            t.adopted = true;
        }
        if self.is_zombie(c) {
            self.notify_exit(c);
        }
    }

    fn notify_exit(&mut self, l: i32) {
        let Some(parent) = self.tasks[&l].parent else {
            return;
        };
        if self.tasks[&l].adopted || self.disp(parent, Signal::SIGCHLD) == Disposition::Ignore {
            self.reap(l);
        } else {
            self.sigchld(parent);
        }
    }

    fn sigchld(&mut self, parent: i32) {
        if !self.is_zombie(parent) && self.disp(parent, Signal::SIGCHLD) == Disposition::Handler {
            self.tasks
                .get_mut(&parent)
                .expect("parent")
                .pending
                .insert(Signal::SIGCHLD.0);
        }
    }

    fn reap(&mut self, l: i32) {
        for c in self.children(l) {
            self.reparent(c, HOST_INIT);
        }
        self.tasks.remove(&l);
        self.free_unused_numbers();
    }

    pub fn waitpid(
        &mut self,
        caller: TaskRef,
        pid: RawPid,
        options: WaitOptions,
    ) -> Result<Option<Waited>, Errno> {
        let l = self.caller(caller)?;
        let allowed = WaitOptions::WNOHANG
            | WaitOptions::WUNTRACED
            | WaitOptions::WCONTINUED
            | WaitOptions::WNOTHREAD
            | WaitOptions::WCLONE
            | WaitOptions::WALL;
        if !allowed.contains(options) {
            return Err(Errno::EINVAL);
        }
        if pid == i32::MIN {
            return Err(Errno::ESRCH);
        }
        let ctx = self.tasks[&l].vps;
        let mine = self.tasks[&l].pgid;
        let fits = |m: &Model, c: i32| -> bool {
            match pid {
                -1 => true,
                0 => m.tasks[&c].pgid == mine,
                p if p > 0 => m.resolve(ctx, p) == Some(c),
                p => m.resolve(ctx, -p) == Some(m.tasks[&c].pgid),
            }
        };
        // Thread by thread, from the caller's round the group (only the
        // caller's with __WNOTHREAD); each thread's children in join order.
        let me = caller.real().as_raw();
        let mut threads = self.threads(l);
        threads.sort_unstable(); // creation order: real PIDs ascend
        let mut order: Vec<i32> = std::iter::once(l).chain(threads).collect();
        let at = order.iter().position(|&t| t == me).expect("the caller");
        order.rotate_left(at);
        if options.contains(WaitOptions::WNOTHREAD) {
            order.truncate(1);
        }
        let children = self.children(l);
        let mut candidates = Vec::new();
        for &th in &order {
            for &c in &children {
                let on_list = self.tasks[&c].parent_thread.unwrap_or(l) == th;
                if on_list && fits(self, c) && Self::accessible(ctx, self.tasks[&c].vps) {
                    candidates.push(c);
                }
            }
        }
        if candidates.is_empty() {
            return Err(Errno::ECHILD);
        }
        for c in candidates {
            let t = &self.tasks[&c];
            let status = match &t.run {
                Run::Zombie(s) => Some(*s),
                Run::Stopped(sig)
                    if t.stop_unreported && options.contains(WaitOptions::WUNTRACED) =>
                {
                    Some(WaitStatus::Stopped(*sig))
                }
                _ if t.continued_unreported && options.contains(WaitOptions::WCONTINUED) => {
                    Some(WaitStatus::Continued)
                }
                _ => None,
            };
            let Some(status) = status else { continue };
            let pid = self.visible(c, ctx);
            match status {
                WaitStatus::Stopped(_) => {
                    self.tasks.get_mut(&c).expect("c").stop_unreported = false
                }
                WaitStatus::Continued => {
                    self.tasks.get_mut(&c).expect("c").continued_unreported = false
                }
                _ => self.reap(c),
            }
            return Ok(Some(Waited { pid, status }));
        }
        Ok(None)
    }

    pub fn exec(&mut self, caller: TaskRef) -> Result<(), Errno> {
        let l = self.caller(caller)?;
        let t = self.tasks.get_mut(&l).expect("leader");
        t.did_exec = true;
        t.dispositions.retain(|_, d| *d != Disposition::Handler);
        Ok(())
    }

    // ----- identity -----

    pub fn getpid(&self, caller: TaskRef) -> Result<RawPid, Errno> {
        let l = self.caller(caller)?;
        Ok(self.visible(l, self.tasks[&l].vps))
    }

    pub fn gettid(&self, caller: TaskRef) -> Result<RawPid, Errno> {
        let l = self.caller(caller)?;
        Ok(self.visible(caller.real().as_raw(), self.tasks[&l].vps))
    }

    fn parent_seen(&self, l: i32, ctx: Option<u32>) -> RawPid {
        match self.tasks[&l].parent {
            Some(p) if Self::accessible(ctx, self.tasks[&p].vps) => self.visible(p, ctx),
            _ => 0,
        }
    }

    pub fn getppid(&self, caller: TaskRef) -> Result<RawPid, Errno> {
        let l = self.caller(caller)?;
        Ok(self.parent_seen(l, self.tasks[&l].vps))
    }

    fn id_target(&self, caller: TaskRef, pid: RawPid) -> Result<(i32, Option<u32>), Errno> {
        let l = self.caller(caller)?;
        let ctx = self.tasks[&l].vps;
        let target = if pid == 0 {
            l
        } else {
            self.tasks[&self.find_task(ctx, pid)?].tgid
        };
        Ok((target, ctx))
    }

    pub fn getpgid(&self, caller: TaskRef, pid: RawPid) -> Result<RawPid, Errno> {
        let (t, ctx) = self.id_target(caller, pid)?;
        Ok(self.visible(self.tasks[&t].pgid, ctx))
    }

    pub fn getsid(&self, caller: TaskRef, pid: RawPid) -> Result<RawPid, Errno> {
        let (t, ctx) = self.id_target(caller, pid)?;
        Ok(self.visible(self.tasks[&t].sid, ctx))
    }

    pub fn lookup(&self, caller: TaskRef, pid: RawPid) -> Result<TaskRef, Errno> {
        let l = self.caller(caller)?;
        let n = self.find_task(self.tasks[&l].vps, pid)?;
        Ok(handle(n, self.tasks[&n].generation))
    }

    pub fn pid_of(&self, viewer: Viewer, t: TaskRef) -> Result<RawPid, Errno> {
        let ctx = match viewer {
            Viewer::Host => None,
            Viewer::Task(v) => {
                let l = self.caller(v)?;
                self.tasks[&l].vps
            }
        };
        let tl = self.leader_of(t)?;
        let tvps = self.tasks[&tl].vps;
        Ok(match ctx {
            None => t.real().as_raw(),
            Some(_) if ctx == tvps => self.visible(t.real().as_raw(), ctx),
            Some(_) => 0,
        })
    }

    // ----- groups and sessions -----

    pub fn setpgid(&mut self, caller: TaskRef, pid: RawPid, pgid: RawPid) -> Result<(), Errno> {
        let l = self.caller(caller)?;
        let ctx = self.tasks[&l].vps;
        let pid = if pid == 0 { self.visible(l, ctx) } else { pid };
        let pgid = if pgid == 0 { pid } else { pgid };
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let target = self.find_task(ctx, pid)?;
        if !self.is_leader(target) {
            return Err(Errno::EINVAL);
        }
        let my_sid = self.tasks[&l].sid;
        let t = &self.tasks[&target];
        if t.parent == Some(l) {
            if t.sid != my_sid {
                return Err(Errno::EPERM);
            }
            if t.did_exec {
                return Err(Errno::EACCES);
            }
        } else if target != l {
            return Err(Errno::ESRCH);
        }
        if t.sid == target {
            return Err(Errno::EPERM);
        }
        let group = if pgid == pid {
            target
        } else {
            let g = self.resolve(ctx, pgid).ok_or(Errno::EPERM)?;
            let members = self.group(g);
            if members.is_empty() || self.tasks[&members[0]].sid != my_sid {
                return Err(Errno::EPERM);
            }
            g
        };
        self.tasks.get_mut(&target).expect("target").pgid = group;
        self.free_unused_numbers();
        Ok(())
    }

    pub fn setsid(&mut self, caller: TaskRef) -> Result<RawPid, Errno> {
        let l = self.caller(caller)?;
        if self.tasks[&l].sid == l || (l > 1 && !self.group(l).is_empty()) {
            return Err(Errno::EPERM);
        }
        let t = self.tasks.get_mut(&l).expect("leader");
        t.pgid = l;
        t.sid = l;
        let vps = t.vps;
        self.free_unused_numbers();
        Ok(self.visible(l, vps))
    }

    // ----- signals -----

    pub fn sigaction(
        &mut self,
        caller: TaskRef,
        sig: Signal,
        disp: Disposition,
    ) -> Result<Disposition, Errno> {
        let l = self.caller(caller)?;
        if sig.0 < 1 || sig.0 > 64 || sig == Signal::SIGKILL || sig == Signal::SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let t = self.tasks.get_mut(&l).expect("leader");
        let old = t.dispositions.insert(sig.0, disp).unwrap_or_default();
        if disp == Disposition::Ignore
            || (disp == Disposition::Default && sig.default_action() == DefaultAction::Ignore)
        {
            t.pending.remove(&sig.0);
        }
        Ok(old)
    }

    pub fn pending_signals(&self, caller: TaskRef) -> Result<Vec<Signal>, Errno> {
        let l = self.caller(caller)?;
        Ok(self.tasks[&l].pending.iter().map(|s| Signal(*s)).collect())
    }

    pub fn take_signal(&mut self, caller: TaskRef) -> Result<Option<Signal>, Errno> {
        let l = self.caller(caller)?;
        let t = self.tasks.get_mut(&l).expect("leader");
        Ok(t.pending.pop_first().map(Signal))
    }

    pub fn kill(&mut self, caller: TaskRef, pid: RawPid, sig: Signal) -> Result<(), Errno> {
        let l = self.caller(caller)?;
        if sig.0 < 0 || sig.0 > 64 {
            return Err(Errno::EINVAL);
        }
        if pid == i32::MIN {
            return Err(Errno::ESRCH);
        }
        let ctx = self.tasks[&l].vps;
        let reachable = |m: &Model, p: &i32| Self::accessible(ctx, m.tasks[p].vps);
        let targets: Vec<i32> = match pid {
            p if p > 0 => vec![self.tasks[&self.find_task(ctx, p)?].tgid],
            0 => self
                .group(self.tasks[&l].pgid)
                .into_iter()
                .filter(|p| reachable(self, p))
                .collect(),
            -1 => self
                .leaders()
                .into_iter()
                .filter(|p| {
                    reachable(self, p) && *p != l && self.visible(*p, self.tasks[p].vps) > 1
                })
                .collect(),
            p => {
                let g = self.resolve(ctx, -p).ok_or(Errno::ESRCH)?;
                self.group(g)
                    .into_iter()
                    .filter(|p| reachable(self, p))
                    .collect()
            }
        };
        if targets.is_empty() {
            return Err(Errno::ESRCH);
        }
        for t in targets {
            if self.tasks.contains_key(&t) {
                self.deliver(ctx, t, sig);
            }
        }
        Ok(())
    }

    fn deliver(&mut self, ctx: Option<u32>, t: i32, sig: Signal) {
        if sig.0 == 0 || self.is_zombie(t) {
            return;
        }
        let disp = self.disp(t, sig);
        let vps = self.tasks[&t].vps;
        let vps_init_from_inside =
            vps.is_some_and(|id| ctx == Some(id) && self.vpses[&id].init == t);
        let protected = t == HOST_INIT || vps_init_from_inside;
        let kernel_only = sig == Signal::SIGKILL || sig == Signal::SIGSTOP;
        if protected && (kernel_only || disp != Disposition::Handler) {
            return;
        }
        if sig == Signal::SIGCONT && matches!(self.tasks[&t].run, Run::Stopped(_)) {
            let x = self.tasks.get_mut(&t).expect("t");
            x.run = Run::Running;
            x.stop_unreported = false;
            x.continued_unreported = true;
            self.sigchld_to_parent(t);
            // A fatal signal that came while it was stopped takes effect now.
            let fatal = self.tasks[&t].pending.iter().copied().find(|&n| {
                self.disp(t, Signal(n)) == Disposition::Default
                    && Signal(n).default_action() == DefaultAction::Terminate
            });
            if let Some(n) = fatal {
                self.exit_group(t, WaitStatus::Signaled(Signal(n)));
                return;
            }
        }
        let action = if kernel_only {
            sig.default_action()
        } else {
            match disp {
                Disposition::Ignore => return,
                Disposition::Handler => {
                    self.tasks.get_mut(&t).expect("t").pending.insert(sig.0);
                    return;
                }
                Disposition::Default => sig.default_action(),
            }
        };
        match action {
            // A stopped process stays stopped: only SIGKILL ends it; any
            // other fatal signal waits for SIGCONT (Linux `wants_signal`).
            DefaultAction::Terminate
                if sig != Signal::SIGKILL && matches!(self.tasks[&t].run, Run::Stopped(_)) =>
            {
                self.tasks.get_mut(&t).expect("t").pending.insert(sig.0);
            }
            DefaultAction::Terminate => self.exit_group(t, WaitStatus::Signaled(sig)),
            DefaultAction::Stop => {
                if self.tasks[&t].run == Run::Running {
                    let x = self.tasks.get_mut(&t).expect("t");
                    x.run = Run::Stopped(sig);
                    x.stop_unreported = true;
                    x.continued_unreported = false;
                    self.sigchld_to_parent(t);
                }
            }
            DefaultAction::Ignore | DefaultAction::Continue => {}
        }
    }

    pub fn reboot(&mut self, caller: TaskRef, raw: u32) -> Result<(), Errno> {
        let l = self.caller(caller)?;
        let stops = match raw {
            0x0123_4567 | 0xCDEF_0123 | 0x4321_FEDC | 0xA1B2_C3D4 => true,
            0x89AB_CDEF | 0 => false,
            _ => return Err(Errno::EINVAL),
        };
        let Some(id) = self.tasks[&l].vps else {
            return Err(Errno::EPERM);
        };
        if stops {
            let init = self.vpses[&id].init;
            self.deliver(None, init, Signal::SIGKILL);
        }
        Ok(())
    }

    fn sigchld_to_parent(&mut self, c: i32) {
        if let Some(p) = self.tasks[&c].parent {
            self.sigchld(p);
        }
    }

    // ----- views -----

    pub fn ps(&self, viewer: Viewer) -> Result<Vec<PsEntry>, Errno> {
        let ctx = match viewer {
            Viewer::Host => None,
            Viewer::Task(v) => {
                let l = self.caller(v)?;
                self.tasks[&l].vps
            }
        };
        let mut out = Vec::new();
        for (&real, t) in &self.tasks {
            let p = &self.tasks[&t.tgid];
            if !Self::accessible(ctx, p.vps) {
                continue;
            }
            let (state, exit_status) = match p.run {
                Run::Running => (TaskState::Running, None),
                Run::Stopped(_) => (TaskState::Stopped, None),
                Run::Zombie(s) => (TaskState::Zombie, Some(s)),
            };
            out.push(PsEntry {
                pid: self.visible(real, ctx),
                tgid: self.visible(t.tgid, ctx),
                ppid: self.parent_seen(t.tgid, ctx),
                pgid: self.visible(p.pgid, ctx),
                sid: self.visible(p.sid, ctx),
                state,
                exit_status,
                vps: if ctx.is_none() {
                    p.vps.map(VpsId)
                } else {
                    None
                },
                vpid: if ctx.is_none() {
                    p.vps.map(|id| self.visible(real, Some(id)))
                } else {
                    None
                },
                task: handle(real, t.generation),
            });
        }
        out.sort_by_key(|e| (e.pid, e.task.real()));
        Ok(out)
    }

    /// Live task handles (for generating operations).
    pub fn handles(&self) -> Vec<TaskRef> {
        self.tasks
            .iter()
            .map(|(r, t)| handle(*r, t.generation))
            .collect()
    }

    /// Handles of tasks whose process has not exited.
    pub fn live_handles(&self) -> Vec<TaskRef> {
        self.tasks
            .iter()
            .filter(|(_, t)| !matches!(self.tasks[&t.tgid].run, Run::Zombie(_)))
            .map(|(r, t)| handle(*r, t.generation))
            .collect()
    }

    /// Real numbers in use (tasks, groups, sessions).
    pub fn numbers_in_use(&self) -> usize {
        let mut set: BTreeSet<i32> = self.tasks.keys().copied().collect();
        for (r, t) in &self.tasks {
            if t.tgid == *r {
                set.insert(t.pgid);
                set.insert(t.sid);
            }
        }
        set.len()
    }

    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }
}

/// A task's numbers, for building operation arguments.
#[derive(Copy, Clone, Debug)]
pub struct Numbers {
    pub real: RawPid,
    /// Its PID as its own VPS sees it (real for a host task).
    pub own: RawPid,
    pub pgid_real: RawPid,
    pub pgid_own: RawPid,
}

impl Model {
    /// The numbers of a current handle (zombies included).
    pub fn numbers(&self, t: TaskRef) -> Option<Numbers> {
        let l = self.leader_of(t).ok()?;
        let x = &self.tasks[&l];
        let real = t.real().as_raw();
        Some(Numbers {
            real,
            own: self.visible(real, x.vps),
            pgid_real: x.pgid,
            pgid_own: self.visible(x.pgid, x.vps),
        })
    }

    /// The VPS of a handle, if current.
    pub fn vps_id_of(&self, t: TaskRef) -> Option<Option<u32>> {
        self.leader_of(t).ok().map(|l| self.tasks[&l].vps)
    }

    pub fn pid_max(&self) -> i32 {
        self.pid_max
    }
}

pub mod ops;
