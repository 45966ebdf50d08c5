//! The executor on the model: names, hosts, pid arguments, expectations.

use vpid_core::Errno;
use vpsctl::exec::{Executor, OpError, StepError, Value, Verbosity};
use vpsctl::scenario::{parse_line, parse_script};

fn run(exec: &mut Executor, line: &str) -> Result<Value, StepError> {
    let statement = parse_line(1, line).unwrap().expect("a statement");
    exec.run_statement(&statement)
}

fn ok(exec: &mut Executor, line: &str) -> String {
    match run(exec, line) {
        Ok(value) => value.to_string(),
        Err(e) => panic!("{line}: {e}"),
    }
}

fn executor() -> Executor {
    Executor::new(std::env::temp_dir())
}

#[test]
fn names_numbers_and_views_agree() {
    let mut exec = executor();
    ok(&mut exec, "create 101 init vinit");
    assert_eq!(ok(&mut exec, "fork web in 101 as 1025"), "1025");
    let real = ok(&mut exec, "pid web from host");
    assert_ne!(real, "1025");
    assert_eq!(ok(&mut exec, "pid 101:1025 from host"), real);
    assert_eq!(ok(&mut exec, &format!("lookup host {real}")), "web");
    assert_eq!(ok(&mut exec, "lookup vinit 1025"), "web");
    assert_eq!(ok(&mut exec, "pid web from vinit"), "1025");
    assert_eq!(ok(&mut exec, "vps web"), "101");
    assert_eq!(ok(&mut exec, "vps host"), "host");
    ok(&mut exec, "let same = 101:1025");
    assert_eq!(exec.named("same"), exec.named("web"));
}

#[test]
fn a_task_the_caller_cannot_see_is_esrch_not_another_number() {
    let mut exec = executor();
    ok(&mut exec, "create 101");
    ok(&mut exec, "create 102");
    ok(&mut exec, "fork a in 101 as 1025");
    ok(&mut exec, "fork b in 102 as 1025");
    // b is invisible from a: the name must not turn into a's own number.
    let err = run(&mut exec, "kill b SIGKILL from a").unwrap_err();
    assert!(
        matches!(err, StepError::Op(OpError::Errno(Errno::ESRCH))),
        "{err}"
    );
    assert_eq!(ok(&mut exec, "state b"), "R");
    assert_eq!(ok(&mut exec, "state a"), "R");
}

#[test]
fn a_stale_name_gives_esrch() {
    let mut exec = executor();
    ok(&mut exec, "fork gone");
    ok(&mut exec, "exit gone 0");
    ok(&mut exec, "waitpid host gone");
    let err = run(&mut exec, "getpid gone").unwrap_err();
    assert!(
        matches!(err, StepError::Op(OpError::Errno(Errno::ESRCH))),
        "{err}"
    );
}

#[test]
fn hosts_are_separate_and_names_remember_theirs() {
    let mut exec = executor();
    ok(&mut exec, "create 101");
    ok(&mut exec, "fork web in 101 as 1025");
    ok(&mut exec, "host second pid_max 4096");
    assert_eq!(exec.host_name(), "second");
    assert_eq!(exec.host().pid_max(), 4096);
    assert_eq!(ok(&mut exec, "vpses"), "none");
    // A named task is still reachable, on its own host.
    assert_eq!(ok(&mut exec, "getpid web"), "1025");
    ok(&mut exec, "fork other");
    let err = run(&mut exec, "kill web from other").unwrap_err();
    assert!(
        matches!(err, StepError::Op(OpError::OtherHost { .. })),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "task 'web' is on host 'main', but this operation runs on host 'second'"
    );
    ok(&mut exec, "host main");
    assert_eq!(ok(&mut exec, "vpses"), "101");
    let err = run(&mut exec, "host second pid_max 5000").unwrap_err();
    assert!(
        matches!(err, StepError::Op(OpError::HostExists(_))),
        "{err}"
    );
    assert!(matches!(
        run(&mut exec, "host third pid_max 10").unwrap_err(),
        StepError::Op(OpError::Errno(Errno::EINVAL))
    ));
}

#[test]
fn expectations_report_what_happened() {
    let mut exec = executor();
    ok(&mut exec, "create 101");
    ok(&mut exec, "fork web in 101 as 1025");
    let err = run(&mut exec, "expect getppid web == 7").unwrap_err();
    assert_eq!(err.to_string(), "expected 7, got 1");
    let err = run(&mut exec, "expect getppid web != 1").unwrap_err();
    assert_eq!(err.to_string(), "expected anything but 1, got 1");
    let err = run(&mut exec, "expect getpid web fails ESRCH").unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected failure ESRCH, but it succeeded with 1025"
    );
    let err = run(&mut exec, "expect create 101 fails EPERM").unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected failure EPERM, got: file exists (EEXIST)"
    );
    let err = run(&mut exec, "expect getpid nobody fails ESRCH").unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected failure ESRCH, got: unknown task name 'nobody'"
    );
    assert_eq!(
        ok(&mut exec, "expect waitpid web   -1 WNOHANG fails ECHILD"),
        "ok"
    );
    assert_eq!(ok(&mut exec, "expect fork x in 101"), "1028");
}

#[test]
fn a_failed_fork_binds_no_name() {
    let mut exec = executor();
    ok(&mut exec, "create 101");
    assert!(run(&mut exec, "fork x in 101 as 7").is_err());
    assert!(exec.named("x").is_none());
}

#[test]
fn run_script_prints_what_the_script_asks_for() {
    let script = parse_script(
        "t.vps",
        "create 101 init vinit\nfork web in 101 as 1025\necho hello there\ngetppid web\nps 101\n",
    )
    .unwrap();
    let mut out = Vec::new();
    executor()
        .run_script(&script, &mut out, Verbosity::Quiet)
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "hello there\ngetppid web = 1\n PID PPID PGID SID STAT NAME\n   1    0    1   1 R    vinit\n1025    1    1   1 R    web\n"
    );
    let mut out = Vec::new();
    executor()
        .run_script(&script, &mut out, Verbosity::Trace)
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("$ create 101 init vinit\n"), "{text}");
    assert!(text.contains("$ fork web in 101 as 1025\n1025\n"), "{text}");
}

#[test]
fn run_script_stops_at_the_failing_line() {
    let script = parse_script("t.vps", "create 101\n\nfork in 101 as 3\ncreate 102\n").unwrap();
    let mut exec = executor();
    let err = exec
        .run_script(&script, &mut std::io::sink(), Verbosity::Quiet)
        .unwrap_err();
    assert_eq!(err.line, 3);
    assert_eq!(
        err.to_string(),
        "t.vps:3: fork in 101 as 3: invalid argument (EINVAL)"
    );
    assert_eq!(exec.host().vps_ids().len(), 1);
}
