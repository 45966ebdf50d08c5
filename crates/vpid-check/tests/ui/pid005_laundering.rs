// PID005: a typed constructor fed the other kind.
use vpid_core::convert::vpid_to_pid;
use vpid_core::{IdType, LinearMapping, RealPid, VirtPid};

fn launder(vpid: VirtPid, real: RealPid, arg: i32, map: Option<LinearMapping>) {
    // 9. laundering through the newtypes' escape hatches
    let r = RealPid::from_raw(vpid.as_raw()); //~ PID005
    let v = VirtPid::try_from_raw(real.as_raw()); //~ PID005
    let t = RealPid::try_from(vpid.as_raw()); //~ PID005
    let host = vpid_to_pid(IdType::Pid, arg, map).unwrap();
    let w = VirtPid::from_raw(host); //~ PID005
    let chained = Some(vpid.as_raw()).and_then(RealPid::from_raw); //~ PID005
}
