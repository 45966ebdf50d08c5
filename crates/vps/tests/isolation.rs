//! Isolation: nothing issued from inside VPS A observes or affects a task
//! outside A, and the host sees everything. Three VPSes and host tasks are
//! populated at random, then random operations (kill, waitpid, setpgid,
//! getpgid, getsid, lookup, ps in every form) run from inside A.

use std::collections::BTreeSet;

use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};
use vpid_core::{CloneFlags, RawPid, WaitOptions};
use vps::{Disposition, Host, HostConfig, PsEntry, Signal, TaskRef, Viewer, VpsConfig, VpsId};

const A: VpsId = VpsId(101);
const OTHERS: [VpsId; 2] = [VpsId(102), VpsId(103)];

#[derive(Clone, Debug)]
enum Setup {
    /// Fork from the k-th task of a VPS (or the host, index 3).
    Fork {
        place: u8,
        k: u8,
        chosen: Option<u16>,
    },
    Setsid {
        place: u8,
        k: u8,
    },
    Handler {
        place: u8,
        k: u8,
        sig: u8,
    },
}

#[derive(Clone, Debug)]
enum Inside {
    Kill { k: u8, pid: u8, sig: u8 },
    Wait { k: u8, pid: u8, options: u8 },
    Setpgid { k: u8, pid: u8, pgid: u8 },
    Getpgid { k: u8, pid: u8 },
    Getsid { k: u8, pid: u8 },
    Lookup { k: u8, pid: u8 },
    Ps { k: u8 },
    PidOf { k: u8, target: u8 },
}

#[derive(Clone, Debug)]
struct Scenario {
    setup: Vec<Setup>,
    inside: Vec<Inside>,
}

impl Arbitrary for Scenario {
    fn arbitrary(g: &mut Gen) -> Self {
        let n = usize::arbitrary(g) % 40 + 10;
        let setup = (0..n)
            .map(|_| {
                let (place, k) = (u8::arbitrary(g), u8::arbitrary(g));
                match u8::arbitrary(g) % 6 {
                    0 => Setup::Setsid { place, k },
                    1 => Setup::Handler {
                        place,
                        k,
                        sig: u8::arbitrary(g),
                    },
                    2 => Setup::Fork {
                        place,
                        k,
                        chosen: Some(u16::arbitrary(g)),
                    },
                    _ => Setup::Fork {
                        place,
                        k,
                        chosen: None,
                    },
                }
            })
            .collect();
        let m = usize::arbitrary(g) % 40 + 5;
        let inside = (0..m)
            .map(|_| {
                let (k, pid, x) = (u8::arbitrary(g), u8::arbitrary(g), u8::arbitrary(g));
                match u8::arbitrary(g) % 8 {
                    0 => Inside::Kill { k, pid, sig: x },
                    1 => Inside::Wait { k, pid, options: x },
                    2 => Inside::Setpgid { k, pid, pgid: x },
                    3 => Inside::Getpgid { k, pid },
                    4 => Inside::Getsid { k, pid },
                    5 => Inside::Lookup { k, pid },
                    6 => Inside::Ps { k },
                    _ => Inside::PidOf { k, target: pid },
                }
            })
            .collect();
        Scenario { setup, inside }
    }
}

struct World {
    host: Host,
}

const SIGNALS: [i32; 8] = [0, 1, 9, 15, 17, 18, 19, 20];

impl World {
    fn tasks_of(&self, place: Option<VpsId>) -> Vec<TaskRef> {
        let all = self.host.ps(Viewer::Host).expect("host ps");
        all.into_iter()
            .filter(|e| e.vps == place && e.exit_status.is_none())
            .map(|e| e.task)
            .collect()
    }

    fn place(p: u8) -> Option<VpsId> {
        match p % 4 {
            0 => Some(A),
            1 => Some(OTHERS[0]),
            2 => Some(OTHERS[1]),
            _ => None,
        }
    }

    fn pick(list: &[TaskRef], k: u8) -> Option<TaskRef> {
        (!list.is_empty()).then(|| list[usize::from(k) % list.len()])
    }

    /// Every number worth trying: each task's real PID, virtual PID, group
    /// and session, both signs, plus 0, -1, 1.
    fn numbers(&self) -> Vec<RawPid> {
        let mut set = BTreeSet::from([0, -1, 1, i32::MIN]);
        for e in self.host.ps(Viewer::Host).expect("host ps") {
            for n in [e.pid, e.pgid, e.sid, e.vpid.unwrap_or(e.pid)] {
                set.insert(n);
                set.insert(-n);
            }
        }
        for id in [A, OTHERS[0], OTHERS[1]] {
            if let Ok(init) = self.host.vps_init(id) {
                for e in self.host.ps(Viewer::Task(init)).expect("vps ps") {
                    for n in [e.pgid, e.sid] {
                        set.insert(n);
                        set.insert(-n);
                    }
                }
            }
        }
        set.into_iter().collect()
    }

    fn outside_a(&self) -> Vec<PsEntry> {
        let mut v = self.host.ps(Viewer::Host).expect("host ps");
        v.retain(|e| e.vps != Some(A));
        v
    }
}

fn check(s: Scenario) -> TestResult {
    let host = Host::new(HostConfig::default()).expect("host");
    let root = host.init();
    for id in [A, OTHERS[0], OTHERS[1]] {
        host.create_vps(root, id, VpsConfig::default())
            .expect("vps");
    }
    let w = World { host };
    for step in &s.setup {
        match *step {
            Setup::Fork { place, k, chosen } => {
                let p = World::place(place);
                if let Some(t) = World::pick(&w.tasks_of(p), k) {
                    let chosen = chosen.map(|c| i32::from(c % 32768) | 1024);
                    let _ = w.host.fork(t, CloneFlags::empty(), chosen);
                }
            }
            Setup::Setsid { place, k } => {
                if let Some(t) = World::pick(&w.tasks_of(World::place(place)), k) {
                    let _ = w.host.setsid(t);
                }
            }
            Setup::Handler { place, k, sig } => {
                if let Some(t) = World::pick(&w.tasks_of(World::place(place)), k) {
                    let sig = Signal(SIGNALS[usize::from(sig) % SIGNALS.len()]);
                    let _ = w.host.sigaction(t, sig, Disposition::Handler);
                }
            }
        }
    }
    // The host sees everything: every task of every VPS, findable by its real PID.
    let all = w.host.ps(Viewer::Host).expect("host ps");
    let mut per_vps = w.tasks_of(None).len();
    for id in [A, OTHERS[0], OTHERS[1]] {
        let init = w.host.vps_init(id).expect("init");
        per_vps += w.host.ps(Viewer::Task(init)).expect("ps").len();
    }
    if per_vps != all.len() {
        return TestResult::error(format!(
            "host sees {} tasks, VPSes+host {per_vps}",
            all.len()
        ));
    }
    for e in &all {
        if w.host.lookup(root, e.pid) != Ok(e.task) {
            return TestResult::error(format!("host cannot find {e:?}"));
        }
    }

    let numbers = w.numbers();
    for op in &s.inside {
        let before = w.outside_a();
        let inside = w.tasks_of(Some(A));
        let in_a = |t: TaskRef| w.host.vps_of(t) == Ok(Some(A));
        let num = |i: u8| numbers[usize::from(i) % numbers.len()];
        let Some(caller) = World::pick(&inside, op_k(op)) else {
            break;
        };
        let seen_before = w.host.ps(Viewer::Task(caller)).expect("ps");
        let observed_ok = match *op {
            Inside::Kill { pid, sig, .. } => {
                let sig = Signal(SIGNALS[usize::from(sig) % SIGNALS.len()]);
                let _ = w.host.kill(caller, num(pid), sig);
                true
            }
            Inside::Wait { pid, options, .. } => {
                let options = WaitOptions::from_bits_truncate(u32::from(options % 16));
                match w.host.waitpid(caller, num(pid), options) {
                    Ok(Some(waited)) => seen_before.iter().any(|e| e.pid == waited.pid),
                    _ => true,
                }
            }
            Inside::Setpgid { pid, pgid, .. } => {
                let _ = w.host.setpgid(caller, num(pid), num(pgid).saturating_abs());
                true
            }
            Inside::Getpgid { pid, .. } | Inside::Getsid { pid, .. } => {
                let n = num(pid);
                let got = match op {
                    Inside::Getpgid { .. } => w.host.getpgid(caller, n),
                    _ => w.host.getsid(caller, n),
                };
                got.is_err() || n == 0 || w.host.lookup(caller, n).is_ok_and(in_a)
            }
            Inside::Lookup { pid, .. } => w.host.lookup(caller, num(pid)).map_or(true, in_a),
            Inside::Ps { .. } => w
                .host
                .ps(Viewer::Task(caller))
                .expect("ps")
                .iter()
                .all(|e| in_a(e.task) && e.vps.is_none() && e.vpid.is_none()),
            Inside::PidOf { target, .. } => {
                let t = all[usize::from(target) % all.len()].task;
                match w.host.pid_of(Viewer::Task(caller), t) {
                    Ok(0) | Err(_) => true,
                    Ok(_) => in_a(t),
                }
            }
        };
        if !observed_ok {
            return TestResult::error(format!("{op:?} from {caller:?} observed outside A"));
        }
        if w.outside_a() != before {
            return TestResult::error(format!("{op:?} from {caller:?} changed tasks outside A"));
        }
        if let Err(e) = w.host.audit() {
            return TestResult::error(e.to_string());
        }
    }
    TestResult::passed()
}

fn op_k(op: &Inside) -> u8 {
    match *op {
        Inside::Kill { k, .. }
        | Inside::Wait { k, .. }
        | Inside::Setpgid { k, .. }
        | Inside::Getpgid { k, .. }
        | Inside::Getsid { k, .. }
        | Inside::Lookup { k, .. }
        | Inside::Ps { k }
        | Inside::PidOf { k, .. } => k,
    }
}

/// The number of random scenarios: `QUICKCHECK_TESTS` if set, else 300.
fn runs() -> u64 {
    std::env::var("QUICKCHECK_TESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

#[test]
fn nothing_inside_a_reaches_outside_a() {
    QuickCheck::new()
        .tests(runs())
        .quickcheck(check as fn(Scenario) -> TestResult);
}
