//! A rival design: Linux PID namespaces, one number per nesting level.
//!
//! Since Linux 2.6.24 a process's PID is an object, `struct pid`, that holds
//! one number for each PID namespace from the one it was created in up to
//! the root (`numbers[0]` is the root's, `numbers[level]` its own). Each
//! namespace maps its numbers to PID objects with its own IDR, and a number
//! of a task seen from a namespace is `pid_nr_ns`: the entry at that
//! namespace's level, if it belongs to that namespace, else 0. Namespaces nest
//! up to [`MAX_PID_NS_LEVEL`] levels below the root.
//!
//! This crate implements that design as a concurrent process table, with the
//! same operations as the `vps` crate, so the two can be benchmarked on the
//! same workloads:
//!
//! ```
//! use pidns::{Config, PidNamespaces, Viewer};
//!
//! let host = PidNamespaces::new(Config::default())?;
//! let init = host.create_ns(host.init())?;           // clone(CLONE_NEWPID)
//! assert_eq!(host.getpid(init.child)?, 1);
//! assert_eq!(host.pid_of(Viewer::Host, init.child)?, init.pid);
//!
//! let child = host.fork(init.child, &[700])?;         // clone3 with set_tid
//! assert_eq!(child.pid, 700);
//! let numbers = host.numbers(child.child)?;           // what NSpid shows
//! assert_eq!(numbers.len(), 2);
//! assert_eq!(numbers[1], 700);
//! assert_eq!(host.find(Viewer::Host, numbers[0])?, child.child);
//!
//! host.exit(child.child, 0)?;
//! assert_eq!(host.reap(init.child, 700)?, Some(0));
//! # Ok::<(), vpid_core::Errno>(())
//! ```
//!
//! Concurrency: lookups and translations read atomics only (generation-checked
//! slots from [`pspace::blocks`], the same machinery as the pspace rival), so
//! readers never write shared memory. Changes take one mutex, as the kernel's
//! `pidmap_lock` and `tasklist_lock`.
//!
//! Simplifications (the comparison's workloads need none of these; the `vps`
//! crate models them, the rivals do not): every task is a single-threaded
//! process (TGID = PID), there are no sessions, no signal delivery (a group
//! kill counts the tasks it would reach), no capabilities (so no EPERM from
//! `set_tid`), and a namespace init's death kills and releases every task of
//! its namespace at once (`zap_pid_ns_processes` run to its end), so a fork can
//! never meet a dying namespace and the ENOMEM of `alloc_pid` cannot arise.
#![forbid(unsafe_code)]

mod lifecycle;
mod ns;

pub use ns::{Config, Forked, MAX_PID_NS_LEVEL, NsId, PidNamespaces, TaskRef, TaskState, Viewer};
