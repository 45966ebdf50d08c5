//! The lock-free read index: what `getpid`, `gettid`, `lookup` and `pid_of`
//! read without taking the table lock and without writing to shared memory.
//!
//! The index is a *copy* of part of the table, kept up to date by the table's
//! mutex holder (the only writer). It has two arrays:
//!
//! - one [`TaskSlot`] per number below `pid_max`, indexed by the real PID
//!   itself: a `meta` word (generation,
//!   VPS slot, present/zombie/busy flags, a version byte) and an `ids` word
//!   (the task's PID and TGID as its own VPS sees them);
//! - one [`VpsSlot`] per VPS slot: the VPS id and mode, its init's real PID,
//!   and, once the VPS goes sparse, a virtual → real array indexed by the
//!   virtual number, allocated a chunk at a time as numbers are used.
//!
//! A reader loads `meta`, then `ids`, then `meta` again, and retries if the two
//! `meta` values differ or the busy flag was set (a seqlock): a torn read is
//! impossible. A reader that combines several slots re-checks the caller's
//! `meta` at the end, so a VPS slot reused by a new VPS is never mixed with a
//! caller from the old one (the caller's death is published before the slot is
//! freed). Readers use acquire loads (plain loads on x86) and never write a
//! shared cache line; the writer uses release stores, with the fences of a
//! seqlock around a change to a live slot.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

use vpid_core::{Errno, RawPid, RealPid, VPID_DIV, VirtPid, has_marker_bit};

use crate::ids::{TaskRef, VpsId};
use crate::slots::SlotArray;

/// How many VPSes a host can hold at once.
pub const MAX_VPS: usize = 4096;

const GEN_MASK: u64 = 0xffff_ffff;
const VPS_SHIFT: u32 = 32;
const VPS_MASK: u64 = 0xffff << VPS_SHIFT;
const PRESENT: u64 = 1 << 48;
const ZOMBIE: u64 = 1 << 49;
const BUSY: u64 = 1 << 50;
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
    sparse: OnceLock<SlotArray<AtomicU32>>,
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

    fn read_slot(&self, real: RealPid) -> Option<TaskView> {
        let slot = self.tasks.get(real.as_raw() as usize)?;
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
            let vps = ((m1 & VPS_MASK) >> VPS_SHIFT) as usize;
            return Some(TaskView {
                meta: m1,
                vps: vps.checked_sub(1),
                pid: ids as u32 as i32,
                tgid: (ids >> 32) as u32 as i32,
                zombie: m1 & ZOMBIE != 0,
            });
        }
    }

    /// The slot of `task`, if the handle is current (zombies included).
    pub(crate) fn task(&self, task: TaskRef) -> Option<TaskView> {
        self.read_slot(task.real())
            .filter(|v| v.meta & GEN_MASK == u64::from(task.generation()))
    }

    /// The slot of `task`, if the handle is current and the task has not exited.
    pub(crate) fn live_task(&self, task: TaskRef) -> Result<TaskView, Errno> {
        self.task(task).filter(|v| !v.zombie).ok_or(Errno::ESRCH)
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

    /// The real PID a virtual number stands for in the VPS in `slot`.
    fn resolve_virtual(&self, slot: usize, raw: RawPid) -> Option<RealPid> {
        let vps = self.vpses.get(slot)?;
        let meta = vps.meta.load(Ordering::Acquire);
        if meta & VPS_PRESENT == 0 {
            return None;
        }
        if meta & VPS_SPARSE != 0 {
            let real = vps
                .sparse
                .get()?
                .get(usize::try_from(raw).ok()?)?
                .load(Ordering::Acquire);
            return RealPid::from_raw(real as i32);
        }
        if raw == 1 {
            RealPid::from_raw(vps.init.load(Ordering::Acquire) as i32)
        } else {
            VirtPid::from_raw(raw)?.linear_real()
        }
    }

    /// `find_task_by_pid_ve`: the task a number names, seen from `caller`.
    pub(crate) fn lookup(&self, caller: TaskRef, raw: RawPid) -> Result<TaskRef, Errno> {
        loop {
            let me = self.live_task(caller)?;
            let found = self.lookup_from(me.vps, raw);
            if self.unchanged(caller, me) {
                return found.ok_or(Errno::ESRCH);
            }
        }
    }

    pub(crate) fn lookup_from(&self, vps: Option<usize>, raw: RawPid) -> Option<TaskRef> {
        let (real, want_pid) = match vps {
            None => (RealPid::from_raw(raw)?, None),
            Some(slot) if raw == 1 || (raw > 0 && has_marker_bit(raw)) => {
                (self.resolve_virtual(slot, raw)?, Some(raw))
            }
            Some(_) => (RealPid::from_raw(raw)?, None),
        };
        let view = self.read_slot(real)?;
        if vps.is_some() && view.vps != vps {
            return None;
        }
        if want_pid.is_some_and(|p| p != view.pid) {
            return None;
        }
        Some(TaskRef::from_parts(real, (view.meta & GEN_MASK) as u32))
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
            next_version(old) | vps_bits(vps) | PRESENT | u64::from(task.generation()),
            Ordering::Release,
        );
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
        slot.meta.store(old | BUSY, Ordering::Relaxed);
        fence(Ordering::Release);
        slot.ids.store(ids_word(pid, tgid), Ordering::Relaxed);
        let flags = PRESENT | if zombie { ZOMBIE } else { 0 };
        slot.meta.store(
            next_version(old) | vps_bits(vps) | flags | (old & GEN_MASK),
            Ordering::Release,
        );
    }

    /// Removes a reaped task.
    pub(crate) fn unpublish(&self, real: RealPid) {
        let slot = &self.tasks[real.as_raw() as usize];
        let old = slot.meta.load(Ordering::Relaxed);
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

    /// Switches a VPS to sparse mode, with its current numbers.
    pub(crate) fn make_sparse(
        &self,
        slot: usize,
        numbers: impl Iterator<Item = (RawPid, RealPid)>,
    ) {
        let vps = &self.vpses[slot];
        let len = self.sparse_len;
        let map = vps.sparse.get_or_init(|| SlotArray::new(len));
        for (virt, real) in numbers {
            map.get_or_alloc(virt as usize)
                .store(real.as_raw() as u32, Ordering::Relaxed);
        }
        let meta = vps.meta.load(Ordering::Relaxed);
        vps.meta.store(meta | VPS_SPARSE, Ordering::Release);
    }

    /// Sets (`Some`) or clears (`None`) one entry of a sparse VPS's map.
    pub(crate) fn set_sparse(&self, slot: usize, virt: RawPid, real: Option<RealPid>) {
        let Some(map) = self.vpses[slot].sparse.get() else {
            return;
        };
        match real {
            Some(r) => map
                .get_or_alloc(virt as usize)
                .store(r.as_raw() as u32, Ordering::Release),
            None => {
                if let Some(entry) = map.get(virt as usize) {
                    entry.store(0, Ordering::Release);
                }
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
        ix.update(real(400), None, 400, 400, true);
        assert_eq!(
            ix.live_task(t),
            Err(Errno::ESRCH),
            "a zombie makes no calls"
        );
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
        ix.make_sparse(0, [(1, init), (501 | VPID_DIV, child)].into_iter());
        let chosen = TaskRef::from_parts(real(502), 1);
        ix.set_sparse(0, 3000 | VPID_DIV, Some(real(502)));
        ix.publish(chosen, Some(0), 3000 | VPID_DIV, 3000 | VPID_DIV);
        assert_eq!(ix.lookup_from(Some(0), 501 | VPID_DIV), Some(child_ref));
        assert_eq!(ix.lookup_from(Some(0), 3000 | VPID_DIV), Some(chosen));
        assert_eq!(ix.lookup_from(Some(0), 502 | VPID_DIV), None);
        assert_eq!(ix.pid_in(Some(0), chosen), Ok(3000 | VPID_DIV));
        assert_eq!(ix.pid_in(Some(1), chosen), Ok(0));
        assert_eq!(ix.pid_in(None, chosen), Ok(502));
        assert_eq!(ix.vps_id(0), Some(VpsId(7)));
        ix.unpublish_vps(0);
        assert_eq!(ix.vps_id(0), None);
        assert_eq!(ix.lookup_from(Some(0), 3000 | VPID_DIV), None);
    }
}
