// PID006: a field, const or static of declared kind given the other kind.
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{IdType, LinearMapping};

#[derive(Default)]
struct Task {
    /// vpid-check: real
    pid: i32,
    /// vpid-check: virtual
    vpid: i32,
}

/// vpid-check: virtual
const INIT_VPID: i32 = 1;

/// vpid-check: real
static mut LAST_REAL: i32 = 0;

fn fields(p: i32, x: i32, map: Option<LinearMapping>) {
    // 10. struct literal and assignment
    let t = Task { pid: pid_to_vpid(IdType::Pid, p, map).unwrap(), ..Task::default() }; //~ PID006
    let mut t2 = Task::default();
    t2.pid = vpid_to_pid(IdType::Pid, x, map).unwrap(); // fine
    let ok = Task { pid: t2.pid, vpid: INIT_VPID };
    t2.vpid = t2.pid; //~ PID006
    t2.pid = pid_to_vpid(IdType::Pid, x, map).unwrap(); //~ PID006
    let bad = Task { pid: INIT_VPID, vpid: 0 }; //~ PID006
    // flow-sensitive: t2.pid now holds the virtual value assigned above
    let copy = Task { pid: t2.pid, vpid: 0 }; //~ PID006
}

/// vpid-check: real
const HOST_PID: i32 = INIT_VPID; //~ PID006
