// vpid-check-test: path=crates/vpid-core/src/convert.rs
// Inside vpid-core, its converters' parameters have the kinds of the
// built-in table (`pid_to_vpid` takes a real number): a converter that
// returns its argument unchanged on every path converts nothing. A
// non-positive number is not a PID (it is returned as it is).
use crate::{IdType, KindError, LinearMapping, RawPid};

fn combined(raw: RawPid, convert: impl Fn(RawPid) -> Result<RawPid, KindError>) -> Result<RawPid, KindError> {
    match raw {
        0 => Ok(0),
        r if r > 0 => convert(r),
        r => convert(-r).map(|m| -m),
    }
}

pub fn pid_to_vpid(id: IdType, raw: RawPid, map: Option<LinearMapping>) -> Result<RawPid, KindError> {
    if raw <= 0 {
        return Ok(raw);
    }
    Ok(raw) //~ PID009
}

pub fn comb_vpid_to_pid(id: IdType, raw: RawPid, map: Option<LinearMapping>) -> Result<RawPid, KindError> {
    combined(raw, |m| pid_to_vpid(id, m, map)) //~ PID003 PID009
}

pub fn comb_pid_to_vpid(id: IdType, raw: RawPid, map: Option<LinearMapping>) -> Result<RawPid, KindError> {
    combined(raw, |m| Ok(m)) //~ PID009
}
