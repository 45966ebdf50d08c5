//! The messages between the relay and the processes of a run.
//!
//! Commands go to one process on its own pipe, as a JSON line. Everything
//! comes back on one `SOCK_SEQPACKET` socket that every process of the run
//! shares: one step at a time is in flight, and each datagram is whole.
//! A new process registers with its command pipe's write end and a pidfd of
//! itself attached (`SCM_RIGHTS`).

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use serde::{Deserialize, Serialize};

use crate::protocol::{Call, Ids, Outcome};

/// What the relay asks a process to do.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Command {
    /// Make a call and report its outcome.
    Call(Call),
    /// Report the IDs it sees.
    Ids,
    /// Write `/proc/sys/kernel/ns_last_pid` of its PID namespace, so that
    /// the namespace's next new task gets the number after it. For the
    /// threads, which std creates without `set_tid`.
    SetLastPid(i32),
    /// Look, without reaping or clearing anything (`WNOWAIT`), whether a
    /// child has a stop or a continue its parent has not yet collected.
    /// For a dump.
    Peek {
        /// The child, in the caller's view.
        pid: i32,
    },
    /// Set the disposition of every signal from 1 to 31 but SIGKILL and
    /// SIGSTOP: ignored or handled as the masks say (bit `n - 1` is signal
    /// `n`), the default otherwise. For a restore.
    SetDispositions {
        /// The ignored signals.
        ignored: u64,
        /// The handled signals.
        handled: u64,
    },
}

/// What a process sends to the relay.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Report {
    /// A new process: its command pipe and pidfd are attached.
    Registered,
    /// The outcome of a [`Command::Call`].
    Reply(Outcome),
    /// The answer to [`Command::Ids`].
    Ids(Ids),
}

/// A report and who sent it: the sender's PID in the relay's namespace.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Envelope {
    /// The sender's PID as the relay sees it.
    pub from: i32,
    /// What it says.
    pub report: Report,
}

/// The largest datagram a report takes.
const MAX_REPORT: usize = 1024;

/// Sends a report with descriptors attached.
///
/// The report is encoded on the stack: sending it is the sender's last
/// step before it waits for its next command, and from the moment the relay
/// has it, the relay may have another process fork. A process with threads
/// must then hold no allocator lock, so nothing here allocates or frees.
pub(crate) fn send(
    socket: BorrowedFd<'_>,
    from: i32,
    report: Report,
    fds: &[BorrowedFd<'_>],
) -> std::io::Result<()> {
    let mut buffer = [0u8; MAX_REPORT];
    let mut cursor = &mut buffer[..];
    serde_json::to_writer(&mut cursor, &Envelope { from, report })
        .map_err(std::io::Error::other)?;
    let unused = cursor.len();
    let bytes = &buffer[..MAX_REPORT - unused];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(std::io::Error::other("too many descriptors for one report"));
    }
    rustix::net::sendmsg(
        socket,
        &[IoSlice::new(bytes)],
        &mut control,
        SendFlags::empty(),
    )?;
    Ok(())
}

/// Receives one report and the descriptors attached to it.
pub(crate) fn receive(socket: impl AsFd) -> std::io::Result<(Envelope, Vec<OwnedFd>)> {
    let mut bytes = [0u8; MAX_REPORT];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let received = rustix::net::recvmsg(
        socket,
        &mut [IoSliceMut::new(&mut bytes)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    let mut fds = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received_fds) = message {
            fds.extend(received_fds);
        }
    }
    if received.bytes == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let envelope = serde_json::from_slice(&bytes[..received.bytes.min(MAX_REPORT)])
        .map_err(std::io::Error::other)?;
    Ok((envelope, fds))
}
