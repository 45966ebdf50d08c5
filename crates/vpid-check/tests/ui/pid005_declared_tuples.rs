// A `let` with a declared tuple type (or an Option of one) gives the
// elements their kinds even when the value came from somewhere the analysis
// cannot see into (here a closure passed to `find_map`), so destructuring it
// keeps a real PID real.
use vpid_core::{RealPid, VirtPid};

fn first_even(pids: &[RealPid]) -> Option<VirtPid> {
    let pick = |p: &RealPid| (p.as_raw() % 2 == 0).then_some((*p, 0u8));
    let found: Option<(RealPid, u8)> = pids.iter().find_map(pick);
    let Some((child, _)) = found else {
        return None;
    };
    VirtPid::from_raw(child.as_raw()) //~ PID005
}
