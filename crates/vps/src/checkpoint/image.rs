//! The checkpoint image: a versioned, self-describing, checksummed encoding of
//! one VPS, and the validation that an untrusted image must pass before a
//! restore allocates anything.
//!
//! # Layout
//!
//! All integers little-endian.
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `VPIDIMG\0` |
//! | 2 | format version ([`FORMAT_VERSION`]) |
//! | 2 | length of the schema text |
//! | n | the schema text ([`SCHEMA`]): names the body's encoding and fields |
//! | 8 | length of the body |
//! | 4 | CRC-32 (IEEE) of the body |
//! | m | the body: [`VpsImage`] in `postcard` |
//!
//! The header makes the image self-describing (a reader learns what it holds
//! and how it is encoded before reading the body); the body is `postcard`,
//! chosen for size and speed (see `docs/checkpoint.md`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use vpid_core::{PID_MAX_LIMIT, VirtPid};

use crate::signal::Signal;
use crate::wait_status::WaitStatus;

/// The first eight bytes of every image.
pub const MAGIC: [u8; 8] = *b"VPIDIMG\0";

/// The version of the format this build writes and reads.
///
/// The rule: a change to the body's fields or their meaning bumps the
/// version; a reader refuses every version it does not know.
pub const FORMAT_VERSION: u16 = 2;

/// The schema text written in every image's header.
pub const SCHEMA: &str = "vpid-image/2 postcard {settings{numproc:option<u32>,sparse:bool,pid_max:i32},\
tasks:[{vpid,vtgid,vppid,vpthread:i32,child_rank:u32,vpgid,vsid:i32,\
state:running|stopped{signal}|zombie{wstatus},\
ignored,handled,pending:u64 signal masks,stop_unreported,continued_unreported,did_exec:bool}],\
orphan_ids:[i32]}";

/// The first version of the format, which this build still reads: it has
/// no `vpthread` (every child was on its parent leader's list).
pub const FORMAT_VERSION_1: u16 = 1;

/// The schema text of version 1 images.
pub const SCHEMA_V1: &str = "vpid-image/1 postcard {settings{numproc:option<u32>,sparse:bool,pid_max:i32},\
tasks:[{vpid,vtgid,vppid:i32,child_rank:u32,vpgid,vsid:i32,state:running|stopped{signal}|zombie{wstatus},\
ignored,handled,pending:u64 signal masks,stop_unreported,continued_unreported,did_exec:bool}],\
orphan_ids:[i32]}";

/// The largest body a reader accepts: 64 MiB (about 4 million tasks).
pub const MAX_BODY_BYTES: u64 = 64 << 20;

/// The largest schema text a reader accepts.
const MAX_SCHEMA_BYTES: u16 = 4096;

/// The most tasks a VPS can hold: every virtual number below
/// [`PID_MAX_LIMIT`] (1 and the marker-bit numbers).
pub const MAX_TASKS: usize = (PID_MAX_LIMIT as usize) / 2 + 1;

/// A VPS as stored in an image: its settings and every task in virtual numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpsImage {
    /// The VPS's settings and limits.
    pub settings: SettingsImage,
    /// Every task, sorted by virtual PID.
    pub tasks: Vec<TaskImage>,
    /// Virtual process-group and session IDs still in use whose leader is
    /// gone, sorted.
    pub orphan_ids: Vec<i32>,
}

/// The settings and limits of a VPS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsImage {
    /// The process limit (OpenVZ's `numproc`), if any.
    pub numproc: Option<u32>,
    /// Whether the VPS was in sparse mode when dumped.
    pub sparse: bool,
    /// The `pid_max` of the host it was dumped on.
    pub pid_max: i32,
}

/// One task, in the VPS's own (virtual) numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskImage {
    /// Its virtual PID (thread ID).
    /// vpid-check: virtual
    pub vpid: i32,
    /// Its virtual thread-group ID.
    /// vpid-check: virtual
    pub vtgid: i32,
    /// Its parent's virtual PID; 0 for the VPS init, whose parent is outside.
    pub vppid: i32,
    /// The thread of the parent whose list of children holds it (the one
    /// that forked it), when that is not the parent's leader; 0 otherwise,
    /// and for threads. Linux keeps a list of children per thread, and
    /// `waitpid` walks the caller thread's list first.
    pub vpthread: i32,
    /// A process's place among its parent's children, in the order they
    /// joined the parent (fork or adoption): the order `waitpid(-1)`
    /// considers them in. A thread's place among its process's other
    /// threads, in the order they were created: the order `waitpid` walks
    /// the threads' lists of children in.
    pub child_rank: u32,
    /// Its virtual process-group ID.
    /// vpid-check: virtual
    pub vpgid: i32,
    /// Its virtual session ID.
    /// vpid-check: virtual
    pub vsid: i32,
    /// Running, stopped or zombie.
    pub state: TaskStateImage,
    /// Signals set to be ignored: bit `n - 1` for signal `n`.
    pub ignored: u64,
    /// Signals with a handler: bit `n - 1` for signal `n`.
    pub handled: u64,
    /// Signals pending: bit `n - 1` for signal `n`.
    pub pending: u64,
    /// A stop the parent has not yet collected with `waitpid`.
    pub stop_unreported: bool,
    /// A continue the parent has not yet collected with `waitpid`.
    pub continued_unreported: bool,
    /// Whether the process has called `execve` (`setpgid` on it then fails
    /// with `EACCES`).
    pub did_exec: bool,
}

/// The state of a task in an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStateImage {
    /// Running (or runnable).
    Running,
    /// Stopped by a signal.
    Stopped {
        /// The signal that stopped it.
        signal: i32,
    },
    /// Exited, waiting to be reaped.
    Zombie {
        /// Its wait status, encoded as Linux `wstatus`.
        wstatus: i32,
    },
}

/// What is wrong with an image. Each message names the offending value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Reading or writing failed.
    #[error("image i/o failed: {0}")]
    Io(#[from] std::io::Error),
    /// The image ends early.
    #[error("image truncated: {what} needs {needed} bytes, only {got} present")]
    Truncated {
        /// The part being read.
        what: &'static str,
        /// The bytes it needs.
        needed: u64,
        /// The bytes that were there.
        got: u64,
    },
    /// The first bytes are not the image magic.
    #[error("not a vpid image: bad magic {0:02x?}")]
    BadMagic([u8; 8]),
    /// A format version this build does not read.
    #[error("unsupported image version {found} (this build reads versions 1 to {supported})")]
    UnsupportedVersion {
        /// The version in the image.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// A header field is out of its range.
    #[error("image header: {0}")]
    BadHeader(String),
    /// The body's checksum does not match.
    #[error("image checksum mismatch: header says {expected:#010x}, body has {actual:#010x}")]
    ChecksumMismatch {
        /// The checksum in the header.
        expected: u32,
        /// The checksum of the body as read.
        actual: u32,
    },
    /// The body does not decode.
    #[error("image body does not decode: {0}")]
    Decode(String),
    /// The body decodes but describes no valid VPS.
    #[error("invalid image: {0}")]
    Invalid(#[from] InvalidImage),
}

/// Why a decoded image describes no valid VPS.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidImage {
    /// No task at all.
    #[error("the image holds no task")]
    Empty,
    /// More tasks than any VPS can hold, or than the VPS's own limit.
    #[error("the image holds {count} tasks, more than the limit {limit}")]
    TooManyTasks {
        /// Tasks in the image.
        count: usize,
        /// The limit they exceed.
        limit: usize,
    },
    /// A number that is not a virtual PID (neither 1 nor marked).
    #[error("{field} {value} of task {vpid} is not a virtual pid (no marker bit)")]
    NotVirtual {
        /// The task.
        vpid: i32,
        /// Which field.
        field: &'static str,
        /// The number.
        value: i32,
    },
    /// A virtual PID at or above the `pid_max` that applies.
    #[error("virtual pid {value} is not below pid_max {pid_max}")]
    OutOfRange {
        /// The number.
        value: i32,
        /// The limit.
        pid_max: i32,
    },
    /// Two tasks, or a task and an orphan group ID, share a number.
    #[error("virtual pid {0} appears twice")]
    Duplicate(i32),
    /// The tasks are not sorted by virtual PID.
    #[error("tasks are not sorted by virtual pid at {0}")]
    Unsorted(i32),
    /// No task is the VPS init (virtual PID 1 with its parent outside).
    #[error("no task is the vps init (virtual pid 1 with parent 0)")]
    NoInit,
    /// The init is a zombie: a VPS whose init has exited cannot be restored.
    #[error("the vps init is a zombie")]
    ZombieInit,
    /// A zombie whose wait status is not an exit or a death by signal.
    #[error("zombie {vpid} has wait status {wstatus:#x}, which is not an exit or a signal death")]
    BadExitStatus {
        /// The zombie.
        vpid: i32,
        /// Its raw wait status.
        wstatus: i32,
    },
    /// A task other than init claims a parent outside the VPS.
    #[error("task {0} has parent 0, but only the init's parent is outside the vps")]
    SecondRoot(i32),
    /// A parent that is not in the image.
    #[error("task {vpid} names parent {parent}, which is not in the image")]
    MissingParent {
        /// The task.
        vpid: i32,
        /// The parent it names.
        parent: i32,
    },
    /// A thread whose group leader is not in the image, or differs in parent.
    #[error("thread {vpid} names thread group {tgid}, which has no leader in the image")]
    MissingThreadGroup {
        /// The thread.
        vpid: i32,
        /// The thread group it names.
        tgid: i32,
    },
    /// A process group or session that is neither a task nor an orphan ID.
    #[error("task {vpid} names {what} {id}, which is neither a task nor an orphan id")]
    MissingGroup {
        /// The task.
        vpid: i32,
        /// "process group" or "session".
        what: &'static str,
        /// The ID it names.
        id: i32,
    },
    /// An orphan ID that no task uses.
    #[error("orphan id {0} is used by no task")]
    UnusedOrphanId(i32),
    /// Members of one process group in different sessions.
    #[error("process group {pgid} spans sessions {a} and {b}")]
    GroupSpansSessions {
        /// The group.
        pgid: i32,
        /// One session.
        a: i32,
        /// Another.
        b: i32,
    },
    /// The parent links form a cycle.
    #[error("the parent links of task {0} form a cycle")]
    ParentCycle(i32),
    /// A child said to be on the list of a task that is not a thread
    /// (other than the leader) of its parent.
    #[error("task {vpid}: {thread} is not a thread of its parent")]
    BadParentThread {
        /// The child.
        vpid: i32,
        /// The thread it names.
        thread: i32,
    },
    /// A zombie with children (an exit reparents them).
    #[error("zombie {0} still has children")]
    ZombieWithChildren(i32),
    /// A signal number or mask out of range.
    #[error("task {vpid}: {what}")]
    BadSignal {
        /// The task.
        vpid: i32,
        /// What is wrong.
        what: String,
    },
}

impl VpsImage {
    /// Writes the image (header and body) to `out`.
    pub fn write_to<W: Write>(&self, mut out: W) -> Result<(), ImageError> {
        let body = postcard::to_stdvec(self).map_err(|e| ImageError::Decode(e.to_string()))?;
        let schema = SCHEMA.as_bytes();
        let mut header = Vec::with_capacity(24 + schema.len());
        header.extend_from_slice(&MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(&(schema.len() as u16).to_le_bytes());
        header.extend_from_slice(schema);
        header.extend_from_slice(&(body.len() as u64).to_le_bytes());
        header.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.write_all(&header)?;
        out.write_all(&body)?;
        out.flush()?;
        Ok(())
    }

    /// The image as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ImageError> {
        let mut out = Vec::new();
        self.write_to(&mut out)?;
        Ok(out)
    }

    /// Reads and validates an image from `input`. Memory grows with the bytes
    /// actually read, never with what a header merely claims.
    pub fn read_from<R: Read>(mut input: R) -> Result<Self, ImageError> {
        let mut magic = [0u8; 8];
        read_exact(&mut input, &mut magic, "magic")?;
        if magic != MAGIC {
            return Err(ImageError::BadMagic(magic));
        }
        let version = u16::from_le_bytes(read_array(&mut input, "version")?);
        let expected_schema = match version {
            FORMAT_VERSION => SCHEMA,
            FORMAT_VERSION_1 => SCHEMA_V1,
            _ => {
                return Err(ImageError::UnsupportedVersion {
                    found: version,
                    supported: FORMAT_VERSION,
                });
            }
        };
        let schema_len = u16::from_le_bytes(read_array(&mut input, "schema length")?);
        if schema_len > MAX_SCHEMA_BYTES {
            return Err(ImageError::BadHeader(format!(
                "schema length {schema_len} exceeds {MAX_SCHEMA_BYTES}"
            )));
        }
        let mut schema = vec![0u8; usize::from(schema_len)];
        read_exact(&mut input, &mut schema, "schema")?;
        if schema != expected_schema.as_bytes() {
            return Err(ImageError::BadHeader(format!(
                "unknown schema {:?}",
                String::from_utf8_lossy(&schema)
            )));
        }
        let body_len = u64::from_le_bytes(read_array(&mut input, "body length")?);
        if body_len > MAX_BODY_BYTES {
            return Err(ImageError::BadHeader(format!(
                "body length {body_len} exceeds {MAX_BODY_BYTES}"
            )));
        }
        let expected = u32::from_le_bytes(read_array(&mut input, "checksum")?);
        let mut body = Vec::new();
        input.by_ref().take(body_len).read_to_end(&mut body)?;
        if (body.len() as u64) < body_len {
            return Err(ImageError::Truncated {
                what: "body",
                needed: body_len,
                got: body.len() as u64,
            });
        }
        let actual = crc32fast::hash(&body);
        if actual != expected {
            return Err(ImageError::ChecksumMismatch { expected, actual });
        }
        let decoded = if version == FORMAT_VERSION_1 {
            postcard::take_from_bytes::<v1::VpsImage>(&body).map(|(old, rest)| (old.into(), rest))
        } else {
            postcard::take_from_bytes::<VpsImage>(&body)
        };
        let (image, rest): (VpsImage, &[u8]) =
            decoded.map_err(|e| ImageError::Decode(e.to_string()))?;
        if !rest.is_empty() {
            return Err(ImageError::Decode(format!(
                "{} bytes after the end of the body",
                rest.len()
            )));
        }
        image.validate(PID_MAX_LIMIT)?;
        Ok(image)
    }

    /// Checks that the image describes a valid VPS whose numbers all lie below
    /// `pid_max`. A restore calls this with the target host's `pid_max`
    /// before it allocates anything.
    pub fn validate(&self, pid_max: i32) -> Result<(), InvalidImage> {
        let tasks = &self.tasks;
        if tasks.is_empty() {
            return Err(InvalidImage::Empty);
        }
        let limit = self
            .settings
            .numproc
            .map_or(MAX_TASKS, |n| (n as usize).min(MAX_TASKS));
        if tasks.len() > limit {
            return Err(InvalidImage::TooManyTasks {
                count: tasks.len(),
                limit,
            });
        }
        let pid_max = pid_max.min(self.settings.pid_max.max(0)).min(PID_MAX_LIMIT);
        let check = |vpid: i32, field: &'static str, value: i32| -> Result<(), InvalidImage> {
            if VirtPid::from_raw(value).is_none() {
                return Err(InvalidImage::NotVirtual { vpid, field, value });
            }
            if value >= pid_max {
                return Err(InvalidImage::OutOfRange { value, pid_max });
            }
            Ok(())
        };

        let mut index: HashMap<i32, usize> = HashMap::with_capacity(tasks.len());
        let mut previous = i32::MIN;
        for (i, t) in tasks.iter().enumerate() {
            check(t.vpid, "vpid", t.vpid)?;
            if t.vpid <= previous {
                return Err(if t.vpid == previous {
                    InvalidImage::Duplicate(t.vpid)
                } else {
                    InvalidImage::Unsorted(t.vpid)
                });
            }
            previous = t.vpid;
            index.insert(t.vpid, i);
            check(t.vpid, "tgid", t.vtgid)?;
            check(t.vpid, "pgid", t.vpgid)?;
            check(t.vpid, "sid", t.vsid)?;
            if t.vppid != 0 {
                check(t.vpid, "parent", t.vppid)?;
            }
            check_signals(t)?;
        }

        let mut orphans = BTreeSet::new();
        let mut previous = i32::MIN;
        for &id in &self.orphan_ids {
            check(id, "orphan id", id)?;
            if id <= previous || index.contains_key(&id) {
                return Err(InvalidImage::Duplicate(id));
            }
            previous = id;
            orphans.insert(id);
        }

        match index.get(&1).map(|&i| &tasks[i]) {
            Some(init) if init.vppid == 0 && init.vtgid == 1 => {
                if matches!(init.state, TaskStateImage::Zombie { .. }) {
                    return Err(InvalidImage::ZombieInit);
                }
            }
            _ => return Err(InvalidImage::NoInit),
        }

        let mut used_orphans = HashSet::new();
        let mut session_of_group: HashMap<i32, i32> = HashMap::new();
        let mut has_children = HashSet::new();
        for t in tasks {
            if t.vppid == 0 {
                // Only the init, and threads of the init, have their parent
                // outside the VPS.
                if t.vtgid != 1 {
                    return Err(InvalidImage::SecondRoot(t.vpid));
                }
            } else if !index.contains_key(&t.vppid) {
                return Err(InvalidImage::MissingParent {
                    vpid: t.vpid,
                    parent: t.vppid,
                });
            } else {
                has_children.insert(t.vppid);
            }
            if t.vpthread != 0 {
                let thread = index.get(&t.vpthread).map(|&i| &tasks[i]);
                let ok = t.vtgid == t.vpid
                    && thread.is_some_and(|th| th.vtgid == t.vppid && th.vpid != th.vtgid);
                if !ok {
                    return Err(InvalidImage::BadParentThread {
                        vpid: t.vpid,
                        thread: t.vpthread,
                    });
                }
            }
            if t.vtgid != t.vpid {
                let leader = index.get(&t.vtgid).map(|&i| &tasks[i]);
                let ok = leader.is_some_and(|l| l.vtgid == l.vpid && l.vppid == t.vppid);
                if !ok {
                    return Err(InvalidImage::MissingThreadGroup {
                        vpid: t.vpid,
                        tgid: t.vtgid,
                    });
                }
            }
            for (what, id) in [("process group", t.vpgid), ("session", t.vsid)] {
                if orphans.contains(&id) {
                    used_orphans.insert(id);
                } else if !index.contains_key(&id) {
                    return Err(InvalidImage::MissingGroup {
                        vpid: t.vpid,
                        what,
                        id,
                    });
                }
            }
            match session_of_group.insert(t.vpgid, t.vsid) {
                Some(other) if other != t.vsid => {
                    return Err(InvalidImage::GroupSpansSessions {
                        pgid: t.vpgid,
                        a: other,
                        b: t.vsid,
                    });
                }
                _ => {}
            }
        }
        if let Some(&unused) = orphans.iter().find(|id| !used_orphans.contains(id)) {
            return Err(InvalidImage::UnusedOrphanId(unused));
        }
        for t in tasks {
            if matches!(t.state, TaskStateImage::Zombie { .. }) && has_children.contains(&t.vpid) {
                return Err(InvalidImage::ZombieWithChildren(t.vpid));
            }
        }
        check_acyclic(tasks, &index)
    }
}

/// Every task must reach the init by parent links: a task that does not is
/// on, or hangs from, a cycle.
fn check_acyclic(tasks: &[TaskImage], index: &HashMap<i32, usize>) -> Result<(), InvalidImage> {
    // 0 = unknown, 1 = on the current walk, 2 = reaches the init.
    let mut mark = vec![0u8; tasks.len()];
    let mut walk = Vec::new();
    for start in 0..tasks.len() {
        let mut i = start;
        loop {
            match mark[i] {
                2 => break,
                1 => return Err(InvalidImage::ParentCycle(tasks[i].vpid)),
                _ => {}
            }
            mark[i] = 1;
            walk.push(i);
            let parent = tasks[i].vppid;
            if parent == 0 {
                break;
            }
            i = index[&parent];
        }
        for j in walk.drain(..) {
            mark[j] = 2;
        }
    }
    Ok(())
}

fn check_signals(t: &TaskImage) -> Result<(), InvalidImage> {
    let bad = |what: String| InvalidImage::BadSignal { vpid: t.vpid, what };
    if t.ignored & t.handled != 0 {
        return Err(bad(format!(
            "signals {:#x} are both ignored and handled",
            t.ignored & t.handled
        )));
    }
    let uncatchable = Signal::SIGKILL.mask() | Signal::SIGSTOP.mask();
    if (t.ignored | t.handled) & uncatchable != 0 {
        return Err(bad("SIGKILL or SIGSTOP caught or ignored".to_owned()));
    }
    match t.state {
        TaskStateImage::Stopped { signal } if !(1..=Signal::MAX).contains(&signal) => {
            Err(bad(format!("stopped by signal {signal}")))
        }
        TaskStateImage::Zombie { wstatus } if exit_status(wstatus).is_none() => {
            Err(InvalidImage::BadExitStatus {
                vpid: t.vpid,
                wstatus,
            })
        }
        _ => Ok(()),
    }
}

/// Decodes the wait status of a zombie: an exit code or a death by signal;
/// `None` for anything else.
pub(crate) fn exit_status(wstatus: i32) -> Option<WaitStatus> {
    let signal = wstatus & 0x7f;
    if wstatus & !0xff00 == 0 {
        Some(WaitStatus::Exited((wstatus >> 8) & 0xff))
    } else if wstatus & !0x7f == 0 && (1..=Signal::MAX).contains(&signal) {
        Some(WaitStatus::Signaled(Signal(signal)))
    } else {
        None
    }
}

fn read_exact<R: Read>(
    input: &mut R,
    buf: &mut [u8],
    what: &'static str,
) -> Result<(), ImageError> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => {
                return Err(ImageError::Truncated {
                    what,
                    needed: buf.len() as u64,
                    got: got as u64,
                });
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn read_array<R: Read, const N: usize>(
    input: &mut R,
    what: &'static str,
) -> Result<[u8; N], ImageError> {
    let mut buf = [0u8; N];
    read_exact(input, &mut buf, what)?;
    Ok(buf)
}

/// The body of a version 1 image, read into the current form.
mod v1 {
    use serde::Deserialize;

    use super::{SettingsImage, TaskStateImage};

    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub(super) struct VpsImage {
        settings: SettingsImage,
        tasks: Vec<TaskImage>,
        orphan_ids: Vec<i32>,
    }

    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    struct TaskImage {
        vpid: i32,
        vtgid: i32,
        vppid: i32,
        child_rank: u32,
        vpgid: i32,
        vsid: i32,
        state: TaskStateImage,
        ignored: u64,
        handled: u64,
        pending: u64,
        stop_unreported: bool,
        continued_unreported: bool,
        did_exec: bool,
    }

    #[cfg(test)]
    impl VpsImage {
        /// The version 1 form of an image whose children are all on their
        /// parent leader's list.
        pub(super) fn from_current(image: &super::VpsImage) -> Self {
            VpsImage {
                settings: image.settings.clone(),
                tasks: image
                    .tasks
                    .iter()
                    .map(|t| TaskImage {
                        vpid: t.vpid,
                        vtgid: t.vtgid,
                        vppid: t.vppid,
                        child_rank: t.child_rank,
                        vpgid: t.vpgid,
                        vsid: t.vsid,
                        state: t.state,
                        ignored: t.ignored,
                        handled: t.handled,
                        pending: t.pending,
                        stop_unreported: t.stop_unreported,
                        continued_unreported: t.continued_unreported,
                        did_exec: t.did_exec,
                    })
                    .collect(),
                orphan_ids: image.orphan_ids.clone(),
            }
        }
    }

    impl From<VpsImage> for super::VpsImage {
        fn from(old: VpsImage) -> Self {
            super::VpsImage {
                settings: old.settings,
                tasks: old
                    .tasks
                    .into_iter()
                    .map(|t| super::TaskImage {
                        vpid: t.vpid,
                        vtgid: t.vtgid,
                        vppid: t.vppid,
                        vpthread: 0,
                        child_rank: t.child_rank,
                        vpgid: t.vpgid,
                        vsid: t.vsid,
                        state: t.state,
                        ignored: t.ignored,
                        handled: t.handled,
                        pending: t.pending,
                        stop_unreported: t.stop_unreported,
                        continued_unreported: t.continued_unreported,
                        did_exec: t.did_exec,
                    })
                    .collect(),
                orphan_ids: old.orphan_ids,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(vpid: i32, vppid: i32, vpgid: i32, vsid: i32) -> TaskImage {
        TaskImage {
            vpid,
            vtgid: vpid,
            vppid,
            vpthread: 0,
            child_rank: 0,
            vpgid,
            vsid,
            state: TaskStateImage::Running,
            ignored: 0,
            handled: 0,
            pending: 0,
            stop_unreported: false,
            continued_unreported: false,
            did_exec: false,
        }
    }

    fn sample() -> VpsImage {
        VpsImage {
            settings: SettingsImage {
                numproc: Some(100),
                sparse: true,
                pid_max: 32768,
            },
            tasks: vec![
                task(1, 0, 1, 1),
                task(1025, 1, 1025, 1025),
                task(1030, 1025, 1025, 1025),
                task(2000, 1, 3100, 3100),
            ],
            orphan_ids: vec![3100],
        }
    }

    fn invalid(image: &VpsImage) -> InvalidImage {
        let bytes = image.to_bytes().expect("encodes");
        match VpsImage::read_from(&bytes[..]) {
            Err(ImageError::Invalid(e)) => e,
            other => panic!("expected an invalid image, got {other:?}"),
        }
    }

    #[test]
    fn round_trips() {
        let image = sample();
        let bytes = image.to_bytes().unwrap();
        assert_eq!(VpsImage::read_from(&bytes[..]).unwrap(), image);
    }

    #[test]
    fn reads_a_version_1_image() {
        let image = sample();
        let body = postcard::to_stdvec(&v1::VpsImage::from_current(&image)).unwrap();
        let header = |version: u16, schema: &str| {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&version.to_le_bytes());
            bytes.extend_from_slice(&(schema.len() as u16).to_le_bytes());
            bytes.extend_from_slice(schema.as_bytes());
            bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
            bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
            bytes.extend_from_slice(&body);
            bytes
        };
        let old = header(FORMAT_VERSION_1, SCHEMA_V1);
        assert_eq!(VpsImage::read_from(&old[..]).unwrap(), image);
        // A version's schema must match it.
        let mixed = header(FORMAT_VERSION_1, SCHEMA);
        assert!(matches!(
            VpsImage::read_from(&mixed[..]),
            Err(ImageError::BadHeader(_))
        ));
    }

    #[test]
    fn a_parent_thread_must_be_a_thread_of_the_parent() {
        let mut image = sample();
        // 1030's parent is 1025; 2000 is no thread of it.
        image.tasks[2].vpthread = 2000;
        assert_eq!(
            invalid(&image),
            InvalidImage::BadParentThread {
                vpid: 1030,
                thread: 2000
            }
        );
        // A thread of 1025 is accepted.
        let mut image = sample();
        let mut thread = task(1040, 1, 1025, 1025);
        thread.vtgid = 1025;
        image.tasks.insert(3, thread);
        image.tasks[2].vpthread = 1040;
        let bytes = image.to_bytes().unwrap();
        assert_eq!(VpsImage::read_from(&bytes[..]).unwrap(), image);
    }

    #[test]
    fn truncated_anywhere_is_an_error() {
        let bytes = sample().to_bytes().unwrap();
        for len in 0..bytes.len() {
            let err = VpsImage::read_from(&bytes[..len]).unwrap_err();
            assert!(matches!(err, ImageError::Truncated { .. }), "{len}: {err}");
        }
    }

    #[test]
    fn bad_magic_version_checksum() {
        let good = sample().to_bytes().unwrap();
        let mut b = good.clone();
        b[0] = b'X';
        assert!(matches!(
            VpsImage::read_from(&b[..]),
            Err(ImageError::BadMagic(_))
        ));
        let mut b = good.clone();
        b[8] = 9;
        assert!(matches!(
            VpsImage::read_from(&b[..]),
            Err(ImageError::UnsupportedVersion { found: 9, .. })
        ));
        let mut b = good.clone();
        let last = b.len() - 1;
        b[last] ^= 0x55;
        assert!(matches!(
            VpsImage::read_from(&b[..]),
            Err(ImageError::ChecksumMismatch { .. })
        ));
    }

    #[test]
    fn huge_claimed_body_is_refused_without_allocating() {
        let mut b = sample().to_bytes().unwrap();
        let at = 12 + SCHEMA.len();
        b[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            VpsImage::read_from(&b[..]),
            Err(ImageError::BadHeader(_))
        ));
        // A claim within the cap but beyond the data: truncated, after reading
        // only what is there.
        b[at..at + 8].copy_from_slice(&(MAX_BODY_BYTES).to_le_bytes());
        assert!(matches!(
            VpsImage::read_from(&b[..]),
            Err(ImageError::Truncated { .. })
        ));
    }

    #[test]
    fn duplicate_vpids() {
        let mut image = sample();
        image.tasks.insert(2, task(1030, 1, 1025, 1025));
        assert_eq!(invalid(&image), InvalidImage::Duplicate(1030));
        let mut image = sample();
        image.orphan_ids = vec![1025, 3100];
        assert_eq!(invalid(&image), InvalidImage::Duplicate(1025));
    }

    #[test]
    fn missing_parent_and_group() {
        let mut image = sample();
        image.tasks[2].vppid = 1500;
        assert_eq!(
            invalid(&image),
            InvalidImage::MissingParent {
                vpid: 1030,
                parent: 1500
            }
        );
        let mut image = sample();
        image.orphan_ids.clear();
        assert_eq!(
            invalid(&image),
            InvalidImage::MissingGroup {
                vpid: 2000,
                what: "process group",
                id: 3100
            }
        );
    }

    #[test]
    fn vpid_without_marker_bit() {
        let mut image = sample();
        image.tasks[3].vpid = 900;
        image.tasks[3].vtgid = 900;
        image.tasks.sort_by_key(|t| t.vpid);
        assert_eq!(
            invalid(&image),
            InvalidImage::NotVirtual {
                vpid: 900,
                field: "vpid",
                value: 900
            }
        );
    }

    #[test]
    fn parent_cycle() {
        let mut image = sample();
        image.tasks[1].vppid = 1030; // 1025 -> 1030 -> 1025
        assert_eq!(invalid(&image), InvalidImage::ParentCycle(1025));
    }

    #[test]
    fn too_many_tasks_for_the_limit() {
        let mut image = sample();
        image.settings.numproc = Some(3);
        assert_eq!(
            invalid(&image),
            InvalidImage::TooManyTasks { count: 4, limit: 3 }
        );
    }

    #[test]
    fn no_init_and_second_root() {
        let mut image = sample();
        image.tasks[0].vppid = 2000;
        assert_eq!(invalid(&image), InvalidImage::NoInit);
        let mut image = sample();
        image.tasks[3].vppid = 0;
        assert_eq!(invalid(&image), InvalidImage::SecondRoot(2000));
        let mut image = sample();
        image.tasks[0].state = TaskStateImage::Zombie { wstatus: 0 };
        assert_eq!(invalid(&image), InvalidImage::ZombieInit);
    }

    #[test]
    fn exit_statuses_decode() {
        for status in [
            WaitStatus::Exited(0),
            WaitStatus::Exited(255),
            WaitStatus::Signaled(Signal::SIGKILL),
        ] {
            assert_eq!(exit_status(status.raw()), Some(status));
        }
        assert_eq!(exit_status(WaitStatus::Continued.raw()), None);
        assert_eq!(
            exit_status(WaitStatus::Stopped(Signal::SIGSTOP).raw()),
            None
        );
        let mut image = sample();
        image.tasks[3].state = TaskStateImage::Zombie { wstatus: 0xffff };
        assert_eq!(
            invalid(&image),
            InvalidImage::BadExitStatus {
                vpid: 2000,
                wstatus: 0xffff
            }
        );
    }

    #[test]
    fn out_of_range_for_target() {
        let image = sample();
        assert_eq!(
            image.validate(2000),
            Err(InvalidImage::OutOfRange {
                value: 2000,
                pid_max: 2000
            })
        );
        assert_eq!(image.validate(32768), Ok(()));
    }

    #[test]
    fn zombie_with_children_and_split_group() {
        let mut image = sample();
        image.tasks[1].state = TaskStateImage::Zombie { wstatus: 0 };
        assert_eq!(invalid(&image), InvalidImage::ZombieWithChildren(1025));
        let mut image = sample();
        image.tasks[2].vsid = 1;
        assert!(matches!(
            invalid(&image),
            InvalidImage::GroupSpansSessions { pgid: 1025, .. }
        ));
    }

    #[test]
    fn mutated_images_never_panic() {
        use quickcheck::QuickCheck;
        fn prop(flips: Vec<(u16, u8)>, cut: u16) -> bool {
            let mut b = sample().to_bytes().unwrap();
            for (at, x) in flips {
                let i = usize::from(at) % b.len();
                b[i] ^= x;
            }
            let cut = usize::from(cut) % (b.len() + 1);
            match VpsImage::read_from(&b[..cut]) {
                Ok(image) => image.validate(PID_MAX_LIMIT).is_ok(),
                Err(e) => !e.to_string().is_empty(),
            }
        }
        QuickCheck::new()
            .tests(5000)
            .quickcheck(prop as fn(Vec<(u16, u8)>, u16) -> bool);
    }

    /// Mutations inside the body with the checksum recomputed, so they reach
    /// the decoder and the validator.
    #[test]
    fn mutated_bodies_with_valid_checksum_never_panic() {
        use quickcheck::QuickCheck;
        fn prop(flips: Vec<(u16, u8)>) -> bool {
            let good = sample().to_bytes().unwrap();
            let body_at = 24 + SCHEMA.len();
            let mut body = good[body_at..].to_vec();
            for (at, x) in flips {
                let i = usize::from(at) % body.len();
                body[i] ^= x;
            }
            let mut b = good[..body_at].to_vec();
            b[body_at - 4..].copy_from_slice(&crc32fast::hash(&body).to_le_bytes());
            b.extend_from_slice(&body);
            match VpsImage::read_from(&b[..]) {
                Ok(image) => image.validate(PID_MAX_LIMIT).is_ok(),
                Err(e) => matches!(e, ImageError::Decode(_) | ImageError::Invalid(_)),
            }
        }
        QuickCheck::new()
            .tests(5000)
            .quickcheck(prop as fn(Vec<(u16, u8)>) -> bool);
    }
}
