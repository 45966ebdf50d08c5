//! Runs scenarios on real Linux PID namespaces and compares them with the
//! model.
//!
//! A scenario runs twice: on the model (`vps::Host`), which gives every
//! process its real and virtual PIDs, then on real processes in fresh PID
//! namespaces (one standing for each host, one nested in it for each VPS),
//! where every process is forked with the very PIDs the model gave it
//! (`clone3` with `set_tid`; a thread gets its IDs through `ns_last_pid`). A
//! VPS's process limit is a `pids` cgroup ([`cgroup`]); a checkpoint and a
//! restore are a dump of `/proc` and a rebuild of the process tree, as CRIU
//! does them. Every step's outcome and every process's IDs
//! are then compared number for number ([`compare`]), and every difference
//! is either one of the documented differences between OpenVZ and Linux
//! ([`compare::KNOWN_DIFFERENCES`]) or a bug.
//!
//! The real processes are made by the agent binary, `vps-linux-agent`,
//! which the test spawns and drives ([`driver::Agent`]); the test process
//! itself never forks.
//!
//! ```no_run
//! use vps_linux::differential::run_both;
//! use vps_linux::driver::{Agent, Spawned};
//! use vps_linux::generate::create_vps;
//! use vps_linux::protocol::{Actor, Call, Plan, Step};
//!
//! let Spawned::Ready(mut agent) = Agent::spawn("target/debug/vps-linux-agent")? else {
//!     println!("skipped: needs CAP_SYS_ADMIN");
//!     return Ok(());
//! };
//! // Create a VPS; its init forks a child and makes itself a session leader.
//! let scenario = Plan::new(vec![
//!     create_vps(),
//!     Step { actor: Actor::Task(0), call: Call::Fork { set_tid: vec![], new_namespace: false, numproc: None, clone_parent: false } },
//!     Step { actor: Actor::Task(0), call: Call::Setsid },
//! ]);
//! let both = run_both(&mut agent, &scenario)?;
//! assert!(both.comparison.is_explained(), "{}", both.report());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The agent is the only code with `unsafe` (`clone3` and a few raw system
//! calls, in one private module).
#![deny(unsafe_code)]

pub mod agent;
pub mod cgroup;
pub mod compare;
pub mod differential;
pub mod driver;
pub mod generate;
pub mod model;
pub mod protocol;
pub mod script;
mod sys;
