//! What a task does with a signal: [`Disposition`], and a process's set of them.

use crate::signal::Signal;

/// What a task does when a signal arrives (`sigaction`).
///
/// ```
/// use vps::Disposition;
/// assert_eq!(Disposition::default(), Disposition::Default);
/// ```
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Default)]
pub enum Disposition {
    /// The signal's default action (see [`crate::DefaultAction`]).
    #[default]
    Default,
    /// The signal is discarded.
    Ignore,
    /// A handler is installed: the signal becomes pending for the task.
    Handler,
}

/// The dispositions of all 64 signals of a process, as two bit sets.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Default)]
pub(crate) struct Dispositions {
    ignored: u64,
    handled: u64,
}

impl Dispositions {
    /// The disposition of `sig` (the probe signal 0 reads as default).
    pub(crate) fn get(&self, sig: Signal) -> Disposition {
        let bit = sig.mask();
        if self.handled & bit != 0 {
            Disposition::Handler
        } else if self.ignored & bit != 0 {
            Disposition::Ignore
        } else {
            Disposition::Default
        }
    }

    /// Sets the disposition of `sig`, returning the old one.
    pub(crate) fn set(&mut self, sig: Signal, disp: Disposition) -> Disposition {
        let old = self.get(sig);
        let bit = sig.mask();
        self.ignored &= !bit;
        self.handled &= !bit;
        match disp {
            Disposition::Default => {}
            Disposition::Ignore => self.ignored |= bit,
            Disposition::Handler => self.handled |= bit,
        }
        old
    }

    /// The ignored and handled signal sets, as bit masks (signal `n` is bit
    /// `n - 1`): what a checkpoint image stores.
    pub(crate) fn masks(&self) -> (u64, u64) {
        (self.ignored, self.handled)
    }

    /// Dispositions from the masks of [`Dispositions::masks`]; the caller
    /// has checked that no signal is in both and that SIGKILL and SIGSTOP
    /// are in neither.
    pub(crate) fn from_masks(ignored: u64, handled: u64) -> Self {
        Dispositions { ignored, handled }
    }

    /// What `execve` does: handlers go back to the default, ignored stays ignored.
    pub(crate) fn reset_handlers(&mut self) {
        self.handled = 0;
    }
}
