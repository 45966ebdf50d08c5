// Near-misses: vpid-core's own bit arithmetic (checked as if it were in
// vpid-check-test: path=crates/vpid-core/src/pid.rs
// crates/vpid-core/src: the UI test gives this fixture that path).
use crate::VPID_DIV;

pub struct RealPid(core::num::NonZeroI32);
pub struct VirtPid(core::num::NonZeroI32);

impl RealPid {
    pub const fn to_linear_virt(self) -> VirtPid {
        VirtPid(nonzero(self.0.get() | VPID_DIV))
    }
}

impl VirtPid {
    pub const fn linear_real(self) -> Option<RealPid> {
        let raw = self.0.get() & !VPID_DIV;
        if raw == 0 { None } else { Some(RealPid(nonzero(raw))) }
    }
}

pub const fn has_marker_bit(raw: i32) -> bool {
    raw & VPID_DIV != 0
}
