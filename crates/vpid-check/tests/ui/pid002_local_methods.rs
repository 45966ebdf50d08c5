// A method of the receiver's own type is preferred to the collection
// heuristics (`get` on a map gives its element): `Tasks::get` gives a
// `Task`, whose `tgid` is real.
use vpid_core::{LinearMapping, RealPid};

struct Task {
    tgid: RealPid,
}

struct Tasks {
    slots: Vec<Option<RealPid>>,
}

impl Tasks {
    fn get(&self, real: RealPid) -> Option<Task> {
        let tgid = (*self.slots.get(real.as_raw() as usize)?)?;
        Some(Task { tgid })
    }
}

fn leader_seen(tasks: &Tasks, real: RealPid, map: LinearMapping, seen: i32) -> bool {
    let task = tasks.get(real).expect("present");
    let v = map.to_virt(real).as_raw();
    task.tgid.as_raw() == v //~ PID002
}
