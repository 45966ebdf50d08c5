//! The real PID allocator, as OpenVZ's `alloc_pidmap`: a bitmap searched
//! cyclically from the last PID handed out, skipping every number that carries
//! the marker bit, wrapping to `RESERVED_PIDS`, never returning 0, and giving up
//! with `EAGAIN` after one lap.

use vpid_core::{Errno, RESERVED_PIDS, RealPid, VPID_DIV, has_marker_bit};

/// A bitmap of the real PIDs in use below `pid_max`.
///
/// A number is "in use" while a task has it as its PID, or a process group or
/// session has it as its ID: the table decides, and frees a number only when
/// none of the three holds it.
#[derive(Clone, Debug)]
pub(crate) struct PidAllocator {
    words: Vec<u64>,
    pid_max: i32,
    last: i32,
}

impl PidAllocator {
    /// An allocator for `1..pid_max` with nothing in use; the first PID
    /// handed out is 1.
    pub(crate) fn new(pid_max: i32) -> Self {
        let words = (pid_max as usize).div_ceil(64);
        PidAllocator {
            words: vec![0; words],
            pid_max,
            last: 0,
        }
    }

    /// The cursor: the last PID handed out (OpenVZ's `last_pid`).
    pub(crate) fn last(&self) -> i32 {
        self.last
    }

    /// Moves the cursor, as OpenVZ's sparse vpid probe does.
    pub(crate) fn set_last(&mut self, last: i32) {
        self.last = last;
    }

    /// Whether `pid` is in use.
    pub(crate) fn is_used(&self, pid: i32) -> bool {
        pid > 0 && pid < self.pid_max && self.words[pid as usize / 64] & (1 << (pid % 64)) != 0
    }

    fn set(&mut self, pid: i32, used: bool) {
        let word = &mut self.words[pid as usize / 64];
        let bit = 1u64 << (pid % 64);
        if used {
            *word |= bit;
        } else {
            *word &= !bit;
        }
    }

    /// The next candidate after `pid`: skip marker-bit blocks, wrap at
    /// `pid_max` to `RESERVED_PIDS`.
    fn step(&self, pid: i32) -> i32 {
        let mut next = pid + 1;
        if has_marker_bit(next) {
            next += VPID_DIV;
        }
        if next >= self.pid_max {
            next = RESERVED_PIDS;
        }
        next
    }

    /// The first free number in `lo..hi` without the marker bit, scanning a
    /// word (64 numbers) at a time.
    fn find_free(&self, lo: i32, hi: i32) -> Option<i32> {
        let mut pid = lo;
        while pid < hi {
            let run_end = ((pid | (VPID_DIV - 1)) + 1).min(hi);
            if has_marker_bit(pid) {
                pid = run_end;
                continue;
            }
            let mut p = pid;
            while p < run_end {
                let word = self.words[p as usize / 64] | ((1u64 << (p % 64)) - 1);
                if word != u64::MAX {
                    let found = (p & !63) + word.trailing_ones() as i32;
                    if found < run_end {
                        return Some(found);
                    }
                    break;
                }
                p = (p & !63) + 64;
            }
            pid = run_end;
        }
        None
    }

    /// Hands out the next free real PID after the cursor, or `EAGAIN` when
    /// one lap (`start..pid_max`, then `RESERVED_PIDS..start`) finds none.
    pub(crate) fn alloc(&mut self) -> Result<RealPid, Errno> {
        let start = self.step(self.last);
        let found = self
            .find_free(start, self.pid_max)
            .or_else(|| self.find_free(RESERVED_PIDS, start))
            .ok_or(Errno::EAGAIN)?;
        self.set(found, true);
        self.last = found;
        RealPid::from_raw(found).ok_or(Errno::EAGAIN)
    }

    /// Hands out `n` real PIDs, or none at all: on `EAGAIN` every PID taken
    /// is freed again and the cursor is put back, so the bitmap is as before.
    pub(crate) fn alloc_many(&mut self, n: usize) -> Result<Vec<RealPid>, Errno> {
        let cursor = self.last;
        let mut pids = Vec::with_capacity(n);
        for _ in 0..n {
            match self.alloc() {
                Ok(pid) => pids.push(pid),
                Err(e) => {
                    for pid in pids {
                        self.set(pid.as_raw(), false);
                    }
                    self.last = cursor;
                    return Err(e);
                }
            }
        }
        Ok(pids)
    }

    /// Frees `pid`. Freeing the host init or a number not in use is a bug in
    /// the table, which it reports instead of corrupting the bitmap.
    pub(crate) fn free(&mut self, pid: RealPid) -> Result<(), Errno> {
        let raw = pid.as_raw();
        if pid.is_host_init() || !self.is_used(raw) {
            return Err(Errno::EINVAL);
        }
        self.set(raw, false);
        Ok(())
    }

    /// How many numbers are in use.
    pub(crate) fn used(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple_next(used: &[bool], last: i32, pid_max: i32) -> Option<i32> {
        let mut pid = last;
        for _ in 0..pid_max {
            pid += 1;
            if pid & VPID_DIV != 0 {
                pid += VPID_DIV;
            }
            if pid >= pid_max {
                pid = RESERVED_PIDS;
            }
            if !used[pid as usize] {
                return Some(pid);
            }
        }
        None
    }

    #[test]
    fn first_pids_and_marker_skip() {
        let mut a = PidAllocator::new(5000);
        assert_eq!(a.alloc().unwrap().as_raw(), 1);
        assert_eq!(a.alloc().unwrap().as_raw(), 2);
        a.set_last(1023);
        assert_eq!(a.alloc().unwrap().as_raw(), 2048);
        a.set_last(4999);
        assert_eq!(a.alloc().unwrap().as_raw(), 300);
    }

    #[test]
    fn exhaustion_then_reuse() {
        let mut a = PidAllocator::new(3000);
        let mut got = Vec::new();
        while let Ok(p) = a.alloc() {
            got.push(p);
        }
        // 1..=1023 and 2048..=2999
        assert_eq!(got.len(), 1023 + 952);
        assert!(got.iter().all(|p| p.as_raw() & VPID_DIV == 0));
        assert_eq!(a.alloc(), Err(Errno::EAGAIN));
        let p = RealPid::from_raw(500).unwrap();
        a.free(p).unwrap();
        assert_eq!(a.alloc(), Ok(p));
        assert_eq!(a.free(RealPid::INIT), Err(Errno::EINVAL));
    }

    quickcheck::quickcheck! {
        fn matches_a_plain_scan(ops: Vec<(bool, u16)>, pid_max_seed: u16) -> bool {
            let pid_max = 301 + i32::from(pid_max_seed % 6000);
            let mut a = PidAllocator::new(pid_max);
            let mut used = vec![false; pid_max as usize];
            for (free, n) in ops {
                if free {
                    let pid = 2 + i32::from(n) % (pid_max - 2);
                    if let Some(p) = RealPid::from_raw(pid) {
                        if used[pid as usize] {
                            used[pid as usize] = false;
                            if a.free(p).is_err() { return false; }
                        }
                    }
                } else {
                    let want = simple_next(&used, a.last(), pid_max);
                    let got = a.alloc().ok().map(RealPid::as_raw);
                    if got != want { return false; }
                    if let Some(p) = got { used[p as usize] = true; }
                }
            }
            true
        }
    }

    #[test]
    fn alloc_many_takes_all_or_nothing() {
        let mut a = PidAllocator::new(400);
        let first = a.alloc_many(3).expect("room for three");
        assert_eq!(
            first.iter().map(|p| p.as_raw()).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let (used, cursor) = (a.used(), a.last());
        assert_eq!(a.alloc_many(1000), Err(Errno::EAGAIN));
        assert_eq!(
            (a.used(), a.last()),
            (used, cursor),
            "nothing taken, cursor back"
        );
        assert_eq!(a.alloc().map(|p| p.as_raw()), Ok(4));
    }
}
