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
//! the steps before it are compared: a host's `pid_max`, `destroy`,
//! `enter`, clone flags other than `thread` and `clone_parent` alone, and a
//! restore of an image the script did not make.
//!
//! A few statements fail in the model on the manager's own bookkeeping
//! before any system call: a VPS ID already in use on the host (`create`,
//! `restore ... as`), a process limit of 0. Linux has no VPS IDs and no
//! such check, so these have no Linux step; they are passed over and
//! listed in [`Converted::manager_checks`].

use std::collections::HashMap;
use std::fmt;

use vpid_core::{CloneFlags, WaitOptions};
use vpsctl::exec::FIRST_HOST;
use vpsctl::scenario::{self as ast, Op, PidArg, Query, Script, StatementKind, TaskSpec};

use crate::model::{ModelError, ModelRun};
use crate::protocol::{Actor, Call, Disposition, Outcome, Plan, Step};

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
    /// The statements the manager refuses before any system call (see the
    /// module's documentation), passed over.
    pub manager_checks: Vec<Unsupported>,
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
        hosts: HashMap::from([(FIRST_HOST.to_owned(), Actor::Host)]),
        current_host: Actor::Host,
        host_of: HashMap::new(),
        inits: HashMap::new(),
        vps_of: HashMap::new(),
        vpids: HashMap::new(),
        images: HashMap::new(),
        checkpoints: 0,
    };
    let mut used = 0;
    let mut stopped_at = None;
    let mut manager_checks = Vec::new();
    for (index, statement) in script.statements.iter().enumerate() {
        let op = match &statement.kind {
            StatementKind::Do(op) | StatementKind::Expect { op, .. } => op,
        };
        let unsupported = |reason| Unsupported {
            line: statement.line,
            text: statement.text.clone(),
            reason,
        };
        match converter.statement(op, index == 0) {
            Ok(Converted_::Run) => {}
            Ok(Converted_::ManagerCheck(reason)) => manager_checks.push(unsupported(reason)),
            Err(reason) => {
                stopped_at = Some(unsupported(reason));
                break;
            }
        }
        used += 1;
    }
    Ok(Converted {
        plan: Plan::new(converter.steps),
        statements_used: used,
        statements_total: script.statements.len(),
        stopped_at,
        manager_checks,
    })
}

/// What became of a statement that could be converted.
enum Converted_ {
    /// Its steps (if any) are in the plan.
    Run,
    /// The manager refuses it before any system call: no Linux step.
    ManagerCheck(String),
}

/// The conversion's state: the model run, and what the script's names and
/// numbers stand for.
struct Converter {
    run: ModelRun,
    steps: Vec<Step>,
    names: HashMap<String, Actor>,
    /// Each host by its name in the script: its init.
    hosts: HashMap<String, Actor>,
    /// The init of the host the script is on.
    current_host: Actor,
    /// The host (its init) of every task not on the first host.
    host_of: HashMap<Actor, Actor>,
    /// The init of each VPS the script created or restored, by host (its
    /// init) and VPS ID.
    inits: HashMap<(Actor, u32), Actor>,
    /// The VPS of each task (none for the host's tasks).
    vps_of: HashMap<Actor, u32>,
    /// The virtual ID of each VPS task: a process's PID, a thread's TID.
    vpids: HashMap<Actor, i32>,
    /// The images the script's checkpoints wrote: which checkpoint of the
    /// run each file holds.
    images: HashMap<std::path::PathBuf, usize>,
    /// How many checkpoints have succeeded in the model.
    checkpoints: usize,
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
    fn statement(&mut self, op: &Op, first: bool) -> Result<Converted_, Why> {
        let step = match op {
            Op::Host {
                pid_max: Some(_), ..
            } => return Err("a host's pid_max".into()),
            Op::Host { name, .. } => {
                if first {
                    // vpsctl's first host stays unused: this one is the same.
                    self.hosts.insert(name.clone(), Actor::Host);
                }
                self.switch_host(name);
                return Ok(Converted_::Run);
            }
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
                let set_tid = chosen.iter().copied().collect();
                let call = if *flags == CloneFlags::CLONE_THREAD {
                    Call::Thread { set_tid }
                } else if flags.is_empty() || *flags == CloneFlags::CLONE_PARENT {
                    Call::Fork {
                        set_tid,
                        new_namespace: false,
                        numproc: None,
                        clone_parent: !flags.is_empty(),
                    }
                } else {
                    return Err("clone flags other than CLONE_THREAD or CLONE_PARENT".into());
                };
                let parent = self.actor(parent)?;
                let created = self.apply(Step {
                    actor: parent,
                    call,
                });
                if let Some(&child) = created.first() {
                    if let Some(vps) = self.vps_of.get(&parent).copied() {
                        self.vps_of.insert(child, vps);
                    }
                    if let Some(name) = name {
                        self.names.insert(name.clone(), child);
                    }
                }
                return Ok(Converted_::Run);
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
                return Ok(Converted_::Run);
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
            Op::Query(_) | Op::Ps { .. } | Op::Show { .. } | Op::Echo { .. } => {
                return Ok(Converted_::Run);
            }
            Op::Destroy { .. } => return Err("destroy".into()),
            Op::Enter { .. } => return Err("enter".into()),
            Op::Checkpoint { vps, file } => return self.checkpoint(*vps, file),
            Op::Restore { file, as_vps } => return self.restore(file, *as_vps),
        };
        self.apply(step);
        Ok(Converted_::Run)
    }

    /// Whether the VPS the script calls `vps` on `host` still exists in the
    /// model (until its init is reaped, even while it dies).
    fn vps_exists(&self, host: Actor, vps: u32) -> bool {
        self.inits.get(&(host, vps)).is_some_and(|&init| {
            let task = self.run.task(init);
            let on = self.run.host_of(init);
            matches!((task, on), (Some(task), Some(on)) if matches!(on.vps_of(task), Ok(Some(_))))
        })
    }

    /// `host NAME`: switches to the host, creating it if it is new.
    fn switch_host(&mut self, name: &str) {
        if let Some(&init) = self.hosts.get(name) {
            self.current_host = init;
            return;
        }
        let created = self.apply(Step {
            actor: Actor::Host,
            call: Call::NewHost,
        });
        if let Some(&init) = created.first() {
            self.hosts.insert(name.to_owned(), init);
            self.host_of.insert(init, init);
            self.current_host = init;
        }
    }

    fn checkpoint(&mut self, vps: u32, file: &std::path::Path) -> Result<Converted_, Why> {
        let Some(&init) = self.inits.get(&(self.current_host, vps)) else {
            return Ok(Converted_::ManagerCheck(format!(
                "no VPS {vps} on this host"
            )));
        };
        let pid = self.pid_in_view(self.current_host, init)?;
        let step = Step {
            actor: self.current_host,
            call: Call::Checkpoint { pid },
        };
        self.apply(step);
        if self.run.observed().last().map(|o| o.outcome) == Some(Outcome::Done) {
            self.images.insert(file.to_owned(), self.checkpoints);
            self.checkpoints += 1;
        }
        Ok(Converted_::Run)
    }

    fn restore(&mut self, file: &std::path::Path, as_vps: u32) -> Result<Converted_, Why> {
        let Some(&image) = self.images.get(file) else {
            return Err("an image this script did not make".into());
        };
        if self.vps_exists(self.current_host, as_vps) {
            return Ok(Converted_::ManagerCheck(format!(
                "VPS {as_vps} exists on this host (EEXIST)"
            )));
        }
        let host = self.current_host;
        let created = self.apply(Step {
            actor: host,
            call: Call::Restore {
                image,
                pids: Vec::new(),
                orphans: Vec::new(),
            },
        });
        // The restored tasks come in the order of their virtual IDs: the
        // init first.
        for &actor in &created {
            self.vps_of.insert(actor, as_vps);
        }
        if let Some(&init) = created.first() {
            self.inits.insert((host, as_vps), init);
        }
        Ok(Converted_::Run)
    }

    fn create(
        &mut self,
        vps: u32,
        numproc: Option<u32>,
        init: Option<&str>,
        caller: &TaskSpec,
    ) -> Result<Converted_, Why> {
        let host = self.current_host;
        if self.actor(caller)? != host {
            return Err("a VPS created by a task other than the host's init".into());
        }
        if self.vps_exists(host, vps) {
            return Ok(Converted_::ManagerCheck(format!(
                "VPS {vps} exists on this host (EEXIST)"
            )));
        }
        if numproc == Some(0) {
            return Ok(Converted_::ManagerCheck(
                "a process limit of 0 (EINVAL)".into(),
            ));
        }
        let step = Step {
            actor: host,
            call: Call::Fork {
                set_tid: Vec::new(),
                new_namespace: true,
                numproc,
                clone_parent: false,
            },
        };
        if let Some(&child) = self.apply(step).first() {
            self.inits.insert((host, vps), child);
            self.vps_of.insert(child, vps);
            if let Some(name) = init {
                self.names.insert(name.to_owned(), child);
            }
        }
        Ok(Converted_::Run)
    }

    /// Runs a step on the model and keeps it; the tasks it created, in
    /// actor order.
    fn apply(&mut self, step: Step) -> Vec<Actor> {
        let tasks_before = self.run.actors().count();
        self.run.apply(&step);
        let created: Vec<Actor> = self.run.actors().skip(tasks_before).collect();
        if let Some(host) = self.host_of.get(&step.actor).copied() {
            for &actor in &created {
                self.host_of.entry(actor).or_insert(host);
            }
        }
        // The virtual IDs the model gave, as its Linux step carries them.
        match self.run.linux_steps().last().map(|s| &s.call) {
            Some(Call::Fork { set_tid, .. } | Call::Thread { set_tid }) if set_tid.len() == 2 => {
                if let Some(&child) = created.first() {
                    self.vpids.insert(child, set_tid[0]);
                }
            }
            Some(Call::Restore { pids, .. }) => {
                for (&actor, &(vpid, _)) in created.iter().zip(pids) {
                    self.vpids.insert(actor, vpid);
                }
            }
            _ => {}
        }
        self.steps.push(step);
        created
    }

    /// The task a script names.
    fn actor(&self, spec: &TaskSpec) -> Result<Actor, Why> {
        let host = self.current_host;
        let here = |a: &Actor| self.host_of.get(a).copied().unwrap_or(Actor::Host) == host;
        match spec {
            TaskSpec::Name(name) => self
                .names
                .get(name)
                .copied()
                .ok_or_else(|| format!("no task is named {name}")),
            TaskSpec::Pid { vps: 0, pid: 1 } => Ok(host),
            TaskSpec::Pid { vps: 0, pid } => self
                .run
                .actors()
                .filter(|a| *a != host && here(a))
                .filter(|a| self.run.real_pid(*a) == Some(*pid))
                .last()
                .ok_or_else(|| format!("no task has real PID {pid}")),
            TaskSpec::Pid { vps, pid: 1 } => self
                .inits
                .get(&(host, *vps))
                .copied()
                .ok_or_else(|| format!("no VPS {vps}")),
            TaskSpec::Pid { vps, pid } => self
                .run
                .actors()
                .filter(|a| here(a) && self.vps_of.get(a) == Some(vps))
                .filter(|a| self.vpids.get(a) == Some(pid))
                .last()
                .ok_or_else(|| format!("no task {vps}:{pid}")),
        }
    }

    /// A task's PID in the numbers `caller` sees: virtual in a VPS, real on
    /// the host.
    fn pid_in_view(&self, caller: Actor, task: Actor) -> Result<i32, Why> {
        if self.vps_of.contains_key(&caller) && self.vps_of.contains_key(&task) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(text: &str) -> Converted {
        let script = vpsctl::scenario::parse_script("test", text).expect("parses");
        from_script(&script).expect("the model starts")
    }

    #[test]
    fn a_taken_vps_id_is_a_manager_check_until_the_vps_is_gone() {
        let converted = convert(
            "create 101 init a
             expect create 101 fails EEXIST
             kill a SIGKILL
             expect create 101 fails EEXIST
             expect waitpid host a == 2 signaled SIGKILL
             create 101 init b
             expect create 101 fails EEXIST
             expect create 102 numproc 0 fails EINVAL",
        );
        assert_eq!(converted.stopped_at, None);
        let lines: Vec<usize> = converted.manager_checks.iter().map(|c| c.line).collect();
        assert_eq!(lines, vec![2, 4, 7, 8]);
        // The two creates, the kill and the wait are steps.
        let creates = converted
            .plan
            .steps
            .iter()
            .filter(|s| {
                matches!(
                    s.call,
                    Call::Fork {
                        new_namespace: true,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(creates, 2);
        assert_eq!(converted.plan.steps.len(), 4);
    }

    #[test]
    fn threads_hosts_and_restores_become_steps() {
        let converted = convert(
            "host a
             create 101 init v
             fork t from v thread
             checkpoint 101 to x.img
             host b
             restore x.img as 101
             expect restore x.img as 101 fails EEXIST
             host a",
        );
        assert_eq!(converted.stopped_at, None);
        let calls: Vec<String> = converted
            .plan
            .steps
            .iter()
            .map(|s| s.call.to_string())
            .collect();
        assert_eq!(
            calls,
            vec![
                "create-vps()",
                "thread()",
                "checkpoint(2)",
                "new-host()",
                "restore(image 0, 0 tasks)",
            ]
        );
        assert_eq!(converted.manager_checks.len(), 1);
    }
}
