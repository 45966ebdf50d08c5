//! The evaluation of docs/checker.md, as a test: bugs injected mechanically
//! into vps and vpid-core must mostly be found, and the clean source must
//! give no finding at all.

use std::path::Path;

use vpid_check::eval::{Operator, evaluate};
use vpid_check::{Checker, walk};

#[test]
fn injected_mixups_are_found_and_clean_source_is_quiet() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = walk::read_sources(&[root.join("vps/src"), root.join("vpid-core/src")]).unwrap();
    let e = evaluate(&Checker::new(), &files);
    println!("{e}");
    assert!(e.clean_findings.is_empty(), "{:#?}", e.clean_findings);
    assert!(e.injected() >= 50, "only {} mutants", e.injected());
    for op in Operator::ALL {
        let score = &e.scores.iter().find(|(o, _)| *o == op).unwrap().1;
        assert!(score.injected > 0, "no site for {op}");
    }
    // The measured rate is in docs/checker.md; this guards against a regression.
    assert!(e.rate() >= 0.95, "found {} of {}", e.found(), e.injected());
}

#[test]
fn the_evaluation_on_the_generated_tree_finds_every_swap_and_comparison() {
    let files = vpid_check::synth::tree(4, 200);
    let e = evaluate(&Checker::new(), &files);
    assert!(e.clean_findings.is_empty());
    let cmp = &e
        .scores
        .iter()
        .find(|(o, _)| *o == Operator::MixedComparison)
        .unwrap()
        .1;
    assert!(cmp.injected > 0 && cmp.found == cmp.injected, "{e}");
}
