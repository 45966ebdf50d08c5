//! The scenario parser: every form, its errors, and print-then-parse round trips.

use std::path::PathBuf;

use quickcheck::{Arbitrary, Gen, QuickCheck};
use vpid_core::{CloneFlags, Errno, WaitOptions};
use vpsctl::scenario::{
    Disposition, Op, Outcome, PidArg, Query, Statement, StatementKind, TaskSpec, Viewer,
    parse_line, parse_script,
};

fn op(text: &str) -> Op {
    match parse_line(1, text).unwrap().unwrap().kind {
        StatementKind::Do(op) => op,
        other => panic!("not a plain operation: {other:?}"),
    }
}

fn name(n: &str) -> TaskSpec {
    TaskSpec::Name(n.to_owned())
}

#[test]
fn fork_forms() {
    assert_eq!(
        op("fork web in 101 as 1025"),
        Op::Fork {
            name: Some("web".into()),
            parent: TaskSpec::init_of(101),
            chosen: Some(1025),
            flags: CloneFlags::empty(),
        }
    );
    assert_eq!(
        op("fork t from web thread clone_parent"),
        Op::Fork {
            name: Some("t".into()),
            parent: name("web"),
            chosen: None,
            flags: CloneFlags::CLONE_THREAD | CloneFlags::CLONE_PARENT,
        }
    );
    assert_eq!(
        op("fork from 101:1025 flags CLONE_VM|CLONE_THREAD"),
        Op::Fork {
            name: None,
            parent: TaskSpec::Pid {
                vps: 101,
                pid: 1025
            },
            chosen: None,
            flags: CloneFlags::CLONE_VM | CloneFlags::CLONE_THREAD,
        }
    );
    assert_eq!(
        op("fork"),
        Op::Fork {
            name: None,
            parent: TaskSpec::HOST_INIT,
            chosen: None,
            flags: CloneFlags::empty(),
        }
    );
}

#[test]
fn kill_forms() {
    let kill = |target, signal, caller| Op::Kill {
        target,
        signal,
        caller,
    };
    assert_eq!(
        op("kill web -9"),
        kill(PidArg::Task(name("web")), 9, TaskSpec::HOST_INIT)
    );
    assert_eq!(
        op("kill -job SIGTSTP from sh"),
        kill(PidArg::Group(name("job")), 20, name("sh"))
    );
    assert_eq!(
        op("kill -1 KILL from 101"),
        kill(PidArg::Raw(-1), 9, TaskSpec::init_of(101))
    );
    assert_eq!(op("kill 0 from sh"), kill(PidArg::Raw(0), 15, name("sh")));
    assert_eq!(
        op("kill 1030 0"),
        kill(PidArg::Raw(1030), 0, TaskSpec::HOST_INIT)
    );
}

#[test]
fn waitpid_forms() {
    assert_eq!(
        op("waitpid sh"),
        Op::Waitpid {
            caller: name("sh"),
            pid: PidArg::Raw(-1),
            options: WaitOptions::empty(),
        }
    );
    assert_eq!(
        op("waitpid sh WNOHANG"),
        Op::Waitpid {
            caller: name("sh"),
            pid: PidArg::Raw(-1),
            options: WaitOptions::WNOHANG,
        }
    );
    assert_eq!(
        op("waitpid sh -job WUNTRACED|WCONTINUED WNOHANG"),
        Op::Waitpid {
            caller: name("sh"),
            pid: PidArg::Group(name("job")),
            options: WaitOptions::WUNTRACED | WaitOptions::WCONTINUED | WaitOptions::WNOHANG,
        }
    );
    assert_eq!(
        op("waitpid 101 0"),
        Op::Waitpid {
            caller: TaskSpec::init_of(101),
            pid: PidArg::Raw(0),
            options: WaitOptions::empty(),
        }
    );
}

#[test]
fn other_operations() {
    assert_eq!(
        op("create 101 numproc 5 init vinit"),
        Op::Create {
            vps: 101,
            numproc: Some(5),
            init: Some("vinit".into()),
            caller: TaskSpec::HOST_INIT,
        }
    );
    assert_eq!(op("destroy 7"), Op::Destroy { vps: 7 });
    assert_eq!(
        op("host b pid_max 4096"),
        Op::Host {
            name: "b".into(),
            pid_max: Some(4096),
        }
    );
    assert_eq!(
        op("exit web 3"),
        Op::Exit {
            task: name("web"),
            code: 3,
        }
    );
    assert_eq!(
        op("setpgid sh job 0"),
        Op::Setpgid {
            caller: name("sh"),
            pid: PidArg::Task(name("job")),
            pgid: PidArg::Raw(0),
        }
    );
    assert_eq!(
        op("sigaction web SIGCHLD ignore"),
        Op::Sigaction {
            task: name("web"),
            signal: 17,
            disposition: Disposition::Ignore,
        }
    );
    assert_eq!(
        op("checkpoint 101 to \"web image.img\""),
        Op::Checkpoint {
            vps: 101,
            file: PathBuf::from("web image.img"),
        }
    );
    assert_eq!(
        op("restore web.img as 102"),
        Op::Restore {
            file: PathBuf::from("web.img"),
            as_vps: 102,
        }
    );
    assert_eq!(
        op("let web2 = 102:1025"),
        Op::Let {
            name: "web2".into(),
            task: TaskSpec::Pid {
                vps: 102,
                pid: 1025
            },
        }
    );
    assert_eq!(
        op("ps 101 tree"),
        Op::Ps {
            viewer: Viewer::Task(TaskSpec::init_of(101)),
            tree: true,
        }
    );
    assert_eq!(
        op("ps tree"),
        Op::Ps {
            viewer: Viewer::Host,
            tree: true,
        }
    );
    assert_eq!(
        op("echo hello,   world # not printed"),
        Op::Echo {
            text: "hello, world".into()
        }
    );
    assert_eq!(
        op("pid web from 101"),
        Op::Query(Query::PidOf {
            task: name("web"),
            viewer: Viewer::Task(TaskSpec::init_of(101)),
        })
    );
    assert_eq!(
        op("getpgid web"),
        Op::Query(Query::Getpgid(name("web"), PidArg::Raw(0)))
    );
}

#[test]
fn expectations() {
    let stmt = parse_line(9, "expect getppid web == 1").unwrap().unwrap();
    assert_eq!(stmt.line, 9);
    assert_eq!(
        stmt.kind,
        StatementKind::Expect {
            op: Op::Query(Query::Getppid(name("web"))),
            outcome: Outcome::Equals("1".into()),
        }
    );
    let stmt = parse_line(1, "expect kill web -9 fails ESRCH")
        .unwrap()
        .unwrap();
    assert_eq!(
        stmt.kind,
        StatementKind::Expect {
            op: Op::Kill {
                target: PidArg::Task(name("web")),
                signal: 9,
                caller: TaskSpec::HOST_INIT,
            },
            outcome: Outcome::Fails(Errno::ESRCH),
        }
    );
    let stmt = parse_line(
        1,
        "expect waitpid sh -1 WUNTRACED == 1030   stopped SIGTSTP",
    )
    .unwrap()
    .unwrap();
    assert!(
        matches!(stmt.kind, StatementKind::Expect { outcome: Outcome::Equals(v), .. } if v == "1030 stopped SIGTSTP")
    );
    let stmt = parse_line(1, "expect fork x in 101").unwrap().unwrap();
    assert!(matches!(
        stmt.kind,
        StatementKind::Expect {
            outcome: Outcome::Succeeds,
            ..
        }
    ));
}

fn error_of(text: &str) -> String {
    parse_script("s.vps", text).unwrap_err().to_string()
}

#[test]
fn errors_name_file_line_and_what_was_expected() {
    assert_eq!(
        error_of("create 101\nfrobnicate 3"),
        "s.vps:2:1: expected an operation (see docs/vpsctl.md), found 'frobnicate'"
    );
    assert_eq!(
        error_of("create"),
        "s.vps:1:7: expected a VPS id (a number), found end of line"
    );
    assert_eq!(
        error_of("\n\nkill web SIGFOO"),
        "s.vps:3:10: expected a signal (SIGTERM, TERM, -TERM, 15 or -15) or `from`, found 'SIGFOO'"
    );
    assert_eq!(
        error_of("fork web in 101 as"),
        "s.vps:1:19: expected a virtual pid after `as`, found end of line"
    );
    assert_eq!(
        error_of("fork web sideways"),
        "s.vps:1:10: expected `from`, `in`, `as`, `thread`, `clone_parent`, `flags` or end of line, found 'sideways'"
    );
    assert_eq!(
        error_of("expect kill web fails EWHAT"),
        "s.vps:1:23: expected an errno name such as ESRCH, found 'EWHAT'"
    );
    assert_eq!(
        error_of("expect getpid web =="),
        "s.vps:1:21: expected a value to compare with, found end of line"
    );
    assert_eq!(
        error_of("expect getpid web extra == 1"),
        "s.vps:1:19: expected end of the operation, `==`, `!=`, `fails` or `ok`, found 'extra'"
    );
    assert_eq!(
        error_of("fork in in 101"),
        "s.vps:1:9: expected a VPS id (a number), found 'in'"
    );
    assert_eq!(
        error_of("checkpoint 101 web.img"),
        "s.vps:1:16: expected `to`, found 'web.img'"
    );
    assert_eq!(
        error_of("restore \"web.img as 1"),
        "s.vps:1:9: expected a closing `\"`, found end of line"
    );
    assert_eq!(
        error_of("waitpid sh -1 WSOMETIMES"),
        "s.vps:1:15: expected a wait option such as WNOHANG or WUNTRACED|WCONTINUED, found 'WSOMETIMES'"
    );
    assert_eq!(
        error_of("let 5 = web"),
        "s.vps:1:5: expected a new name, found '5'"
    );
    assert_eq!(
        error_of("ps host sideways"),
        "s.vps:1:9: expected end of line, found 'sideways'"
    );
}

#[test]
fn statements_keep_their_source_text() {
    let stmt = parse_line(1, r#"  checkpoint 101 to "a #b"   # saved "#)
        .unwrap()
        .unwrap();
    assert_eq!(stmt.text, r#"checkpoint 101 to "a #b""#);
}

#[test]
fn blank_and_comment_lines_keep_line_numbers() {
    let script = parse_script("s", "# head\n\n   \ncreate 1 # trailing\n").unwrap();
    assert_eq!(script.statements.len(), 1);
    assert_eq!(script.statements[0].line, 4);
}

/// A statement drawn at random from the whole language.
#[derive(Clone, Debug)]
struct AnyStatement(Statement);

fn pick<T: Clone>(g: &mut Gen, items: &[T]) -> T {
    g.choose(items).cloned().expect("non-empty")
}

fn any_name(g: &mut Gen) -> String {
    pick(g, &["web", "sh", "job_1", "a.b", "x-y", "_t"]).to_owned()
}

fn any_task(g: &mut Gen) -> TaskSpec {
    match u8::arbitrary(g) % 3 {
        0 => TaskSpec::Name(any_name(g)),
        1 => TaskSpec::Pid {
            vps: u32::arbitrary(g) % 300,
            pid: i32::arbitrary(g),
        },
        _ => TaskSpec::init_of(u32::arbitrary(g)),
    }
}

fn any_pid(g: &mut Gen) -> PidArg {
    match u8::arbitrary(g) % 3 {
        0 => PidArg::Raw(i32::arbitrary(g)),
        1 => PidArg::Task(any_task(g)),
        _ => PidArg::Group(any_task(g)),
    }
}

fn any_viewer(g: &mut Gen) -> Viewer {
    if bool::arbitrary(g) {
        Viewer::Host
    } else {
        Viewer::Task(any_task(g))
    }
}

fn any_signal(g: &mut Gen) -> i32 {
    i32::from(u8::arbitrary(g) % 65)
}

fn any_query(g: &mut Gen) -> Query {
    match u8::arbitrary(g) % 12 {
        0 => Query::Getpid(any_task(g)),
        1 => Query::Gettid(any_task(g)),
        2 => Query::Getppid(any_task(g)),
        3 => Query::Getpgid(any_task(g), any_pid(g)),
        4 => Query::Getsid(any_task(g), any_pid(g)),
        5 => Query::PidOf {
            task: any_task(g),
            viewer: any_viewer(g),
        },
        6 => Query::State(any_task(g)),
        7 => Query::VpsOf(any_task(g)),
        8 => Query::Count(any_viewer(g)),
        9 => Query::Vpses,
        10 => Query::Sparse(u32::arbitrary(g)),
        _ => Query::Lookup {
            caller: any_task(g),
            pid: any_pid(g),
        },
    }
}

fn any_op(g: &mut Gen) -> Op {
    match u8::arbitrary(g) % 18 {
        0 => Op::Host {
            name: any_name(g),
            pid_max: Option::arbitrary(g),
        },
        1 => Op::Create {
            vps: u32::arbitrary(g),
            numproc: Option::arbitrary(g),
            init: bool::arbitrary(g).then(|| any_name(g)),
            caller: any_task(g),
        },
        2 => Op::Destroy {
            vps: u32::arbitrary(g),
        },
        3 => Op::Fork {
            name: bool::arbitrary(g).then(|| any_name(g)),
            parent: any_task(g),
            chosen: Option::arbitrary(g),
            flags: CloneFlags::from_bits_truncate(u64::arbitrary(g)),
        },
        4 => Op::Exit {
            task: any_task(g),
            code: i32::arbitrary(g),
        },
        5 => Op::Kill {
            target: any_pid(g),
            signal: any_signal(g),
            caller: any_task(g),
        },
        6 => Op::Waitpid {
            caller: any_task(g),
            pid: any_pid(g),
            options: WaitOptions::from_bits_truncate(u32::arbitrary(g)),
        },
        7 => Op::Setpgid {
            caller: any_task(g),
            pid: any_pid(g),
            pgid: any_pid(g),
        },
        8 => Op::Setsid { task: any_task(g) },
        9 => Op::Sigaction {
            task: any_task(g),
            signal: any_signal(g),
            disposition: pick(
                g,
                &[
                    Disposition::Default,
                    Disposition::Ignore,
                    Disposition::Handler,
                ],
            ),
        },
        10 => Op::Enter {
            task: any_task(g),
            vps: u32::arbitrary(g),
        },
        11 => Op::Checkpoint {
            vps: u32::arbitrary(g),
            file: PathBuf::from(pick(g, &["web.img", "a b.img", "#x", "in", "dir/f"])),
        },
        12 => Op::Restore {
            file: PathBuf::from(pick(g, &["web.img", "a b.img", "as"])),
            as_vps: u32::arbitrary(g),
        },
        13 => Op::Let {
            name: any_name(g),
            task: any_task(g),
        },
        14 => Op::Ps {
            viewer: any_viewer(g),
            tree: bool::arbitrary(g),
        },
        15 => Op::Show { task: any_task(g) },
        16 => Op::Echo {
            text: pick(g, &["", "hello", "two words", "step 1: fork"]).to_owned(),
        },
        _ => Op::Query(any_query(g)),
    }
}

impl Arbitrary for AnyStatement {
    fn arbitrary(g: &mut Gen) -> Self {
        let op = any_op(g);
        let kind = if bool::arbitrary(g) || matches!(op, Op::Echo { .. }) {
            StatementKind::Do(op)
        } else {
            let outcome = match u8::arbitrary(g) % 4 {
                0 => Outcome::Succeeds,
                1 => Outcome::Fails(pick(g, &Errno::ALL)),
                2 => Outcome::Equals(pick(g, &["1", "1030 exited 0", "none", "R"]).to_owned()),
                _ => Outcome::NotEquals(pick(g, &["0", "web"]).to_owned()),
            };
            StatementKind::Expect { op, outcome }
        };
        let text = String::new();
        AnyStatement(Statement {
            line: usize::from(u8::arbitrary(g)) + 1,
            text,
            kind,
        })
    }
}

#[test]
fn printing_then_parsing_gives_the_same_statement() {
    fn prop(s: AnyStatement) -> bool {
        let text = s.0.to_string();
        match parse_line(s.0.line, &text) {
            Ok(Some(parsed)) => {
                parsed.kind == s.0.kind && parsed.line == s.0.line && parsed.text == text
            }
            _ => false,
        }
    }
    QuickCheck::new()
        .tests(2000)
        .quickcheck(prop as fn(AnyStatement) -> bool);
}
