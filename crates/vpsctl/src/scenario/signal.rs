//! Signal names and numbers, as scripts write them (`SIGTERM`, `TERM`,
//! `sigterm`, `15`, `SIGRTMIN+3`). The one table of Linux signal names is
//! [`vps::Signal`]'s; this module only adds case-insensitivity and raw numbers.

use vps::Signal;

/// The largest signal number (`SIGRTMAX` on Linux).
pub const SIGNAL_MAX: i32 = Signal::MAX;

/// `SIGTERM`, kill's default signal.
pub const SIGTERM: i32 = Signal::SIGTERM.0;

/// The number of a signal written as `SIGTERM`, `TERM`, `sigterm` or `15`
/// (0 to [`SIGNAL_MAX`]); `None` for anything else.
///
/// ```
/// use vpsctl::scenario::signal_number;
/// assert_eq!(signal_number("SIGKILL"), Some(9));
/// assert_eq!(signal_number("TSTP"), Some(20));
/// assert_eq!(signal_number("0"), Some(0));
/// assert_eq!(signal_number("65"), None);
/// ```
#[must_use]
pub fn signal_number(text: &str) -> Option<i32> {
    text.to_ascii_uppercase()
        .parse::<Signal>()
        .ok()
        .map(|signal| signal.0)
}

/// A signal as a script writes it: its name (`SIGTERM`, `SIGRTMIN+3`), or
/// `0` for the probe signal.
#[must_use]
pub fn signal_text(number: i32) -> String {
    Signal(number).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_round_trips_through_its_text() {
        for n in 0..=SIGNAL_MAX {
            assert_eq!(signal_number(&signal_text(n)), Some(n));
        }
    }

    #[test]
    fn names_match_linux_numbers() {
        assert_eq!(signal_number("SIGCHLD"), Some(17));
        assert_eq!(signal_number("sigstop"), Some(19));
        assert_eq!(signal_number("SIGCONT"), Some(18));
        assert_eq!(signal_text(10), "SIGUSR1");
        assert_eq!(signal_text(35), "SIGRTMIN+3");
        assert_eq!(signal_text(0), "0");
        assert_eq!(signal_number("SIGFOO"), None);
        assert_eq!(signal_number("-1"), None);
    }
}
