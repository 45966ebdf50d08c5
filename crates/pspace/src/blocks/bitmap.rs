//! The classic cyclic PID allocator: a bitmap in lazily allocated pages.

use vpid_core::{Errno, RESERVED_PIDS, RawPid};

/// Bits in one page: one 4 KiB page, as Linux's `pidmap` pages.
const PAGE_BITS: usize = 4096 * 8;
const PAGE_WORDS: usize = PAGE_BITS / 64;

/// A PID bitmap for numbers `1..pid_max`, allocated cyclically as Linux's
/// `alloc_pidmap`: after the last number handed out, wrapping to
/// [`RESERVED_PIDS`] at `pid_max`. Pages are allocated on first use, so a
/// space that holds a few processes costs one page whatever its `pid_max`.
///
/// ```
/// use pspace::blocks::PidBitmap;
/// use vpid_core::Errno;
///
/// let mut map = PidBitmap::new(400);
/// assert_eq!(map.alloc(), Some(1));
/// assert_eq!(map.alloc(), Some(2));
/// assert_eq!(map.alloc_exact(2), Err(Errno::EEXIST));
/// assert_eq!(map.alloc_exact(400), Err(Errno::EINVAL));
/// map.free(1);
/// assert_eq!(map.alloc(), Some(3)); // cyclic: 1 comes back only after a wrap
/// ```
#[derive(Debug)]
pub struct PidBitmap {
    pages: Vec<Option<Box<[u64]>>>,
    pid_max: RawPid,
    last: RawPid,
    used: u32,
}

impl PidBitmap {
    /// An empty bitmap for the numbers `1..pid_max`. `pid_max` must be above
    /// [`RESERVED_PIDS`]; callers check it (EINVAL) before.
    #[must_use]
    pub fn new(pid_max: RawPid) -> Self {
        debug_assert!(pid_max > RESERVED_PIDS);
        let pages = (pid_max as usize).div_ceil(PAGE_BITS);
        Self {
            pages: (0..pages).map(|_| None).collect(),
            pid_max,
            last: 0,
            used: 0,
        }
    }

    /// The upper bound (exclusive) of the numbers.
    #[must_use]
    pub fn pid_max(&self) -> RawPid {
        self.pid_max
    }

    /// How many numbers are allocated.
    #[must_use]
    pub fn used(&self) -> u32 {
        self.used
    }

    /// Whether `nr` is allocated.
    #[must_use]
    pub fn contains(&self, nr: RawPid) -> bool {
        if nr < 1 || nr >= self.pid_max {
            return false;
        }
        let bit = nr as usize;
        self.pages[bit / PAGE_BITS]
            .as_ref()
            .is_some_and(|page| page[(bit % PAGE_BITS) / 64] & (1 << (bit % 64)) != 0)
    }

    /// Allocates the next free number after the last one handed out,
    /// wrapping to [`RESERVED_PIDS`]; `None` if every number is taken.
    pub fn alloc(&mut self) -> Option<RawPid> {
        let mut start = self.last + 1;
        if start >= self.pid_max {
            start = RESERVED_PIDS;
        }
        let nr = self
            .find_free(start, self.pid_max)
            .or_else(|| self.find_free(RESERVED_PIDS, start))?;
        self.set(nr);
        self.last = nr;
        Some(nr)
    }

    /// Allocates exactly `nr` (a chosen PID), leaving the cursor alone:
    /// EINVAL outside `1..pid_max`, EEXIST if taken.
    pub fn alloc_exact(&mut self, nr: RawPid) -> Result<(), Errno> {
        if nr < 1 || nr >= self.pid_max {
            return Err(Errno::EINVAL);
        }
        if self.contains(nr) {
            return Err(Errno::EEXIST);
        }
        self.set(nr);
        Ok(())
    }

    /// Frees `nr`; returns false if it was not allocated.
    pub fn free(&mut self, nr: RawPid) -> bool {
        if !self.contains(nr) {
            return false;
        }
        let bit = nr as usize;
        if let Some(page) = self.pages[bit / PAGE_BITS].as_mut() {
            page[(bit % PAGE_BITS) / 64] &= !(1 << (bit % 64));
        }
        self.used -= 1;
        true
    }

    fn set(&mut self, nr: RawPid) {
        let bit = nr as usize;
        let page = self.pages[bit / PAGE_BITS].get_or_insert_with(|| vec![0; PAGE_WORDS].into());
        page[(bit % PAGE_BITS) / 64] |= 1 << (bit % 64);
        self.used += 1;
    }

    /// The first free number in `from..to`.
    fn find_free(&self, from: RawPid, to: RawPid) -> Option<RawPid> {
        let (from, to) = (from.max(1) as usize, to as usize);
        let mut bit = from;
        while bit < to {
            let Some(page) = &self.pages[bit / PAGE_BITS] else {
                return Some(bit as RawPid);
            };
            let word_index = (bit % PAGE_BITS) / 64;
            let free = !page[word_index] & (!0u64 << (bit % 64));
            if free != 0 {
                let found = bit - bit % 64 + free.trailing_zeros() as usize;
                return (found < to).then_some(found as RawPid);
            }
            bit = bit - bit % 64 + 64;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;
    use std::collections::BTreeSet;

    #[test]
    fn wraps_to_reserved_pids() {
        let mut map = PidBitmap::new(RESERVED_PIDS + 3);
        let first: Vec<_> = std::iter::from_fn(|| map.alloc()).collect();
        assert_eq!(first.len(), (RESERVED_PIDS + 2) as usize);
        assert_eq!(map.alloc(), None);
        map.free(5);
        assert_eq!(map.alloc(), None, "below RESERVED_PIDS is not reused");
        map.free(RESERVED_PIDS + 1);
        assert_eq!(map.alloc(), Some(RESERVED_PIDS + 1));
    }

    #[test]
    fn large_space_uses_one_page_for_few_pids() {
        let mut map = PidBitmap::new(vpid_core::PID_MAX_LIMIT);
        for _ in 0..100 {
            map.alloc().unwrap();
        }
        assert_eq!(map.pages.iter().filter(|p| p.is_some()).count(), 1);
        assert_eq!(map.used(), 100);
    }

    quickcheck! {
        fn matches_a_set_model(ops: Vec<(bool, u16)>) -> bool {
            let pid_max = 2000;
            let mut map = PidBitmap::new(pid_max);
            let mut model = BTreeSet::new();
            for (alloc, n) in ops {
                if alloc {
                    match map.alloc() {
                        Some(nr) => { if !model.insert(nr) { return false; } }
                        None => { if model.len() < (pid_max - RESERVED_PIDS) as usize { return false; } }
                    }
                } else {
                    let nr = RawPid::from(n) % pid_max;
                    if map.free(nr) != model.remove(&nr) { return false; }
                }
            }
            model.iter().all(|nr| map.contains(*nr)) && map.used() as usize == model.len()
        }
    }
}
