//! The command lines: exit status, output formats, suppression, the cargo
//! subcommand.

use std::path::Path;
use std::process::{Command, Output};

const CLEAN: &str = "fn main() { let x = 1; println!(\"{x}\"); }\n";
const MIXUP: &str = "use vpid_core::{convert::pid_to_vpid, IdType};
/// vpid-check: pid=real
fn find_task(pid: i32) {}
fn f(r: i32) {
    let v = pid_to_vpid(IdType::Pid, r, None).unwrap();
    find_task(v);
}
";
const WARNING_ONLY: &str = "use vpid_core::VPID_DIV;
fn f(x: i32) -> bool { x & VPID_DIV != 0 }
";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vpid-check"))
        .args(args)
        .output()
        .expect("vpid-check runs")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn exit_status_is_0_clean_1_errors_2_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let clean = write(dir.path(), "clean.rs", CLEAN);
    let bad = write(dir.path(), "bad.rs", MIXUP);
    let broken = write(dir.path(), "broken.rs", "fn ( {\n");
    assert_eq!(run(&[&clean]).status.code(), Some(0));
    let out = run(&[&bad]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("error[PID001]"), "{text}");
    assert!(text.contains("find_task(v);"), "{text}");
    assert!(text.contains('^'), "{text}");
    assert_eq!(run(&[&broken]).status.code(), Some(2));
    assert_eq!(
        run(&[&dir.path().join("missing.rs").to_string_lossy()])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["--format", "xml", &clean]).status.code(), Some(2));
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let warn = write(dir.path(), "warn.rs", WARNING_ONLY);
    assert_eq!(run(&[&warn]).status.code(), Some(0));
    assert_eq!(run(&["--deny-warnings", &warn]).status.code(), Some(1));
}

#[test]
fn json_output_lists_findings_with_1_based_positions() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.rs", MIXUP);
    let out = run(&["--format", "json", &bad]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v.as_array().unwrap()[0];
    assert_eq!(f["rule"], "PID001");
    assert_eq!(f["severity"], "error");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(6), Some(15))
    );
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(6), Some(16))
    );
    assert_eq!(f["file"], bad.as_str());
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("expected real, got virtual")
    );
}

#[test]
fn sarif_output_is_a_sarif_2_1_0_log() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.rs", MIXUP);
    let out = run(&["--format", "sarif", &bad]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "PID001");
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        6
    );
}

#[test]
fn an_allow_comment_suppresses_on_its_line_and_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let above = MIXUP.replace(
        "    find_task(v);",
        "    // vpid-check: allow(PID001) the test wants it\n    find_task(v);",
    );
    let same = MIXUP.replace(
        "    find_task(v);",
        "    find_task(v); // vpid-check: allow(wrong-kind-argument)",
    );
    let other_rule = MIXUP.replace(
        "    find_task(v);",
        "    find_task(v); // vpid-check: allow(PID002)",
    );
    assert_eq!(
        run(&[&write(dir.path(), "a.rs", &above)]).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&[&write(dir.path(), "b.rs", &same)]).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&[&write(dir.path(), "c.rs", &other_rule)])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn folders_skip_target_and_gitignored_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("target")).unwrap();
    std::fs::create_dir_all(dir.path().join("gen")).unwrap();
    write(&dir.path().join("target"), "bad.rs", MIXUP);
    write(&dir.path().join("gen"), "bad.rs", MIXUP);
    write(dir.path(), ".gitignore", "gen/\n");
    write(dir.path(), "ok.rs", CLEAN);
    let out = run(&["--format", "json", &dir.path().to_string_lossy()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn list_rules_documents_every_rule() {
    let out = run(&["--list-rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for rule in vpid_check::Rule::ALL {
        assert!(text.contains(rule.id()), "{rule} missing");
    }
}

#[test]
fn cargo_subcommand_checks_a_package() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    write(&dir.path().join("src"), "lib.rs", MIXUP);
    let manifest = dir.path().join("Cargo.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-vpid-check"))
        .args(["vpid-check", "--format", "json", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v[0]["file"].as_str().unwrap().ends_with("src/lib.rs"));
    let missing = Command::new(env!("CARGO_BIN_EXE_cargo-vpid-check"))
        .args(["vpid-check", "-p", "nope", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}
