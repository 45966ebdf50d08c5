// Near-misses of narrowing by match guards and `||`: the guard holds only in
// its arm; `x == 1 || has_marker_bit(x)` makes `x` virtual (1 is a literal);
// a disjunction that narrows one side only narrows nothing.
use vpid_core::{RealPid, VirtPid, has_marker_bit};

fn lookup(vps: Option<usize>, raw: i32) -> Option<RealPid> {
    match vps {
        Some(_) if raw == 1 || (raw > 0 && has_marker_bit(raw)) => {
            VirtPid::from_raw(raw)?.linear_real()
        }
        Some(_) => RealPid::from_raw(raw),
        None => RealPid::from_raw(raw),
    }
}

fn either(raw: i32, other: i32) -> Option<RealPid> {
    if raw > 5 || has_marker_bit(raw) {
        return RealPid::from_raw(raw);
    }
    if other == 1 {
        return RealPid::from_raw(other);
    }
    RealPid::from_raw(raw)
}

/// vpid-check: raw=real
fn known(raw: i32) -> Option<VirtPid> {
    if raw == 1 || has_marker_bit(raw) {
        return VirtPid::from_raw(raw);
    }
    Some(RealPid::from_raw(raw)?.to_linear_virt())
}
