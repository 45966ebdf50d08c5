//! Runs a scenario on the model (`vps::Host`) and writes the Linux plan
//! that repeats it number for number.
//!
//! The model runs first. Every process it forks gets, on Linux, the very
//! PIDs the model gave it: the virtual PID in the VPS's namespace and the
//! real PID in the host's namespace (`clone3` with `set_tid`). So every
//! number of both runs can be compared as it is.

use std::collections::HashSet;

use vpid_core::{CloneFlags, Errno, WaitOptions};
use vps::{Host, HostConfig, TaskRef, TaskState, Viewer, VpsConfig, VpsId};

use crate::protocol::{Actor, Call, Disposition, Ids, Outcome, Plan, Seen, Step, StepObservation};

/// The VPS number of the first VPS a scenario creates; the next ones count
/// up from it.
pub const FIRST_VPS_ID: u32 = 101;

/// The model could not even start.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the model's host: {0}")]
pub struct ModelError(pub Errno);

/// A scenario being run on the model, step by step.
pub struct ModelRun {
    host: Host,
    /// `Actor::Task(n)` is `tasks[n]`.
    tasks: Vec<TaskRef>,
    vps_created: u32,
    linux: Vec<Step>,
    observed: Vec<StepObservation>,
}

impl std::fmt::Debug for ModelRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRun")
            .field("tasks", &self.tasks)
            .field("steps", &self.linux.len())
            .finish_non_exhaustive()
    }
}

/// What the model did with a whole scenario.
#[derive(Clone, Debug)]
pub struct ModelOutcome {
    /// What every step was seen to do.
    pub observed: Vec<StepObservation>,
    /// The same steps for Linux, every fork with the model's PIDs.
    pub linux_plan: Plan,
}

/// Runs a scenario on a fresh model host.
///
/// # Errors
/// [`ModelError`] if the model's host cannot be created.
pub fn run_model(scenario: &Plan) -> Result<ModelOutcome, ModelError> {
    let mut run = ModelRun::new()?;
    for step in &scenario.steps {
        run.apply(step);
    }
    Ok(run.finish())
}

fn errno_outcome(e: Errno) -> Outcome {
    Outcome::Failed(e.raw())
}

fn disposition_to_model(d: Disposition) -> vps::Disposition {
    match d {
        Disposition::Default => vps::Disposition::Default,
        Disposition::Ignore => vps::Disposition::Ignore,
        Disposition::Handler => vps::Disposition::Handler,
    }
}

fn disposition_from_model(d: vps::Disposition) -> Disposition {
    match d {
        vps::Disposition::Default => Disposition::Default,
        vps::Disposition::Ignore => Disposition::Ignore,
        vps::Disposition::Handler => Disposition::Handler,
    }
}

impl ModelRun {
    /// A fresh host with only its init.
    ///
    /// # Errors
    /// [`ModelError`] if the model refuses the default configuration.
    pub fn new() -> Result<Self, ModelError> {
        Ok(Self {
            host: Host::new(HostConfig::default()).map_err(ModelError)?,
            tasks: Vec::new(),
            vps_created: 0,
            linux: Vec::new(),
            observed: Vec::new(),
        })
    }

    /// The model's host.
    #[must_use]
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The task an actor names, if it has been created.
    #[must_use]
    pub fn task(&self, actor: Actor) -> Option<TaskRef> {
        match actor {
            Actor::Host => Some(self.host.init()),
            Actor::Task(n) => self.tasks.get(n).copied(),
        }
    }

    /// The real PID of an actor's task (what the host sees), if it has been
    /// created.
    #[must_use]
    pub fn real_pid(&self, actor: Actor) -> Option<i32> {
        self.task(actor).map(|task| task.real().as_raw())
    }

    /// The actors created so far, host first.
    pub fn actors(&self) -> impl Iterator<Item = Actor> + '_ {
        std::iter::once(Actor::Host).chain((0..self.tasks.len()).map(Actor::Task))
    }

    /// What every step so far was seen to do.
    #[must_use]
    pub fn observed(&self) -> &[StepObservation] {
        &self.observed
    }

    /// What the last step saw, or nothing before the first step.
    #[must_use]
    pub fn last_seen(&self) -> &[(Actor, Seen)] {
        self.observed.last().map_or(&[], |o| &o.processes)
    }

    fn live_tasks(&self) -> HashSet<TaskRef> {
        self.host
            .ps(Viewer::Host)
            .unwrap_or_default()
            .into_iter()
            .filter(|entry| entry.state != TaskState::Zombie)
            .map(|entry| entry.task)
            .collect()
    }

    /// Runs one step, records it and its Linux twin, and returns what it
    /// was seen to do.
    pub fn apply(&mut self, step: &Step) -> StepObservation {
        let mut linux_step = step.clone();
        let live = self.live_tasks();
        let outcome = match self.task(step.actor) {
            Some(caller) if live.contains(&caller) => {
                if self.last_seen().contains(&(step.actor, Seen::Stopped)) {
                    Outcome::ActorStopped
                } else {
                    self.perform(caller, &step.call, &mut linux_step.call)
                }
            }
            _ => Outcome::ActorGone,
        };
        let observation = StepObservation {
            outcome,
            processes: self.snapshot(),
        };
        self.linux.push(linux_step);
        self.observed.push(observation.clone());
        observation
    }

    /// Ends the run: the observations and the Linux plan.
    #[must_use]
    pub fn finish(self) -> ModelOutcome {
        ModelOutcome {
            observed: self.observed,
            linux_plan: Plan::new(self.linux),
        }
    }

    fn perform(&mut self, caller: TaskRef, call: &Call, linux: &mut Call) -> Outcome {
        let h = &self.host;
        let done = |r: Result<(), Errno>| r.map_or_else(errno_outcome, |()| Outcome::Done);
        let value = |r: Result<i32, Errno>| r.map_or_else(errno_outcome, Outcome::Value);
        match call {
            Call::Fork {
                new_namespace: true,
                ..
            } => {
                let id = VpsId(FIRST_VPS_ID + self.vps_created);
                match h.create_vps(caller, id, VpsConfig::default()) {
                    Ok(init) => {
                        self.vps_created += 1;
                        self.tasks.push(init);
                        let real = init.real().as_raw();
                        *linux = Call::Fork {
                            set_tid: vec![1, real],
                            new_namespace: true,
                        };
                        Outcome::Value(h.pid_of(Viewer::Task(caller), init).unwrap_or(real))
                    }
                    Err(e) => errno_outcome(e),
                }
            }
            Call::Fork { set_tid, .. } => {
                let chosen = set_tid.first().copied();
                match h.fork(caller, CloneFlags::empty(), chosen) {
                    Ok(forked) => {
                        self.tasks.push(forked.child);
                        let real = forked.child.real().as_raw();
                        let in_vps = h.vps_of(caller).ok().flatten().is_some();
                        *linux = Call::Fork {
                            set_tid: if in_vps {
                                vec![forked.pid, real]
                            } else {
                                vec![real]
                            },
                            new_namespace: false,
                        };
                        Outcome::Value(forked.pid)
                    }
                    Err(e) => errno_outcome(e),
                }
            }
            Call::Exit { code } => done(h.exit(caller, *code)),
            Call::Setsid => value(h.setsid(caller)),
            Call::Setpgid { pid, pgid } => done(h.setpgid(caller, *pid, *pgid)),
            Call::Getpgid { pid } => value(h.getpgid(caller, *pid)),
            Call::Getsid { pid } => value(h.getsid(caller, *pid)),
            Call::Sigaction { sig, disposition } => h
                .sigaction(
                    caller,
                    vps::Signal(*sig),
                    disposition_to_model(*disposition),
                )
                .map_or_else(errno_outcome, |old| {
                    Outcome::Previous(disposition_from_model(old))
                }),
            Call::Kill { pid, sig } => done(h.kill(caller, *pid, vps::Signal(*sig))),
            Call::Wait {
                pid,
                nohang,
                untraced,
                continued,
            } => {
                let options = [
                    (*nohang, WaitOptions::WNOHANG),
                    (*untraced, WaitOptions::WUNTRACED),
                    (*continued, WaitOptions::WCONTINUED),
                ]
                .into_iter()
                .filter(|(set, _)| *set)
                .fold(WaitOptions::empty(), |all, (_, flag)| all | flag);
                match h.waitpid(caller, *pid, options) {
                    Ok(Some(waited)) => Outcome::Waited {
                        pid: waited.pid,
                        status: waited.status.raw(),
                    },
                    Ok(None) => {
                        // The model never blocks; on Linux a wait that
                        // would block is made with WNOHANG instead.
                        *linux = Call::Wait {
                            pid: *pid,
                            nohang: true,
                            untraced: *untraced,
                            continued: *continued,
                        };
                        Outcome::NothingWaitable
                    }
                    Err(e) => errno_outcome(e),
                }
            }
        }
    }

    fn ids(&self, task: TaskRef) -> Option<Ids> {
        let h = &self.host;
        Some(Ids {
            pid: h.getpid(task).ok()?,
            ppid: h.getppid(task).ok()?,
            pgid: h.getpgid(task, 0).ok()?,
            sid: h.getsid(task, 0).ok()?,
        })
    }

    fn snapshot(&self) -> Vec<(Actor, Seen)> {
        let live = self.live_tasks();
        let stopped: HashSet<TaskRef> = self
            .host
            .ps(Viewer::Host)
            .unwrap_or_default()
            .into_iter()
            .filter(|entry| entry.state == TaskState::Stopped)
            .map(|entry| entry.task)
            .collect();
        self.actors()
            .map(|actor| {
                let seen = match self.task(actor) {
                    Some(task) if stopped.contains(&task) => Seen::Stopped,
                    Some(task) if live.contains(&task) => {
                        self.ids(task).map_or(Seen::Gone, Seen::Alive)
                    }
                    _ => Seen::Gone,
                };
                (actor, seen)
            })
            .collect()
    }
}
