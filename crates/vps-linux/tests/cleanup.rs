//! Nothing the agent makes outlives it: not after a plan, not after a plan
//! that fails, not when the agent itself is killed in the middle of one.
//! (One test function: it counts this process's descendants, which other
//! tests running beside it would change.)

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use vps_linux::driver::AgentError;
use vps_linux::protocol::{Actor, Call, Plan, Step};

fn blocking_plan(timeout_ms: u64) -> Plan {
    let steps = vec![
        Step {
            actor: Actor::Host,
            call: Call::Fork {
                set_tid: vec![1, 300],
                new_namespace: true,
                numproc: None,
            },
        },
        Step {
            actor: Actor::Task(0),
            call: Call::Fork {
                set_tid: vec![1324, 301],
                new_namespace: false,
                numproc: None,
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

    // The agent is still usable after a failed plan.
    let mut plan = blocking_plan(200);
    plan.steps.truncate(2);
    assert_eq!(agent.run(&plan).expect("a plan runs").len(), 2);
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
    // The agent, the host init, the VPS init and its child.
    assert_eq!(common::settled_descendants(4), 4, "the plan is running");
    child.kill().expect("the agent can be killed");
    child.wait().expect("and reaped");
    assert_eq!(
        common::settled_descendants(0),
        0,
        "the namespaces died with the agent"
    );
}
