// Near-misses of closures passed to local higher-order helpers: the right
// conversion, a closure that ignores its argument, a helper that calls
// itself (analyzed to a bounded depth), and an unannotated number.
use vpid_core::convert::{pid_to_vpid, vpid_to_pid};
use vpid_core::{IdType, KindError, LinearMapping};

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

fn retry(n: u32, raw: i32, f: impl Fn(i32) -> Result<i32, KindError> + Copy) -> Result<i32, KindError> {
    match f(raw) {
        Ok(v) => Ok(v),
        Err(_) if n > 0 => retry(n - 1, raw, |m| f(m)),
        Err(e) => Err(e),
    }
}

/// vpid-check: pid=real
fn find_task(pid: i32) {}

/// vpid-check: raw=real, return=virtual
fn to_user(raw: i32, map: Option<LinearMapping>) -> Result<i32, KindError> {
    with_magnitude(raw, |m| pid_to_vpid(IdType::Pgid, m, map))
}

/// vpid-check: raw=virtual
fn from_user(raw: i32, map: Option<LinearMapping>) -> Result<(), KindError> {
    let r = with_magnitude(raw, |m| vpid_to_pid(IdType::Pgid, m, map))?;
    find_task(r);
    let again = retry(3, raw, |m| vpid_to_pid(IdType::Pid, m, map))?;
    find_task(again);
    Ok(())
}

/// vpid-check: raw=real, return=virtual
fn constant(raw: i32) -> Result<i32, KindError> {
    with_magnitude(raw, |_| Ok(0))
}

fn unknown(raw: i32, map: Option<LinearMapping>) -> Result<i32, KindError> {
    with_magnitude(raw, |m| vpid_to_pid(IdType::Pid, m, map))
}

struct Table {
    init: vpid_core::RealPid,
}

impl Table {
    fn with_init<T>(&self, f: impl FnOnce(vpid_core::RealPid) -> T) -> T {
        f(self.init)
    }
}

fn method_closure(table: &Table, map: LinearMapping) {
    let r = table.with_init(|r| r);
    let v = map.to_virt(r);
    let _ = map.to_real(v);
    let _ = table.with_init(|r| map.to_virt(r));
}
