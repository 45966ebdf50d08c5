//! Building blocks shared by the two rival designs (this crate and `pidns`).
//!
//! Both rivals use exactly the same machinery for everything that is not the
//! point of the comparison (task slots, PID bitmaps, member lists), so that the
//! benchmarks measure the designs' costs and not differences in implementation
//! care:
//!
//! - [`ChunkedArray`]: a fixed-capacity array whose chunks are allocated on
//!   first use; reading an element is a few plain loads.
//! - [`Slab`]: generation-checked slots with seqlock-style validated reads, so
//!   a reader never writes shared memory and never sees a recycled slot.
//! - [`PidBitmap`]: the classic cyclic PID allocator with lazily allocated
//!   4 KiB pages, as Linux's `alloc_pidmap`.
//! - [`Members`]: sets of slot numbers (a process group, a parent's children)
//!   with O(1) insertion and removal, for the writer side.

mod bitmap;
mod chunked;
mod members;
mod slab;

pub use bitmap::PidBitmap;
pub use chunked::{CHUNK_LEN, ChunkedArray};
pub use members::Members;
pub use slab::{Slab, SlabAllocator, SlotKey};
