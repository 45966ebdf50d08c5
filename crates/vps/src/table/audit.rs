//! The invariants of the table, checked on demand ([`crate::Host::audit`]).

use std::collections::{BTreeMap, BTreeSet};

use vpid_core::{RealPid, VPID_DIV, VirtPid};

use super::Table;
use crate::ids::TaskRef;

/// An invariant of the process table that does not hold: a bug.
#[derive(Clone, Eq, PartialEq, Debug, thiserror::Error)]
#[error("process table invariant broken: {0}")]
pub struct AuditError(pub String);

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), AuditError> {
    if ok { Ok(()) } else { Err(AuditError(what())) }
}

impl Table {
    /// Checks every invariant; see the module documentation.
    pub(crate) fn audit(&self) -> Result<(), AuditError> {
        self.audit_tasks()?;
        self.audit_processes()?;
        self.audit_numbers()?;
        self.audit_vpses()
    }

    fn audit_tasks(&self) -> Result<(), AuditError> {
        let all: Vec<RealPid> = self.all_tasks().collect();
        check(all.len() == self.tasks.len(), || {
            format!(
                "{} tasks listed by processes, {} in the table",
                all.len(),
                self.tasks.len()
            )
        })?;
        for real in all {
            let task = self.tasks.get(real);
            check(task.is_some(), || {
                format!("task {real} missing from the table")
            })?;
            let task = task.expect("checked");
            check(real.as_raw() & VPID_DIV == 0, || {
                format!("real {real} has the marker bit")
            })?;
            check(self.alloc.is_used(real.as_raw()), || {
                format!("task {real} not allocated")
            })?;
            let proc = self.procs.get(&task.tgid);
            check(proc.is_some(), || {
                format!("task {real} has no process {}", task.tgid)
            })?;
            let proc = proc.expect("checked");
            check(
                task.tgid == real || self.threads.contains(&(task.tgid, real)),
                || format!("thread {real} not listed by its leader"),
            )?;
            let handle = TaskRef::from_parts(real, task.generation);
            let view = self.ix.task(handle);
            let want_pid = self.visible(real, proc.vps());
            let ok = view.is_some_and(|v| {
                v.vps == proc.vps()
                    && v.pid == want_pid
                    && v.tgid == self.visible(task.tgid, proc.vps())
                    && v.zombie == proc.is_zombie()
            });
            check(ok, || format!("index entry of {real} is {view:?}"))?;
            check(
                self.ix.lookup_from(None, real.as_raw()) == Some(handle),
                || format!("host cannot find {real}"),
            )?;
            if let Some(slot) = proc.vps() {
                check(
                    self.ix.lookup_from(Some(slot), want_pid) == Some(handle),
                    || format!("VPS slot {slot} cannot find {real} as {want_pid}"),
                )?;
                check(want_pid > 0, || format!("{real} invisible in its own VPS"))?;
            }
        }
        Ok(())
    }

    fn audit_processes(&self) -> Result<(), AuditError> {
        let listed = self.procs.iter().count();
        check(listed == self.procs.len(), || {
            format!("{listed} processes listed, {} counted", self.procs.len())
        })?;
        let mut linked_children = 0;
        for (leader, proc) in self.procs.iter() {
            check(
                self.tasks.get(leader).is_some_and(|t| t.tgid == leader),
                || format!("process {leader} has no leader task"),
            )?;
            for t in self.threads_of(leader) {
                check(self.tasks.get(t).is_some_and(|x| x.tgid == leader), || {
                    format!("thread {t} of {leader} missing")
                })?;
            }
            if proc.parent.is_none() {
                check(leader == RealPid::INIT, || {
                    format!("{leader} has no parent")
                })?;
            }
            for c in self.children(leader).take(self.procs.len() + 1) {
                linked_children += 1;
                check(self.is_child_of(c, leader), || {
                    format!("{leader} lists {c} as a child")
                })?;
            }
            if proc.is_zombie() {
                check(
                    self.threads_of(leader).next().is_none() && !self.has_children(leader),
                    || format!("zombie {leader} has threads or children"),
                )?;
            }
        }
        let with_parent = self.procs.values().filter(|p| p.parent.is_some()).count();
        check(linked_children == with_parent, || {
            format!("{linked_children} processes in child lists, {with_parent} have a parent")
        })?;

        for &(leader, t) in &self.threads {
            check(self.procs.contains_key(&leader), || {
                format!("thread {t} of a missing process {leader}")
            })?;
        }
        let mut grouped = 0;
        for (pgid, group) in &self.groups {
            let members: Vec<RealPid> = self.group_list(*pgid).take(self.procs.len() + 1).collect();
            grouped += members.len();
            check(!members.is_empty(), || format!("empty group {pgid}"))?;
            check(members.len() == group.len as usize, || {
                format!(
                    "group {pgid}: {} listed, {} counted",
                    members.len(),
                    group.len
                )
            })?;
            for m in &members {
                check(self.procs.get(m).is_some_and(|p| p.pgid == *pgid), || {
                    format!("group {pgid} lists {m}")
                })?;
            }
            let sessions: BTreeSet<RealPid> = members.iter().map(|m| self.procs[m].sid).collect();
            check(sessions.len() == 1, || {
                format!("group {pgid} spans sessions {sessions:?}")
            })?;
        }
        check(grouped == self.procs.len(), || {
            format!("{grouped} processes in groups of {}", self.procs.len())
        })?;
        let mut session_sizes: BTreeMap<RealPid, u32> = BTreeMap::new();
        for p in self.procs.values() {
            *session_sizes.entry(p.sid).or_default() += 1;
        }
        check(session_sizes.len() == self.sessions.len(), || {
            format!(
                "{} sessions used, {} counted",
                session_sizes.len(),
                self.sessions.len()
            )
        })?;
        for (sid, count) in &self.sessions {
            let real = session_sizes.get(sid).copied().unwrap_or(0) as usize;
            check(real == *count as usize, || {
                format!("session {sid}: {count} vs {real}")
            })?;
        }
        Ok(())
    }

    fn audit_numbers(&self) -> Result<(), AuditError> {
        let in_use: BTreeSet<RealPid> = self
            .all_tasks()
            .chain(self.groups.keys().copied())
            .chain(self.sessions.keys().copied())
            .collect();
        check(in_use.len() == self.alloc.used(), || {
            format!(
                "{} numbers in use, {} allocated",
                in_use.len(),
                self.alloc.used()
            )
        })?;
        for n in &in_use {
            check(self.alloc.is_used(n.as_raw()), || {
                format!("{n} in use, not allocated")
            })?;
            // A number marked in use that is not would never be freed, and
            // so fail the count above.
            check(self.in_use(*n), || format!("{n} in use, not marked so"))?;
        }
        let (mut vnrs, mut sparse_vnrs) = (0, 0);
        for (real, slot, virt) in in_use
            .iter()
            .filter_map(|&n| self.tasks.vnr(n).map(|(s, v)| (n, s, v)))
        {
            vnrs += 1;
            let vps = self.vpses[slot].as_ref();
            check(vps.is_some(), || {
                format!("vnr {virt} of {real} in a free slot")
            })?;
            check(self.virt_to_real(slot, virt.as_raw()) == Some(real), || {
                format!("vnr {virt} of {real} not mapped back")
            })?;
            let vps = vps.expect("checked");
            if vps.sparse {
                sparse_vnrs += 1;
            } else {
                let linear = if real == vps.init {
                    1
                } else {
                    real.as_raw() | VPID_DIV
                };
                check(virt.as_raw() == linear, || {
                    format!("VPS {} linear but {virt} -> {real}", vps.id)
                })?;
            }
        }
        check(vnrs == self.tasks.vnr_count(), || {
            format!("{} vnrs, {vnrs} on numbers in use", self.tasks.vnr_count())
        })?;
        let mapped: usize = self.vpses.iter().flatten().map(|v| v.v2r.len()).sum();
        check(mapped == sparse_vnrs, || {
            format!("{mapped} vs {sparse_vnrs} vnrs in sparse VPSes")
        })
    }

    fn audit_vpses(&self) -> Result<(), AuditError> {
        let mut members: BTreeMap<usize, BTreeSet<RealPid>> = BTreeMap::new();
        for t in self.all_tasks() {
            if let Some(slot) = self.vps_of_task(t) {
                members.entry(slot).or_default().insert(t);
            }
        }
        for (id, &slot) in &self.vps_slots {
            let vps = self.vpses[slot].as_ref();
            check(vps.is_some_and(|v| v.id == *id), || {
                format!("VPS {id} not in slot {slot}")
            })?;
            let vps = vps.expect("checked");
            let found = members.remove(&slot).unwrap_or_default();
            let walked: Vec<RealPid> = self.members(slot).take(vps.members.len() + 1).collect();
            check(walked.len() == vps.members.len(), || {
                format!(
                    "VPS {id}: {} members listed, {} counted",
                    walked.len(),
                    vps.members.len()
                )
            })?;
            let listed: BTreeSet<RealPid> = walked.into_iter().collect();
            check(found == listed, || format!("VPS {id} members differ"))?;
            let init_alive = self.procs.get(&vps.init).is_some_and(|p| !p.is_zombie());
            check(init_alive != vps.dying, || {
                format!("VPS {id}: dying={}", vps.dying)
            })?;
            check(!vps.members.is_empty(), || format!("VPS {id} is empty"))?;
            check(vps.sparse || vps.v2r.is_empty(), || {
                format!("VPS {id} linear with a reverse map")
            })?;
            for (virt, task) in self.ix.sparse_entries(slot) {
                let holds = task.is_some_and(|t| {
                    self.tasks
                        .get(t.real())
                        .is_some_and(|x| x.generation == t.generation())
                        && self.vps_of_task(t.real()) == Some(slot)
                        && VirtPid::from_raw(virt)
                            .is_some_and(|v| self.tasks.vnr(t.real()) == Some((slot, v)))
                });
                check(holds, || {
                    format!("VPS {id}: index entry {virt} names {task:?}")
                })?;
            }
            for (&virt, &real) in &vps.v2r {
                check(
                    self.tasks
                        .vnr(real)
                        .is_some_and(|(s, v)| s == slot && v.as_raw() == virt),
                    || format!("VPS {id}: {virt} -> {real} not mapped back"),
                )?;
            }
        }
        check(members.is_empty(), || {
            format!("tasks in freed VPS slots: {members:?}")
        })?;
        let live = self.vpses.iter().flatten().count();
        check(live == self.vps_slots.len(), || {
            format!("{live} VPS slots for {} ids", self.vps_slots.len())
        })
    }
}
