//! Checkpoint and restore: the same virtual PIDs on another host, atomicity,
//! and untrusted images.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};
use vpid_core::{CloneFlags, Errno, RawPid, WaitOptions};
use vps::checkpoint::{ImageError, InvalidImage};
use vps::{
    Disposition, Host, HostConfig, PsEntry, RestoreError, Signal, TaskRef, Viewer, VpsConfig,
    VpsId, VpsImage,
};

/// One step of building a random VPS state. Task numbers index the VPS's
/// live tasks at the time of the step (modulo their count).
#[derive(Clone, Debug)]
enum Step {
    Fork {
        parent: u8,
        chosen: Option<u16>,
        thread: bool,
    },
    Exit {
        task: u8,
        code: u8,
    },
    Kill {
        task: u8,
        signal: u8,
    },
    Setpgid {
        task: u8,
        group: u8,
    },
    Setsid {
        task: u8,
    },
    Sigaction {
        task: u8,
        signal: u8,
        disp: u8,
    },
    Wait {
        task: u8,
        nohang: bool,
    },
}

const SIGNALS: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGSTOP,
    Signal::SIGCONT,
    Signal::SIGUSR1,
    Signal::SIGTSTP,
    Signal::SIGHUP,
];

impl Arbitrary for Step {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 10 {
            0..=3 => Step::Fork {
                parent: u8::arbitrary(g),
                chosen: if bool::arbitrary(g) {
                    Some(u16::arbitrary(g))
                } else {
                    None
                },
                thread: u8::arbitrary(g) % 6 == 0,
            },
            4 => Step::Exit {
                task: u8::arbitrary(g),
                code: u8::arbitrary(g),
            },
            5 => Step::Kill {
                task: u8::arbitrary(g),
                signal: u8::arbitrary(g),
            },
            6 => Step::Setpgid {
                task: u8::arbitrary(g),
                group: u8::arbitrary(g),
            },
            7 => Step::Setsid {
                task: u8::arbitrary(g),
            },
            8 => Step::Sigaction {
                task: u8::arbitrary(g),
                signal: u8::arbitrary(g),
                disp: u8::arbitrary(g),
            },
            _ => Step::Wait {
                task: u8::arbitrary(g),
                nohang: bool::arbitrary(g),
            },
        }
    }
}

/// The live (non-zombie) tasks of a VPS, from its init's view.
fn live(host: &Host, init: TaskRef) -> Vec<TaskRef> {
    host.ps(Viewer::Task(init))
        .expect("ps")
        .into_iter()
        .filter(|e| e.exit_status.is_none())
        .map(|e| e.task)
        .collect()
}

fn pick(tasks: &[TaskRef], i: u8) -> TaskRef {
    tasks[usize::from(i) % tasks.len()]
}

/// Applies the steps to a VPS; errors are part of the behaviour and ignored.
fn build(host: &Host, init: TaskRef, steps: &[Step]) {
    for step in steps {
        let tasks = live(host, init);
        if tasks.is_empty() {
            return;
        }
        let _ = match *step {
            Step::Fork {
                parent,
                chosen,
                thread,
            } => {
                let flags = if thread {
                    CloneFlags::CLONE_THREAD
                } else {
                    CloneFlags::empty()
                };
                let chosen = chosen.map(|c| 1024 | ((i32::from(c) % 8192) & !1024));
                host.fork(pick(&tasks, parent), flags, chosen).map(drop)
            }
            Step::Exit { task, code } => {
                let t = pick(&tasks, task);
                if t == init {
                    Ok(())
                } else {
                    host.exit(t, i32::from(code))
                }
            }
            Step::Kill { task, signal } => {
                let target = pick(&tasks, task);
                let pid = host.pid_of(Viewer::Task(init), target).unwrap_or(0);
                let sig = SIGNALS[usize::from(signal) % SIGNALS.len()];
                host.kill(init, pid, sig)
            }
            Step::Setpgid { task, group } => {
                let t = pick(&tasks, task);
                let g = pick(&tasks, group);
                let pgid = host.getpid(g).unwrap_or(0);
                host.setpgid(t, 0, pgid)
            }
            Step::Setsid { task } => host.setsid(pick(&tasks, task)).map(drop),
            Step::Sigaction { task, signal, disp } => {
                let sig = SIGNALS[usize::from(signal) % SIGNALS.len()];
                let disp = [
                    Disposition::Default,
                    Disposition::Ignore,
                    Disposition::Handler,
                ][usize::from(disp) % 3];
                host.sigaction(pick(&tasks, task), sig, disp).map(drop)
            }
            Step::Wait { task, nohang } => {
                let opts = if nohang {
                    WaitOptions::WNOHANG
                } else {
                    WaitOptions::empty()
                };
                host.waitpid(pick(&tasks, task), -1, opts).map(drop)
            }
        };
    }
}

/// What a VPS looks like from inside: every ps line (without handles), and
/// every task's answers to the identity calls.
/// One ps line without its handle: pid, tgid, ppid, pgid, sid, STAT, wait status.
type PsLine = (RawPid, RawPid, RawPid, RawPid, RawPid, String, Option<i32>);

#[derive(Debug, PartialEq, Eq)]
struct InsideView {
    ps: Vec<PsLine>,
    answers: Vec<(RawPid, [Result<RawPid, Errno>; 5])>,
}

fn inside_view(host: &Host, init: TaskRef) -> InsideView {
    let entries: Vec<PsEntry> = host.ps(Viewer::Task(init)).expect("ps");
    let ps = entries
        .iter()
        .map(|e| {
            (
                e.pid,
                e.tgid,
                e.ppid,
                e.pgid,
                e.sid,
                e.state.to_string(),
                e.exit_status.map(|s| s.raw()),
            )
        })
        .collect();
    let answers = entries
        .iter()
        .map(|e| {
            let t = host.lookup(init, e.pid).expect("every ps line resolves");
            (
                e.pid,
                [
                    host.getpid(t),
                    host.gettid(t),
                    host.getppid(t),
                    host.getpgid(t, 0),
                    host.getsid(t, 0),
                ],
            )
        })
        .collect();
    InsideView { ps, answers }
}

/// One task's `waitpid(-1)` answers: the child's PID and raw wait status.
type Reaped = Vec<Result<Option<(RawPid, i32)>, Errno>>;

/// What each live task of a VPS gets from `waitpid(-1)` until nothing is
/// left to report, tasks taken in ps order.
fn reap_all(host: &Host, init: TaskRef) -> Vec<(RawPid, Reaped)> {
    let opts = WaitOptions::WNOHANG | WaitOptions::WUNTRACED | WaitOptions::WCONTINUED;
    live(host, init)
        .into_iter()
        .map(|t| {
            let pid = host.getpid(t).unwrap_or(0);
            let mut got = Vec::new();
            loop {
                let r = host
                    .waitpid(t, -1, opts)
                    .map(|w| w.map(|w| (w.pid, w.status.raw())));
                let done = !matches!(r, Ok(Some(_)));
                got.push(r);
                if done {
                    break;
                }
            }
            (pid, got)
        })
        .collect()
}

fn real_pids(host: &Host, init: TaskRef) -> Vec<RawPid> {
    host.ps(Viewer::Task(init))
        .expect("ps")
        .iter()
        .map(|e| e.task.real().as_raw())
        .collect()
}

/// The host as a whole, to prove an error left it unchanged.
fn host_snapshot(host: &Host) -> (vps::Usage, Vec<PsEntry>, Vec<VpsId>) {
    (
        host.usage(),
        host.ps(Viewer::Host).expect("ps"),
        host.vps_ids(),
    )
}

fn source_with(steps: &[Step]) -> (Host, TaskRef) {
    let host = Host::new(HostConfig::default()).expect("host");
    let init = host
        .create_vps(host.init(), VpsId(101), VpsConfig::default())
        .expect("vps");
    build(&host, init, steps);
    (host, init)
}

#[test]
fn restore_gives_the_same_view_from_inside_and_new_real_pids() {
    fn prop(steps: Vec<Step>, shift: u8) -> TestResult {
        let (source, init) = source_with(&steps);
        let mut bytes = Vec::new();
        source
            .checkpoint(VpsId(101), &mut bytes)
            .expect("checkpoint");
        let image = source.checkpoint_image(VpsId(101)).expect("checkpoint");
        COVERAGE.record(&image);

        // A target host whose real PIDs overlap the source's.
        let target = Host::new(HostConfig::default()).expect("host");
        for _ in 0..=shift % 40 {
            target
                .fork(target.init(), CloneFlags::empty(), None)
                .expect("fork");
        }
        let restored = target.restore(&bytes[..], VpsId(202)).expect("restore");
        target.audit().expect("invariants after restore");

        let before = inside_view(&source, init);
        let after = inside_view(&target, restored);
        if before != after {
            return TestResult::error(format!("views differ:\n{before:?}\n{after:?}"));
        }
        if real_pids(&source, init) == real_pids(&target, restored) {
            return TestResult::error("the real pids did not change");
        }
        // Checkpointing the restored VPS gives the same image, except the
        // mapping mode (a restored VPS is sparse wherever its numbers are not
        // linear on the new host).
        let mut again = target
            .checkpoint_image(VpsId(202))
            .expect("checkpoint again");
        let original = source.checkpoint_image(VpsId(101)).expect("checkpoint");
        again.settings.sparse = original.settings.sparse;
        if again != original {
            return TestResult::error("re-checkpoint differs");
        }
        let mut bytes_again = Vec::new();
        again.write_to(&mut bytes_again).expect("encode");
        if bytes_again != bytes {
            return TestResult::error("re-encoded image differs");
        }
        // Every parent reaps its children in the same order on both hosts.
        let (reaped, reaped2) = (reap_all(&source, init), reap_all(&target, restored));
        TestResult::from_bool(reaped == reaped2)
    }
    QuickCheck::new()
        .tests(400)
        .quickcheck(prop as fn(Vec<Step>, u8) -> TestResult);
    // The random states must be worth checking: many tasks, zombies, stopped
    // tasks, threads, sparse maps, orphan groups.
    let c = &COVERAGE;
    let seen = |a: &AtomicUsize| a.load(Ordering::Relaxed);
    assert!(seen(&c.images) >= 400, "{}", seen(&c.images));
    for (what, n) in [
        ("images with 5 or more tasks", seen(&c.big)),
        ("images with a zombie", seen(&c.zombie)),
        ("images with a stopped task", seen(&c.stopped)),
        ("images with a thread", seen(&c.thread)),
        ("sparse images", seen(&c.sparse)),
        ("images with an orphan group or session", seen(&c.orphan)),
    ] {
        assert!(n >= 5, "only {n} {what}");
    }
}

/// What the random VPS states covered.
struct Coverage {
    images: AtomicUsize,
    big: AtomicUsize,
    zombie: AtomicUsize,
    stopped: AtomicUsize,
    thread: AtomicUsize,
    sparse: AtomicUsize,
    orphan: AtomicUsize,
}

static COVERAGE: Coverage = Coverage {
    images: AtomicUsize::new(0),
    big: AtomicUsize::new(0),
    zombie: AtomicUsize::new(0),
    stopped: AtomicUsize::new(0),
    thread: AtomicUsize::new(0),
    sparse: AtomicUsize::new(0),
    orphan: AtomicUsize::new(0),
};

impl Coverage {
    fn record(&self, image: &VpsImage) {
        use vps::checkpoint::image::TaskStateImage;
        let count = |a: &AtomicUsize, yes: bool| {
            if yes {
                a.fetch_add(1, Ordering::Relaxed);
            }
        };
        let any =
            |f: &dyn Fn(&vps::checkpoint::image::TaskImage) -> bool| image.tasks.iter().any(f);
        count(&self.images, true);
        count(&self.big, image.tasks.len() >= 5);
        count(
            &self.zombie,
            any(&|t| matches!(t.state, TaskStateImage::Zombie { .. })),
        );
        count(
            &self.stopped,
            any(&|t| matches!(t.state, TaskStateImage::Stopped { .. })),
        );
        count(&self.thread, any(&|t| t.vtgid != t.vpid));
        count(&self.sparse, image.settings.sparse);
        count(&self.orphan, !image.orphan_ids.is_empty());
    }
}

#[test]
fn a_sparse_vps_re_checkpoints_byte_identical() {
    let (source, init) = source_with(&[]);
    let a = source
        .fork(init, CloneFlags::empty(), Some(5500))
        .expect("fork");
    source
        .fork(a.child, CloneFlags::empty(), Some(7200))
        .expect("fork");
    source.setsid(a.child).expect("setsid");
    let mut first = Vec::new();
    source
        .checkpoint(VpsId(101), &mut first)
        .expect("checkpoint");
    let target = Host::new(HostConfig::default()).expect("host");
    target.restore(&first[..], VpsId(5)).expect("restore");
    let mut second = Vec::new();
    target
        .checkpoint(VpsId(5), &mut second)
        .expect("checkpoint");
    assert_eq!(first, second);
}

#[test]
fn dead_group_and_session_leaders_need_no_helpers() {
    let (source, init) = source_with(&[]);
    let leader = source
        .fork(init, CloneFlags::empty(), Some(3100))
        .expect("fork");
    source.setsid(leader.child).expect("setsid");
    let job = source
        .fork(leader.child, CloneFlags::empty(), Some(3200))
        .expect("fork");
    // The session leader exits and is reaped: its session and group live on.
    source.exit(leader.child, 0).expect("exit");
    source
        .waitpid(init, 3100, WaitOptions::empty())
        .expect("wait");
    assert_eq!(source.getsid(job.child, 0), Ok(3100));
    let image = source.checkpoint_image(VpsId(101)).expect("checkpoint");
    assert_eq!(image.orphan_ids, vec![3100]);

    let target = Host::new(HostConfig::default()).expect("host");
    let restored = target.restore_image(&image, VpsId(9)).expect("restore");
    let job2 = target.lookup(restored, 3200).expect("job");
    assert_eq!(target.getsid(job2, 0), Ok(3100));
    assert_eq!(target.getpgid(job2, 0), Ok(3100));
    assert_eq!(target.getppid(job2), Ok(1));
    // The orphan session ID is reserved: no fork can take it.
    assert_eq!(
        target
            .fork(restored, CloneFlags::empty(), Some(3100))
            .map(drop),
        Err(Errno::EEXIST)
    );
}

#[test]
fn one_image_restored_twice_at_once() {
    let (source, init) = source_with(&[]);
    for v in [1030, 3124, 5500, 10024] {
        source
            .fork(init, CloneFlags::empty(), Some(v))
            .expect("fork");
    }
    let mut bytes = Vec::new();
    source
        .checkpoint(VpsId(101), &mut bytes)
        .expect("checkpoint");
    let bytes = Arc::new(bytes);
    let target = Arc::new(Host::new(HostConfig::default()).expect("host"));
    let handles: Vec<_> = (0..4u32)
        .map(|i| {
            let (target, bytes) = (Arc::clone(&target), Arc::clone(&bytes));
            std::thread::spawn(move || target.restore(&bytes[..], VpsId(300 + i)).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().expect("thread").expect("restore");
    }
    target.audit().expect("invariants");
    let want = inside_view(&source, init);
    for i in 0..4 {
        let init = target.vps_init(VpsId(300 + i)).expect("init");
        assert_eq!(inside_view(&target, init), want);
    }
    // Restoring under an id in use fails and changes nothing.
    let before = host_snapshot(&target);
    assert!(matches!(
        target.restore(&bytes[..], VpsId(300)),
        Err(RestoreError::Errno(Errno::EEXIST))
    ));
    assert_eq!(host_snapshot(&target), before);
}

#[test]
fn restore_onto_a_full_host_fails_atomically() {
    let (source, init) = source_with(&[]);
    for _ in 0..5 {
        source.fork(init, CloneFlags::empty(), None).expect("fork");
    }
    let image = source.checkpoint_image(VpsId(101)).expect("checkpoint");
    // A host with every real PID taken.
    let target = Host::new(HostConfig { pid_max: 4096 }).expect("host");
    while target
        .fork(target.init(), CloneFlags::empty(), None)
        .is_ok()
    {}
    let free = 2; // free two numbers: fewer than the six the image needs
    let victims: Vec<_> = target
        .ps(Viewer::Host)
        .expect("ps")
        .into_iter()
        .filter(|e| e.pid != 1)
        .take(free)
        .collect();
    for v in &victims {
        target
            .kill(target.init(), v.pid, Signal::SIGKILL)
            .expect("kill");
    }
    let before = host_snapshot(&target);
    let err = target.restore_image(&image, VpsId(7)).unwrap_err();
    assert!(matches!(err, RestoreError::Errno(Errno::EAGAIN)), "{err}");
    assert_eq!(host_snapshot(&target), before);
    // With room, the same image restores.
    let roomy = Host::new(HostConfig::default()).expect("host");
    roomy.restore_image(&image, VpsId(7)).expect("restore");
}

#[test]
fn an_image_beyond_the_target_pid_max_is_refused() {
    let (source, init) = source_with(&[]);
    source
        .fork(init, CloneFlags::empty(), Some(30000))
        .expect("fork");
    let image = source.checkpoint_image(VpsId(101)).expect("checkpoint");
    let small = Host::new(HostConfig { pid_max: 4096 }).expect("host");
    let before = host_snapshot(&small);
    let err = small.restore_image(&image, VpsId(1)).unwrap_err();
    assert!(
        matches!(
            err,
            RestoreError::Image(ImageError::Invalid(InvalidImage::OutOfRange {
                value: 30000,
                ..
            }))
        ),
        "{err}"
    );
    assert_eq!(host_snapshot(&small), before);
}

#[test]
fn entered_tasks_that_kept_their_real_pid_are_refused_clearly() {
    let host = Host::new(HostConfig::default()).expect("host");
    let init = host
        .create_vps(host.init(), VpsId(1), VpsConfig::default())
        .expect("vps");
    let shell = host
        .fork(host.init(), CloneFlags::empty(), None)
        .expect("fork");
    host.fork(shell.child, CloneFlags::empty(), None)
        .expect("fork"); // shell's group is not alone
    let _ = init;
    let visible = host.enter(shell.child, VpsId(1)).expect("enter");
    assert_eq!(visible, shell.child.real().as_raw(), "kept its real pid");
    let err = host.checkpoint(VpsId(1), Vec::new()).unwrap_err();
    assert!(err.to_string().contains("cannot checkpoint task"), "{err}");
    assert!(matches!(
        host.checkpoint(VpsId(77), Vec::new()),
        Err(vps::CheckpointError::Errno(Errno::ESRCH))
    ));
}

/// Randomly mutated and truncated images: never a panic; an error leaves the
/// target unchanged, a success gives a valid VPS.
#[test]
fn mutated_images_never_panic_and_never_half_restore() {
    fn prop(steps: Vec<Step>, flips: Vec<(u16, u8)>, cut: u16, fix_checksum: bool) -> bool {
        let (source, _) = source_with(&steps[..steps.len().min(12)]);
        let good = source.checkpoint_image(VpsId(101)).expect("checkpoint");
        let mut bytes = good.to_bytes().expect("encode");
        let body_at = 24 + vps::checkpoint::image::SCHEMA.len();
        for (at, x) in flips {
            let i = usize::from(at) % bytes.len();
            bytes[i] ^= x;
        }
        if fix_checksum && bytes.len() > body_at {
            let crc = crc32(&bytes[body_at..]);
            bytes[body_at - 4..body_at].copy_from_slice(&crc.to_le_bytes());
        }
        let cut = usize::from(cut) % (bytes.len() + 1);
        let target = Host::new(HostConfig::default()).expect("host");
        target
            .fork(target.init(), CloneFlags::empty(), None)
            .expect("fork");
        let before = host_snapshot(&target);
        match target.restore(&bytes[..cut], VpsId(5)) {
            Ok(_) => target.audit().is_ok(),
            Err(e) => !e.to_string().is_empty() && host_snapshot(&target) == before,
        }
    }
    QuickCheck::new()
        .tests(500)
        .quickcheck(prop as fn(Vec<Step>, Vec<(u16, u8)>, u16, bool) -> bool);
}

/// CRC-32 (IEEE), bit by bit: the test's own, independent of the crate's.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn image_round_trips_through_a_reader() {
    let (source, init) = source_with(&[]);
    source.fork(init, CloneFlags::empty(), None).expect("fork");
    let image = source.checkpoint_image(VpsId(101)).expect("checkpoint");
    let bytes = image.to_bytes().expect("encode");
    let back = VpsImage::read_from(std::io::Cursor::new(&bytes)).expect("decode");
    assert_eq!(back, image);
    assert!(!image.settings.sparse);
    assert_eq!(image.tasks.len(), 2);
}
