//! The agent on its own: real PID namespaces behave as Linux says, and the
//! agent forks every process with the PIDs it is given.

mod common;

use common::{step, wait_nohang};

use vps_linux::protocol::{Actor, Call, Ids, Outcome, Plan, Seen, Step, StepObservation};

const INIT: Actor = Actor::Task(0);
const INIT_REAL: i32 = 300;

fn create_vps() -> Step {
    step(
        Actor::Host,
        Call::Fork {
            set_tid: vec![1, INIT_REAL],
            new_namespace: true,
            numproc: None,
            clone_parent: false,
        },
    )
}

fn fork(actor: Actor, set_tid: &[i32]) -> Step {
    step(
        actor,
        Call::Fork {
            set_tid: set_tid.to_vec(),
            new_namespace: false,
            numproc: None,
            clone_parent: false,
        },
    )
}

fn seen(observation: &StepObservation, actor: Actor) -> Seen {
    observation
        .processes
        .iter()
        .find(|(a, _)| *a == actor)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("{actor} is not in {observation:?}"))
}

/// Runs the steps, or returns `None` where the test must be skipped.
fn run(test: &str, steps: Vec<Step>) -> Option<Vec<StepObservation>> {
    let mut agent = common::agent_or_skip(test)?;
    let observed = agent.run(&Plan::new(steps)).expect("the plan runs");
    Some(observed)
}

#[test]
fn forks_with_the_chosen_pids_in_both_namespaces() {
    let Some(observed) = run(
        "forks_with_the_chosen_pids_in_both_namespaces",
        vec![
            create_vps(),
            fork(INIT, &[1324, 301]),
            step(Actor::Host, Call::Getpgid { pid: 301 }),
        ],
    ) else {
        return;
    };
    assert_eq!(observed[0].outcome, Outcome::Value(INIT_REAL));
    assert_eq!(observed[1].outcome, Outcome::Value(1324));
    let host = Ids {
        pid: 1,
        ppid: 0,
        pgid: 1,
        sid: 1,
    };
    assert_eq!(seen(&observed[1], Actor::Host), Seen::Alive(host));
    // Linux's side of the init-group difference: the VPS init and its child
    // are in the host init's group and session, invisible in the VPS.
    let init = Ids {
        pid: 1,
        ppid: 0,
        pgid: 0,
        sid: 0,
    };
    assert_eq!(seen(&observed[1], INIT), Seen::Alive(init));
    let child = Ids {
        pid: 1324,
        ppid: 1,
        pgid: 0,
        sid: 0,
    };
    assert_eq!(seen(&observed[1], Actor::Task(1)), Seen::Alive(child));
    // The host sees the same group by its own number.
    assert_eq!(observed[2].outcome, Outcome::Value(1));
}

#[test]
fn a_taken_pid_fails_with_eexist() {
    let Some(observed) = run(
        "a_taken_pid_fails_with_eexist",
        vec![
            create_vps(),
            fork(INIT, &[1324, 301]),
            fork(INIT, &[1324]),
            fork(INIT, &[1]),
        ],
    ) else {
        return;
    };
    assert_eq!(observed[2].outcome, Outcome::Failed(libc::EEXIST));
    assert_eq!(observed[3].outcome, Outcome::Failed(libc::EEXIST));
    assert_eq!(observed[3].processes.len(), 3, "no process was added");
}

#[test]
fn the_vps_init_ignores_default_signals_except_sigkill_from_the_host() {
    let Some(observed) = run(
        "the_vps_init_ignores_default_signals_except_sigkill_from_the_host",
        vec![
            create_vps(),
            fork(INIT, &[1324, 301]),
            step(Actor::Task(1), Call::Kill { pid: 1, sig: 9 }),
            step(Actor::Host, Call::Kill { pid: 300, sig: 15 }),
            step(Actor::Host, Call::Kill { pid: 300, sig: 9 }),
        ],
    ) else {
        return;
    };
    assert_eq!(observed[2].outcome, Outcome::Done);
    assert!(matches!(seen(&observed[2], INIT), Seen::Alive(_)));
    assert_eq!(observed[3].outcome, Outcome::Done);
    assert!(matches!(seen(&observed[3], INIT), Seen::Alive(_)));
    assert_eq!(seen(&observed[4], INIT), Seen::Gone);
    assert_eq!(
        seen(&observed[4], Actor::Task(1)),
        Seen::Gone,
        "the VPS died with its init"
    );
}

#[test]
fn the_host_reaps_a_dead_vps_init_and_orphans_go_to_the_vps_init() {
    let Some(observed) = run(
        "the_host_reaps_a_dead_vps_init_and_orphans_go_to_the_vps_init",
        vec![
            create_vps(),
            fork(INIT, &[1324, 301]),
            fork(Actor::Task(1), &[1325, 302]),
            step(Actor::Task(1), Call::Exit { code: 3 }),
            step(INIT, wait_nohang(-1, false, false)),
            step(INIT, Call::Exit { code: 7 }),
            step(Actor::Host, wait_nohang(300, false, false)),
            step(INIT, Call::Setsid),
        ],
    ) else {
        return;
    };
    let Seen::Alive(orphan) = seen(&observed[3], Actor::Task(2)) else {
        panic!("the orphan died: {observed:?}");
    };
    assert_eq!(orphan.ppid, 1);
    assert_eq!(
        observed[4].outcome,
        Outcome::Waited {
            pid: 1324,
            status: 3 << 8
        }
    );
    assert_eq!(seen(&observed[5], Actor::Task(2)), Seen::Gone);
    assert_eq!(
        observed[6].outcome,
        Outcome::Waited {
            pid: 300,
            status: 7 << 8
        }
    );
    assert_eq!(observed[7].outcome, Outcome::ActorGone);
}

#[test]
fn a_process_that_kills_itself_leaves_its_call_unanswered() {
    let Some(observed) = run(
        "a_process_that_kills_itself_leaves_its_call_unanswered",
        vec![
            create_vps(),
            fork(INIT, &[1324, 301]),
            step(Actor::Task(1), Call::Kill { pid: 0, sig: 9 }),
        ],
    ) else {
        return;
    };
    assert_eq!(observed[2].outcome, Outcome::Unanswered);
    assert_eq!(seen(&observed[2], Actor::Task(1)), Seen::Gone);
    assert!(matches!(seen(&observed[2], INIT), Seen::Alive(_)));
}

#[test]
fn the_pid_of_a_process_reaped_at_once_is_free_for_the_next_step() {
    // The VPS init ignores SIGCHLD, so its children are reaped as they
    // exit; the agent waits until they have freed their PIDs.
    let mut steps = vec![
        create_vps(),
        step(
            INIT,
            Call::Sigaction {
                sig: libc::SIGCHLD,
                disposition: vps_linux::protocol::Disposition::Ignore,
            },
        ),
    ];
    for round in 0..20 {
        steps.push(fork(INIT, &[1324, 301]));
        steps.push(step(Actor::Task(round + 1), Call::Kill { pid: 0, sig: 9 }));
    }
    let Some(observed) = run(
        "the_pid_of_a_process_reaped_at_once_is_free_for_the_next_step",
        steps,
    ) else {
        return;
    };
    for (index, observation) in observed.iter().enumerate().skip(2).step_by(2) {
        assert_eq!(observation.outcome, Outcome::Value(1324), "step {index}");
    }
}

#[test]
fn a_namespace_init_is_never_moved_into_another_group() {
    // Before its setsid the VPS init is in the host init's session, so
    // Linux would let it join a group led by another of its processes; it
    // could then never finish dying. The agent refuses such calls.
    let Some(observed) = run(
        "a_namespace_init_is_never_moved_into_another_group",
        vec![
            create_vps(),
            fork(INIT, &[1324, 301]),
            step(Actor::Task(1), Call::Setpgid { pid: 1324, pgid: 0 }),
            step(INIT, Call::Setpgid { pid: 1, pgid: 1324 }),
            step(
                Actor::Host,
                Call::Setpgid {
                    pid: INIT_REAL,
                    pgid: 301,
                },
            ),
            step(INIT, Call::Setpgid { pid: 0, pgid: 0 }),
        ],
    ) else {
        return;
    };
    assert_eq!(observed[2].outcome, Outcome::Done);
    assert_eq!(observed[3].outcome, Outcome::Refused);
    assert_eq!(observed[4].outcome, Outcome::Refused);
    // Its own group is allowed.
    assert_eq!(observed[5].outcome, Outcome::Done);
    let Seen::Alive(init) = seen(&observed[5], INIT) else {
        panic!("the VPS init died: {observed:?}");
    };
    assert_eq!((init.pgid, init.sid), (1, 0));
}

#[test]
fn a_stopped_process_is_seen_stopped_and_answers_once_continued() {
    let Some(observed) = run(
        "a_stopped_process_is_seen_stopped_and_answers_once_continued",
        vec![
            create_vps(),
            step(INIT, Call::Setsid),
            fork(INIT, &[1324, 301]),
            step(
                Actor::Task(1),
                Call::Kill {
                    pid: 0,
                    sig: libc::SIGSTOP,
                },
            ),
            step(INIT, Call::Getpgid { pid: 1324 }),
            step(Actor::Task(1), Call::Getsid { pid: 0 }),
            step(INIT, wait_nohang(-1, true, false)),
            step(
                INIT,
                Call::Kill {
                    pid: 1324,
                    sig: libc::SIGCONT,
                },
            ),
            step(Actor::Task(1), Call::Getsid { pid: 0 }),
            step(INIT, wait_nohang(-1, false, true)),
        ],
    ) else {
        return;
    };
    // kill(0, SIGSTOP) stops the caller (its group is the init's, which
    // ignores it): the call cannot answer.
    assert_eq!(observed[3].outcome, Outcome::Unanswered);
    assert_eq!(seen(&observed[3], Actor::Task(1)), Seen::Stopped);
    assert_eq!(observed[4].outcome, Outcome::Value(1));
    assert_eq!(observed[5].outcome, Outcome::ActorStopped);
    assert_eq!(
        observed[6].outcome,
        Outcome::Waited {
            pid: 1324,
            status: (libc::SIGSTOP << 8) | 0x7f
        }
    );
    // Continued, it answers again: its late answer is taken on the way.
    assert!(matches!(seen(&observed[7], Actor::Task(1)), Seen::Alive(_)));
    assert_eq!(observed[8].outcome, Outcome::Value(1));
    assert_eq!(
        observed[9].outcome,
        Outcome::Waited {
            pid: 1324,
            status: 0xffff
        }
    );
}
