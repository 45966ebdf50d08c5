// PID001: a pid of one kind where the other is due.
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{IdType, KindError, LinearMapping, RealPid, VirtPid};

/// vpid-check: pid=real
fn find_task(pid: i32) -> Option<u32> {
    None
}

/// vpid-check: vpid=virtual
fn show_to_user(vpid: i32) {}

/// vpid-check: pid=real
fn kill_real(pid: i32, sig: i32) {}

fn typed(p: RealPid) {}

/// vpid-check: pid=real
fn lookup(pid: i32) -> Option<u32> {
    find_task(pid)
}

fn for_user(p: i32, map: Option<LinearMapping>) -> i32 {
    pid_to_vpid(IdType::Pid, p, map).unwrap()
}

fn patterns(task_pid: i32, user_vpid: i32, map: Option<LinearMapping>) -> Result<(), KindError> {
    // 1. virtual into a real-only sink
    let v = pid_to_vpid(IdType::Pid, task_pid, map)?;
    find_task(v); //~ PID001
    // 2. real into a virtual-only sink
    let r = vpid_to_pid(IdType::Pid, user_vpid, map)?;
    show_to_user(r); //~ PID001
    // 8. laundering through `as` casts
    let raw = pid_to_vpid(IdType::Pid, task_pid, map)? as u32;
    let back = raw as i32;
    find_task(back); //~ PID001
    // 12. kind flows out of a local helper (function summary)
    find_task(for_user(task_pid, map)); //~ PID001
    // 14. reassignment, Some/unwrap
    let mut p = vpid_to_pid(IdType::Pid, user_vpid, map)?;
    p = pid_to_vpid(IdType::Pid, p, map)?;
    let o = Some(p);
    kill_real(o.unwrap(), 15); //~ PID001
    // 15. a negated process-group id keeps its kind
    kill_real(-pid_to_vpid(IdType::Pgid, task_pid, map)?, 15); //~ PID001
    // typed values lose their type but not their kind
    let vp = VirtPid::from_raw(user_vpid).unwrap();
    find_task(vp.as_raw()); //~ PID001
    // a typed binding of the other kind
    let wrong: RealPid = vp; //~ PID001
    Ok(())
}
