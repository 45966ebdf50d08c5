//! What the test side, the agent and the model exchange: the calls a step
//! makes, and what each step is seen to do.
//!
//! Everything here is plain data with a JSON form: the test sends a
//! [`Plan`] to the agent as one line and gets one line of
//! [`StepObservation`]s back.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A process of a scenario run.
///
/// The host's init is the model's host init (real PID 1); on Linux it is the
/// init of a fresh PID namespace that stands for the host. `Task(0)` is the
/// VPS init and `Task(n)` the `n`-th process forked successfully after it, in
/// the order of the steps.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug, Serialize, Deserialize)]
pub enum Actor {
    /// The host's init.
    Host,
    /// A task of the VPS, by the order of its creation (0 = the VPS init).
    Task(usize),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Host => f.write_str("host"),
            Actor::Task(0) => f.write_str("init"),
            Actor::Task(n) => write!(f, "t{n}"),
        }
    }
}

/// A signal disposition.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Serialize, Deserialize)]
pub enum Disposition {
    /// `SIG_DFL`.
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// A handler function.
    Handler,
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Disposition::Default => "default",
            Disposition::Ignore => "ignore",
            Disposition::Handler => "handler",
        })
    }
}

/// One system call, with raw numbers as the calling process passes them.
#[derive(Clone, Eq, PartialEq, Hash, Debug, Serialize, Deserialize)]
pub enum Call {
    /// `clone3`: `set_tid[0]` is the PID in the innermost namespace, then
    /// outwards; empty lets the kernel choose. `new_namespace` makes the
    /// child the init of a new PID namespace (the VPS init).
    Fork {
        /// The chosen PIDs, innermost first.
        set_tid: Vec<i32>,
        /// Whether the child starts a new PID namespace.
        new_namespace: bool,
        /// With `new_namespace`: the most tasks the new namespace may hold
        /// (the VPS's `numproc`), as a `pids` cgroup limit on Linux.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        numproc: Option<u32>,
        /// `CLONE_PARENT`: the child's parent is the caller's parent (the
        /// thread whose list of children the caller is on).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        clone_parent: bool,
    },
    /// `clone3(CLONE_THREAD | CLONE_VM | CLONE_SIGHAND | ...)`: a new thread
    /// of the caller's process. `set_tid` as for [`Call::Fork`]; the outcome
    /// is the new thread's ID.
    Thread {
        /// The chosen thread IDs, innermost first.
        set_tid: Vec<i32>,
    },
    /// A new host: on Linux the init of one more fresh PID namespace, a
    /// sibling of the first host's. The step's actor does not matter.
    NewHost,
    /// Dumps the VPS whose init has this PID in the caller's (a host
    /// init's) view, as `criu dump -t PID` does; the dump is kept by the
    /// run, numbered by the order of the checkpoint steps.
    Checkpoint {
        /// The VPS init's PID, as the caller sees it.
        pid: i32,
    },
    /// Restores a dump (by its number) under the caller, a host init: the
    /// VPS's processes and threads come back with their virtual IDs and the
    /// real ones given here. The outcome is the new VPS init's PID in the
    /// caller's view.
    Restore {
        /// Which dump: 0 is the run's first checkpoint.
        image: usize,
        /// Every task's `(virtual ID, real ID)`, by virtual ID.
        pids: Vec<(i32, i32)>,
        /// The `(virtual, real)` IDs of the groups and sessions whose
        /// leader is gone (reserved numbers in the model; on Linux a helper
        /// task holds each while the restore makes it).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        orphans: Vec<(i32, i32)>,
    },
    /// `_exit(code)`.
    Exit {
        /// The exit code.
        code: i32,
    },
    /// `setsid()`.
    Setsid,
    /// `setpgid(pid, pgid)`.
    Setpgid {
        /// The process (0 = self).
        pid: i32,
        /// The group (0 = `pid`).
        pgid: i32,
    },
    /// `getpgid(pid)`.
    Getpgid {
        /// The process (0 = self).
        pid: i32,
    },
    /// `getsid(pid)`.
    Getsid {
        /// The process (0 = self).
        pid: i32,
    },
    /// `sigaction(sig, disposition)`; the outcome is the previous one.
    Sigaction {
        /// The signal number.
        sig: i32,
        /// The new disposition.
        disposition: Disposition,
    },
    /// `kill(pid, sig)`.
    Kill {
        /// The target: a PID, 0, -1 or minus a group.
        pid: i32,
        /// The signal number (0 = probe).
        sig: i32,
    },
    /// `waitpid(pid, &status, options)`.
    Wait {
        /// Which children: a PID, 0, -1 or minus a group.
        pid: i32,
        /// Whether `WNOHANG` is passed.
        nohang: bool,
        /// Whether `WUNTRACED` is passed (report stopped children).
        #[serde(default)]
        untraced: bool,
        /// Whether `WCONTINUED` is passed (report continued children).
        #[serde(default)]
        continued: bool,
    },
}

/// One step of a run: a process makes one call.
#[derive(Clone, Eq, PartialEq, Hash, Debug, Serialize, Deserialize)]
pub struct Step {
    /// The process that makes the call.
    pub actor: Actor,
    /// The call.
    pub call: Call,
}

/// The steps the agent runs on fresh PID namespaces: the first host's is
/// made before the first step; the VPSes' and the other hosts' by the
/// steps.
#[derive(Clone, Eq, PartialEq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Plan {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// How long the agent waits for a process to answer before it gives the
    /// plan up; `None` for the agent's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_timeout_ms: Option<u64>,
}

impl Plan {
    /// Whether a step makes a thread (which the agent can follow only with
    /// thread pidfds: see [`crate::driver::thread_pidfds`]).
    #[must_use]
    pub fn makes_threads(&self) -> bool {
        self.steps
            .iter()
            .any(|step| matches!(step.call, Call::Thread { .. }))
    }

    /// A plan of these steps, with the default timeout.
    #[must_use]
    pub fn new(steps: Vec<Step>) -> Self {
        Self {
            steps,
            answer_timeout_ms: None,
        }
    }
}

/// What one call returned.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// Success without a value (`setpgid`, `kill`, `_exit`).
    Done,
    /// Success with a PID-like value (`fork`, `setsid`, `getpgid`, `getsid`).
    Value(i32),
    /// `sigaction` succeeded; the previous disposition.
    Previous(Disposition),
    /// `waitpid` reaped or reported a child: its PID as the caller sees it,
    /// and the raw wait status.
    Waited {
        /// The child's PID in the caller's view.
        pid: i32,
        /// The Linux wait status encoding.
        status: i32,
    },
    /// `waitpid` found children, none waitable (`WNOHANG` returned 0).
    NothingWaitable,
    /// The call failed with this errno.
    Failed(i32),
    /// The process meant to make the call had already exited.
    ActorGone,
    /// The process meant to make the call is stopped by a signal (a real
    /// process cannot make a call then).
    ActorStopped,
    /// The caller died before the call returned (a signal it sent to
    /// itself, with `kill(0, ...)` for example).
    Unanswered,
    /// The agent did not make the call: it would put a namespace's init in
    /// a process group led by another process of its namespace, which Linux
    /// (6.18) lets happen before the init calls `setsid`, and which leaves
    /// the init unable ever to finish dying (`zap_pid_ns_processes` waits
    /// for the group's PID, which only the init itself holds).
    Refused,
}

fn errno_name(raw: i32) -> String {
    vpid_core::Errno::from_raw(raw).map_or_else(|| format!("errno {raw}"), |e| e.name().to_owned())
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Done => f.write_str("ok"),
            Outcome::Value(v) => write!(f, "{v}"),
            Outcome::Previous(d) => write!(f, "was {d}"),
            Outcome::Waited { pid, status } => write!(f, "pid {pid} status {status:#x}"),
            Outcome::NothingWaitable => f.write_str("0 (nothing waitable)"),
            Outcome::Failed(e) => f.write_str(&errno_name(*e)),
            Outcome::ActorGone => f.write_str("(the caller has exited)"),
            Outcome::ActorStopped => f.write_str("(the caller is stopped)"),
            Outcome::Unanswered => f.write_str("(the caller died in the call)"),
            Outcome::Refused => f.write_str("(not run: it would make the namespace unkillable)"),
        }
    }
}

/// The IDs a live process sees for itself.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Serialize, Deserialize)]
pub struct Ids {
    /// `getpid()`.
    pub pid: i32,
    /// `getppid()`.
    pub ppid: i32,
    /// `getpgid(0)`.
    pub pgid: i32,
    /// `getsid(0)`.
    pub sid: i32,
}

impl fmt::Display for Ids {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} ppid {} pgid {} sid {}",
            self.pid, self.ppid, self.pgid, self.sid
        )
    }
}

/// How a process of the run looks after a step.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Serialize, Deserialize)]
pub enum Seen {
    /// Alive, with the IDs it sees.
    Alive(Ids),
    /// Stopped by a signal (it cannot answer).
    Stopped,
    /// Exited (a zombie or reaped).
    Gone,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::Alive(ids) => ids.fmt(f),
            Seen::Stopped => f.write_str("stopped"),
            Seen::Gone => f.write_str("exited"),
        }
    }
}

/// Everything observed at one step: the call's outcome, then every process
/// of the run (in [`Actor`] order), alive or not.
#[derive(Clone, Eq, PartialEq, Hash, Debug, Serialize, Deserialize)]
pub struct StepObservation {
    /// What the call returned.
    pub outcome: Outcome,
    /// Every process created so far, after the step.
    pub processes: Vec<(Actor, Seen)>,
}

/// The agent's answer to a [`Plan`].
#[derive(Clone, Eq, PartialEq, Debug, Serialize, Deserialize)]
pub enum RunReply {
    /// The plan ran to its end.
    Observed(Vec<StepObservation>),
    /// The plan could not be run; no namespace or process is left over.
    Failed(String),
}

/// The agent's first line: whether it may create PID namespaces and choose
/// PIDs in them.
#[derive(Clone, Eq, PartialEq, Debug, Serialize, Deserialize)]
pub enum Hello {
    /// Ready for plans.
    Ready,
    /// Not permitted; the reason, as the kernel gave it.
    NotPermitted(String),
}

/// The name of a signal number, as the scenarios use them (`SIGTERM`, and
/// `0` for the probe signal): [`vps::Signal`]'s names.
#[must_use]
pub fn signal_name(sig: i32) -> String {
    vps::Signal(sig).to_string()
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Fork {
                set_tid,
                new_namespace,
                numproc,
                clone_parent,
            } => {
                f.write_str(if *new_namespace {
                    "create-vps("
                } else {
                    "fork("
                })?;
                let tids: Vec<String> = set_tid.iter().map(i32::to_string).collect();
                write!(f, "{}", tids.join(", "))?;
                if let Some(limit) = numproc {
                    write!(f, "; numproc {limit}")?;
                }
                if *clone_parent {
                    f.write_str("; CLONE_PARENT")?;
                }
                f.write_str(")")
            }
            Call::Thread { set_tid } => {
                let tids: Vec<String> = set_tid.iter().map(i32::to_string).collect();
                write!(f, "thread({})", tids.join(", "))
            }
            Call::NewHost => f.write_str("new-host()"),
            Call::Checkpoint { pid } => write!(f, "checkpoint({pid})"),
            Call::Restore { image, pids, .. } => {
                write!(f, "restore(image {image}, {} tasks)", pids.len())
            }
            Call::Exit { code } => write!(f, "exit({code})"),
            Call::Setsid => f.write_str("setsid()"),
            Call::Setpgid { pid, pgid } => write!(f, "setpgid({pid}, {pgid})"),
            Call::Getpgid { pid } => write!(f, "getpgid({pid})"),
            Call::Getsid { pid } => write!(f, "getsid({pid})"),
            Call::Sigaction { sig, disposition } => {
                write!(f, "sigaction({}, {disposition})", signal_name(*sig))
            }
            Call::Kill { pid, sig } => write!(f, "kill({pid}, {})", signal_name(*sig)),
            Call::Wait {
                pid,
                nohang,
                untraced,
                continued,
            } => {
                write!(f, "waitpid({pid}")?;
                for (set, name) in [
                    (nohang, "WNOHANG"),
                    (untraced, "WUNTRACED"),
                    (continued, "WCONTINUED"),
                ] {
                    if *set {
                        write!(f, ", {name}")?;
                    }
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.actor, self.call)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.steps.iter().enumerate() {
            writeln!(f, "{index:>3}  {step}")?;
        }
        Ok(())
    }
}
