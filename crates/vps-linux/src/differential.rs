//! One scenario, run on the model and on Linux, and compared.

use std::fmt::Write as _;

use crate::compare::{Comparison, compare};
use crate::driver::{Agent, AgentError};
use crate::model::{ModelError, ModelOutcome, run_model};
use crate::protocol::{Plan, StepObservation};

/// Why a scenario could not be run on both sides.
#[derive(Debug, thiserror::Error)]
pub enum DifferentialError {
    /// The model could not start.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The agent could not run the Linux plan.
    #[error(transparent)]
    Agent(#[from] AgentError),
}

/// Both runs of one scenario and their comparison.
#[derive(Clone, Debug)]
pub struct BothRuns {
    /// The model's run, and the Linux plan it made.
    pub model: ModelOutcome,
    /// What Linux was seen to do.
    pub linux: Vec<StepObservation>,
    /// The comparison.
    pub comparison: Comparison,
}

/// Runs a scenario on the model, then on Linux through `agent`, and
/// compares the two.
///
/// # Errors
/// [`DifferentialError`] if either run cannot be made.
pub fn run_both(agent: &mut Agent, scenario: &Plan) -> Result<BothRuns, DifferentialError> {
    let model = run_model(scenario)?;
    let linux = agent.run(&model.linux_plan)?;
    let comparison = compare(&model.linux_plan, &model.observed, &linux);
    Ok(BothRuns {
        model,
        linux,
        comparison,
    })
}

impl BothRuns {
    /// A plain-text account: every step with both outcomes, then every
    /// difference, tolerated or not.
    #[must_use]
    pub fn report(&self) -> String {
        let mut out = String::new();
        for (index, step) in self.model.linux_plan.steps.iter().enumerate() {
            let model = self
                .model
                .observed
                .get(index)
                .map(|o| o.outcome.to_string());
            let linux = self.linux.get(index).map(|o| o.outcome.to_string());
            let _ = writeln!(
                out,
                "{index:>3}  {step:<40} model {:<24} linux {}",
                model.unwrap_or_default(),
                linux.unwrap_or_default()
            );
        }
        for tolerated in &self.comparison.tolerated {
            let _ = writeln!(
                out,
                "tolerated ({}): {}",
                tolerated.known.name, tolerated.difference
            );
        }
        if let Some((step, why)) = self.comparison.stopped {
            let _ = writeln!(out, "not compared after step {step} ({})", why.name());
        }
        for difference in &self.comparison.unexplained {
            let _ = writeln!(out, "UNEXPLAINED: {difference}");
        }
        out
    }
}
