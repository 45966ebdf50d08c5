//! The authoritative process table, kept behind the host's one mutex.
//!
//! Everything here runs with the lock held, so it is plain single-threaded
//! code; after each change it updates the lock-free [`ReadIndex`] that
//! lookups read. The table is split by topic:
//! [`lifecycle`] (fork, exit, reaping), [`wait`], [`groups`] (process groups and
//! sessions), [`signals`] (dispositions, delivery, kill), [`container`] (VPS
//! create, destroy, enter) and [`view`] (translation, lookup, ps), with the
//! storage in [`tasks`] and [`procs`] (arrays indexed by real PID, allocated
//! as PIDs are used), the links between processes in [`relations`], and the
//! invariant checks in [`audit`]. The layout and its memory cost are in
//! `docs/semantics.md`, section 7.
//!
//! Numbers: a real PID is *in use* while a task has it as its PID or a process
//! group or session has it as its ID (the three uses of Linux's `struct pid`).
//! A number in use may carry a virtual number in one VPS (kept in the number's
//! slot of [`tasks`], the pair OpenVZ keeps in `pid->vnr`/`pid->veid`). A
//! linear VPS needs no reverse map: virtual `v` can only be real
//! `v & !VPID_DIV` (or the init, for 1), whose slot says whether it is. A
//! sparse VPS keeps one (`v2r`).

mod audit;
mod checkpoint;
mod container;
mod groups;
mod lifecycle;
mod procs;
mod relations;
mod signals;
mod tasks;
mod view;
mod wait;

pub use audit::AuditError;

use std::collections::BTreeMap;
use std::sync::Arc;

use vpid_core::{Errno, HOST_INIT_PID, RawPid, RealPid, VPID_DIV, VirtPid};

use crate::alloc::PidAllocator;
use crate::disposition::Dispositions;
use crate::ids::{TaskRef, VpsId};
use crate::index::{MAX_VPS, ReadIndex};
use crate::signal::Signal;
use crate::wait_status::WaitStatus;
use procs::Procs;
use relations::{Group, Links, PairSet};
use tasks::{MemberList, SESSION_ID, Tasks};

type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Whether a process runs, is stopped, or has exited.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
enum RunState {
    Running,
    Stopped(Signal),
    Zombie(WaitStatus),
}

/// A thread group, keyed by its leader's real PID.
#[derive(Clone, Debug)]
struct Process {
    /// Its VPS's slot (below `MAX_VPS`), `None` on the host: see [`Process::vps`].
    vps_slot: Option<u16>,
    /// The parent process (its leader); `None` only for the host init.
    parent: Option<RealPid>,
    /// The thread of the parent that forked it, when that is not the
    /// parent's leader. Linux keeps a list of children per thread, and
    /// `waitpid` walks the caller thread's list first: the process's one
    /// list, in join order, holds each thread's list as the subsequence of
    /// the children with that `parent_thread`.
    parent_thread: Option<RealPid>,
    /// Its places in its parent's child list and its group's member list.
    links: Links,
    pgid: RealPid,
    sid: RealPid,
    run: RunState,
    stop_unreported: bool,
    continued_unreported: bool,
    disp: Dispositions,
    pending: u64,
    did_exec: bool,
    /// Reparented to the host init, which reaps it as soon as it exits.
    adopted_by_host_init: bool,
}

impl Process {
    /// Its VPS's slot, `None` on the host.
    fn vps(&self) -> Option<usize> {
        self.vps_slot.map(usize::from)
    }

    /// Moves it to a VPS slot (below `MAX_VPS`).
    fn set_vps(&mut self, slot: usize) {
        self.vps_slot = Some(u16::try_from(slot).expect("a VPS slot below MAX_VPS"));
    }

    fn is_zombie(&self) -> bool {
        matches!(self.run, RunState::Zombie(_))
    }

    /// Whether its parent may report it: a zombie, or an unreported stop
    /// or continue. Derived from its state, so never out of date.
    fn is_waitable(&self) -> bool {
        self.parent.is_some()
            && (self.is_zombie() || self.stop_unreported || self.continued_unreported)
    }
}

/// A container.
#[derive(Clone, Debug)]
struct Vps {
    id: VpsId,
    init: RealPid,
    dying: bool,
    sparse: bool,
    numproc: Option<u32>,
    /// Every task of the VPS (threads included, zombies included).
    members: MemberList,
    /// Sparse mode only: virtual number → real number, for every number in
    /// use that has a virtual number in this VPS (empty in linear mode).
    v2r: Map<RawPid, RealPid>,
}

/// The authoritative state of a host. See the module documentation.
pub(crate) struct Table {
    ix: Arc<ReadIndex>,
    pid_max: i32,
    alloc: PidAllocator,
    tasks: Tasks,
    procs: Procs,
    /// Process group → its member list (zombies included until reaped),
    /// threaded through the members' [`Links`].
    groups: Map<RealPid, Group>,
    /// Session → number of member processes.
    sessions: Map<RealPid, u32>,
    /// (leader, thread) for every thread that is not its group's leader.
    threads: PairSet,
    vpses: Vec<Option<Vps>>,
    vps_slots: BTreeMap<VpsId, usize>,
    free_vps_slots: Vec<usize>,
}

/// The host init's real PID.
const HOST_INIT: RealPid = RealPid::INIT;

impl Table {
    /// A table with only the host init (real PID 1), publishing to `ix`.
    pub(crate) fn new(pid_max: i32, ix: Arc<ReadIndex>) -> Result<(Table, TaskRef), Errno> {
        let mut alloc = PidAllocator::new(pid_max);
        let init = alloc.alloc()?;
        debug_assert_eq!(init.as_raw(), HOST_INIT_PID);
        let mut table = Table {
            ix,
            pid_max,
            alloc,
            tasks: Tasks::new(pid_max),
            procs: Procs::new(pid_max),
            groups: Map::default(),
            sessions: Map::default(),
            threads: PairSet::new(),
            vpses: vec![None; MAX_VPS],
            vps_slots: BTreeMap::new(),
            free_vps_slots: (0..MAX_VPS).rev().collect(),
        };
        let task = table.insert_task(init, init, None);
        table.insert_process(init, None, None, init, init, Dispositions::default());
        table.publish(init);
        Ok((table, task))
    }

    // ----- handles -----

    /// The thread-group leader of a current handle (zombies included).
    fn task_of(&self, t: TaskRef) -> Result<RealPid, Errno> {
        match self.tasks.get(t.real()) {
            Some(task) if task.generation == t.generation() => Ok(task.tgid),
            _ => Err(Errno::ESRCH),
        }
    }

    /// The leader of a current handle whose process has not exited: the
    /// only tasks that can make system calls.
    fn caller(&self, t: TaskRef) -> Result<RealPid, Errno> {
        let leader = self.task_of(t)?;
        if self.procs[&leader].is_zombie() {
            return Err(Errno::ESRCH);
        }
        Ok(leader)
    }

    fn proc(&self, leader: RealPid) -> &Process {
        &self.procs[&leader]
    }

    fn proc_mut(&mut self, leader: RealPid) -> &mut Process {
        self.procs.get_mut(&leader).expect("a process in the table")
    }

    fn vps(&self, slot: usize) -> &Vps {
        self.vpses[slot].as_ref().expect("a VPS in its slot")
    }

    fn vps_mut(&mut self, slot: usize) -> &mut Vps {
        self.vpses[slot].as_mut().expect("a VPS in its slot")
    }

    /// The tasks of the VPS in `slot`, most recent first.
    fn members(&self, slot: usize) -> impl Iterator<Item = RealPid> + '_ {
        self.tasks.members(&self.vps(slot).members)
    }

    /// Adds task `real` to the members of the VPS in `slot`.
    fn add_member(&mut self, slot: usize, real: RealPid) {
        let vps = self.vpses[slot].as_mut().expect("a VPS in its slot");
        self.tasks.push_member(&mut vps.members, real);
    }

    /// Takes task `real` out of the members of the VPS in `slot`.
    fn remove_member(&mut self, slot: usize, real: RealPid) {
        let vps = self.vpses[slot].as_mut().expect("a VPS in its slot");
        self.tasks.unlink_member(&mut vps.members, real);
    }

    /// The VPS slot of a task (any thread).
    fn vps_of_task(&self, real: RealPid) -> Option<usize> {
        self.proc(self.tasks.at(real).tgid).vps()
    }

    // ----- numbers -----

    /// Whether a real number is in use as a PID, a PGID or a SID.
    fn in_use(&self, n: RealPid) -> bool {
        self.tasks.in_use(n)
    }

    /// Frees a number that nothing uses any more, with its virtual number.
    fn release_number(&mut self, n: RealPid) {
        if self.in_use(n) || n == HOST_INIT || !self.alloc.is_used(n.as_raw()) {
            return;
        }
        if let Some((slot, virt)) = self.tasks.vnr(n) {
            self.tasks.set_vnr(n, None);
            let vps = self.vps_mut(slot);
            if vps.sparse {
                vps.v2r.remove(&virt.as_raw());
            }
        }
        let freed = self.alloc.free(n);
        debug_assert!(freed.is_ok(), "freeing {n} twice");
    }

    /// Gives real number `n` the virtual number `virt` in the VPS in `slot`.
    fn set_vnr(&mut self, slot: usize, n: RealPid, virt: VirtPid) {
        self.tasks.set_vnr(n, Some((slot, virt)));
        let vps = self.vps_mut(slot);
        if vps.sparse {
            vps.v2r.insert(virt.as_raw(), n);
        }
    }

    /// Switches a VPS to sparse mapping, keeping every number it has: its
    /// members' PIDs, and the group and session IDs it numbered.
    fn make_sparse(&mut self, slot: usize) {
        let numbers: Vec<RealPid> = self
            .members(slot)
            .chain(self.groups.keys().copied())
            .chain(self.sessions.keys().copied())
            .collect();
        let mut v2r = Map::default();
        for n in numbers {
            if let Some((s, virt)) = self.tasks.vnr(n) {
                if s == slot {
                    v2r.insert(virt.as_raw(), n);
                }
            }
        }
        self.ix.make_sparse(slot, self.members(slot));
        let vps = self.vps_mut(slot);
        vps.sparse = true;
        vps.v2r = v2r;
    }

    /// The real number a virtual number stands for in the VPS in `slot`.
    /// vpid-check: virt=virtual
    fn virt_to_real(&self, slot: usize, virt: RawPid) -> Option<RealPid> {
        let vps = self.vps(slot);
        if vps.sparse {
            return vps.v2r.get(&virt).copied();
        }
        let v = VirtPid::from_raw(virt)?;
        let real = if virt == 1 {
            vps.init
        } else {
            v.linear_real()?
        };
        (self.tasks.vnr(real) == Some((slot, v))).then_some(real)
    }

    /// Whether `virt` is a virtual number in use in the VPS in `slot`.
    /// vpid-check: virt=virtual
    fn vnr_taken(&self, slot: usize, virt: RawPid) -> bool {
        self.virt_to_real(slot, virt).is_some()
    }

    /// The automatic virtual number of a new real number in a VPS, as
    /// OpenVZ's `alloc_vpid(pid, -1)`: `real | VPID_DIV` in linear mode; in
    /// sparse mode the same if free and below `pid_max`, else a probe upward
    /// over marker-bit numbers wrapping to 1324, bounded (`EAGAIN` when the
    /// VPS is full, where OpenVZ loops forever).
    /// A probe moves the real allocator's cursor to `result - VPID_DIV`.
    fn auto_vnr(&mut self, slot: usize, real: RealPid) -> Result<VirtPid, Errno> {
        let first = real.to_linear_virt();
        let sparse = self.vps(slot).sparse;
        if !sparse || (first.as_raw() < self.pid_max && !self.vnr_taken(slot, first.as_raw())) {
            return Ok(first);
        }
        let mut candidate = first.as_raw();
        for _ in 0..=self.pid_max {
            candidate += 1;
            if candidate & VPID_DIV == 0 {
                candidate += VPID_DIV;
            }
            if candidate >= self.pid_max {
                candidate = vpid_core::RESERVED_PIDS + VPID_DIV;
            }
            if candidate < self.pid_max && !self.vnr_taken(slot, candidate) {
                self.alloc.set_last(candidate - VPID_DIV);
                return VirtPid::from_raw(candidate).ok_or(Errno::EAGAIN);
            }
        }
        Err(Errno::EAGAIN)
    }

    // ----- tasks and processes -----

    /// Adds a task with a fresh generation of its PID's slot.
    fn insert_task(&mut self, real: RealPid, tgid: RealPid, vps: Option<usize>) -> TaskRef {
        let generation = self.tasks.insert(real, tgid);
        if let Some(slot) = vps {
            self.add_member(slot, real);
        }
        TaskRef::from_parts(real, generation)
    }

    /// Adds the process led by `leader`, in its group and session.
    fn insert_process(
        &mut self,
        leader: RealPid,
        vps: Option<usize>,
        parent: Option<RealPid>,
        pgid: RealPid,
        sid: RealPid,
        disp: Dispositions,
    ) {
        self.procs.insert(
            leader,
            Process {
                vps_slot: vps.map(|s| u16::try_from(s).expect("a VPS slot below MAX_VPS")),
                parent,
                parent_thread: None,
                links: Links::default(),
                pgid,
                sid,
                run: RunState::Running,
                stop_unreported: false,
                continued_unreported: false,
                disp,
                pending: 0,
                did_exec: false,
                adopted_by_host_init: false,
            },
        );
        if let Some(p) = parent {
            self.link_child(p, leader);
        }
        self.join_group(leader, pgid);
        self.join_session(sid);
    }

    /// Moves a process to another group (its session does not change).
    fn change_group(&mut self, leader: RealPid, pgid: RealPid) {
        let old = std::mem::replace(&mut self.proc_mut(leader).pgid, pgid);
        if old == pgid {
            return;
        }
        self.leave_group(leader, old);
        self.join_group(leader, pgid);
        self.release_number(old);
    }

    /// Counts one more process in session `sid`.
    fn join_session(&mut self, sid: RealPid) {
        let count = self.sessions.entry(sid).or_default();
        *count += 1;
        if *count == 1 {
            self.tasks.set_id_use(sid, SESSION_ID, true);
        }
    }

    /// Counts one process less in session `sid`; an empty session is removed.
    fn leave_session(&mut self, sid: RealPid) {
        if let Some(count) = self.sessions.get_mut(&sid) {
            *count -= 1;
            if *count == 0 {
                self.sessions.remove(&sid);
                self.tasks.set_id_use(sid, SESSION_ID, false);
            }
        }
    }

    /// Publishes a task's current numbers and state in the read index.
    fn publish(&self, real: RealPid) {
        let task = self.tasks.at(real);
        let proc = self.proc(task.tgid);
        let pid = self.visible(real, proc.vps());
        let tgid = self.visible(task.tgid, proc.vps());
        let t = TaskRef::from_parts(real, task.generation);
        self.ix.publish(t, proc.vps(), pid, tgid);
        if proc.is_zombie() {
            self.ix.update(real, proc.vps(), pid, tgid, true);
        }
    }

    /// Re-publishes a task after its VPS, numbers or zombie flag changed.
    fn republish(&self, real: RealPid) {
        let task = self.tasks.at(real);
        let proc = self.proc(task.tgid);
        let pid = self.visible(real, proc.vps());
        let tgid = self.visible(task.tgid, proc.vps());
        self.ix
            .update(real, proc.vps(), pid, tgid, proc.is_zombie());
    }

    /// Every task (leaders and threads), unordered.
    fn all_tasks(&self) -> impl Iterator<Item = RealPid> + '_ {
        self.procs
            .keys()
            .chain(self.threads.iter().map(|(_, thread)| *thread))
    }

    /// How many tasks the table holds (for the leak checks).
    pub(crate) fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// How many real numbers are in use (for the leak checks).
    pub(crate) fn numbers_in_use(&self) -> usize {
        self.alloc.used()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_stays_compact() {
        // The memory budget (docs/semantics.md, section 7) counts on these.
        assert_eq!(size_of::<Links>(), 24);
        assert!(size_of::<Process>() <= 80, "{}", size_of::<Process>());
    }
}
