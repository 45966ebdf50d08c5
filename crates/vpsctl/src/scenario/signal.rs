//! Signal names and numbers, as scripts write them (`SIGTERM`, `TERM`, `15`).

/// The Linux names of signals 1 to 31, in order.
const NAMES: [&str; 31] = [
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

/// The largest signal number (`SIGRTMAX` on Linux).
pub const SIGNAL_MAX: i32 = 64;

/// `SIGTERM`, kill's default signal.
pub const SIGTERM: i32 = 15;

/// The number of a signal written as `SIGTERM`, `TERM` or `15` (0 to
/// [`SIGNAL_MAX`]); `None` for anything else.
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
    if let Ok(n) = text.parse::<i32>() {
        return (0..=SIGNAL_MAX).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    NAMES
        .iter()
        .position(|&name| name == full)
        .and_then(|i| i32::try_from(i + 1).ok())
}

/// The name of a signal number (`SIGTERM`), or `None` for 0 and the real-time
/// signals, which are written as numbers.
#[must_use]
pub fn signal_name(number: i32) -> Option<&'static str> {
    usize::try_from(number)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| NAMES.get(i).copied())
}

/// A signal as a script writes it: its name, or its number if it has none.
#[must_use]
pub fn signal_text(number: i32) -> String {
    signal_name(number).map_or_else(|| number.to_string(), str::to_owned)
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
        assert_eq!(signal_name(10), Some("SIGUSR1"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_number("SIGFOO"), None);
        assert_eq!(signal_number("-1"), None);
    }
}
