//! The raw system calls the agent makes, and the only module of the crate
//! with `unsafe` code.
//!
//! Every function here is a thin, safe wrapper: it passes plain integers (or
//! a structure it owns) to one system call and turns the C convention
//! (`-1` and `errno`) into a `Result` whose error is the raw errno value, so
//! that the agent can report it exactly as the kernel gave it.
//!
//! `clone3` is the one call with a consequence beyond its return value: it
//! creates a process that continues with a copy of the caller's memory, like
//! `fork`. The agent calls it only from single-threaded processes.
#![allow(unsafe_code)]

use std::ffi::c_int;

/// `PIDFD_THREAD` (Linux 6.9): `pidfd_open` of one thread, whose pidfd is
/// readable when that thread exits. It is `O_EXCL`'s value.
pub const PIDFD_THREAD: u32 = libc::O_EXCL as u32;

/// A raw errno value, as the kernel returned it.
pub type RawErrno = i32;

fn last_errno() -> RawErrno {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn check(ret: c_int) -> Result<i32, RawErrno> {
    if ret == -1 {
        Err(last_errno())
    } else {
        Ok(ret)
    }
}

/// `struct clone_args` of `clone3(2)`, in its second version (88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Which side of a successful [`clone3`] the caller is on.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Cloned {
    /// The new process.
    Child,
    /// The caller, with the child's PID in the caller's namespace.
    Parent(i32),
}

/// `clone3` like `fork` (`SIGCHLD` on exit, no shared memory), optionally in
/// a new PID namespace, optionally with chosen PIDs: `set_tid[0]` in the
/// innermost namespace, `set_tid[1]` in its parent, and so on. An empty
/// `set_tid` lets the kernel choose.
///
/// Call it only from a single-threaded process: the child continues with a
/// copy of this one.
pub fn clone3(new_pid_namespace: bool, set_tid: &[i32]) -> Result<Cloned, RawErrno> {
    clone3_with(new_pid_namespace, false, set_tid)
}

/// [`clone3`], with `CLONE_PARENT` if `sibling`: the child's parent is the
/// caller's parent.
pub fn clone3_with(
    new_pid_namespace: bool,
    sibling: bool,
    set_tid: &[i32],
) -> Result<Cloned, RawErrno> {
    let tids: Vec<libc::pid_t> = set_tid.to_vec();
    let namespace = if new_pid_namespace {
        libc::CLONE_NEWPID as u64
    } else {
        0
    };
    let parent = if sibling {
        libc::CLONE_PARENT as u64
    } else {
        0
    };
    let mut args = CloneArgs {
        flags: namespace | parent,
        // With CLONE_PARENT the child takes its exit signal from the caller,
        // and clone3 wants 0 here.
        exit_signal: if sibling { 0 } else { libc::SIGCHLD as u64 },
        set_tid_size: tids.len() as u64,
        set_tid: if tids.is_empty() {
            0
        } else {
            tids.as_ptr() as u64
        },
        ..CloneArgs::default()
    };
    // SAFETY: `args` is a valid, fully initialised `struct clone_args` whose
    // size we pass; `set_tid` points to `set_tid_size` live `pid_t`s (or is
    // 0 with size 0), and both outlive the call. Without CLONE_VM or a stack
    // the child gets a private copy of the address space, as with fork; the
    // caller guarantees that no other thread of the process holds a lock at
    // the time of the copy (it is single-threaded, or its other threads wait
    // in `read` with nothing held: see `agent::wire::send`).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(last_errno()),
        0 => Ok(Cloned::Child),
        pid => Ok(Cloned::Parent(pid as i32)),
    }
}

/// `_exit(2)`: ends the process at once, without running destructors or
/// flushing anything (the agent's processes share a copy of buffers they
/// must not flush twice).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` takes a plain integer and does not return; skipping
    // destructors is the point (the memory is a fork's copy).
    unsafe { libc::_exit(code) }
}

/// `kill(2)` with a raw PID and signal number.
pub fn kill(pid: i32, sig: i32) -> Result<(), RawErrno> {
    // SAFETY: plain integers; no memory is passed.
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// `waitpid(2)` with `WNOHANG`, `WUNTRACED` and `WCONTINUED` as asked:
/// `Ok(None)` when `WNOHANG` found nothing, else the PID and the raw wait
/// status.
pub fn waitpid(
    pid: i32,
    nohang: bool,
    untraced: bool,
    continued: bool,
) -> Result<Option<(i32, i32)>, RawErrno> {
    let mut status: c_int = 0;
    let options = [
        (nohang, libc::WNOHANG),
        (untraced, libc::WUNTRACED),
        (continued, libc::WCONTINUED),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .fold(0, |all, (_, flag)| all | flag);
    loop {
        // SAFETY: `status` is a live, writable `int` for the whole call.
        let ret = unsafe { libc::waitpid(pid, &mut status, options) };
        match ret {
            -1 if last_errno() == libc::EINTR => continue,
            -1 => return Err(last_errno()),
            0 => return Ok(None),
            pid => return Ok(Some((pid, status))),
        }
    }
}

/// `getpid(2)`.
pub fn getpid() -> i32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { libc::getpid() }
}

/// `gettid(2)`.
pub fn gettid() -> i32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { libc::gettid() }
}

/// Closes every descriptor of this process above 2 but `keep`: for a
/// process forked from the relay, which must hold nothing of the relay's.
///
/// Only for a fresh fork that never returns to the code that owns those
/// descriptors (their owners, copied with the memory, are never dropped).
pub fn close_all_but(keep: i32) -> Result<(), RawErrno> {
    let ranges = [(3, keep - 1), (keep + 1, i32::MAX)];
    for (first, last) in ranges {
        if first > last {
            continue;
        }
        // SAFETY: `close_range` takes plain integers; closing descriptors
        // is memory-safe, and the caller guarantees that no live owner of
        // them will use or close them again.
        let ret = unsafe { libc::syscall(libc::SYS_close_range, first as u32, last as u32, 0u32) };
        if ret == -1 {
            return Err(last_errno());
        }
    }
    Ok(())
}

/// `getppid(2)`: 0 when the parent is outside the caller's PID namespace.
pub fn getppid() -> i32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { libc::getppid() }
}

/// `getpgid(2)` with a raw PID (0 = the caller).
pub fn getpgid(pid: i32) -> Result<i32, RawErrno> {
    // SAFETY: a plain integer argument.
    check(unsafe { libc::getpgid(pid) })
}

/// `getsid(2)` with a raw PID (0 = the caller).
pub fn getsid(pid: i32) -> Result<i32, RawErrno> {
    // SAFETY: a plain integer argument.
    check(unsafe { libc::getsid(pid) })
}

/// `setpgid(2)` with raw numbers.
pub fn setpgid(pid: i32, pgid: i32) -> Result<(), RawErrno> {
    // SAFETY: plain integer arguments.
    check(unsafe { libc::setpgid(pid, pgid) }).map(drop)
}

/// `setsid(2)`: the new session's ID.
pub fn setsid() -> Result<i32, RawErrno> {
    // SAFETY: no arguments.
    check(unsafe { libc::setsid() })
}

/// A signal disposition, as `sigaction(2)` sets and reports it.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum RawDisposition {
    /// `SIG_DFL`.
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// A handler function (the agent's, which does nothing).
    Handler,
}

extern "C" fn ignore_in_handler(_sig: c_int) {}

/// `sigaction(2)`: sets the disposition of `sig` and returns the previous one.
/// The handler, when asked for, does nothing and restarts interrupted calls.
pub fn sigaction(sig: i32, disposition: RawDisposition) -> Result<RawDisposition, RawErrno> {
    let handler = match disposition {
        RawDisposition::Default => libc::SIG_DFL,
        RawDisposition::Ignore => libc::SIG_IGN,
        RawDisposition::Handler => ignore_in_handler as extern "C" fn(c_int) as libc::sighandler_t,
    };
    // SAFETY: `sigaction` is plain old data; all-zero is a valid value (an
    // empty mask, no flags), which the fields set below complete.
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = handler;
    new.sa_flags = libc::SA_RESTART;
    // SAFETY: as above.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live `sigaction` structures for the whole
    // call; the handler is an `extern "C"` function that touches nothing, so
    // it is async-signal-safe.
    check(unsafe { libc::sigaction(sig, &new, &mut old) })?;
    Ok(match old.sa_sigaction {
        libc::SIG_DFL => RawDisposition::Default,
        libc::SIG_IGN => RawDisposition::Ignore,
        _ => RawDisposition::Handler,
    })
}

/// Points standard input and output at `/dev/null`, so that a process forked
/// from the agent no longer holds the pipes to the test.
pub fn detach_stdio() -> Result<(), RawErrno> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    for target in [libc::STDIN_FILENO, libc::STDOUT_FILENO] {
        // SAFETY: `null` is an open descriptor owned by this function for
        // the whole call; descriptors 0 and 1 belong to the process's
        // standard streams, which std never closes, so replacing them does
        // not invalidate any `OwnedFd`.
        check(unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), target) })?;
    }
    Ok(())
}
