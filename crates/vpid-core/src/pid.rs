//! Typed PIDs: [`RealPid`] and [`VirtPid`].

use std::fmt;
use std::num::NonZeroI32;

use crate::convert::KindError;
use crate::kind::Kind;
use crate::{PID_MAX_LIMIT, VPID_DIV};

/// A PID as a raw integer, as user space passes it (`pid_t`).
pub type RawPid = i32;

/// A real PID: unique on the host, never carrying the marker bit.
///
/// Only [`RealPid::from_raw`] and [`RealPid::try_from_raw`] make one, so a value
/// of this type is always positive, below [`PID_MAX_LIMIT`], and free of the
/// marker bit.
///
/// ```
/// use vpid_core::RealPid;
///
/// assert_eq!(RealPid::from_raw(300).map(RealPid::as_raw), Some(300));
/// assert!(RealPid::from_raw(1024 + 300).is_none()); // marker bit
/// assert!(RealPid::from_raw(0).is_none());
/// assert!(RealPid::from_raw(-5).is_none());
/// ```
#[repr(transparent)]
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash)]
pub struct RealPid(NonZeroI32);

/// A virtual PID: the number a VPS sees. Either 1 (the VPS init) or a number
/// carrying the marker bit.
///
/// ```
/// use vpid_core::VirtPid;
///
/// assert!(VirtPid::from_raw(1).unwrap().is_init());
/// assert_eq!(VirtPid::from_raw(1025).map(VirtPid::as_raw), Some(1025));
/// assert!(VirtPid::from_raw(300).is_none()); // no marker bit
/// ```
#[repr(transparent)]
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash)]
pub struct VirtPid(NonZeroI32);

#[inline]
const fn nonzero(raw: i32) -> NonZeroI32 {
    match NonZeroI32::new(raw) {
        Some(n) => n,
        None => panic!("zero is not a PID"),
    }
}

impl RealPid {
    /// The host's init, real PID 1.
    pub const INIT: Self = Self(nonzero(1));

    /// Makes a real PID from a raw number: `None` unless `raw` is positive,
    /// below [`PID_MAX_LIMIT`] and without the marker bit.
    #[inline]
    #[must_use]
    pub const fn from_raw(raw: RawPid) -> Option<Self> {
        if raw > 0 && raw < PID_MAX_LIMIT && raw & VPID_DIV == 0 {
            Some(Self(nonzero(raw)))
        } else {
            None
        }
    }

    /// Like [`RealPid::from_raw`], with an error that says what was wrong.
    ///
    /// ```
    /// use vpid_core::{KindError, Kind, RealPid};
    ///
    /// assert_eq!(
    ///     RealPid::try_from_raw(1025),
    ///     Err(KindError::WrongKind { expected: Kind::Real, got: 1025 })
    /// );
    /// ```
    #[inline]
    pub const fn try_from_raw(raw: RawPid) -> Result<Self, KindError> {
        match Self::from_raw(raw) {
            Some(pid) => Ok(pid),
            None if raw > 0 && raw < PID_MAX_LIMIT => Err(KindError::WrongKind {
                expected: Kind::Real,
                got: raw,
            }),
            None => Err(KindError::NotAPid(raw)),
        }
    }

    /// The raw number.
    #[inline]
    #[must_use]
    pub const fn as_raw(self) -> RawPid {
        self.0.get()
    }

    /// The raw number as a non-zero integer.
    #[inline]
    #[must_use]
    pub const fn as_raw_nonzero(self) -> NonZeroI32 {
        self.0
    }

    /// Whether this is the host's init (real PID 1).
    #[inline]
    #[must_use]
    pub const fn is_host_init(self) -> bool {
        self.0.get() == 1
    }

    /// The linear virtual PID of this real PID: `real | VPID_DIV`.
    ///
    /// This is the whole conversion in a VPS in linear mode (except for its
    /// init, whose virtual PID is 1: see [`crate::LinearMapping`]).
    #[inline]
    #[must_use]
    pub const fn to_linear_virt(self) -> VirtPid {
        VirtPid(nonzero(self.0.get() | VPID_DIV))
    }
}

impl VirtPid {
    /// A VPS's init, virtual PID 1.
    pub const INIT: Self = Self(nonzero(1));

    /// Makes a virtual PID from a raw number: `None` unless `raw` is 1, or is
    /// positive, below [`PID_MAX_LIMIT`] and carries the marker bit.
    #[inline]
    #[must_use]
    pub const fn from_raw(raw: RawPid) -> Option<Self> {
        if raw == 1 || (raw > 0 && raw < PID_MAX_LIMIT && raw & VPID_DIV != 0) {
            Some(Self(nonzero(raw)))
        } else {
            None
        }
    }

    /// Like [`VirtPid::from_raw`], with an error that says what was wrong.
    #[inline]
    pub const fn try_from_raw(raw: RawPid) -> Result<Self, KindError> {
        match Self::from_raw(raw) {
            Some(pid) => Ok(pid),
            None if raw > 0 && raw < PID_MAX_LIMIT => Err(KindError::WrongKind {
                expected: Kind::Virtual,
                got: raw,
            }),
            None => Err(KindError::NotAPid(raw)),
        }
    }

    /// The raw number.
    #[inline]
    #[must_use]
    pub const fn as_raw(self) -> RawPid {
        self.0.get()
    }

    /// The raw number as a non-zero integer.
    #[inline]
    #[must_use]
    pub const fn as_raw_nonzero(self) -> NonZeroI32 {
        self.0
    }

    /// Whether this is a VPS init (virtual PID 1).
    #[inline]
    #[must_use]
    pub const fn is_init(self) -> bool {
        self.0.get() == 1
    }

    /// The real PID this virtual PID stands for in the linear mapping:
    /// `virt & !VPID_DIV`, or `None` for virtual PID 1, whose real PID only
    /// the VPS knows.
    #[inline]
    #[must_use]
    pub const fn linear_real(self) -> Option<RealPid> {
        let raw = self.0.get() & !VPID_DIV;
        if raw == 0 || self.is_init() {
            None
        } else {
            Some(RealPid(nonzero(raw)))
        }
    }
}

/// A PID of either kind, as found by classifying a raw number.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub enum AnyPid {
    /// A real (host) PID.
    Real(RealPid),
    /// A virtual (VPS) PID.
    Virtual(VirtPid),
}

impl AnyPid {
    /// The raw number.
    #[inline]
    #[must_use]
    pub const fn as_raw(self) -> RawPid {
        match self {
            Self::Real(p) => p.as_raw(),
            Self::Virtual(p) => p.as_raw(),
        }
    }

    /// The kind of this PID.
    #[inline]
    #[must_use]
    pub const fn kind(self) -> Kind {
        match self {
            Self::Real(_) => Kind::Real,
            Self::Virtual(_) => Kind::Virtual,
        }
    }
}

macro_rules! fmt_impls {
    ($ty:ident, $tag:literal) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($tag, "({})"), self.0)
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl fmt::LowerHex for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }
        impl fmt::UpperHex for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::UpperHex::fmt(&self.0, f)
            }
        }
        impl fmt::Binary for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Binary::fmt(&self.0, f)
            }
        }
        impl From<$ty> for RawPid {
            #[inline]
            fn from(pid: $ty) -> RawPid {
                pid.as_raw()
            }
        }
        impl TryFrom<RawPid> for $ty {
            type Error = KindError;
            #[inline]
            fn try_from(raw: RawPid) -> Result<Self, KindError> {
                Self::try_from_raw(raw)
            }
        }
    };
}
fmt_impls!(RealPid, "RealPid");
fmt_impls!(VirtPid, "VirtPid");

impl fmt::Display for AnyPid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_raw(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_a_bare_i32() {
        assert_eq!(size_of::<RealPid>(), size_of::<i32>());
        assert_eq!(size_of::<Option<RealPid>>(), size_of::<i32>());
        assert_eq!(size_of::<Option<VirtPid>>(), size_of::<i32>());
    }

    #[test]
    fn boundaries() {
        assert!(RealPid::from_raw(1).is_some());
        assert!(RealPid::from_raw(1023).is_some());
        assert!(RealPid::from_raw(1024).is_none());
        assert!(RealPid::from_raw(2047).is_none());
        assert!(RealPid::from_raw(2048).is_some());
        assert!(RealPid::from_raw(PID_MAX_LIMIT).is_none());
        assert!(RealPid::from_raw(i32::MIN).is_none());
        assert!(VirtPid::from_raw(1).is_some());
        assert!(VirtPid::from_raw(2).is_none());
        assert!(VirtPid::from_raw(1024).is_some());
        assert!(VirtPid::from_raw(-1024).is_none());
        assert!(VirtPid::from_raw(i32::MAX).is_none());
        assert_eq!(VirtPid::INIT.linear_real(), None);
        assert_eq!(VirtPid::from_raw(1024).unwrap().linear_real(), None);
    }

    #[test]
    fn formats() {
        let p = RealPid::from_raw(300).unwrap();
        assert_eq!(format!("{p}"), "300");
        assert_eq!(format!("{p:?}"), "RealPid(300)");
        assert_eq!(format!("{:#x}", p.to_linear_virt()), "0x52c");
    }
}
