//! The lock-free read index: what `getpid`, `gettid`, `lookup` and `pid_of`
//! read without taking the table lock and without writing to shared memory.
//!
//! The index is a *copy* of part of the table, kept up to date by the table's
//! mutex holder (the only writer). It has two arrays:
//!
//! - one [`TaskSlot`] per number below `pid_max`, indexed by the real PID
//!   itself: a `meta` word (generation, VPS slot, present/zombie/busy flags,
//!   a flag saying the task's PID is its linear virtual number, a version
//!   byte) and an `ids` word (the task's PID and TGID as its own VPS sees
//!   them);
//! - one [`VpsSlot`] per VPS slot: the VPS id and mode, its init's real PID,
//!   and, once the VPS goes sparse, an array indexed by the virtual PID,
//!   allocated a chunk at a time as numbers are used, whose entry is one word
//!   holding the handle (real PID and generation) of the task with that PID,
//!   0 if none: a sparse lookup reads that one word, not the task's slot.
//!
//! A reader that needs `ids` loads `meta`, then `ids`, then `meta` again, and
//! retries if the two `meta` values differ or the busy flag was set (a
//! seqlock): a torn read is impossible. A reader that needs only what `meta`
//! holds loads it once: one word is a consistent snapshot by itself. A
//! lookup needs only `meta` words and, in a sparse VPS, one entry word: it
//! reads the caller's `meta`, the VPS's, the target's (or the entry), and
//! the caller's `meta` again at the end, retrying if it changed, so a VPS
//! slot reused by a new VPS is never mixed with a caller from the old one
//! (the caller's death is published before the slot is freed). Readers use
//! acquire loads (plain loads on x86) and never write a shared cache line;
//! the writer uses release stores, with the fences of a seqlock around a
//! change to a live slot.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

use vpid_core::{Errno, RawPid, RealPid, VPID_DIV, has_marker_bit};

use crate::ids::{TaskRef, VpsId};

/// How many VPSes a host can hold at once.
pub const MAX_VPS: usize = 4096;

const GEN_MASK: u64 = 0xffff_ffff;
const VPS_SHIFT: u32 = 32;
const VPS_MASK: u64 = 0xffff << VPS_SHIFT;
const PRESENT: u64 = 1 << 48;
const ZOMBIE: u64 = 1 << 49;
const BUSY: u64 = 1 << 50;
/// The task's PID in its VPS is its linear virtual number, `real | VPID_DIV`:
/// a linear lookup is answered from `meta` alone, without the `ids` word.
const LINEAR_PID: u64 = 1 << 51;
const VERSION_SHIFT: u32 = 56;
const VERSION_ONE: u64 = 1 << VERSION_SHIFT;

const VPS_PRESENT: u64 = 1 << 32;
const VPS_SPARSE: u64 = 1 << 33;

/// One real PID's entry.
#[derive(Default)]
struct TaskSlot {
    meta: AtomicU64,
    ids: AtomicU64,
}

/// One VPS's entry.
#[derive(Default)]
struct VpsSlot {
    meta: AtomicU64,
    init: AtomicU32,
    sparse: OnceLock<SparseMap>,
}

/// One load of a live task's `meta` word: enough to know its VPS, and to
/// check later (with [`ReadIndex::still`]) that nothing about it changed.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) struct CallerView {
    meta: u64,
    /// The task's VPS slot, `None` for a host task.
    pub(crate) vps: Option<usize>,
}

const SPARSE_CHUNK_SHIFT: u32 = 10;
const SPARSE_CHUNK: usize = 1 << SPARSE_CHUNK_SHIFT;

/// A sparse VPS's entries, indexed by virtual PID, allocated a chunk of
/// 1024 at a time on first write. A chunk is a fixed-size array, so a read
/// is a chunk pointer and a masked index, with no second bounds check.
struct SparseMap {
    chunks: Box<[OnceLock<Box<[AtomicU64; SPARSE_CHUNK]>>]>,
}

impl SparseMap {
    fn new(len: usize) -> Self {
        SparseMap {
            chunks: (0..len.div_ceil(SPARSE_CHUNK))
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// Entry `i`, if its chunk is allocated.
    #[inline]
    fn get(&self, i: usize) -> Option<&AtomicU64> {
        let chunk = self.chunks.get(i >> SPARSE_CHUNK_SHIFT)?.get()?;
        Some(&chunk[i & (SPARSE_CHUNK - 1)])
    }

    /// Entry `i`, allocating its chunk if needed. Panics if `i` is out of
    /// range.
    fn get_or_alloc(&self, i: usize) -> &AtomicU64 {
        let chunk = self.chunks[i >> SPARSE_CHUNK_SHIFT]
            .get_or_init(|| Box::new(std::array::from_fn(|_| AtomicU64::new(0))));
        &chunk[i & (SPARSE_CHUNK - 1)]
    }

    /// Every allocated entry with its index, ascending.
    fn allocated(&self) -> impl Iterator<Item = (usize, &AtomicU64)> + '_ {
        self.chunks
            .iter()
            .enumerate()
            .filter_map(|(c, chunk)| Some((c, chunk.get()?)))
            .flat_map(|(c, entries)| {
                entries
                    .iter()
                    .enumerate()
                    .map(move |(i, e)| ((c << SPARSE_CHUNK_SHIFT) + i, e))
            })
    }
}

/// A consistent snapshot of one task's slot.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) struct TaskView {
    meta: u64,
    /// The task's VPS slot, `None` for a host task.
    pub(crate) vps: Option<usize>,
    /// Its TID in its own VPS's numbers (real for a host task).
    /// vpid-check: view
    pub(crate) pid: RawPid,
    /// Its TGID in its own VPS's numbers.
    /// vpid-check: view
    pub(crate) tgid: RawPid,
    /// Whether it has exited.
    pub(crate) zombie: bool,
}

/// The read index. See the module documentation.
///
/// The task slots are one plain array indexed by the raw real PID, allocated
/// in full (16 bytes per possible PID): the table's own arrays skip the
/// marker-bit numbers and allocate on first use ([`crate::slots`]), but on
/// this hot path both cost measurable time (each slot number computed, each
/// chunk pointer loaded, adds 10-25% to `getpid`).
pub(crate) struct ReadIndex {
    tasks: Box<[TaskSlot]>,
    vpses: Box<[VpsSlot]>,
    sparse_len: usize,
}

fn next_version(meta: u64) -> u64 {
    meta.wrapping_add(VERSION_ONE) & (0xff << VERSION_SHIFT)
}

impl ReadIndex {
    pub(crate) fn new(pid_max: i32) -> Self {
        let tasks = (0..pid_max).map(|_| TaskSlot::default()).collect();
        let vpses = (0..MAX_VPS).map(|_| VpsSlot::default()).collect();
        ReadIndex {
            tasks,
            vpses,
            sparse_len: (pid_max + VPID_DIV) as usize,
        }
    }

    // ----- readers -----

    /// A seqlock read of the slot at index `raw` (a real PID, or a number
    /// no slot is published at).
    #[inline]
    fn read_slot(&self, raw: RawPid) -> Option<TaskView> {
        let slot = self.tasks.get(usize::try_from(raw).ok()?)?;
        loop {
            let m1 = slot.meta.load(Ordering::Acquire);
            if m1 & BUSY != 0 {
                std::hint::spin_loop();
                continue;
            }
            let ids = slot.ids.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            let m2 = slot.meta.load(Ordering::Relaxed);
            if m1 != m2 {
                continue;
            }
            if m1 & PRESENT == 0 {
                return None;
            }
            return Some(TaskView {
                meta: m1,
                vps: slot_in(m1),
                pid: ids as u32 as i32,
                tgid: (ids >> 32) as u32 as i32,
                zombie: m1 & ZOMBIE != 0,
            });
        }
    }

    /// The `meta` word of the slot at index `raw`, if a task holds it. One load: the
    /// word is a consistent snapshot by itself (a busy flag only says that
    /// the `ids` word is changing, which a `meta`-only reader does not use).
    #[inline]
    fn read_meta(&self, raw: RawPid) -> Option<u64> {
        let meta = self
            .tasks
            .get(usize::try_from(raw).ok()?)?
            .meta
            .load(Ordering::Acquire);
        (meta & PRESENT != 0).then_some(meta)
    }

    /// The VPS of a calling task, if the handle is current and the task has
    /// not exited: one load of its `meta` word.
    #[inline]
    pub(crate) fn caller(&self, task: TaskRef) -> Result<CallerView, Errno> {
        match self.read_meta(task.real().as_raw()) {
            Some(meta) if meta & ZOMBIE == 0 && meta & GEN_MASK == u64::from(task.generation()) => {
                Ok(CallerView {
                    meta,
                    vps: slot_in(meta),
                })
            }
            _ => Err(Errno::ESRCH),
        }
    }

    /// Whether the caller's slot still holds exactly what `view` saw, after
    /// every load before this call (the end of a seqlock read).
    #[inline]
    pub(crate) fn still(&self, task: TaskRef, view: CallerView) -> bool {
        fence(Ordering::Acquire);
        self.tasks[task.real().as_raw() as usize]
            .meta
            .load(Ordering::Relaxed)
            == view.meta
    }

    /// The slot of `task`, if the handle is current (zombies included).
    pub(crate) fn task(&self, task: TaskRef) -> Option<TaskView> {
        self.read_slot(task.real().as_raw())
            .filter(|v| v.meta & GEN_MASK == u64::from(task.generation()))
    }

    /// The PID and TGID (in its own VPS's numbers) of a task that has not
    /// exited: `getpid`'s path, a seqlock read whose checks of the `meta`
    /// word (present, not a zombie, not busy, this generation) are one
    /// masked compare.
    #[inline]
    pub(crate) fn live_ids(&self, task: TaskRef) -> Result<(RawPid, RawPid), Errno> {
        let slot = self
            .tasks
            .get(task.real().as_raw() as usize)
            .ok_or(Errno::ESRCH)?;
        let want = u64::from(task.generation()) | PRESENT;
        loop {
            let m1 = slot.meta.load(Ordering::Acquire);
            if m1 & (GEN_MASK | PRESENT | ZOMBIE | BUSY) != want {
                if m1 & BUSY != 0 {
                    std::hint::spin_loop();
                    continue;
                }
                return Err(Errno::ESRCH);
            }
            let ids = slot.ids.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if slot.meta.load(Ordering::Relaxed) == m1 {
                return Ok((ids as u32 as RawPid, (ids >> 32) as u32 as RawPid));
            }
        }
    }

    /// Whether `task`'s slot still holds exactly what `view` saw.
    pub(crate) fn unchanged(&self, task: TaskRef, view: TaskView) -> bool {
        self.tasks[task.real().as_raw() as usize]
            .meta
            .load(Ordering::Acquire)
            == view.meta
    }

    /// The id of the VPS in `slot`.
    pub(crate) fn vps_id(&self, slot: usize) -> Option<VpsId> {
        let meta = self.vpses.get(slot)?.meta.load(Ordering::Acquire);
        (meta & VPS_PRESENT != 0).then_some(VpsId(meta as u32))
    }

    /// The task with virtual PID `raw` in a sparse VPS: one load of its
    /// entry, which the writer keeps equal to the task's handle.
    #[inline]
    fn sparse_task(vps: &VpsSlot, raw: RawPid) -> Option<TaskRef> {
        let word = vps
            .sparse
            .get()?
            .get(usize::try_from(raw).ok()?)?
            .load(Ordering::Acquire);
        handle(word as u32 as RawPid, word >> 32)
    }

    /// `find_task_by_pid_ve`: the task a number names, seen from `caller`.
    ///
    /// The caller's `meta` word is read once before and once after (so that
    /// its VPS slot cannot have been reused in between). A virtual number in
    /// a linear VPS, the common case, then takes two more loads: the VPS's
    /// `meta` (its mode) and the target's `meta`, whose [`LINEAR_PID`] flag
    /// and VPS bits answer the lookup; each check is one masked compare.
    #[inline]
    pub(crate) fn lookup(&self, caller: TaskRef, raw: RawPid) -> Result<TaskRef, Errno> {
        let slot = self
            .tasks
            .get(caller.real().as_raw() as usize)
            .ok_or(Errno::ESRCH)?;
        let live = u64::from(caller.generation()) | PRESENT;
        loop {
            let me = slot.meta.load(Ordering::Acquire);
            if me & (GEN_MASK | PRESENT | ZOMBIE) != live {
                return Err(Errno::ESRCH);
            }
            let found = self.lookup_in(me & VPS_MASK, raw);
            fence(Ordering::Acquire);
            if slot.meta.load(Ordering::Relaxed) == me {
                return found.ok_or(Errno::ESRCH);
            }
        }
    }

    /// [`ReadIndex::lookup_from`] for a caller whose `meta` word has the VPS
    /// bits `vps_bits`, with the linear case inline and the rest out of line.
    #[inline]
    fn lookup_in(&self, vps_bits: u64, raw: RawPid) -> Option<TaskRef> {
        if vps_bits != 0 && raw > 1 && has_marker_bit(raw) {
            let entry = self.vpses.get((vps_bits >> VPS_SHIFT) as usize - 1)?;
            let mode = entry.meta.load(Ordering::Acquire) & (VPS_PRESENT | VPS_SPARSE);
            if mode == VPS_PRESENT | VPS_SPARSE {
                return Self::sparse_task(entry, raw);
            }
            if mode == VPS_PRESENT {
                // Linear: virtual `raw` can only be real `raw & !VPID_DIV`,
                // and is if that task is in this VPS with a linear PID.
                let real = raw & !VPID_DIV;
                let meta = self.tasks.get(real as usize)?.meta.load(Ordering::Acquire);
                let want = PRESENT | LINEAR_PID | vps_bits;
                return if meta & (PRESENT | LINEAR_PID | VPS_MASK) == want {
                    handle(real, meta)
                } else {
                    None
                };
            }
        }
        self.lookup_out_of_line(vps_bits, raw)
    }

    #[cold]
    #[inline(never)]
    fn lookup_out_of_line(&self, vps_bits: u64, raw: RawPid) -> Option<TaskRef> {
        self.lookup_from(slot_in(vps_bits), raw)
    }

    /// The task `raw` names in the VPS in `vps` (`None`: the host).
    ///
    /// Numbers stay raw until the end: one [`RealPid`] is made, for the
    /// handle found.
    #[inline]
    pub(crate) fn lookup_from(&self, vps: Option<usize>, raw: RawPid) -> Option<TaskRef> {
        let Some(slot) = vps else {
            // The host: real PIDs only.
            return handle(raw, self.read_meta(raw)?);
        };
        if !names_by_entry(raw) {
            // A real PID, which names a task of the same VPS only.
            let meta = self.read_meta(raw)?;
            return handle(raw, meta).filter(|_| slot_in(meta) == vps);
        }
        let entry = self.vpses.get(slot)?;
        let meta = entry.meta.load(Ordering::Acquire);
        if meta & VPS_PRESENT == 0 {
            return None;
        }
        let real = if meta & VPS_SPARSE != 0 {
            return Self::sparse_task(entry, raw);
        } else if raw == 1 {
            entry.init.load(Ordering::Acquire) as RawPid
        } else {
            // Linear: virtual `raw` can only be real `raw & !VPID_DIV`, and
            // is if that task's PID is linear (one flag of its `meta`).
            let real = raw & !VPID_DIV;
            let meta = self.read_meta(real)?;
            if meta & LINEAR_PID == 0 || slot_in(meta) != vps {
                return None;
            }
            return handle(real, meta);
        };
        let view = self.read_slot(real)?;
        if view.vps != vps || view.pid != raw {
            return None;
        }
        handle(real, view.meta)
    }

    /// A task's TID in `viewer`'s numbers (host: `None`), 0 if invisible.
    pub(crate) fn pid_in(&self, viewer: Option<usize>, task: TaskRef) -> Result<RawPid, Errno> {
        let view = self.task(task).ok_or(Errno::ESRCH)?;
        Ok(match viewer {
            None => task.real().as_raw(),
            Some(_) if view.vps == viewer => view.pid,
            Some(_) => 0,
        })
    }

    /// Every task a sparse VPS's entries name, with its virtual PID (for
    /// the audit: each must be a task of that VPS with that PID).
    pub(crate) fn sparse_entries(&self, slot: usize) -> Vec<(RawPid, Option<TaskRef>)> {
        self.sparse_map(Some(slot)).map_or_else(Vec::new, |map| {
            map.allocated()
                .map(|(pid, entry)| (pid, entry.load(Ordering::Acquire)))
                .filter(|(_, word)| *word != 0)
                .map(|(pid, word)| {
                    let task = handle(word as u32 as RawPid, word >> 32);
                    (RawPid::try_from(pid).unwrap_or(RawPid::MAX), task)
                })
                .collect()
        })
    }

    // ----- writers (only under the table lock) -----

    /// Publishes a new task.
    /// vpid-check: pid=view, tgid=view
    pub(crate) fn publish(&self, task: TaskRef, vps: Option<usize>, pid: RawPid, tgid: RawPid) {
        // The slot is not present: readers ignore its ids until the meta
        // store (release) makes the new ids visible with it.
        let slot = &self.tasks[task.real().as_raw() as usize];
        let old = slot.meta.load(Ordering::Relaxed);
        slot.ids.store(ids_word(pid, tgid), Ordering::Relaxed);
        slot.meta.store(
            next_version(old)
                | vps_bits(vps)
                | linear_bit(task.real(), vps, pid)
                | PRESENT
                | u64::from(task.generation()),
            Ordering::Release,
        );
        let generation = u64::from(task.generation());
        self.set_entry(vps, pid, entry_word(task.real(), generation));
    }

    /// Changes a published task: its VPS and numbers (enter) or its zombie flag.
    /// vpid-check: pid=view, tgid=view
    pub(crate) fn update(
        &self,
        real: RealPid,
        vps: Option<usize>,
        pid: RawPid,
        tgid: RawPid,
        zombie: bool,
    ) {
        let slot = &self.tasks[real.as_raw() as usize];
        let old = slot.meta.load(Ordering::Relaxed);
        let old_pid = slot.ids.load(Ordering::Relaxed) as u32 as RawPid;
        let moved = (slot_in(old), old_pid) != (vps, pid);
        if moved {
            self.clear_entry(slot_in(old), old_pid, entry_word(real, old));
        }
        slot.meta.store(old | BUSY, Ordering::Relaxed);
        fence(Ordering::Release);
        slot.ids.store(ids_word(pid, tgid), Ordering::Relaxed);
        let flags = PRESENT | if zombie { ZOMBIE } else { 0 };
        slot.meta.store(
            next_version(old)
                | vps_bits(vps)
                | linear_bit(real, vps, pid)
                | flags
                | (old & GEN_MASK),
            Ordering::Release,
        );
        if moved {
            self.set_entry(vps, pid, entry_word(real, old));
        }
    }

    /// Removes a reaped task.
    pub(crate) fn unpublish(&self, real: RealPid) {
        let slot = &self.tasks[real.as_raw() as usize];
        let old = slot.meta.load(Ordering::Relaxed);
        let old_pid = slot.ids.load(Ordering::Relaxed) as u32 as RawPid;
        self.clear_entry(slot_in(old), old_pid, entry_word(real, old));
        slot.meta
            .store(next_version(old) | (old & GEN_MASK), Ordering::Release);
    }

    /// Publishes a VPS in linear mode.
    pub(crate) fn publish_vps(&self, slot: usize, id: VpsId, init: RealPid) {
        let vps = &self.vpses[slot];
        vps.init.store(init.as_raw() as u32, Ordering::Relaxed);
        vps.meta
            .store(VPS_PRESENT | u64::from(id.0), Ordering::Release);
    }

    /// Switches a VPS to sparse mode: an entry for each of its tasks
    /// (`members`, in any order), then the mode bit.
    pub(crate) fn make_sparse(&self, slot: usize, members: impl Iterator<Item = RealPid>) {
        let vps = &self.vpses[slot];
        let len = self.sparse_len;
        let map = vps.sparse.get_or_init(|| SparseMap::new(len));
        for real in members {
            let task = &self.tasks[real.as_raw() as usize];
            let meta = task.meta.load(Ordering::Relaxed);
            let pid = task.ids.load(Ordering::Relaxed) as u32 as RawPid;
            if meta & PRESENT != 0 && slot_in(meta) == Some(slot) && names_by_entry(pid) {
                map.get_or_alloc(pid as usize)
                    .store(entry_word(real, meta), Ordering::Relaxed);
            }
        }
        let meta = vps.meta.load(Ordering::Relaxed);
        vps.meta.store(meta | VPS_SPARSE, Ordering::Release);
    }

    /// The entries of the VPS in `vps`, if it is sparse (writer side).
    fn sparse_map(&self, vps: Option<usize>) -> Option<&SparseMap> {
        let entry = self.vpses.get(vps?)?;
        if entry.meta.load(Ordering::Relaxed) & VPS_SPARSE == 0 {
            return None;
        }
        entry.sparse.get()
    }

    /// Points virtual PID `pid` of a sparse VPS at a task (`word`). A task
    /// that entered the VPS keeping its real PID has no entry: a lookup of a
    /// real PID reads the task's slot.
    fn set_entry(&self, vps: Option<usize>, pid: RawPid, word: u64) {
        if !names_by_entry(pid) {
            return;
        }
        if let (Some(map), Ok(i)) = (self.sparse_map(vps), usize::try_from(pid)) {
            map.get_or_alloc(i).store(word, Ordering::Release);
        }
    }

    /// Clears virtual PID `pid` of a sparse VPS, if it names the task `word`.
    fn clear_entry(&self, vps: Option<usize>, pid: RawPid, word: u64) {
        let Some(map) = self.sparse_map(vps) else {
            return;
        };
        if let Some(entry) = usize::try_from(pid).ok().and_then(|i| map.get(i)) {
            if entry.load(Ordering::Relaxed) == word {
                entry.store(0, Ordering::Release);
            }
        }
    }

    /// Removes a VPS; its sparse map (all entries already cleared) stays for
    /// the next VPS in the slot.
    pub(crate) fn unpublish_vps(&self, slot: usize) {
        let vps = &self.vpses[slot];
        vps.meta.store(0, Ordering::Release);
        vps.init.store(0, Ordering::Relaxed);
    }
}

fn ids_word(pid: RawPid, tgid: RawPid) -> u64 {
    u64::from(pid as u32) | (u64::from(tgid as u32) << 32)
}

fn vps_bits(vps: Option<usize>) -> u64 {
    vps.map_or(0, |s| (s as u64 + 1) << VPS_SHIFT)
}

/// A sparse entry: the handle of the task at `real` whose `meta` word (or
/// generation) is `meta`.
fn entry_word(real: RealPid, meta: u64) -> u64 {
    u64::from(real.as_raw() as u32) | ((meta & GEN_MASK) << 32)
}

/// The handle of the task at real PID `raw` whose `meta` word is `meta`.
#[inline]
fn handle(raw: RawPid, meta: u64) -> Option<TaskRef> {
    Some(TaskRef::from_parts(
        RealPid::from_raw(raw)?,
        (meta & GEN_MASK) as u32,
    ))
}

/// Whether a VPS resolves PID `pid` through its map (in sparse mode) or its
/// arithmetic (in linear mode): 1 and the marker-bit numbers. Any other
/// number is a real PID, looked up by its own slot.
/// vpid-check: pid=view
fn names_by_entry(pid: RawPid) -> bool {
    pid == 1 || (pid > 0 && has_marker_bit(pid))
}

/// The VPS slot a `meta` word names, `None` for a host task.
#[inline]
fn slot_in(meta: u64) -> Option<usize> {
    (((meta & VPS_MASK) >> VPS_SHIFT) as usize).checked_sub(1)
}

/// [`LINEAR_PID`] if `pid`, a task's PID in its VPS, is its linear number.
/// vpid-check: pid=view
fn linear_bit(real: RealPid, vps: Option<usize>, pid: RawPid) -> u64 {
    if vps.is_some() && pid == real.to_linear_virt().as_raw() {
        LINEAR_PID
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(n: i32) -> RealPid {
        RealPid::from_raw(n).expect("real")
    }

    #[test]
    fn a_handle_reads_its_slot_only_for_its_generation() {
        let ix = ReadIndex::new(4096);
        let t = TaskRef::from_parts(real(400), 3);
        assert_eq!(ix.task(t), None);
        ix.publish(t, None, 400, 400);
        let view = ix.task(t).expect("published");
        assert_eq!(
            (view.vps, view.pid, view.tgid, view.zombie),
            (None, 400, 400, false)
        );
        assert_eq!(
            ix.task(TaskRef::from_parts(real(400), 2)),
            None,
            "older generation"
        );
        assert_eq!(ix.live_ids(t), Ok((400, 400)));
        ix.update(real(400), None, 400, 400, true);
        assert_eq!(ix.live_ids(t), Err(Errno::ESRCH), "a zombie makes no calls");
        assert!(ix.task(t).is_some_and(|v| v.zombie));
        ix.unpublish(real(400));
        assert_eq!(ix.task(t), None);
    }

    #[test]
    fn linear_and_sparse_lookups() {
        let ix = ReadIndex::new(4096);
        let (init, child) = (real(500), real(501));
        ix.publish_vps(0, VpsId(7), init);
        let init_ref = TaskRef::from_parts(init, 1);
        ix.publish(init_ref, Some(0), 1, 1);
        let child_ref = TaskRef::from_parts(child, 1);
        ix.publish(child_ref, Some(0), 501 | VPID_DIV, 501 | VPID_DIV);
        assert_eq!(ix.lookup_from(Some(0), 1), Some(init_ref));
        assert_eq!(ix.lookup_from(Some(0), 501 | VPID_DIV), Some(child_ref));
        assert_eq!(
            ix.lookup_from(Some(0), 500 | VPID_DIV),
            None,
            "init's linear alias"
        );
        assert_eq!(ix.lookup(init_ref, 501 | VPID_DIV), Ok(child_ref));
        assert_eq!(
            ix.lookup(child_ref, 500 | VPID_DIV),
            Err(Errno::ESRCH),
            "init's linear alias, through the caller"
        );
        assert_eq!(
            ix.lookup(TaskRef::from_parts(child, 2), 1),
            Err(Errno::ESRCH),
            "a stale caller"
        );
        assert_eq!(
            ix.lookup_from(Some(0), 501),
            Some(child_ref),
            "a real PID of the same VPS"
        );
        assert_eq!(ix.lookup_from(Some(1), 501), None, "another VPS");
        assert_eq!(
            ix.lookup_from(None, 501 | VPID_DIV),
            None,
            "marker numbers on the host"
        );
        assert_eq!(ix.lookup_from(None, 501), Some(child_ref));
        // Sparse: the child keeps its number, a new one gets a chosen number.
        ix.make_sparse(0, [init, child].into_iter());
        assert_eq!(ix.lookup_from(Some(0), 1), Some(init_ref));
        let chosen = TaskRef::from_parts(real(502), 1);
        ix.publish(chosen, Some(0), 3000 | VPID_DIV, 3000 | VPID_DIV);
        assert_eq!(ix.lookup_from(Some(0), 501 | VPID_DIV), Some(child_ref));
        assert_eq!(ix.lookup_from(Some(0), 3000 | VPID_DIV), Some(chosen));
        assert_eq!(ix.lookup_from(Some(0), 502 | VPID_DIV), None);
        assert_eq!(ix.pid_in(Some(0), chosen), Ok(3000 | VPID_DIV));
        assert_eq!(ix.pid_in(Some(1), chosen), Ok(0));
        assert_eq!(ix.pid_in(None, chosen), Ok(502));
        // Through the caller's handle, as `Host::lookup` does.
        assert_eq!(ix.lookup(child_ref, 3000 | VPID_DIV), Ok(chosen));
        assert_eq!(ix.lookup(child_ref, 1), Ok(init_ref));
        // A reaped task's entry goes with it; its number reused by a new
        // holder of the real PID names that one, not the old handle.
        ix.unpublish(real(502));
        assert_eq!(ix.lookup(child_ref, 3000 | VPID_DIV), Err(Errno::ESRCH));
        let reused = TaskRef::from_parts(real(502), 2);
        ix.publish(reused, Some(0), 3000 | VPID_DIV, 3000 | VPID_DIV);
        assert_eq!(ix.lookup(child_ref, 3000 | VPID_DIV), Ok(reused));
        // A stale caller gets ESRCH whatever it asks.
        let stale = TaskRef::from_parts(child, 2);
        assert_eq!(ix.lookup(stale, 3000 | VPID_DIV), Err(Errno::ESRCH));
        assert_eq!(ix.vps_id(0), Some(VpsId(7)));
        ix.unpublish_vps(0);
        assert_eq!(ix.vps_id(0), None);
        assert_eq!(ix.lookup_from(Some(0), 3000 | VPID_DIV), None);
    }
}
