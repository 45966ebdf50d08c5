//! What a raw number means: the kind classifier for `pid_t` values.

use std::fmt;

use crate::pid::{AnyPid, RawPid, RealPid, VirtPid};
use crate::{PID_MAX_LIMIT, VPID_DIV};

/// The kind of a PID: real (host-wide) or virtual (as a VPS sees it).
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub enum Kind {
    /// A real PID: unique on the host, no marker bit.
    Real,
    /// A virtual PID: 1 inside a VPS, or a number with the marker bit.
    Virtual,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Real => "real",
            Self::Virtual => "virtual",
        })
    }
}

/// Where a number is interpreted: on the host (OpenVZ's VE0) or inside a VPS.
///
/// The context matters for one number only: 1 is the host's init on the
/// host, and the VPS's own init (a virtual PID) inside a VPS.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Default)]
pub enum Context {
    /// The host context: every number without the marker bit is real.
    #[default]
    Host,
    /// Inside a VPS: 1 and marker-bit numbers are virtual.
    Vps,
}

/// The pure marker-bit test (OpenVZ's `__is_virtual_pid`).
///
/// ```
/// use vpid_core::has_marker_bit;
/// assert!(has_marker_bit(1025));
/// assert!(!has_marker_bit(1));
/// ```
#[inline]
#[must_use]
pub const fn has_marker_bit(raw: RawPid) -> bool {
    raw & VPID_DIV != 0
}

/// The context-aware test (OpenVZ's `is_virtual_pid`): a marker-bit number,
/// or 1 inside a VPS.
///
/// ```
/// use vpid_core::{Context, is_virtual_pid};
/// assert!(is_virtual_pid(1, Context::Vps));
/// assert!(!is_virtual_pid(1, Context::Host));
/// assert!(is_virtual_pid(1030, Context::Host));
/// ```
#[inline]
#[must_use]
pub const fn is_virtual_pid(raw: RawPid, ctx: Context) -> bool {
    has_marker_bit(raw) || (raw == 1 && matches!(ctx, Context::Vps))
}

/// What a raw `pid_t` passed by user space means, as `kill` and `waitpid`
/// read it.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum Target {
    /// A positive number: one PID, of the kind the context gives it.
    Pid(AnyPid),
    /// 0: the caller itself (or its process group, for `kill` and `waitpid`).
    Caller,
    /// -1: every process the caller may reach (`kill`), any child (`waitpid`).
    Everyone,
    /// A negative number other than -1: the process group `-n`, classified.
    Group(AnyPid),
    /// A number that names nothing: `i32::MIN` (whose negation overflows),
    /// a number at or above [`PID_MAX_LIMIT`], or a negative group number
    /// that is not a PID.
    Invalid(RawPid),
}

fn classify_positive(raw: RawPid, ctx: Context) -> Option<AnyPid> {
    if raw <= 0 || raw >= PID_MAX_LIMIT {
        return None;
    }
    if is_virtual_pid(raw, ctx) {
        VirtPid::from_raw(raw).map(AnyPid::Virtual)
    } else {
        RealPid::from_raw(raw).map(AnyPid::Real)
    }
}

/// Classifies a raw number in a context.
///
/// ```
/// use vpid_core::{classify, AnyPid, Context, RealPid, Target, VirtPid};
///
/// let init = VirtPid::from_raw(1).unwrap();
/// assert_eq!(classify(1, Context::Vps), Target::Pid(AnyPid::Virtual(init)));
/// assert_eq!(classify(1, Context::Host), Target::Pid(AnyPid::Real(RealPid::INIT)));
/// assert_eq!(classify(0, Context::Vps), Target::Caller);
/// assert_eq!(classify(-1, Context::Vps), Target::Everyone);
/// assert!(matches!(classify(-1025, Context::Host), Target::Group(AnyPid::Virtual(_))));
/// assert_eq!(classify(i32::MIN, Context::Host), Target::Invalid(i32::MIN));
/// ```
#[must_use]
pub fn classify(raw: RawPid, ctx: Context) -> Target {
    match raw {
        0 => Target::Caller,
        -1 => Target::Everyone,
        r if r > 0 => classify_positive(r, ctx).map_or(Target::Invalid(raw), Target::Pid),
        r => r
            .checked_neg()
            .and_then(|g| classify_positive(g, ctx))
            .map_or(Target::Invalid(raw), Target::Group),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_depends_on_context() {
        assert!(matches!(
            classify(1, Context::Host),
            Target::Pid(AnyPid::Real(_))
        ));
        assert!(matches!(
            classify(1, Context::Vps),
            Target::Pid(AnyPid::Virtual(_))
        ));
        assert!(matches!(classify(-1, Context::Vps), Target::Everyone));
    }

    #[test]
    fn out_of_range_is_invalid() {
        assert_eq!(
            classify(PID_MAX_LIMIT, Context::Host),
            Target::Invalid(PID_MAX_LIMIT)
        );
        assert_eq!(classify(i32::MAX, Context::Vps), Target::Invalid(i32::MAX));
        assert_eq!(
            classify(-i32::MAX, Context::Vps),
            Target::Invalid(-i32::MAX)
        );
    }
}
