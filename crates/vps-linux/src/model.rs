//! Runs a scenario on the model (`vps::Host`) and writes the Linux plan
//! that repeats it number for number.
//!
//! The model runs first. Every process it forks gets, on Linux, the very
//! PIDs the model gave it: the virtual PID in the VPS's namespace and the
//! real PID in the host's namespace (`clone3` with `set_tid`). So every
//! number of both runs can be compared as it is.

use std::collections::HashSet;

use vpid_core::{CloneFlags, Errno, WaitOptions};
use vps::{
    CheckpointError, Host, HostConfig, RestoreError, TaskRef, TaskState, Viewer, VpsConfig, VpsId,
    VpsImage,
};

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
    /// The first host, then one per [`Call::NewHost`] step.
    hosts: Vec<Host>,
    /// `Actor::Task(n)` is `tasks[n]`: its host (an index into `hosts`) and
    /// its task there.
    tasks: Vec<(usize, TaskRef)>,
    vps_created: u32,
    /// The images the checkpoint steps took, in order.
    images: Vec<VpsImage>,
    linux: Vec<Step>,
    observed: Vec<StepObservation>,
}

impl std::fmt::Debug for ModelRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRun")
            .field("hosts", &self.hosts.len())
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

/// The `(virtual, real)` IDs of the groups and sessions of a VPS (its
/// tasks, as its init sees them) that no task of it leads: the same tasks
/// seen from the host give the real IDs.
fn orphan_ids(host: &Host, inside: &[vps::PsEntry]) -> Vec<(i32, i32)> {
    let outside: std::collections::HashMap<TaskRef, vps::PsEntry> = host
        .ps(Viewer::Host)
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.task, e))
        .collect();
    let tasks: HashSet<i32> = inside.iter().map(|e| e.pid).collect();
    let mut orphans: Vec<(i32, i32)> = inside
        .iter()
        .filter_map(|e| Some((e, outside.get(&e.task)?)))
        .flat_map(|(v, r)| [(v.pgid, r.pgid), (v.sid, r.sid)])
        .filter(|(virt, _)| !tasks.contains(virt))
        .collect();
    orphans.sort_unstable();
    orphans.dedup();
    orphans
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
            hosts: vec![Host::new(HostConfig::default()).map_err(ModelError)?],
            tasks: Vec::new(),
            vps_created: 0,
            images: Vec::new(),
            linux: Vec::new(),
            observed: Vec::new(),
        })
    }

    /// The model's first host.
    #[must_use]
    pub fn host(&self) -> &Host {
        &self.hosts[0]
    }

    /// The host an actor's task lives on, if it has been created.
    #[must_use]
    pub fn host_of(&self, actor: Actor) -> Option<&Host> {
        self.located(actor).map(|(host, _)| &self.hosts[host])
    }

    /// The host (an index, 0 for the first) and the task of an actor.
    fn located(&self, actor: Actor) -> Option<(usize, TaskRef)> {
        match actor {
            Actor::Host => Some((0, self.hosts[0].init())),
            Actor::Task(n) => self.tasks.get(n).copied(),
        }
    }

    /// The task an actor names, if it has been created (on its own host:
    /// see [`ModelRun::host_of`]).
    #[must_use]
    pub fn task(&self, actor: Actor) -> Option<TaskRef> {
        self.located(actor).map(|(_, task)| task)
    }

    /// The real PID of an actor's task (what its host sees), if it has
    /// been created.
    #[must_use]
    pub fn real_pid(&self, actor: Actor) -> Option<i32> {
        self.task(actor).map(|task| task.real().as_raw())
    }

    /// Whether an actor's task is a thread other than its process's leader
    /// (false once it has exited).
    #[must_use]
    pub fn is_thread(&self, actor: Actor) -> bool {
        self.located(actor).is_some_and(|(host, task)| {
            let h = &self.hosts[host];
            matches!((h.getpid(task), h.gettid(task)), (Ok(pid), Ok(tid)) if pid != tid)
        })
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

    /// The Linux steps so far: the steps with the PIDs the model gave.
    #[must_use]
    pub fn linux_steps(&self) -> &[Step] {
        &self.linux
    }

    /// What the last step saw, or nothing before the first step.
    #[must_use]
    pub fn last_seen(&self) -> &[(Actor, Seen)] {
        self.observed.last().map_or(&[], |o| &o.processes)
    }

    /// The tasks of every host in a state `wanted` accepts.
    fn tasks_where(&self, wanted: impl Fn(TaskState) -> bool) -> HashSet<(usize, TaskRef)> {
        self.hosts
            .iter()
            .enumerate()
            .flat_map(|(index, host)| {
                host.ps(Viewer::Host)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|entry| wanted(entry.state))
                    .map(move |entry| (index, entry.task))
            })
            .collect()
    }

    fn live_tasks(&self) -> HashSet<(usize, TaskRef)> {
        self.tasks_where(|state| state != TaskState::Zombie)
    }

    /// Runs one step, records it and its Linux twin, and returns what it
    /// was seen to do.
    pub fn apply(&mut self, step: &Step) -> StepObservation {
        let mut linux_step = step.clone();
        let live = self.live_tasks();
        let outcome = match self.located(step.actor) {
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

    fn next_vps_id(&mut self) -> VpsId {
        let id = VpsId(FIRST_VPS_ID + self.vps_created);
        self.vps_created += 1;
        id
    }

    fn perform(
        &mut self,
        (host, caller): (usize, TaskRef),
        call: &Call,
        linux: &mut Call,
    ) -> Outcome {
        let done = |r: Result<(), Errno>| r.map_or_else(errno_outcome, |()| Outcome::Done);
        let value = |r: Result<i32, Errno>| r.map_or_else(errno_outcome, Outcome::Value);
        match call {
            Call::Fork {
                new_namespace: true,
                numproc,
                ..
            } => {
                let config = VpsConfig { numproc: *numproc };
                if let Err(e) = config.validate() {
                    return errno_outcome(e);
                }
                let id = self.next_vps_id();
                let h = &self.hosts[host];
                match h.create_vps(caller, id, config) {
                    Ok(init) => {
                        self.tasks.push((host, init));
                        let real = init.real().as_raw();
                        *linux = Call::Fork {
                            set_tid: vec![1, real],
                            new_namespace: true,
                            numproc: *numproc,
                            clone_parent: false,
                        };
                        Outcome::Value(h.pid_of(Viewer::Task(caller), init).unwrap_or(real))
                    }
                    Err(e) => errno_outcome(e),
                }
            }
            Call::Fork {
                set_tid,
                clone_parent,
                ..
            } => {
                let flags = if *clone_parent {
                    CloneFlags::CLONE_PARENT
                } else {
                    CloneFlags::empty()
                };
                self.fork(host, caller, flags, set_tid, linux)
            }
            Call::Thread { set_tid } => {
                let flags =
                    CloneFlags::CLONE_THREAD | CloneFlags::CLONE_SIGHAND | CloneFlags::CLONE_VM;
                self.fork(host, caller, flags, set_tid, linux)
            }
            Call::NewHost => match Host::new(HostConfig::default()) {
                Ok(new) => {
                    self.tasks.push((self.hosts.len(), new.init()));
                    self.hosts.push(new);
                    Outcome::Done
                }
                Err(e) => errno_outcome(e),
            },
            Call::Checkpoint { pid } => {
                let h = &self.hosts[host];
                let vps = h
                    .lookup(caller, *pid)
                    .and_then(|init| Ok((init, h.vps_of(init)?.ok_or(Errno::EINVAL)?)))
                    .and_then(|(init, id)| {
                        if h.vps_init(id)? == init {
                            Ok(id)
                        } else {
                            Err(Errno::EINVAL)
                        }
                    });
                let image = vps
                    .map_err(CheckpointError::from)
                    .and_then(|id| h.checkpoint_image(id));
                match image {
                    Ok(image) => {
                        self.images.push(image);
                        Outcome::Done
                    }
                    Err(CheckpointError::Errno(e)) => errno_outcome(e),
                    Err(_) => errno_outcome(Errno::EINVAL),
                }
            }
            Call::Restore { image, .. } => {
                let Some(dump) = self.images.get(*image) else {
                    return errno_outcome(Errno::EINVAL);
                };
                let id = VpsId(FIRST_VPS_ID + self.vps_created);
                let h = &self.hosts[host];
                match h.restore_image(dump, id) {
                    Ok(init) => {
                        self.vps_created += 1;
                        let tasks = h.ps(Viewer::Task(init)).unwrap_or_default();
                        *linux = Call::Restore {
                            image: *image,
                            pids: tasks
                                .iter()
                                .map(|e| (e.pid, e.task.real().as_raw()))
                                .collect(),
                            orphans: orphan_ids(h, &tasks),
                        };
                        self.tasks.extend(tasks.iter().map(|e| (host, e.task)));
                        value(h.pid_of(Viewer::Task(caller), init))
                    }
                    Err(RestoreError::Errno(e)) => errno_outcome(e),
                    Err(_) => errno_outcome(Errno::EINVAL),
                }
            }
            Call::Exit { code } => done(self.hosts[host].exit(caller, *code)),
            Call::Setsid => value(self.hosts[host].setsid(caller)),
            Call::Setpgid { pid, pgid } => done(self.hosts[host].setpgid(caller, *pid, *pgid)),
            Call::Getpgid { pid } => value(self.hosts[host].getpgid(caller, *pid)),
            Call::Getsid { pid } => value(self.hosts[host].getsid(caller, *pid)),
            Call::Sigaction { sig, disposition } => self.hosts[host]
                .sigaction(
                    caller,
                    vps::Signal(*sig),
                    disposition_to_model(*disposition),
                )
                .map_or_else(errno_outcome, |old| {
                    Outcome::Previous(disposition_from_model(old))
                }),
            Call::Kill { pid, sig } => done(self.hosts[host].kill(caller, *pid, vps::Signal(*sig))),
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
                match self.hosts[host].waitpid(caller, *pid, options) {
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

    /// A fork or a thread: on Linux, made with the PIDs the model gave.
    fn fork(
        &mut self,
        host: usize,
        caller: TaskRef,
        flags: CloneFlags,
        set_tid: &[i32],
        linux: &mut Call,
    ) -> Outcome {
        let h = &self.hosts[host];
        let chosen = set_tid.first().copied();
        match h.fork(caller, flags, chosen) {
            Ok(forked) => {
                self.tasks.push((host, forked.child));
                let real = forked.child.real().as_raw();
                let in_vps = h.vps_of(caller).ok().flatten().is_some();
                let set_tid = if in_vps {
                    vec![forked.pid, real]
                } else {
                    vec![real]
                };
                *linux = if flags.contains(CloneFlags::CLONE_THREAD) {
                    Call::Thread { set_tid }
                } else {
                    Call::Fork {
                        set_tid,
                        new_namespace: false,
                        numproc: None,
                        clone_parent: flags.contains(CloneFlags::CLONE_PARENT),
                    }
                };
                Outcome::Value(forked.pid)
            }
            Err(e) => errno_outcome(e),
        }
    }

    fn ids(&self, (host, task): (usize, TaskRef)) -> Option<Ids> {
        let h = &self.hosts[host];
        Some(Ids {
            pid: h.getpid(task).ok()?,
            ppid: h.getppid(task).ok()?,
            pgid: h.getpgid(task, 0).ok()?,
            sid: h.getsid(task, 0).ok()?,
        })
    }

    fn snapshot(&self) -> Vec<(Actor, Seen)> {
        let live = self.live_tasks();
        let stopped = self.tasks_where(|state| state == TaskState::Stopped);
        self.actors()
            .map(|actor| {
                let seen = match self.located(actor) {
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
