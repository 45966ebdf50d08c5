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

/// Why [`serve`] returned without an error.
enum Served {
    /// This is a newly forked child, which must register and serve in its
    /// turn.
    NewChild,
    /// This thread, not its process's leader, was told to exit.
    ThreadExit,
}

/// Serves as a process of the run until it exits. `control` is the socket
/// shared with the relay. Never returns: a process that cannot go on exits
/// with status 100, quietly (the relay sees it exit).
pub(crate) fn serve_forever(control: OwnedFd) -> ! {
    serve_until_thread_exit(control.as_fd());
    // Only a thread other than the leader returns, and a process's first
    // thread is its leader.
    sys::exit_now(100)
}

/// Serves, as a new child after each fork it makes, until this thread is
/// told to exit (only a thread other than its process's leader ever is).
fn serve_until_thread_exit(control: BorrowedFd<'_>) {
    loop {
        match serve(control) {
            Ok(Served::NewChild) => {}
            Ok(Served::ThreadExit) => return,
            Err(_) => sys::exit_now(100),
        }
    }
}

/// Registers a fresh command pipe, then serves it.
fn serve(control: BorrowedFd<'_>) -> Result<Served, Stop> {
    let me = tid_seen_by_relay()?;
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
            Command::SetLastPid(pid) => Report::Reply(set_last_pid(pid)),
            Command::Peek { pid } => Report::Reply(peek(pid)),
            Command::SetDispositions { ignored, handled } => {
                Report::Reply(set_dispositions(ignored, handled))
            }
            Command::Call(Call::Fork {
                set_tid,
                new_namespace,
                clone_parent,
                ..
            }) => match sys::clone3_with(new_namespace, clone_parent, &set_tid) {
                // The child drops its parent's command pipe here, on return.
                Ok(Cloned::Child) => return Ok(Served::NewChild),
                Ok(Cloned::Parent(pid)) => Report::Reply(Outcome::Value(pid)),
                Err(errno) => Report::Reply(Outcome::Failed(errno)),
            },
            Command::Call(Call::Thread { set_tid }) => {
                Report::Reply(spawn_thread(control, &set_tid))
            }
            Command::Call(Call::Exit { code }) => {
                if sys::gettid() != sys::getpid() {
                    return Ok(Served::ThreadExit);
                }
                sys::exit_now(code)
            }
            Command::Call(call) => Report::Reply(perform(&call)),
        };
        // The command's parts were dropped in their arms: nothing that
        // allocates or frees is left to do after the report goes (see
        // `wire::send`).
        wire::send(control, me, report, &[])?;
    }
}

/// Registers a new process or thread: creates its command pipe, and sends
/// the pipe's write end with a pidfd of it to the relay.
fn register(control: BorrowedFd<'_>, me: i32) -> Result<BufReader<File>, Stop> {
    let (read_end, write_end) = rustix::pipe::pipe()?;
    let tid = rustix::thread::gettid();
    let pidfd = if tid == rustix::process::getpid() {
        pidfd_open(tid, PidfdFlags::empty())?
    } else {
        pidfd_open(tid, PidfdFlags::from_bits_retain(sys::PIDFD_THREAD))?
    };
    // The reader (and its buffer) is made before the report goes.
    let reader = BufReader::new(File::from(read_end));
    wire::send(
        control,
        me,
        Report::Registered,
        &[write_end.as_fd(), pidfd.as_fd()],
    )?;
    Ok(reader)
}

/// This thread's ID in the relay's namespace: `/proc` is the relay's
/// (the runs do not change mount namespaces), and `/proc/thread-self` names
/// the reader (`TGID/task/TID`) in the namespace of the `/proc` mount.
fn tid_seen_by_relay() -> Result<i32, Stop> {
    std::fs::read_link("/proc/thread-self")?
        .file_name()
        .and_then(|tid| tid.to_str())
        .and_then(|tid| tid.parse().ok())
        .ok_or_else(|| std::io::Error::other("/proc/thread-self does not end in a TID"))
}

/// Whether a child has an uncollected stop (`Waited` with a stopped
/// status) or continue (`Waited` with 0xffff), left for its parent to
/// collect: `waitid` with `WNOWAIT`.
fn peek(pid: i32) -> Outcome {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let Some(child) = Pid::from_raw(pid) else {
        return Outcome::Failed(libc::EINVAL);
    };
    let options = WaitIdOptions::STOPPED
        | WaitIdOptions::CONTINUED
        | WaitIdOptions::NOHANG
        | WaitIdOptions::NOWAIT;
    match waitid(WaitId::Pid(child), options) {
        Ok(Some(status)) if status.continued() => Outcome::Waited {
            pid,
            status: 0xffff,
        },
        Ok(Some(status)) if status.stopped() => Outcome::Waited {
            pid,
            status: (status.stopping_signal().unwrap_or(0) << 8) | 0x7f,
        },
        Ok(_) => Outcome::NothingWaitable,
        Err(e) => Outcome::Failed(e.raw_os_error()),
    }
}

/// Makes the next task of this process's PID namespace get `pid + 1`.
fn set_last_pid(pid: i32) -> Outcome {
    match std::fs::write("/proc/sys/kernel/ns_last_pid", pid.to_string()) {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(e.raw_os_error().unwrap_or(libc::EIO)),
    }
}

fn set_dispositions(ignored: u64, handled: u64) -> Outcome {
    for sig in 1..=31 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        let bit = 1u64 << (sig - 1);
        let disposition = if ignored & bit != 0 {
            RawDisposition::Ignore
        } else if handled & bit != 0 {
            RawDisposition::Handler
        } else {
            RawDisposition::Default
        };
        if let Err(errno) = sys::sigaction(sig, disposition) {
            return Outcome::Failed(errno);
        }
    }
    Outcome::Done
}

/// Starts a thread of this process that serves as a process of the run
/// does. With `set_tid`, the thread gets those IDs: the caller (and, for
/// the outer namespace, the relay through the host init) has set each
/// namespace's last PID to the one before; a thread that got other IDs
/// (the wanted one was taken) ends at once, and the outcome is `EEXIST`,
/// as `clone3` says for a taken `set_tid`.
fn spawn_thread(control: BorrowedFd<'_>, set_tid: &[i32]) -> Outcome {
    let failed = |e: std::io::Error| Outcome::Failed(e.raw_os_error().unwrap_or(libc::EIO));
    if let Some(&tid) = set_tid.first() {
        if tid <= 1 {
            return Outcome::Failed(libc::EINVAL);
        }
        if let Outcome::Failed(errno) = set_last_pid(tid - 1) {
            return Outcome::Failed(errno);
        }
    }
    let control = match control.try_clone_to_owned() {
        Ok(control) => control,
        Err(e) => return failed(e),
    };
    let (tid_sender, tid_receiver) = std::sync::mpsc::channel();
    let (go_sender, go_receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().spawn(move || {
        if tid_sender.send(sys::gettid()).is_ok() && go_receiver.recv() == Ok(true) {
            serve_until_thread_exit(control.as_fd());
        }
    });
    if let Err(e) = spawned {
        return failed(e);
    }
    let Ok(tid) = tid_receiver.recv() else {
        return Outcome::Failed(libc::EIO);
    };
    let wanted = set_tid.first().is_none_or(|&want| want == tid);
    let _ = go_sender.send(wanted);
    if wanted {
        Outcome::Value(tid)
    } else {
        Outcome::Failed(libc::EEXIST)
    }
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
        // Forks, threads and exits are made by `serve`; the rest are the
        // relay's own work.
        Call::Fork { .. }
        | Call::Thread { .. }
        | Call::NewHost
        | Call::Checkpoint { .. }
        | Call::Restore { .. } => Outcome::Failed(libc::EINVAL),
    }
}
