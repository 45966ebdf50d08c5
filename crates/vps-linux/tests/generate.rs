//! The random scenarios are valid: they run on the model without a step of
//! a process that does not exist, and start by creating the VPS.

use quickcheck::{QuickCheck, TestResult};
use vps_linux::generate::{MAX_STEPS, RandomScenario, create_vps};
use vps_linux::model::run_model;
use vps_linux::protocol::{Call, Outcome};

fn every_step_has_a_live_caller(scenario: RandomScenario) -> TestResult {
    let plan = scenario.0;
    if plan.steps.first() != Some(&create_vps()) || plan.steps.len() > MAX_STEPS + 3 {
        return TestResult::error(format!("malformed:\n{plan}"));
    }
    let run = run_model(&plan).expect("the model starts");
    for (index, observation) in run.observed.iter().enumerate() {
        if observation.outcome == Outcome::ActorGone {
            return TestResult::error(format!("step {index} has no caller:\n{plan}"));
        }
    }
    // The Linux plan forks every process with the model's PIDs: the VPS
    // init's are [1, real], a VPS task's [virtual, real].
    for (step, observation) in run.linux_plan.steps.iter().zip(&run.observed) {
        if let (Call::Fork { set_tid, .. }, Outcome::Value(pid)) = (&step.call, observation.outcome)
        {
            if set_tid.len() != 2 || (set_tid[0] != pid && set_tid[0] != 1) {
                return TestResult::error(format!("fork with {set_tid:?} gave {pid}"));
            }
        }
    }
    TestResult::passed()
}

#[test]
fn random_scenarios_are_valid() {
    QuickCheck::new()
        .tests(300)
        .quickcheck(every_step_has_a_live_caller as fn(RandomScenario) -> TestResult);
}
