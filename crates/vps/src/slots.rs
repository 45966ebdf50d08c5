//! Dense slot numbers for real PIDs, and the arrays indexed by them.
//!
//! A real PID never carries the marker bit (bit 10), so the arrays indexed
//! by real PID (the read index, the task and process tables) leave out every
//! marker-bit block: bits 11 and up move down one place over the marker bit.
//! That halves them, and stays a couple of shifts and masks.
//!
//! A [`SlotArray`] allocates its storage a chunk of 1024 slots at a time, on
//! the first write to the chunk, so a host pays for the PIDs it has used, not
//! for `pid_max`. A chunk, once allocated, stays (its slots keep their
//! generations). Reading a slot is two dependent loads and never writes.

use std::sync::OnceLock;

use vpid_core::{RealPid, VPID_DIV};

/// The low bits kept in place: those below the marker bit.
const LOW_MASK: usize = VPID_DIV as usize - 1;
/// The marker bit's position.
const MARKER_SHIFT: u32 = VPID_DIV.trailing_zeros();

/// The slot of a real PID: `(pid & 1023) | ((pid >> 11) << 10)`.
#[inline]
pub(crate) fn slot_of(pid: RealPid) -> usize {
    // raw = hi·2048 + lo (lo < 1024), slot = hi·1024 + lo = raw - hi·1024.
    let raw = pid.as_raw() as u32 as usize;
    raw - ((raw >> 1) & !LOW_MASK)
}

/// The real PID in a slot (the inverse of [`slot_of`]); `None` for slot 0.
#[inline]
pub(crate) fn pid_of(slot: usize) -> Option<RealPid> {
    let raw = (slot & LOW_MASK) | ((slot >> MARKER_SHIFT) << (MARKER_SHIFT + 1));
    RealPid::from_raw(i32::try_from(raw).ok()?)
}

/// How many slots the real PIDs below `pid_max` take: every number below it
/// without the marker bit, 0 included.
pub(crate) fn slot_count(pid_max: i32) -> usize {
    let max = usize::try_from(pid_max).unwrap_or(0);
    let block = 2 * (LOW_MASK + 1);
    (max / block) * (LOW_MASK + 1) + (max % block).min(LOW_MASK + 1)
}

const CHUNK_SHIFT: u32 = 10;
const CHUNK: usize = 1 << CHUNK_SHIFT;

/// An array of `len` slots, allocated a chunk at a time on first write; an
/// unallocated slot reads as absent. See the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct SlotArray<T> {
    chunks: Box<[OnceLock<Box<[T]>>]>,
    len: usize,
}

impl<T: Default> SlotArray<T> {
    /// An array of `len` slots with nothing allocated.
    pub(crate) fn new(len: usize) -> Self {
        SlotArray {
            chunks: (0..len.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
            len,
        }
    }

    /// Slot `i`, if its chunk is allocated.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks
            .get(i >> CHUNK_SHIFT)?
            .get()?
            .get(i & (CHUNK - 1))
    }

    fn new_chunk(&self, chunk: usize) -> Box<[T]> {
        let size = CHUNK.min(self.len - chunk * CHUNK);
        (0..size).map(|_| T::default()).collect()
    }

    /// Slot `i` for writing, if its chunk is allocated.
    #[inline]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks
            .get_mut(i >> CHUNK_SHIFT)?
            .get_mut()?
            .get_mut(i & (CHUNK - 1))
    }

    /// Slot `i` for writing, allocating its chunk if needed. Panics if `i`
    /// is out of range.
    #[inline]
    pub(crate) fn get_mut_or_alloc(&mut self, i: usize) -> &mut T {
        let chunk = i >> CHUNK_SHIFT;
        if self.chunks[chunk].get().is_none() {
            self.alloc_chunk(chunk);
        }
        let slots = self.chunks[chunk].get_mut().expect("allocated above");
        &mut slots[i & (CHUNK - 1)]
    }

    #[cold]
    #[inline(never)]
    fn alloc_chunk(&mut self, chunk: usize) {
        let fresh = self.new_chunk(chunk);
        let _ = self.chunks[chunk].set(fresh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_array_allocates_on_write_only() {
        let mut a: SlotArray<u32> = SlotArray::new(2500);
        assert_eq!(a.get(5), None);
        assert_eq!(a.get_mut(5), None);
        *a.get_mut_or_alloc(2499) = 7;
        assert_eq!(a.get(2499), Some(&7));
        assert_eq!(
            a.get(2048),
            Some(&0),
            "the rest of the chunk reads as default"
        );
        assert_eq!(a.get(2500), None, "past the end");
        assert_eq!(a.get(1000), None, "another chunk");
        *a.get_mut_or_alloc(1000) = 3;
        assert_eq!(a.get(1000), Some(&3));
        assert_eq!(a.get(1023), Some(&0));
    }

    #[test]
    fn slots_are_dense_and_reversible() {
        let mut next = 1;
        for raw in 1..9000 {
            if let Some(pid) = RealPid::from_raw(raw) {
                assert_eq!(slot_of(pid), next, "{raw}");
                assert_eq!(pid_of(next), Some(pid));
                next += 1;
            }
            assert_eq!(slot_count(raw + 1), next, "pid_max {}", raw + 1);
        }
        assert_eq!(pid_of(0), None);
        assert_eq!(slot_count(4_194_304), 2_097_152);
    }
}
