//! The `pids` cgroup controller: how a run gives a VPS its process limit
//! (`numproc`) on Linux.
//!
//! OpenVZ's `numproc` beancounter and the `pids` controller count the same
//! thing: every task of the group, threads and zombies included, until it
//! is reaped. A fork or a new thread beyond `pids.max` fails with `EAGAIN`,
//! as a fork beyond `numproc` does.
//!
//! Each limited VPS of a run gets its own cgroup,
//! `vps-linux-<relay PID>-<n>`, directly under the controller's root; the
//! relay moves the VPS init into it before the init forks anything, and
//! removes it once the run's processes are gone. A relay that was killed
//! cannot remove its cgroups: the next relay removes every cgroup whose
//! relay is no longer alive ([`remove_stale`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The prefix of every cgroup a run makes.
const PREFIX: &str = "vps-linux-";

/// The root of the `pids` controller's hierarchy, if this machine has one
/// where cgroups can be made: cgroup v1's `/sys/fs/cgroup/pids`, or the
/// cgroup v2 root when it hands the controller down.
#[must_use]
pub fn pids_controller() -> Option<PathBuf> {
    let v1 = Path::new("/sys/fs/cgroup/pids");
    if v1.join("cgroup.procs").exists() {
        return Some(v1.to_owned());
    }
    let v2 = Path::new("/sys/fs/cgroup");
    let delegated = std::fs::read_to_string(v2.join("cgroup.subtree_control")).ok()?;
    delegated
        .split_whitespace()
        .any(|c| c == "pids")
        .then(|| v2.to_owned())
}

/// One cgroup with a `pids.max` limit. Dropping it removes it (it must be
/// empty by then: see [`PidsLimit::remove`]).
#[derive(Debug)]
pub struct PidsLimit {
    dir: PathBuf,
    max: u32,
    removed: bool,
}

impl PidsLimit {
    /// Makes the `n`-th cgroup of this process's runs, limited to `max`
    /// tasks.
    ///
    /// # Errors
    /// When the machine has no `pids` controller, or the cgroup cannot be
    /// made or limited (it is removed again then).
    pub fn create(n: usize, max: u32) -> std::io::Result<Self> {
        let root = pids_controller().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "this machine has no pids cgroup controller",
            )
        })?;
        let dir = root.join(format!("{PREFIX}{}-{n}", std::process::id()));
        std::fs::create_dir(&dir)?;
        let limit = Self {
            dir,
            max,
            removed: false,
        };
        std::fs::write(limit.dir.join("pids.max"), max.to_string())?;
        Ok(limit)
    }

    /// Moves a process (by its PID in this process's namespace), with all
    /// its threads, into the cgroup.
    ///
    /// # Errors
    /// As the kernel says (`ESRCH` for a process that is gone).
    pub fn attach(&self, pid: i32) -> std::io::Result<()> {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
    }

    /// The most tasks the cgroup may hold.
    #[must_use]
    pub fn max(&self) -> u32 {
        self.max
    }

    /// The limit's directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Removes the cgroup, waiting up to `timeout` for its last tasks to
    /// leave it (a dead process leaves its cgroup once it is reaped).
    ///
    /// # Errors
    /// When it is still busy after `timeout`, or cannot be removed.
    pub fn remove(mut self, timeout: Duration) -> std::io::Result<()> {
        self.removed = true;
        remove_dir_when_empty(&self.dir, timeout)
    }
}

impl Drop for PidsLimit {
    fn drop(&mut self) {
        if !self.removed {
            let _ = remove_dir_when_empty(&self.dir, Duration::from_secs(1));
        }
    }
}

fn remove_dir_when_empty(dir: &Path, timeout: Duration) -> std::io::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// Removes the cgroups of relays that are no longer alive; returns how many.
#[must_use]
pub fn remove_stale() -> usize {
    let Some(root) = pids_controller() else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(&root) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new(&format!("/proc/{owner}")).exists();
        if !alive && std::fs::remove_dir(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The cgroups of this machine's runs that exist now: for leak checks.
#[must_use]
pub fn leftover_cgroups() -> Vec<PathBuf> {
    let Some(root) = pids_controller() else {
        return Vec::new();
    };
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}
