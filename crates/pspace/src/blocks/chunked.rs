//! A fixed-capacity array allocated one chunk at a time.

use std::sync::OnceLock;

/// The number of elements in one chunk.
pub const CHUNK_LEN: usize = 1 << CHUNK_SHIFT;
const CHUNK_SHIFT: u32 = 10;
const CHUNK_MASK: usize = CHUNK_LEN - 1;

/// An array of `capacity` elements whose chunks of [`CHUNK_LEN`] elements are
/// allocated the first time a writer touches them, and never freed before the
/// array is dropped. Reading an element costs two dependent loads and never
/// writes shared memory, so many threads can read while one writes.
///
/// ```
/// use pspace::blocks::ChunkedArray;
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// let array: ChunkedArray<AtomicU32> = ChunkedArray::new(5000);
/// assert!(array.get(4000).is_none()); // chunk not allocated yet
/// array.get_or_alloc(4000).unwrap().store(7, Ordering::Relaxed);
/// assert_eq!(array.get(4000).unwrap().load(Ordering::Relaxed), 7);
/// assert!(array.get_or_alloc(5000).is_none()); // out of range
/// ```
pub struct ChunkedArray<T> {
    chunks: Box<[OnceLock<Box<[T]>>]>,
    capacity: usize,
}

impl<T: Default> ChunkedArray<T> {
    /// An array of `capacity` elements, none allocated yet.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let chunks = (0..capacity.div_ceil(CHUNK_LEN))
            .map(|_| OnceLock::new())
            .collect();
        Self { chunks, capacity }
    }

    /// The element at `index`, or `None` if its chunk was never allocated or
    /// `index` is out of range.
    #[inline]
    #[must_use]
    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks
            .get(index >> CHUNK_SHIFT)?
            .get()
            .map(|chunk| &chunk[index & CHUNK_MASK])
            .filter(|_| index < self.capacity)
    }

    /// The element at `index`, allocating its chunk (default elements) if
    /// needed; `None` only if `index` is out of range.
    pub fn get_or_alloc(&self, index: usize) -> Option<&T> {
        if index >= self.capacity {
            return None;
        }
        let chunk = self.chunks[index >> CHUNK_SHIFT]
            .get_or_init(|| (0..CHUNK_LEN).map(|_| T::default()).collect());
        Some(&chunk[index & CHUNK_MASK])
    }

    /// The number of elements the array can hold.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of chunks allocated so far.
    #[must_use]
    pub fn allocated_chunks(&self) -> usize {
        self.chunks.iter().filter(|c| c.get().is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn chunks_are_allocated_on_demand() {
        let a: ChunkedArray<AtomicU64> = ChunkedArray::new(3 * CHUNK_LEN);
        assert_eq!(a.allocated_chunks(), 0);
        a.get_or_alloc(CHUNK_LEN + 1).unwrap();
        assert_eq!(a.allocated_chunks(), 1);
        assert!(a.get(0).is_none());
        assert!(a.get(CHUNK_LEN).is_some());
        assert_eq!(a.capacity(), 3 * CHUNK_LEN);
    }

    quickcheck! {
        fn stored_values_read_back(writes: Vec<(u16, u64)>) -> bool {
            let a: ChunkedArray<AtomicU64> = ChunkedArray::new(40_000);
            let mut model = std::collections::HashMap::new();
            for (i, v) in &writes {
                a.get_or_alloc(usize::from(*i) % 40_000).unwrap().store(*v, Ordering::Relaxed);
                model.insert(usize::from(*i) % 40_000, *v);
            }
            model.iter().all(|(i, v)| a.get(*i).map(|x| x.load(Ordering::Relaxed)) == Some(*v))
        }
    }
}
