//! How a [`crate::Host`] and a VPS are configured: [`HostConfig`], [`VpsConfig`].

use vpid_core::{Errno, PID_MAX_DEFAULT, PID_MAX_LIMIT, RESERVED_PIDS};

/// The configuration of a host.
///
/// ```
/// use vps::HostConfig;
/// assert_eq!(HostConfig::default().pid_max, 32768);
/// assert!(HostConfig { pid_max: 300 }.validate().is_err());
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct HostConfig {
    /// Real PIDs are below this number: from `RESERVED_PIDS + 1` (301) to
    /// `PID_MAX_LIMIT` (4194304), as Linux's `kernel.pid_max`. The host's
    /// tables are indexed directly by PID, but allocated 1024 PIDs at a time
    /// as PIDs are first used, so a large `pid_max` costs little until its
    /// PIDs are handed out (about 1 MiB of bitmaps and chunk directories at
    /// the limit).
    pub pid_max: i32,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            pid_max: PID_MAX_DEFAULT,
        }
    }
}

impl HostConfig {
    /// Checks the configuration: `EINVAL` if `pid_max` is out of range.
    pub fn validate(&self) -> Result<(), Errno> {
        if self.pid_max > RESERVED_PIDS && self.pid_max <= PID_MAX_LIMIT {
            Ok(())
        } else {
            Err(Errno::EINVAL)
        }
    }
}

/// The configuration of a VPS.
///
/// ```
/// use vps::VpsConfig;
/// assert_eq!(VpsConfig::default().numproc, None);
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Default)]
pub struct VpsConfig {
    /// The most tasks (processes and threads, zombies included) the VPS may
    /// hold at once, as OpenVZ's `numproc` beancounter; `None` is unlimited.
    /// A fork or enter beyond it fails with `EAGAIN`; `Some(0)` is `EINVAL`.
    pub numproc: Option<u32>,
}

impl VpsConfig {
    /// Checks the configuration: `EINVAL` for a limit of 0 (the init itself
    /// would not fit).
    pub fn validate(&self) -> Result<(), Errno> {
        if self.numproc == Some(0) {
            Err(Errno::EINVAL)
        } else {
            Ok(())
        }
    }
}
