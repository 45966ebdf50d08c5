//! Concurrency stress: several threads fork, exit, reap and look up in
//! several VPSes (one of them sparse) and on the host at once, for over a
//! million operations in total; every lookup a thread can predict must come
//! out right, and afterwards the invariants hold and nothing leaks.

use std::sync::Arc;
use std::thread;

use vpid_core::{CloneFlags, Errno, WaitOptions};
use vps::{Host, HostConfig, TaskRef, Viewer, VpsConfig, VpsId};

const THREADS: usize = 4;
const OPS_PER_THREAD: usize = 300_000;

/// A small xorshift generator, so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One worker: a process of its own (in a VPS or on the host) that forks
/// children, kills some, reaps them, and checks lookups of its children.
fn worker(host: &Host, me: TaskRef, seed: u64, sparse: bool, first_chosen: i32) -> usize {
    let mut rng = Rng(seed | 1);
    let mut children: Vec<(TaskRef, i32)> = Vec::new();
    let mut ops = 0;
    let mut next_chosen = first_chosen;
    while ops < OPS_PER_THREAD {
        ops += 1;
        match rng.next() % 16 {
            0 | 1 if children.len() < 32 => {
                // Chosen numbers start a third of the way in, so a VPS
                // shared with another worker switches to sparse mode while
                // that worker is looking its children up.
                let chosen = if sparse && ops > OPS_PER_THREAD / 3 && rng.next() % 2 == 0 {
                    next_chosen = (next_chosen + 1) | 1024;
                    if next_chosen >= host.pid_max() {
                        next_chosen = first_chosen;
                    }
                    Some(next_chosen)
                } else {
                    None
                };
                match host.fork(me, CloneFlags::empty(), chosen) {
                    Ok(f) => children.push((f.child, f.pid)),
                    Err(Errno::EEXIST | Errno::EAGAIN) => {}
                    Err(e) => panic!("fork: {e}"),
                }
            }
            2 | 3 if !children.is_empty() => {
                let i = (rng.next() as usize) % children.len();
                let (child, _) = children.swap_remove(i);
                host.exit(child, 7).expect("exit");
                let w = host.waitpid(me, 0, WaitOptions::WNOHANG).expect("waitpid");
                assert!(w.is_some(), "a zombie child must be waitable");
            }
            _ if !children.is_empty() => {
                let (child, pid) = children[(rng.next() as usize) % children.len()];
                assert_eq!(host.lookup(me, pid), Ok(child));
                assert_eq!(host.gettid(child), Ok(pid));
                assert_eq!(host.pid_of(Viewer::Task(me), child), Ok(pid));
                assert_eq!(host.pid_of(Viewer::Host, child), Ok(child.real().as_raw()));
                assert_eq!(host.lookup(host.init(), child.real().as_raw()), Ok(child));
                ops += 4;
            }
            _ => {
                // Any number at all: from inside a VPS, whatever it finds is
                // in that VPS (or has been reaped since).
                let raw = (rng.next() % (1 << 18)) as i32;
                let home = host.vps_of(me).expect("me");
                if let (Some(home), Ok(found)) = (home, host.lookup(me, raw)) {
                    let there = host.vps_of(found);
                    assert!(
                        there == Ok(Some(home)) || there == Err(Errno::ESRCH),
                        "{there:?}"
                    );
                }
                assert!(host.getpid(me).is_ok());
                ops += 1;
            }
        }
    }
    for (child, _) in children {
        host.exit(child, 0).expect("exit");
    }
    while let Ok(Some(_)) = host.waitpid(me, -1, WaitOptions::WNOHANG) {}
    ops
}

#[test]
fn a_million_concurrent_operations_keep_the_invariants() {
    let host = Arc::new(Host::new(HostConfig { pid_max: 1 << 18 }).expect("host"));
    let root = host.init();
    let linear = host
        .create_vps(root, VpsId(1), VpsConfig::default())
        .expect("vps 1");
    let sparse = host
        .create_vps(root, VpsId(2), VpsConfig::default())
        .expect("vps 2");
    let homes = [linear, linear, sparse, root];
    let mut handles = Vec::new();
    for (i, home) in homes.iter().enumerate().take(THREADS) {
        let me = host
            .fork(*home, CloneFlags::empty(), None)
            .expect("worker")
            .child;
        let host = Arc::clone(&host);
        let sparse = i == 1 || i == 2;
        let first_chosen = (0x10000 * (i as i32 + 1)) | 1024;
        let seed = 0x9E37_79B9 + i as u64;
        handles.push(thread::spawn(move || {
            worker(&host, me, seed, sparse, first_chosen)
        }));
    }
    let total: usize = handles
        .into_iter()
        .map(|h| h.join().expect("worker panicked"))
        .sum();
    assert!(total >= 1_000_000, "only {total} operations");
    eprintln!("{total} operations");
    host.audit().expect("invariants after the stress");
    assert!(
        host.is_sparse(VpsId(1)).expect("vps 1"),
        "switched while shared"
    );
    assert!(host.is_sparse(VpsId(2)).expect("vps 2"));
    host.destroy_vps(VpsId(1)).expect("destroy 1");
    host.destroy_vps(VpsId(2)).expect("destroy 2");
    host.kill(root, -1, vps::Signal::SIGKILL)
        .expect("kill the host workers");
    while let Ok(Some(_)) = host.waitpid(root, -1, WaitOptions::empty()) {}
    host.audit().expect("invariants after reaping");
    let usage = host.usage();
    assert_eq!((usage.tasks, usage.numbers), (1, 1), "leak: {usage:?}");
}
