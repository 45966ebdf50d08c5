// A closure passed to a local higher-order helper: the helper is analyzed
// for the call, so the closure's parameter gets what the helper passes it
// (here the magnitude of `raw`), and the call gets what the closure gives.
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{IdType, KindError, LinearMapping, RealPid};

fn with_magnitude(
    raw: i32,
    convert: impl Fn(i32) -> Result<i32, KindError>,
) -> Result<i32, KindError> {
    match raw {
        0 => Ok(0),
        r if r > 0 => convert(r),
        r => convert(-r).map(|m| -m),
    }
}

/// vpid-check: pid=real
fn find_task(pid: i32) {}

/// vpid-check: raw=real, return=virtual
fn wrong_direction(raw: i32, map: Option<LinearMapping>) -> Result<i32, KindError> {
    with_magnitude(raw, |m| vpid_to_pid(IdType::Pgid, m, map)) //~ PID003 PID009
}

/// vpid-check: raw=real, return=virtual
fn not_converted(raw: i32) -> Result<i32, KindError> {
    with_magnitude(raw, |m| Ok(m)) //~ PID009
}

/// vpid-check: raw=real
fn converted_then_misused(raw: i32, map: Option<LinearMapping>) -> Result<(), KindError> {
    let v = with_magnitude(raw, |m| pid_to_vpid(IdType::Pgid, m, map))?;
    find_task(v); //~ PID001
    Ok(())
}

struct Table {
    init: RealPid,
}

impl Table {
    fn with_init<T>(&self, f: impl FnOnce(RealPid) -> T) -> T {
        f(self.init)
    }
}

// A method of the receiver's own type, likewise.
fn method_closure(table: &Table, map: LinearMapping) {
    let v = table.with_init(|r| map.to_virt(r));
    let _ = map.to_virt(v); //~ PID003
    let _ = table.with_init(|r| map.to_real(r)); //~ PID003
}
