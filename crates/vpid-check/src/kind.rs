//! The kind lattice: what the checker knows about one value.

use std::fmt;

/// What is known about the kind of a PID value: a set over {real, virtual}.
///
/// ```text
///            Conflict   (may be either)
///           /        \
///        Real       Virtual
///           \        /
///            Unknown    (no evidence)
/// ```
///
/// ```
/// use vpid_check::Kind;
/// assert_eq!(Kind::Real.join(Kind::Virtual), Kind::Conflict);
/// assert_eq!(Kind::Unknown.join(Kind::Real), Kind::Real);
/// assert_eq!(Kind::Real.opposite(), Kind::Virtual);
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Default)]
pub enum Kind {
    /// No evidence either way: never reported.
    #[default]
    Unknown,
    /// A real (host) PID.
    Real,
    /// A virtual PID: a number as user space (a VPS, or the caller) sees it.
    Virtual,
    /// Real on one path and virtual on another.
    Conflict,
}

impl Kind {
    const fn bits(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Real => 1,
            Self::Virtual => 2,
            Self::Conflict => 3,
        }
    }

    const fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => Self::Unknown,
            1 => Self::Real,
            2 => Self::Virtual,
            _ => Self::Conflict,
        }
    }

    /// The least upper bound: what a value is after two paths merge.
    #[must_use]
    pub const fn join(self, other: Self) -> Self {
        Self::from_bits(self.bits() | other.bits())
    }

    /// The other definite kind; `Unknown` and `Conflict` map to themselves.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Real => Self::Virtual,
            Self::Virtual => Self::Real,
            k => k,
        }
    }

    /// Whether this is `Real` or `Virtual`.
    #[must_use]
    pub const fn is_definite(self) -> bool {
        matches!(self, Self::Real | Self::Virtual)
    }

    /// Parses `real`, `virtual` or `view` as written in an annotation.
    ///
    /// `view` is a number in the caller's view (the vps API's numbers):
    /// virtual for a caller in a VPS, the identity on the host, so it may be
    /// either kind ([`Kind::Conflict`]); what goes there must not be real on
    /// every path, and it is not to be compared with a real PID.
    #[must_use]
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "real" => Some(Self::Real),
            "virtual" => Some(Self::Virtual),
            "view" => Some(Self::Conflict),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unknown => "unknown",
            Self::Real => "real",
            Self::Virtual => "virtual",
            Self::Conflict => "real or virtual",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::{Arbitrary, Gen, quickcheck};

    impl Arbitrary for Kind {
        fn arbitrary(g: &mut Gen) -> Self {
            *g.choose(&[Kind::Unknown, Kind::Real, Kind::Virtual, Kind::Conflict])
                .expect("non-empty")
        }
    }

    quickcheck! {
        fn join_is_commutative(a: Kind, b: Kind) -> bool {
            a.join(b) == b.join(a)
        }
        fn join_is_associative(a: Kind, b: Kind, c: Kind) -> bool {
            a.join(b).join(c) == a.join(b.join(c))
        }
        fn join_is_idempotent_and_unknown_is_bottom(a: Kind) -> bool {
            a.join(a) == a && a.join(Kind::Unknown) == a && a.join(Kind::Conflict) == Kind::Conflict
        }
        fn opposite_is_an_involution(a: Kind) -> bool {
            a.opposite().opposite() == a && (a.is_definite() == (a.opposite() != a))
        }
    }

    #[test]
    fn parses_annotation_words() {
        assert_eq!(Kind::parse("real"), Some(Kind::Real));
        assert_eq!(Kind::parse("virtual"), Some(Kind::Virtual));
        assert_eq!(Kind::parse("view"), Some(Kind::Conflict));
        assert_eq!(Kind::parse("Real"), None);
        assert_eq!(Kind::parse("either"), None);
    }
}
