//! One test per item 14-27 of the semantics checklist
//! (`kernel-designs.md` §5), each named after its item.

use vpid_core::{CloneFlags, Errno, VPID_DIV, WaitOptions};
use vps::{
    Disposition, Host, HostConfig, RebootCmd, Signal, TaskRef, TaskState, Viewer, VpsConfig, VpsId,
    WaitStatus,
};

const NONE: CloneFlags = CloneFlags::empty();
const ID: VpsId = VpsId(101);

fn setup() -> (Host, TaskRef) {
    let host = Host::new(HostConfig::default()).expect("host");
    let init = host
        .create_vps(host.init(), ID, VpsConfig::default())
        .expect("vps");
    (host, init)
}

fn fork(h: &Host, parent: TaskRef) -> (TaskRef, i32) {
    let f = h.fork(parent, NONE, None).expect("fork");
    (f.child, f.pid)
}

fn alive(h: &Host, t: TaskRef) -> bool {
    h.getpid(t).is_ok()
}

fn state(h: &Host, t: TaskRef) -> Option<TaskState> {
    let ps = h.ps(Viewer::Host).expect("ps");
    ps.iter().find(|e| e.task == t).map(|e| e.state)
}

#[test]
fn checklist_14_vps_init_has_ids_one_and_vpses_do_not_nest() {
    let (h, init) = setup();
    assert_eq!(h.getpid(init), Ok(1));
    assert_eq!(h.gettid(init), Ok(1));
    assert_eq!(h.getpgid(init, 0), Ok(1));
    assert_eq!(h.getsid(init, 0), Ok(1));
    // Its real group and session are its real PID (a real setsid was done).
    let real = init.real().as_raw();
    assert_eq!(h.getpgid(h.init(), real), Ok(real));
    assert_eq!(h.getsid(h.init(), real), Ok(real));
    assert_eq!(h.pid_of(Viewer::Host, init), Ok(real));
    // No nesting: neither the init nor any task inside may create a VPS.
    let (child, _) = fork(&h, init);
    for t in [init, child] {
        assert_eq!(
            h.create_vps(t, VpsId(102), VpsConfig::default()),
            Err(Errno::EPERM)
        );
    }
}

#[test]
fn checklist_15_parent_pid_of_vps_init_is_zero() {
    let (h, init) = setup();
    let (child, _) = fork(&h, init);
    assert_eq!(h.getppid(init), Ok(0)); // not OpenVZ's host-parent quirk
    assert_eq!(h.getppid(child), Ok(1));
    let inside = h.ps(Viewer::Task(child)).expect("ps");
    assert_eq!(inside.iter().find(|e| e.pid == 1).map(|e| e.ppid), Some(0));
    // The host sees the real parent.
    let host_view = h.ps(Viewer::Host).expect("ps");
    let init_entry = host_view.iter().find(|e| e.task == init).expect("init");
    assert_eq!(init_entry.ppid, 1);
    // A task whose parent is outside the VPS (it entered) sees 0 too.
    let entered = fork(&h, h.init()).0;
    h.enter(entered, ID).expect("enter");
    assert_eq!(h.getppid(entered), Ok(0));
}

#[test]
fn checklist_16_signals_to_vps_init_from_inside_need_a_handler() {
    let (h, init) = setup();
    let (child, _) = fork(&h, init);
    for sig in [
        Signal::SIGTERM,
        Signal::SIGKILL,
        Signal::SIGSTOP,
        Signal::SIGTSTP,
        Signal::SIGHUP,
    ] {
        assert_eq!(h.kill(child, 1, sig), Ok(()), "{sig}");
        assert_eq!(
            state(&h, init),
            Some(TaskState::Running),
            "{sig} was dropped"
        );
    }
    h.sigaction(init, Signal::SIGTERM, Disposition::Handler)
        .expect("handler");
    h.kill(child, 1, Signal::SIGTERM).expect("kill");
    assert_eq!(h.pending_signals(init), Ok(vec![Signal::SIGTERM]));
    assert_eq!(h.take_signal(init), Ok(Some(Signal::SIGTERM)));
    // SIGKILL and SIGSTOP from inside are dropped even so.
    h.kill(child, 1, Signal::SIGKILL).expect("kill");
    h.kill(child, 1, Signal::SIGSTOP).expect("kill");
    assert_eq!(state(&h, init), Some(TaskState::Running));
    // From the host they are delivered.
    h.kill(h.init(), init.real().as_raw(), Signal::SIGSTOP)
        .expect("stop");
    assert_eq!(state(&h, init), Some(TaskState::Stopped));
    h.kill(h.init(), init.real().as_raw(), Signal::SIGCONT)
        .expect("cont");
    h.kill(h.init(), init.real().as_raw(), Signal::SIGHUP)
        .expect("hup");
    let w = h
        .waitpid(h.init(), init.real().as_raw(), WaitOptions::empty())
        .expect("wait");
    assert_eq!(
        w.map(|w| w.status),
        Some(WaitStatus::Signaled(Signal::SIGHUP))
    );
    assert_eq!(h.vps_ids(), vec![]);
}

#[test]
fn checklist_17_vps_init_exit_kills_and_reaps_the_whole_vps() {
    let h = Host::new(HostConfig::default()).expect("host");
    let manager = fork(&h, h.init()).0;
    let init = h
        .create_vps(manager, ID, VpsConfig::default())
        .expect("vps");
    let (a, _) = fork(&h, init);
    let (b, _) = fork(&h, a);
    let thread = h
        .fork(b, CloneFlags::CLONE_THREAD, None)
        .expect("thread")
        .child;
    let (c, _) = fork(&h, b);
    h.exit(c, 3).expect("a zombie inside");
    h.exit(init, 9).expect("init exits");
    for t in [a, b, thread, c] {
        assert_eq!(h.pid_of(Viewer::Host, t), Err(Errno::ESRCH), "{t} reaped");
    }
    assert_eq!(h.is_dying(ID), Ok(true));
    assert_eq!(state(&h, init), Some(TaskState::Zombie));
    // The manager that created the VPS reaps its init with its status.
    let w = h
        .waitpid(manager, -1, WaitOptions::empty())
        .expect("wait")
        .expect("init");
    assert_eq!(
        (w.pid, w.status),
        (init.real().as_raw(), WaitStatus::Exited(9))
    );
    assert_eq!(h.vps_ids(), vec![]);
    assert_eq!(h.usage().tasks, 2);
    // The host init itself cannot exit.
    assert_eq!(h.exit(h.init(), 0), Err(Errno::EPERM));
}

#[test]
fn checklist_18_reboot_inside_a_vps_kills_its_init() {
    let (h, init) = setup();
    let (child, _) = fork(&h, init);
    for cmd in [RebootCmd::CadOn, RebootCmd::CadOff] {
        assert_eq!(h.reboot(child, cmd.raw()), Ok(()));
    }
    assert_eq!(h.reboot(child, 0xdead), Err(Errno::EINVAL));
    assert_eq!(
        h.reboot(h.init(), RebootCmd::Restart.raw()),
        Err(Errno::EPERM)
    );
    assert!(alive(&h, init));
    assert_eq!(h.reboot(child, RebootCmd::Restart.raw()), Ok(()));
    assert!(!alive(&h, child));
    let w = h
        .waitpid(h.init(), -1, WaitOptions::empty())
        .expect("wait")
        .expect("init");
    assert_eq!(w.status, WaitStatus::Signaled(Signal::SIGKILL));
    for cmd in [RebootCmd::Halt, RebootCmd::PowerOff, RebootCmd::Restart2] {
        let init = h
            .create_vps(h.init(), ID, VpsConfig::default())
            .expect("vps");
        assert_eq!(h.reboot(init, cmd.raw()), Ok(()));
        assert_eq!(h.is_dying(ID), Ok(true), "{cmd:?}");
        h.waitpid(h.init(), -1, WaitOptions::empty()).expect("wait");
    }
}

#[test]
fn checklist_19_orphans_go_to_the_vps_init_and_the_init_to_the_host_init() {
    let h = Host::new(HostConfig::default()).expect("host");
    let manager = fork(&h, h.init()).0;
    let init = h
        .create_vps(manager, ID, VpsConfig::default())
        .expect("vps");
    let (parent, _) = fork(&h, init);
    let (orphan, _) = fork(&h, parent);
    h.exit(parent, 0).expect("exit");
    assert_eq!(h.getppid(orphan), Ok(1));
    assert!(
        h.waitpid(init, -1, WaitOptions::empty())
            .expect("wait")
            .is_some()
    );
    // The orphan is now the init's child: it can wait for it.
    h.exit(orphan, 4).expect("exit");
    let w = h
        .waitpid(init, -1, WaitOptions::empty())
        .expect("wait")
        .expect("orphan");
    assert_eq!(w.status, WaitStatus::Exited(4));
    // The VPS init orphaned: the host init adopts it (and reaps it at exit).
    h.exit(manager, 0).expect("manager exits");
    h.waitpid(h.init(), manager.real().as_raw(), WaitOptions::empty())
        .expect("reap manager");
    let host_view = h.ps(Viewer::Host).expect("ps");
    assert_eq!(
        host_view.iter().find(|e| e.task == init).map(|e| e.ppid),
        Some(1)
    );
    assert_eq!(h.getppid(init), Ok(0));
    h.exit(init, 0).expect("init exits");
    assert_eq!(h.vps_ids(), vec![], "the host init reaped the adopted init");
    assert_eq!(h.usage().tasks, 1);
}

#[test]
fn checklist_20_kill_pid_uses_the_vps_lookup() {
    let (h, init) = setup();
    let other = h
        .create_vps(h.init(), VpsId(102), VpsConfig::default())
        .expect("vps");
    let (a, va) = fork(&h, init);
    let (b, _) = fork(&h, init);
    let (x, vx) = fork(&h, other);
    let host_task = fork(&h, h.init()).0;
    assert_eq!(h.kill(a, va, Signal(0)), Ok(()));
    assert_eq!(
        h.kill(a, b.real().as_raw(), Signal(0)),
        Ok(()),
        "a real PID of the same VPS"
    );
    assert_eq!(
        h.kill(a, x.real().as_raw(), Signal::SIGKILL),
        Err(Errno::ESRCH)
    );
    assert_eq!(
        h.kill(a, host_task.real().as_raw(), Signal::SIGKILL),
        Err(Errno::ESRCH)
    );
    assert_eq!(
        h.kill(a, vx, Signal::SIGKILL),
        Err(Errno::ESRCH),
        "vx is not used in this VPS"
    );
    assert_eq!(
        h.kill(a, init.real().as_raw() | VPID_DIV, Signal(0)),
        Err(Errno::ESRCH),
        "init's alias"
    );
    assert_eq!(
        h.kill(h.init(), va, Signal(0)),
        Err(Errno::ESRCH),
        "marker numbers mean nothing on the host"
    );
    h.kill(a, b.real().as_raw(), Signal::SIGTERM).expect("kill");
    assert!(!alive(&h, b));
    assert!(alive(&h, x) && alive(&h, host_task));
}

#[test]
fn checklist_21_kill_zero_signals_the_callers_group() {
    let (h, init) = setup();
    let (leader, vl) = fork(&h, init);
    h.setpgid(leader, 0, 0).expect("new group");
    let (m1, _) = fork(&h, leader);
    let (m2, _) = fork(&h, leader);
    let (outsider, _) = fork(&h, init);
    assert_eq!(h.getpgid(m1, 0), Ok(vl));
    h.sigaction(leader, Signal::SIGUSR1, Disposition::Handler)
        .expect("handler");
    h.kill(m1, 0, Signal::SIGUSR1).expect("kill 0");
    assert!(!alive(&h, m1) && !alive(&h, m2), "the group's members died");
    assert_eq!(h.pending_signals(leader), Ok(vec![Signal::SIGUSR1]));
    assert!(alive(&h, outsider) && alive(&h, init));
}

#[test]
fn checklist_22_kill_minus_one_skips_vps_inits() {
    let (h, init) = setup();
    let init2 = h
        .create_vps(h.init(), VpsId(102), VpsConfig::default())
        .expect("vps");
    assert_eq!(
        h.kill(init, -1, Signal::SIGTERM),
        Err(Errno::ESRCH),
        "nobody else in the VPS"
    );
    let (a, _) = fork(&h, init);
    let (b, _) = fork(&h, init);
    let (c, _) = fork(&h, init2);
    let caller = fork(&h, h.init()).0;
    let (host_task, _) = fork(&h, h.init());
    // From inside: everyone in the VPS but its init and the caller.
    h.kill(a, -1, Signal::SIGTERM).expect("kill -1");
    assert!(alive(&h, a) && !alive(&h, b) && alive(&h, init) && alive(&h, c));
    // From the host: every task but the host init, the caller and every VPS init.
    h.kill(caller, -1, Signal::SIGTERM).expect("kill -1");
    assert!(!alive(&h, a) && !alive(&h, c) && !alive(&h, host_task));
    assert!(alive(&h, caller) && alive(&h, init) && alive(&h, init2) && alive(&h, h.init()));
}

#[test]
fn checklist_23_kill_minus_group_translates_virtual_groups() {
    let (h, init) = setup();
    let other = h
        .create_vps(h.init(), VpsId(102), VpsConfig::default())
        .expect("vps");
    let (leader, vl) = fork(&h, init);
    h.setpgid(leader, 0, 0).expect("group");
    let (member, _) = fork(&h, leader);
    let (x, _) = fork(&h, other);
    h.setpgid(x, 0, 0).expect("group in the other VPS");
    assert_eq!(
        h.kill(init, -(x.real().as_raw()), Signal::SIGTERM),
        Err(Errno::ESRCH)
    );
    assert_eq!(
        h.kill(init, -(vl + 2048), Signal::SIGTERM),
        Err(Errno::ESRCH),
        "unknown group"
    );
    assert_eq!(
        h.kill(h.init(), -vl, Signal::SIGTERM),
        Err(Errno::ESRCH),
        "virtual on the host"
    );
    h.kill(init, -vl, Signal::SIGTERM).expect("kill -vpgid");
    assert!(!alive(&h, leader) && !alive(&h, member) && alive(&h, x));
    h.kill(h.init(), -(x.real().as_raw()), Signal::SIGTERM)
        .expect("kill -pgid from the host");
    assert!(!alive(&h, x));
}

#[test]
fn checklist_24_wait_matches_virtual_or_real_numbers() {
    let (h, init) = setup();
    let (a, va) = fork(&h, init);
    let (b, _) = fork(&h, init);
    let (c, vc) = fork(&h, init);
    h.setpgid(c, 0, 0).expect("c leads a group");
    for t in [a, b, c] {
        h.exit(t, 1).expect("exit");
    }
    let by_virtual = h
        .waitpid(init, va, WaitOptions::empty())
        .expect("wait")
        .expect("a");
    assert_eq!(by_virtual.pid, va);
    let by_real = h
        .waitpid(init, b.real().as_raw(), WaitOptions::empty())
        .expect("wait")
        .expect("b");
    assert_eq!(
        by_real.pid,
        b.real().as_raw() | VPID_DIV,
        "reported virtual inside"
    );
    assert_eq!(
        h.waitpid(init, 0, WaitOptions::empty()),
        Err(Errno::ECHILD),
        "c left the group"
    );
    let by_group = h
        .waitpid(init, -vc, WaitOptions::empty())
        .expect("wait")
        .expect("c");
    assert_eq!(by_group.pid, vc);
    // The host reports real PIDs.
    let (d, _) = fork(&h, h.init());
    h.exit(d, 0).expect("exit");
    let w = h
        .waitpid(h.init(), 0, WaitOptions::empty())
        .expect("wait")
        .expect("d");
    assert_eq!(w.pid, d.real().as_raw());
}

#[test]
fn checklist_25_setpgid_cases() {
    let (h, init) = setup();
    let (shell, vshell) = fork(&h, init);
    h.setsid(shell).expect("session");
    let (job, vjob) = fork(&h, shell);
    let (job2, vjob2) = fork(&h, shell);
    // Self and child, virtual numbers in, both numbers kept.
    h.setpgid(shell, vjob, vjob)
        .expect("child into its own group");
    h.setpgid(job2, 0, vjob)
        .expect("self into the sibling's group");
    assert_eq!(h.getpgid(job2, 0), Ok(vjob));
    assert_eq!(
        h.getpgid(h.init(), job2.real().as_raw()),
        Ok(job.real().as_raw())
    );
    // pgid 0 = pid; negative pgid.
    h.setpgid(shell, vjob2, 0).expect("own group");
    assert_eq!(h.getpgid(shell, vjob2), Ok(vjob2));
    assert_eq!(h.setpgid(shell, vjob, -1), Err(Errno::EINVAL));
    // The session leader cannot move; a non-child cannot be moved.
    assert_eq!(h.setpgid(shell, 0, vjob), Err(Errno::EPERM));
    assert_eq!(h.setpgid(job, vshell, vjob), Err(Errno::ESRCH));
    // A child in another session; a group in another session; no such group.
    let (grandchild, vg) = fork(&h, job);
    h.setsid(grandchild).expect("its own session");
    assert_eq!(h.setpgid(job, vg, vjob), Err(Errno::EPERM));
    assert_eq!(h.setpgid(job2, 0, vg), Err(Errno::EPERM));
    assert_eq!(h.setpgid(job2, 0, 1), Err(Errno::EPERM));
    assert_eq!(h.setpgid(job2, 0, vg + 4096), Err(Errno::EPERM));
    // A child that has exec'd.
    h.exec(job).expect("exec");
    assert_eq!(h.setpgid(shell, vjob, vjob2), Err(Errno::EACCES));
    // A group whose leader died still exists while members remain.
    h.setpgid(job2, 0, vjob).expect("back into job's group");
    h.exit(job, 0).expect("exit");
    h.waitpid(shell, vjob, WaitOptions::empty()).expect("reap");
    let (late, _) = fork(&h, shell);
    assert_eq!(
        h.getpgid(job2, 0),
        Ok(vjob),
        "job2 keeps the group of its dead leader"
    );
    h.setpgid(late, 0, vjob).expect("join the leaderless group");
    assert_eq!(
        h.fork(init, NONE, Some(vjob)).err(),
        Some(Errno::EEXIST),
        "the group number stays taken"
    );
}

#[test]
fn checklist_26_setsid_rules() {
    let (h, init) = setup();
    assert_eq!(
        h.setsid(init),
        Err(Errno::EPERM),
        "already a session leader"
    );
    let (a, va) = fork(&h, init);
    assert_eq!(h.setsid(a), Ok(va));
    assert_eq!((h.getpgid(a, 0), h.getsid(a, 0)), (Ok(va), Ok(va)));
    assert_eq!(h.getsid(h.init(), a.real().as_raw()), Ok(a.real().as_raw()));
    assert_eq!(h.setsid(a), Err(Errno::EPERM));
    let (b, vb) = fork(&h, a);
    h.setpgid(b, 0, 0).expect("group leader");
    assert_eq!(h.setsid(b), Err(Errno::EPERM), "a group leader");
    let (c, vc) = fork(&h, a);
    h.setpgid(c, 0, vb).expect("join b");
    assert_eq!(h.setsid(c), Ok(vc));
    assert_eq!(h.getsid(c, 0), Ok(vc));
}

#[test]
fn checklist_27_enter_gives_a_virtual_pid_only_to_a_lone_task() {
    let (h, init) = setup();
    // Alone in its group and session: a fresh linear virtual PID.
    let alone = fork(&h, h.init()).0;
    h.setsid(alone).expect("setsid");
    let v = h.enter(alone, ID).expect("enter");
    assert_eq!(v, alone.real().as_raw() | VPID_DIV);
    assert_eq!(
        (h.getpid(alone), h.getpgid(alone, 0), h.getsid(alone, 0)),
        (Ok(v), Ok(v), Ok(v))
    );
    assert_eq!(h.lookup(init, v), Ok(alone));
    // Sharing the host init's group: keeps its real PID as its visible PID.
    let shared = fork(&h, h.init()).0;
    let real = shared.real().as_raw();
    assert_eq!(h.enter(shared, ID), Ok(real));
    assert_eq!(h.getpid(shared), Ok(real));
    assert_eq!(h.lookup(init, real), Ok(shared));
    assert_eq!(h.lookup(init, real | VPID_DIV), Err(Errno::ESRCH));
    let inside = h.ps(Viewer::Task(init)).expect("ps");
    assert!(inside.iter().any(|e| e.task == shared && e.pid == real));
    assert_eq!(h.vps_of(shared), Ok(Some(ID)));
    // Its children are born inside with virtual PIDs.
    let f = h.fork(shared, NONE, None).expect("fork");
    assert_eq!(f.pid, f.child.real().as_raw() | VPID_DIV);
}
