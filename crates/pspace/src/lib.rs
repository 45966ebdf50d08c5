//! A rival design: Biederman's pspace, where every kernel PID is a `(space, pid)` tuple.
//!
//! Eric Biederman's patch set of February 2006 gave every process one plain
//! number inside its *pspace*, and made the tuple `(pspace, pid)` the kernel's
//! name for it: the PID hash is keyed by the tuple, each pspace has its own
//! PID bitmap, and the leader of a nested pspace (PID 1 inside) is known to its
//! parent pspace by a second number, its *wait id* (`wid`). A task is visible
//! from its own pspace and, if it leads one, from the parent pspace; it is
//! invisible (number 0) from anywhere else, the host included.
//!
//! This crate implements that design as a concurrent process table, with the
//! same operations as the `vps` crate, so the two can be benchmarked on the
//! same workloads:
//!
//! ```
//! use pspace::{Config, PidSpaces, Viewer};
//!
//! let host = PidSpaces::new(Config::default())?;
//! let leader = host.create_space(host.init())?;       // the container's init
//! assert_eq!(host.getpid(leader.child)?, 1);           // PID 1 inside...
//! assert_eq!(host.pid_of(Viewer::Host, leader.child)?, leader.pid); // ...its wid outside
//!
//! let child = host.fork(leader.child, Some(500))?;     // a chosen PID
//! assert_eq!(child.pid, 500);
//! assert_eq!(host.find(Viewer::Task(leader.child), 500)?, child.child);
//! assert_eq!(host.pid_of(Viewer::Host, child.child)?, 0); // invisible from the host
//!
//! host.exit(child.child, 3)?;
//! assert_eq!(host.reap(leader.child, 500)?, Some(3));
//! # Ok::<(), vpid_core::Errno>(())
//! ```
//!
//! Concurrency: lookups and translations read atomics only, validated by
//! generation counters and a sequence counter on the hash table, so readers
//! never write shared memory and scale across threads. Changes (fork, exit,
//! reap, setpgid) take one mutex, as the kernel's `tasklist_lock`.
//!
//! Simplifications (the comparison's workloads need none of these; the `vps`
//! crate models them, the rivals do not): every task is a single-threaded
//! process (TGID = PID), there are no sessions, no signal delivery (a group
//! kill counts the tasks it would reach), and a leader's death kills and
//! releases every task of its pspace (and nested ones) at once, leaving the
//! leader a zombie for its parent.
#![forbid(unsafe_code)]

pub mod blocks;
mod lifecycle;
mod space;
mod table;

pub use space::{Config, Forked, PidSpaces, SpaceId, TaskRef, TaskState, Viewer};
