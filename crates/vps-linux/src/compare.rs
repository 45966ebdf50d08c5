//! The comparison of a model run with a Linux run, step by step, number by
//! number, and the table of the known differences: the deliberate ones
//! between OpenVZ semantics (the model's) and Linux PID namespaces, and the
//! model's open bugs that this comparison has found.
//!
//! A difference that a [`KnownDifference`] explains is *tolerated* and
//! reported as such; every other one is *unexplained*: a bug in the model
//! (or in this crate). The comparison stops at the first step with an
//! unexplained difference, or with a known one that makes the two runs go
//! different ways (a process alive on one side and dead or absent on the
//! other), since the states no longer correspond after it.

use std::collections::BTreeSet;
use std::fmt;

use crate::protocol::{Actor, Call, Disposition, Ids, Outcome, Plan, Seen, Step, StepObservation};

/// Where a known difference comes from.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Origin {
    /// OpenVZ and Linux differ, and the model follows OpenVZ on purpose.
    Deliberate,
    /// The model differs from both OpenVZ and Linux: a bug this comparison
    /// found, tolerated (and counted apart) only so that the rest of each
    /// scenario is still compared until it is fixed.
    ModelBug,
    /// OpenVZ and Linux agree; the model leaves the rule out on purpose
    /// (`docs/semantics.md`, "Where we follow OpenVZ, where Linux").
    NotModelled,
}

/// A known difference between the model and Linux.
#[derive(Debug, Eq, PartialEq)]
pub struct KnownDifference {
    /// A short name, used in reports and in `docs/semantics.md`.
    pub name: &'static str,
    /// Deliberate, or an open model bug.
    pub origin: Origin,
    /// What OpenVZ (and the model) does.
    pub openvz: &'static str,
    /// What Linux does.
    pub linux: &'static str,
}

/// The VPS init's process group and session.
pub const INIT_GROUP: KnownDifference = KnownDifference {
    name: "init-group",
    origin: Origin::Deliberate,
    openvz: "the VPS init is made leader of its own group and session at creation: \
             getpgid and getsid say 1 in the VPS, for it and for the children it forks",
    linux: "a namespace init keeps its parent's group and session, which are outside \
            the namespace: getpgid and getsid say 0 until it calls setsid",
};

/// `setsid` by the VPS init.
pub const INIT_SETSID: KnownDifference = KnownDifference {
    name: "init-setsid",
    origin: Origin::Deliberate,
    openvz: "setsid by the VPS init fails with EPERM: it already leads its session",
    linux: "setsid by a namespace init succeeds and returns 1",
};

/// A host signal to the VPS init, with the default disposition.
pub const HOST_SIGNAL_TO_INIT: KnownDifference = KnownDifference {
    name: "host-signal-to-init",
    origin: Origin::Deliberate,
    openvz: "a signal from the host reaches the VPS init whatever its disposition: \
             with the default one SIGTERM, SIGHUP or SIGUSR1 kill it, and the VPS with it; \
             SIGTSTP stops it",
    linux: "a namespace init drops a signal with the default disposition unless it is \
            SIGKILL or SIGSTOP, even from an ancestor namespace",
};

/// `kill(-1)` from the host.
pub const HOST_KILL_ALL: KnownDifference = KnownDifference {
    name: "host-kill-all",
    origin: Origin::Deliberate,
    openvz: "kill(-1) from the host skips every VPS init (their virtual PID is 1)",
    linux: "kill(-1) reaches every process with a PID above 1 in the caller's namespace, \
            the inits of the namespaces below included: SIGKILL ends the whole VPS, SIGSTOP \
            stops its init, and a \
            VPS whose init is its only process still counts as a target (no ESRCH)",
};

/// SIGCONT sent to the VPS init from inside its VPS.
pub const INIT_SIGCONT: KnownDifference = KnownDifference {
    name: "init-sigcont",
    origin: Origin::Deliberate,
    openvz: "a SIGCONT sent to a stopped VPS init from inside its VPS is dropped whole \
             unless the init has a handler (sig_ve_ignored is checked before the signal \
             is looked at): the init stays stopped",
    linux: "SIGCONT continues a stopped namespace init whoever sends it: the continuing \
            happens before the init's protection drops the signal itself",
};

/// A real PID used inside a VPS.
pub const REAL_PID_IN_VPS: KnownDifference = KnownDifference {
    name: "real-pid-in-vps",
    origin: Origin::Deliberate,
    openvz: "inside a VPS, a number without the marker bit is looked up as a real PID, \
             and names the task if it is in the same VPS: kill, getpgid, getsid and \
             waitpid reach it by its real PID",
    linux: "a namespace sees only its own numbers: a real PID means nothing inside \
            (ESRCH, ECHILD for waitpid)",
};

/// A chosen PID that is not a virtual one.
pub const CHOSEN_PID_CHECK: KnownDifference = KnownDifference {
    name: "chosen-pid-check",
    origin: Origin::Deliberate,
    openvz: "a chosen virtual PID must carry the marker bit, and 1 is only ever the \
             init's: any other number is EINVAL before it is looked up (OpenVZ trusted \
             its only caller, checkpoint restore; the model checks)",
    linux: "set_tid takes any number below pid_max: a taken one, 1 included, is EEXIST",
};

/// The orphaned process group rules.
pub const ORPHANED_PGRP: KnownDifference = KnownDifference {
    name: "orphaned-pgrp",
    origin: Origin::NotModelled,
    openvz: "the model has no orphaned-process-group rules (it has no terminals): \
             SIGTSTP, SIGTTIN and SIGTTOU stop a process whatever its group, and a \
             group left orphaned with stopped members stays stopped",
    linux: "SIGTSTP, SIGTTIN and SIGTTOU with the default disposition are discarded \
            in an orphaned process group (inside a VPS most groups are: the VPS init's \
            parent is in another session), and a group that becomes orphaned with a \
            stopped member gets SIGHUP and SIGCONT (OpenVZ 2.6.18 does the same)",
};

/// Every known difference.
pub const KNOWN_DIFFERENCES: [&KnownDifference; 8] = [
    &INIT_GROUP,
    &INIT_SETSID,
    &HOST_SIGNAL_TO_INIT,
    &HOST_KILL_ALL,
    &CHOSEN_PID_CHECK,
    &ORPHANED_PGRP,
    &INIT_SIGCONT,
    &REAL_PID_IN_VPS,
];

/// Whether a number is what the model accepts as a chosen virtual PID.
fn is_choosable_virtual(pid: i32) -> bool {
    pid > 1 && vpid_core::has_marker_bit(pid)
}

/// Which observation of a step differs.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Aspect {
    /// The call's outcome.
    Outcome,
    /// Whether a process runs, is stopped, or has exited.
    Liveness(Actor),
    /// Whether a process exists at all (was forked on that side).
    Presence(Actor),
    /// `getpid` of a process.
    Pid(Actor),
    /// `getppid` of a process.
    Ppid(Actor),
    /// `getpgid(0)` of a process.
    Pgid(Actor),
    /// `getsid(0)` of a process.
    Sid(Actor),
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aspect::Outcome => f.write_str("outcome"),
            Aspect::Liveness(a) => write!(f, "{a} state"),
            Aspect::Presence(a) => write!(f, "{a} exists"),
            Aspect::Pid(a) => write!(f, "{a} getpid"),
            Aspect::Ppid(a) => write!(f, "{a} getppid"),
            Aspect::Pgid(a) => write!(f, "{a} getpgid"),
            Aspect::Sid(a) => write!(f, "{a} getsid"),
        }
    }
}

/// One observation that differs between the two runs.
#[derive(Clone, Eq, PartialEq, Debug)]
pub struct Difference {
    /// The step's index in the scenario.
    pub step: usize,
    /// The step.
    pub call: Step,
    /// What differs.
    pub aspect: Aspect,
    /// The model's value.
    pub model: String,
    /// Linux's value.
    pub linux: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} ({}): {}: model {}, linux {}",
            self.step, self.call, self.aspect, self.model, self.linux
        )
    }
}

/// A difference that a known one explains.
#[derive(Clone, Debug)]
pub struct Tolerated {
    /// The difference.
    pub difference: Difference,
    /// What explains it.
    pub known: &'static KnownDifference,
}

/// The result of comparing two runs of one scenario.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// How many steps were compared.
    pub steps_compared: usize,
    /// Differences explained by a known one.
    pub tolerated: Vec<Tolerated>,
    /// Differences nothing explains.
    pub unexplained: Vec<Difference>,
    /// The step after which the comparison stopped early, and why.
    pub stopped: Option<(usize, Stop)>,
}

/// Why a comparison stopped before the scenario's end.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Stop {
    /// A known difference made the runs go different ways.
    Diverged(&'static KnownDifference),
    /// The step's effect on Linux depends on the scheduler: a process and
    /// one of its children were killed in the same step, and they die in
    /// whichever order they run. If the parent ignores SIGCHLD, Linux reaps
    /// the child at once when it dies first, and leaves it a zombie of the
    /// VPS init otherwise; if the child has children of its own, they join
    /// the VPS init's list of children (the order `waitpid(-1)` reports
    /// them in) before or after the parent's. The model takes one order;
    /// later steps may see the other.
    SchedulerRace,
}

impl Stop {
    /// A short name for reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Stop::Diverged(known) => known.name,
            Stop::SchedulerRace => "scheduler-race",
        }
    }
}

impl Comparison {
    /// Whether every difference is explained.
    #[must_use]
    pub fn is_explained(&self) -> bool {
        self.unexplained.is_empty()
    }
}

/// Whether a process runs, is stopped, or has exited.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
enum State {
    Running,
    Stopped,
    Exited,
}

impl State {
    fn of(seen: Seen) -> Self {
        match seen {
            Seen::Alive(_) => State::Running,
            Seen::Stopped => State::Stopped,
            Seen::Gone => State::Exited,
        }
    }
}

/// A field-level view of one observation, for comparing.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
enum Value {
    Outcome(Outcome),
    Number(i32),
    State(State),
    Present(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Outcome(o) => o.fmt(f),
            Value::Number(n) => n.fmt(f),
            Value::State(State::Running) => f.write_str("alive"),
            Value::State(State::Stopped) => f.write_str("stopped"),
            Value::State(State::Exited) => f.write_str("exited"),
            Value::Present(true) => f.write_str("present"),
            Value::Present(false) => f.write_str("absent (never forked)"),
        }
    }
}

/// One difference before it is explained.
#[derive(Copy, Clone, Debug)]
struct Raw {
    aspect: Aspect,
    model: Value,
    linux: Value,
}

fn seen_of(processes: &[(Actor, Seen)], actor: Actor) -> Option<Seen> {
    processes.iter().find(|(a, _)| *a == actor).map(|(_, s)| *s)
}

fn is_alive(processes: &[(Actor, Seen)], actor: Actor) -> bool {
    matches!(seen_of(processes, actor), Some(Seen::Alive(_)))
}

/// Whether two outcomes say the same thing. A caller that died in its own
/// call (it signalled itself) cannot answer on Linux; the model reports the
/// call's success and the caller's death, which is the same.
fn same_outcome(step: &Step, model: &StepObservation, linux: &StepObservation) -> bool {
    match (model.outcome, linux.outcome) {
        (m, l) if m == l => true,
        (Outcome::Done, Outcome::Unanswered) => !is_alive(&model.processes, step.actor),
        _ => false,
    }
}

fn ids_differences(actor: Actor, m: Ids, l: Ids, out: &mut Vec<Raw>) {
    let fields = [
        (Aspect::Pid(actor), m.pid, l.pid),
        (Aspect::Ppid(actor), m.ppid, l.ppid),
        (Aspect::Pgid(actor), m.pgid, l.pgid),
        (Aspect::Sid(actor), m.sid, l.sid),
    ];
    for (aspect, model, linux) in fields {
        if model != linux {
            out.push(Raw {
                aspect,
                model: Value::Number(model),
                linux: Value::Number(linux),
            });
        }
    }
}

fn raw_differences(step: &Step, model: &StepObservation, linux: &StepObservation) -> Vec<Raw> {
    let mut out = Vec::new();
    if !same_outcome(step, model, linux) {
        out.push(Raw {
            aspect: Aspect::Outcome,
            model: Value::Outcome(model.outcome),
            linux: Value::Outcome(linux.outcome),
        });
    }
    let mut actors: Vec<Actor> = model
        .processes
        .iter()
        .chain(&linux.processes)
        .map(|(a, _)| *a)
        .collect();
    actors.sort();
    actors.dedup();
    for actor in actors {
        match (
            seen_of(&model.processes, actor),
            seen_of(&linux.processes, actor),
        ) {
            (Some(Seen::Alive(m)), Some(Seen::Alive(l))) => ids_differences(actor, m, l, &mut out),
            (Some(m), Some(l)) if m == l => {}
            (Some(m), Some(l)) => out.push(Raw {
                aspect: Aspect::Liveness(actor),
                model: Value::State(State::of(m)),
                linux: Value::State(State::of(l)),
            }),
            (m, l) => out.push(Raw {
                aspect: Aspect::Presence(actor),
                model: Value::Present(m.is_some()),
                linux: Value::Present(l.is_some()),
            }),
        }
    }
    out
}

/// The inits of a run: the VPS inits (the tasks that successful
/// `create-vps` and `restore` steps made) with their real PIDs, and the
/// host inits.
#[derive(Debug)]
struct VpsInits {
    actors: Vec<Actor>,
    real_pids: Vec<i32>,
    hosts: Vec<Actor>,
}

impl VpsInits {
    fn of(plan: &Plan, model: &[StepObservation]) -> Self {
        let mut inits = VpsInits {
            actors: Vec::new(),
            real_pids: Vec::new(),
            hosts: vec![Actor::Host],
        };
        // The actors a step made are the ones its observation adds.
        let mut known = 1;
        for (step, observation) in plan.steps.iter().zip(model) {
            let made = observation.processes.get(known..).unwrap_or_default();
            let first_made = made.first().map(|(actor, _)| *actor);
            known = known.max(observation.processes.len());
            let Some(first_made) = first_made else {
                continue;
            };
            match &step.call {
                Call::Fork {
                    set_tid,
                    new_namespace: true,
                    ..
                } => {
                    inits.actors.push(first_made);
                    inits.real_pids.extend(set_tid.get(1));
                }
                Call::Restore { pids, .. } => {
                    inits.actors.push(first_made);
                    inits.real_pids.extend(pids.first().map(|&(_, real)| real));
                }
                Call::NewHost => inits.hosts.push(first_made),
                _ => {}
            }
        }
        inits
    }

    fn contains(&self, actor: Actor) -> bool {
        self.actors.contains(&actor)
    }

    /// Whether the actor is a host's init.
    fn is_host(&self, actor: Actor) -> bool {
        self.hosts.contains(&actor)
    }
}

/// The real PIDs the plan gives the VPS's tasks (a VPS task is made with a
/// virtual and a real ID).
fn vps_real_pids(plan: &Plan) -> Vec<i32> {
    plan.steps
        .iter()
        .flat_map(|step| match &step.call {
            Call::Fork { set_tid, .. } | Call::Thread { set_tid } if set_tid.len() == 2 => {
                vec![set_tid[1]]
            }
            Call::Restore { pids, .. } => pids.iter().map(|&(_, real)| real).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// What a step needs to know of its run to explain a difference.
#[derive(Copy, Clone, Debug)]
struct Context<'a> {
    step: &'a Step,
    /// The VPS inits; their real PIDs are their groups and sessions in the
    /// host's view.
    inits: &'a VpsInits,
    /// The real PIDs of the VPS's processes.
    vps_real_pids: &'a [i32],
    /// Whether, before the step, some process has been in group or session
    /// 1 in the model and in the host init's on Linux.
    group_split: bool,
    /// The dispositions and states the model's run has shown before the
    /// step.
    history: &'a History,
}

/// Tracks the processes that are, or were when they were last seen alive,
/// in group or session 1 in the model and in the host init's group or
/// session (invisible, 0) on Linux. A process seen alive and no longer split
/// (the VPS init after its setsid) leaves the set; one that died split stays
/// in it, since a zombie keeps its group and snapshots show only the living.
fn update_split(split: &mut BTreeSet<Actor>, model: &StepObservation, linux: &StepObservation) {
    for (actor, seen) in &model.processes {
        if let (Seen::Alive(m), Some(Seen::Alive(l))) = (seen, seen_of(&linux.processes, *actor)) {
            if (m.pgid == 1 && l.pgid == 0) || (m.sid == 1 && l.sid == 0) {
                split.insert(*actor);
            } else {
                split.remove(actor);
            }
        }
    }
}

/// A rule: the known difference that explains a raw difference at a step,
/// if it is this rule's.
type Rule = fn(Context<'_>, &Raw) -> Option<&'static KnownDifference>;

/// The rules, tried in order.
const RULES: [Rule; 12] = [
    real_pid_in_vps,
    init_group_ids,
    init_group_query,
    init_setsid,
    init_group_refused,
    init_group_membership,
    chosen_pid_check,
    host_signal_to_init,
    host_kill_all_esrch,
    init_sigcont,
    orphaned_pgrp,
    host_kill_all_reaches_init,
];

/// The known difference that explains `raw` at a step, if any.
fn explain(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    RULES.iter().find_map(|rule| rule(ctx, raw))
}

fn is_kill(step: &Step, wanted: impl Fn(i32, i32) -> bool) -> bool {
    matches!(step.call, Call::Kill { pid, sig } if wanted(pid, sig))
}

/// A VPS task names a task of its VPS by its real PID: found in the model,
/// not on Linux.
fn real_pid_in_vps(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    if ctx.inits.is_host(ctx.step.actor) {
        return None;
    }
    let by_real_pid = |pid: i32| pid > 1 && ctx.vps_real_pids.contains(&pid);
    let linux_failed = |errnos: &[i32]| matches!(raw.linux, Value::Outcome(Outcome::Failed(e)) if errnos.contains(&e));
    let explained = match ctx.step.call {
        Call::Kill { pid, .. } | Call::Wait { pid, .. } => {
            pid.checked_abs().is_some_and(by_real_pid) && linux_failed(&[libc::ESRCH, libc::ECHILD])
        }
        Call::Getpgid { pid } | Call::Getsid { pid } => {
            by_real_pid(pid) && linux_failed(&[libc::ESRCH])
        }
        // The target by its real PID: not found on Linux. The group by its
        // real ID: no such group in the caller's session on Linux.
        Call::Setpgid { pid, pgid } => {
            (by_real_pid(pid) && linux_failed(&[libc::ESRCH]))
                || (by_real_pid(pgid) && linux_failed(&[libc::EPERM]))
        }
        _ => false,
    };
    (explained && raw.aspect == Aspect::Outcome).then_some(&REAL_PID_IN_VPS)
}

/// The IDs a process sees: 1 in the model, 0 (the host init's, invisible)
/// on Linux.
fn init_group_ids(_: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    matches!(
        (raw.aspect, raw.model, raw.linux),
        (
            Aspect::Pgid(_) | Aspect::Sid(_),
            Value::Number(1),
            Value::Number(0)
        )
    )
    .then_some(&INIT_GROUP)
}

/// `getpgid`/`getsid` answer with the init's group in the model and the
/// host init's on Linux: 1 and 0 in the VPS, the init's real PID and 1 on
/// the host.
fn init_group_query(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    let step = ctx.step;
    if !matches!(step.call, Call::Getpgid { .. } | Call::Getsid { .. }) {
        return None;
    }
    let on_host = ctx.inits.is_host(step.actor);
    let init_group = |m: i32| {
        if on_host {
            ctx.inits.real_pids.contains(&m)
        } else {
            m == 1
        }
    };
    let host_group = if on_host { 1 } else { 0 };
    matches!(
        (raw.aspect, raw.model, raw.linux),
        (Aspect::Outcome, Value::Outcome(Outcome::Value(m)), Value::Outcome(Outcome::Value(l)))
            if init_group(m) && l == host_group
    )
    .then_some(&INIT_GROUP)
}

fn init_setsid(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    (ctx.inits.contains(ctx.step.actor)
        && ctx.step.call == Call::Setsid
        && matches!(
            (raw.aspect, raw.model, raw.linux),
            (
                Aspect::Outcome,
                Value::Outcome(Outcome::Failed(libc::EPERM)),
                Value::Outcome(Outcome::Value(1))
            )
        ))
    .then_some(&INIT_SETSID)
}

/// The model's VPS init leads its session and may not change groups;
/// Linux's could, and the agent refuses to let it (see
/// [`Outcome::Refused`]).
fn init_group_refused(_: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    matches!(
        (raw.aspect, raw.model, raw.linux),
        (
            Aspect::Outcome,
            Value::Outcome(Outcome::Failed(libc::EPERM)),
            Value::Outcome(Outcome::Refused)
        )
    )
    .then_some(&INIT_GROUP)
}

/// Some process has been in group or session 1 in the model and in the
/// host init's (invisible) on Linux, so group 1 and session 1 have other
/// members on the two sides: `kill(0)`, `waitpid(0)` and `setpgid` can find
/// different processes.
fn init_group_membership(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    let sensitive = matches!(
        ctx.step.call,
        Call::Kill { pid: 0, .. } | Call::Wait { pid: 0, .. } | Call::Setpgid { .. }
    );
    (sensitive && ctx.group_split && matches!(raw.aspect, Aspect::Outcome | Aspect::Liveness(_)))
        .then_some(&INIT_GROUP)
}

fn chosen_pid_check(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    let unchoosable = matches!(&ctx.step.call, Call::Fork { set_tid, .. }
        if set_tid.first().is_some_and(|&pid| !is_choosable_virtual(pid)));
    (unchoosable
        && matches!(
            (raw.aspect, raw.model, raw.linux),
            (
                Aspect::Outcome,
                Value::Outcome(Outcome::Failed(libc::EINVAL)),
                Value::Outcome(Outcome::Failed(libc::EEXIST))
            )
        ))
    .then_some(&CHOSEN_PID_CHECK)
}

/// Killed or stopped in the model, untouched on Linux, by a host signal
/// other than SIGKILL and SIGSTOP.
fn host_signal_to_init(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    let by_host = ctx.inits.is_host(ctx.step.actor)
        && is_kill(ctx.step, |_, sig| {
            ![0, libc::SIGKILL, libc::SIGSTOP].contains(&sig)
        });
    (by_host
        && matches!(
            (raw.aspect, raw.model, raw.linux),
            (
                Aspect::Liveness(actor),
                Value::State(State::Exited | State::Stopped),
                Value::State(State::Running)
            ) if ctx.inits.contains(actor)
        ))
    .then_some(&HOST_SIGNAL_TO_INIT)
}

fn host_kill_all_esrch(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    (ctx.inits.is_host(ctx.step.actor)
        && is_kill(ctx.step, |pid, _| pid == -1)
        && matches!(
            (raw.aspect, raw.model, raw.linux),
            (
                Aspect::Outcome,
                Value::Outcome(Outcome::Failed(libc::ESRCH)),
                Value::Outcome(Outcome::Done)
            )
        ))
    .then_some(&HOST_KILL_ALL)
}

/// Untouched in the model, killed or stopped on Linux, by `kill(-1)` from
/// the host.
fn host_kill_all_reaches_init(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    (ctx.inits.is_host(ctx.step.actor)
        && is_kill(ctx.step, |pid, sig| {
            pid == -1 && [libc::SIGKILL, libc::SIGSTOP].contains(&sig)
        })
        && matches!(
            (raw.aspect, raw.model, raw.linux),
            (
                Aspect::Liveness(actor),
                Value::State(State::Running),
                Value::State(State::Exited | State::Stopped)
            ) if ctx.inits.contains(actor)
        ))
    .then_some(&HOST_KILL_ALL)
}

/// Still stopped in the model, continued on Linux, by a SIGCONT from inside.
fn init_sigcont(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    (!ctx.inits.is_host(ctx.step.actor)
        && is_kill(ctx.step, |_, sig| sig == libc::SIGCONT)
        && matches!(
            (raw.aspect, raw.model, raw.linux),
            (
                Aspect::Liveness(actor),
                Value::State(State::Stopped),
                Value::State(State::Running)
            ) if ctx.inits.contains(actor)
        ))
    .then_some(&INIT_SIGCONT)
}

/// Stopped in the model only: a terminal stop signal discarded in an
/// orphaned group, or a group orphaned with stopped members, continued (and
/// sent SIGHUP) on Linux; or a member of such a group killed by that SIGHUP.
fn orphaned_pgrp(ctx: Context<'_>, raw: &Raw) -> Option<&'static KnownDifference> {
    let orphaning = matches!(ctx.step.call, Call::Exit { .. } | Call::Kill { .. });
    let stopped_jobs = ctx
        .history
        .before
        .iter()
        .any(|(_, seen)| *seen == Seen::Stopped);
    let (Aspect::Liveness(actor), Value::State(model), Value::State(linux)) =
        (raw.aspect, raw.model, raw.linux)
    else {
        return None;
    };
    if model == State::Running {
        let hung_up = linux == State::Exited
            && orphaning
            && stopped_jobs
            && ctx.history.disposition(actor, libc::SIGHUP) == Disposition::Default;
        return hung_up.then_some(&ORPHANED_PGRP);
    }
    if model != State::Stopped {
        return None;
    }
    let terminal_stop = [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];
    let discarded = linux == State::Running
        && is_kill(ctx.step, |_, sig| {
            terminal_stop.contains(&sig)
                && ctx.history.disposition(actor, sig) == Disposition::Default
        });
    let was_stopped = seen_of(&ctx.history.before, actor) == Some(Seen::Stopped);
    (linux != State::Stopped && (discarded || (was_stopped && orphaning))).then_some(&ORPHANED_PGRP)
}

/// Whether a (tolerated) difference leaves the two runs in states that no
/// longer correspond: a process alive or present on one side only, or a
/// call that changed something on one side and not on the other. The VPS
/// init's `setsid` is the exception: on Linux it brings the init to where
/// the model has it from the start.
fn makes_runs_diverge(step: &Step, raw: &Raw, inits: &VpsInits) -> bool {
    match (raw.aspect, raw.model, raw.linux) {
        (Aspect::Liveness(_) | Aspect::Presence(_), _, _) => true,
        (Aspect::Outcome, Value::Outcome(m), Value::Outcome(l)) => {
            let changes_state = !matches!(
                step.call,
                Call::Getpgid { .. } | Call::Getsid { .. } | Call::Kill { sig: 0, .. }
            );
            let unchanged = |o: Outcome| matches!(o, Outcome::Failed(_) | Outcome::Refused);
            let both_failed = unchanged(m) && unchanged(l);
            let init_setsid = inits.contains(step.actor) && step.call == Call::Setsid;
            changes_state && !both_failed && !init_setsid
        }
        _ => false,
    }
}

/// The signal dispositions of the processes and which have forked, as the
/// model's run of a scenario says: to find the steps whose outcome on Linux
/// depends on the scheduler, and to explain differences that depend on a
/// disposition.
#[derive(Default, Debug)]
struct History {
    /// The dispositions set so far (the rest are the default).
    dispositions: std::collections::HashMap<(Actor, i32), Disposition>,
    /// By task number: whether it has forked.
    forked: Vec<bool>,
    /// The processes before the step.
    before: Vec<(Actor, Seen)>,
    /// The IDs each process last said it had.
    last_ids: std::collections::HashMap<Actor, Ids>,
    /// Which task (a process's leader or one of its threads) forked each
    /// process: the thread whose list of children it joined.
    forker: std::collections::HashMap<Actor, Actor>,
    /// The threads other than a process's leader (whose exit, alone, ends
    /// no process).
    threads: BTreeSet<Actor>,
}

impl History {
    fn has_forked(&self, actor: Actor) -> bool {
        match actor {
            Actor::Task(n) => self.forked.get(n).copied().unwrap_or(false),
            Actor::Host => true,
        }
    }

    fn disposition(&self, actor: Actor, sig: i32) -> Disposition {
        self.dispositions
            .get(&(actor, sig))
            .copied()
            .unwrap_or(Disposition::Default)
    }

    fn ignores(&self, actor: Actor) -> bool {
        self.disposition(actor, libc::SIGCHLD) == Disposition::Ignore
    }

    /// Follows one step of the model's run; whether it is a scheduler race.
    fn step_races(&mut self, step: &Step, model: &StepObservation, inits: &VpsInits) -> bool {
        match (&step.call, model.outcome) {
            (Call::Fork { .. } | Call::Thread { .. }, Outcome::Value(_)) => {
                let tasks = model.processes.len().saturating_sub(1);
                let child = Actor::Task(tasks.saturating_sub(1));
                let inherited: Vec<_> = self
                    .dispositions
                    .iter()
                    .filter(|((actor, _), _)| *actor == step.actor)
                    .map(|((_, sig), d)| (*sig, *d))
                    .collect();
                for (sig, d) in inherited {
                    self.dispositions.insert((child, sig), d);
                }
                if matches!(step.call, Call::Fork { .. }) {
                    self.forker.insert(child, step.actor);
                } else {
                    self.threads.insert(child);
                }
                self.forked.resize(tasks.max(self.forked.len()), false);
                if let Actor::Task(n) = step.actor {
                    if let Some(flag) = self.forked.get_mut(n) {
                        *flag = true;
                    }
                }
            }
            (Call::Sigaction { sig, disposition }, Outcome::Previous(_)) => {
                self.dispositions.insert((step.actor, *sig), *disposition);
            }
            _ => {}
        }
        let died = |actor: Actor, before: &[(Actor, Seen)]| {
            matches!(seen_of(before, actor), Some(Seen::Alive(_) | Seen::Stopped))
                && matches!(seen_of(&model.processes, actor), Some(Seen::Gone))
        };
        // A stopped process cannot say its IDs: use the last it said.
        let ids = |actor: &Actor| self.last_ids.get(actor).copied();
        let races = self.before.iter().any(|(parent, _)| {
            let Some(parent_ids) = ids(parent) else {
                return false;
            };
            died(*parent, &self.before)
                && self.before.iter().any(|(child, _)| {
                    child != parent
                        && ids(child).is_some_and(|c| c.ppid == parent_ids.pid)
                        && died(*child, &self.before)
                        && (self.ignores(*parent) || self.has_forked(*child))
                })
        });
        // A process dies with children on the lists of two of its threads:
        // its threads exit in whichever order they run, each handing its
        // children to a thread still alive, and the children reach the
        // reaper's list in an order the scheduler decides.
        let threads_race = self.before.iter().any(|(parent, _)| {
            let Some(parent_ids) = ids(parent).filter(|_| !self.threads.contains(parent)) else {
                return false;
            };
            let mut forkers: Vec<Actor> = self
                .forker
                .iter()
                .filter(|(child, _)| ids(child).is_some_and(|c| c.ppid == parent_ids.pid))
                .map(|(_, forker)| *forker)
                .collect();
            forkers.sort();
            forkers.dedup();
            died(*parent, &self.before) && forkers.len() > 1
        });
        // Two processes die in the same step, each with a child (alive, or
        // a zombie not yet reaped as far as is known): the children join
        // their reaper's list in the order their parents die, which the
        // scheduler decides.
        let mut dying_parents: Vec<i32> = self
            .before
            .iter()
            .filter(|(parent, _)| died(*parent, &self.before) && !self.threads.contains(parent))
            .filter_map(|(parent, _)| ids(parent).map(|p| (*parent, p.pid)))
            .filter(|&(parent, pid)| {
                self.forker
                    .keys()
                    .any(|child| *child != parent && ids(child).is_some_and(|c| c.ppid == pid))
            })
            .map(|(_, pid)| pid)
            .collect();
        dying_parents.sort_unstable();
        dying_parents.dedup();
        let siblings_race = dying_parents.len() > 1;
        // The order matters only to a reaper that outlives the step: a VPS
        // init that dies takes every process of its VPS with it.
        let reaper_survives = inits.actors.iter().any(|init| {
            matches!(
                seen_of(&model.processes, *init),
                Some(Seen::Alive(_) | Seen::Stopped)
            )
        });
        let races = (races || threads_race || siblings_race) && reaper_survives;
        self.before.clone_from(&model.processes);
        for (actor, seen) in &model.processes {
            if let Seen::Alive(ids) = seen {
                self.last_ids.insert(*actor, *ids);
            }
        }
        races
    }
}

/// Compares the observations of a scenario's two runs (`steps` is the
/// scenario, or the Linux plan made from it).
#[must_use]
pub fn compare(steps: &Plan, model: &[StepObservation], linux: &[StepObservation]) -> Comparison {
    let mut comparison = Comparison::default();
    let inits = VpsInits::of(steps, model);
    let vps_real_pids = vps_real_pids(steps);
    let mut history = History::default();
    let mut split = BTreeSet::new();
    for (index, step) in steps.steps.iter().enumerate() {
        let (Some(m), Some(l)) = (model.get(index), linux.get(index)) else {
            break;
        };
        comparison.steps_compared += 1;
        let raws = raw_differences(step, m, l);
        if let Some((m, l)) = index
            .checked_sub(1)
            .and_then(|before| Some((model.get(before)?, linux.get(before)?)))
        {
            update_split(&mut split, m, l);
        }
        let ctx = Context {
            step,
            inits: &inits,
            vps_real_pids: &vps_real_pids,
            group_split: !split.is_empty(),
            history: &history,
        };
        let explained: Vec<_> = raws.iter().map(|raw| explain(ctx, raw)).collect();
        let diverging = raws
            .iter()
            .zip(&explained)
            .filter(|(raw, _)| makes_runs_diverge(step, raw, &inits))
            .find_map(|(_, known)| *known);
        for (raw, known) in raws.iter().zip(&explained) {
            let difference = Difference {
                step: index,
                call: step.clone(),
                aspect: raw.aspect,
                model: raw.model.to_string(),
                linux: raw.linux.to_string(),
            };
            // A diverging difference explains everything else its step does
            // (every task of the VPS dies with its init, for example).
            let carried = diverging.filter(|_| raw.aspect != Aspect::Outcome);
            match known.or(carried) {
                Some(known) => comparison.tolerated.push(Tolerated { difference, known }),
                None => comparison.unexplained.push(difference),
            }
        }
        if let Some(known) = diverging {
            comparison.stopped = Some((index, Stop::Diverged(known)));
            break;
        }
        if !comparison.unexplained.is_empty() {
            break;
        }
        if history.step_races(step, m, &inits) {
            comparison.stopped = Some((index, Stop::SchedulerRace));
            break;
        }
    }
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Ids;

    fn alive(pid: i32, ppid: i32, pgid: i32, sid: i32) -> Seen {
        Seen::Alive(Ids {
            pid,
            ppid,
            pgid,
            sid,
        })
    }

    fn observed(outcome: Outcome, processes: &[(Actor, Seen)]) -> StepObservation {
        StepObservation {
            outcome,
            processes: processes.to_vec(),
        }
    }

    fn plan(steps: &[(Actor, Call)]) -> Plan {
        Plan::new(
            steps
                .iter()
                .map(|(actor, call)| Step {
                    actor: *actor,
                    call: call.clone(),
                })
                .collect(),
        )
    }

    const HOST_IDS: (Actor, Seen) = (
        Actor::Host,
        Seen::Alive(Ids {
            pid: 1,
            ppid: 0,
            pgid: 1,
            sid: 1,
        }),
    );

    #[test]
    fn equal_runs_have_no_difference() {
        let steps = plan(&[(Actor::Task(0), Call::Getsid { pid: 0 })]);
        let o = [observed(Outcome::Value(1), &[HOST_IDS])];
        let c = compare(&steps, &o, &o);
        assert_eq!(c.steps_compared, 1);
        assert!(c.tolerated.is_empty() && c.unexplained.is_empty() && c.stopped.is_none());
    }

    #[test]
    fn an_unexplained_difference_stops_the_comparison_with_both_values() {
        let steps = plan(&[
            (Actor::Task(0), Call::Kill { pid: 5, sig: 15 }),
            (Actor::Task(0), Call::Setsid),
        ]);
        let model = [
            observed(Outcome::Failed(libc::ESRCH), &[HOST_IDS]),
            observed(Outcome::Value(1), &[HOST_IDS]),
        ];
        let linux = [
            observed(Outcome::Done, &[HOST_IDS]),
            observed(Outcome::Value(7), &[HOST_IDS]),
        ];
        let c = compare(&steps, &model, &linux);
        assert_eq!(c.steps_compared, 1);
        assert_eq!(c.unexplained.len(), 1);
        let d = &c.unexplained[0];
        assert_eq!((d.step, d.aspect), (0, Aspect::Outcome));
        assert_eq!((d.model.as_str(), d.linux.as_str()), ("ESRCH", "ok"));
        assert!(d.to_string().contains("init: kill(5, SIGTERM)"));
    }

    #[test]
    fn a_caller_that_killed_itself_agrees_with_the_model() {
        let steps = plan(&[(Actor::Task(1), Call::Kill { pid: 0, sig: 9 })]);
        let after = [HOST_IDS, (Actor::Task(1), Seen::Gone)];
        let c = compare(
            &steps,
            &[observed(Outcome::Done, &after)],
            &[observed(Outcome::Unanswered, &after)],
        );
        assert!(c.is_explained() && c.tolerated.is_empty());
    }

    /// The step that creates the VPS, and what both sides see after it.
    fn created() -> ((Actor, Call), StepObservation) {
        let create = Call::Fork {
            set_tid: vec![1, 2],
            new_namespace: true,
            numproc: None,
            clone_parent: false,
        };
        let after = observed(
            Outcome::Value(2),
            &[HOST_IDS, (Actor::Task(0), alive(1, 0, 1, 1))],
        );
        ((Actor::Host, create), after)
    }

    #[test]
    fn the_init_setsid_difference_is_tolerated_and_the_comparison_goes_on() {
        let (create, after) = created();
        let steps = plan(&[
            create,
            (Actor::Task(0), Call::Setsid),
            (Actor::Task(0), Call::Getpgid { pid: 0 }),
        ]);
        let init = [HOST_IDS, (Actor::Task(0), alive(1, 0, 1, 1))];
        let model = [
            after.clone(),
            observed(Outcome::Failed(libc::EPERM), &init),
            observed(Outcome::Value(1), &init),
        ];
        let linux = [
            after,
            observed(Outcome::Value(1), &init),
            observed(Outcome::Value(1), &init),
        ];
        let c = compare(&steps, &model, &linux);
        assert_eq!(c.steps_compared, 3);
        assert_eq!(c.tolerated.len(), 1);
        assert_eq!(c.tolerated[0].known.name, INIT_SETSID.name);
        assert!(c.stopped.is_none());
    }

    #[test]
    fn a_known_difference_in_who_is_alive_ends_the_comparison() {
        let (create, after) = created();
        let steps = plan(&[
            create,
            (Actor::Host, Call::Kill { pid: 2, sig: 15 }),
            (Actor::Host, Call::Getsid { pid: 2 }),
        ]);
        let model = [
            after.clone(),
            observed(Outcome::Done, &[HOST_IDS, (Actor::Task(0), Seen::Gone)]),
            observed(Outcome::Failed(libc::ESRCH), &[HOST_IDS]),
        ];
        let linux = [
            after,
            observed(
                Outcome::Done,
                &[HOST_IDS, (Actor::Task(0), alive(1, 0, 1, 1))],
            ),
            observed(Outcome::Value(2), &[HOST_IDS]),
        ];
        let c = compare(&steps, &model, &linux);
        assert_eq!(c.stopped, Some((1, Stop::Diverged(&HOST_SIGNAL_TO_INIT))));
        assert_eq!(c.steps_compared, 2);
        assert!(c.is_explained());
    }

    #[test]
    fn the_same_difference_elsewhere_is_not_explained() {
        // A task (not the VPS init) dying on one side only is a bug.
        let steps = plan(&[(Actor::Host, Call::Kill { pid: 3, sig: 15 })]);
        let c = compare(
            &steps,
            &[observed(Outcome::Done, &[(Actor::Task(1), Seen::Gone)])],
            &[observed(
                Outcome::Done,
                &[(Actor::Task(1), alive(3, 1, 1, 1))],
            )],
        );
        assert_eq!(c.unexplained.len(), 1);
        assert_eq!(c.unexplained[0].aspect, Aspect::Liveness(Actor::Task(1)));
    }
}
