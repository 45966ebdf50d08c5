// PID003: converting a value already of the target kind (double conversion,
// wrong direction).
use vpid_core::convert::{comb_vpid_to_pid, pid_to_vpid, vpid_to_pid, vpid_to_pid_strict};
use vpid_core::{IdType, KindError, LinearMapping, RealPid, VirtPid};

fn do_work(p: i32) {}

fn conversions(r: i32, arg: i32, map: Option<LinearMapping>) -> Result<(), KindError> {
    // 3. double conversion
    let v = pid_to_vpid(IdType::Pid, r, map)?;
    let vv = pid_to_vpid(IdType::Pid, v, map)?; //~ PID003
    // 4. wrong direction
    let real = vpid_to_pid(IdType::Pid, arg, map)?;
    do_work(vpid_to_pid(IdType::Pid, real, map)?); //~ PID003
    let _ = vpid_to_pid_strict(IdType::Tgid, real, map)?; //~ PID003
    let _ = comb_vpid_to_pid(IdType::Pgid, -real, map)?; //~ PID003
    Ok(())
}

fn typed(m: LinearMapping, real: RealPid, virt: VirtPid) {
    let v = m.to_virt(real);
    let _ = m.to_real(m.to_virt(real)); // fine: virtual in, real out
    let back = RealPid::from_raw(v.as_raw()); //~ PID005
    let _ = m.to_virt(VirtPid::from_raw(virt.as_raw()).unwrap().linear_real().unwrap()); // fine
    let twice = m.to_real(m.to_real(virt).unwrap()); //~ PID003
}
