//! Checkpoint and restore: the bridge to the model's image format.

use std::io::{Read, Write};

use vpid_core::Errno;
use vps::{CheckpointError, Host, RestoreError, TaskRef, VpsId};

use super::OpError;

/// Writes a checkpoint of VPS `id` to `out`.
pub(super) fn checkpoint(host: &Host, id: VpsId, out: impl Write) -> Result<(), OpError> {
    host.checkpoint(id, out).map_err(|e| OpError::Checkpoint {
        errno: checkpoint_errno(&e),
        message: e.to_string(),
    })
}

/// Restores an image as VPS `id`; returns its init.
pub(super) fn restore(host: &Host, input: impl Read, id: VpsId) -> Result<TaskRef, OpError> {
    host.restore(input, id).map_err(|e| OpError::Restore {
        errno: restore_errno(&e),
        message: e.to_string(),
    })
}

/// The error number of a refused checkpoint (`ESRCH`: no such VPS), which
/// `expect checkpoint ... fails` compares with.
fn checkpoint_errno(error: &CheckpointError) -> Option<Errno> {
    match error {
        CheckpointError::Errno(e) => Some(*e),
        _ => None,
    }
}

/// The error number of a refused restore (`EEXIST`: the id is in use,
/// `EINVAL`, `EAGAIN`); an invalid image has none.
fn restore_errno(error: &RestoreError) -> Option<Errno> {
    match error {
        RestoreError::Errno(e) => Some(*e),
        _ => None,
    }
}
