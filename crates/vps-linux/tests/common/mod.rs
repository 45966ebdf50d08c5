//! What the test files share: starting the agent, or saying plainly why not.
// Each test binary uses only some of these.
#![allow(dead_code)]

use std::io::Write;

use vps_linux::driver::{Agent, Spawned};
use vps_linux::protocol::{Actor, Call, Step};

/// The agent binary built with these tests.
pub const AGENT: &str = env!("CARGO_BIN_EXE_vps-linux-agent");

/// Writes a line past the test harness's capture, so that it shows in a
/// plain `cargo test`.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A ready agent, or `None` (after saying "skipped: needs CAP_SYS_ADMIN")
/// when this process may not create PID namespaces.
pub fn agent_or_skip(test: &str) -> Option<Agent> {
    match Agent::spawn(AGENT) {
        Ok(Spawned::Ready(agent)) => Some(agent),
        Ok(Spawned::NotPermitted(reason)) => {
            say(&format!("{test}: skipped: needs CAP_SYS_ADMIN ({reason})"));
            None
        }
        Err(e) => panic!("{test}: the agent did not start: {e}"),
    }
}

/// How many processes this test process has below it, waiting up to two
/// seconds for it to drop to `expected` (processes die asynchronously).
pub fn settled_descendants(expected: usize) -> usize {
    let me = std::process::id();
    let mut count = usize::MAX;
    for _ in 0..200 {
        count = vps_linux::driver::count_descendants(me).expect("/proc is readable");
        if count == expected {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    count
}

/// A step: `actor` makes `call`.
pub fn step(actor: Actor, call: Call) -> Step {
    Step { actor, call }
}

/// `waitpid(pid, WNOHANG)`, with `WUNTRACED` and `WCONTINUED` as asked.
pub fn wait_nohang(pid: i32, untraced: bool, continued: bool) -> Call {
    Call::Wait {
        pid,
        nohang: true,
        untraced,
        continued,
    }
}

/// Runs a `vpsctl` scenario on the model and on Linux, and checks that it
/// runs whole and that every difference is explained; `None` when the test
/// must be skipped.
pub fn run_script(test: &str, text: &str) -> Option<vps_linux::differential::BothRuns> {
    let script = vpsctl::scenario::parse_script(test, text).expect("the scenario parses");
    // Its expectations hold in vpsctl (the comparison below checks Linux
    // against the model, not against them).
    let workdir = std::env::temp_dir().join(format!("vps-linux-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&workdir).expect("a scratch directory");
    let ran = vpsctl::exec::Executor::new(&workdir).run_script(
        &script,
        &mut std::io::sink(),
        vpsctl::exec::Verbosity::Quiet,
    );
    let _ = std::fs::remove_dir_all(&workdir);
    if let Err(e) = ran {
        panic!("{test}: the scenario fails in vpsctl: {e}");
    }
    let mut agent = agent_or_skip(test)?;
    let converted = vps_linux::script::from_script(&script).expect("the model starts");
    assert_eq!(
        converted.stopped_at, None,
        "the whole scenario runs on Linux"
    );
    if !vps_linux::driver::runs_here(&converted.plan) {
        say(&format!(
            "{test}: skipped: threads need thread pidfds (PIDFD_THREAD, Linux 6.9)"
        ));
        return None;
    }
    let both = vps_linux::differential::run_both(&mut agent, &converted.plan)
        .unwrap_or_else(|e| panic!("{test}: both runs complete: {e}"));
    println!("{test}:\n{}", both.report());
    assert!(
        both.comparison.is_explained(),
        "{test}: unexplained:\n{}",
        both.report()
    );
    assert_eq!(
        both.comparison.steps_compared,
        both.model.linux_plan.steps.len(),
        "{test}: every step is compared:\n{}",
        both.report()
    );
    Some(both)
}

/// The outcome Linux gave the step whose call prints as `call` (the last
/// such step).
pub fn linux_outcome(
    both: &vps_linux::differential::BothRuns,
    call: &str,
) -> vps_linux::protocol::Outcome {
    let index = both
        .model
        .linux_plan
        .steps
        .iter()
        .rposition(|s| s.to_string().ends_with(call))
        .unwrap_or_else(|| panic!("no step `{call}` in\n{}", both.model.linux_plan));
    both.linux[index].outcome
}
