//! PID numbers and kinds for OpenVZ-style virtual PIDs.
//!
//! In OpenVZ every process has a *real* PID, unique on the host, and a *virtual*
//! PID, the number its container (VPS) sees. The two kinds are told apart by a
//! **marker bit**: bit [`VPID_BIT`] (value [`VPID_DIV`] = 1024). The host's PID
//! allocator never hands out a number with that bit set, and every virtual PID
//! carries it, except the VPS init, whose virtual PID is 1.
//!
//! This crate holds the numbers and their kinds; the process table lives in the
//! `vps` crate. You can write code like this, where the type says which kind a
//! number is and a wrong kind is caught when the number enters:
//!
//! ```
//! use vpid_core::{RealPid, VirtPid, VPID_DIV};
//!
//! let real = RealPid::from_raw(4242).unwrap();
//! let virt = real.to_linear_virt();
//! assert_eq!(virt.as_raw(), 4242 | VPID_DIV);
//! assert_eq!(virt.linear_real(), Some(real));
//!
//! // A number with the marker bit is never a real PID, and a plain number
//! // other than 1 is never a virtual one.
//! assert!(RealPid::from_raw(virt.as_raw()).is_none());
//! assert!(VirtPid::from_raw(real.as_raw()).is_none());
//! ```
//!
//! instead of passing bare `i32`s around and hoping. At the user-space boundary,
//! where numbers are raw `pid_t` values, [`classify`] tells what a number means
//! in a given [`Context`], and the functions of [`convert`] translate PIDs,
//! TGIDs, PGIDs and SIDs in the linear mapping, returning
//! [`KindError::WrongKind`] where OpenVZ would hit `BUG_ON`.
//!
//! What this crate does not do: it keeps no table. Sparse mappings (a virtual
//! PID chosen at fork or restore) need the per-VPS map of the `vps` crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "quickcheck")]
mod arbitrary;
pub mod convert;
mod errno;
mod flags;
mod kind;
mod pid;

pub use convert::{IdType, KindError, LinearMapping};
pub use errno::Errno;
pub use flags::{CloneFlags, WaitOptions};
pub use kind::{Context, Kind, Target, classify, has_marker_bit, is_virtual_pid};
pub use pid::{AnyPid, RawPid, RealPid, VirtPid};

/// The number of the marker bit that tells a virtual PID from a real one.
pub const VPID_BIT: u32 = 10;

/// The value of the marker bit: `1 << VPID_BIT` = 1024 (OpenVZ's `VPID_DIV`).
pub const VPID_DIV: i32 = 1 << VPID_BIT;

/// PIDs below this are handed out only before the allocator first wraps.
pub const RESERVED_PIDS: i32 = 300;

/// The default `pid_max`: PIDs are below this number.
pub const PID_MAX_DEFAULT: i32 = 0x8000;

/// The largest `pid_max` a host may choose (Linux, 64-bit).
pub const PID_MAX_LIMIT: i32 = 4 * 1024 * 1024;

/// The real PID of the host's init.
pub const HOST_INIT_PID: i32 = 1;
