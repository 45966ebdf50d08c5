//! Threads, process limits, several hosts, and checkpoint and restore on
//! Linux: each scenario runs whole on the model and on real namespaces, and
//! the two agree number for number.

mod common;

use common::{linux_outcome, run_script};
use vps_linux::protocol::{Outcome, Seen};

/// The raw wait status of a child that exited with `code`.
fn exited(code: i32) -> i32 {
    code << 8
}

#[test]
fn threads_get_the_chosen_ids_and_end_alone_or_with_their_process() {
    let Some(both) = run_script(
        "threads_get_the_chosen_ids_and_end_alone_or_with_their_process",
        "
        create 101 init vinit
        fork app in 101 as 2000
        fork t1 from app thread as 2001
        fork t2 from app thread
        fork hostapp
        fork ht from hostapp thread
        expect getpid t1 == 2000
        expect gettid t1 == 2001
        kill ht SIGUSR2 from host
        exit t1 0
        fork child from t2 as 2047
        expect getppid child == 2000
        exit app 7
        expect waitpid vinit app == 2000 exited 7
        ",
    ) else {
        return;
    };
    assert_eq!(
        linux_outcome(&both, "thread(2001, 4)"),
        Outcome::Value(2001)
    );
    // SIGUSR2's default action kills the whole process, threads and all.
    let last = both.linux.last().expect("steps ran");
    assert!(
        last.processes
            .iter()
            .all(|(_, seen)| *seen != Seen::Stopped),
        "{last:?}"
    );
    assert_eq!(
        linux_outcome(&both, "waitpid(2000)"),
        Outcome::Waited {
            pid: 2000,
            status: exited(7)
        }
    );
}

#[test]
fn numproc_is_a_pids_cgroup_and_threads_and_zombies_count() {
    if vps_linux::cgroup::pids_controller().is_none() {
        common::say(
            "numproc_is_a_pids_cgroup_and_threads_and_zombies_count: \
             skipped: this machine has no pids cgroup controller",
        );
        return;
    }
    let Some(both) = run_script(
        "numproc_is_a_pids_cgroup_and_threads_and_zombies_count",
        "
        create 101 numproc 4 init vinit
        fork a in 101 as 1100
        fork at from a thread
        fork b in 101 as 1200
        expect fork from b fails EAGAIN
        expect fork from b thread fails EAGAIN
        exit at 0
        fork c from b as 1300
        exit c 0
        expect fork from b fails EAGAIN
        expect waitpid b c == 1300 exited 0
        fork d from b as 1301
        expect fork in 101 as 1400 fails EAGAIN
        ",
    ) else {
        return;
    };
    assert_eq!(
        linux_outcome(&both, "fork(1301, 7)"),
        Outcome::Value(1301),
        "a reaped zombie frees its slot"
    );
    assert_eq!(
        linux_outcome(&both, "fork(1400)"),
        Outcome::Failed(libc::EAGAIN)
    );
    assert!(
        vps_linux::cgroup::leftover_cgroups().is_empty()
            || std::env::var_os("VPS_LINUX_CONCURRENT").is_some(),
        "the run's cgroup is removed: {:?}",
        vps_linux::cgroup::leftover_cgroups()
    );
}

#[test]
fn a_restored_vps_keeps_its_sessions_groups_zombies_threads_and_handlers() {
    let Some(both) = run_script(
        "a_restored_vps_keeps_its_sessions_groups_zombies_threads_and_handlers",
        "
        host a
        create 101 init vinit
        # The model's init leads session 1 from the start; after this setsid
        # (init-setsid: EPERM in the model) the Linux init does too.
        expect setsid vinit fails EPERM
        fork old in 101 as 1300
        fork kid from old as 1310
        setsid old
        fork shell in 101 as 1200
        setsid shell
        fork job from shell as 1210
        fork job2 from shell as 1211
        setpgid shell job job
        setpgid shell job2 job
        fork bg from shell as 1220
        setpgid bg bg bg
        sigaction bg SIGTERM ignore
        sigaction job SIGUSR1 handler
        fork worker from job thread as 1215
        fork done from shell as 1230
        exit done 3
        fork killed from shell as 1240
        kill killed SIGKILL from shell
        checkpoint 101 to rich.img

        host b
        fork busy1
        fork busy2
        restore rich.img as 101
        let shell2 = 101:1200
        let job2b = 101:1211
        let bg2 = 101:1220
        let kid2 = 101:1310
        expect getsid kid2 == 1
        expect getpgid job2b == 1210
        kill -1210 SIGUSR1 from shell2
        kill bg2 SIGTERM from shell2
        expect sigaction bg2 SIGTERM default == ignore
        # job2 dies of SIGUSR1, job (which handles it) does not.
        expect waitpid shell2 -1 WNOHANG == 1211 signaled SIGUSR1
        expect waitpid shell2 -1 WNOHANG == 1230 exited 3
        expect waitpid shell2 -1 WNOHANG == 1240 signaled SIGKILL
        expect waitpid shell2 -1 WNOHANG == none
        ",
    ) else {
        return;
    };
    assert!(matches!(
        linux_outcome(&both, "restore(image 0, 10 tasks)"),
        Outcome::Value(_)
    ));
    assert_eq!(
        linux_outcome(&both, "waitpid(-1, WNOHANG)"),
        Outcome::NothingWaitable
    );
}

#[test]
fn a_restore_on_the_same_host_gets_new_real_pids_and_the_same_virtual_ones() {
    let Some(both) = run_script(
        "a_restore_on_the_same_host_gets_new_real_pids_and_the_same_virtual_ones",
        "
        create 101 init vinit
        fork web in 101 as 5500
        checkpoint 101 to web.img
        restore web.img as 102
        let web2 = 102:5500
        expect getpid web2 == 5500
        exit web2 4
        expect waitpid 102 web2 == 5500 exited 4
        expect getpid web == 5500
        ",
    ) else {
        return;
    };
    assert_eq!(
        linux_outcome(&both, "waitpid(5500)"),
        Outcome::Waited {
            pid: 5500,
            status: exited(4)
        }
    );
}

/// Runs a scenario whose Linux checkpoint or restore the stand-in must
/// refuse; the reason it gives. `None` when the test must be skipped.
fn refused(test: &str, text: &str) -> Option<String> {
    let mut agent = common::agent_or_skip(test)?;
    let script = vpsctl::scenario::parse_script(test, text).expect("the scenario parses");
    let converted = vps_linux::script::from_script(&script).expect("the model starts");
    match vps_linux::differential::run_both(&mut agent, &converted.plan) {
        Ok(both) => panic!("{test}: Linux ran it:\n{}", both.report()),
        Err(e) => Some(e.to_string()),
    }
}

#[test]
fn stopped_tasks_come_back_stopped_with_their_uncollected_stops_and_pending_signals() {
    let Some(both) = run_script(
        "stopped_tasks_come_back_stopped_with_their_uncollected_stops_and_pending_signals",
        "
        create 101 init vinit
        expect setsid vinit fails EPERM
        fork job in 101 as 1100
        fork job2 in 101 as 1101
        kill job SIGSTOP from vinit
        kill job2 SIGSTOP from vinit
        expect waitpid vinit job2 WUNTRACED == 1101 stopped SIGSTOP
        kill job SIGTERM from vinit
        checkpoint 101 to stopped.img
        host b
        restore stopped.img as 101
        let job1b = 101:1100
        let job2b = 101:1101
        expect state job1b == T
        expect waitpid 101 -1 WUNTRACED WNOHANG == 1100 stopped SIGSTOP
        expect waitpid 101 -1 WUNTRACED WNOHANG == none
        kill job1b SIGCONT from 101
        expect waitpid 101 job1b == 1100 signaled SIGTERM
        kill job2b SIGCONT from 101
        expect waitpid 101 job2b WCONTINUED == 1101 continued
        ",
    ) else {
        return;
    };
    assert_eq!(
        linux_outcome(&both, "waitpid(1100)"),
        Outcome::Waited {
            pid: 1100,
            status: libc::SIGTERM
        }
    );
}

#[test]
fn an_orphan_from_another_session_is_restored_with_clone_parent() {
    // `orphan` is a child of the VPS init in `shell`'s session: the restore
    // has its sibling `shell` fork it with CLONE_PARENT (what CRIU does for
    // such a task).
    let Some(both) = run_script(
        "an_orphan_from_another_session_is_restored_with_clone_parent",
        "
        create 101 init vinit
        fork shell in 101 as 1100
        fork worker from shell thread
        setsid shell
        fork mid from shell as 1101
        fork orphan from mid as 1102
        exit mid 0
        expect getppid orphan == 1
        expect getsid orphan == 1100
        checkpoint 101 to orphan.img
        host b
        restore orphan.img as 101
        let orphan2 = 101:1102
        expect getppid orphan2 == 1
        expect getsid orphan2 == 1100
        expect waitpid 101 -1 WNOHANG == none
        ",
    ) else {
        return;
    };
    assert!(matches!(
        linux_outcome(&both, "restore(image 0, 5 tasks)"),
        Outcome::Value(_)
    ));
}

#[test]
fn clone_parent_makes_a_sibling_on_both_sides() {
    run_script(
        "clone_parent_makes_a_sibling_on_both_sides",
        "
        create 101 init vinit
        fork a in 101 as 1100
        fork t from a thread
        fork b from a clone_parent as 1300
        fork c from t clone_parent as 1200
        expect getppid b == 1
        expect getppid c == 1
        exit b 3
        expect waitpid vinit -1 WNOHANG == 1300 exited 3
        ",
    );
}

#[test]
fn a_group_that_lost_its_leader_is_restored_with_a_helper_task() {
    // Group 1100 outlives its leader; on Linux a helper task with ID 1100
    // (virtual and real, as the model reserved them) makes it again, the
    // members join it, and the helper exits and is reaped.
    let Some(both) = run_script(
        "a_group_that_lost_its_leader_is_restored_with_a_helper_task",
        "
        create 101 init vinit
        expect setsid vinit fails EPERM
        fork a in 101 as 1100
        setpgid a a a
        fork b from a as 1101
        fork c from a as 1102
        exit a 0
        expect waitpid vinit a == 1100 exited 0
        expect getpgid b == 1100
        checkpoint 101 to lost.img
        host b
        restore lost.img as 101
        let b2 = 101:1101
        let c2 = 101:1102
        expect getpgid b2 == 1100
        expect getpgid c2 == 1100
        kill -1100 SIGTERM from 101
        expect waitpid 101 -1100 == 1101 signaled SIGTERM
        expect waitpid 101 -1100 == 1102 signaled SIGTERM
        ",
    ) else {
        return;
    };
    assert!(matches!(
        linux_outcome(&both, "restore(image 0, 3 tasks)"),
        Outcome::Value(_)
    ));
}

#[test]
fn a_session_that_lost_its_leader_is_refused_by_the_linux_checkpoint() {
    let Some(why) = refused(
        "a_session_that_lost_its_leader_is_refused_by_the_linux_checkpoint",
        "
        create 101 init vinit
        fork a in 101 as 1100
        setsid a
        fork b from a as 1101
        exit a 0
        expect waitpid vinit a == 1100 exited 0
        checkpoint 101 to lost.img
        ",
    ) else {
        return;
    };
    assert!(
        why.contains("its session 1100 has lost its leader"),
        "{why}"
    );
}
