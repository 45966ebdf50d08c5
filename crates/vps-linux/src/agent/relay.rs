//! The relay: the process the test spawns. It stays in the test's PID
//! namespace and, for every plan, starts fresh PID namespaces, drives their
//! processes step by step, and kills them all at the end.
//!
//! For one plan the processes are:
//!
//! ```text
//! relay (the test's namespace)
//!  ├─ host init: PID 1 of a new namespace that stands for the host
//!  │   └─ VPS init: PID 1 of a nested namespace, forked by a step
//!  │       └─ the scenario's tasks (and threads), with the PIDs the model chose
//!  └─ another host's init, if a step makes one (`Call::NewHost`)
//!      └─ a restored VPS's init, and its tasks
//! ```
//!
//! Nothing can outlive the relay: the host init dies with it
//! (`PR_SET_PDEATHSIG`), and a namespace init's death kills every process of
//! its namespace and of the namespaces below it.

use std::fs::File;
use std::io::{BufRead, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::net::{AddressFamily, SocketFlags, SocketType, socketpair};
use rustix::process::Signal;

use super::member::serve_forever;
use super::procfs::ProcEntry;
use super::wire::{self, Command, Report};
use crate::cgroup::PidsLimit;
use crate::protocol::{Actor, Call, Hello, Outcome, Plan, RunReply, Seen, Step, StepObservation};
use crate::sys::{self, Cloned};

/// How long the relay waits for one process to answer before it gives up on
/// the plan, unless the plan says otherwise.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The agent binary's `main`: says hello, then runs one plan per input line
/// and answers each with one line, until its input ends.
pub fn relay_main() -> std::process::ExitCode {
    // Die with the test, even if the test is killed.
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    // The cgroups of relays that were killed before they could clean up.
    let _ = crate::cgroup::remove_stale();
    let hello = probe();
    let ready = hello == Hello::Ready;
    if emit(&hello).is_err() || !ready {
        return std::process::ExitCode::SUCCESS;
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let reply = match serde_json::from_str::<Plan>(&line) {
            Ok(plan) => run(&plan),
            Err(e) => RunReply::Failed(format!("unreadable plan: {e}")),
        };
        if emit(&reply).is_err() {
            break;
        }
    }
    std::process::ExitCode::SUCCESS
}

fn emit(value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value).map_err(std::io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn describe(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

/// Checks that this process may create a PID namespace and choose a PID in
/// it, by doing both in a child that exits at once.
fn probe() -> Hello {
    let _ = std::io::stdout().flush();
    match sys::clone3(true, &[]) {
        Err(errno) => Hello::NotPermitted(format!("clone3(CLONE_NEWPID): {}", describe(errno))),
        Ok(Cloned::Child) => {
            let code = match sys::clone3(false, &[2]) {
                Ok(Cloned::Child) => sys::exit_now(0),
                Ok(Cloned::Parent(pid)) => sys::waitpid(pid, false, false, false).map_or(1, |_| 0),
                Err(errno) => errno,
            };
            sys::exit_now(code)
        }
        Ok(Cloned::Parent(pid)) => match sys::waitpid(pid, false, false, false) {
            Ok(Some((_, 0))) => Hello::Ready,
            Ok(Some((_, status))) if libc::WIFEXITED(status) => Hello::NotPermitted(format!(
                "clone3 with set_tid: {}",
                describe(libc::WEXITSTATUS(status))
            )),
            other => Hello::NotPermitted(format!("probe ended unexpectedly: {other:?}")),
        },
    }
}

/// Runs one plan on a fresh pair of namespaces; every process of the run is
/// gone when this returns.
fn run(plan: &Plan) -> RunReply {
    if !crate::driver::runs_here(plan) {
        return RunReply::Failed(
            "the plan makes threads, and this kernel has no thread pidfds \
             (PIDFD_THREAD, Linux 6.9)"
                .into(),
        );
    }
    let sockets = socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    );
    let (relay_end, member_end) = match sockets {
        Ok(pair) => pair,
        Err(e) => return RunReply::Failed(format!("socketpair: {e}")),
    };
    let _ = std::io::stdout().flush();
    match sys::clone3(true, &[]) {
        Err(errno) => RunReply::Failed(format!("clone3(CLONE_NEWPID): {}", describe(errno))),
        Ok(Cloned::Child) => {
            drop(relay_end);
            become_host_init(member_end)
        }
        Ok(Cloned::Parent(host_pid)) => {
            let mut run = Run {
                control: relay_end,
                member_end,
                host_pids: vec![host_pid],
                members: Vec::new(),
                last_seen: Vec::new(),
                timeout: plan
                    .answer_timeout_ms
                    .map_or(ANSWER_TIMEOUT, Duration::from_millis),
                limits: Vec::new(),
                dumps: Vec::new(),
                discarded: Vec::new(),
            };
            let reply = match run.execute(plan) {
                Ok(observed) => RunReply::Observed(observed),
                Err(e) => RunReply::Failed(e),
            };
            let timeout = run.timeout;
            let host_pids = std::mem::take(&mut run.host_pids);
            let limits = std::mem::take(&mut run.limits);
            // Let go of every process's descriptors first: nothing of the
            // relay's may hold the namespaces up.
            drop(run);
            let mut ended = Ok(());
            for host_pid in host_pids {
                ended = ended.and(end_host_init(host_pid, timeout));
            }
            for (_, limit) in limits {
                let path = limit.path().display().to_string();
                ended = ended.and(
                    limit
                        .remove(timeout)
                        .map_err(|e| format!("removing the cgroup {path}: {e}")),
                );
            }
            match ended {
                Ok(()) => reply,
                Err(e) => RunReply::Failed(e),
            }
        }
    }
}

/// Kills a host init and reaps it. Its death takes its namespaces with it:
/// it returns only once every process of theirs is gone.
fn end_host_init(host_pid: i32, timeout: Duration) -> Result<(), RunError> {
    let pidfd = rustix::process::Pid::from_raw(host_pid)
        .ok_or_else(|| format!("bad host init PID {host_pid}"))
        .and_then(|pid| {
            rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
                .map_err(|e| format!("pidfd_open: {e}"))
        });
    let _ = sys::kill(host_pid, libc::SIGKILL);
    if let Ok(pidfd) = pidfd {
        let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
        let limit = Timespec {
            tv_sec: timeout.as_secs() as _,
            tv_nsec: timeout.subsec_nanos() as _,
        };
        if poll(&mut fds, Some(&limit)).map_err(|e| format!("poll: {e}"))? == 0 {
            return Err(format!(
                "the namespaces did not die within {timeout:?} of killing the host init"
            ));
        }
    }
    sys::waitpid(host_pid, false, false, false)
        .map(drop)
        .map_err(|errno| format!("reaping the host init: {}", describe(errno)))
}

/// The host init of a run: detached from the test's pipes, killed with the
/// relay, leader of its own session (the model's host init has PGID and SID
/// 1), then a process of the run like any other.
pub(super) fn become_host_init(control: OwnedFd) -> ! {
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    let _ = sys::detach_stdio();
    // Rust programs start with SIGPIPE ignored; a scenario's processes must
    // start with every disposition at its default, as the model's do.
    let _ = sys::sigaction(libc::SIGPIPE, sys::RawDisposition::Default);
    let _ = sys::setsid();
    serve_forever(control)
}

/// A process (or thread) of the run, as the relay holds it.
pub(super) struct Member {
    commands: File,
    pidfd: OwnedFd,
    /// Its PID and start time in the relay's namespace, to tell when it is
    /// fully gone (`None` if `/proc` did not say).
    pub(super) proc_entry: Option<ProcEntry>,
    /// Where it lives.
    pub(super) lineage: Lineage,
    /// Whether it was stopped while it owed an answer, which it sends when
    /// it is continued.
    owes_answer: bool,
    pub(super) gone: bool,
}

impl Lineage {
    /// A host's init, at `index` among the members.
    fn host(index: usize) -> Lineage {
        Lineage {
            namespace_init: true,
            host: index,
            vps: None,
            thread: false,
        }
    }
}

/// Where a process of the run lives: its host and VPS, by the indices of
/// their inits among the members.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub(super) struct Lineage {
    /// Whether it is the init of a PID namespace (a host init, a VPS init).
    pub(super) namespace_init: bool,
    /// Its host's init.
    pub(super) host: usize,
    /// Its VPS's init, if it is in a VPS.
    pub(super) vps: Option<usize>,
    /// Whether it is a thread other than its process's leader.
    pub(super) thread: bool,
}

impl Lineage {
    /// The lineage of a new task that `parent` makes.
    fn child_of(parent: Lineage, call: &Call) -> Lineage {
        match call {
            Call::Fork {
                new_namespace: true,
                ..
            } => Lineage {
                namespace_init: true,
                host: parent.host,
                vps: None, // set to its own index when it is added
                thread: false,
            },
            Call::Thread { .. } => Lineage {
                namespace_init: false,
                thread: true,
                ..parent
            },
            _ => Lineage {
                namespace_init: false,
                thread: false,
                ..parent
            },
        }
    }
}

/// What came while the relay waited for a process.
#[derive(Debug)]
enum Answer {
    /// A report, with the descriptors attached to it.
    Report(Report, Vec<OwnedFd>),
    /// The watched process exited.
    Gone,
    /// The watched process is stopped: it will answer once continued.
    Stopped,
}

/// How often the relay looks whether the process it waits for has stopped.
const STOP_CHECK_INTERVAL: Timespec = Timespec {
    tv_sec: 0,
    tv_nsec: 2_000_000,
};

/// The relay's side of one run.
pub(super) struct Run {
    control: OwnedFd,
    /// The processes' end of the control socket, for the hosts that the
    /// plan adds.
    member_end: OwnedFd,
    /// The host inits' PIDs, in the relay's namespace.
    host_pids: Vec<i32>,
    /// Index 0 is the first host's init, index `n + 1` is `Actor::Task(n)`.
    pub(super) members: Vec<Member>,
    /// How long to wait for one answer.
    pub(super) timeout: Duration,
    /// The last pass of the last snapshot.
    last_seen: Vec<(Actor, Seen)>,
    /// The `pids` cgroups of the VPSes with a process limit.
    pub(super) limits: Vec<(usize, PidsLimit)>,
    /// The dumps the checkpoint steps made, in order.
    pub(super) dumps: Vec<super::restore::Dump>,
    /// Where the tasks of no process of the plan were (threads made with
    /// the wrong IDs and ended at once, a restore's helpers): their IDs may
    /// stay held a moment after they are gone. Their descriptors are
    /// closed.
    discarded: Vec<ProcEntry>,
}

type RunError = String;

impl Run {
    fn execute(&mut self, plan: &Plan) -> Result<Vec<StepObservation>, RunError> {
        match self.next_report(None)? {
            Answer::Report(Report::Registered, fds) => {
                self.add_member(fds, Lineage::host(0))?;
            }
            Answer::Report(other, _) => {
                return Err(format!("the host init did not register: {other:?}"));
            }
            Answer::Gone | Answer::Stopped => return Err("the host init did not register".into()),
        }
        let mut observed = Vec::with_capacity(plan.steps.len());
        for (index, step) in plan.steps.iter().enumerate() {
            let outcome = self.step(step).map_err(|e| format!("step {index}: {e}"))?;
            let processes = self.snapshot().map_err(|e| format!("step {index}: {e}"))?;
            observed.push(StepObservation { outcome, processes });
        }
        Ok(observed)
    }

    /// Adds the process that has just registered; its index.
    pub(super) fn add_member(
        &mut self,
        fds: Vec<OwnedFd>,
        lineage: Lineage,
    ) -> Result<usize, RunError> {
        let mut fds = fds.into_iter();
        let (Some(commands), Some(pidfd)) = (fds.next(), fds.next()) else {
            return Err("a registration came without its descriptors".into());
        };
        self.members.push(Member {
            commands: File::from(commands),
            proc_entry: ProcEntry::of(&pidfd),
            pidfd,
            lineage,
            owes_answer: false,
            gone: false,
        });
        Ok(self.members.len() - 1)
    }

    /// Makes one more host: the init of a fresh PID namespace, a child of
    /// the relay like the first host's.
    fn new_host(&mut self) -> Result<Outcome, RunError> {
        let _ = std::io::stdout().flush();
        match sys::clone3(true, &[]) {
            Err(errno) => Ok(Outcome::Failed(errno)),
            Ok(Cloned::Child) => {
                // A copy of the relay: it keeps only its end of the control
                // socket, and never returns to the code that owned the rest.
                let Ok(control) = self.member_end.try_clone() else {
                    sys::exit_now(100)
                };
                if sys::close_all_but(std::os::fd::AsRawFd::as_raw_fd(&control)).is_err() {
                    sys::exit_now(100)
                }
                become_host_init(control)
            }
            Ok(Cloned::Parent(pid)) => {
                self.host_pids.push(pid);
                match self.next_report(None)? {
                    Answer::Report(Report::Registered, fds) => {
                        let index = self.members.len();
                        self.add_member(fds, Lineage::host(index))?;
                        Ok(Outcome::Done)
                    }
                    Answer::Report(other, _) => {
                        Err(format!("a new host init did not register: {other:?}"))
                    }
                    Answer::Gone | Answer::Stopped => {
                        Err("a new host init did not register".into())
                    }
                }
            }
        }
    }

    /// Sends one of the relay's own commands (not a step of the plan) and
    /// takes the reply.
    pub(super) fn internal(
        &mut self,
        index: usize,
        command: &Command,
    ) -> Result<Outcome, RunError> {
        if !self.command(index, command)? {
            return Ok(Outcome::ActorGone);
        }
        match self.next_report(Some(index))? {
            Answer::Report(Report::Reply(outcome), _) => Ok(outcome),
            Answer::Report(Report::Ids(_), _) => Ok(Outcome::Done),
            Answer::Gone | Answer::Stopped => Ok(Outcome::Unanswered),
            Answer::Report(other, _) => Err(format!("expected a reply, got {other:?}")),
        }
    }

    /// The IDs a process says it has (`None` if it cannot answer).
    pub(super) fn ids(&mut self, index: usize) -> Result<Option<crate::protocol::Ids>, RunError> {
        if !self.command(index, &Command::Ids)? {
            return Ok(None);
        }
        match self.next_report(Some(index))? {
            Answer::Report(Report::Ids(ids), _) => Ok(Some(ids)),
            Answer::Gone | Answer::Stopped => Ok(None),
            Answer::Report(other, _) => Err(format!("expected IDs, got {other:?}")),
        }
    }

    fn index_of(&self, actor: Actor) -> Option<usize> {
        let index = match actor {
            Actor::Host => 0,
            Actor::Task(n) => n + 1,
        };
        (index < self.members.len()).then_some(index)
    }

    /// Whether a process has exited (its pidfd is readable).
    fn check_gone(&mut self, index: usize) -> Result<bool, RunError> {
        let member = &self.members[index];
        if !member.gone {
            let mut fds = [PollFd::new(&member.pidfd, PollFlags::IN)];
            let zero = Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            poll(&mut fds, Some(&zero)).map_err(|e| format!("poll: {e}"))?;
            if !fds[0].revents().is_empty() {
                self.mark_gone(index)?;
            }
        }
        Ok(self.members[index].gone)
    }

    /// Records that a process has exited, once it has finished exiting: a
    /// pidfd is readable as soon as the process has notified its parent,
    /// but a process its parent does not wait for frees its PIDs a moment
    /// later, and the next step may want one of them.
    fn mark_gone(&mut self, index: usize) -> Result<(), RunError> {
        let member = &mut self.members[index];
        member.gone = true;
        if let Some(entry) = &member.proc_entry {
            let deadline = std::time::Instant::now() + self.timeout;
            while !entry.settled() {
                if std::time::Instant::now() > deadline {
                    return Err(format!(
                        "a process did not finish exiting within {:?}",
                        self.timeout
                    ));
                }
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        Ok(())
    }

    /// Sends a command; `false` if the process has exited.
    fn command(&mut self, index: usize, command: &Command) -> Result<bool, RunError> {
        if self.check_gone(index)? {
            return Ok(false);
        }
        let mut line = serde_json::to_vec(command).map_err(|e| e.to_string())?;
        line.push(b'\n');
        match self.members[index].commands.write_all(&line) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.mark_gone(index)?;
                Ok(false)
            }
            Err(e) => Err(format!("writing a command: {e}")),
        }
    }

    /// The next report for the relay: from the watched process, or a new
    /// process's registration. A late answer of a process that was stopped
    /// while it owed one is taken and dropped on the way. While it waits,
    /// the watched process may exit or stop instead.
    fn next_report(&mut self, watched: Option<usize>) -> Result<Answer, RunError> {
        let deadline = std::time::Instant::now() + self.timeout;
        loop {
            let control = self.control.as_fd();
            let mut fds = vec![PollFd::new(&control, PollFlags::IN)];
            if let Some(index) = watched {
                fds.push(PollFd::new(&self.members[index].pidfd, PollFlags::IN));
            }
            if poll(&mut fds, Some(&STOP_CHECK_INTERVAL)).map_err(|e| format!("poll: {e}"))? > 0 {
                if fds[0].revents().is_empty() {
                    if let Some(index) = watched {
                        self.mark_gone(index)?;
                    }
                    return Ok(Answer::Gone);
                }
                drop(fds);
                let (envelope, descriptors) =
                    wire::receive(&self.control).map_err(|e| format!("receiving a report: {e}"))?;
                let sender = self.member_with_pid(envelope.from);
                if sender.is_some() && sender == watched {
                    return Ok(Answer::Report(envelope.report, descriptors));
                }
                match (sender, envelope.report) {
                    (Some(late), _) if self.members[late].owes_answer => {
                        self.members[late].owes_answer = false;
                    }
                    (None, Report::Registered) => {
                        return Ok(Answer::Report(Report::Registered, descriptors));
                    }
                    (_, other) => {
                        return Err(format!(
                            "an unexpected report from PID {}: {other:?}",
                            envelope.from
                        ));
                    }
                }
                continue;
            }
            if let Some(index) = watched {
                if self.members[index]
                    .proc_entry
                    .as_ref()
                    .is_some_and(ProcEntry::stopped)
                {
                    // It will answer once continued.
                    self.members[index].owes_answer = true;
                    return Ok(Answer::Stopped);
                }
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("no answer within {:?}", self.timeout));
            }
        }
    }

    fn member_with_pid(&self, pid: i32) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.proc_entry.as_ref().is_some_and(|e| e.pid == pid))
    }

    /// Takes the late answer a continued process still owes, so that its
    /// next answer is to the next command. `false` if it has exited or is
    /// stopped again.
    fn settle_owed_answer(&mut self, index: usize) -> Result<bool, RunError> {
        if !self.members[index].owes_answer || self.members[index].gone {
            return Ok(!self.members[index].gone);
        }
        if self.members[index]
            .proc_entry
            .as_ref()
            .is_some_and(ProcEntry::stopped)
        {
            return Ok(false);
        }
        match self.next_report(Some(index))? {
            Answer::Report(..) => {
                self.members[index].owes_answer = false;
                Ok(true)
            }
            Answer::Gone | Answer::Stopped => Ok(false),
        }
    }

    fn step(&mut self, step: &Step) -> Result<Outcome, RunError> {
        let Some(index) = self.index_of(step.actor) else {
            return Ok(Outcome::ActorGone);
        };
        match step.call {
            Call::NewHost => self.new_host(),
            Call::Checkpoint { pid } => self.checkpoint(index, pid),
            Call::Restore {
                image,
                ref pids,
                ref orphans,
            } => self.restore(index, image, pids, orphans),
            _ => self.call(index, &step.call),
        }
    }

    /// Has the process at `index` make a call, as a step does.
    pub(super) fn call(&mut self, index: usize, call: &Call) -> Result<Outcome, RunError> {
        if let Call::Setpgid { pid, pgid } = *call {
            if self.would_trap_an_init(index, pid, pgid) {
                return Ok(Outcome::Refused);
            }
        }
        if !self.settle_owed_answer(index)?
            || self.members[index]
                .proc_entry
                .as_ref()
                .is_some_and(ProcEntry::stopped)
        {
            return Ok(if self.check_gone(index)? {
                Outcome::ActorGone
            } else {
                Outcome::ActorStopped
            });
        }
        if let Call::Thread { set_tid } = call {
            // std makes threads without `set_tid`: the outer namespace's next
            // PID is set through the host init, the inner one's by the
            // caller itself.
            if let [_, outer] = set_tid[..] {
                let host = self.members[index].lineage.host;
                let set = self.internal(host, &Command::SetLastPid(outer - 1))?;
                if set != Outcome::Done {
                    return Err(format!("the host init could not set ns_last_pid: {set}"));
                }
            }
        }
        if !self.command(index, &Command::Call(call.clone()))? {
            return Ok(Outcome::ActorGone);
        }
        match *call {
            Call::Exit { .. } => match self.next_report(Some(index))? {
                Answer::Gone => Ok(Outcome::Done),
                Answer::Stopped => Err("a process stopped in _exit".into()),
                Answer::Report(other, _) => {
                    Err(format!("a report from an exiting process: {other:?}"))
                }
            },
            Call::Fork { ref set_tid, .. } | Call::Thread { ref set_tid } => {
                let deadline = std::time::Instant::now() + self.timeout;
                loop {
                    let mut outcome = self.fork_reply(index, call)?;
                    if let (Call::Thread { .. }, Outcome::Value(_)) = (call, outcome) {
                        if !set_tid.is_empty() && !self.last_member_has(set_tid) {
                            // ns_last_pid is a hint: a number in use is
                            // passed over. The thread goes, and the call
                            // fails as clone3 with that set_tid would (and
                            // is made again if the number's task is only
                            // released and not yet freed, as for a fork).
                            self.discard_last_member()?;
                            outcome = Outcome::Failed(libc::EEXIST);
                        }
                    }
                    if outcome != Outcome::Failed(libc::EEXIST)
                        || !self.held_by_released(set_tid)
                        || std::time::Instant::now() > deadline
                    {
                        return Ok(outcome);
                    }
                    // A released process frees its PIDs a moment after it
                    // leaves /proc: try again.
                    std::thread::sleep(Duration::from_micros(100));
                    if let Call::Thread { set_tid } = call {
                        if let [_, outer] = set_tid[..] {
                            let host = self.members[index].lineage.host;
                            self.internal(host, &Command::SetLastPid(outer - 1))?;
                        }
                    }
                    if !self.command(index, &Command::Call(call.clone()))? {
                        return Ok(Outcome::ActorGone);
                    }
                }
            }
            _ => match self.next_report(Some(index))? {
                Answer::Report(Report::Reply(outcome), _) => Ok(outcome),
                Answer::Gone | Answer::Stopped => Ok(Outcome::Unanswered),
                Answer::Report(other, _) => Err(format!("expected a reply, got {other:?}")),
            },
        }
    }

    /// Whether `setpgid(pid, pgid)` by the process at `caller` could move a
    /// namespace's init into another process's group (see
    /// [`Outcome::Refused`]). Conservative: a number that may name an init
    /// in the caller's view counts.
    fn would_trap_an_init(&self, caller: usize, pid: i32, pgid: i32) -> bool {
        let caller_level = self.members[caller]
            .proc_entry
            .as_ref()
            .map_or(0, |entry| entry.run_pids.len());
        let target_is_init = if pid == 0 {
            self.members[caller].lineage.namespace_init
        } else {
            self.members.iter().any(|member| {
                member.lineage.namespace_init
                    && member.proc_entry.as_ref().is_some_and(|entry| {
                        // The target's PID at the caller's level.
                        entry.run_pids.len() >= caller_level
                            && entry.run_pids.get(entry.run_pids.len() - caller_level) == Some(&pid)
                    })
            })
        };
        let own_group = pgid == 0 || pgid == pid || (pid == 0 && caller_level > 0 && pgid == 1);
        target_is_init && !own_group
    }

    /// Whether a chosen PID is one of a process that has been released but
    /// may not have freed its PIDs yet (and of no process still there).
    fn held_by_released(&self, set_tid: &[i32]) -> bool {
        let holders = |level: usize, pid: i32| {
            let members = self
                .members
                .iter()
                .filter_map(|m| Some((m.gone, m.proc_entry.as_ref()?)));
            members
                .chain(self.discarded.iter().map(|entry| (true, entry)))
                .filter(move |(_, entry)| entry.run_pids.get(level) == Some(&pid))
        };
        set_tid.iter().enumerate().any(|(level, &pid)| {
            let mut any_released = false;
            for (gone, entry) in holders(level, pid) {
                if !(gone && entry.released()) {
                    return false;
                }
                any_released = true;
            }
            any_released
        })
    }

    /// Moves the newest member, which has exited and is no process of the
    /// plan (a restore's helper), out of the members: its IDs may stay held
    /// a moment after it is gone.
    pub(super) fn set_aside_last_member(&mut self) {
        if let Some(entry) = self.members.pop().and_then(|m| m.proc_entry) {
            self.discarded.push(entry);
        }
    }

    /// Whether the newest member has these IDs (innermost first; as with
    /// clone3, fewer IDs than namespaces constrain the innermost ones only).
    fn last_member_has(&self, set_tid: &[i32]) -> bool {
        self.members
            .last()
            .and_then(|m| m.proc_entry.as_ref())
            .is_some_and(|e| e.run_pids.get(..set_tid.len()) == Some(set_tid))
    }

    /// Ends the newest member, a thread made with the wrong IDs, and sets it
    /// aside: it is no process of the plan, but its IDs may stay held a
    /// moment after it is gone.
    fn discard_last_member(&mut self) -> Result<(), RunError> {
        let index = self.members.len() - 1;
        if self.command(index, &Command::Call(Call::Exit { code: 0 }))? {
            match self.next_report(Some(index))? {
                Answer::Gone => {}
                other => return Err(format!("a discarded thread did not exit: {other:?}")),
            }
        }
        self.set_aside_last_member();
        Ok(())
    }

    /// The parent's reply to a fork and, if it succeeded, the child's
    /// registration, in whichever order they come.
    fn fork_reply(&mut self, parent: usize, call: &Call) -> Result<Outcome, RunError> {
        let mut outcome = None;
        let mut child = None;
        while outcome.is_none() || (matches!(outcome, Some(Outcome::Value(_))) && child.is_none()) {
            let watched = if outcome.is_none() {
                Some(parent)
            } else {
                None
            };
            match self.next_report(watched)? {
                Answer::Report(Report::Reply(o), _) => outcome = Some(o),
                Answer::Report(Report::Registered, fds) => child = Some(fds),
                Answer::Report(other, _) => {
                    return Err(format!("expected a fork reply, got {other:?}"));
                }
                Answer::Gone | Answer::Stopped => outcome = Some(Outcome::Unanswered),
            }
        }
        if let Some(fds) = child {
            let lineage = Lineage::child_of(self.members[parent].lineage, call);
            let index = self.add_member(fds, lineage)?;
            if let Call::Fork {
                new_namespace: true,
                numproc,
                ..
            } = call
            {
                self.members[index].lineage.vps = Some(index);
                if let Some(max) = *numproc {
                    self.limit(index, max)?;
                }
            }
        }
        Ok(outcome.unwrap_or(Outcome::Unanswered))
    }

    /// Puts a new VPS init, before it forks anything, in a `pids` cgroup of
    /// its own limited to `max` tasks.
    fn limit(&mut self, init: usize, max: u32) -> Result<(), RunError> {
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let limit = PidsLimit::create(n, max).map_err(|e| format!("numproc {max}: {e}"))?;
        let pid = self.members[init]
            .proc_entry
            .as_ref()
            .map(|e| e.pid)
            .ok_or("the VPS init has no /proc entry")?;
        limit
            .attach(pid)
            .map_err(|e| format!("moving the VPS init into {}: {e}", limit.path().display()))?;
        self.limits.push((init, limit));
        Ok(())
    }

    /// Every process's IDs, or that it has exited or is stopped. Asking every
    /// live process is also the barrier that lets pending signals take
    /// effect: a process killed or stopped by the last step does so before it
    /// can answer.
    ///
    /// A death can have effects of its own on other processes (a process
    /// group it leaves orphaned gets SIGHUP and SIGCONT), sent before the
    /// death is seen but maybe after an earlier process was asked. So while
    /// a pass finds a process newly exited, the relay asks everyone again.
    fn snapshot(&mut self) -> Result<Vec<(Actor, Seen)>, RunError> {
        let mut seen = self.snapshot_pass()?;
        loop {
            let exited = |s: &[(Actor, Seen)]| s.iter().filter(|(_, x)| *x == Seen::Gone).count();
            let newly_exited = exited(&seen) > exited(&self.last_seen);
            self.last_seen.clone_from(&seen);
            if !newly_exited {
                return Ok(seen);
            }
            seen = self.snapshot_pass()?;
        }
    }

    fn snapshot_pass(&mut self) -> Result<Vec<(Actor, Seen)>, RunError> {
        let mut seen = Vec::with_capacity(self.members.len());
        for index in 0..self.members.len() {
            let actor = if index == 0 {
                Actor::Host
            } else {
                Actor::Task(index - 1)
            };
            let state = if !self.settle_owed_answer(index)? {
                if self.check_gone(index)? {
                    Seen::Gone
                } else {
                    Seen::Stopped
                }
            } else if self.members[index]
                .proc_entry
                .as_ref()
                .is_some_and(ProcEntry::stopped)
            {
                Seen::Stopped
            } else if self.command(index, &Command::Ids)? {
                match self.next_report(Some(index))? {
                    Answer::Report(Report::Ids(ids), _) => Seen::Alive(ids),
                    Answer::Gone => Seen::Gone,
                    Answer::Stopped => Seen::Stopped,
                    Answer::Report(other, _) => {
                        return Err(format!("expected IDs, got {other:?}"));
                    }
                }
            } else {
                Seen::Gone
            };
            seen.push((actor, state));
        }
        Ok(seen)
    }
}
