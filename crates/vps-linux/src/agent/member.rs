//! A process of a run: it registers with the relay, then makes the calls it
//! is told to, one at a time, until it exits or is killed.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::process::{PidfdFlags, pidfd_open};

use super::wire::{self, Command, Report};
use crate::protocol::{Call, Disposition, Ids, Outcome};
use crate::sys::{self, Cloned, RawDisposition};

/// Why a process stopped serving: the relay is gone, or said something it
/// cannot read. Either way the process exits.
type Stop = std::io::Error;

/// Serves as a process of the run until it exits. `control` is the socket
/// shared with the relay. Never returns: a process that cannot go on exits
/// with status 100, quietly (the relay sees it exit).
pub(crate) fn serve_forever(control: OwnedFd) -> ! {
    loop {
        // `serve` returns Ok when this process is a new child that must
        // register and serve in its turn.
        if serve(control.as_fd()).is_err() {
            sys::exit_now(100);
        }
    }
}

/// Registers a fresh command pipe, then serves it. Returns `Ok(())` only in a
/// newly forked child.
fn serve(control: BorrowedFd<'_>) -> Result<(), Stop> {
    let me = pid_seen_by_relay()?;
    let mut commands = register(control, me)?;
    let mut line = String::new();
    loop {
        line.clear();
        if commands.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let command: Command = serde_json::from_str(&line).map_err(std::io::Error::other)?;
        let report = match command {
            Command::Ids => Report::Ids(own_ids()),
            Command::Call(Call::Fork {
                set_tid,
                new_namespace,
            }) => match sys::clone3(new_namespace, &set_tid) {
                // The child drops its parent's command pipe here, on return.
                Ok(Cloned::Child) => return Ok(()),
                Ok(Cloned::Parent(pid)) => Report::Reply(Outcome::Value(pid)),
                Err(errno) => Report::Reply(Outcome::Failed(errno)),
            },
            Command::Call(call) => Report::Reply(perform(&call)),
        };
        wire::send(control, me, report, &[])?;
    }
}

/// Creates this process's command pipe and sends its write end, with a
/// pidfd of this process, to the relay.
fn register(control: BorrowedFd<'_>, me: i32) -> Result<BufReader<File>, Stop> {
    let (read_end, write_end) = rustix::pipe::pipe()?;
    let pidfd = pidfd_open(rustix::process::getpid(), PidfdFlags::empty())?;
    wire::send(
        control,
        me,
        Report::Registered,
        &[write_end.as_fd(), pidfd.as_fd()],
    )?;
    Ok(BufReader::new(File::from(read_end)))
}

/// This process's PID in the relay's namespace: `/proc` is the relay's
/// (the runs do not change mount namespaces), and `/proc/self` names the
/// reader in the namespace of the `/proc` mount.
fn pid_seen_by_relay() -> Result<i32, Stop> {
    std::fs::read_link("/proc/self")?
        .to_str()
        .and_then(|pid| pid.parse().ok())
        .ok_or_else(|| std::io::Error::other("/proc/self is not a PID"))
}

fn own_ids() -> Ids {
    Ids {
        pid: sys::getpid(),
        ppid: sys::getppid(),
        pgid: sys::getpgid(0).unwrap_or(-1),
        sid: sys::getsid(0).unwrap_or(-1),
    }
}

fn to_raw(disposition: Disposition) -> RawDisposition {
    match disposition {
        Disposition::Default => RawDisposition::Default,
        Disposition::Ignore => RawDisposition::Ignore,
        Disposition::Handler => RawDisposition::Handler,
    }
}

fn from_raw(disposition: RawDisposition) -> Disposition {
    match disposition {
        RawDisposition::Default => Disposition::Default,
        RawDisposition::Ignore => Disposition::Ignore,
        RawDisposition::Handler => Disposition::Handler,
    }
}

/// Makes one call other than fork.
fn perform(call: &Call) -> Outcome {
    let done = |r: Result<(), i32>| r.map_or_else(Outcome::Failed, |()| Outcome::Done);
    let value = |r: Result<i32, i32>| r.map_or_else(Outcome::Failed, Outcome::Value);
    match *call {
        Call::Exit { code } => sys::exit_now(code),
        Call::Setsid => value(sys::setsid()),
        Call::Setpgid { pid, pgid } => done(sys::setpgid(pid, pgid)),
        Call::Getpgid { pid } => value(sys::getpgid(pid)),
        Call::Getsid { pid } => value(sys::getsid(pid)),
        Call::Sigaction { sig, disposition } => sys::sigaction(sig, to_raw(disposition))
            .map_or_else(Outcome::Failed, |old| Outcome::Previous(from_raw(old))),
        Call::Kill { pid, sig } => done(sys::kill(pid, sig)),
        Call::Wait {
            pid,
            nohang,
            untraced,
            continued,
        } => match sys::waitpid(pid, nohang, untraced, continued) {
            Ok(Some((pid, status))) => Outcome::Waited { pid, status },
            Ok(None) => Outcome::NothingWaitable,
            Err(errno) => Outcome::Failed(errno),
        },
        // Forks are made by `serve`, which must return in the child.
        Call::Fork { .. } => Outcome::Failed(libc::EINVAL),
    }
}
