//! The differential suite: random scenarios (and the vpsctl examples), each
//! run on the model and on real PID namespaces, with zero unexplained
//! differences, and no process left behind. One test function, because it
//! counts this process's descendants.
//!
//! `VPS_LINUX_SCENARIOS` sets how many random scenarios run (500 by
//! default).

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;

use quickcheck::{Gen, QuickCheck, TestResult};
use vps_linux::compare::{Comparison, Origin};
use vps_linux::differential::run_both;
use vps_linux::driver::Agent;
use vps_linux::generate::{MAX_STEPS, RandomScenario};

/// The agent the property uses (a property is a plain `fn`).
static AGENT: Mutex<Option<Agent>> = Mutex::new(None);

/// What the random scenarios did, for the summary.
#[derive(Default)]
struct Tally {
    scenarios: usize,
    steps: usize,
    tolerated: BTreeMap<String, usize>,
    stopped: BTreeMap<&'static str, usize>,
}

static TALLY: Mutex<Tally> = Mutex::new(Tally {
    scenarios: 0,
    steps: 0,
    tolerated: BTreeMap::new(),
    stopped: BTreeMap::new(),
});

fn scenario_count() -> u64 {
    std::env::var("VPS_LINUX_SCENARIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

fn random_scenario_agrees(scenario: RandomScenario) -> TestResult {
    if !vps_linux::driver::runs_here(&scenario.0) {
        // The agent cannot follow threads on this kernel (before 6.9).
        return TestResult::discard();
    }
    let mut agent = AGENT.lock().unwrap_or_else(|e| e.into_inner());
    let Some(agent) = agent.as_mut() else {
        return TestResult::error("no agent");
    };
    let both = match run_both(agent, &scenario.0) {
        Ok(both) => both,
        Err(e) => {
            // Say it now: shrinking may hide it. A fresh agent lets the
            // shrinking go on.
            common::say(&format!("differential: {e} in\n{}", scenario.0));
            if let Some(fresh) = common::agent_or_skip("differential_suite") {
                *agent = fresh;
            }
            return TestResult::error(format!("{e}\n{}", scenario.0));
        }
    };
    if !both.comparison.is_explained() {
        return TestResult::error(format!("unexplained differences:\n{}", both.report()));
    }
    TALLY
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .count(&both.comparison);
    TestResult::passed()
}

impl Tally {
    fn count(&mut self, comparison: &Comparison) {
        self.scenarios += 1;
        self.steps += comparison.steps_compared;
        for tolerated in &comparison.tolerated {
            let known = tolerated.known;
            let key = match known.origin {
                Origin::Deliberate => known.name.to_owned(),
                Origin::NotModelled => format!("not modelled: {}", known.name),
                Origin::ModelBug => format!("OPEN MODEL BUG: {}", known.name),
            };
            *self.tolerated.entry(key).or_default() += 1;
        }
        if let Some((_, why)) = comparison.stopped {
            *self.stopped.entry(why.name()).or_default() += 1;
        }
    }
}

/// Every example scenario of `examples/`, as far as it runs on real
/// processes. Returns how many were compared.
fn examples_agree(agent: &mut Agent) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        common::say("differential: no examples/ directory: no example scenarios compared");
        return 0;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "vps"))
        .collect();
    files.sort();
    let mut compared = 0;
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(file).expect("an example is readable");
        let script = vpsctl::scenario::parse_script(&name, &text).expect("an example parses");
        let converted = vps_linux::script::from_script(&script).expect("the model starts");
        let limited = converted.plan.steps.iter().any(|s| {
            matches!(
                s.call,
                vps_linux::protocol::Call::Fork {
                    numproc: Some(_),
                    ..
                }
            )
        });
        if limited && vps_linux::cgroup::pids_controller().is_none() {
            common::say(&format!(
                "differential: example {name}: skipped: needs the pids cgroup controller"
            ));
            continue;
        }
        compared += 1;
        let both = run_both(agent, &converted.plan).expect("both runs complete");
        assert!(
            both.comparison.is_explained(),
            "example {name}: unexplained differences:\n{}",
            both.report()
        );
        TALLY.lock().expect("not poisoned").count(&both.comparison);
        if std::env::var_os("VPS_LINUX_REPORT").is_some() {
            common::say(&format!("differential: example {name}:\n{}", both.report()));
        }
        let stopped = converted
            .stopped_at
            .map_or_else(String::new, |u| format!("; stopped at {u}"));
        let manager = match converted.manager_checks.len() {
            0 => String::new(),
            n => format!("; {n} refused by the manager before any system call"),
        };
        common::say(&format!(
            "differential: example {name}: {} of {} statements run ({} steps compared{manager}){stopped}",
            converted.statements_used, converted.statements_total, both.comparison.steps_compared,
        ));
    }
    compared
}

#[test]
fn differential_suite() {
    let me = std::process::id();
    let before = vps_linux::driver::count_descendants(me).expect("/proc is readable");
    let Some(agent) = common::agent_or_skip("differential_suite") else {
        return;
    };
    let mut agent = agent;
    let examples = examples_agree(&mut agent);
    *AGENT.lock().expect("not poisoned") = Some(agent);

    let count = scenario_count();
    let started = std::time::Instant::now();
    QuickCheck::new()
        .tests(count)
        .max_tests(count * 2)
        .rng(Gen::new(MAX_STEPS))
        .quickcheck(random_scenario_agrees as fn(RandomScenario) -> TestResult);
    let tally = TALLY.lock().expect("not poisoned");
    common::say(&format!(
        "differential: {examples} examples and {} random scenarios ({} steps compared) in {:.1?}: \
         0 unexplained differences; tolerated, by kind: {:?}; compared only up to a step, by why: {:?}",
        tally.scenarios - examples,
        tally.steps,
        started.elapsed(),
        tally.tolerated,
        tally.stopped
    ));
    assert!(
        (tally.scenarios - examples) as u64 >= count,
        "every scenario was run"
    );

    drop(AGENT.lock().expect("not poisoned").take());
    assert_eq!(
        common::settled_descendants(before),
        before,
        "as many processes after the suite as before"
    );
}
