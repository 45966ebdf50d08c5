//! `quickcheck::Arbitrary` for the PID types (feature `quickcheck`).

use quickcheck::{Arbitrary, Gen};

use crate::pid::{AnyPid, RealPid, VirtPid};
use crate::{Context, IdType, PID_MAX_DEFAULT, PID_MAX_LIMIT, VPID_DIV};

fn below(g: &mut Gen, limit: i32) -> i32 {
    // Mostly small numbers, near the default pid_max; sometimes up to the limit.
    let bound = if bool::arbitrary(g) {
        PID_MAX_DEFAULT
    } else {
        limit
    };
    (u32::arbitrary(g) % bound as u32) as i32
}

impl Arbitrary for RealPid {
    fn arbitrary(g: &mut Gen) -> Self {
        let raw = below(g, PID_MAX_LIMIT) & !VPID_DIV;
        RealPid::from_raw(raw.max(1)).unwrap_or(RealPid::INIT)
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(self.as_raw().shrink().filter_map(RealPid::from_raw))
    }
}

impl Arbitrary for VirtPid {
    fn arbitrary(g: &mut Gen) -> Self {
        if u8::arbitrary(g) % 8 == 0 {
            return VirtPid::INIT;
        }
        VirtPid::from_raw(below(g, PID_MAX_LIMIT) | VPID_DIV).unwrap_or(VirtPid::INIT)
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(self.as_raw().shrink().filter_map(VirtPid::from_raw))
    }
}

impl Arbitrary for AnyPid {
    fn arbitrary(g: &mut Gen) -> Self {
        if bool::arbitrary(g) {
            AnyPid::Real(RealPid::arbitrary(g))
        } else {
            AnyPid::Virtual(VirtPid::arbitrary(g))
        }
    }
}

impl Arbitrary for IdType {
    fn arbitrary(g: &mut Gen) -> Self {
        *g.choose(&IdType::ALL).unwrap_or(&IdType::Pid)
    }
}

impl Arbitrary for Context {
    fn arbitrary(g: &mut Gen) -> Self {
        if bool::arbitrary(g) {
            Context::Host
        } else {
            Context::Vps
        }
    }
}
