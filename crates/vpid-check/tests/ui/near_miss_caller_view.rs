// Near-misses of `view` (a number in the caller's view): every value that
// may be virtual, or is virtual, or is a literal, or was narrowed, is fine;
// two view numbers compare; a view number compares with a virtual one.
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{IdType, LinearMapping, RealPid, is_virtual_pid};

struct Slot {
    /// vpid-check: view
    pid: i32,
    /// vpid-check: view
    tgid: i32,
}

/// vpid-check: pid=view, tgid=view
fn publish(slot: &mut Slot, pid: i32, tgid: i32) {
    slot.pid = pid;
    slot.tgid = tgid;
}

fn visible(real: RealPid, map: Option<LinearMapping>) -> i32 {
    match map {
        Some(m) => m.to_virt(real).as_raw(),
        None => real.as_raw(),
    }
}

fn republish(slot: &mut Slot, real: RealPid, tgid: RealPid, map: Option<LinearMapping>) {
    let pid = visible(real, map);
    publish(slot, pid, visible(tgid, map));
    publish(slot, 0, -1);
    publish(slot, real.to_linear_virt().as_raw(), 1);
    if let Ok(v) = pid_to_vpid(IdType::Pid, real.as_raw(), map) {
        slot.pid = v;
    }
    let _ = Slot { pid, tgid: 0 };
    if slot.pid == pid || slot.pid == slot.tgid || slot.pid > 1 {}
    if slot.pid == real.to_linear_virt().as_raw() {}
    let unknown = slot.pid + 1;
    if unknown == real.as_raw() {}
    let n = slot.pid;
    if !is_virtual_pid(n, vpid_core::Context::Host) && n == real.as_raw() {}
}

/// vpid-check: return=view
fn seen(slot: &Slot, real: RealPid, map: Option<LinearMapping>) -> i32 {
    if slot.pid > 0 {
        return slot.pid;
    }
    visible(real, map)
}

/// A number from the caller resolves with `vpid_to_pid`.
/// vpid-check: raw=view
fn find(raw: i32, map: Option<LinearMapping>) -> Result<i32, vpid_core::KindError> {
    vpid_to_pid(IdType::Pid, raw, map)
}
