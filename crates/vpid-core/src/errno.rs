//! The error numbers the process table returns, with their Linux values.

/// An error number, as the Linux system calls return them.
///
/// ```
/// use vpid_core::Errno;
/// assert_eq!(Errno::ESRCH.raw(), 3);
/// assert_eq!(Errno::ESRCH.to_string(), "no such process (ESRCH)");
/// assert_eq!(Errno::from_raw(17), Some(Errno::EEXIST));
/// assert_eq!("ECHILD".parse::<Errno>(), Ok(Errno::ECHILD));
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Errno {
    /// Operation not permitted.
    #[error("operation not permitted (EPERM)")]
    EPERM,
    /// No such process.
    #[error("no such process (ESRCH)")]
    ESRCH,
    /// No child processes.
    #[error("no child processes (ECHILD)")]
    ECHILD,
    /// Resource temporarily unavailable: no PID free, or a limit reached.
    #[error("resource temporarily unavailable (EAGAIN)")]
    EAGAIN,
    /// Out of memory; also what a fork into a dying PID space returns.
    #[error("cannot allocate memory (ENOMEM)")]
    ENOMEM,
    /// Permission denied.
    #[error("permission denied (EACCES)")]
    EACCES,
    /// The thing already exists: a chosen PID that is taken.
    #[error("file exists (EEXIST)")]
    EEXIST,
    /// Invalid argument.
    #[error("invalid argument (EINVAL)")]
    EINVAL,
    /// No space left: too many nested PID namespaces.
    #[error("no space left on device (ENOSPC)")]
    ENOSPC,
}

impl Errno {
    /// Every error number this enum knows.
    pub const ALL: [Errno; 9] = [
        Errno::EPERM,
        Errno::ESRCH,
        Errno::ECHILD,
        Errno::EAGAIN,
        Errno::ENOMEM,
        Errno::EACCES,
        Errno::EEXIST,
        Errno::EINVAL,
        Errno::ENOSPC,
    ];

    /// The Linux number of this error.
    #[must_use]
    pub const fn raw(self) -> i32 {
        match self {
            Errno::EPERM => 1,
            Errno::ESRCH => 3,
            Errno::ECHILD => 10,
            Errno::EAGAIN => 11,
            Errno::ENOMEM => 12,
            Errno::EACCES => 13,
            Errno::EEXIST => 17,
            Errno::EINVAL => 22,
            Errno::ENOSPC => 28,
        }
    }

    /// The error with this Linux number, if this enum knows it.
    #[must_use]
    pub fn from_raw(raw: i32) -> Option<Errno> {
        Self::ALL.into_iter().find(|e| e.raw() == raw)
    }

    /// The symbolic name, such as `"ESRCH"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Errno::EPERM => "EPERM",
            Errno::ESRCH => "ESRCH",
            Errno::ECHILD => "ECHILD",
            Errno::EAGAIN => "EAGAIN",
            Errno::ENOMEM => "ENOMEM",
            Errno::EACCES => "EACCES",
            Errno::EEXIST => "EEXIST",
            Errno::EINVAL => "EINVAL",
            Errno::ENOSPC => "ENOSPC",
        }
    }
}

/// The error of parsing an unknown errno name.
#[derive(Clone, Eq, PartialEq, Debug, thiserror::Error)]
#[error("unknown errno name {0:?}")]
pub struct UnknownErrno(pub String);

impl std::str::FromStr for Errno {
    type Err = UnknownErrno;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownErrno(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for e in Errno::ALL {
            assert_eq!(Errno::from_raw(e.raw()), Some(e));
            assert_eq!(e.name().parse::<Errno>(), Ok(e));
            assert!(e.to_string().ends_with(&format!("({})", e.name())));
        }
        assert_eq!(Errno::from_raw(0), None);
    }
}
