//! Turns a `vpsctl` scenario (its parsed [`Script`]) into the steps this
//! crate runs on both sides.
//!
//! A script names tasks by name (`fork web in 101`) or by number
//! (`101:1025`, `0:2`); the steps name them by [`Actor`]. The numbers a task
//! has are known only once the model has forked it, so the script is turned
//! into steps while it runs on the model, statement by statement.
//!
//! Not every statement has a Linux counterpart. Statements that only look at
//! the model (`ps`, `state`, `count`, `echo`, ...) are passed over, and
//! `getpid`/`getppid` are already observed after every step. The first
//! statement that cannot be run on real processes ends the conversion, and
//! the steps before it are compared: several hosts, `destroy`, `enter`,
//! checkpoint and restore, a VPS process limit (`numproc`), threads and
//! `clone_parent`.

use std::collections::HashMap;
use std::fmt;

use vpid_core::WaitOptions;
use vpsctl::scenario::{self as ast, Op, PidArg, Query, Script, StatementKind, TaskSpec};

use crate::model::{ModelError, ModelRun};
use crate::protocol::{Actor, Call, Disposition, Outcome, Plan, Seen, Step};

/// A statement that has no counterpart on real processes.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Unsupported {
    /// Its line in the script.
    pub line: usize,
    /// The statement as written.
    pub text: String,
    /// Why it cannot be run.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} `{}`: {}", self.line, self.text, self.reason)
    }
}

/// A script turned into steps.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The steps (the model has run them once already, to name tasks).
    pub plan: Plan,
    /// How many statements were turned into steps or passed over.
    pub statements_used: usize,
    /// How many statements the script has.
    pub statements_total: usize,
    /// The statement that ended the conversion early, if one did.
    pub stopped_at: Option<Unsupported>,
}

/// Turns a script into steps, as far as it can.
///
/// # Errors
/// [`ModelError`] if the model cannot start.
pub fn from_script(script: &Script) -> Result<Converted, ModelError> {
    let mut converter = Converter {
        run: ModelRun::new()?,
        steps: Vec::new(),
        names: HashMap::new(),
        inits: HashMap::new(),
        vps_of: HashMap::new(),
        vpids: HashMap::new(),
    };
    let mut used = 0;
    let mut stopped_at = None;
    for (index, statement) in script.statements.iter().enumerate() {
        let op = match &statement.kind {
            StatementKind::Do(op) | StatementKind::Expect { op, .. } => op,
        };
        if let Err(reason) = converter.statement(op, index == 0) {
            stopped_at = Some(Unsupported {
                line: statement.line,
                text: statement.text.clone(),
                reason,
            });
            break;
        }
        used += 1;
    }
    Ok(Converted {
        plan: Plan::new(converter.steps),
        statements_used: used,
        statements_total: script.statements.len(),
        stopped_at,
    })
}

/// The conversion's state: the model run, and what the script's names and
/// numbers stand for.
struct Converter {
    run: ModelRun,
    steps: Vec<Step>,
    names: HashMap<String, Actor>,
    /// The current init of each VPS the script created.
    inits: HashMap<u32, Actor>,
    /// The VPS of each task (none for the host's tasks).
    vps_of: HashMap<Actor, u32>,
    /// The last virtual PID each VPS task was seen with.
    vpids: HashMap<Actor, i32>,
}

type Why = String;

fn disposition(d: ast::Disposition) -> Disposition {
    match d {
        ast::Disposition::Default => Disposition::Default,
        ast::Disposition::Ignore => Disposition::Ignore,
        ast::Disposition::Handler => Disposition::Handler,
    }
}

impl Converter {
    /// Converts and runs one statement's operation.
    fn statement(&mut self, op: &Op, first: bool) -> Result<(), Why> {
        let step = match op {
            Op::Host { pid_max: None, .. } if first => return Ok(()),
            Op::Host { .. } => return Err("several hosts, or a host's pid_max".into()),
            Op::Create {
                vps,
                numproc,
                init,
                caller,
            } => return self.create(*vps, *numproc, init.as_deref(), caller),
            Op::Fork {
                name,
                parent,
                chosen,
                flags,
            } => {
                if !flags.is_empty() {
                    return Err("threads and clone flags".into());
                }
                let parent = self.actor(parent)?;
                let step = Step {
                    actor: parent,
                    call: Call::Fork {
                        set_tid: chosen.iter().copied().collect(),
                        new_namespace: false,
                    },
                };
                if let Some(child) = self.apply(step) {
                    if let Some(vps) = self.vps_of.get(&parent).copied() {
                        self.vps_of.insert(child, vps);
                    }
                    if let Some(name) = name {
                        self.names.insert(name.clone(), child);
                    }
                }
                return Ok(());
            }
            Op::Exit { task, code } => Step {
                actor: self.actor(task)?,
                call: Call::Exit { code: *code },
            },
            Op::Kill {
                target,
                signal,
                caller,
            } => {
                let actor = self.actor(caller)?;
                Step {
                    actor,
                    call: Call::Kill {
                        pid: self.pid_arg(actor, target)?,
                        sig: *signal,
                    },
                }
            }
            Op::Waitpid {
                caller,
                pid,
                options,
            } => {
                let known = WaitOptions::WNOHANG
                    .union(WaitOptions::WUNTRACED)
                    .union(WaitOptions::WCONTINUED);
                if !known.contains(*options) {
                    return Err("wait options other than WNOHANG, WUNTRACED, WCONTINUED".into());
                }
                let actor = self.actor(caller)?;
                Step {
                    actor,
                    call: Call::Wait {
                        pid: self.pid_arg(actor, pid)?,
                        nohang: options.contains(WaitOptions::WNOHANG),
                        untraced: options.contains(WaitOptions::WUNTRACED),
                        continued: options.contains(WaitOptions::WCONTINUED),
                    },
                }
            }
            Op::Setpgid { caller, pid, pgid } => {
                let actor = self.actor(caller)?;
                Step {
                    actor,
                    call: Call::Setpgid {
                        pid: self.pid_arg(actor, pid)?,
                        pgid: self.pid_arg(actor, pgid)?,
                    },
                }
            }
            Op::Setsid { task } => Step {
                actor: self.actor(task)?,
                call: Call::Setsid,
            },
            Op::Sigaction {
                task,
                signal,
                disposition: d,
            } => Step {
                actor: self.actor(task)?,
                call: Call::Sigaction {
                    sig: *signal,
                    disposition: disposition(*d),
                },
            },
            Op::Let { name, task } => {
                let actor = self.actor(task)?;
                self.names.insert(name.clone(), actor);
                return Ok(());
            }
            Op::Query(Query::Getpgid(task, pid)) => {
                let actor = self.actor(task)?;
                Step {
                    actor,
                    call: Call::Getpgid {
                        pid: self.pid_arg(actor, pid)?,
                    },
                }
            }
            Op::Query(Query::Getsid(task, pid)) => {
                let actor = self.actor(task)?;
                Step {
                    actor,
                    call: Call::Getsid {
                        pid: self.pid_arg(actor, pid)?,
                    },
                }
            }
            // Observed after every step, or views of the model only.
            Op::Query(_) | Op::Ps { .. } | Op::Show { .. } | Op::Echo { .. } => return Ok(()),
            Op::Destroy { .. } => return Err("destroy".into()),
            Op::Enter { .. } => return Err("enter".into()),
            Op::Checkpoint { .. } | Op::Restore { .. } => {
                return Err("checkpoint and restore".into());
            }
        };
        self.apply(step);
        Ok(())
    }

    fn create(
        &mut self,
        vps: u32,
        numproc: Option<u32>,
        init: Option<&str>,
        caller: &TaskSpec,
    ) -> Result<(), Why> {
        if numproc.is_some() {
            return Err("a VPS process limit (numproc)".into());
        }
        if self.actor(caller)? != Actor::Host {
            return Err("a VPS created by a task other than the host's init".into());
        }
        let step = Step {
            actor: Actor::Host,
            call: Call::Fork {
                set_tid: Vec::new(),
                new_namespace: true,
            },
        };
        if let Some(child) = self.apply(step) {
            self.inits.insert(vps, child);
            self.vps_of.insert(child, vps);
            if let Some(name) = init {
                self.names.insert(name.to_owned(), child);
            }
        }
        Ok(())
    }

    /// Runs a step on the model and keeps it; the new task, if it forked
    /// one.
    fn apply(&mut self, step: Step) -> Option<Actor> {
        let tasks_before = self.run.actors().count();
        let observation = self.run.apply(&step);
        self.steps.push(step);
        for (actor, seen) in &observation.processes {
            if let Seen::Alive(ids) = seen {
                self.vpids.insert(*actor, ids.pid);
            }
        }
        let tasks_after = self.run.actors().count();
        match observation.outcome {
            Outcome::Value(_) if tasks_after > tasks_before => Some(Actor::Task(tasks_after - 2)),
            _ => None,
        }
    }

    /// The task a script names.
    fn actor(&self, spec: &TaskSpec) -> Result<Actor, Why> {
        match spec {
            TaskSpec::Name(name) => self
                .names
                .get(name)
                .copied()
                .ok_or_else(|| format!("no task is named {name}")),
            TaskSpec::Pid { vps: 0, pid: 1 } => Ok(Actor::Host),
            TaskSpec::Pid { vps: 0, pid } => self
                .run
                .actors()
                .filter(|a| *a != Actor::Host)
                .filter(|a| self.run.real_pid(*a) == Some(*pid))
                .last()
                .ok_or_else(|| format!("no task has real PID {pid}")),
            TaskSpec::Pid { vps, pid: 1 } => self
                .inits
                .get(vps)
                .copied()
                .ok_or_else(|| format!("no VPS {vps}")),
            TaskSpec::Pid { vps, pid } => self
                .run
                .actors()
                .filter(|a| self.vps_of.get(a) == Some(vps) && self.vpids.get(a) == Some(pid))
                .last()
                .ok_or_else(|| format!("no task {vps}:{pid}")),
        }
    }

    /// A task's PID in the numbers `caller` sees: virtual in a VPS, real on
    /// the host.
    fn pid_in_view(&self, caller: Actor, task: Actor) -> Result<i32, Why> {
        if self.vps_of.contains_key(&caller) {
            self.vpids
                .get(&task)
                .copied()
                .ok_or_else(|| format!("{task} has no virtual PID"))
        } else {
            self.run
                .real_pid(task)
                .ok_or_else(|| format!("{task} has no real PID"))
        }
    }

    fn pid_arg(&self, caller: Actor, arg: &PidArg) -> Result<i32, Why> {
        match arg {
            PidArg::Raw(pid) => Ok(*pid),
            PidArg::Task(spec) => self.pid_in_view(caller, self.actor(spec)?),
            PidArg::Group(spec) => Ok(-self.pid_in_view(caller, self.actor(spec)?)?),
        }
    }
}
