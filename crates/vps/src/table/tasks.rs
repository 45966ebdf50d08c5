//! The task table: one small entry per real PID, indexed directly by its
//! dense slot (see [`crate::slots`]: a dense array is faster than a hash map
//! for a PID space bounded by `pid_max`), with
//! each PID's generation counter kept across the tasks that hold it, and the
//! number's virtual number (OpenVZ's `pid->vnr`/`pid->veid`), which outlives
//! the task while the number stays in use as a group or session ID.

use vpid_core::{RealPid, VirtPid};

use crate::slots::{SlotArray, slot_count, slot_of};

/// A task (thread) of the table. Everything shared by a thread group lives
/// in the process of its leader.
#[derive(Copy, Clone, Debug)]
pub(super) struct Task {
    /// How many tasks have held this PID, counting this one.
    pub(super) generation: u32,
    /// The thread group (process) the task belongs to.
    pub(super) tgid: RealPid,
}

/// One slot (16 bytes): the generation survives the task, so the next holder
/// of the PID gets a new one.
#[derive(Copy, Clone, Debug, Default)]
struct Slot {
    generation: u32,
    tgid: Option<RealPid>,
    /// The number's virtual number, in the VPS `vnr_vps - 1`.
    vnr: Option<VirtPid>,
    vnr_vps: u16,
}

/// Every task, by real PID.
#[derive(Clone, Debug)]
pub(super) struct Tasks {
    slots: SlotArray<Slot>,
    count: usize,
    /// How many slots hold a virtual number.
    vnr_count: usize,
}

impl Tasks {
    /// An empty table for PIDs below `pid_max`.
    pub(super) fn new(pid_max: i32) -> Self {
        Tasks {
            slots: SlotArray::new(slot_count(pid_max)),
            count: 0,
            vnr_count: 0,
        }
    }

    /// The task with this PID, if any.
    pub(super) fn get(&self, real: RealPid) -> Option<Task> {
        let slot = self.slots.get(slot_of(real))?;
        slot.tgid.map(|tgid| Task {
            generation: slot.generation,
            tgid,
        })
    }

    /// The task with this PID, which the caller knows exists.
    pub(super) fn at(&self, real: RealPid) -> Task {
        self.get(real).expect("a task in the table")
    }

    /// Whether a task has this PID.
    pub(super) fn contains(&self, real: RealPid) -> bool {
        self.get(real).is_some()
    }

    /// Adds a task with a fresh generation of its PID's slot; returns the
    /// generation.
    pub(super) fn insert(&mut self, real: RealPid, tgid: RealPid) -> u32 {
        let slot = self.slots.get_mut_or_alloc(slot_of(real));
        debug_assert!(slot.tgid.is_none(), "{real} taken twice");
        slot.generation = slot.generation.wrapping_add(1).max(1);
        slot.tgid = Some(tgid);
        self.count += 1;
        slot.generation
    }

    /// Removes a task; its slot keeps the generation.
    pub(super) fn remove(&mut self, real: RealPid) {
        let Some(slot) = self.slots.get_mut(slot_of(real)) else {
            return;
        };
        if slot.tgid.take().is_some() {
            self.count -= 1;
        }
    }

    /// How many tasks there are.
    pub(super) fn len(&self) -> usize {
        self.count
    }

    /// The virtual number of real number `n`, with its VPS slot.
    pub(super) fn vnr(&self, n: RealPid) -> Option<(usize, VirtPid)> {
        let slot = self.slots.get(slot_of(n))?;
        Some((usize::from(slot.vnr_vps).checked_sub(1)?, slot.vnr?))
    }

    /// Gives `n` a virtual number in a VPS slot (below `MAX_VPS`), or none.
    pub(super) fn set_vnr(&mut self, n: RealPid, vnr: Option<(usize, VirtPid)>) {
        let slot = self.slots.get_mut_or_alloc(slot_of(n));
        self.vnr_count =
            self.vnr_count + usize::from(vnr.is_some()) - usize::from(slot.vnr.is_some());
        slot.vnr = vnr.map(|(_, virt)| virt);
        slot.vnr_vps = vnr.map_or(0, |(vps, _)| {
            u16::try_from(vps + 1).expect("a VPS slot below MAX_VPS")
        });
    }

    /// How many numbers have a virtual number.
    pub(super) fn vnr_count(&self) -> usize {
        self.vnr_count
    }
}
