// Tuples returned by local functions keep the kinds of their elements, as do
// the items of an `impl Iterator<Item = (..)>`; a match guard narrows like
// an `if` (here: `raw` is 1 or has the marker bit, so it is virtual).
use vpid_core::{RealPid, VirtPid, has_marker_bit};

struct Tasks;

impl Tasks {
    fn vnr(&self, n: RealPid) -> Option<(usize, VirtPid)> {
        None
    }

    fn vnrs(&self) -> impl Iterator<Item = (RealPid, usize, VirtPid)> + '_ {
        std::iter::empty()
    }
}

fn audit(tasks: &Tasks, n: RealPid) {
    if let Some((_, virt)) = tasks.vnr(n) {
        let _ = RealPid::from_raw(virt.as_raw()); //~ PID005
    }
    for (real, _, virt) in tasks.vnrs() {
        let _ = RealPid::from_raw(virt.as_raw()); //~ PID005
        let _ = VirtPid::from_raw(real.as_raw()); //~ PID005
    }
}

fn lookup(vps: Option<usize>, raw: i32) -> Option<RealPid> {
    match vps {
        Some(_) if raw == 1 || (raw > 0 && has_marker_bit(raw)) => RealPid::from_raw(raw), //~ PID005
        _ => RealPid::from_raw(raw),
    }
}
