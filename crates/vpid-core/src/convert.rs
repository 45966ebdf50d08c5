//! Conversions between real and virtual IDs in the linear mapping, for PIDs,
//! TGIDs, PGIDs and SIDs, and the runtime catch of a number of the wrong kind.
//!
//! A VPS in *linear* mode (OpenVZ's default) needs no table: the virtual ID of
//! real ID `r` is `r | VPID_DIV`, except for the VPS init, whose virtual ID is 1
//! and whose own linear alias resolves to nothing. [`LinearMapping`] is that
//! rule; the raw functions below apply it to `pid_t` numbers as user space
//! passes them, following OpenVZ's `pid_to_vpid`, `vpid_to_pid`,
//! `__vpid_to_pid` and the `comb_` forms, except that where OpenVZ hits
//! `BUG_ON` or returns -1 they return a [`KindError`].
//!
//! The mapping argument is `None` on the host, where every ID is real and the
//! conversions are the identity.

use std::fmt;

use crate::kind::{Context, Kind, has_marker_bit, is_virtual_pid};
use crate::pid::{RawPid, RealPid, VirtPid};

/// The four kinds of process ID that have a virtual form.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub enum IdType {
    /// A process (thread) ID.
    Pid,
    /// A thread-group ID (what `getpid` returns).
    Tgid,
    /// A process-group ID.
    Pgid,
    /// A session ID.
    Sid,
}

impl IdType {
    /// All four ID types.
    pub const ALL: [IdType; 4] = [IdType::Pid, IdType::Tgid, IdType::Pgid, IdType::Sid];
}

impl fmt::Display for IdType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pid => "pid",
            Self::Tgid => "tgid",
            Self::Pgid => "pgid",
            Self::Sid => "sid",
        })
    }
}

/// A number of the wrong kind, or one that names nothing.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, thiserror::Error)]
pub enum KindError {
    /// The number is of the other kind (where OpenVZ hits `BUG_ON`).
    #[error("expected a {expected} pid, got {got}")]
    WrongKind {
        /// The kind the caller asked for.
        expected: Kind,
        /// The number it got.
        got: RawPid,
    },
    /// The number is not a PID at all: zero, negative, or too large.
    #[error("{0} is not a pid")]
    NotAPid(RawPid),
    /// A virtual ID that the mapping does not resolve (OpenVZ returns -1):
    /// a marker-bit number on the host, or a VPS init's linear alias.
    #[error("virtual {id} {vid} has no real {id}")]
    Unmapped {
        /// What kind of ID it was.
        id: IdType,
        /// The virtual number.
        vid: RawPid,
    },
}

/// The linear mapping of one VPS: `virtual = real | VPID_DIV`, and 1 for its
/// init.
///
/// ```
/// use vpid_core::{LinearMapping, RealPid, VirtPid};
///
/// let init = RealPid::from_raw(500).unwrap();
/// let map = LinearMapping::new(init);
/// assert_eq!(map.to_virt(init), VirtPid::INIT);
/// assert_eq!(map.to_real(VirtPid::INIT), Some(init));
/// // The init's linear alias (500 | 1024) must not resolve.
/// assert_eq!(map.to_real(init.to_linear_virt()), None);
///
/// let other = RealPid::from_raw(501).unwrap();
/// assert_eq!(map.to_virt(other).as_raw(), 1525);
/// assert_eq!(map.to_real(map.to_virt(other)), Some(other));
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct LinearMapping {
    init: RealPid,
}

impl LinearMapping {
    /// The mapping of a VPS whose init has real PID `init`.
    #[inline]
    #[must_use]
    pub const fn new(init: RealPid) -> Self {
        Self { init }
    }

    /// The real PID of the VPS init.
    #[inline]
    #[must_use]
    pub const fn init(self) -> RealPid {
        self.init
    }

    /// The virtual ID of a real one.
    #[inline]
    #[must_use]
    pub fn to_virt(self, real: RealPid) -> VirtPid {
        if real == self.init {
            VirtPid::INIT
        } else {
            real.to_linear_virt()
        }
    }

    /// The real ID of a virtual one; `None` for the init's linear alias.
    #[inline]
    #[must_use]
    pub fn to_real(self, virt: VirtPid) -> Option<RealPid> {
        if virt.is_init() {
            return Some(self.init);
        }
        match virt.linear_real() {
            Some(real) if real != self.init => Some(real),
            _ => None,
        }
    }
}

fn context(map: Option<LinearMapping>) -> Context {
    if map.is_some() {
        Context::Vps
    } else {
        Context::Host
    }
}

/// `pid_to_vpid`: the ID user space sees for a real ID.
///
/// Numbers `<= 0` are returned unchanged (they mean "self" or a group, not
/// an ID). On the host (`map == None`) the result is the number itself. A
/// number that is already virtual (the marker bit, or 1 inside a VPS) is a
/// [`KindError::WrongKind`] error: OpenVZ's `BUG_ON`.
///
/// ```
/// use vpid_core::convert::pid_to_vpid;
/// use vpid_core::{IdType, KindError, Kind, LinearMapping, RealPid};
///
/// let map = Some(LinearMapping::new(RealPid::from_raw(400).unwrap()));
/// assert_eq!(pid_to_vpid(IdType::Pid, 400, map), Ok(1));
/// assert_eq!(pid_to_vpid(IdType::Pgid, 401, map), Ok(1425));
/// assert_eq!(pid_to_vpid(IdType::Sid, 0, map), Ok(0));
/// assert_eq!(
///     pid_to_vpid(IdType::Pid, 1425, map),
///     Err(KindError::WrongKind { expected: Kind::Real, got: 1425 })
/// );
/// assert_eq!(pid_to_vpid(IdType::Tgid, 401, None), Ok(401));
/// ```
pub fn pid_to_vpid(
    id: IdType,
    raw: RawPid,
    map: Option<LinearMapping>,
) -> Result<RawPid, KindError> {
    let _ = id;
    if raw <= 0 {
        return Ok(raw);
    }
    if is_virtual_pid(raw, context(map)) {
        return Err(KindError::WrongKind {
            expected: Kind::Real,
            got: raw,
        });
    }
    let real = RealPid::try_from_raw(raw)?;
    Ok(match map {
        None => raw,
        Some(map) => map.to_virt(real).as_raw(),
    })
}

/// `vpid_to_pid`: the real ID for a number user space passed.
///
/// Numbers `<= 0` are returned unchanged. A number that is not virtual passes
/// through: a real ID "can be used everywhere" (OpenVZ), and the lookup that
/// follows decides whether the caller may reach it. A virtual number is
/// translated; one the mapping does not resolve (a marker-bit number on the
/// host, the init's linear alias) is [`KindError::Unmapped`].
///
/// ```
/// use vpid_core::convert::vpid_to_pid;
/// use vpid_core::{IdType, KindError, LinearMapping, RealPid};
///
/// let map = Some(LinearMapping::new(RealPid::from_raw(400).unwrap()));
/// assert_eq!(vpid_to_pid(IdType::Pid, 1, map), Ok(400));
/// assert_eq!(vpid_to_pid(IdType::Pid, 1425, map), Ok(401));
/// assert_eq!(vpid_to_pid(IdType::Pid, 401, map), Ok(401)); // passes through
/// assert_eq!(
///     vpid_to_pid(IdType::Pid, 1424, map),
///     Err(KindError::Unmapped { id: IdType::Pid, vid: 1424 })
/// );
/// ```
pub fn vpid_to_pid(
    id: IdType,
    raw: RawPid,
    map: Option<LinearMapping>,
) -> Result<RawPid, KindError> {
    if raw <= 0 {
        return Ok(raw);
    }
    if !is_virtual_pid(raw, context(map)) {
        return RealPid::try_from_raw(raw).map(RealPid::as_raw);
    }
    vpid_to_pid_strict(id, raw, map)
}

/// `__vpid_to_pid`: like [`vpid_to_pid`], but a number that is not virtual is
/// a [`KindError::WrongKind`] error instead of passing through.
///
/// ```
/// use vpid_core::convert::vpid_to_pid_strict;
/// use vpid_core::{IdType, KindError, Kind, LinearMapping, RealPid};
///
/// let map = Some(LinearMapping::new(RealPid::from_raw(400).unwrap()));
/// assert_eq!(vpid_to_pid_strict(IdType::Pgid, 1425, map), Ok(401));
/// assert_eq!(
///     vpid_to_pid_strict(IdType::Pgid, 401, map),
///     Err(KindError::WrongKind { expected: Kind::Virtual, got: 401 })
/// );
/// ```
pub fn vpid_to_pid_strict(
    id: IdType,
    raw: RawPid,
    map: Option<LinearMapping>,
) -> Result<RawPid, KindError> {
    if raw <= 0 {
        return Err(KindError::NotAPid(raw));
    }
    if !is_virtual_pid(raw, context(map)) {
        return Err(KindError::WrongKind {
            expected: Kind::Virtual,
            got: raw,
        });
    }
    let virt = VirtPid::try_from_raw(raw)?;
    let unmapped = KindError::Unmapped { id, vid: raw };
    let map = map.ok_or(unmapped)?;
    map.to_real(virt).map(RealPid::as_raw).ok_or(unmapped)
}

fn combined(
    raw: RawPid,
    convert: impl Fn(RawPid) -> Result<RawPid, KindError>,
) -> Result<RawPid, KindError> {
    match raw {
        0 => Ok(0),
        r if r > 0 => convert(r),
        r => {
            let magnitude = r.checked_neg().ok_or(KindError::NotAPid(r))?;
            convert(magnitude).map(|m| -m)
        }
    }
}

/// `comb_pid_to_vpid`: [`pid_to_vpid`] for a number where a negative value
/// means a process group (`F_SETOWN`, `kill`): the sign is kept and the
/// magnitude converted.
///
/// ```
/// use vpid_core::convert::comb_pid_to_vpid;
/// use vpid_core::{IdType, LinearMapping, RealPid};
///
/// let map = Some(LinearMapping::new(RealPid::from_raw(400).unwrap()));
/// assert_eq!(comb_pid_to_vpid(IdType::Pgid, -401, map), Ok(-1425));
/// assert_eq!(comb_pid_to_vpid(IdType::Pgid, 401, map), Ok(1425));
/// assert!(comb_pid_to_vpid(IdType::Pgid, i32::MIN, map).is_err());
/// ```
pub fn comb_pid_to_vpid(
    id: IdType,
    raw: RawPid,
    map: Option<LinearMapping>,
) -> Result<RawPid, KindError> {
    combined(raw, |m| pid_to_vpid(id, m, map))
}

/// `comb_vpid_to_pid`: [`vpid_to_pid`] keeping the sign, as
/// [`comb_pid_to_vpid`].
///
/// ```
/// use vpid_core::convert::comb_vpid_to_pid;
/// use vpid_core::{IdType, LinearMapping, RealPid};
///
/// let map = Some(LinearMapping::new(RealPid::from_raw(400).unwrap()));
/// assert_eq!(comb_vpid_to_pid(IdType::Pgid, -1425, map), Ok(-401));
/// assert_eq!(comb_vpid_to_pid(IdType::Pgid, -1, map), Ok(-400));
/// ```
pub fn comb_vpid_to_pid(
    id: IdType,
    raw: RawPid,
    map: Option<LinearMapping>,
) -> Result<RawPid, KindError> {
    combined(raw, |m| vpid_to_pid(id, m, map))
}

/// Checks a number that is about to be freed by a real-PID allocator: it must
/// be a real PID and not the host init (OpenVZ's `free_pidmap` `BUG_ON`).
///
/// ```
/// use vpid_core::convert::check_freeable;
/// assert!(check_freeable(300).is_ok());
/// assert!(check_freeable(1).is_err());
/// assert!(check_freeable(1324).is_err());
/// ```
pub fn check_freeable(raw: RawPid) -> Result<RealPid, KindError> {
    if has_marker_bit(raw) && raw > 0 {
        return Err(KindError::WrongKind {
            expected: Kind::Real,
            got: raw,
        });
    }
    match RealPid::try_from_raw(raw)? {
        pid if pid.is_host_init() => Err(KindError::NotAPid(raw)),
        pid => Ok(pid),
    }
}
