//! Every error the host returns, PID exhaustion of the host and of a VPS
//! (then freeing and reusing every PID), and wrap-around. After each failed
//! call the table must be exactly as before.

use vpid_core::{CloneFlags, Errno, PID_MAX_LIMIT, RealPid, VPID_DIV, WaitOptions};
use vps::{
    Disposition, Host, HostConfig, Signal, TaskRef, Usage, Viewer, VpsConfig, VpsId, WaitStatus,
};

const NONE: CloneFlags = CloneFlags::empty();

fn host(pid_max: i32) -> Host {
    Host::new(HostConfig { pid_max }).expect("host")
}

fn fork(h: &Host, parent: TaskRef) -> TaskRef {
    h.fork(parent, NONE, None).expect("fork").child
}

/// Asserts that `f` fails with `errno` and leaves the table as it was.
fn fails_cleanly<T: std::fmt::Debug>(h: &Host, errno: Errno, f: impl FnOnce() -> Result<T, Errno>) {
    let before: (Usage, _) = (h.usage(), h.ps(Viewer::Host).expect("ps"));
    assert_eq!(f().map(|_| ()).unwrap_err(), errno);
    assert_eq!(
        (h.usage(), h.ps(Viewer::Host).expect("ps")),
        before,
        "state changed on {errno}"
    );
    h.audit().expect("invariants");
}

/// A handle whose task has been reaped; its PID is at least 300, so the
/// allocator hands it out again after wrapping.
/// Nothing leaked: the host holds its init and nothing else.
fn assert_only_host_init(h: &Host) {
    assert_eq!(
        h.usage(),
        Usage {
            tasks: 1,
            numbers: 1
        }
    );
}

fn stale(h: &Host) -> TaskRef {
    loop {
        let t = fork(h, h.init());
        h.exit(t, 0).expect("exit");
        h.waitpid(h.init(), t.real().as_raw(), WaitOptions::empty())
            .expect("reap");
        if t.real().as_raw() >= 300 {
            return t;
        }
    }
}

#[test]
fn host_config_is_validated() {
    assert_eq!(
        Host::new(HostConfig { pid_max: 300 }).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        Host::new(HostConfig {
            pid_max: PID_MAX_LIMIT + 1
        })
        .unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        Host::new(HostConfig { pid_max: -5 }).unwrap_err(),
        Errno::EINVAL
    );
    assert!(
        HostConfig {
            pid_max: PID_MAX_LIMIT
        }
        .validate()
        .is_ok()
    );
    assert_eq!(host(301).pid_max(), 301);
}

#[test]
fn stale_and_zombie_handles_are_esrch_everywhere() {
    let h = host(4096);
    let gone = stale(&h);
    let zombie = fork(&h, h.init());
    h.exit(zombie, 1).expect("exit");
    for t in [gone, zombie] {
        assert_eq!(h.getpid(t), Err(Errno::ESRCH));
        assert_eq!(h.gettid(t), Err(Errno::ESRCH));
        assert_eq!(h.getppid(t), Err(Errno::ESRCH));
        assert_eq!(h.getpgid(t, 0), Err(Errno::ESRCH));
        assert_eq!(h.getsid(t, 0), Err(Errno::ESRCH));
        assert_eq!(h.lookup(t, 1), Err(Errno::ESRCH));
        assert_eq!(h.pid_of(Viewer::Task(t), h.init()), Err(Errno::ESRCH));
        assert_eq!(h.ps(Viewer::Task(t)), Err(Errno::ESRCH));
        fails_cleanly(&h, Errno::ESRCH, || h.fork(t, NONE, None));
        fails_cleanly(&h, Errno::ESRCH, || h.exit(t, 0));
        fails_cleanly(&h, Errno::ESRCH, || h.waitpid(t, -1, WaitOptions::empty()));
        fails_cleanly(&h, Errno::ESRCH, || h.setpgid(t, 0, 0));
        fails_cleanly(&h, Errno::ESRCH, || h.setsid(t));
        fails_cleanly(&h, Errno::ESRCH, || {
            h.sigaction(t, Signal::SIGTERM, Disposition::Ignore)
        });
        fails_cleanly(&h, Errno::ESRCH, || h.kill(t, 1, Signal(0)));
        fails_cleanly(&h, Errno::ESRCH, || h.enter(t, VpsId(1)));
        fails_cleanly(&h, Errno::ESRCH, || {
            h.create_vps(t, VpsId(1), VpsConfig::default())
        });
        fails_cleanly(&h, Errno::ESRCH, || h.exec(t));
    }
    // A stale handle stays stale after its PID is reused.
    let mut reused = None;
    for _ in 0..5000 {
        let t = fork(&h, h.init());
        if t.real() == gone.real() {
            reused = Some(t);
            break;
        }
        h.exit(t, 0).expect("exit");
        h.waitpid(h.init(), t.real().as_raw(), WaitOptions::empty())
            .expect("reap");
    }
    let reused = reused.expect("the PID comes back after a lap");
    assert_ne!(reused, gone);
    assert_eq!(h.pid_of(Viewer::Host, gone), Err(Errno::ESRCH));
    assert_eq!(h.pid_of(Viewer::Host, reused), Ok(gone.real().as_raw()));
    // A zombie is still visible to others.
    assert_eq!(h.pid_of(Viewer::Host, zombie), Ok(zombie.real().as_raw()));
    assert_eq!(h.lookup(h.init(), zombie.real().as_raw()), Ok(zombie));
}

#[test]
fn create_and_destroy_errors() {
    let h = host(32768);
    let init = h
        .create_vps(h.init(), VpsId(1), VpsConfig::default())
        .expect("vps");
    let cfg = VpsConfig::default();
    fails_cleanly(&h, Errno::EPERM, || h.create_vps(init, VpsId(2), cfg));
    fails_cleanly(&h, Errno::EINVAL, || h.create_vps(h.init(), VpsId(0), cfg));
    let zero = VpsConfig { numproc: Some(0) };
    fails_cleanly(&h, Errno::EINVAL, || h.create_vps(h.init(), VpsId(2), zero));
    fails_cleanly(&h, Errno::EEXIST, || h.create_vps(h.init(), VpsId(1), cfg));
    fails_cleanly(&h, Errno::ESRCH, || h.destroy_vps(VpsId(9)));
    assert_eq!(h.vps_init(VpsId(9)), Err(Errno::ESRCH));
    assert_eq!(h.is_sparse(VpsId(9)), Err(Errno::ESRCH));
    assert_eq!(h.is_dying(VpsId(9)), Err(Errno::ESRCH));
    h.destroy_vps(VpsId(1)).expect("destroy");
    assert_eq!(h.vps_ids(), vec![]);
    assert_only_host_init(&h);
}

#[test]
fn too_many_vpses_is_eagain() {
    let h = host(32768);
    for i in 0..vps::MAX_VPS {
        h.create_vps(h.init(), VpsId(i as u32 + 1), VpsConfig::default())
            .expect("vps");
    }
    let id = VpsId(vps::MAX_VPS as u32 + 1);
    fails_cleanly(&h, Errno::EAGAIN, || {
        h.create_vps(h.init(), id, VpsConfig::default())
    });
    h.destroy_vps(VpsId(5)).expect("destroy");
    h.create_vps(h.init(), id, VpsConfig::default())
        .expect("a freed slot is reused");
}

#[test]
fn fork_errors() {
    let h = host(32768);
    let init = h
        .create_vps(h.init(), VpsId(1), VpsConfig { numproc: Some(3) })
        .expect("vps");
    let child = h.fork(init, NONE, None).expect("fork");
    // CLONE_PARENT from an init.
    fails_cleanly(&h, Errno::EINVAL, || {
        h.fork(init, CloneFlags::CLONE_PARENT, None)
    });
    fails_cleanly(&h, Errno::EINVAL, || {
        h.fork(h.init(), CloneFlags::CLONE_PARENT, None)
    });
    // Chosen virtual PIDs that are not virtual, or 1 after the first process.
    for bad in [
        1,
        0,
        -1024,
        300,
        2047 & !VPID_DIV,
        32768 | VPID_DIV,
        i32::MAX,
        i32::MIN,
    ] {
        fails_cleanly(&h, Errno::EINVAL, || h.fork(init, NONE, Some(bad)));
    }
    // Taken: the linear number of an existing task.
    fails_cleanly(&h, Errno::EEXIST, || h.fork(init, NONE, Some(child.pid)));
    assert!(
        !h.is_sparse(VpsId(1)).expect("vps"),
        "a failed fork does not switch modes"
    );
    // numproc: init + child + one more = 3.
    h.fork(init, NONE, None).expect("third task");
    fails_cleanly(&h, Errno::EAGAIN, || h.fork(init, NONE, None));
    fails_cleanly(&h, Errno::EAGAIN, || {
        h.fork(init, CloneFlags::CLONE_THREAD, None)
    });
    // A host fork ignores a chosen number, valid or not.
    let f = h.fork(h.init(), NONE, Some(1)).expect("host fork");
    assert_eq!(f.pid, f.child.real().as_raw());
}

#[test]
fn failed_fork_consumes_no_pid() {
    let h = host(32768);
    let init = h
        .create_vps(h.init(), VpsId(1), VpsConfig::default())
        .expect("vps");
    let a = h.fork(init, NONE, Some(5000 | VPID_DIV)).expect("chosen");
    fails_cleanly(&h, Errno::EEXIST, || h.fork(init, NONE, Some(a.pid)));
    let b = h.fork(init, NONE, None).expect("fork");
    // The failed fork's real PID was given back: b got the next one after a.
    assert_eq!(b.child.real().as_raw(), a.child.real().as_raw() + 1);
}

#[test]
fn exit_and_wait_errors() {
    let h = host(4096);
    fails_cleanly(&h, Errno::EPERM, || h.exit(h.init(), 0));
    let p = fork(&h, h.init());
    fails_cleanly(&h, Errno::ECHILD, || h.waitpid(p, -1, WaitOptions::empty()));
    let c = fork(&h, p);
    assert_eq!(h.waitpid(p, -1, WaitOptions::WNOHANG), Ok(None));
    assert_eq!(h.waitpid(p, -1, WaitOptions::empty()), Ok(None));
    for bad in [WaitOptions::WEXITED, WaitOptions::WNOWAIT] {
        fails_cleanly(&h, Errno::EINVAL, || h.waitpid(p, -1, bad));
    }
    fails_cleanly(&h, Errno::ESRCH, || {
        h.waitpid(p, i32::MIN, WaitOptions::empty())
    });
    fails_cleanly(&h, Errno::ECHILD, || {
        h.waitpid(p, c.real().as_raw() + 1, WaitOptions::empty())
    });
    fails_cleanly(&h, Errno::ECHILD, || {
        h.waitpid(p, c.real().as_raw() | VPID_DIV, WaitOptions::empty())
    });
    fails_cleanly(&h, Errno::ECHILD, || {
        h.waitpid(p, -(c.real().as_raw() + 1), WaitOptions::empty())
    });
    h.exit(c, 300).expect("exit");
    let w = h
        .waitpid(p, c.real().as_raw(), WaitOptions::empty())
        .expect("wait")
        .expect("child");
    assert_eq!(w.status, WaitStatus::Exited(300 & 0xff));
}

#[test]
fn group_session_and_signal_errors() {
    let h = host(4096);
    let p = fork(&h, h.init());
    h.setsid(p).expect("setsid");
    let c = fork(&h, p);
    let other = fork(&h, h.init());
    fails_cleanly(&h, Errno::EINVAL, || h.setpgid(p, 0, -5));
    fails_cleanly(&h, Errno::ESRCH, || h.setpgid(p, other.real().as_raw(), 0));
    fails_cleanly(&h, Errno::ESRCH, || h.setpgid(p, 4000, 0));
    fails_cleanly(&h, Errno::EPERM, || h.setpgid(p, 0, 0)); // a session leader
    fails_cleanly(&h, Errno::EPERM, || h.setpgid(c, 0, 3999)); // no such group
    fails_cleanly(&h, Errno::EPERM, || h.setpgid(c, 0, 1)); // a group in another session
    fails_cleanly(&h, Errno::EPERM, || h.setsid(p)); // already a session leader
    let t = h
        .fork(c, CloneFlags::CLONE_THREAD, None)
        .expect("thread")
        .child;
    fails_cleanly(&h, Errno::EINVAL, || h.setpgid(c, t.real().as_raw(), 0)); // not a leader
    h.setpgid(c, 0, 0).expect("own group");
    fails_cleanly(&h, Errno::EPERM, || h.setsid(c)); // a group leader
    let g = fork(&h, p);
    h.exec(g).expect("exec");
    fails_cleanly(&h, Errno::EACCES, || h.setpgid(p, g.real().as_raw(), 0));
    for bad in [
        Signal(0),
        Signal(65),
        Signal(-1),
        Signal::SIGKILL,
        Signal::SIGSTOP,
    ] {
        fails_cleanly(&h, Errno::EINVAL, || {
            h.sigaction(c, bad, Disposition::Ignore)
        });
    }
    fails_cleanly(&h, Errno::EINVAL, || h.kill(c, 1, Signal(65)));
    fails_cleanly(&h, Errno::ESRCH, || h.kill(c, i32::MIN, Signal::SIGTERM));
    fails_cleanly(&h, Errno::ESRCH, || h.kill(c, 4000, Signal::SIGTERM));
    fails_cleanly(&h, Errno::ESRCH, || h.kill(c, -4000, Signal::SIGTERM));
    fails_cleanly(&h, Errno::ESRCH, || {
        h.kill(c, -(4000 | VPID_DIV), Signal::SIGTERM)
    });
    assert_eq!(h.getpgid(c, 4000), Err(Errno::ESRCH));
    assert_eq!(h.getsid(c, -3), Err(Errno::ESRCH));
}

#[test]
fn enter_errors() {
    let h = host(32768);
    let init = h
        .create_vps(h.init(), VpsId(1), VpsConfig { numproc: Some(2) })
        .expect("vps");
    fails_cleanly(&h, Errno::EPERM, || h.enter(init, VpsId(1)));
    fails_cleanly(&h, Errno::EPERM, || h.enter(h.init(), VpsId(1)));
    let t = fork(&h, h.init());
    fails_cleanly(&h, Errno::ESRCH, || h.enter(t, VpsId(2)));
    let th = h
        .fork(t, CloneFlags::CLONE_THREAD, None)
        .expect("thread")
        .child;
    fails_cleanly(&h, Errno::EINVAL, || h.enter(th, VpsId(1)));
    fails_cleanly(&h, Errno::EINVAL, || h.enter(t, VpsId(1)));
    h.exit(th, 0).expect("thread exit");
    h.fork(init, NONE, None).expect("second task");
    fails_cleanly(&h, Errno::EAGAIN, || h.enter(t, VpsId(1)));
    // A dying VPS: its init has exited and its parent has not reaped it.
    let manager = fork(&h, h.init());
    let init2 = h
        .create_vps(manager, VpsId(2), VpsConfig::default())
        .expect("vps 2");
    h.exit(init2, 0).expect("init exits");
    assert_eq!(h.is_dying(VpsId(2)), Ok(true));
    fails_cleanly(&h, Errno::ENOMEM, || h.enter(t, VpsId(2)));
    fails_cleanly(&h, Errno::EEXIST, || {
        h.create_vps(h.init(), VpsId(2), VpsConfig::default())
    });
    let w = h
        .waitpid(manager, -1, WaitOptions::empty())
        .expect("wait")
        .expect("init");
    assert_eq!(w.status, WaitStatus::Exited(0));
    assert_eq!(h.vps_ids(), vec![VpsId(1)], "reaping the init frees the id");
}

fn fork_until_full(h: &Host, parent: TaskRef) -> (Vec<TaskRef>, Errno) {
    let mut got = Vec::new();
    loop {
        match h.fork(parent, NONE, None) {
            Ok(f) => got.push(f.child),
            Err(e) => return (got, e),
        }
    }
}

fn reap_all(h: &Host, parent: TaskRef, tasks: &[TaskRef]) {
    for t in tasks {
        h.exit(*t, 0).expect("exit");
        h.waitpid(parent, t.real().as_raw(), WaitOptions::empty())
            .expect("wait")
            .expect("zombie");
    }
}

#[test]
fn host_pid_exhaustion_then_reuse() {
    let h = host(3000);
    let (first, err) = fork_until_full(&h, h.init());
    assert_eq!(err, Errno::EAGAIN);
    // 2..=1023 and 2048..=2999: every number without the marker bit.
    assert_eq!(first.len(), 1022 + 952);
    assert!(first.iter().all(|t| t.real().as_raw() & VPID_DIV == 0));
    fails_cleanly(&h, Errno::EAGAIN, || {
        h.create_vps(h.init(), VpsId(1), VpsConfig::default())
    });
    reap_all(&h, h.init(), &first);
    assert_only_host_init(&h);
    // After the wrap, every number from RESERVED_PIDS up is handed out again.
    let (second, err) = fork_until_full(&h, h.init());
    assert_eq!(err, Errno::EAGAIN);
    let mut got: Vec<i32> = second.iter().map(|t| t.real().as_raw()).collect();
    got.sort_unstable();
    let want: Vec<i32> = (300..3000).filter(|p| p & VPID_DIV == 0).collect();
    assert_eq!(got, want);
    reap_all(&h, h.init(), &second);
    assert_only_host_init(&h);
}

#[test]
fn vps_virtual_pid_exhaustion_then_reuse() {
    // pid_max 3000: the marker-bit numbers below it are 1024..=2047. In
    // sparse mode, automatic numbers stay below pid_max, so the VPS fills
    // before the host does.
    let h = host(3000);
    let init = h
        .create_vps(h.init(), VpsId(1), VpsConfig::default())
        .expect("vps");
    let chosen = h.fork(init, NONE, Some(2047)).expect("chosen");
    assert!(h.is_sparse(VpsId(1)).expect("vps"));
    let (tasks, err) = fork_until_full(&h, init);
    assert_eq!(err, Errno::EAGAIN);
    let mut vpids: Vec<i32> = tasks
        .iter()
        .map(|t| h.pid_of(Viewer::Task(init), *t).unwrap())
        .collect();
    vpids.push(2047);
    vpids.sort_unstable();
    vpids.dedup();
    assert!(vpids.iter().all(|v| v & VPID_DIV != 0 && *v < 3000));
    assert!(h.usage().tasks < 1975, "the host still has real PIDs left");
    h.fork(h.init(), NONE, None).expect("the host is not full");
    // Free everything in the VPS, then fill it again.
    let mut all = tasks.clone();
    all.push(chosen.child);
    reap_all(&h, init, &all);
    let (again, err) = fork_until_full(&h, init);
    assert_eq!(err, Errno::EAGAIN);
    // The real cursor has wrapped to 300 and the probe wraps to 1324, so the
    // second fill uses exactly the marker-bit numbers 1324..=2047 (numbers
    // below them come only before a wrap, as real PIDs below 300 do).
    let mut vpids: Vec<i32> = again
        .iter()
        .map(|t| h.pid_of(Viewer::Task(init), *t).unwrap())
        .collect();
    vpids.sort_unstable();
    assert_eq!(vpids, (1324..=2047).collect::<Vec<i32>>());
    h.audit().expect("invariants");
}

#[test]
fn wrap_around_skips_the_marker_bit_and_returns_to_300() {
    let h = host(2100);
    let mut seen = Vec::new();
    for _ in 0..1200 {
        let t = fork(&h, h.init());
        seen.push(t.real().as_raw());
        h.exit(t, 0).expect("exit");
        h.waitpid(h.init(), -1, WaitOptions::empty()).expect("wait");
    }
    // 2..=1023, then 2048..=2099, then back to 300.
    assert_eq!(&seen[..3], &[2, 3, 4]);
    let i = seen.iter().position(|p| *p == 1023).expect("1023");
    assert_eq!(&seen[i + 1..i + 3], &[2048, 2049]);
    let j = seen.iter().position(|p| *p == 2099).expect("2099");
    assert_eq!(seen[j + 1], 300);
    assert!(seen.iter().all(|p| RealPid::from_raw(*p).is_some()));
    assert_only_host_init(&h);
}

#[test]
fn group_and_session_numbers_stay_reserved_after_their_leader_dies() {
    let h = host(400);
    // Move the cursor past 300 so every number comes back after a wrap.
    let leader = stale(&h);
    let leader = loop {
        let t = fork(&h, h.init());
        if t.real() > leader.real() {
            break t;
        }
    };
    let number = leader.real().as_raw();
    h.setsid(leader).expect("leader of a session and group");
    let member = fork(&h, leader);
    h.exit(leader, 0).expect("leader exits");
    h.waitpid(h.init(), number, WaitOptions::empty())
        .expect("reap leader");
    assert_eq!(h.getpgid(member, 0), Ok(number));
    assert_eq!(h.getsid(member, 0), Ok(number));
    // Fill the host: the group's number is never handed out.
    let (all, err) = fork_until_full(&h, h.init());
    assert_eq!(err, Errno::EAGAIN);
    assert!(all.iter().all(|t| t.real().as_raw() != number));
    // Once the last member is gone, the number is free again.
    reap_all(&h, h.init(), &all);
    h.exit(member, 0).expect("member exits");
    // member's parent was the leader, so the host init adopted and reaped it.
    assert_eq!(h.pid_of(Viewer::Host, member), Err(Errno::ESRCH));
    let (again, _) = fork_until_full(&h, h.init());
    assert!(again.iter().any(|t| t.real().as_raw() == number));
}
