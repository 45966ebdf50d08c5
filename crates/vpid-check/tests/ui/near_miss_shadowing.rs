// Near-misses: correct conversions, shadowing, scopes, and no leakage of
// names across functions.
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{IdType, LinearMapping};

/// vpid-check: pid=real
fn find_task(pid: i32) {}

/// vpid-check: vpid=virtual
fn show_to_user(vpid: i32) {}

fn shadowing(user_arg: i32, map: Option<LinearMapping>) {
    let p = vpid_to_pid(IdType::Pid, user_arg, map).unwrap();
    find_task(p);
    let p = pid_to_vpid(IdType::Pid, p, map).unwrap();
    show_to_user(p);
    {
        let p = vpid_to_pid(IdType::Pid, p, map).unwrap();
        find_task(p);
    }
    show_to_user(p);
}

fn same_name_elsewhere(p: i32) {
    find_task(p);
    show_to_user(p);
}

fn same_kind_comparisons(v: i32, map: Option<LinearMapping>, task_pid: i32) {
    let r = vpid_to_pid(IdType::Pid, v, map).unwrap();
    let other = vpid_to_pid(IdType::Pid, task_pid, map).unwrap();
    if r == other {}
    assert_eq!(r, other);
}

fn closures(ids: &[i32], map: Option<LinearMapping>) {
    ids.iter().map(|&p| pid_to_vpid(IdType::Pid, p, map).unwrap()).for_each(show_to_user);
    let reals: Vec<i32> = ids.iter().map(|&v| vpid_to_pid(IdType::Pid, v, map).unwrap()).collect();
}
