//! Generation-checked slots with validated, read-only reads.

use std::sync::atomic::{AtomicU32, Ordering, fence};

use super::ChunkedArray;

/// The name of one incarnation of a slot: its index and its generation.
/// A key whose slot was freed (and perhaps reused) never validates again.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct SlotKey {
    /// The slot's index.
    pub index: u32,
    /// The generation of this incarnation (always even).
    pub generation: u32,
}

struct Entry<T> {
    /// Odd while the slot is free or being written, even while it holds a
    /// published value; incremented at every change of incarnation.
    generation: AtomicU32,
    value: T,
}

impl<T: Default> Default for Entry<T> {
    fn default() -> Self {
        Self {
            generation: AtomicU32::new(1),
            value: T::default(),
        }
    }
}

/// Slots holding values made of atomics, read by many threads and written by
/// one writer at a time (the caller serializes writers, typically with the
/// table's one mutex, and passes its [`SlabAllocator`]).
///
/// A read is a sequence lock on the slot's generation: load the generation,
/// read the fields, load it again. A reader writes nothing shared, and a value
/// is only returned if the slot kept the same incarnation throughout.
///
/// ```
/// use pspace::blocks::{Slab, SlabAllocator};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// let slab: Slab<AtomicU32> = Slab::new(100);
/// let mut alloc = SlabAllocator::new(100);
/// let key = slab.insert(&mut alloc, |v| v.store(42, Ordering::Relaxed)).unwrap();
/// assert_eq!(slab.read(key, |v| v.load(Ordering::Relaxed)), Some(42));
/// slab.remove(&mut alloc, key);
/// assert_eq!(slab.read(key, |v| v.load(Ordering::Relaxed)), None);
/// ```
pub struct Slab<T> {
    entries: ChunkedArray<Entry<T>>,
}

/// The writer's side of a [`Slab`]: which slots are free.
#[derive(Debug)]
pub struct SlabAllocator {
    free: Vec<u32>,
    next: u32,
    capacity: u32,
}

impl SlabAllocator {
    /// An allocator for a slab of `capacity` slots.
    #[must_use]
    pub fn new(capacity: u32) -> Self {
        Self {
            free: Vec::new(),
            next: 0,
            capacity,
        }
    }

    /// The number of slots in use.
    #[must_use]
    pub fn in_use(&self) -> usize {
        self.next as usize - self.free.len()
    }
}

impl<T: Default> Slab<T> {
    /// A slab of `capacity` slots.
    #[must_use]
    pub fn new(capacity: u32) -> Self {
        Self {
            entries: ChunkedArray::new(capacity as usize),
        }
    }

    /// Takes a free slot, lets `init` fill its fields, then publishes it.
    /// `None` if every slot is in use.
    pub fn insert(&self, alloc: &mut SlabAllocator, init: impl FnOnce(&T)) -> Option<SlotKey> {
        let index = match alloc.free.pop() {
            Some(index) => index,
            None if alloc.next < alloc.capacity => {
                alloc.next += 1;
                alloc.next - 1
            }
            None => return None,
        };
        let entry = self
            .entries
            .get_or_alloc(index as usize)
            .expect("slab index below capacity");
        let odd = entry.generation.load(Ordering::Relaxed);
        debug_assert!(odd % 2 == 1, "a free slot has an odd generation");
        fence(Ordering::Release);
        init(&entry.value);
        let generation = odd.wrapping_add(1);
        entry.generation.store(generation, Ordering::Release);
        Some(SlotKey { index, generation })
    }

    /// Frees the slot of `key`: every later read with `key` fails. Returns
    /// false (and changes nothing) if `key` is not the live incarnation.
    pub fn remove(&self, alloc: &mut SlabAllocator, key: SlotKey) -> bool {
        let Some(entry) = self.entries.get(key.index as usize) else {
            return false;
        };
        if entry.generation.load(Ordering::Relaxed) != key.generation {
            return false;
        }
        entry
            .generation
            .store(key.generation.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        alloc.free.push(key.index);
        true
    }

    /// Reads the incarnation `key` with `f`: `None` if it is not (or stopped
    /// being, during the read) the live incarnation of its slot. `f` may run
    /// on fields of a later incarnation, whose result is then thrown away, so
    /// it must only load atomics.
    #[inline]
    pub fn read<R>(&self, key: SlotKey, f: impl FnOnce(&T) -> R) -> Option<R> {
        let entry = self.entries.get(key.index as usize)?;
        if entry.generation.load(Ordering::Acquire) != key.generation {
            return None;
        }
        let result = f(&entry.value);
        fence(Ordering::Acquire);
        (entry.generation.load(Ordering::Relaxed) == key.generation).then_some(result)
    }

    /// The key of the live incarnation of slot `index`, if any.
    #[inline]
    #[must_use]
    pub fn key_at(&self, index: u32) -> Option<SlotKey> {
        let generation = self
            .entries
            .get(index as usize)?
            .generation
            .load(Ordering::Acquire);
        (generation % 2 == 0).then_some(SlotKey { index, generation })
    }

    /// The fields of slot `index` whatever its incarnation, for a read nested
    /// in a validated read of something that keeps this slot's incarnation
    /// alive (so the outer validation covers it).
    #[inline]
    #[must_use]
    pub fn get_unvalidated(&self, index: u32) -> Option<&T> {
        self.entries.get(index as usize).map(|e| &e.value)
    }

    /// The fields of the live incarnation `key`, for the writer, who alone
    /// changes incarnations and so can hold the reference safely.
    #[must_use]
    pub fn get_live(&self, key: SlotKey) -> Option<&T> {
        let entry = self.entries.get(key.index as usize)?;
        (entry.generation.load(Ordering::Relaxed) == key.generation).then_some(&entry.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    #[test]
    fn full_slab_refuses() {
        let slab: Slab<AtomicU32> = Slab::new(2);
        let mut alloc = SlabAllocator::new(2);
        let a = slab.insert(&mut alloc, |_| {}).unwrap();
        slab.insert(&mut alloc, |_| {}).unwrap();
        assert!(slab.insert(&mut alloc, |_| {}).is_none());
        assert!(slab.remove(&mut alloc, a));
        assert!(!slab.remove(&mut alloc, a), "double free is refused");
        let c = slab.insert(&mut alloc, |_| {}).unwrap();
        assert_eq!(c.index, a.index);
        assert_ne!(c.generation, a.generation);
        assert_eq!(slab.key_at(a.index), Some(c));
        assert_eq!(alloc.in_use(), 2);
    }

    quickcheck! {
        fn stale_keys_never_read(ops: Vec<bool>) -> bool {
            let slab: Slab<AtomicU32> = Slab::new(8);
            let mut alloc = SlabAllocator::new(8);
            let mut live = Vec::new();
            let mut dead = Vec::new();
            for (n, insert) in ops.into_iter().enumerate() {
                if insert || live.is_empty() {
                    if let Some(k) = slab.insert(&mut alloc, |v| v.store(n as u32, Ordering::Relaxed)) {
                        live.push((k, n as u32));
                    }
                } else {
                    let (k, _) = live.swap_remove(n % live.len());
                    slab.remove(&mut alloc, k);
                    dead.push(k);
                }
            }
            live.iter().all(|(k, v)| slab.read(*k, |x| x.load(Ordering::Relaxed)) == Some(*v))
                && dead.iter().all(|k| slab.read(*k, |_| ()).is_none())
        }
    }
}
