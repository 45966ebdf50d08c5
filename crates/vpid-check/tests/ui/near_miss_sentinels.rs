// Near-misses: where a test says a number is 0 or negative (`x <= 0`,
// `x == 0`), it is a sentinel, kind-neutral like the literals 0 and -1.
use vpid_core::convert::pid_to_vpid;
use vpid_core::{IdType, KindError, LinearMapping};

/// vpid-check: raw=real, return=virtual
fn to_user(raw: i32, map: Option<LinearMapping>) -> Result<i32, KindError> {
    if raw <= 0 {
        return Ok(raw);
    }
    pid_to_vpid(IdType::Pid, raw, map)
}

/// vpid-check: pid=real, return=virtual
fn zero_is_the_caller(pid: i32, caller: i32) -> i32 {
    if 0 == pid {
        pid
    } else {
        caller
    }
}
