// Near-miss: a crate type with a `contains` taking a real PID does not make
// every `.contains` call a sink. An untyped local set (its type inferred from
// `BTreeSet::new()`) holding virtual numbers is a collection, not that type.
use std::collections::BTreeSet;

use vpid_core::{RealPid, VirtPid};

struct Tasks {
    slots: Vec<bool>,
}

impl Tasks {
    /// vpid-check: pid=real
    fn contains(&self, pid: i32) -> bool {
        self.slots.get(pid as usize).copied().unwrap_or(false)
    }
}

fn groups_in_use(tasks: &Tasks, real: RealPid, virt: VirtPid) -> bool {
    let mut orphans = BTreeSet::new();
    orphans.insert(virt.as_raw());
    orphans.contains(&virt.as_raw()) && tasks.contains(real.as_raw())
}
