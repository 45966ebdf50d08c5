//! The host against the reference model: random operation sequences, every
//! result and every `ps` view compared, invariants checked after each step,
//! and nothing left behind once everything is reaped.

mod model;

use model::ops::{Num, Op, Pair, PidArg};
use quickcheck::{QuickCheck, TestResult};
use vpid_core::{CloneFlags, WaitOptions};

/// The number of random sequences: `QUICKCHECK_TESTS` if set, else `default`.
fn runs(default: u64) -> u64 {
    std::env::var("QUICKCHECK_TESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run(ops: Vec<Op>, pid_max: i32) -> TestResult {
    let mut pair = Pair::new(pid_max);
    for (i, op) in ops.iter().enumerate() {
        let (host, model) = pair.run(op);
        if host != model {
            return TestResult::error(format!("step {i} {op:?}: host {host} model {model}"));
        }
        if let Err(e) = pair.compare_views() {
            return TestResult::error(format!("step {i} {op:?}: {e}"));
        }
    }
    match pair.reap_everything() {
        Ok(()) => TestResult::passed(),
        Err(e) => TestResult::error(e),
    }
}

#[test]
fn host_matches_model_default_pid_max() {
    fn prop(ops: Vec<Op>) -> TestResult {
        run(ops, 32768)
    }
    QuickCheck::new()
        .tests(runs(300))
        .quickcheck(prop as fn(Vec<Op>) -> TestResult);
}

#[test]
fn host_matches_model_small_pid_max() {
    // 1400: real PIDs 1..=1023, marker-bit numbers 1024..=1399 only, so the
    // sparse probe wraps and linear numbers pass pid_max.
    fn prop(ops: Vec<Op>) -> TestResult {
        run(ops, 1400)
    }
    QuickCheck::new()
        .tests(runs(200))
        .quickcheck(prop as fn(Vec<Op>) -> TestResult);
}

/// A crowded sparse VPS on a small host: the real cursor starts past 300,
/// chosen and automatic virtual PIDs collide, the sparse probe runs, wraps to
/// 1324 and runs out (`EAGAIN`), and tasks exit and are reaped in between.
fn crowded(seq: Vec<(u8, u16, u8)>) -> TestResult {
    let mut pair = Pair::new(1400);
    let init = pair.host.init();
    for _ in 0..300 {
        let a = pair
            .host
            .fork(init, CloneFlags::empty(), None)
            .expect("host fork");
        let b = pair
            .model
            .fork(init, CloneFlags::empty(), None)
            .expect("model fork");
        assert_eq!(a, b);
        for code in [pair.host.exit(a.child, 0), pair.model.exit(b.child, 0)] {
            code.expect("exit");
        }
        let (x, y) = (
            pair.host.waitpid(init, a.pid, WaitOptions::empty()),
            pair.model.waitpid(init, b.pid, WaitOptions::empty()),
        );
        assert_eq!(x, y);
    }
    let chosen = |v: u16| PidArg {
        num: Num::Raw(1024 | i32::from(v % 1400)),
        negate: false,
    };
    let mut ops = vec![
        Op::CreateVps {
            caller: 0,
            id: 1,
            numproc: None,
        },
        Op::Fork {
            caller: 4,
            thread: false,
            sibling: false,
            chosen: Some(chosen(1399)),
        },
    ];
    for (k, v, w) in seq {
        ops.push(Op::Fork {
            caller: k,
            thread: false,
            sibling: false,
            chosen: (v % 3 == 0).then(|| chosen(v)),
        });
        if w % 3 == 0 {
            ops.push(Op::Exit {
                caller: w.wrapping_mul(7),
                code: w,
            });
        }
        if w % 5 == 0 {
            let pid = PidArg {
                num: Num::MinusOne,
                negate: false,
            };
            ops.push(Op::Wait {
                caller: w,
                pid,
                options: 0,
            });
        }
    }
    for (i, op) in ops.iter().enumerate() {
        let (host, model) = pair.run(op);
        if host != model {
            return TestResult::error(format!("step {i} {op:?}: host {host} model {model}"));
        }
        if let Err(e) = pair.compare_host_view() {
            return TestResult::error(format!("step {i} {op:?}: {e}"));
        }
    }
    match pair.reap_everything() {
        Ok(()) => TestResult::passed(),
        Err(e) => TestResult::error(e),
    }
}

#[test]
fn host_matches_model_in_a_crowded_sparse_vps() {
    // Each case repeats its sequence four times, so a few hundred forks.
    fn prop(seq: Vec<(u8, u16, u8)>) -> TestResult {
        let long: Vec<_> = seq.iter().cycle().take(seq.len() * 4).copied().collect();
        crowded(long)
    }
    QuickCheck::new()
        .tests(runs(40))
        .quickcheck(prop as fn(Vec<(u8, u16, u8)>) -> TestResult);
}
