//! Behaviour of the pspace process table.

use pspace::{Config, PidSpaces, SpaceId, TaskState, Viewer};
use quickcheck::{TestResult, quickcheck};
use vpid_core::{Errno, RESERVED_PIDS};

fn host() -> PidSpaces {
    PidSpaces::new(Config::default()).expect("default config is valid")
}

#[test]
fn config_is_checked() {
    for bad in [
        Config {
            pid_max: RESERVED_PIDS,
            ..Config::default()
        },
        Config {
            pid_max: vpid_core::PID_MAX_LIMIT + 1,
            ..Config::default()
        },
        Config {
            max_tasks: 0,
            ..Config::default()
        },
    ] {
        assert_eq!(PidSpaces::new(bad).err(), Some(Errno::EINVAL));
    }
}

#[test]
fn leaders_have_two_numbers_and_others_one() {
    let h = host();
    let init = h.init();
    assert_eq!(h.getpid(init), Ok(1));
    let leader = h.create_space(init).unwrap();
    assert!(leader.pid > 1);
    assert_eq!(h.getpid(leader.child), Ok(1));
    assert_eq!(h.getppid(leader.child), Ok(0));
    assert_eq!(h.getpgid(leader.child), Ok(1));
    assert_eq!(h.pid_of(Viewer::Host, leader.child), Ok(leader.pid));
    assert_eq!(h.find(Viewer::Host, leader.pid), Ok(leader.child));
    let inside = Viewer::Task(leader.child);
    assert_eq!(h.find(inside, 1), Ok(leader.child));
    assert_eq!(
        h.pid_of(inside, init),
        Ok(0),
        "the host init is invisible inside"
    );

    let child = h.fork(leader.child, None).unwrap();
    assert_eq!(h.getppid(child.child), Ok(1));
    assert_eq!(
        h.pid_of(Viewer::Host, child.child),
        Ok(0),
        "not visible from the host"
    );
    assert_eq!(
        h.find(Viewer::Host, child.pid).ok(),
        h.find(Viewer::Host, child.pid).ok()
    );
    assert_ne!(h.find(Viewer::Host, child.pid), Ok(child.child));
    assert_eq!(h.space_of(child.child), h.space_of(leader.child));
    assert_ne!(h.space_of(child.child), Ok(SpaceId::HOST));
    assert_eq!(h.visible_pids(inside), Ok(vec![1, child.pid]));
    assert_eq!(h.visible_pids(Viewer::Host), Ok(vec![1, leader.pid]));
}

#[test]
fn chosen_pids_follow_the_bitmap_rules() {
    let h = host();
    let leader = h.create_space(h.init()).unwrap().child;
    assert_eq!(h.fork(leader, Some(1)).err(), Some(Errno::EEXIST));
    assert_eq!(h.fork(leader, Some(0)).err(), Some(Errno::EINVAL));
    assert_eq!(
        h.fork(leader, Some(h.config().pid_max)).err(),
        Some(Errno::EINVAL)
    );
    let a = h.fork(leader, Some(777)).unwrap();
    assert_eq!(a.pid, 777);
    assert_eq!(h.fork(leader, Some(777)).err(), Some(Errno::EEXIST));
    // Another pspace has its own numbers: 777 is free there.
    let other = h.create_space(h.init()).unwrap().child;
    assert_eq!(h.fork(other, Some(777)).map(|f| f.pid), Ok(777));
}

#[test]
fn exit_reap_and_reparenting() {
    let h = host();
    let leader = h.create_space(h.init()).unwrap().child;
    let parent = h.fork(leader, None).unwrap();
    let child = h.fork(parent.child, None).unwrap();
    assert_eq!(
        h.reap(leader, child.pid),
        Err(Errno::ECHILD),
        "not its child"
    );
    assert_eq!(h.reap(parent.child, child.pid), Ok(None), "still running");
    h.exit(parent.child, 5).unwrap();
    assert_eq!(h.exit(parent.child, 5), Err(Errno::ESRCH));
    assert_eq!(h.state(parent.child), Ok(TaskState::Zombie(5)));
    assert_eq!(h.getppid(child.child), Ok(1), "reparented to the leader");
    assert_eq!(h.reap(leader, parent.pid), Ok(Some(5)));
    assert_eq!(h.getpid(parent.child), Err(Errno::ESRCH));
    assert_eq!(h.find(Viewer::Task(leader), parent.pid), Err(Errno::ESRCH));
    h.exit(child.child, -1).unwrap();
    assert_eq!(
        h.reap(leader, child.pid),
        Ok(Some(255)),
        "the low 8 bits, as wait"
    );
    assert_eq!(h.exit(h.init(), 0), Err(Errno::EPERM));
}

#[test]
fn leader_exit_kills_the_pspace_and_nested_ones() {
    let h = host();
    let before = h.task_count();
    let outer = h.create_space(h.init()).unwrap();
    let worker = h.fork(outer.child, None).unwrap();
    let inner = h.create_space(worker.child).unwrap();
    let deep = h.fork(inner.child, None).unwrap();
    assert_eq!(
        h.pid_of(Viewer::Task(outer.child), inner.child),
        Ok(inner.pid)
    );
    assert_eq!(h.pid_of(Viewer::Task(outer.child), deep.child), Ok(0));
    h.exit(outer.child, 9).unwrap();
    for gone in [worker.child, inner.child, deep.child] {
        assert_eq!(h.getpid(gone), Err(Errno::ESRCH));
    }
    assert_eq!(h.reap(h.init(), outer.pid), Ok(Some(9)));
    assert_eq!(h.task_count(), before);
    assert_eq!(h.find(Viewer::Host, outer.pid), Err(Errno::ESRCH));
}

#[test]
fn process_groups() {
    let h = host();
    let leader = h.create_space(h.init()).unwrap().child;
    let boss = h.fork(leader, None).unwrap();
    h.setpgid(boss.child, 0, 0).unwrap();
    let members: Vec<_> = (0..5).map(|_| h.fork(boss.child, None).unwrap()).collect();
    let inside = Viewer::Task(leader);
    assert_eq!(h.kill_group(inside, boss.pid), Ok(6));
    assert_eq!(h.group_members(inside, boss.pid).map(|m| m.len()), Ok(6));
    assert_eq!(
        h.kill_group(Viewer::Host, boss.pid),
        Err(Errno::ESRCH),
        "other pspace"
    );
    assert_eq!(h.setpgid(boss.child, members[0].pid, 1), Ok(()));
    assert_eq!(h.kill_group(inside, boss.pid), Ok(5));
    assert_eq!(
        h.setpgid(boss.child, members[1].pid, 4242),
        Err(Errno::EPERM)
    );
    assert_eq!(h.setpgid(leader, 0, 0), Err(Errno::EPERM));
    assert_eq!(h.setpgid(boss.child, 0, -1), Err(Errno::EINVAL));
    assert_eq!(h.setpgid(members[2].child, boss.pid, 0), Err(Errno::ESRCH));
}

#[test]
fn full_table_and_full_pspace_say_eagain() {
    let h = PidSpaces::new(Config {
        pid_max: RESERVED_PIDS + 10,
        max_tasks: 400,
    })
    .unwrap();
    let mut n = 0;
    let err = loop {
        match h.fork(h.init(), None) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::EAGAIN);
    assert_eq!(n, RESERVED_PIDS as usize + 8);
    let small = PidSpaces::new(Config {
        max_tasks: 3,
        ..Config::default()
    })
    .unwrap();
    small.fork(small.init(), None).unwrap();
    small.fork(small.init(), None).unwrap();
    assert_eq!(small.fork(small.init(), None).err(), Some(Errno::EAGAIN));
    assert_eq!(small.task_count(), 3, "a failed fork leaves nothing behind");
}

#[test]
fn readers_and_a_forking_writer_agree() {
    let h = host();
    let leader = h.create_space(h.init()).unwrap().child;
    let stable: Vec<_> = (0..50).map(|_| h.fork(leader, None).unwrap()).collect();
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            for _ in 0..2000 {
                for f in &stable {
                    assert_eq!(h.find(Viewer::Task(leader), f.pid), Ok(f.child));
                    assert_eq!(h.getpid(f.child), Ok(f.pid));
                }
            }
        });
        while !reader.is_finished() {
            let f = h.fork(leader, None).unwrap();
            h.exit(f.child, 0).unwrap();
            assert_eq!(h.reap(leader, f.pid), Ok(Some(0)));
        }
    });
}

quickcheck! {
    /// After any sequence of forks, new pspaces, exits and reaps, every live
    /// task is found under its own number in its own pspace, and under its
    /// wid in the parent pspace if it leads one.
    fn every_task_is_found_by_its_numbers(ops: Vec<(u8, u8)>) -> TestResult {
        let h = host();
        let mut tasks = vec![h.init()];
        for (op, pick) in ops {
            let t = tasks[usize::from(pick) % tasks.len()];
            match op % 4 {
                0 => if let Ok(f) = h.fork(t, None) { tasks.push(f.child) },
                1 => if let Ok(f) = h.create_space(t) { tasks.push(f.child) },
                2 => { let _ = h.exit(t, 1); }
                _ => {
                    if let Ok(ppid) = h.getppid(t) {
                        if let Some(parent) = tasks.iter().copied().find(|p| h.getpid(*p) == Ok(ppid) && h.space_of(*p) == h.space_of(t)) {
                            let nr = h.pid_of(Viewer::Task(parent), t).unwrap_or(0);
                            let _ = h.reap(parent, nr);
                        }
                    }
                }
            }
            tasks.retain(|t| h.getpid(*t).is_ok());
        }
        for &t in &tasks {
            let own = Viewer::Task(t);
            let pid = h.getpid(t).unwrap();
            if h.find(own, pid) != Ok(t) || h.pid_of(own, t) != Ok(pid) {
                return TestResult::failed();
            }
            let wid = h.pid_of(Viewer::Host, t).unwrap();
            if wid != 0 && h.find(Viewer::Host, wid) != Ok(t) {
                return TestResult::failed();
            }
        }
        TestResult::from_bool(h.task_count() == tasks.len())
    }
}

#[test]
fn a_group_keeps_its_number_after_its_leader() {
    let h = host();
    let leader = h.create_space(h.init()).unwrap().child;
    let boss = h.fork(leader, None).unwrap();
    h.setpgid(boss.child, 0, 0).unwrap();
    let member = h.fork(boss.child, None).unwrap();
    h.exit(boss.child, 0).unwrap();
    assert_eq!(h.reap(leader, boss.pid), Ok(Some(0)));
    assert_eq!(h.kill_group(Viewer::Task(leader), boss.pid), Ok(1));
    assert_eq!(h.fork(leader, Some(boss.pid)).err(), Some(Errno::EEXIST));
    h.exit(member.child, 0).unwrap();
    h.reap(leader, member.pid).unwrap();
    assert_eq!(h.fork(leader, Some(boss.pid)).map(|f| f.pid), Ok(boss.pid));
}

#[test]
fn concurrent_forks_get_distinct_numbers() {
    let h = std::sync::Arc::new(host());
    let before = h.task_count();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let h = std::sync::Arc::clone(&h);
            std::thread::spawn(move || {
                (0..200)
                    .map(|_| h.fork(h.init(), None).unwrap().pid)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut pids: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 400);
    assert_eq!(h.task_count(), before + 400);
}
