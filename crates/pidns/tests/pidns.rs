//! Behaviour of the PID-namespace process table.

use pidns::{Config, MAX_PID_NS_LEVEL, NsId, PidNamespaces, TaskState, Viewer};
use quickcheck::{TestResult, quickcheck};
use vpid_core::{Errno, RESERVED_PIDS};

fn host() -> PidNamespaces {
    PidNamespaces::new(Config::default()).expect("default config is valid")
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
        assert_eq!(PidNamespaces::new(bad).err(), Some(Errno::EINVAL));
    }
}

#[test]
fn one_number_per_level() {
    let h = host();
    assert_eq!(h.getpid(h.init()), Ok(1));
    assert_eq!(h.getppid(h.init()), Ok(0));
    let init = h.create_ns(h.init()).unwrap();
    assert_eq!(h.getpid(init.child), Ok(1));
    assert_eq!(h.getppid(init.child), Ok(0), "the parent is outside");
    assert_eq!(
        h.getpgid(init.child),
        Ok(0),
        "the inherited group is outside"
    );
    assert_eq!(h.level_of(init.child), Ok(1));
    assert_eq!(h.numbers(init.child), Ok(vec![init.pid, 1]));
    let child = h.fork(init.child, &[]).unwrap();
    let numbers = h.numbers(child.child).unwrap();
    assert_eq!(numbers[1], child.pid);
    assert_eq!(h.pid_of(Viewer::Host, child.child), Ok(numbers[0]));
    assert_eq!(h.find(Viewer::Host, numbers[0]), Ok(child.child));
    assert_eq!(h.getppid(child.child), Ok(1));
    let inside = Viewer::Task(init.child);
    assert_eq!(h.pid_of(inside, h.init()), Ok(0), "ancestors are invisible");
    assert_eq!(h.find(inside, numbers[1]), Ok(child.child));
    assert_eq!(h.visible_pids(inside), Ok(vec![1, child.pid]));
    let mut all = vec![1, init.pid, numbers[0]];
    all.sort_unstable();
    assert_eq!(
        h.visible_pids(Viewer::Host),
        Ok(all),
        "the root sees everything"
    );
    assert_eq!(h.ns_of(child.child), h.ns_of(init.child));
    assert_ne!(h.ns_of(child.child), Ok(NsId::ROOT));
}

#[test]
fn nesting_stops_at_32_levels() {
    let h = host();
    let mut task = h.init();
    for level in 1..=MAX_PID_NS_LEVEL {
        task = h.create_ns(task).unwrap().child;
        assert_eq!(h.level_of(task), Ok(level));
    }
    assert_eq!(h.create_ns(task).err(), Some(Errno::ENOSPC));
    let deep = h.fork(task, &[]).unwrap();
    assert_eq!(h.numbers(deep.child).map(|n| n.len()), Ok(33));
    let root_nr = h.pid_of(Viewer::Host, deep.child).unwrap();
    assert_eq!(h.find(Viewer::Host, root_nr), Ok(deep.child));
}

#[test]
fn set_tid_follows_the_linux_errnos() {
    let h = host();
    let init = h.create_ns(h.init()).unwrap().child;
    let max = h.config().pid_max;
    assert_eq!(
        h.fork(init, &[500, 600, 700]).err(),
        Some(Errno::EINVAL),
        "longer than level + 1"
    );
    assert_eq!(h.fork(init, &[0]).err(), Some(Errno::EINVAL));
    assert_eq!(h.fork(init, &[max]).err(), Some(Errno::EINVAL));
    assert_eq!(h.fork(init, &[1]).err(), Some(Errno::EEXIST));
    assert_eq!(
        h.fork(init, &[vec![500; 33]].concat()).err(),
        Some(Errno::EINVAL)
    );
    let a = h.fork(init, &[500, 9000]).unwrap();
    assert_eq!(h.numbers(a.child), Ok(vec![9000, 500]));
    assert_eq!(
        h.fork(init, &[501, 9000]).err(),
        Some(Errno::EEXIST),
        "outer number taken"
    );
    let count = h.task_count();
    assert_eq!(
        h.fork(init, &[501]).map(|f| f.pid),
        Ok(501),
        "the failed fork freed 501"
    );
    assert_eq!(h.task_count(), count + 1);
}

#[test]
fn exit_reap_and_reparenting() {
    let h = host();
    let init = h.create_ns(h.init()).unwrap().child;
    let parent = h.fork(init, &[]).unwrap();
    let child = h.fork(parent.child, &[]).unwrap();
    assert_eq!(h.reap(init, child.pid), Err(Errno::ECHILD));
    assert_eq!(h.reap(parent.child, child.pid), Ok(None));
    h.exit(parent.child, 4).unwrap();
    assert_eq!(h.exit(parent.child, 4), Err(Errno::ESRCH));
    assert_eq!(h.state(parent.child), Ok(TaskState::Zombie(4)));
    assert_eq!(
        h.getppid(child.child),
        Ok(1),
        "reparented to the namespace init"
    );
    assert_eq!(h.reap(init, parent.pid), Ok(Some(4)));
    assert_eq!(h.find(Viewer::Task(init), parent.pid), Err(Errno::ESRCH));
    assert_eq!(h.exit(h.init(), 0), Err(Errno::EPERM));
}

#[test]
fn init_exit_zaps_the_namespace() {
    let h = host();
    let before = h.task_count();
    let outer = h.create_ns(h.init()).unwrap();
    let worker = h.fork(outer.child, &[]).unwrap();
    let inner = h.create_ns(worker.child).unwrap();
    let deep = h.fork(inner.child, &[]).unwrap();
    let deep_root = h.pid_of(Viewer::Host, deep.child).unwrap();
    h.exit(outer.child, 9).unwrap();
    for gone in [worker.child, inner.child, deep.child] {
        assert_eq!(h.getpid(gone), Err(Errno::ESRCH));
    }
    assert_eq!(h.find(Viewer::Host, deep_root), Err(Errno::ESRCH));
    assert_eq!(h.reap(h.init(), outer.pid), Ok(Some(9)));
    assert_eq!(h.task_count(), before);
    // The namespace numbers are reused cleanly.
    let again = h.create_ns(h.init()).unwrap();
    assert_eq!(h.getpid(again.child), Ok(1));
    assert_eq!(h.visible_pids(Viewer::Task(again.child)), Ok(vec![1]));
}

#[test]
fn process_groups_outlive_their_leader() {
    let h = host();
    let init = h.create_ns(h.init()).unwrap().child;
    let boss = h.fork(init, &[]).unwrap();
    h.setpgid(boss.child, 0, 0).unwrap();
    let members: Vec<_> = (0..4).map(|_| h.fork(boss.child, &[]).unwrap()).collect();
    let inside = Viewer::Task(init);
    assert_eq!(h.kill_group(inside, boss.pid), Ok(5));
    h.exit(boss.child, 0).unwrap();
    h.reap(init, boss.pid).unwrap();
    assert_eq!(
        h.kill_group(inside, boss.pid),
        Ok(4),
        "the group keeps its number"
    );
    assert_eq!(
        h.fork(init, &[boss.pid]).err(),
        Some(Errno::EEXIST),
        "not reusable yet"
    );
    assert_eq!(h.getpgid(members[0].child), Ok(boss.pid));
    for m in &members {
        h.exit(m.child, 0).unwrap();
        h.reap(init, m.pid).unwrap();
    }
    assert_eq!(h.kill_group(inside, boss.pid), Err(Errno::ESRCH));
    assert_eq!(
        h.fork(init, &[boss.pid]).map(|f| f.pid),
        Ok(boss.pid),
        "freed with the group"
    );
    assert_eq!(h.setpgid(init, 0, 4242), Err(Errno::EPERM));
    assert_eq!(h.setpgid(init, 0, -3), Err(Errno::EINVAL));
}

#[test]
fn readers_and_a_forking_writer_agree() {
    let h = host();
    let init = h.create_ns(h.init()).unwrap().child;
    let stable: Vec<_> = (0..50).map(|_| h.fork(init, &[]).unwrap()).collect();
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            for _ in 0..2000 {
                for f in &stable {
                    assert_eq!(h.find(Viewer::Task(init), f.pid), Ok(f.child));
                    assert_eq!(h.getpid(f.child), Ok(f.pid));
                }
            }
        });
        while !reader.is_finished() {
            let f = h.fork(init, &[]).unwrap();
            h.exit(f.child, 0).unwrap();
            assert_eq!(h.reap(init, f.pid), Ok(Some(0)));
        }
    });
}

quickcheck! {
    /// After any sequence of forks, new namespaces, exits and reaps, every
    /// live task is found under each of its numbers from each namespace of
    /// its chain, and the numbers of one namespace are distinct.
    fn every_task_is_found_by_each_number(ops: Vec<(u8, u8)>) -> TestResult {
        let h = host();
        let mut tasks = vec![h.init()];
        for (op, pick) in ops {
            let t = tasks[usize::from(pick) % tasks.len()];
            match op % 4 {
                0 => if let Ok(f) = h.fork(t, &[]) { tasks.push(f.child) },
                1 => if let Ok(f) = h.create_ns(t) { tasks.push(f.child) },
                2 => { let _ = h.exit(t, 1); }
                _ => {
                    for p in tasks.clone() {
                        if let Ok(nr) = h.pid_of(Viewer::Task(p), t) {
                            if nr != 0 && h.reap(p, nr).is_ok() {
                                break;
                            }
                        }
                    }
                }
            }
            tasks.retain(|t| h.getpid(*t).is_ok());
        }
        for &t in &tasks {
            let numbers = h.numbers(t).unwrap();
            if h.find(Viewer::Host, numbers[0]) != Ok(t) || h.find(Viewer::Task(t), *numbers.last().unwrap()) != Ok(t) {
                return TestResult::failed();
            }
        }
        let host_view = h.visible_pids(Viewer::Host).unwrap();
        let distinct = host_view.windows(2).all(|w| w[0] < w[1]);
        TestResult::from_bool(distinct && host_view.len() == tasks.len() && h.task_count() == tasks.len())
    }
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
                    .map(|_| h.fork(h.init(), &[]).unwrap().pid)
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
