// PID008: a value that may be either kind reaches a typed sink.
use vpid_core::convert::pid_to_vpid;
use vpid_core::{IdType, LinearMapping};

/// vpid-check: pid=real
fn find_task(pid: i32) {}

/// A context-dependent getter, defined with a merge: not flagged here.
fn get_task_pid(r: i32, map: Option<LinearMapping>) -> i32 {
    if map.is_some() { pid_to_vpid(IdType::Pid, r, map).unwrap() } else { find_real(r) }
}

/// vpid-check: return=real
fn find_real(r: i32) -> i32 {
    r
}

fn either(in_vps: bool, r: i32, map: Option<LinearMapping>) {
    let p = if in_vps { pid_to_vpid(IdType::Pid, r, map).unwrap() } else { find_real(r) };
    find_task(p); //~ PID008
    // ... only its use at a typed sink is
    find_task(get_task_pid(r, map)); //~ PID008
    let q = match map {
        Some(_) => pid_to_vpid(IdType::Pid, r, map).unwrap(),
        None => find_real(r),
    };
    find_task(q); //~ PID008
}
