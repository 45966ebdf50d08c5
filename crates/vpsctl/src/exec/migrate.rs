//! Checkpoint and restore, the bridge to the model's image format.

use std::io::{Read, Write};

use vps::{Host, TaskRef, VpsId};

use super::OpError;

/// Writes a checkpoint of VPS `id` to `out`.
pub(super) fn checkpoint(host: &Host, id: VpsId, out: impl Write) -> Result<(), OpError> {
    let _ = (host, id, out);
    Err(OpError::Unsupported("checkpoint"))
}

/// Restores an image as VPS `id`; returns its init.
pub(super) fn restore(host: &Host, input: impl Read, id: VpsId) -> Result<TaskRef, OpError> {
    let _ = (host, input, id);
    Err(OpError::Unsupported("restore"))
}
