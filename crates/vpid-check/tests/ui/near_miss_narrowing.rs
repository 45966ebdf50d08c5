// Near-misses: a conversion guarded by the marker test narrows the value.
use vpid_core::convert::vpid_to_pid;
use vpid_core::{Context, IdType, LinearMapping, RealPid, VirtPid, has_marker_bit, is_virtual_pid};

/// vpid-check: pid=real
fn find_task(pid: i32) {}

fn guarded(x: i32, map: Option<LinearMapping>) {
    // x is raw from the user: both arms are real
    let r = if is_virtual_pid(x, Context::Vps) { vpid_to_pid(IdType::Pid, x, map).unwrap() } else { x };
    find_task(r);
}

fn early_return(raw: i32) -> Option<RealPid> {
    if has_marker_bit(raw) {
        return None;
    }
    RealPid::from_raw(raw)
}

fn classify(raw: i32, ctx: Context) -> i32 {
    if is_virtual_pid(raw, ctx) {
        VirtPid::from_raw(raw).map_or(0, VirtPid::as_raw)
    } else {
        RealPid::from_raw(raw).map_or(0, RealPid::as_raw)
    }
}

fn negated(raw: i32, map: Option<LinearMapping>) -> Option<RealPid> {
    if !is_virtual_pid(raw, Context::Vps) {
        return RealPid::from_raw(raw);
    }
    let real = vpid_to_pid(IdType::Pid, raw, map).ok()?;
    RealPid::from_raw(real)
}

fn loop_does_not_leak(raws: &[i32]) {
    for &raw in raws {
        if raw > 0 && is_virtual_pid(raw, Context::Vps) {
            let _ = VirtPid::from_raw(raw);
        }
        let _ = RealPid::from_raw(raw);
    }
}
