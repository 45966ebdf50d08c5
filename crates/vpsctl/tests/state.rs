//! The state file: replaying its log rebuilds exactly the host that was saved.

use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};
use vpsctl::exec::{Executor, Value};
use vpsctl::scenario::{Op, Statement, StatementKind, Viewer, parse_line};
use vpsctl::state::PersistentHost;

/// A statement text drawn from operations that change the host.
#[derive(Clone, Debug)]
struct Step(String);

impl Arbitrary for Step {
    fn arbitrary(g: &mut Gen) -> Self {
        let vps = *g.choose(&[101, 102]).unwrap();
        let vpid = 1025 + u32::arbitrary(g) % 8;
        let task = format!("{vps}:{vpid}");
        let text = match u8::arbitrary(g) % 9 {
            0 => format!("create {vps} numproc 6"),
            1 => format!("fork in {vps} as {vpid}"),
            2 => format!("fork from {task}"),
            3 => format!("exit {task} {}", u8::arbitrary(g) % 4),
            4 => format!(
                "kill {task} {}",
                g.choose(&["SIGKILL", "SIGSTOP", "SIGCONT", "SIGTERM"])
                    .unwrap()
            ),
            5 => format!("waitpid {vps} -1 WNOHANG WUNTRACED"),
            6 => format!("setsid {task}"),
            7 => format!("setpgid {task} 0 0"),
            _ => format!("destroy {vps}"),
        };
        Step(text)
    }
}

fn statement(text: &str) -> Statement {
    parse_line(1, text).unwrap().unwrap()
}

fn ps(executor: &mut Executor) -> Value {
    executor
        .execute(&Op::Ps {
            viewer: Viewer::Host,
            tree: false,
        })
        .unwrap()
}

#[test]
fn a_saved_log_replays_to_the_same_host() {
    fn prop(steps: Vec<Step>) -> TestResult {
        if steps.len() > 25 {
            return TestResult::discard();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vpsctl.state");
        let mut direct = Executor::new(dir.path());
        for Step(text) in &steps {
            let direct_ok = direct.run_statement(&statement(text)).is_ok();
            // One invocation per step, as the command line does.
            let mut host = PersistentHost::open(&path, dir.path()).unwrap();
            let persisted_ok = host.run(&statement(text)).is_ok();
            host.save().unwrap();
            if direct_ok != persisted_ok {
                return TestResult::error(format!("{text}: {direct_ok} vs {persisted_ok}"));
            }
        }
        let mut replayed = PersistentHost::open(&path, dir.path()).unwrap();
        let view = ps(&mut direct);
        let statement = Statement {
            line: 1,
            text: "ps".to_owned(),
            kind: StatementKind::Do(Op::Ps {
                viewer: Viewer::Host,
                tree: false,
            }),
        };
        let replayed_view = replayed.run(&statement).unwrap();
        TestResult::from_bool(view == replayed_view)
    }
    QuickCheck::new()
        .tests(40)
        .quickcheck(prop as fn(Vec<Step>) -> TestResult);
}
