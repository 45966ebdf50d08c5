// Near-misses: no evidence, arithmetic that decays to a plain number, and
// kind-agnostic sinks.
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{Context, IdType, LinearMapping, is_virtual_pid};

/// vpid-check: pid=real
fn find_task(pid: i32) -> Option<u32> {
    None
}

fn lookup(pid: i32) -> Option<u32> {
    find_task(pid)
}

fn bucket(r: i32, map: Option<LinearMapping>) -> usize {
    (pid_to_vpid(IdType::Pid, r, map).unwrap() % 64) as usize
}

fn next_pid(r: i32, map: Option<LinearMapping>) {
    let v = pid_to_vpid(IdType::Pid, r, map).unwrap();
    find_task(v + 1);
    let plain: i32 = 42;
    find_task(plain);
}

fn agnostic(v: i32, r: i32, map: Option<LinearMapping>) {
    let vv = pid_to_vpid(IdType::Pid, r, map).unwrap();
    let rr = vpid_to_pid(IdType::Pid, v, map).unwrap();
    println!("{vv} {rr}");
    let _ = format!("{} {}", vv, rr);
    let _ = is_virtual_pid(rr, Context::Host);
    let pair = (vv, rr);
    let mut seen = std::collections::HashSet::new();
    seen.insert(vv);
    seen.insert(rr);
}

fn partially_known(r: i32, flag: bool, map: Option<LinearMapping>, other: i32) {
    // Real on one path, unknown on the other: no evidence on every path.
    let p = if flag { vpid_to_pid(IdType::Pid, r, map).unwrap() } else { other };
    let v = pid_to_vpid(IdType::Pid, other, map).unwrap();
    if p == v {}
}
