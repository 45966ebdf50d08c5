//! `reboot(2)` commands, as a VPS sees them ([`RebootCmd`]).

use vpid_core::Errno;

/// A `reboot(2)` command, with the Linux `LINUX_REBOOT_CMD_*` values.
///
/// ```
/// use vps::RebootCmd;
/// assert_eq!(RebootCmd::from_raw(0x0123_4567), Ok(RebootCmd::Restart));
/// assert!(RebootCmd::from_raw(42).is_err());
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum RebootCmd {
    /// `LINUX_REBOOT_CMD_RESTART`.
    Restart,
    /// `LINUX_REBOOT_CMD_HALT`.
    Halt,
    /// `LINUX_REBOOT_CMD_POWER_OFF`.
    PowerOff,
    /// `LINUX_REBOOT_CMD_RESTART2`.
    Restart2,
    /// `LINUX_REBOOT_CMD_CAD_ON`: Ctrl-Alt-Del reboots.
    CadOn,
    /// `LINUX_REBOOT_CMD_CAD_OFF`: Ctrl-Alt-Del sends SIGINT to init.
    CadOff,
}

impl RebootCmd {
    /// The command with this Linux number; `EINVAL` for any other.
    pub const fn from_raw(raw: u32) -> Result<RebootCmd, Errno> {
        Ok(match raw {
            0x0123_4567 => RebootCmd::Restart,
            0xCDEF_0123 => RebootCmd::Halt,
            0x4321_FEDC => RebootCmd::PowerOff,
            0xA1B2_C3D4 => RebootCmd::Restart2,
            0x89AB_CDEF => RebootCmd::CadOn,
            0 => RebootCmd::CadOff,
            _ => return Err(Errno::EINVAL),
        })
    }

    /// The Linux number.
    #[must_use]
    pub const fn raw(self) -> u32 {
        match self {
            RebootCmd::Restart => 0x0123_4567,
            RebootCmd::Halt => 0xCDEF_0123,
            RebootCmd::PowerOff => 0x4321_FEDC,
            RebootCmd::Restart2 => 0xA1B2_C3D4,
            RebootCmd::CadOn => 0x89AB_CDEF,
            RebootCmd::CadOff => 0,
        }
    }

    /// Whether the command stops the system (and so, in a VPS, kills its init).
    #[must_use]
    pub const fn stops(self) -> bool {
        !matches!(self, RebootCmd::CadOn | RebootCmd::CadOff)
    }
}
