//! The `vpsctl` binary: scenario files, the state file, the tour, help.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vpsctl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vpsctl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("vpsctl runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .canonicalize()
        .expect("examples/ exists");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "vps"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_scenario_passes() {
    let files = examples();
    for required in ["job-control", "init-dies", "migration", "numproc"] {
        assert!(
            files
                .iter()
                .any(|f| f.file_stem().is_some_and(|s| s == required)),
            "examples/{required}.vps is missing"
        );
    }
    for file in files {
        let dir = tempfile::tempdir().unwrap();
        let out = vpsctl(dir.path(), &["run", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{} failed:\n{}{}",
            file.display(),
            stdout(&out),
            stderr(&out)
        );
        assert!(stdout(&out).contains("ok: "), "{}", stdout(&out));
    }
}

#[test]
fn a_wrong_expectation_fails_on_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = "# header\ncreate 101\nfork web in 101 as 1025\n\nexpect getppid web == 7\nexpect getpid web == 1025\n";
    std::fs::write(dir.path().join("bad.vps"), script).unwrap();
    let out = vpsctl(dir.path(), &["run", "bad.vps"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("bad.vps:5: expect getppid web == 7: expected 7, got 1"),
        "{err}"
    );
}

#[test]
fn a_wrong_errno_and_an_unexpected_success_are_failures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.vps"),
        "create 101\nexpect create 101 fails ESRCH\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.vps"),
        "create 101\nexpect fork in 101 fails EAGAIN\n",
    )
    .unwrap();
    let out = vpsctl(dir.path(), &["run", "a.vps", "b.vps"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("a.vps:2: expect create 101 fails ESRCH: expected failure ESRCH, got: file exists (EEXIST)"), "{err}");
    assert!(err.contains("b.vps:2: expect fork in 101 fails EAGAIN: expected failure EAGAIN, but it succeeded with "), "{err}");
    assert!(err.contains("2 of 2 scenario files failed"), "{err}");
}

#[test]
fn a_parse_error_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("typo.vps"),
        "create 101\n\nfrok web in 101\n",
    )
    .unwrap();
    let out = vpsctl(dir.path(), &["run", "typo.vps"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("typo.vps:3:1: expected an operation (see docs/vpsctl.md), found 'frok'"),
        "{}",
        stderr(&out)
    );
}

fn ps_rows(dir: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = vpsctl(dir, args);
    assert!(out.status.success(), "{}", stderr(&out));
    let table: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ps --json is JSON");
    table["rows"].as_array().expect("rows").clone()
}

#[test]
fn the_state_file_persists_across_invocations() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(
        vpsctl(d, &["create", "101", "--name", "vinit"])
            .status
            .success()
    );
    let fork = vpsctl(
        d,
        &["--json", "fork", "101", "--vpid", "1025", "--name", "web"],
    );
    assert!(fork.status.success(), "{}", stderr(&fork));
    let forked: serde_json::Value = serde_json::from_slice(&fork.stdout).unwrap();
    assert_eq!(forked["pid"], 1025);
    assert!(
        vpsctl(d, &["fork", "101", "--parent", "1025"])
            .status
            .success()
    );
    // Inside the VPS: virtual numbers only.
    let rows = ps_rows(d, &["ps", "101", "--json"]);
    let pids: Vec<i64> = rows.iter().map(|r| r["pid"].as_i64().unwrap()).collect();
    assert_eq!(pids.len(), 3);
    assert_eq!(pids[..2], [1, 1025]);
    assert!(rows.iter().all(|r| r.get("vps").is_none()));
    // From the host: real numbers, with the VPS and virtual PID beside them.
    let rows = ps_rows(d, &["--json", "ps"]);
    let web = rows
        .iter()
        .find(|r| r["name"] == "web")
        .expect("web in the host view");
    assert_eq!(web["vps"], 101);
    assert_eq!(web["vpid"], 1025);
    assert_ne!(web["pid"], 1025);
    // A name given in one invocation works in the next.
    let out = vpsctl(d, &["do", "expect", "getppid", "web", "==", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        vpsctl(d, &["kill", "101", "1025", "--signal", "KILL"])
            .status
            .success()
    );
    let out = vpsctl(d, &["do", "state", "web"]);
    assert_eq!(stdout(&out).trim(), "Z");
}

#[test]
fn checkpoint_and_restore_keep_virtual_pids_and_survive_the_image_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(vpsctl(d, &["create", "101"]).status.success());
    assert!(
        vpsctl(d, &["fork", "101", "--vpid", "1025"])
            .status
            .success()
    );
    assert!(
        vpsctl(d, &["fork", "101", "--parent", "1025", "--vpid", "1030"])
            .status
            .success()
    );
    let out = vpsctl(d, &["--json", "checkpoint", "101", "--out", "web.img"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(written["bytes"].as_u64().unwrap() > 0);
    let out = vpsctl(d, &["restore", "web.img", "--as", "102"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("restored web.img as VPS 102 (init: real pid "));
    // The log holds the image itself: the file can go.
    std::fs::remove_file(d.join("web.img")).unwrap();
    let inside = |id: &str| -> Vec<(i64, i64)> {
        ps_rows(d, &["ps", id, "--json"])
            .iter()
            .map(|r| (r["pid"].as_i64().unwrap(), r["ppid"].as_i64().unwrap()))
            .collect()
    };
    assert_eq!(inside("101"), [(1, 0), (1025, 1), (1030, 1025)]);
    assert_eq!(inside("102"), inside("101"));
    // Same virtual PIDs, new real ones.
    let host = ps_rows(d, &["ps", "--json"]);
    let real = |vps: i64, vpid: i64| {
        host.iter()
            .find(|r| r["vps"] == vps && r["vpid"] == vpid)
            .map(|r| r["pid"].as_i64().unwrap())
            .unwrap()
    };
    assert_ne!(real(101, 1025), real(102, 1025));
    let out = vpsctl(d, &["restore", "missing.img", "--as", "103"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("vpsctl: error: missing.img: "),
        "{}",
        stderr(&out)
    );
    std::fs::write(d.join("junk.img"), b"not an image").unwrap();
    let out = vpsctl(d, &["restore", "junk.img", "--as", "103"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("restore failed: cannot restore"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_failed_operation_leaves_the_state_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(vpsctl(d, &["create", "101"]).status.success());
    let before = std::fs::read(d.join("vpsctl.state")).unwrap();
    let out = vpsctl(d, &["fork", "101", "--vpid", "5"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "vpsctl: error: fork in 101 as 5: invalid argument (EINVAL)"
    );
    let out = vpsctl(d, &["kill", "101", "1030"]);
    assert!(
        stderr(&out).contains("no such process (ESRCH)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(d.join("vpsctl.state")).unwrap(), before);
}

#[test]
fn a_corrupt_state_file_is_a_clear_error_and_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let state = d.join("custom.state");
    for garbage in [
        &b"not json at all"[..],
        br#"{"format":"vpsctl-state","version":1,"log":[{"statement":"frobnicate"}]}"#,
        br#"{"format":"vpsctl-state","version":1,"log":[{"statement":"destroy 9"}]}"#,
    ] {
        std::fs::write(&state, garbage).unwrap();
        let out = vpsctl(d, &["--state", "custom.state", "create", "101"]);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.starts_with("vpsctl: error: state file custom.state is corrupt ("),
            "{err}"
        );
        assert!(err.trim_end().ends_with("it was left untouched"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(std::fs::read(&state).unwrap(), garbage);
    }
}

#[test]
fn concurrent_invocations_do_not_lose_updates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(vpsctl(d, &["create", "101"]).status.success());
    const WRITERS: usize = 12;
    // Start them all before waiting for any, so that they overlap.
    let handles: Vec<_> = (0..WRITERS)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_vpsctl"))
                .args(["fork", "101"])
                .current_dir(d)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut child in handles {
        assert!(child.wait().unwrap().success());
    }
    let rows = ps_rows(d, &["ps", "101", "--json"]);
    assert_eq!(rows.len(), 1 + WRITERS);
}

#[test]
fn the_tour_runs_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = vpsctl(dir.path(), &["tour"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    for needle in ["== 1.", "checkpoint 101 to", "WrongKind", "End of the tour"] {
        assert!(text.contains(needle), "tour output lacks {needle:?}");
    }
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for sub in [
        "tour",
        "run",
        "shell",
        "create",
        "destroy",
        "fork",
        "exit",
        "kill",
        "ps",
        "checkpoint",
        "restore",
        "do",
    ] {
        let out = vpsctl(dir.path(), &[sub, "--help"]);
        assert!(out.status.success(), "{sub} --help");
        assert!(
            stdout(&out).contains("Example"),
            "{sub} --help has no example"
        );
    }
}

#[test]
fn the_shell_reads_a_pipe_without_a_prompt() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpsctl"))
        .arg("shell")
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"create 101\nfork web in 101 as 1025\ngetppid web\nkill nobody\nps 101\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(!text.contains("vpsctl("), "no prompt on a pipe: {text}");
    assert!(text.contains("1025\n1\n"), "{text}");
    assert!(text.contains("PID PPID PGID SID STAT NAME"), "{text}");
    assert_eq!(
        stderr(&out).lines().next(),
        Some("vpsctl: error: <stdin>:4: unknown task name 'nobody'")
    );
}
