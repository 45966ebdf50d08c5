//! Signal numbers: [`Signal`] and what each does by default ([`DefaultAction`]).

use std::fmt;
use std::str::FromStr;

use vpid_core::Errno;

/// A signal number, with the Linux (x86-64) values. `Signal(0)` is the probe
/// `kill` uses to test whether a target exists; valid signals are `1..=64`.
///
/// ```
/// use vps::Signal;
/// assert_eq!("SIGTERM".parse::<Signal>(), Ok(Signal::SIGTERM));
/// assert_eq!("TERM".parse::<Signal>(), Ok(Signal::SIGTERM));
/// assert_eq!("9".parse::<Signal>(), Ok(Signal::SIGKILL));
/// assert_eq!(Signal::SIGKILL.to_string(), "SIGKILL");
/// assert_eq!(Signal(35).to_string(), "SIGRTMIN+3");
/// assert!("SIGNOPE".parse::<Signal>().is_err());
/// assert!(Signal(65).validate().is_err());
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub struct Signal(pub i32);

/// What a signal does to a task whose disposition is the default.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum DefaultAction {
    /// The thread group dies, and its wait status names the signal.
    Terminate,
    /// Nothing happens.
    Ignore,
    /// The thread group stops.
    Stop,
    /// A stopped thread group continues (`SIGCONT`).
    Continue,
}

const NAMES: [&str; 32] = [
    "",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

impl Signal {
    /// Hangup.
    pub const SIGHUP: Signal = Signal(1);
    /// Interrupt from the keyboard.
    pub const SIGINT: Signal = Signal(2);
    /// Quit from the keyboard.
    pub const SIGQUIT: Signal = Signal(3);
    /// Kill: cannot be caught, ignored or blocked.
    pub const SIGKILL: Signal = Signal(9);
    /// User-defined signal 1.
    pub const SIGUSR1: Signal = Signal(10);
    /// User-defined signal 2.
    pub const SIGUSR2: Signal = Signal(12);
    /// Termination request.
    pub const SIGTERM: Signal = Signal(15);
    /// A child stopped, continued or exited.
    pub const SIGCHLD: Signal = Signal(17);
    /// Continue if stopped.
    pub const SIGCONT: Signal = Signal(18);
    /// Stop: cannot be caught, ignored or blocked.
    pub const SIGSTOP: Signal = Signal(19);
    /// Stop from the terminal.
    pub const SIGTSTP: Signal = Signal(20);
    /// The largest signal number.
    pub const MAX: i32 = 64;
    /// The first real-time signal (the kernel's number; glibc reserves two).
    pub const SIGRTMIN: i32 = 32;

    /// `Ok(self)` for `0..=64`, else `EINVAL`.
    pub const fn validate(self) -> Result<Signal, Errno> {
        if self.0 >= 0 && self.0 <= Self::MAX {
            Ok(self)
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// Whether this is the probe signal 0.
    #[must_use]
    pub const fn is_probe(self) -> bool {
        self.0 == 0
    }

    /// Whether this is SIGKILL or SIGSTOP, which no task may catch or ignore.
    #[must_use]
    pub const fn is_kernel_only(self) -> bool {
        self.0 == Self::SIGKILL.0 || self.0 == Self::SIGSTOP.0
    }

    /// What the signal does under the default disposition.
    #[must_use]
    pub const fn default_action(self) -> DefaultAction {
        match self.0 {
            17 | 23 | 28 => DefaultAction::Ignore, // SIGCHLD, SIGURG, SIGWINCH
            18 => DefaultAction::Continue,
            19..=22 => DefaultAction::Stop, // SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU
            _ => DefaultAction::Terminate,
        }
    }

    /// The bit of this signal in a 64-bit signal set (signal `n` is bit `n-1`);
    /// 0 for the probe signal.
    #[must_use]
    pub const fn mask(self) -> u64 {
        if self.0 >= 1 && self.0 <= Self::MAX {
            1u64 << (self.0 - 1)
        } else {
            0
        }
    }

    /// Every signal in a 64-bit signal set, lowest first.
    pub fn in_mask(mask: u64) -> impl Iterator<Item = Signal> {
        (1..=Self::MAX)
            .map(Signal)
            .filter(move |s| mask & s.mask() != 0)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            n @ 1..=31 => f.write_str(NAMES[n as usize]),
            Self::SIGRTMIN => f.write_str("SIGRTMIN"),
            Self::MAX => f.write_str("SIGRTMAX"),
            n @ 33..=63 => write!(f, "SIGRTMIN+{}", n - Self::SIGRTMIN),
            n => write!(f, "{n}"),
        }
    }
}

impl FromStr for Signal {
    type Err = Errno;

    /// Parses a name (`SIGTERM` or `TERM`, `SIGRTMIN+3`) or a number in
    /// `0..=64`; anything else is `EINVAL`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(n) = s.parse::<i32>() {
            return Signal(n).validate();
        }
        let name = s.strip_prefix("SIG").unwrap_or(s);
        if let Some(i) = NAMES.iter().skip(1).position(|n| &n[3..] == name) {
            return Ok(Signal(i as i32 + 1));
        }
        let rt = match name {
            "RTMIN" => Some(Self::SIGRTMIN),
            "RTMAX" => Some(Self::MAX),
            _ => name
                .strip_prefix("RTMIN+")
                .and_then(|k| k.parse::<i32>().ok())
                .filter(|k| (1..=31).contains(k))
                .map(|k| Self::SIGRTMIN + k),
        };
        rt.map(Signal).ok_or(Errno::EINVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_valid_signal_round_trips_through_its_name() {
        for n in 1..=Signal::MAX {
            let sig = Signal(n);
            assert_eq!(sig.to_string().parse::<Signal>(), Ok(sig), "{n}");
        }
        assert_eq!("-1".parse::<Signal>(), Err(Errno::EINVAL));
        assert_eq!("65".parse::<Signal>(), Err(Errno::EINVAL));
        assert_eq!("SIGRTMIN+32".parse::<Signal>(), Err(Errno::EINVAL));
    }

    #[test]
    fn default_actions_follow_linux() {
        assert_eq!(Signal::SIGTERM.default_action(), DefaultAction::Terminate);
        assert_eq!(Signal::SIGCHLD.default_action(), DefaultAction::Ignore);
        assert_eq!(Signal::SIGTSTP.default_action(), DefaultAction::Stop);
        assert_eq!(Signal::SIGCONT.default_action(), DefaultAction::Continue);
        assert_eq!(Signal(40).default_action(), DefaultAction::Terminate);
    }

    #[test]
    fn masks_are_one_bit_per_signal() {
        assert_eq!(Signal(1).mask(), 1);
        assert_eq!(Signal(64).mask(), 1 << 63);
        assert_eq!(Signal(0).mask(), 0);
        let set = Signal::SIGTERM.mask() | Signal::SIGHUP.mask();
        let back: Vec<_> = Signal::in_mask(set).collect();
        assert_eq!(back, vec![Signal::SIGHUP, Signal::SIGTERM]);
    }
}
