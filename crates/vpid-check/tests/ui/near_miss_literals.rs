// Near-misses: kind-neutral literals (sparse's constant-0 rule, widened).
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{IdType, LinearMapping};

/// vpid-check: pid=real
fn kill_real(pid: i32, sig: i32) {}

/// vpid-check: pid=real
fn waitpid_real(pid: i32, status: &mut i32, options: i32) {}

/// vpid-check: user-facing
fn sys_getppid(parent_visible: bool, parent: i32, map: Option<LinearMapping>) -> i32 {
    if !parent_visible {
        return 0;
    }
    pid_to_vpid(IdType::Pid, parent, map).unwrap_or(-1)
}

fn sentinels(v: i32, map: Option<LinearMapping>) {
    let mut st = 0;
    kill_real(0, 15);
    waitpid_real(-1, &mut st, 0);
    if vpid_to_pid(IdType::Pid, v, map).unwrap() == 1 {}
    let r = vpid_to_pid(IdType::Pid, v, map).unwrap();
    let chosen = if r > 300 { r } else { 1 };
    kill_real(chosen, 9);
}
