// `view`: a number in the caller's view (virtual for a caller in a VPS, the
// identity on the host), as vps's read index stores them. Either kind may
// go there, but a value that is real on every path was never converted.
use vpid_core::RealPid;

struct Slot {
    /// The task's number in its own VPS (real for a host task).
    /// vpid-check: view
    pid: i32,
}

/// vpid-check: pid=view
fn publish(slot: &mut Slot, pid: i32) {
    slot.pid = pid;
}

fn republish(slot: &mut Slot, other: &Slot, real: RealPid) {
    publish(slot, real.as_raw()); //~ PID001
    slot.pid = real.as_raw(); //~ PID006
    let _ = Slot { pid: real.as_raw() }; //~ PID006
    if other.pid == real.as_raw() {} //~ PID002
    let _ = RealPid::from_raw(other.pid); //~ PID008
}

/// vpid-check: return=view
fn seen(slot: &Slot, real: RealPid) -> i32 {
    if slot.pid > 0 {
        return slot.pid;
    }
    real.as_raw() //~ PID009
}
