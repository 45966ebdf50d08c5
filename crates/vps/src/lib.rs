//! The host process table and its containers (VPSes), with OpenVZ-style
//! virtual PIDs.
//!
//! A [`Host`] is one real PID space: its init (real PID 1), every task, and
//! the VPSes a manager creates in it. Each task has a real PID, unique on the
//! host, and, inside a VPS, a virtual PID: the real PID with the marker bit
//! (linear mapping) or a number chosen at fork (sparse mapping, as a restore
//! needs). Every method takes the task that makes the call and answers in the
//! numbers that task sees, as the kernel's system calls would.
//!
//! ```
//! use vps::{Host, HostConfig, Signal, VpsConfig, VpsId, WaitStatus};
//! use vpid_core::{CloneFlags, WaitOptions};
//!
//! let host = Host::new(HostConfig::default())?;
//! let init = host.create_vps(host.init(), VpsId(7), VpsConfig::default())?;
//! // Restore a process with the virtual PID it had before migration.
//! let shell = host.fork(init, CloneFlags::empty(), Some(5500))?;
//! assert_eq!(shell.pid, 5500);
//! assert!(host.is_sparse(VpsId(7))?);
//! assert_eq!(host.lookup(init, 5500)?, shell.child);
//! // Inside the VPS, kill and wait speak virtual numbers.
//! host.kill(init, 5500, Signal::SIGTERM)?;
//! let waited = host.waitpid(init, -1, WaitOptions::empty())?.unwrap();
//! assert_eq!((waited.pid, waited.status), (5500, WaitStatus::Signaled(Signal::SIGTERM)));
//! # Ok::<(), vpid_core::Errno>(())
//! ```
//!
//! The rules, and where they follow OpenVZ, Linux, or neither, are in
//! `docs/semantics.md`; the locks are described in [`Host`]'s module.
#![forbid(unsafe_code)]

mod alloc;
pub mod checkpoint;
mod config;
mod disposition;
mod host;
mod ids;
mod index;
mod ps;
mod reboot;
mod signal;
mod slots;
mod table;
mod wait_status;

pub use checkpoint::{CheckpointError, RestoreError, VpsImage};
pub use config::{HostConfig, VpsConfig};
pub use disposition::Disposition;
pub use host::{Host, Usage};
pub use ids::{Forked, TaskRef, Viewer, VpsId};
pub use index::MAX_VPS;
pub use ps::{PsEntry, TaskState};
pub use reboot::RebootCmd;
pub use signal::{DefaultAction, Signal};
pub use table::AuditError;
pub use wait_status::{WaitStatus, Waited};
