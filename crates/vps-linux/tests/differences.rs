//! Every known difference, shown on both sides by a small scenario: the
//! comparison must report it as tolerated, under its name, and nothing as
//! unexplained. (These are the examples of `docs/semantics.md`.)

mod common;

use common::{step, wait_nohang};

use vps_linux::compare::{self, KnownDifference};
use vps_linux::differential::{BothRuns, run_both};
use vps_linux::generate::create_vps;
use vps_linux::protocol::{Actor, Call, Plan, Step};

const INIT: Actor = Actor::Task(0);
/// The VPS init's real PID: the first task forked on a fresh model host.
const INIT_REAL: i32 = 2;

fn fork(actor: Actor, chosen: Option<i32>) -> Step {
    step(
        actor,
        Call::Fork {
            set_tid: chosen.into_iter().collect(),
            new_namespace: false,
            numproc: None,
            clone_parent: false,
        },
    )
}

/// Runs the scenario on both sides, checks that nothing is unexplained, and
/// says whether `known` shows; `None` when the test must be skipped.
fn run_showing(
    test: &str,
    known: &'static KnownDifference,
    steps: Vec<Step>,
) -> Option<(BothRuns, bool)> {
    let mut agent = common::agent_or_skip(test)?;
    let mut plan = vec![create_vps()];
    plan.extend(steps);
    let both = run_both(&mut agent, &Plan::new(plan)).expect("both runs complete");
    println!("{test}:\n{}", both.report());
    assert!(
        both.comparison.is_explained(),
        "unexplained:\n{}",
        both.report()
    );
    let shown = both
        .comparison
        .tolerated
        .iter()
        .any(|t| t.known.name == known.name);
    Some((both, shown))
}

/// Runs the scenario and checks that `known` explains its differences.
fn shows(test: &str, known: &'static KnownDifference, steps: Vec<Step>) -> Option<BothRuns> {
    let (both, shown) = run_showing(test, known, steps)?;
    assert!(shown, "{} not shown:\n{}", known.name, both.report());
    Some(both)
}

/// Runs the scenario of a model bug that was fixed: the two sides must now
/// agree to the end, apart from the VPS init's group before its first
/// `setsid` (step 0) and that `setsid` itself.
fn agrees(test: &str, steps: Vec<Step>) {
    let Some(mut agent) = common::agent_or_skip(test) else {
        return;
    };
    let mut plan = vec![create_vps()];
    plan.extend(steps);
    let both = run_both(&mut agent, &Plan::new(plan)).expect("both runs complete");
    println!("{test}:\n{}", both.report());
    assert!(
        both.comparison.is_explained(),
        "unexplained:\n{}",
        both.report()
    );
    assert!(
        both.comparison.stopped.is_none(),
        "diverged:\n{}",
        both.report()
    );
    for t in &both.comparison.tolerated {
        let expected = (t.known.name == compare::INIT_GROUP.name && t.difference.step == 0)
            || t.known.name == compare::INIT_SETSID.name;
        assert!(
            expected,
            "{} at step {}:\n{}",
            t.known.name,
            t.difference.step,
            both.report()
        );
    }
}

#[test]
fn init_group() {
    shows(
        "init_group",
        &compare::INIT_GROUP,
        vec![
            fork(INIT, None),
            step(Actor::Task(1), Call::Getpgid { pid: 0 }),
            step(Actor::Host, Call::Getsid { pid: INIT_REAL }),
        ],
    );
}

#[test]
fn init_setsid() {
    shows(
        "init_setsid",
        &compare::INIT_SETSID,
        vec![step(INIT, Call::Setsid), fork(INIT, None)],
    );
}

#[test]
fn host_signal_to_init() {
    let Some(both) = shows(
        "host_signal_to_init",
        &compare::HOST_SIGNAL_TO_INIT,
        vec![
            fork(INIT, None),
            step(
                Actor::Host,
                Call::Kill {
                    pid: INIT_REAL,
                    sig: libc::SIGTERM,
                },
            ),
        ],
    ) else {
        return;
    };
    assert!(
        both.comparison.stopped.is_some(),
        "the runs go different ways"
    );
}

#[test]
fn host_kill_all() {
    let Some(both) = shows(
        "host_kill_all",
        &compare::HOST_KILL_ALL,
        vec![
            fork(INIT, None),
            step(
                Actor::Host,
                Call::Kill {
                    pid: -1,
                    sig: libc::SIGKILL,
                },
            ),
        ],
    ) else {
        return;
    };
    assert!(
        both.comparison.stopped.is_some(),
        "the runs go different ways"
    );
}

#[test]
fn host_kill_all_finds_the_lone_init() {
    shows(
        "host_kill_all_finds_the_lone_init",
        &compare::HOST_KILL_ALL,
        vec![step(
            Actor::Host,
            Call::Kill {
                pid: -1,
                sig: libc::SIGTERM,
            },
        )],
    );
}

#[test]
fn chosen_pid_check() {
    shows(
        "chosen_pid_check",
        &compare::CHOSEN_PID_CHECK,
        vec![fork(INIT, Some(1)), fork(INIT, Some(1025))],
    );
}

/// Found by the random scenarios as a model bug, fixed: `waitpid(-1)` takes
/// children in the order they joined their parent, adopted orphans last.
#[test]
fn wait_order_agrees_with_linux() {
    agrees(
        "wait_order_agrees_with_linux",
        vec![
            step(INIT, Call::Setsid),
            fork(INIT, None),
            fork(Actor::Task(1), None),
            fork(INIT, None),
            step(Actor::Task(1), Call::Exit { code: 1 }),
            step(Actor::Task(3), Call::Exit { code: 3 }),
            step(Actor::Task(2), Call::Exit { code: 2 }),
            step(INIT, wait_nohang(-1, false, false)),
            step(INIT, wait_nohang(-1, false, false)),
        ],
    );
}

/// Found by the random scenarios as a model bug, fixed: each thread has
/// its own list of children, and `waitpid` walks the calling thread's
/// first; a thread that exits alone hands its children to the leader.
#[test]
fn thread_children_agrees_with_linux() {
    let thread = Actor::Task(1);
    agrees(
        "thread_children_agrees_with_linux",
        vec![
            step(INIT, Call::Setsid),
            step(INIT, Call::Thread { set_tid: vec![] }),
            fork(INIT, None),
            fork(thread, None),
            fork(INIT, None),
            step(Actor::Task(2), Call::Exit { code: 2 }),
            step(Actor::Task(3), Call::Exit { code: 3 }),
            step(Actor::Task(4), Call::Exit { code: 4 }),
            // The thread's own child first, then the leader's.
            step(thread, wait_nohang(-1, false, false)),
            step(thread, wait_nohang(-1, false, false)),
            fork(thread, None),
            step(Actor::Task(5), Call::Exit { code: 5 }),
            // The thread ends: its child joins the end of the leader's list.
            step(thread, Call::Exit { code: 0 }),
            step(INIT, wait_nohang(-1, false, false)),
            step(INIT, wait_nohang(-1, false, false)),
        ],
    );
}

#[test]
fn orphaned_pgrp() {
    // Every group of this VPS is orphaned: the init's parent is in another
    // session. SIGTSTP is discarded on Linux; the model stops t1.
    shows(
        "orphaned_pgrp",
        &compare::ORPHANED_PGRP,
        vec![
            step(INIT, Call::Setsid),
            fork(INIT, None),
            step(
                INIT,
                Call::Kill {
                    pid: 1027,
                    sig: libc::SIGTSTP,
                },
            ),
        ],
    );
}

/// Found by the random scenarios as a model bug, fixed: a stopped process
/// stays stopped on SIGTERM, and dies of it when continued.
#[test]
fn stopped_stays_stopped_agrees_with_linux() {
    agrees(
        "stopped_stays_stopped_agrees_with_linux",
        vec![
            step(INIT, Call::Setsid),
            fork(INIT, None),
            step(
                INIT,
                Call::Kill {
                    pid: 1027,
                    sig: libc::SIGSTOP,
                },
            ),
            step(
                INIT,
                Call::Kill {
                    pid: 1027,
                    sig: libc::SIGTERM,
                },
            ),
            step(
                INIT,
                Call::Kill {
                    pid: 1027,
                    sig: libc::SIGCONT,
                },
            ),
            step(INIT, wait_nohang(-1, true, true)),
        ],
    );
}

#[test]
fn init_sigcont() {
    shows(
        "init_sigcont",
        &compare::INIT_SIGCONT,
        vec![
            fork(INIT, None),
            step(
                Actor::Host,
                Call::Kill {
                    pid: INIT_REAL,
                    sig: libc::SIGSTOP,
                },
            ),
            step(
                Actor::Task(1),
                Call::Kill {
                    pid: 1,
                    sig: libc::SIGCONT,
                },
            ),
        ],
    );
}

#[test]
fn real_pid_in_vps() {
    // t1's real PID is 3: the init finds it by that number in the model.
    shows(
        "real_pid_in_vps",
        &compare::REAL_PID_IN_VPS,
        vec![
            step(INIT, Call::Setsid),
            fork(INIT, None),
            step(Actor::Task(1), Call::Getsid { pid: 3 }),
            step(INIT, Call::Kill { pid: 3, sig: 0 }),
        ],
    );
}
