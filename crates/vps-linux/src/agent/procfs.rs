//! What the relay reads in `/proc` about the processes of a run: their PIDs
//! in every namespace, and whether they are stopped, dying or gone.

use std::os::fd::OwnedFd;

/// A process's entry in the relay's `/proc`.
#[derive(Clone, Debug)]
pub(super) struct ProcEntry {
    /// Its PID in the relay's namespace.
    pub pid: i32,
    /// When it started (clock ticks after boot): tells it from a later
    /// process that gets the same PID.
    start_time: u64,
    /// Its PIDs in the run's namespaces, innermost first (as `set_tid`).
    pub run_pids: Vec<i32>,
}

/// The state letter and start time of a process, from `/proc/<pid>/stat`.
fn proc_stat(pid: i32) -> Option<(char, u64)> {
    // State is field 3 of stat(5), start time field 22.
    with_stat_fields(pid, |fields| {
        let state = fields.first()?.chars().next()?;
        let start_time = fields.get(19)?.parse().ok()?;
        Some((state, start_time))
    })
}

/// Reads `/proc/<pid>/stat` and gives `read` its fields after the command
/// name: the first is field 3 of stat(5), the state.
pub(super) fn with_stat_fields<T>(pid: i32, read: impl FnOnce(&[&str]) -> Option<T>) -> Option<T> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ...": the comm may hold spaces and parentheses.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    read(&fields)
}

impl ProcEntry {
    /// The entry of the process a pidfd (of this process) refers to.
    pub(super) fn of(pidfd: &OwnedFd) -> Option<Self> {
        use std::os::fd::AsRawFd;
        let info =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
        let field = |name: &str| info.lines().find_map(|line| line.strip_prefix(name));
        let pid = field("Pid:")?.trim().parse().ok()?;
        // "NSpid: <relay's> <host init's> [<VPS's>]".
        let mut run_pids: Vec<i32> = field("NSpid:")?
            .split_whitespace()
            .skip(1)
            .filter_map(|n| n.parse().ok())
            .collect();
        run_pids.reverse();
        let (_, start_time) = proc_stat(pid)?;
        Some(Self {
            pid,
            start_time,
            run_pids,
        })
    }

    /// Whether the process is stopped by a signal.
    pub(super) fn stopped(&self) -> bool {
        proc_stat(self.pid).is_some_and(|(state, start)| start == self.start_time && state == 'T')
    }

    /// Whether the process has been released: no longer in `/proc`.
    pub(super) fn released(&self) -> bool {
        proc_stat(self.pid).is_none_or(|(_, start)| start != self.start_time)
    }

    /// Whether the process has finished exiting: a zombie, or released
    /// (reaped at once because its parent ignores SIGCHLD, or by a wait).
    /// Between the two, its PIDs are still taken though it has exited.
    pub(super) fn settled(&self) -> bool {
        match proc_stat(self.pid) {
            None => true,
            Some((_, start)) if start != self.start_time => true, // reused
            Some((state, _)) => state == 'Z',
        }
    }
}
