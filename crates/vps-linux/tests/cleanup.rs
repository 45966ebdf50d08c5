//! Nothing the agent makes outlives it: not after a plan, not after a plan
//! that fails, not when the agent itself is killed in the middle of one:
//! no process, no namespace, no cgroup (a killed agent's cgroups are
//! removed by the next agent that starts).
//! (One test function: it counts this process's descendants, which other
//! tests running beside it would change.)

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use vps_linux::driver::AgentError;
use vps_linux::protocol::{Actor, Call, Plan, Step};

/// A VPS (with a process limit) and a second host, then a step that
/// blocks.
fn blocking_plan(timeout_ms: u64) -> Plan {
    let steps = vec![
        Step {
            actor: Actor::Host,
            call: Call::Fork {
                set_tid: vec![1, 300],
                new_namespace: true,
                numproc: vps_linux::cgroup::pids_controller().map(|_| 10),
                clone_parent: false,
            },
        },
        Step {
            actor: Actor::Host,
            call: Call::NewHost,
        },
        Step {
            actor: Actor::Task(0),
            call: Call::Fork {
                set_tid: vec![1324, 301],
                new_namespace: false,
                numproc: None,
                clone_parent: false,
            },
        },
        // Blocks: the child is alive and never exits.
        Step {
            actor: Actor::Task(0),
            call: Call::Wait {
                pid: 1324,
                nohang: false,
                untraced: false,
                continued: false,
            },
        },
    ];
    Plan {
        steps,
        answer_timeout_ms: Some(timeout_ms),
    }
}

/// The cgroups of the agent with this PID.
fn cgroups_of(agent: u32) -> Vec<std::path::PathBuf> {
    let prefix = format!("vps-linux-{agent}-");
    vps_linux::cgroup::leftover_cgroups()
        .into_iter()
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(&prefix))
        })
        .collect()
}

#[test]
fn no_process_outlives_a_plan_a_failure_or_the_agent() {
    let Some(mut agent) =
        common::agent_or_skip("no_process_outlives_a_plan_a_failure_or_the_agent")
    else {
        return;
    };
    assert_eq!(common::settled_descendants(1), 1, "only the agent");

    // A process that does not answer: the plan fails, its namespaces go.
    let failed = agent.run(&blocking_plan(200));
    assert!(
        matches!(&failed, Err(AgentError::RunFailed(why)) if why.contains("no answer")),
        "{failed:?}"
    );
    assert_eq!(common::settled_descendants(1), 1, "only the agent");

    assert_eq!(cgroups_of(agent.pid()), Vec::<std::path::PathBuf>::new());

    // The agent is still usable after a failed plan.
    let mut plan = blocking_plan(200);
    plan.steps.truncate(3);
    assert_eq!(agent.run(&plan).expect("a plan runs").len(), 3);
    assert_eq!(cgroups_of(agent.pid()), Vec::<std::path::PathBuf>::new());
    drop(agent);
    assert_eq!(
        common::settled_descendants(0),
        0,
        "dropping the agent kills it"
    );

    // The agent killed in the middle of a plan: its namespaces die with it.
    let mut child = Command::new(common::AGENT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the agent starts");
    let mut input = child.stdin.take().expect("piped");
    let mut line = serde_json::to_vec(&blocking_plan(60_000)).expect("serialisable");
    line.push(b'\n');
    input.write_all(&line).expect("the agent reads");
    // The agent, the two host inits, the VPS init and its child.
    assert_eq!(common::settled_descendants(5), 5, "the plan is running");
    let limited = vps_linux::cgroup::pids_controller().is_some();
    assert_eq!(cgroups_of(child.id()).len(), usize::from(limited));
    child.kill().expect("the agent can be killed");
    child.wait().expect("and reaped");
    assert_eq!(
        common::settled_descendants(0),
        0,
        "the namespaces died with the agent"
    );
    // The killed agent could not remove its cgroup; the next agent does.
    assert_eq!(cgroups_of(child.id()).len(), usize::from(limited));
    let next = common::agent_or_skip("no_process_outlives_a_plan_a_failure_or_the_agent");
    assert_eq!(cgroups_of(child.id()), Vec::<std::path::PathBuf>::new());
    drop(next);
    assert_eq!(common::settled_descendants(0), 0);
}
