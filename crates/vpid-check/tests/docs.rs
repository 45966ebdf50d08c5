//! docs/checker.md keeps up with the rules: every rule's ID, name and
//! severity appear in its rule reference.

use std::path::Path;

use vpid_check::Rule;

#[test]
fn the_rule_reference_lists_every_rule() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/checker.md");
    let doc = std::fs::read_to_string(path).expect("docs/checker.md exists");
    for rule in Rule::ALL {
        let heading = format!(
            "### {} {} ({})",
            rule.id(),
            rule.doc().name,
            rule.severity()
        );
        assert!(doc.contains(&heading), "docs/checker.md lacks `{heading}`");
    }
}
