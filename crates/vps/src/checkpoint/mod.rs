//! Checkpoint and restore of a VPS with the same virtual PIDs (OpenVZ's CPT).
//!
//! [`crate::Host::checkpoint`] dumps one VPS to an image, in the VPS's own
//! numbers, while holding the host's state lock: the image is a consistent
//! cut, and a fork into the VPS (or anything else that changes the host)
//! waits for the dump and no longer. Encoding happens after the lock is
//! released. [`crate::Host::restore`] reads and validates an image (an
//! untrusted input) before it allocates anything, then recreates every task
//! with its chosen virtual PID and a new real PID of the target host, all
//! under the lock, so a restore is atomic: on any error the target host is
//! exactly as before.
//!
//! The format is described in [`image`] and `docs/checkpoint.md`.

pub mod image;

use vpid_core::{Errno, RawPid};

pub use image::{ImageError, InvalidImage, VpsImage};

/// Why a VPS could not be dumped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// No such VPS (`ESRCH`).
    #[error("cannot checkpoint: {0}")]
    Errno(#[from] Errno),
    /// The VPS's init has exited: there is nothing left to restore.
    #[error("cannot checkpoint: the vps is dying")]
    Dying,
    /// A task the image cannot express: one that entered from the host and
    /// kept its real PID, or whose parent, group or session lies outside the
    /// VPS.
    #[error("cannot checkpoint task with real pid {real}: {reason}")]
    NotCheckpointable {
        /// The task's real PID.
        real: RawPid,
        /// What the image cannot express.
        reason: &'static str,
    },
    /// Writing the image failed.
    #[error(transparent)]
    Image(#[from] ImageError),
}

/// Why an image could not be restored. The target host is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The image is unreadable or invalid.
    #[error("cannot restore: {0}")]
    Image(#[from] ImageError),
    /// The target refuses: `EINVAL` for VPS id 0, `EEXIST` for an id in use,
    /// `EAGAIN` when too few real PIDs or no VPS slot is free.
    #[error("cannot restore: {0}")]
    Errno(#[from] Errno),
}

impl From<InvalidImage> for RestoreError {
    fn from(e: InvalidImage) -> Self {
        RestoreError::Image(ImageError::Invalid(e))
    }
}
