//! Checkpoint and restore of a VPS on Linux, the way CRIU does it for a
//! process tree: the dump reads each task's IDs, signal dispositions,
//! children and exit status in `/proc`; the restore forks the tree again in
//! a fresh PID namespace with `clone3` and `set_tid`, every task with its
//! virtual ID and the real one the model gave it, then rebuilds sessions,
//! process groups, zombies and dispositions.
//!
//! The stand-in covers what the model's images hold in the scenarios it
//! runs: live processes, threads, zombies, sessions and groups whose
//! leaders are part of the dump. It refuses, with the reason, what it would
//! need CRIU's helper tasks for: a stopped task, a pending signal, a group
//! or session whose leader is gone, a child in a session its parent could
//! not have handed it.

use std::collections::HashMap;

use super::relay::Run;
use super::wire::Command;
use crate::protocol::{Call, Outcome};

type RunError = String;

/// One task of a dump, in the VPS's numbers (0: outside the VPS).
#[derive(Clone, Debug)]
struct Dumped {
    /// Its ID: the PID of a process, the TID of a thread.
    vtid: i32,
    /// Its process's PID.
    tgid: i32,
    /// The parent's PID (0 for the VPS init).
    parent: i32,
    pgid: i32,
    sid: i32,
    /// The ignored and the handled signals (`SigIgn`, `SigCgt`).
    ignored: u64,
    handled: u64,
    /// The wait status of a zombie.
    zombie: Option<i32>,
    /// A continue its parent has not collected yet.
    continued_unreported: bool,
    /// Stopped by a signal; with the signal if its parent has not collected
    /// the stop yet.
    stopped: Option<Option<i32>>,
    /// The signals pending (bit `n - 1` for signal `n`): only a stopped
    /// task has any.
    pending: u64,
    /// A process's children, each with the thread whose list holds it,
    /// thread by thread (in the order of the threads' creation), each
    /// thread's in the order of its list (the order `waitpid(-1)` considers
    /// them in).
    children: Vec<(i32, i32)>,
    /// A process's other threads, in the order they were created.
    threads: Vec<i32>,
}

impl Dumped {
    fn is_thread(&self) -> bool {
        self.vtid != self.tgid
    }
}

/// A VPS as a checkpoint step dumped it.
#[derive(Clone, Debug)]
pub(super) struct Dump {
    /// Every task, by ID.
    tasks: Vec<Dumped>,
    /// The VPS's process limit, if it had one.
    numproc: Option<u32>,
}

impl Dump {
    fn get(&self, vtid: i32) -> Option<&Dumped> {
        self.tasks.iter().find(|t| t.vtid == vtid)
    }
}

/// `/proc/<pid>/status` of a task, as far as a dump needs it.
struct Status {
    state: char,
    ppid: i32,
    /// The innermost of each `NS*` line: the numbers in the VPS.
    tgid: i32,
    tid: i32,
    pgid: i32,
    sid: i32,
    pending: u64,
    ignored: u64,
    handled: u64,
}

fn read_status(pid: i32) -> Option<Status> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::trim)
    };
    let innermost =
        |name: &str| -> Option<i32> { field(name)?.split_whitespace().last()?.parse().ok() };
    let mask = |name: &str| u64::from_str_radix(field(name)?, 16).ok();
    Some(Status {
        state: field("State:")?.chars().next()?,
        ppid: field("PPid:")?.parse().ok()?,
        tgid: innermost("NStgid:")?,
        tid: innermost("NSpid:")?,
        pgid: innermost("NSpgid:")?,
        sid: innermost("NSsid:")?,
        pending: mask("SigPnd:")? | mask("ShdPnd:")?,
        ignored: mask("SigIgn:")?,
        handled: mask("SigCgt:")?,
    })
}

/// The `exit_code` of `/proc/<pid>/stat` (field 52): a zombie's wait
/// status.
fn exit_status(pid: i32) -> Option<i32> {
    super::procfs::with_stat_fields(pid, |fields| fields.get(49)?.parse().ok())
}

/// The threads of a process (by PID in the relay's namespace), the leader
/// first, then the others in the order they were created (the relay's
/// namespace hands out its numbers in order).
fn threads_of(pid: i32) -> Option<Vec<i32>> {
    let mut threads: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    threads.sort_by_key(|&tid| (tid != pid, tid));
    Some(threads)
}

/// The children of a process (by PID in the relay's namespace), each with
/// the thread whose list holds it, thread by thread, each thread's in the
/// order of its list.
fn children_of(pid: i32) -> Option<Vec<(i32, i32)>> {
    let mut children = Vec::new();
    for tid in threads_of(pid)? {
        let list = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/children")).ok()?;
        children.extend(
            list.split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok())
                .map(|child| (child, tid)),
        );
    }
    Some(children)
}

impl Run {
    /// `Call::Checkpoint`: dumps the VPS whose init has real PID `pid` on
    /// the caller's host.
    pub(super) fn checkpoint(&mut self, caller: usize, pid: i32) -> Result<Outcome, RunError> {
        let host = self.members[caller].lineage.host;
        let init = self.members.iter().enumerate().position(|(index, m)| {
            m.lineage.vps == Some(index)
                && m.lineage.host == host
                && !m.gone
                && m.proc_entry.as_ref().and_then(|e| e.run_pids.get(1)) == Some(&pid)
        });
        let Some(init) = init else {
            return Ok(Outcome::Failed(libc::ESRCH));
        };
        // Every task of the VPS still in /proc, by its PID in the relay's
        // namespace and in the VPS.
        let mut by_relay_pid = HashMap::new();
        for member in &self.members {
            if member.lineage.vps != Some(init) {
                continue;
            }
            if let Some(entry) = member.proc_entry.as_ref().filter(|e| !e.released()) {
                by_relay_pid.insert(entry.pid, entry.run_pids[0]);
            }
        }
        let mut tasks = Vec::new();
        for (&relay_pid, &vtid) in &by_relay_pid {
            let refuse = |why: &str| Err(format!("checkpoint: task {vtid}: {why}"));
            let Some(status) = read_status(relay_pid) else {
                continue; // released since
            };
            if status.tid != vtid {
                return refuse("its /proc entry is another task's");
            }
            if status.state == 't' {
                return refuse("stopped by a tracer");
            }
            // A zombie killed by a signal still shows it pending; a stopped
            // task's pending signals are sent again once it is stopped.
            if status.pending != 0 && status.state != 'Z' && status.state != 'T' {
                return refuse("a signal is pending (the stand-in does not restore them)");
            }
            let zombie = if status.state == 'Z' {
                Some(exit_status(relay_pid).ok_or("checkpoint: no exit status in /proc")?)
            } else {
                None
            };
            // A thread's parent is its process's.
            let parent = if vtid == 1 || status.tgid != vtid {
                0
            } else {
                *by_relay_pid.get(&status.ppid).ok_or_else(|| {
                    format!("checkpoint: task {vtid}: its parent is not in the VPS")
                })?
            };
            let in_vps = |relay_pid: i32| {
                by_relay_pid.get(&relay_pid).copied().ok_or_else(|| {
                    format!("checkpoint: task {vtid}: a child or thread outside the VPS")
                })
            };
            let (children, threads) = if status.tgid == vtid {
                let children = children_of(relay_pid)
                    .ok_or("checkpoint: no children list in /proc")?
                    .into_iter()
                    .map(|(child, thread)| Ok((in_vps(child)?, in_vps(thread)?)))
                    .collect::<Result<Vec<(i32, i32)>, RunError>>()?;
                let threads = threads_of(relay_pid)
                    .ok_or("checkpoint: no thread list in /proc")?
                    .into_iter()
                    .skip(1)
                    .map(in_vps)
                    .collect::<Result<Vec<i32>, RunError>>()?;
                (children, threads)
            } else {
                (Vec::new(), Vec::new())
            };
            tasks.push(Dumped {
                vtid,
                tgid: status.tgid,
                parent,
                pgid: status.pgid,
                sid: status.sid,
                ignored: status.ignored,
                handled: status.handled,
                zombie,
                continued_unreported: false,
                stopped: (status.state == 'T').then_some(None),
                pending: if status.state == 'T' {
                    status.pending
                } else {
                    0
                },
                children,
                threads,
            });
        }
        tasks.sort_by_key(|t| t.vtid);
        // An uncollected continue is nowhere in /proc: the parent looks
        // with `waitid(WNOWAIT)`, which changes nothing.
        for task in tasks
            .iter_mut()
            .filter(|t| !t.is_thread() && t.zombie.is_none())
        {
            let (parent, pid) = if task.vtid == 1 {
                let real = self.members[init]
                    .proc_entry
                    .as_ref()
                    .and_then(|e| e.run_pids.get(1).copied())
                    .unwrap_or(0);
                (Some(host), real)
            } else {
                (self.vps_member(init, task.parent), task.vtid)
            };
            let parent = parent.ok_or("checkpoint: a parent is not a process of the run")?;
            match self.internal(parent, &Command::Peek { pid })? {
                Outcome::Waited { status: 0xffff, .. } => task.continued_unreported = true,
                Outcome::Waited { status, .. } if status & 0xff == 0x7f => {
                    task.stopped = Some(Some(status >> 8));
                }
                _ => {}
            }
        }
        let dump = Dump {
            numproc: self
                .limits
                .iter()
                .find(|(vps, _)| *vps == init)
                .map(|(_, limit)| limit.max()),
            tasks,
        };
        check_restorable(&dump)?;
        self.dumps.push(dump);
        Ok(Outcome::Done)
    }

    /// `Call::Restore`: rebuilds a dump under the caller, a host init,
    /// every task with the real ID `pids` gives it.
    pub(super) fn restore(
        &mut self,
        caller: usize,
        image: usize,
        pids: &[(i32, i32)],
        orphans: &[(i32, i32)],
    ) -> Result<Outcome, RunError> {
        let Some(dump) = self.dumps.get(image).cloned() else {
            // No such checkpoint (it failed): as the model says.
            return Ok(Outcome::Failed(libc::EINVAL));
        };
        let real: HashMap<i32, i32> = pids.iter().copied().collect();
        if dump.tasks.len() != real.len() || dump.tasks.iter().any(|t| !real.contains_key(&t.vtid))
        {
            // The model restored other tasks than Linux dumped: the
            // comparison of the checkpoint step shows why.
            return Ok(Outcome::Failed(libc::EINVAL));
        }
        let orphans: HashMap<i32, i32> = orphans.iter().copied().collect();
        let mut restore = Restore {
            dump: &dump,
            real: &real,
            orphans: &orphans,
            index: HashMap::new(),
        };
        let first = self.members.len();
        let init = restore.fork(
            self,
            caller,
            Call::Fork {
                set_tid: vec![1, real[&1]],
                new_namespace: true,
                numproc: dump.numproc,
                clone_parent: false,
            },
            1,
        )?;
        restore.process(self, init, 0)?;
        restore.groups(self)?;
        restore.zombies(self)?;
        restore.continues(self, caller)?;
        restore.dispositions(self)?;
        restore.stops(self, caller)?;
        // The tasks take their places among the members in the order of
        // their IDs, as the model lists them.
        self.members[first..].sort_by_key(|m| m.proc_entry.as_ref().map(|e| e.run_pids[0]));
        for member in &mut self.members[first..] {
            member.lineage.vps = Some(first);
        }
        for (vps, _) in &mut self.limits {
            if *vps == init {
                *vps = first;
            }
        }
        Ok(Outcome::Value(real[&1]))
    }
}

impl Run {
    /// The member that is the task `vtid` of the VPS whose init is the
    /// member `init`.
    fn vps_member(&self, init: usize, vtid: i32) -> Option<usize> {
        self.members.iter().position(|m| {
            m.lineage.vps == Some(init)
                && !m.gone
                && m.proc_entry
                    .as_ref()
                    .is_some_and(|e| e.run_pids.first() == Some(&vtid))
        })
    }
}

/// Refuses a dump the stand-in cannot rebuild.
fn check_restorable(dump: &Dump) -> Result<(), RunError> {
    for task in dump.tasks.iter().filter(|t| !t.is_thread()) {
        let listed = task.vtid == 1
            || dump
                .get(task.parent)
                .is_some_and(|parent| parent.children.iter().any(|&(c, _)| c == task.vtid));
        if !listed {
            return Err(format!(
                "checkpoint: task {} is missing from its parent's list of children",
                task.vtid
            ));
        }
        // A group whose leader is gone is made by a helper task; a session
        // would need its members forked by one.
        let sid = task.sid;
        let led_by_a_task = dump.get(sid).is_some_and(|leader| !leader.is_thread());
        if sid != 0 && !led_by_a_task {
            return Err(format!(
                "checkpoint: task {}: its session {sid} has lost its leader \
                 (CRIU would restore its members as children of a helper task)",
                task.vtid
            ));
        }
    }
    Ok(())
}

/// The session a process must inherit at its fork, if any: its own if it
/// stays in the session it inherited; if it makes a session of its own,
/// the one some descendant forked before its `setsid` needs.
fn required_session(dump: &Dump, vtid: i32) -> Option<i32> {
    let task = dump.get(vtid)?;
    if task.sid != vtid {
        return Some(task.sid);
    }
    task.children
        .iter()
        .filter_map(|&(child, _)| required_session(dump, child))
        .find(|&needed| needed != vtid)
}

/// A restore in progress.
struct Restore<'a> {
    dump: &'a Dump,
    real: &'a HashMap<i32, i32>,
    /// The real IDs of the groups whose leader is gone, by virtual ID.
    orphans: &'a HashMap<i32, i32>,
    /// The member index of each restored task, by ID.
    index: HashMap<i32, usize>,
}

impl Restore<'_> {
    /// A restored process's parent (a member) and its PID as the parent
    /// sees it: the host init and the real PID for the VPS init.
    fn parent_and_pid(&self, task: &Dumped, host: usize) -> Result<(usize, i32), RunError> {
        if task.vtid == 1 {
            Ok((host, self.real[&1]))
        } else {
            Ok((self.member(task.parent)?, task.vtid))
        }
    }

    /// The member that is the restored task `vtid`.
    fn member(&self, vtid: i32) -> Result<usize, RunError> {
        self.index
            .get(&vtid)
            .copied()
            .ok_or_else(|| format!("restore: task {vtid} was not restored"))
    }

    /// Has `parent` make a task with the ID `vtid` (and its real one);
    /// the new member's index.
    fn fork(
        &mut self,
        run: &mut Run,
        parent: usize,
        call: Call,
        vtid: i32,
    ) -> Result<usize, RunError> {
        let before = run.members.len();
        match run.call(parent, &call)? {
            Outcome::Value(_) if run.members.len() == before + 1 => {
                self.index.insert(vtid, before);
                Ok(before)
            }
            other => Err(format!("restore: {call} for task {vtid}: {other}")),
        }
    }

    fn expect(run: &mut Run, member: usize, call: &Call, wanted: Outcome) -> Result<(), RunError> {
        match run.call(member, call)? {
            outcome if outcome == wanted => Ok(()),
            other => Err(format!("restore: {call}: {other}, not {wanted}")),
        }
    }

    /// Rebuilds a process (just forked, in session `inherited`): its
    /// threads, then its children in their order. A process that leads its
    /// own session calls `setsid` just before the first child that needs
    /// the new session (or after the last child): the children before it
    /// are the ones it forked while it was still in the session it had
    /// inherited.
    fn process(&mut self, run: &mut Run, member: usize, inherited: i32) -> Result<(), RunError> {
        let dump = self.dump;
        let vtid = run.members[member]
            .proc_entry
            .as_ref()
            .map_or(0, |e| e.run_pids[0]);
        let task = dump.get(vtid).ok_or("restore: a task not in the dump")?;
        // Its threads, in the order they were created (each one's lists of
        // children follow the leader's in that order).
        for &thread in &task.threads {
            let call = Call::Thread {
                set_tid: vec![thread, self.real[&thread]],
            };
            self.fork(run, member, call, thread)?;
        }
        let own_session = task.sid == vtid;
        let mut session = inherited;
        for &(child_id, thread) in &task.children {
            // Forked by the thread whose list it is on, or, when it needs a
            // session that thread is not in (an orphan adopted from another
            // session), with CLONE_PARENT by a sibling on the same list that
            // is in that session.
            let mut forker = if thread == vtid {
                member
            } else {
                self.member(thread)?
            };
            let mut clone_parent = false;
            // The session the child is forked in.
            let mut child_session = session;
            match required_session(dump, child_id) {
                None => {}
                Some(needed) if needed == session => {}
                Some(needed) if own_session && needed == vtid => {
                    Self::expect(run, member, &Call::Setsid, Outcome::Value(vtid))?;
                    session = vtid;
                    child_session = vtid;
                }
                Some(needed) => {
                    let sibling = task
                        .children
                        .iter()
                        .take_while(|&&(c, _)| c != child_id)
                        .filter(|&&(c, t)| {
                            t == thread && dump.get(c).is_some_and(|c| c.sid == needed)
                        })
                        .find_map(|&(c, _)| self.index.get(&c).copied());
                    let Some(sibling) = sibling else {
                        return Err(format!(
                            "restore: task {child_id} needs session {needed} at its fork, \
                             which its parent {vtid} (in session {session}) cannot give it"
                        ));
                    };
                    forker = sibling;
                    clone_parent = true;
                    child_session = needed;
                }
            }
            let call = Call::Fork {
                set_tid: vec![child_id, self.real[&child_id]],
                new_namespace: false,
                numproc: None,
                clone_parent,
            };
            let forked = self.fork(run, forker, call, child_id)?;
            self.process(run, forked, child_session)?;
        }
        if own_session && session != vtid {
            Self::expect(run, member, &Call::Setsid, Outcome::Value(vtid))?;
        }
        Ok(())
    }

    /// Puts every process in its group. First every group is made by the
    /// process whose ID it has (it may have moved to another group since),
    /// or, if that process is gone, by a helper task with that ID, forked
    /// by a member of the group (so in its session); then every process
    /// joins its group; then the helpers exit and are reaped, and their
    /// groups stay, as Linux keeps a group's ID while it has members (CRIU
    /// does the same).
    fn groups(&self, run: &mut Run) -> Result<(), RunError> {
        let processes = || self.dump.tasks.iter().filter(|t| !t.is_thread());
        let mut groups: Vec<i32> = processes().map(|t| t.pgid).filter(|&g| g != 0).collect();
        groups.sort_unstable();
        groups.dedup();
        let mut helpers = Vec::new();
        for group in groups {
            if self
                .dump
                .get(group)
                .is_some_and(|leader| !leader.is_thread())
            {
                let member = self.member(group)?;
                self.join(run, member, group, 0)?;
                continue;
            }
            let real = *self.orphans.get(&group).ok_or_else(|| {
                format!(
                    "restore: group {group} has lost its leader, and the model gave it no \
                     real ID (CRIU would restore it with a helper task)"
                )
            })?;
            let first_member = processes()
                .find(|t| t.pgid == group)
                .map(|t| t.vtid)
                .ok_or("restore: a group with no member")?;
            let forker = self.member(first_member)?;
            let helper = run.members.len();
            let call = Call::Fork {
                set_tid: vec![group, real],
                new_namespace: false,
                numproc: None,
                clone_parent: false,
            };
            match run.call(forker, &call)? {
                Outcome::Value(_) if run.members.len() == helper + 1 => {}
                other => return Err(format!("restore: helper {call} for group {group}: {other}")),
            }
            Self::expect(
                run,
                helper,
                &Call::Setpgid { pid: 0, pgid: 0 },
                Outcome::Done,
            )?;
            helpers.push((helper, forker, group));
        }
        for task in processes() {
            let member = self.member(task.vtid)?;
            let pgid = if task.pgid == task.vtid { 0 } else { task.pgid };
            self.join(run, member, task.pgid, pgid)?;
        }
        for &(helper, forker, group) in &helpers {
            Self::expect(run, helper, &Call::Exit { code: 0 }, Outcome::Done)?;
            let reap = Call::Wait {
                pid: group,
                nohang: false,
                untraced: false,
                continued: false,
            };
            let reaped = Outcome::Waited {
                pid: group,
                status: 0,
            };
            Self::expect(run, forker, &reap, reaped)?;
        }
        // The helpers were the last members made: no process of the plan.
        for _ in &helpers {
            run.set_aside_last_member();
        }
        Ok(())
    }

    /// Moves a process to the group `group` (`setpgid(0, pgid)`), unless it
    /// is in it already.
    fn join(&self, run: &mut Run, member: usize, group: i32, pgid: i32) -> Result<(), RunError> {
        let now = run.ids(member)?.ok_or("restore: a task did not answer")?;
        if now.pgid == group {
            return Ok(());
        }
        match run.call(member, &Call::Setpgid { pid: 0, pgid })? {
            Outcome::Done => Ok(()),
            other => Err(format!(
                "restore: task {} cannot join group {group} ({other}): the group's leader \
                 has moved to another session since it made the group",
                now.pid
            )),
        }
    }

    /// Ends the zombies as they ended.
    fn zombies(&self, run: &mut Run) -> Result<(), RunError> {
        for task in &self.dump.tasks {
            let Some(status) = task.zombie else { continue };
            let member = self.member(task.vtid)?;
            let signal = status & 0x7f;
            let call = if signal == 0 {
                Call::Exit {
                    code: (status >> 8) & 0xff,
                }
            } else {
                Call::Kill {
                    pid: task.vtid,
                    sig: signal,
                }
            };
            match run.call(member, &call)? {
                Outcome::Done | Outcome::Unanswered => {}
                other => return Err(format!("restore: {call} for task {}: {other}", task.vtid)),
            }
        }
        Ok(())
    }

    /// Gives back the continues their parents had not collected: the parent
    /// stops the child, collects the stop, and continues it.
    fn continues(&self, run: &mut Run, host: usize) -> Result<(), RunError> {
        for task in self.dump.tasks.iter().filter(|t| t.continued_unreported) {
            let (parent, pid) = self.parent_and_pid(task, host)?;
            let stop = Call::Kill {
                pid,
                sig: libc::SIGSTOP,
            };
            Self::expect(run, parent, &stop, Outcome::Done)?;
            let collect = Call::Wait {
                pid,
                nohang: false,
                untraced: true,
                continued: false,
            };
            let stopped = Outcome::Waited {
                pid,
                status: (libc::SIGSTOP << 8) | 0x7f,
            };
            Self::expect(run, parent, &collect, stopped)?;
            let resume = Call::Kill {
                pid,
                sig: libc::SIGCONT,
            };
            Self::expect(run, parent, &resume, Outcome::Done)?;
        }
        Ok(())
    }

    /// Stops the stopped tasks again, last (a stopped task cannot do
    /// anything more): its parent sends the signal that stopped it (SIGSTOP
    /// if the stop was collected, since the signal is then seen nowhere),
    /// and collects the stop if it had.
    fn stops(&self, run: &mut Run, host: usize) -> Result<(), RunError> {
        // Children first: a parent must still run to collect a stop.
        let depth = |mut vtid: i32| {
            let mut depth = 0;
            while let Some(task) = self.dump.get(vtid).filter(|t| t.parent != 0) {
                vtid = task.parent;
                depth += 1;
            }
            depth
        };
        let mut stopped: Vec<&Dumped> = self
            .dump
            .tasks
            .iter()
            .filter(|t| !t.is_thread() && t.stopped.is_some())
            .collect();
        stopped.sort_by_key(|t| std::cmp::Reverse(depth(t.vtid)));
        for task in stopped {
            let Some(unreported) = task.stopped else {
                continue;
            };
            let (parent, pid) = self.parent_and_pid(task, host)?;
            // The host sends the signals: by then other processes of the
            // VPS may be stopped.
            let real = self.real[&task.vtid];
            let sig = unreported.unwrap_or(libc::SIGSTOP);
            Self::expect(run, host, &Call::Kill { pid: real, sig }, Outcome::Done)?;
            let member = self.member(task.vtid)?;
            let deadline = std::time::Instant::now() + run.timeout;
            while !run.members[member]
                .proc_entry
                .as_ref()
                .is_some_and(super::procfs::ProcEntry::stopped)
            {
                if std::time::Instant::now() > deadline {
                    return Err(format!(
                        "restore: task {} did not stop on signal {sig} (a terminal stop \
                         signal is discarded in an orphaned process group)",
                        task.vtid
                    ));
                }
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
            if unreported.is_none() {
                let collect = Call::Wait {
                    pid,
                    nohang: false,
                    untraced: true,
                    continued: false,
                };
                let stopped = Outcome::Waited {
                    pid,
                    status: (sig << 8) | 0x7f,
                };
                Self::expect(run, parent, &collect, stopped)?;
            }
            for sig in (1..=31).filter(|sig| task.pending & (1 << (sig - 1)) != 0) {
                Self::expect(run, host, &Call::Kill { pid: real, sig }, Outcome::Done)?;
            }
        }
        Ok(())
    }

    /// Gives every live process its signal dispositions. Last, so that no
    /// ignored SIGCHLD reaps a zombie as it is made.
    fn dispositions(&self, run: &mut Run) -> Result<(), RunError> {
        for task in self
            .dump
            .tasks
            .iter()
            .filter(|t| !t.is_thread() && t.zombie.is_none())
        {
            let member = self.member(task.vtid)?;
            let command = Command::SetDispositions {
                ignored: task.ignored,
                handled: task.handled,
            };
            match run.internal(member, &command)? {
                Outcome::Done => {}
                other => {
                    return Err(format!(
                        "restore: dispositions of task {}: {other}",
                        task.vtid
                    ));
                }
            }
        }
        Ok(())
    }
}
