//! Quickcheck properties of the PID kinds and the linear conversions.

use quickcheck::{QuickCheck, TestResult};
use vpid_core::convert::{
    check_freeable, comb_pid_to_vpid, comb_vpid_to_pid, pid_to_vpid, vpid_to_pid,
    vpid_to_pid_strict,
};
use vpid_core::{
    Context, IdType, Kind, KindError, LinearMapping, RealPid, Target, VPID_DIV, VirtPid, classify,
    has_marker_bit, is_virtual_pid,
};

const EDGES: [i32; 12] = [
    i32::MIN,
    i32::MIN + 1,
    -1025,
    -1,
    0,
    1,
    2,
    1023,
    1024,
    1025,
    vpid_core::PID_MAX_LIMIT,
    i32::MAX,
];

fn qc() -> QuickCheck {
    QuickCheck::new().tests(10_000)
}

fn mapping(init: RealPid) -> Option<LinearMapping> {
    Some(LinearMapping::new(init))
}

#[test]
fn real_virtual_real_is_identity() {
    fn prop(init: RealPid, real: RealPid, id: IdType) -> TestResult {
        // Real PID 1 is the host init: never a VPS's task, and 1 reads as
        // virtual inside a VPS.
        if init.is_host_init() || real.is_host_init() {
            return TestResult::discard();
        }
        let map = LinearMapping::new(init);
        let virt = map.to_virt(real);
        if map.to_real(virt) != Some(real) {
            return TestResult::failed();
        }
        // And through the raw functions.
        let raw_virt = pid_to_vpid(id, real.as_raw(), Some(map));
        let back = raw_virt.and_then(|v| vpid_to_pid(id, v, Some(map)));
        TestResult::from_bool(back == Ok(real.as_raw()))
    }
    qc().quickcheck(prop as fn(RealPid, RealPid, IdType) -> TestResult);
}

#[test]
fn no_valid_real_pid_has_the_marker_bit() {
    fn prop(raw: i32) -> bool {
        match RealPid::from_raw(raw) {
            Some(p) => !has_marker_bit(p.as_raw()) && p.as_raw() > 0,
            None => raw <= 0 || has_marker_bit(raw) || raw >= vpid_core::PID_MAX_LIMIT,
        }
    }
    qc().quickcheck(prop as fn(i32) -> bool);
    for raw in EDGES {
        assert!(prop(raw), "{raw}");
    }
}

#[test]
fn every_virtual_pid_is_one_or_marked() {
    fn prop(raw: i32) -> bool {
        match VirtPid::from_raw(raw) {
            Some(v) => v.as_raw() == 1 || has_marker_bit(v.as_raw()),
            None => {
                raw != 1 && (raw <= 0 || !has_marker_bit(raw) || raw >= vpid_core::PID_MAX_LIMIT)
            }
        }
    }
    qc().quickcheck(prop as fn(i32) -> bool);
    for raw in EDGES {
        assert!(prop(raw), "{raw}");
    }
}

/// Every conversion of every i32, in both contexts: an answer or an error,
/// never a panic; and a wrong kind is always an error.
#[test]
fn wrong_kind_is_an_error_never_a_panic() {
    fn check(init: RealPid, raw: i32, id: IdType) -> bool {
        for map in [None, mapping(init)] {
            let ctx = if map.is_some() {
                Context::Vps
            } else {
                Context::Host
            };
            let to_v = pid_to_vpid(id, raw, map);
            let to_r = vpid_to_pid(id, raw, map);
            let strict = vpid_to_pid_strict(id, raw, map);
            let _ = comb_pid_to_vpid(id, raw, map);
            let _ = comb_vpid_to_pid(id, raw, map);
            let _ = check_freeable(raw);
            let _ = classify(raw, ctx);
            if raw > 0 && is_virtual_pid(raw, ctx) {
                // Already virtual: converting it to virtual is the BUG_ON case.
                if to_v
                    != Err(KindError::WrongKind {
                        expected: Kind::Real,
                        got: raw,
                    })
                {
                    return false;
                }
            }
            if raw > 0 && !is_virtual_pid(raw, ctx) {
                // A real number passes through vpid_to_pid, but the strict form refuses it.
                if raw < vpid_core::PID_MAX_LIMIT && to_r != Ok(raw) {
                    return false;
                }
                if strict.is_ok() {
                    return false;
                }
            }
            if raw <= 0 && (to_v != Ok(raw) || to_r != Ok(raw)) {
                return false;
            }
        }
        true
    }
    fn prop(init: RealPid, raw: i32, id: IdType) -> bool {
        check(init, raw, id)
    }
    qc().quickcheck(prop as fn(RealPid, i32, IdType) -> bool);
    for raw in EDGES {
        for id in IdType::ALL {
            assert!(check(RealPid::from_raw(300).unwrap(), raw, id), "{raw}");
            assert!(check(RealPid::INIT, raw, id), "{raw}");
        }
    }
}

#[test]
fn negatives_keep_their_sign() {
    fn prop(init: RealPid, real: RealPid, id: IdType) -> TestResult {
        if init.is_host_init() || real.is_host_init() {
            return TestResult::discard();
        }
        let map = mapping(init);
        let neg = -real.as_raw();
        let v = comb_pid_to_vpid(id, neg, map).expect("a real group converts");
        let back = comb_vpid_to_pid(id, v, map).expect("and back");
        TestResult::from_bool(
            v < 0 && back == neg && comb_pid_to_vpid(id, real.as_raw(), map) == Ok(-v),
        )
    }
    qc().quickcheck(prop as fn(RealPid, RealPid, IdType) -> TestResult);
    assert!(comb_vpid_to_pid(IdType::Pgid, i32::MIN, None).is_err());
    assert_eq!(comb_vpid_to_pid(IdType::Pgid, 0, None), Ok(0));
}

#[test]
fn init_alias_never_resolves() {
    fn prop(init: RealPid, id: IdType) -> bool {
        let map = LinearMapping::new(init);
        let alias = init.to_linear_virt();
        map.to_real(alias).is_none()
            && vpid_to_pid(id, alias.as_raw(), Some(map)).is_err()
            && map.to_real(VirtPid::INIT) == Some(init)
    }
    qc().quickcheck(prop as fn(RealPid, IdType) -> bool);
}

#[test]
fn host_sees_no_virtual_numbers() {
    fn prop(v: VirtPid, id: IdType) -> bool {
        v.is_init() || vpid_to_pid(id, v.as_raw(), None).is_err()
    }
    qc().quickcheck(prop as fn(VirtPid, IdType) -> bool);
}

#[test]
fn classify_agrees_with_the_typed_constructors() {
    fn prop(raw: i32) -> bool {
        [Context::Host, Context::Vps]
            .into_iter()
            .all(|ctx| match classify(raw, ctx) {
                Target::Pid(p) => {
                    p.as_raw() == raw && (p.kind() == Kind::Virtual) == is_virtual_pid(raw, ctx)
                }
                Target::Group(p) => raw < -1 && p.as_raw() == -raw,
                Target::Caller => raw == 0,
                Target::Everyone => raw == -1,
                Target::Invalid(r) => r == raw,
            })
    }
    qc().quickcheck(prop as fn(i32) -> bool);
    for raw in EDGES {
        assert!(prop(raw), "{raw}");
    }
}

#[test]
fn linear_conversion_is_the_bit() {
    fn prop(real: RealPid) -> bool {
        real.to_linear_virt().as_raw() == real.as_raw() + VPID_DIV
    }
    qc().quickcheck(prop as fn(RealPid) -> bool);
}
