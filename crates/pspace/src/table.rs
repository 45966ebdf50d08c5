//! The global `(space, pid)` hash table: Biederman's `pid_hash`, keyed by the
//! tuple. Readers never write shared memory; one writer at a time.

use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};

use vpid_core::RawPid;

/// Bits of an entry: `space:20 | nr:22 | slot:22`.
const SLOT_BITS: u32 = 22;
const NR_BITS: u32 = 22;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// The largest space number an entry can hold (the all-ones one is the tombstone).
pub(crate) const MAX_SPACES: u32 = (1 << 20) - 1;
/// The largest slot number an entry can hold.
pub(crate) const MAX_SLOTS: u32 = 1 << SLOT_BITS;

const EMPTY: u64 = 0;
const TOMBSTONE: u64 = u64::MAX;
const MIN_CLASS_BITS: u32 = 10;
const CLASSES: usize = 16;

fn key_bits(space: u32, nr: RawPid) -> u64 {
    (u64::from(space) << (NR_BITS + SLOT_BITS)) | ((nr as u64) << SLOT_BITS)
}

/// The shared, lock-free-to-read part of the table.
///
/// Open addressing with linear probing over `AtomicU64` entries that hold key
/// and value together, so an entry is read in one load. Removal leaves a
/// tombstone (one store, safe for concurrent readers). Growing, and sweeping
/// tombstones, move entries: those two run under a sequence counter that
/// readers check, and retry on. Old, smaller tables are kept, not freed.
pub(crate) struct PidHash {
    seq: AtomicU64,
    current: AtomicUsize,
    classes: Box<[OnceLock<Box<[AtomicU64]>>]>,
    hasher: foldhash::fast::RandomState,
}

/// The writer's bookkeeping for a [`PidHash`].
#[derive(Debug, Default)]
pub(crate) struct PidHashWriter {
    live: usize,
    used: usize,
}

fn table(class: usize) -> Box<[AtomicU64]> {
    (0..1usize << (MIN_CLASS_BITS as usize + class))
        .map(|_| AtomicU64::new(EMPTY))
        .collect()
}

impl PidHash {
    pub(crate) fn new() -> Self {
        let classes: Box<[OnceLock<Box<[AtomicU64]>>]> =
            (0..CLASSES).map(|_| OnceLock::new()).collect();
        classes[0].get_or_init(|| table(0));
        Self {
            seq: AtomicU64::new(0),
            current: AtomicUsize::new(0),
            classes,
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    fn current_table(&self) -> &[AtomicU64] {
        self.classes[self.current.load(Ordering::Acquire)]
            .get()
            .expect("the current class is allocated")
    }

    #[inline]
    fn start(&self, space: u32, nr: RawPid, mask: usize) -> usize {
        (self.hasher.hash_one((space, nr)) as usize) & mask
    }

    /// The slot stored for `(space, nr)`.
    #[inline]
    pub(crate) fn get(&self, space: u32, nr: RawPid) -> Option<u32> {
        let want = key_bits(space, nr);
        loop {
            let seq = self.seq.load(Ordering::Acquire);
            if seq % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let table = self.current_table();
            let mask = table.len() - 1;
            let mut i = self.start(space, nr, mask);
            let found = loop {
                let entry = table[i].load(Ordering::Acquire);
                if entry == EMPTY {
                    break None;
                }
                if entry != TOMBSTONE && entry & !SLOT_MASK == want {
                    break Some((entry & SLOT_MASK) as u32);
                }
                i = (i + 1) & mask;
            };
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == seq {
                return found;
            }
        }
    }

    /// Stores `(space, nr) -> slot`. The key must not be present (the PID
    /// allocators guarantee it).
    pub(crate) fn insert(&self, w: &mut PidHashWriter, space: u32, nr: RawPid, slot: u32) {
        debug_assert!(space < MAX_SPACES && slot < MAX_SLOTS && nr > 0);
        let len = self.current_table().len();
        if (w.used + 1) * 4 > len * 3 {
            let class = self.current.load(Ordering::Relaxed);
            let grow = (w.live + 1) * 2 > len && class + 1 < CLASSES;
            self.rebuild(w, if grow { class + 1 } else { class });
        }
        let table = self.current_table();
        let was_empty = Self::put(
            table,
            self.start(space, nr, table.len() - 1),
            key_bits(space, nr) | u64::from(slot),
        );
        w.used += usize::from(was_empty);
        w.live += 1;
    }

    /// Removes `(space, nr)`; returns its slot.
    pub(crate) fn remove(&self, w: &mut PidHashWriter, space: u32, nr: RawPid) -> Option<u32> {
        let table = self.current_table();
        let mask = table.len() - 1;
        let want = key_bits(space, nr);
        let mut i = self.start(space, nr, mask);
        loop {
            let entry = table[i].load(Ordering::Relaxed);
            if entry == EMPTY {
                return None;
            }
            if entry != TOMBSTONE && entry & !SLOT_MASK == want {
                table[i].store(TOMBSTONE, Ordering::Release);
                w.live -= 1;
                return Some((entry & SLOT_MASK) as u32);
            }
            i = (i + 1) & mask;
        }
    }

    /// Puts `entry` in the first empty or tombstone slot from `i`; returns
    /// whether that slot was empty.
    fn put(table: &[AtomicU64], mut i: usize, entry: u64) -> bool {
        let mask = table.len() - 1;
        loop {
            let old = table[i].load(Ordering::Relaxed);
            if old == EMPTY || old == TOMBSTONE {
                table[i].store(entry, Ordering::Release);
                return old == EMPTY;
            }
            i = (i + 1) & mask;
        }
    }

    /// Moves every live entry into a clean table of size class `class`, under
    /// the sequence counter.
    fn rebuild(&self, w: &mut PidHashWriter, class: usize) {
        let old = self.current_table();
        let live: Vec<u64> = old
            .iter()
            .map(|e| e.load(Ordering::Relaxed))
            .filter(|&e| e != EMPTY && e != TOMBSTONE)
            .collect();
        // Allocate before readers are held off: a big table takes a while.
        let target = self.classes[class].get_or_init(|| table(class));
        self.seq.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        for entry in target.iter() {
            entry.store(EMPTY, Ordering::Relaxed);
        }
        let mask = target.len() - 1;
        for &entry in &live {
            let space = (entry >> (NR_BITS + SLOT_BITS)) as u32;
            let nr = ((entry >> SLOT_BITS) & ((1 << NR_BITS) - 1)) as RawPid;
            Self::put(target, self.start(space, nr, mask), entry);
        }
        self.current.store(class, Ordering::Release);
        self.seq.fetch_add(1, Ordering::Release);
        w.used = live.len();
        w.live = live.len();
    }

    /// Bytes allocated by the table, old size classes included.
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.classes
            .iter()
            .filter_map(OnceLock::get)
            .map(|t| t.len() * size_of::<AtomicU64>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;
    use std::collections::HashMap;

    #[test]
    fn grows_and_keeps_entries() {
        let hash = PidHash::new();
        let mut w = PidHashWriter::default();
        for nr in 1..5000 {
            hash.insert(&mut w, nr as u32 % 7, nr, nr as u32);
        }
        assert!(hash.allocated_bytes() > 5000 * 8);
        for nr in 1..5000 {
            assert_eq!(hash.get(nr as u32 % 7, nr), Some(nr as u32));
            assert_eq!(hash.get(nr as u32 % 7 + 1, nr), None);
        }
    }

    #[test]
    fn readers_see_every_entry_while_a_writer_churns() {
        let hash = PidHash::new();
        let mut w = PidHashWriter::default();
        for nr in 1..=100 {
            hash.insert(&mut w, 1, nr, nr as u32);
        }
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                for _ in 0..20_000 {
                    for nr in 1..=100 {
                        assert_eq!(hash.get(1, nr), Some(nr as u32));
                    }
                }
            });
            let mut round = 0;
            while !reader.is_finished() {
                round += 1;
                for nr in 1000..1400 {
                    hash.insert(&mut w, 2, nr + round % 3, 9);
                }
                for nr in 1000..1400 {
                    assert_eq!(hash.remove(&mut w, 2, nr + round % 3), Some(9));
                }
            }
        });
    }

    quickcheck! {
        fn matches_a_map(ops: Vec<(bool, u8, u16)>) -> bool {
            let hash = PidHash::new();
            let mut w = PidHashWriter::default();
            let mut model = HashMap::new();
            for (n, (insert, space, nr)) in ops.into_iter().enumerate() {
                let (space, nr) = (u32::from(space), RawPid::from(nr) + 1);
                if insert && !model.contains_key(&(space, nr)) {
                    hash.insert(&mut w, space, nr, n as u32);
                    model.insert((space, nr), n as u32);
                } else if hash.remove(&mut w, space, nr) != model.remove(&(space, nr)) {
                    return false;
                }
            }
            model.iter().all(|(&(s, nr), &v)| hash.get(s, nr) == Some(v))
        }
    }
}
