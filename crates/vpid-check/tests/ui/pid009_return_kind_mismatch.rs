// PID009: a function returns the other kind than it declares.
use vpid_core::convert::pid_to_vpid;
use vpid_core::{IdType, LinearMapping, RealPid, VirtPid};

/// vpid-check: return=real
fn owner(v: VirtPid) -> i32 {
    v.as_raw() //~ PID009
}

/// vpid-check: pid=real, return=virtual
fn to_user(pid: i32, map: Option<LinearMapping>) -> i32 {
    if map.is_none() {
        return pid; //~ PID009
    }
    pid_to_vpid(IdType::Pid, pid, map).unwrap_or(0)
}

fn typed(v: VirtPid) -> Option<RealPid> {
    // the constructor's result is real, as declared: only the laundering is wrong
    RealPid::from_raw(v.as_raw()) //~ PID005
}

fn typed_return(r: RealPid) -> Option<VirtPid> {
    let v = VirtPid::from_raw(1);
    if r.is_host_init() {
        return Some(r); //~ PID009
    }
    v
}

/// A sentinel test narrows only where it holds.
/// vpid-check: raw=real, return=virtual
fn sentinel_then_leak(raw: i32) -> i32 {
    if raw <= 0 {
        let _ = raw;
    }
    raw //~ PID009
}
