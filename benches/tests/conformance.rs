//! The same scenarios against the three designs: the marker-bit `vps`,
//! Biederman's `pspace` and Linux `pidns`. Each scenario writes a transcript
//! of what the container's tasks see (numbers and errnos); the transcripts
//! must be identical. Where the designs differ by design (what the host
//! sees, a new container's process group), a test says how.

use quickcheck::{Arbitrary, Gen, TestResult, quickcheck};
use vpid_benches::design::{Design, Nestable, Pidns, Pspace, Vps};
use vpid_benches::workload::BENCH_PID_MAX;
use vpid_core::{Errno, RawPid};

fn host<D: Design>() -> D {
    D::with_pid_max(BENCH_PID_MAX).expect("a valid pid_max")
}

/// Records one line per observation.
#[derive(Default)]
struct Transcript(Vec<String>);

impl Transcript {
    fn note(&mut self, what: &str, value: impl std::fmt::Debug) {
        self.0.push(format!("{what}: {value:?}"));
    }
}

fn numbering<D: Design>() -> Transcript {
    let mut t = Transcript::default();
    let d = host::<D>();
    let c = d.create_container(1).unwrap().child;
    t.note("init getpid", d.getpid(c));
    t.note("init getppid", d.getppid(c));
    t.note("init sees host init", d.pid_of(Some(c), d.host_init()));
    let a = d.fork(c, Some(1100)).unwrap();
    t.note("fork chosen", a.pid);
    t.note("child getpid", d.getpid(a.child));
    t.note("child getppid", d.getppid(a.child));
    t.note("lookup finds child", d.lookup(c, 1100) == Ok(a.child));
    t.note("init sees child", d.pid_of(Some(c), a.child));
    t.note("child sees init", d.pid_of(Some(a.child), c));
    t.note("chosen again", d.fork(c, Some(1100)).map(|f| f.pid));
    let b = d.fork(a.child, Some(1101)).unwrap();
    t.note("grandchild getppid", d.getppid(b.child));
    let other = d.create_container(2).unwrap().child;
    let stranger = d.fork(other, Some(1100)).unwrap();
    t.note("same number in another container", stranger.pid);
    t.note("init sees the stranger", d.pid_of(Some(c), stranger.child));
    t.note("stranger sees init", d.pid_of(Some(stranger.child), c));
    t.note("lookup still finds own", d.lookup(c, 1100) == Ok(a.child));
    t.note("visible", d.visible(Some(c)));
    t.note("lookup absent", d.lookup(c, 1500).err());
    t
}

fn exit_and_reap<D: Design>() -> Transcript {
    let mut t = Transcript::default();
    let d = host::<D>();
    let c = d.create_container(1).unwrap().child;
    let a = d.fork(c, Some(1100)).unwrap();
    let b = d.fork(a.child, Some(1101)).unwrap();
    t.note("reap running", d.reap(a.child, 1101));
    t.note("exit", d.exit(b.child, 7));
    t.note("exit twice", d.exit(b.child, 7).err());
    t.note("reap by non-parent", d.reap(c, 1101).err());
    t.note("reap", d.reap(a.child, 1101));
    t.note("lookup reaped", d.lookup(c, 1101).err());
    t.note("reap twice", d.reap(a.child, 1101).err());
    t.note("getpid of reaped", d.getpid(b.child).err());
    let e = d.fork(a.child, Some(1102)).unwrap();
    t.note("parent exits", d.exit(a.child, 3));
    t.note("orphan getppid", d.getppid(e.child));
    t.note("init reaps the parent", d.reap(c, 1100));
    t.note("init reaps the running orphan", d.reap(c, 1102));
    t.note("exit orphan", d.exit(e.child, 0));
    t.note("init reaps the orphan", d.reap(c, 1102));
    t.note("visible", d.visible(Some(c)));
    t.note("number is free again", d.fork(c, Some(1101)).map(|f| f.pid));
    t
}

fn process_groups<D: Design>() -> Transcript {
    let mut t = Transcript::default();
    let d = host::<D>();
    let c = d.create_container(1).unwrap().child;
    let leader = d.fork(c, Some(1200)).unwrap();
    t.note("setpgid", d.setpgid(leader.child, 0, 0));
    t.note("leader pgid", d.getpgid(leader.child));
    let members: Vec<_> = (1201..1204)
        .map(|nr| d.fork(leader.child, Some(nr)).unwrap())
        .collect();
    t.note("member pgid", d.getpgid(members[0].child));
    t.note("kill group", d.kill_group(c, 1200));
    t.note("kill unknown group", d.kill_group(c, 1300).err());
    t.note(
        "join unknown group",
        d.setpgid(leader.child, members[1].pid, 1300).err(),
    );
    t.note("join own group", d.setpgid(leader.child, members[1].pid, 0));
    t.note("member pgid after", d.getpgid(members[1].child));
    t.note("kill new group", d.kill_group(c, 1202));
    t.note("a sibling container cannot reach it", {
        let other = d.create_container(2).unwrap().child;
        d.kill_group(other, 1200).err()
    });
    t
}

fn container_death<D: Design>() -> Transcript {
    let mut t = Transcript::default();
    let d = host::<D>();
    let c = d.create_container(1).unwrap();
    let a = d.fork(c.child, Some(1100)).unwrap();
    let b = d.fork(a.child, Some(1101)).unwrap();
    t.note("init exits", d.exit(c.child, 9));
    t.note("the host reaps it", d.reap(d.host_init(), c.pid));
    t.note(
        "children are gone",
        (d.getpid(a.child).err(), d.getpid(b.child).err()),
    );
    t
}

fn chosen_numbers<D: Design>() -> Transcript {
    let mut t = Transcript::default();
    let d = host::<D>();
    let c = d.create_container(1).unwrap().child;
    for nr in [
        0,
        -5,
        BENCH_PID_MAX,
        BENCH_PID_MAX + 1024,
        1024,
        BENCH_PID_MAX - 1,
    ] {
        t.note(&format!("chosen {nr}"), d.fork(c, Some(nr)).map(|f| f.pid));
    }
    t.note("visible", d.visible(Some(c)));
    t
}

fn check(scenario: &str, transcripts: [(&str, Transcript); 3]) {
    let [(_, vps), rest @ ..] = &transcripts;
    for (name, other) in rest {
        for (line, (want, got)) in vps.0.iter().zip(&other.0).enumerate() {
            assert_eq!(want, got, "{scenario}, line {line}: vps and {name} differ");
        }
        assert_eq!(
            vps.0.len(),
            other.0.len(),
            "{scenario}: {name} wrote another number of lines"
        );
    }
}

macro_rules! conformance {
    ($($test:ident),*) => {$(
        #[test]
        fn $test() {
            check(stringify!($test), [
                ("vps", super::$test::<Vps>()),
                ("pspace", super::$test::<Pspace>()),
                ("pidns", super::$test::<Pidns>()),
            ]);
        }
    )*};
}

mod same_view {
    use super::*;
    conformance!(
        numbering,
        exit_and_reap,
        process_groups,
        container_death,
        chosen_numbers
    );
}

/// What the host sees of a container's tasks, and a new container init's
/// process group: the designs differ here on purpose.
#[test]
fn host_view_differs_by_design() {
    fn host_sees<D: Design>() -> (bool, bool, Result<RawPid, Errno>) {
        let d = host::<D>();
        let c = d.create_container(1).unwrap();
        let child = d.fork(c.child, None).unwrap().child;
        let seen = d.pid_of(None, child).unwrap();
        let found = seen != 0 && d.lookup(d.host_init(), seen) == Ok(child);
        let init_found = d.lookup(d.host_init(), c.pid) == Ok(c.child);
        assert!(
            init_found,
            "{}: the host finds the container init by its host number",
            D::NAME
        );
        (seen != 0, found, d.getpgid(c.child))
    }
    // The marker-bit design and Linux show every task to the host; pspace
    // shows only the leaders of child pspaces (by their wid).
    assert_eq!(host_sees::<Vps>(), (true, true, Ok(1)));
    let (seen, found, _) = host_sees::<Pidns>();
    assert!(seen && found);
    assert_eq!(host_sees::<Pspace>(), (false, false, Ok(1)));
    // A Linux namespace init keeps its parent's group, invisible inside.
    assert_eq!(host_sees::<Pidns>().2, Ok(0));
}

/// A chosen number must carry the marker bit in the marker-bit design, and
/// 1 is the VPS init's alone there (EINVAL); the rivals take any number in
/// range, and 1 is merely taken (EEXIST, as Linux's `set_tid`).
#[test]
fn chosen_numbers_differ_by_design() {
    fn try_numbers<D: Design>() -> Vec<Result<RawPid, Errno>> {
        let d = host::<D>();
        let c = d.create_container(1).unwrap().child;
        [1, 500]
            .map(|nr| d.fork(c, Some(nr)).map(|f| f.pid))
            .to_vec()
    }
    assert_eq!(
        try_numbers::<Vps>(),
        vec![Err(Errno::EINVAL), Err(Errno::EINVAL)]
    );
    for rival in [try_numbers::<Pspace>(), try_numbers::<Pidns>()] {
        assert_eq!(rival, vec![Err(Errno::EEXIST), Ok(500)]);
    }
}

/// Containers nest in the rivals (Linux up to 32 levels), not in the
/// marker-bit design (one level of VPSes, as OpenVZ). A middle container
/// sees the inner one's tasks in Linux, only the inner leader in pspace.
#[test]
fn nesting_differs_by_design() {
    fn middle_sees<D: Nestable>() -> (RawPid, RawPid, RawPid) {
        let d = host::<D>();
        let middle = d.create_container(1).unwrap().child;
        let inner = d.nest(middle).unwrap();
        let deep = d.fork(inner.child, Some(1100)).unwrap();
        assert_eq!(d.pid_of(Some(inner.child), deep.child), Ok(1100));
        assert_eq!(d.lookup(middle, inner.pid), Ok(inner.child));
        (
            d.getpid(inner.child).unwrap(),
            d.pid_of(Some(middle), inner.child).unwrap(),
            d.pid_of(Some(middle), deep.child).unwrap(),
        )
    }
    let (own, outer, deep) = middle_sees::<Pidns>();
    assert_eq!(own, 1);
    assert!(outer > 1 && deep > 1 && deep != outer);
    let (own, outer, deep) = middle_sees::<Pspace>();
    assert_eq!((own, deep), (1, 0));
    assert!(outer > 1);

    let Vps(vps) = host::<Vps>();
    let init = vps
        .create_vps(vps.init(), vps::VpsId(1), vps::VpsConfig::default())
        .unwrap();
    assert_eq!(
        vps.create_vps(init, vps::VpsId(2), vps::VpsConfig::default()),
        Err(Errno::EPERM)
    );
}

/// One step of a random scenario inside one container, with chosen numbers
/// so that every design hands out the same ones.
#[derive(Clone, Debug)]
enum Step {
    Fork { parent: u8, nr: u8 },
    Exit { task: u8, code: i8 },
    Reap { parent: u8, nr: u8 },
    Lookup { nr: u8 },
    NewGroup { task: u8 },
    KillGroup { nr: u8 },
}

impl Arbitrary for Step {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 6 {
            0 => Step::Fork {
                parent: u8::arbitrary(g),
                nr: u8::arbitrary(g) % 24,
            },
            1 => Step::Exit {
                task: u8::arbitrary(g),
                code: i8::arbitrary(g),
            },
            2 => Step::Reap {
                parent: u8::arbitrary(g),
                nr: u8::arbitrary(g) % 24,
            },
            3 => Step::Lookup {
                nr: u8::arbitrary(g) % 24,
            },
            4 => Step::NewGroup {
                task: u8::arbitrary(g),
            },
            _ => Step::KillGroup {
                nr: u8::arbitrary(g) % 24,
            },
        }
    }
}

fn number(nr: u8) -> RawPid {
    1100 + RawPid::from(nr)
}

fn run_steps<D: Design>(steps: &[Step]) -> Transcript {
    let mut t = Transcript::default();
    let d = host::<D>();
    let init = d.create_container(1).unwrap().child;
    // A Linux namespace init starts in its parent's group; make it lead its
    // own, as the other designs' inits do (where this fails with EPERM: a
    // session leader already leads group 1).
    let _ = d.setpgid(init, 0, 0);
    let mut tasks = vec![init];
    let mut exited = Vec::new();
    let pick = |tasks: &Vec<D::Task>, i: u8| tasks[usize::from(i) % tasks.len()];
    for step in steps {
        match *step {
            Step::Fork { parent, nr } => {
                let r = d.fork(pick(&tasks, parent), Some(number(nr)));
                if let Ok(f) = r {
                    tasks.push(f.child);
                }
                t.note("fork", r.map(|f| f.pid));
            }
            Step::Exit { task, code } => {
                // The init's death ends the scenario's container: keep it.
                let victim = pick(&tasks, task.max(1));
                if victim != init {
                    let r = d.exit(victim, i32::from(code));
                    if r.is_ok() {
                        exited.push(victim);
                    }
                    t.note("exit", r);
                }
            }
            Step::Reap { parent, nr } => t.note("reap", d.reap(pick(&tasks, parent), number(nr))),
            Step::Lookup { nr } => t.note("lookup", d.lookup(init, number(nr)).is_ok()),
            Step::NewGroup { task } => {
                let leader = pick(&tasks, task.max(1));
                if leader != init {
                    t.note("setpgid", d.setpgid(leader, 0, 0));
                }
            }
            Step::KillGroup { nr } => t.note("kill group", d.kill_group(init, number(nr))),
        }
        // A zombie makes no system calls: ask only the running tasks.
        let pgids: Vec<_> = tasks
            .iter()
            .filter(|task| !exited.contains(*task))
            .map(|&task| d.getpgid(task))
            .collect();
        t.note("groups", pgids);
        t.note("visible", d.visible(Some(init)));
    }
    t
}

quickcheck! {
    fn random_scenarios_look_the_same(steps: Vec<Step>) -> TestResult {
        let vps = run_steps::<Vps>(&steps);
        for other in [run_steps::<Pspace>(&steps), run_steps::<Pidns>(&steps)] {
            if other.0 != vps.0 {
                return TestResult::error(format!("vps: {:?}\nother: {:?}", vps.0, other.0));
            }
        }
        TestResult::passed()
    }
}
