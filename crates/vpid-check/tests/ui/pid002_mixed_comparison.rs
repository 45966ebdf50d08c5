// PID002: comparing or ordering a real pid with a virtual one.
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{IdType, LinearMapping, RealPid};

struct Task {
    /// vpid-check: real
    pid: i32,
}

fn reap(t: &Task) {}

fn compare(task: &Task, other: i32, a: i32, b: i32, map: Option<LinearMapping>) {
    // 5. field is real, the other side virtual
    if task.pid == pid_to_vpid(IdType::Pid, other, map).unwrap() { //~ PID002
        reap(task);
    }
    // 6. ordering and method comparisons
    let newest = std::cmp::max(vpid_to_pid(IdType::Pid, a, map).unwrap(), pid_to_vpid(IdType::Pid, b, map).unwrap()); //~ PID002
    let r = vpid_to_pid(IdType::Pid, a, map).unwrap();
    let v = pid_to_vpid(IdType::Pid, b, map).unwrap();
    let _ = r.cmp(&v); //~ PID002
    let _ = r.eq(&v); //~ PID002
    let _ = r < v; //~ PID002
    // 13. hidden inside a macro
    assert_eq!(vpid_to_pid(IdType::Pid, a, map).unwrap(), pid_to_vpid(IdType::Pid, b, map).unwrap()); //~ PID002
}

fn typed(real: RealPid, map: LinearMapping) -> bool {
    real.as_raw() == map.to_virt(real).as_raw() //~ PID002
}
