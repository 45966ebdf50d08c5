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
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    fields.get(49)?.parse().ok()
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
            if status.state == 'T' || status.state == 't' {
                return refuse("stopped (the stand-in does not restore stopped tasks)");
            }
            // A zombie killed by a signal still shows it pending.
            if status.pending != 0 && status.state != 'Z' {
                return refuse("a signal is pending (the stand-in does not restore them)");
            }
            let zombie = if status.state == 'Z' {
                Some(exit_status(relay_pid).ok_or("checkpoint: no exit status in /proc")?)
            } else {
                None
            };
            let parent = if vtid == 1 {
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
                children,
                threads,
            });
        }
        tasks.sort_by_key(|t| t.vtid);
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
    ) -> Result<Outcome, RunError> {
        let dump = self
            .dumps
            .get(image)
            .cloned()
            .ok_or_else(|| format!("restore: no dump {image}"))?;
        let real: HashMap<i32, i32> = pids.iter().copied().collect();
        if dump.tasks.len() != real.len() || dump.tasks.iter().any(|t| !real.contains_key(&t.vtid))
        {
            // The model restored other tasks than Linux dumped: the
            // comparison of the checkpoint step shows why.
            return Ok(Outcome::Failed(libc::EINVAL));
        }
        let mut restore = Restore {
            dump: &dump,
            real: &real,
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
            },
            1,
        )?;
        restore.process(self, init, 0)?;
        restore.groups(self)?;
        restore.zombies(self)?;
        restore.dispositions(self)?;
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
        for (what, id) in [("group", task.pgid), ("session", task.sid)] {
            let led_by_a_task = dump.get(id).is_some_and(|leader| !leader.is_thread());
            if id != 0 && !led_by_a_task {
                return Err(format!(
                    "checkpoint: task {}: its {what} {id} has lost its leader \
                     (CRIU would restore it with a helper task)",
                    task.vtid
                ));
            }
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
    /// The member index of each restored task, by ID.
    index: HashMap<i32, usize>,
}

impl Restore<'_> {
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
            match required_session(dump, child_id) {
                None => {}
                Some(needed) if needed == session => {}
                Some(needed) if own_session && needed == vtid => {
                    Self::expect(run, member, &Call::Setsid, Outcome::Value(vtid))?;
                    session = vtid;
                }
                Some(needed) => {
                    return Err(format!(
                        "restore: task {child_id} needs session {needed} at its fork, \
                         which its parent {vtid} (in session {session}) cannot give it"
                    ));
                }
            }
            let call = Call::Fork {
                set_tid: vec![child_id, self.real[&child_id]],
                new_namespace: false,
                numproc: None,
            };
            // Forked by the thread whose list it is on.
            let forker = if thread == vtid {
                member
            } else {
                *self
                    .index
                    .get(&thread)
                    .ok_or_else(|| format!("restore: no thread {thread}"))?
            };
            let forked = self.fork(run, forker, call, child_id)?;
            self.process(run, forked, session)?;
        }
        if own_session && session != vtid {
            Self::expect(run, member, &Call::Setsid, Outcome::Value(vtid))?;
        }
        Ok(())
    }

    /// Puts every process in its group: the leaders first, then the rest.
    fn groups(&self, run: &mut Run) -> Result<(), RunError> {
        for leaders in [true, false] {
            for task in self.dump.tasks.iter().filter(|t| !t.is_thread()) {
                if (task.pgid == task.vtid) != leaders {
                    continue;
                }
                let member = self.index[&task.vtid];
                let now = run.ids(member)?.ok_or("restore: a task did not answer")?;
                if now.pgid != task.pgid {
                    let pgid = if leaders { 0 } else { task.pgid };
                    Self::expect(run, member, &Call::Setpgid { pid: 0, pgid }, Outcome::Done)?;
                }
            }
        }
        Ok(())
    }

    /// Ends the zombies as they ended.
    fn zombies(&self, run: &mut Run) -> Result<(), RunError> {
        for task in &self.dump.tasks {
            let Some(status) = task.zombie else { continue };
            let member = self.index[&task.vtid];
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

    /// Gives every live process its signal dispositions. Last, so that no
    /// ignored SIGCHLD reaps a zombie as it is made.
    fn dispositions(&self, run: &mut Run) -> Result<(), RunError> {
        for task in self
            .dump
            .tasks
            .iter()
            .filter(|t| !t.is_thread() && t.zombie.is_none())
        {
            let member = self.index[&task.vtid];
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
