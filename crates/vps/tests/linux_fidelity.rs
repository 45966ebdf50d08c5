//! Behaviours the differential tests against real Linux PID namespaces
//! (crates/vps-linux) found the model getting wrong, fixed, and kept here:
//! a stopped process is not killed by a catchable fatal signal until it is
//! continued; `waitpid(-1)` considers children in the order they joined
//! their parent, adopted orphans last; and each thread has its own list of
//! children, which `waitpid` walks from the calling thread's.

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

/// A process forked by `init`, and a second thread of it.
fn process_with_thread(host: &Host, init: vps::TaskRef) -> (vps::TaskRef, vps::TaskRef) {
    let parent = host
        .fork(init, CloneFlags::empty(), None)
        .expect("fork")
        .child;
    let thread = host
        .fork(parent, CloneFlags::CLONE_THREAD, None)
        .expect("thread")
        .child;
    (parent, thread)
}

/// A process `parent` with a second thread; the leader forks `by_leader`,
/// the thread forks `by_thread`, and both exit with their own codes.
fn two_lists(host: &Host, init: vps::TaskRef) -> (vps::TaskRef, vps::TaskRef, i32, i32) {
    let (parent, thread) = process_with_thread(host, init);
    let by_leader = host.fork(parent, CloneFlags::empty(), None).expect("fork");
    let by_thread = host.fork(thread, CloneFlags::empty(), None).expect("fork");
    host.exit(by_leader.child, 1).expect("exit");
    host.exit(by_thread.child, 2).expect("exit");
    (parent, thread, by_leader.pid, by_thread.pid)
}

fn reaped(host: &Host, caller: vps::TaskRef, options: WaitOptions) -> Vec<i32> {
    std::iter::from_fn(|| {
        host.waitpid(caller, -1, options | WaitOptions::WNOHANG)
            .ok()
            .flatten()
            .map(|w| w.pid)
    })
    .collect()
}

#[test]
fn waitpid_walks_the_calling_threads_children_first() {
    let (host, init) = host_with_vps();
    let (_, thread, by_leader, by_thread) = two_lists(&host, init);
    assert_eq!(
        reaped(&host, thread, WaitOptions::empty()),
        vec![by_thread, by_leader]
    );
    let (parent, _, by_leader, by_thread) = two_lists(&host, init);
    assert_eq!(
        reaped(&host, parent, WaitOptions::empty()),
        vec![by_leader, by_thread]
    );
    host.audit().expect("invariants");
}

#[test]
fn wnothread_waits_only_for_the_calling_threads_children() {
    let (host, init) = host_with_vps();
    let (parent, thread, by_leader, by_thread) = two_lists(&host, init);
    assert_eq!(
        reaped(&host, thread, WaitOptions::WNOTHREAD),
        vec![by_thread]
    );
    assert_eq!(
        host.waitpid(thread, -1, WaitOptions::WNOTHREAD | WaitOptions::WNOHANG),
        Err(vpid_core::Errno::ECHILD)
    );
    assert_eq!(
        host.waitpid(
            thread,
            by_leader,
            WaitOptions::WNOTHREAD | WaitOptions::WNOHANG
        ),
        Err(vpid_core::Errno::ECHILD)
    );
    assert_eq!(
        reaped(&host, parent, WaitOptions::WNOTHREAD),
        vec![by_leader]
    );
}

#[test]
fn a_thread_that_exits_hands_its_children_to_the_leader_at_the_end_of_its_list() {
    let (host, init) = host_with_vps();
    let (parent, thread) = process_with_thread(&host, init);
    let first = host.fork(thread, CloneFlags::empty(), None).expect("fork");
    let second = host.fork(parent, CloneFlags::empty(), None).expect("fork");
    host.exit(thread, 0).expect("the thread exits alone");
    assert_eq!(host.getppid(first.child), host.getpid(parent));
    host.exit(first.child, 0).expect("exit");
    host.exit(second.child, 0).expect("exit");
    // `first` joined the leader's list when its thread exited: after
    // `second`.
    assert_eq!(
        reaped(&host, parent, WaitOptions::empty()),
        vec![second.pid, first.pid]
    );
    host.audit().expect("invariants");
}

#[test]
fn clone_parent_from_a_thread_joins_the_list_its_process_is_on() {
    let (host, init) = host_with_vps();
    let init_thread = host
        .fork(init, CloneFlags::CLONE_THREAD, None)
        .expect("thread")
        .child;
    let a = host
        .fork(init_thread, CloneFlags::empty(), None)
        .expect("fork");
    let b = host.fork(init, CloneFlags::empty(), None).expect("fork");
    // `sibling` is on the init thread's list, as `a` is.
    let sibling = host
        .fork(a.child, CloneFlags::CLONE_PARENT, None)
        .expect("sibling");
    for task in [a.child, b.child, sibling.child] {
        host.exit(task, 0).expect("exit");
    }
    assert_eq!(
        reaped(&host, init_thread, WaitOptions::empty()),
        vec![a.pid, sibling.pid, b.pid]
    );
}
