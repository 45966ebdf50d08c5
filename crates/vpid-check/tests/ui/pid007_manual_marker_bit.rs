// PID007: marker-bit arithmetic by hand, outside vpid-core.
use vpid_core::convert::vpid_to_pid;
use vpid_core::{IdType, LinearMapping, VPID_BIT, VPID_DIV};

/// vpid-check: pid=real
fn find_task(pid: i32) {}

fn by_hand(r: i32, arg: i32, map: Option<LinearMapping>) {
    // 11. hand-made conversions
    let real = vpid_to_pid(IdType::Pid, arg, map).unwrap();
    let v = real | VPID_DIV; //~ PID007
    find_task(v); //~ PID001
    let r2 = v & !VPID_DIV; //~ PID007
    find_task(r2); // fine: the hand-made conversion gave a real pid
    let shifted = real | (1 << VPID_BIT); //~ PID007
    let literal = real | 1024; //~ PID007
    if r & vpid_core::VPID_DIV != 0 {} //~ PID007
    let mut m = real;
    m |= VPID_DIV; //~ PID007
}
