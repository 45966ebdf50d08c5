// PID004: a real pid returned from a user-facing function.
use vpid_core::convert::pid_to_vpid;
use vpid_core::{IdType, LinearMapping, RealPid};

struct Task {
    /// vpid-check: real
    pid: i32,
    /// vpid-check: real
    parent_pid: i32,
    map: Option<LinearMapping>,
}

/// 7. The tty_io `pid_nr` bug: a real pid leaks to user space.
/// vpid-check: user-facing
pub fn sys_getppid(t: &Task) -> i32 {
    t.parent_pid //~ PID004
}

/// vpid-check: user-facing
pub fn sys_getpid(t: &Task) -> i32 {
    if t.map.is_none() {
        return t.pid; //~ PID004
    }
    pid_to_vpid(IdType::Tgid, t.pid, t.map).unwrap_or(0)
}

/// vpid-check: user-facing
pub fn sys_gettid(real: RealPid) -> i32 {
    real.as_raw() //~ PID004
}
