//! The populations and random inputs the benchmarks and tests share.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vpid_core::{Errno, RawPid, VPID_DIV};

use crate::design::Design;

/// `pid_max` of every benchmark host: room for 32,000 tasks in a container
/// in every design (the marker-bit design leaves half the numbers unused).
pub const BENCH_PID_MAX: RawPid = 1 << 17;

/// A container holding `n` tasks forked by its init.
pub struct Population<D: Design> {
    /// The host.
    pub design: D,
    /// The container's init.
    pub init: D::Task,
    /// The init's number on the host.
    pub init_host_pid: RawPid,
    /// The tasks, children of `init`.
    pub tasks: Vec<D::Task>,
    /// Their numbers as `init` sees them, in the same order.
    pub pids: Vec<RawPid>,
}

/// Numbers a container can choose in every design: they carry the marker
/// bit, which the marker-bit design asks of a virtual PID.
pub fn choosable_pids() -> impl Iterator<Item = RawPid> {
    (VPID_DIV..BENCH_PID_MAX).filter(|nr| nr & VPID_DIV != 0)
}

impl<D: Design> Population<D> {
    /// A host with one container of `n` tasks; with `chosen`, every task is
    /// forked with a chosen number (a sparse mapping in the marker-bit
    /// design), else the design numbers them.
    pub fn new(n: usize, chosen: bool) -> Result<Self, Errno> {
        let design = D::with_pid_max(BENCH_PID_MAX)?;
        let container = design.create_container(1)?;
        let mut numbers = choosable_pids();
        let mut tasks = Vec::with_capacity(n);
        let mut pids = Vec::with_capacity(n);
        for _ in 0..n {
            let wanted = if chosen { numbers.next() } else { None };
            let f = design.fork(container.child, wanted)?;
            tasks.push(f.child);
            pids.push(f.pid);
        }
        Ok(Self {
            design,
            init: container.child,
            init_host_pid: container.pid,
            tasks,
            pids,
        })
    }
}

/// `count` indices below `n`, uniformly random with a fixed seed.
#[must_use]
pub fn random_indices(n: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(|_| rng.random_range(0..n)).collect()
}

/// The numbers of `pids` picked by `indices`.
#[must_use]
pub fn pick(pids: &[RawPid], indices: &[usize]) -> Vec<RawPid> {
    indices.iter().map(|&i| pids[i]).collect()
}

/// A xorshift64 generator: one shift-xor round per number, cheap enough to
/// sit inside a measured loop.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed (0 is replaced).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next number.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choosable_pids_carry_the_marker_bit() {
        let first: Vec<_> = choosable_pids().take(3).collect();
        assert_eq!(first, vec![1024, 1025, 1026]);
        assert!(choosable_pids().all(|nr| nr & VPID_DIV != 0 && nr < BENCH_PID_MAX));
        assert!(choosable_pids().count() >= 32_000);
    }

    #[test]
    fn random_indices_are_in_range_and_repeatable() {
        let a = random_indices(10, 100, 7);
        assert!(a.iter().all(|&i| i < 10));
        assert_eq!(a, random_indices(10, 100, 7));
        assert_eq!(pick(&[5, 6, 7], &[2, 0]), vec![7, 5]);
    }

    #[test]
    fn xorshift_moves() {
        let mut r = XorShift::new(0);
        let (a, b) = (r.next_u64(), r.next_u64());
        assert_ne!(a, b);
        assert_ne!(a, 0);
    }
}
