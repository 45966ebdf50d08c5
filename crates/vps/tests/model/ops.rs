//! Random operations, run against the host and the model side by side.

use quickcheck::{Arbitrary, Gen};
use vpid_core::{CloneFlags, RawPid, WaitOptions};
use vps::{Disposition, Host, HostConfig, Signal, TaskRef, Viewer, VpsConfig, VpsId};

use super::Model;

/// How an operation names a PID.
#[derive(Copy, Clone, Debug)]
pub enum Num {
    Zero,
    MinusOne,
    IntMin,
    /// A known task's real PID.
    Real(u8),
    /// A known task's PID in its own VPS.
    Own(u8),
    /// A known task's group, real number.
    GroupReal(u8),
    /// A known task's group, in its own VPS.
    GroupOwn(u8),
    /// Any number.
    Raw(i32),
}

/// A PID argument, possibly negated (a group for kill and waitpid).
#[derive(Copy, Clone, Debug)]
pub struct PidArg {
    pub num: Num,
    pub negate: bool,
}

/// One operation. Task arguments index the list of every handle ever seen.
#[derive(Clone, Debug)]
pub enum Op {
    CreateVps {
        caller: u8,
        id: u8,
        numproc: Option<u8>,
    },
    DestroyVps {
        id: u8,
    },
    Fork {
        caller: u8,
        thread: bool,
        sibling: bool,
        chosen: Option<PidArg>,
    },
    Exit {
        caller: u8,
        code: u8,
    },
    Wait {
        caller: u8,
        pid: PidArg,
        options: u8,
    },
    Kill {
        caller: u8,
        pid: PidArg,
        sig: u8,
    },
    Sigaction {
        caller: u8,
        sig: u8,
        disp: u8,
    },
    Setpgid {
        caller: u8,
        pid: PidArg,
        pgid: PidArg,
    },
    Setsid {
        caller: u8,
    },
    Getpgid {
        caller: u8,
        pid: PidArg,
    },
    Getsid {
        caller: u8,
        pid: PidArg,
    },
    Identity {
        caller: u8,
    },
    Lookup {
        caller: u8,
        pid: PidArg,
    },
    PidOf {
        viewer: Option<u8>,
        task: u8,
    },
    Enter {
        task: u8,
        id: u8,
    },
    Exec {
        caller: u8,
    },
    TakeSignal {
        caller: u8,
    },
    Ps {
        viewer: u8,
    },
    Reboot {
        caller: u8,
        cmd: u8,
    },
}

const SIGNALS: [i32; 12] = [0, 1, 2, 9, 10, 15, 17, 18, 19, 20, 28, 70];
pub const VPS_IDS: [u32; 4] = [0, 101, 102, 103];

fn num(g: &mut Gen) -> Num {
    let k = u8::arbitrary(g);
    match u8::arbitrary(g) % 16 {
        0 => Num::Zero,
        1 => Num::MinusOne,
        2 => Num::IntMin,
        3..=5 => Num::Real(k),
        6..=9 => Num::Own(k),
        10 => Num::GroupReal(k),
        11 | 12 => Num::GroupOwn(k),
        13 => Num::Raw(1),
        14 => Num::Raw(i32::from(u16::arbitrary(g) % 4096) | 1024),
        _ => Num::Raw(i32::from(i16::arbitrary(g))),
    }
}

impl Arbitrary for PidArg {
    fn arbitrary(g: &mut Gen) -> Self {
        PidArg {
            num: num(g),
            negate: u8::arbitrary(g) % 4 == 0,
        }
    }
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let c = u8::arbitrary(g);
        let pid = PidArg::arbitrary(g);
        match u8::arbitrary(g) % 40 {
            0..=2 => Op::CreateVps {
                caller: c,
                id: u8::arbitrary(g),
                numproc: if bool::arbitrary(g) {
                    None
                } else {
                    Some(u8::arbitrary(g) % 8)
                },
            },
            3 => Op::DestroyVps {
                id: u8::arbitrary(g),
            },
            4..=12 => Op::Fork {
                caller: c,
                thread: u8::arbitrary(g) % 6 == 0,
                sibling: u8::arbitrary(g) % 8 == 0,
                chosen: if u8::arbitrary(g) % 3 == 0 {
                    Some(pid)
                } else {
                    None
                },
            },
            13..=15 => Op::Exit {
                caller: c,
                code: u8::arbitrary(g),
            },
            16..=19 => Op::Wait {
                caller: c,
                pid,
                options: u8::arbitrary(g),
            },
            20..=23 => Op::Kill {
                caller: c,
                pid,
                sig: u8::arbitrary(g),
            },
            24 | 25 => Op::Sigaction {
                caller: c,
                sig: u8::arbitrary(g),
                disp: u8::arbitrary(g),
            },
            26..=28 => Op::Setpgid {
                caller: c,
                pid,
                pgid: PidArg::arbitrary(g),
            },
            29 => Op::Setsid { caller: c },
            30 => Op::Getpgid { caller: c, pid },
            31 => Op::Getsid { caller: c, pid },
            32 => Op::Identity { caller: c },
            33 | 34 => Op::Lookup { caller: c, pid },
            35 => Op::PidOf {
                viewer: if bool::arbitrary(g) {
                    Some(u8::arbitrary(g))
                } else {
                    None
                },
                task: u8::arbitrary(g),
            },
            36 => Op::Enter {
                task: c,
                id: u8::arbitrary(g),
            },
            37 => Op::Exec { caller: c },
            38 => Op::TakeSignal { caller: c },
            39 if u8::arbitrary(g) % 4 == 0 => Op::Reboot {
                caller: c,
                cmd: u8::arbitrary(g),
            },
            _ => Op::Ps { viewer: c },
        }
    }
}

/// The host and the model, driven together.
pub struct Pair {
    pub host: Host,
    pub model: Model,
    /// Every handle ever returned, stale ones included.
    pub known: Vec<TaskRef>,
}

impl Pair {
    pub fn new(pid_max: i32) -> Pair {
        let host = Host::new(HostConfig { pid_max }).expect("host");
        let model = Model::new(pid_max);
        let known = vec![host.init()];
        Pair { host, model, known }
    }

    /// Three times in four a live task, else any handle ever seen (so
    /// zombies and stale ones too).
    pub fn task(&self, k: u8) -> TaskRef {
        let current = self.model.live_handles();
        if k % 4 != 0 && !current.is_empty() {
            current[usize::from(k / 4) % current.len()]
        } else {
            self.known[usize::from(k / 4) % self.known.len()]
        }
    }

    pub fn pid(&self, arg: PidArg) -> RawPid {
        let of = |k: u8| self.model.numbers(self.task(k));
        let n = match arg.num {
            Num::Zero => 0,
            Num::MinusOne => -1,
            Num::IntMin => return i32::MIN,
            Num::Real(k) => self.task(k).real().as_raw(),
            Num::Own(k) => of(k).map_or(1, |n| n.own),
            Num::GroupReal(k) => of(k).map_or(300, |n| n.pgid_real),
            Num::GroupOwn(k) => of(k).map_or(1, |n| n.pgid_own),
            Num::Raw(r) => r,
        };
        if arg.negate { -n } else { n }
    }

    fn remember(&mut self, t: TaskRef) {
        if !self.known.contains(&t) {
            self.known.push(t);
        }
    }

    /// Runs one operation on both; returns both results, rendered.
    pub fn run(&mut self, op: &Op) -> (String, String) {
        macro_rules! both {
            ($($call:tt)*) => {{
                let a = self.host.$($call)*;
                let b = self.model.$($call)*;
                (format!("{a:?}"), format!("{b:?}"))
            }};
        }
        let sig = |s: u8| Signal(SIGNALS[usize::from(s) % SIGNALS.len()]);
        let vps_id = |i: u8| VpsId(VPS_IDS[usize::from(i) % VPS_IDS.len()]);
        match *op {
            Op::CreateVps {
                caller,
                id,
                numproc,
            } => {
                let config = VpsConfig {
                    numproc: numproc.map(u32::from),
                };
                let (c, id) = (self.task(caller), vps_id(id));
                let a = self.host.create_vps(c, id, config);
                let b = self.model.create_vps(c, id, config);
                if let Ok(t) = a {
                    self.remember(t);
                }
                (format!("{a:?}"), format!("{b:?}"))
            }
            Op::DestroyVps { id } => {
                let id = vps_id(id);
                both!(destroy_vps(id))
            }
            Op::Fork {
                caller,
                thread,
                sibling,
                chosen,
            } => {
                let mut flags = CloneFlags::empty();
                flags.set(CloneFlags::CLONE_THREAD, thread);
                flags.set(CloneFlags::CLONE_PARENT, sibling);
                let chosen = chosen.map(|p| self.pid(p));
                let c = self.task(caller);
                let a = self.host.fork(c, flags, chosen);
                let b = self.model.fork(c, flags, chosen);
                if let Ok(f) = a {
                    self.remember(f.child);
                }
                (format!("{a:?}"), format!("{b:?}"))
            }
            Op::Exit { caller, code } => {
                let c = self.task(caller);
                both!(exit(c, i32::from(code)))
            }
            Op::Wait {
                caller,
                pid,
                options,
            } => {
                let options = WaitOptions::from_bits_retain(u32::from(options % 16));
                let (c, p) = (self.task(caller), self.pid(pid));
                both!(waitpid(c, p, options))
            }
            Op::Kill {
                caller,
                pid,
                sig: s,
            } => {
                let (c, p, s) = (self.task(caller), self.pid(pid), sig(s));
                both!(kill(c, p, s))
            }
            Op::Sigaction {
                caller,
                sig: s,
                disp,
            } => {
                let d = [
                    Disposition::Default,
                    Disposition::Ignore,
                    Disposition::Handler,
                ][usize::from(disp) % 3];
                let (c, s) = (self.task(caller), sig(s));
                both!(sigaction(c, s, d))
            }
            Op::Setpgid { caller, pid, pgid } => {
                let (c, p, g) = (self.task(caller), self.pid(pid), self.pid(pgid));
                both!(setpgid(c, p, g))
            }
            Op::Setsid { caller } => {
                let c = self.task(caller);
                both!(setsid(c))
            }
            Op::Getpgid { caller, pid } => {
                let (c, p) = (self.task(caller), self.pid(pid));
                both!(getpgid(c, p))
            }
            Op::Getsid { caller, pid } => {
                let (c, p) = (self.task(caller), self.pid(pid));
                both!(getsid(c, p))
            }
            Op::Identity { caller } => {
                let c = self.task(caller);
                let (h, m) = (&self.host, &self.model);
                let a = (h.getpid(c), h.gettid(c), h.getppid(c), h.vps_of(c));
                let b = (m.getpid(c), m.gettid(c), m.getppid(c), m.vps_of(c));
                (format!("{a:?}"), format!("{b:?}"))
            }
            Op::Lookup { caller, pid } => {
                let (c, p) = (self.task(caller), self.pid(pid));
                both!(lookup(c, p))
            }
            Op::PidOf { viewer, task } => {
                let v = viewer.map_or(Viewer::Host, |k| Viewer::Task(self.task(k)));
                let t = self.task(task);
                both!(pid_of(v, t))
            }
            Op::Enter { task, id } => {
                let (t, id) = (self.task(task), vps_id(id));
                both!(enter(t, id))
            }
            Op::Exec { caller } => {
                let c = self.task(caller);
                both!(exec(c))
            }
            Op::TakeSignal { caller } => {
                let c = self.task(caller);
                let a = (self.host.pending_signals(c), self.host.take_signal(c));
                let b = (self.model.pending_signals(c), self.model.take_signal(c));
                (format!("{a:?}"), format!("{b:?}"))
            }
            Op::Reboot { caller, cmd } => {
                let cmd = [
                    0x0123_4567,
                    0xCDEF_0123,
                    0x4321_FEDC,
                    0xA1B2_C3D4,
                    0x89AB_CDEF,
                    0,
                    7,
                ][usize::from(cmd) % 7];
                let c = self.task(caller);
                both!(reboot(c, cmd))
            }
            Op::Ps { viewer } => {
                let v = Viewer::Task(self.task(viewer));
                both!(ps(v))
            }
        }
    }

    /// Compares the host's view, the VPSes and the usage of the two, and
    /// checks the host's invariants.
    pub fn compare_host_view(&self) -> Result<(), String> {
        self.host.audit().map_err(|e| e.to_string())?;
        let (a, b) = (self.host.ps(Viewer::Host), self.model.ps(Viewer::Host));
        if a != b {
            return Err(format!("host ps differs:\n{a:#?}\n{b:#?}"));
        }
        if self.host.vps_ids() != self.model.vps_ids() {
            return Err("VPS ids differ".into());
        }
        for id in self.model.vps_ids() {
            if self.host.is_sparse(id) != self.model.is_sparse(id) {
                return Err(format!("VPS {id} mode differs"));
            }
        }
        let usage = self.host.usage();
        if usage.tasks != self.model.task_count() || usage.numbers != self.model.numbers_in_use() {
            return Err(format!("usage {usage:?} differs from the model"));
        }
        Ok(())
    }

    /// Compares every view of the two and checks the host's invariants.
    pub fn compare_views(&self) -> Result<(), String> {
        self.compare_host_view()?;
        for id in self.model.vps_ids() {
            let (a, b) = (self.host.vps_init(id), self.model.vps_init(id));
            if a != b {
                return Err(format!("init of VPS {id}: {a:?} vs {b:?}"));
            }
        }
        for viewer in self.model.live_handles() {
            let (a, b) = (
                self.host.ps(Viewer::Task(viewer)),
                self.model.ps(Viewer::Task(viewer)),
            );
            if a != b {
                return Err(format!("ps from {viewer:?} differs:\n{a:#?}\n{b:#?}"));
            }
        }
        if self.host.vps_ids() != self.model.vps_ids() {
            return Err("VPS ids differ".into());
        }
        for id in self.model.vps_ids() {
            if self.host.is_sparse(id) != self.model.is_sparse(id)
                || self.host.is_dying(id) != self.model.is_dying(id)
            {
                return Err(format!("VPS {id} mode differs"));
            }
        }
        let usage = self.host.usage();
        if usage.tasks != self.model.task_count() || usage.numbers != self.model.numbers_in_use() {
            return Err(format!(
                "usage {usage:?} vs model {} tasks, {} numbers",
                self.model.task_count(),
                self.model.numbers_in_use()
            ));
        }
        self.check_findable()
    }

    /// Every task is found by exactly its numbers: by its real PID from the
    /// host, by its own PID from inside its VPS, and not from other VPSes.
    pub fn check_findable(&self) -> Result<(), String> {
        let init = self.host.init();
        let inits: Vec<TaskRef> = self
            .host
            .vps_ids()
            .into_iter()
            .filter_map(|id| self.host.vps_init(id).ok())
            .filter(|t| self.host.getpid(*t).is_ok())
            .collect();
        for e in self.host.ps(Viewer::Host).map_err(|e| e.to_string())? {
            if self.host.lookup(init, e.pid) != Ok(e.task) {
                return Err(format!("host cannot find {e:?}"));
            }
            for viewer in &inits {
                let same = self.host.vps_of(*viewer).ok().flatten() == e.vps;
                let found = e.vpid.map(|v| self.host.lookup(*viewer, v));
                match (same, found) {
                    (true, Some(Ok(t))) if t == e.task => {}
                    (false, None | Some(Err(_))) => {}
                    (false, Some(Ok(t))) if t != e.task => {}
                    other => return Err(format!("{e:?} from {viewer:?}: {other:?}")),
                }
            }
        }
        Ok(())
    }

    /// Kills and reaps everything; afterwards only the host init remains.
    pub fn reap_everything(&mut self) -> Result<(), String> {
        // Destroying one VPS can end another (its init's parent lived there).
        while let Some(id) = self.host.vps_ids().first().copied() {
            self.host.destroy_vps(id).map_err(|e| e.to_string())?;
            self.model.destroy_vps(id).map_err(|e| e.to_string())?;
        }
        let init = self.host.init();
        for e in self.host.ps(Viewer::Host).map_err(|e| e.to_string())? {
            if e.tgid == 1 && e.pid != 1 {
                self.host.exit(e.task, 0).map_err(|e| e.to_string())?;
                self.model.exit(e.task, 0).map_err(|e| e.to_string())?;
            }
        }
        let _ = self.host.kill(init, -1, Signal::SIGKILL);
        let _ = self.model.kill(init, -1, Signal::SIGKILL);
        // Tasks that entered a VPS and died with it may have left zombies;
        // everything left is a zombie child of the host init or a thread.
        while let Ok(Some(_)) = self.host.waitpid(init, -1, WaitOptions::empty()) {}
        while let Ok(Some(_)) = self.model.waitpid(init, -1, WaitOptions::empty()) {}
        self.compare_views()?;
        let usage = self.host.usage();
        if usage.tasks != 1 || usage.numbers != 1 {
            return Err(format!("leak after reaping everything: {usage:?}"));
        }
        Ok(())
    }
}
