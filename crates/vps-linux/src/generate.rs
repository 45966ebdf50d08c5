//! Random valid scenarios, for quickcheck.
//!
//! A scenario is generated step by step while it runs on the model, so every
//! step is made by a process that is alive at that point and names PIDs and
//! groups that exist (or, now and then, on purpose, ones that do not). It
//! starts by creating the VPS (sometimes a second one comes later); then
//! come forks with chosen and automatic PIDs (some with `CLONE_PARENT`),
//! threads, groups, sessions,
//! signal dispositions, signals (stop and continue included), exits
//! (orphaning the exiting process's children; a thread other than the
//! leader ends alone), waits, and sometimes the VPS init's death.

use quickcheck::{Arbitrary, Gen};

use crate::model::ModelRun;
use crate::protocol::{Actor, Call, Disposition, Ids, Plan, Seen, Step};

/// The most steps a random scenario has after creating its VPS.
pub const MAX_STEPS: usize = 40;

/// A random valid scenario.
#[derive(Clone)]
pub struct RandomScenario(pub Plan);

/// Shows the steps, one a line, as a failing property prints its input.
impl std::fmt::Debug for RandomScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\n{}", self.0)
    }
}

impl Arbitrary for RandomScenario {
    fn arbitrary(g: &mut Gen) -> Self {
        RandomScenario(generate(g))
    }

    /// Shorter scenarios: one step left out (never the VPS's creation). A
    /// step whose process no longer exists is then a no-op on both sides.
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let plan = self.0.clone();
        Box::new((1..plan.steps.len()).rev().map(move |drop_at| {
            let mut steps = plan.steps.clone();
            steps.remove(drop_at);
            RandomScenario(Plan::new(steps))
        }))
    }
}

/// The step that creates the VPS (the model chooses the init's real PID).
#[must_use]
pub fn create_vps() -> Step {
    Step {
        actor: Actor::Host,
        call: Call::Fork {
            set_tid: Vec::new(),
            new_namespace: true,
            numproc: None,
            clone_parent: false,
        },
    }
}

/// Generates one scenario.
#[must_use]
pub fn generate(g: &mut Gen) -> Plan {
    let mut steps = vec![create_vps()];
    let Ok(mut run) = ModelRun::new() else {
        return Plan::new(steps);
    };
    run.apply(&steps[0]);
    // OpenVZ's VE_CREATE makes the init a session leader (a real setsid);
    // on Linux the init does it itself. Every random scenario starts so, and
    // the difference before that setsid (pgid and sid 0 on Linux, 1 in
    // OpenVZ) is shown by its own scenario in tests/differences.rs rather
    // than tolerated across whole random runs.
    push_init_setsid(&mut run, &mut steps);
    let length = 1 + usize::arbitrary(g) % MAX_STEPS.min(g.size().max(1));
    for _ in 0..length {
        let Some(step) = next_step(g, &run) else {
            break;
        };
        run.apply(&step);
        let created_vps = step == create_vps();
        steps.push(step);
        if created_vps {
            push_init_setsid(&mut run, &mut steps);
        }
    }
    Plan::new(steps)
}

/// The newest VPS init's `setsid`, which OpenVZ's VE_CREATE does for it.
fn push_init_setsid(run: &mut ModelRun, steps: &mut Vec<Step>) {
    let Some(init) = run.actors().filter(|a| matches!(a, Actor::Task(_))).max() else {
        return;
    };
    let setsid = Step {
        actor: init,
        call: Call::Setsid,
    };
    run.apply(&setsid);
    steps.push(setsid);
}

/// What the generator knows of the run so far.
struct World {
    /// VPS tasks that can act (alive, not stopped) and the IDs they see.
    live: Vec<(Actor, Ids)>,
    /// Every PID a VPS task has been seen with (it may have exited since).
    known_pids: Vec<i32>,
    /// The real PIDs of the VPS's tasks, alive or not.
    real_pids: Vec<i32>,
}

impl World {
    fn of(run: &ModelRun) -> Self {
        let mut live = Vec::new();
        for (actor, seen) in run.last_seen() {
            if let (Actor::Task(_), Seen::Alive(ids)) = (actor, seen) {
                live.push((*actor, *ids));
            }
        }
        let mut known_pids: Vec<i32> = run
            .observed()
            .iter()
            .flat_map(|o| &o.processes)
            .filter_map(|(actor, seen)| match (actor, seen) {
                (Actor::Task(_), Seen::Alive(ids)) => Some(ids.pid),
                _ => None,
            })
            .collect();
        known_pids.sort_unstable();
        known_pids.dedup();
        let real_pids = run
            .actors()
            .filter(|a| *a != Actor::Host)
            .filter_map(|a| run.real_pid(a))
            .collect();
        World {
            live,
            known_pids,
            real_pids,
        }
    }
}

fn pick<T: Copy>(g: &mut Gen, items: &[T], fallback: T) -> T {
    g.choose(items).copied().unwrap_or(fallback)
}

fn one_in(g: &mut Gen, n: u8) -> bool {
    u8::arbitrary(g) % n == 0
}

/// A virtual PID nobody has: the marker bit and a small number.
fn fresh_virtual(g: &mut Gen) -> i32 {
    let base = pick(g, &[1024, 3072, 5120], 1024);
    base + 1 + i32::from(u16::arbitrary(g) % 1000)
}

/// A signal the scenarios send.
fn signal(g: &mut Gen) -> i32 {
    pick(
        g,
        &[
            0,
            libc::SIGHUP,
            libc::SIGTERM,
            libc::SIGKILL,
            libc::SIGUSR1,
            libc::SIGCHLD,
            libc::SIGSTOP,
            libc::SIGTSTP,
            libc::SIGCONT,
            libc::SIGCONT,
        ],
        libc::SIGTERM,
    )
}

fn next_step(g: &mut Gen, run: &ModelRun) -> Option<Step> {
    let world = World::of(run);
    if world.live.is_empty() {
        // No task of the VPS can act: all have exited or are stopped.
        return None;
    }
    if one_in(g, 10) {
        // Now and then a second VPS, beside the first.
        let created = run
            .linux_steps()
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
        if one_in(g, 6) && created < 2 {
            return Some(create_vps());
        }
        return Some(host_step(g, &world));
    }
    let (actor, me) = pick(g, &world.live, world.live[0]);
    let call = task_call(g, actor, me, &world);
    Some(Step { actor, call })
}

/// A step of the host's init: a signal to, a wait for, or a query about a
/// task of the VPS, in real PIDs.
fn host_step(g: &mut Gen, world: &World) -> Step {
    let real = pick(g, &world.real_pids, 1);
    let call = match u8::arbitrary(g) % 5 {
        0 => Call::Kill {
            pid: -1,
            sig: signal(g),
        },
        1 => Call::Kill {
            pid: real,
            sig: signal(g),
        },
        2 => Call::Wait {
            pid: pick(g, &[-1, real], -1),
            nohang: true,
            untraced: one_in(g, 2),
            continued: one_in(g, 2),
        },
        3 => Call::Getpgid { pid: real },
        _ => Call::Getsid { pid: real },
    };
    Step {
        actor: Actor::Host,
        call,
    }
}

fn task_call(g: &mut Gen, actor: Actor, me: Ids, world: &World) -> Call {
    let children: Vec<i32> = world
        .live
        .iter()
        .filter(|(_, ids)| ids.ppid == me.pid)
        .map(|(_, ids)| ids.pid)
        .collect();
    let groups: Vec<i32> = world.live.iter().map(|(_, ids)| ids.pgid).collect();
    // Candidates drawn up front, so that each arm below picks among them.
    let child = pick(g, &children, me.pid);
    let group = pick(g, &groups, me.pgid);
    let known = match u8::arbitrary(g) % 10 {
        0 => fresh_virtual(g),
        // A task of its own VPS by its real PID, which OpenVZ accepts.
        1 => pick(g, &world.real_pids, me.pid),
        _ => pick(g, &world.known_pids, me.pid),
    };
    let other = pick(g, &world.known_pids, me.pid);
    match u8::arbitrary(g) % 100 {
        0..4 => Call::Thread {
            set_tid: if one_in(g, 3) {
                vec![fresh_virtual(g)]
            } else {
                Vec::new()
            },
        },
        4..22 => {
            let set_tid = match u8::arbitrary(g) % 8 {
                0 | 1 => vec![fresh_virtual(g)],
                2 => vec![pick(g, &world.known_pids, 1)],
                _ => Vec::new(),
            };
            Call::Fork {
                set_tid,
                new_namespace: false,
                numproc: None,
                clone_parent: one_in(g, 8),
            }
        }
        22..30 if actor != Actor::Task(0) || one_in(g, 4) => Call::Exit {
            code: if one_in(g, 2) {
                0
            } else {
                i32::from(u8::arbitrary(g))
            },
        },
        30..36 => Call::Setsid,
        36..46 => Call::Setpgid {
            pid: pick(g, &[0, me.pid, child], 0),
            pgid: pick(g, &[0, me.pid, group, known], 0),
        },
        46..52 => Call::Getpgid {
            pid: pick(g, &[0, known], 0),
        },
        52..58 => Call::Getsid {
            pid: pick(g, &[0, known], 0),
        },
        58..66 => Call::Sigaction {
            sig: pick(
                g,
                &[
                    libc::SIGHUP,
                    libc::SIGUSR1,
                    libc::SIGTERM,
                    libc::SIGCHLD,
                    libc::SIGKILL,
                ],
                libc::SIGTERM,
            ),
            disposition: pick(
                g,
                &[
                    Disposition::Default,
                    Disposition::Ignore,
                    Disposition::Handler,
                ],
                Disposition::Default,
            ),
        },
        66..82 => Call::Kill {
            pid: pick(g, &[known, other, 0, -1, -group], 0),
            sig: signal(g),
        },
        _ => Call::Wait {
            pid: pick(g, &[-1, -1, 0, child, -me.pgid, known], -1),
            nohang: true,
            untraced: one_in(g, 2),
            continued: one_in(g, 2),
        },
    }
}

/// A scenario followed by the migration of its first VPS: a checkpoint from
/// the host, a second host, the restore there, and a few `waitpid` calls by
/// the restored init (every restored process's IDs are compared after each
/// step anyway). `None` when the first VPS is not alive at the end of the
/// scenario, or the model cannot run it.
#[must_use]
pub fn with_migration(scenario: &Plan) -> Option<Plan> {
    let mut run = ModelRun::new().ok()?;
    for step in &scenario.steps {
        run.apply(step);
    }
    let init = Actor::Task(0);
    if !matches!(
        run.last_seen().iter().find(|(a, _)| *a == init),
        Some((_, Seen::Alive(_) | Seen::Stopped))
    ) {
        return None;
    }
    let init_real = run.real_pid(init)?;
    let tasks = run.actors().count() - 1;
    let second_host = Actor::Task(tasks);
    let restored_init = Actor::Task(tasks + 1);
    let mut steps = scenario.steps.clone();
    steps.push(Step {
        actor: Actor::Host,
        call: Call::Checkpoint { pid: init_real },
    });
    steps.push(Step {
        actor: Actor::Host,
        call: Call::NewHost,
    });
    steps.push(Step {
        actor: second_host,
        call: Call::Restore {
            image: 0,
            pids: Vec::new(),
            orphans: Vec::new(),
        },
    });
    for _ in 0..4 {
        steps.push(Step {
            actor: restored_init,
            call: Call::Wait {
                pid: -1,
                nohang: true,
                untraced: true,
                continued: true,
            },
        });
    }
    Some(Plan::new(steps))
}
