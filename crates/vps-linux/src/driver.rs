//! The test side: spawns the agent binary and runs plans through it.
//!
//! The test process never forks itself (it has many threads); it spawns the
//! agent and talks to it over its standard input and output, one JSON line
//! each way per plan. The agent is killed when the [`Agent`] is dropped or
//! when it does not answer in time, and its death takes every namespace and
//! process it made with it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use crate::protocol::{Hello, Plan, RunReply, StepObservation};

/// How long the agent may take to say hello, or to run one plan.
pub const AGENT_TIMEOUT: Duration = Duration::from_secs(30);

/// What can go wrong in talking to the agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The agent binary could not be started.
    #[error("cannot start the agent {path}: {source}")]
    Spawn {
        /// The binary.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The agent did not answer in time; it has been killed.
    #[error("the agent did not answer within {0:?}")]
    Timeout(Duration),
    /// The agent's output ended.
    #[error("the agent exited")]
    Exited,
    /// The agent said something unreadable.
    #[error("unreadable answer from the agent: {0}")]
    Garbled(String),
    /// Writing to the agent failed.
    #[error("cannot write to the agent: {0}")]
    Write(std::io::Error),
    /// The agent could not run the plan.
    #[error("the agent could not run the plan: {0}")]
    RunFailed(String),
}

/// Whether the agent may create PID namespaces.
#[derive(Debug)]
pub enum Spawned {
    /// Ready to run plans.
    Ready(Agent),
    /// This process may not create PID namespaces or choose PIDs (it lacks
    /// CAP_SYS_ADMIN); the kernel's reason.
    NotPermitted(String),
}

/// A running agent. Dropping it kills it.
#[derive(Debug)]
pub struct Agent {
    child: Child,
    input: ChildStdin,
    lines: Receiver<std::io::Result<String>>,
}

impl Agent {
    /// Starts the agent binary at `path` and reads its hello.
    ///
    /// The agent dies with the thread that starts it (`PR_SET_PDEATHSIG`),
    /// so that not even a killed test leaves it behind: keep that thread
    /// alive as long as the agent is used.
    ///
    /// # Errors
    /// [`AgentError::Spawn`] if it cannot be started, or any error of
    /// reading its first line.
    pub fn spawn(path: impl AsRef<Path>) -> Result<Spawned, AgentError> {
        let path = path.as_ref();
        let mut child = Command::new(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| AgentError::Spawn {
                path: path.display().to_string(),
                source,
            })?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(AgentError::Exited);
        };
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines() {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut agent = Agent {
            child,
            input,
            lines,
        };
        match agent.read_line()? {
            Hello::Ready => Ok(Spawned::Ready(agent)),
            Hello::NotPermitted(reason) => Ok(Spawned::NotPermitted(reason)),
        }
    }

    fn read_line<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, AgentError> {
        match self.lines.recv_timeout(AGENT_TIMEOUT) {
            Ok(Ok(line)) => {
                serde_json::from_str(&line).map_err(|e| AgentError::Garbled(e.to_string()))
            }
            Ok(Err(e)) => Err(AgentError::Garbled(e.to_string())),
            Err(RecvTimeoutError::Disconnected) => Err(AgentError::Exited),
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(AgentError::Timeout(AGENT_TIMEOUT))
            }
        }
    }

    /// The agent's process ID, in the test's namespace.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs a plan on a fresh pair of PID namespaces and returns what every
    /// step was seen to do. No process of the run is left when this returns.
    ///
    /// # Errors
    /// [`AgentError::RunFailed`] if the agent could not run the plan (for
    /// example, a process did not answer); the errors of talking to it.
    pub fn run(&mut self, plan: &Plan) -> Result<Vec<StepObservation>, AgentError> {
        let mut line = serde_json::to_vec(plan).map_err(|e| AgentError::Garbled(e.to_string()))?;
        line.push(b'\n');
        self.input
            .write_all(&line)
            .and_then(|()| self.input.flush())
            .map_err(AgentError::Write)?;
        match self.read_line()? {
            RunReply::Observed(observed) => Ok(observed),
            RunReply::Failed(reason) => Err(AgentError::RunFailed(reason)),
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The number of processes whose chain of parents leads to `ancestor`
/// (itself not counted), from `/proc` as this process sees it. The agent's
/// processes are all descendants of the test that spawned it, so this
/// counts what a test has left alive.
///
/// # Errors
/// Reading `/proc` failed.
pub fn count_descendants(ancestor: u32) -> std::io::Result<usize> {
    let mut parent_of = std::collections::HashMap::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // A process may exit while we read; it is then not counted.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let after_comm = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
        if let Some(ppid) = after_comm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent_of.insert(pid, ppid);
        }
    }
    let descends = |mut pid: u32| {
        for _ in 0..parent_of.len() {
            match parent_of.get(&pid) {
                Some(&ppid) if ppid == ancestor => return true,
                Some(&ppid) if ppid > 0 => pid = ppid,
                _ => return false,
            }
        }
        false
    };
    Ok(parent_of.keys().filter(|&&pid| descends(pid)).count())
}

/// Whether the agent can run this plan on this kernel: a plan with threads
/// needs thread pidfds.
#[must_use]
pub fn runs_here(plan: &Plan) -> bool {
    !plan.makes_threads() || thread_pidfds()
}

/// Whether this kernel gives pidfds of single threads (`PIDFD_THREAD`,
/// Linux 6.9), which the agent needs for a plan with threads.
#[must_use]
pub fn thread_pidfds() -> bool {
    let thread = rustix::process::PidfdFlags::from_bits_retain(crate::sys::PIDFD_THREAD);
    rustix::process::pidfd_open(rustix::process::getpid(), thread).is_ok()
}
