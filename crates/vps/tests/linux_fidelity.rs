//! Two behaviours the differential tests against real Linux PID namespaces
//! (crates/vps-linux) found the model getting wrong, fixed, and kept here:
//! a stopped process is not killed by a catchable fatal signal until it is
//! continued, and `waitpid(-1)` considers children in the order they joined
//! their parent, adopted orphans last.

use vpid_core::{CloneFlags, WaitOptions};
use vps::{Host, HostConfig, Signal, TaskState, Viewer, VpsConfig, VpsId, WaitStatus};

fn host_with_vps() -> (Host, vps::TaskRef) {
    let host = Host::new(HostConfig::default()).expect("host");
    let init = host
        .create_vps(host.init(), VpsId(1), VpsConfig::default())
        .expect("vps");
    (host, init)
}

fn state_of(host: &Host, viewer: vps::TaskRef, pid: i32) -> TaskState {
    host.ps(Viewer::Task(viewer))
        .expect("ps")
        .into_iter()
        .find(|e| e.pid == pid)
        .map(|e| e.state)
        .expect("in ps")
}

#[test]
fn a_stopped_process_waits_for_sigcont_to_die_of_sigterm() {
    let (host, init) = host_with_vps();
    let child = host.fork(init, CloneFlags::empty(), None).expect("fork");
    host.kill(init, child.pid, Signal::SIGSTOP).expect("stop");
    host.kill(init, child.pid, Signal::SIGTERM).expect("term");
    assert_eq!(state_of(&host, init, child.pid), TaskState::Stopped);
    assert_eq!(host.pending_signals(child.child), Ok(vec![Signal::SIGTERM]));
    let stopped = host
        .waitpid(
            init,
            child.pid,
            WaitOptions::WNOHANG | WaitOptions::WUNTRACED,
        )
        .expect("wait");
    assert_eq!(
        stopped.map(|w| w.status),
        Some(WaitStatus::Stopped(Signal::SIGSTOP))
    );
    host.kill(init, child.pid, Signal::SIGCONT).expect("cont");
    let died = host
        .waitpid(init, child.pid, WaitOptions::WNOHANG)
        .expect("wait");
    assert_eq!(
        died.map(|w| w.status),
        Some(WaitStatus::Signaled(Signal::SIGTERM))
    );
    host.audit().expect("invariants");
}

#[test]
fn sigkill_ends_a_stopped_process_at_once() {
    let (host, init) = host_with_vps();
    let child = host.fork(init, CloneFlags::empty(), None).expect("fork");
    host.kill(init, child.pid, Signal::SIGSTOP).expect("stop");
    host.kill(init, child.pid, Signal::SIGKILL).expect("kill");
    let died = host
        .waitpid(init, child.pid, WaitOptions::WNOHANG)
        .expect("wait");
    assert_eq!(
        died.map(|w| w.status),
        Some(WaitStatus::Signaled(Signal::SIGKILL))
    );
}

#[test]
fn a_fatal_signal_ignored_while_stopped_is_not_fatal_after_sigcont() {
    let (host, init) = host_with_vps();
    let child = host.fork(init, CloneFlags::empty(), None).expect("fork");
    host.kill(init, child.pid, Signal::SIGSTOP).expect("stop");
    host.kill(init, child.pid, Signal::SIGTERM).expect("term");
    host.sigaction(child.child, Signal::SIGTERM, vps::Disposition::Ignore)
        .expect("sigaction");
    host.kill(init, child.pid, Signal::SIGCONT).expect("cont");
    assert_eq!(state_of(&host, init, child.pid), TaskState::Running);
}

#[test]
fn waitpid_takes_children_in_join_order_adopted_orphans_last() {
    // The scenario vps-linux recorded as `wait-order`, in a VPS.
    let (host, init) = host_with_vps();
    let fork = |parent| host.fork(parent, CloneFlags::empty(), None).expect("fork");
    let t1 = fork(init);
    let t2 = fork(t1.child);
    let t3 = fork(init);
    host.exit(t1.child, 1).expect("exit"); // t2 is adopted by init, after t3
    host.exit(t3.child, 3).expect("exit");
    host.exit(t2.child, 2).expect("exit");
    // Until nothing is left: ECHILD once the last child is reaped.
    let order: Vec<(i32, WaitStatus)> = std::iter::from_fn(|| {
        let waited = host.waitpid(init, -1, WaitOptions::WNOHANG);
        waited.ok().flatten().map(|w| (w.pid, w.status))
    })
    .collect();
    assert_eq!(
        order,
        vec![
            (t1.pid, WaitStatus::Exited(1)),
            (t3.pid, WaitStatus::Exited(3)),
            (t2.pid, WaitStatus::Exited(2)),
        ]
    );
}
