//! Random VPSes migrated: each random scenario is followed by a checkpoint
//! of its VPS, a second host and a restore there, on the model and on Linux
//! (where the agent dumps and rebuilds the process tree as CRIU would), and
//! the two must agree on every restored process's IDs and on what its init
//! reaps. One test function: it counts this process's descendants.
//!
//! `VPS_LINUX_MIGRATIONS` sets how many migrations run (150 by default).

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;

use quickcheck::{Gen, QuickCheck, TestResult};
use vps_linux::differential::run_both;
use vps_linux::driver::Agent;
use vps_linux::generate::{MAX_STEPS, RandomScenario, with_migration};
use vps_linux::protocol::{Call, Outcome};

static AGENT: Mutex<Option<Agent>> = Mutex::new(None);

/// How the migrations went.
#[derive(Default, Debug)]
struct Tally {
    /// Restored on both sides and compared.
    migrated: usize,
    /// Tasks restored, over all migrations.
    tasks: usize,
    /// The Linux stand-in refused the checkpoint or the restore, by why.
    refused: BTreeMap<String, usize>,
    /// The comparison stopped before the checkpoint (a known difference
    /// or a race made the runs diverge).
    not_reached: usize,
}

static TALLY: Mutex<Tally> = Mutex::new(Tally {
    migrated: 0,
    tasks: 0,
    refused: BTreeMap::new(),
    not_reached: 0,
});

fn migration_count() -> u64 {
    std::env::var("VPS_LINUX_MIGRATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150)
}

/// A refusal's reason without its numbers, to count alike ones together.
fn reason(message: &str) -> String {
    let why = message.split(": ").skip(2).collect::<Vec<_>>().join(": ");
    why.split_whitespace()
        .filter(|word| !word.chars().any(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn migration_agrees(scenario: RandomScenario) -> TestResult {
    if !vps_linux::driver::runs_here(&scenario.0) {
        // The agent cannot follow threads on this kernel (before 6.9).
        return TestResult::discard();
    }
    let Some(plan) = with_migration(&scenario.0) else {
        return TestResult::discard();
    };
    let mut agent = AGENT.lock().unwrap_or_else(|e| e.into_inner());
    let Some(agent) = agent.as_mut() else {
        return TestResult::error("no agent");
    };
    let mut tally = TALLY.lock().unwrap_or_else(|e| e.into_inner());
    let both = match run_both(agent, &plan) {
        Ok(both) => both,
        Err(e) if e.to_string().contains("checkpoint:") || e.to_string().contains("restore:") => {
            let message = e.to_string();
            // The stand-in's known limits (CRIU's helper tasks); anything
            // else is shown whole, and counted apart.
            let limit = [
                "CRIU would",
                "cannot give it",
                "has moved to another session",
            ]
            .iter()
            .any(|known| message.contains(known));
            if !limit || std::env::var_os("VPS_LINUX_REPORT").is_some() {
                common::say(&format!("migration: not restored: {message}\n{plan}"));
            }
            let key = if limit {
                reason(&message)
            } else {
                format!("UNEXPECTED: {}", reason(&message))
            };
            *tally.refused.entry(key).or_default() += 1;
            return TestResult::discard();
        }
        Err(e) => return TestResult::error(format!("{e}\n{plan}")),
    };
    if !both.comparison.is_explained() {
        return TestResult::error(format!("unexplained differences:\n{}", both.report()));
    }
    let steps = &both.model.linux_plan.steps;
    let restore = steps
        .iter()
        .position(|s| matches!(s.call, Call::Restore { .. }))
        .expect("the plan restores");
    if both.comparison.steps_compared <= restore {
        tally.not_reached += 1;
        return TestResult::discard();
    }
    let Call::Restore { pids, .. } = &steps[restore].call else {
        unreachable!()
    };
    if !matches!(both.linux[restore].outcome, Outcome::Value(_)) {
        return TestResult::error(format!("the restore failed:\n{}", both.report()));
    }
    tally.migrated += 1;
    tally.tasks += pids.len();
    TestResult::passed()
}

#[test]
fn random_vpses_migrate_alike_on_linux_and_in_the_model() {
    let me = std::process::id();
    let before = vps_linux::driver::count_descendants(me).expect("/proc is readable");
    let Some(agent) = common::agent_or_skip("random_vpses_migrate_alike_on_linux_and_in_the_model")
    else {
        return;
    };
    *AGENT.lock().expect("not poisoned") = Some(agent);
    let count = migration_count();
    let started = std::time::Instant::now();
    QuickCheck::new()
        .tests(count)
        .max_tests(count * 20)
        .rng(Gen::new(MAX_STEPS))
        .quickcheck(migration_agrees as fn(RandomScenario) -> TestResult);
    let tally = TALLY.lock().expect("not poisoned");
    common::say(&format!(
        "migration: {} random VPSes migrated ({} tasks restored) in {:.1?}: 0 unexplained \
         differences; refused by the Linux stand-in: {:?}; {} not compared up to the checkpoint",
        tally.migrated,
        tally.tasks,
        started.elapsed(),
        tally.refused,
        tally.not_reached,
    ));
    assert!(tally.migrated as u64 >= count, "{tally:?}");
    drop(AGENT.lock().expect("not poisoned").take());
    assert_eq!(common::settled_descendants(before), before);
}
