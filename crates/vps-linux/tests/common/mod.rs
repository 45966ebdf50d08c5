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
