//! The task table: one small entry per real PID, indexed directly (a dense
//! array is faster than a hash map for a PID space bounded by `pid_max`), with
//! each PID's generation counter kept across the tasks that hold it.

use vpid_core::RealPid;

/// A task (thread) of the table. Everything shared by a thread group lives
/// in the process of its leader.
#[derive(Copy, Clone, Debug)]
pub(super) struct Task {
    /// How many tasks have held this PID, counting this one.
    pub(super) generation: u32,
    /// The thread group (process) the task belongs to.
    pub(super) tgid: RealPid,
}

/// One slot: the generation survives the task, so the next holder of the
/// PID gets a new one.
#[derive(Copy, Clone, Debug, Default)]
struct Slot {
    generation: u32,
    tgid: Option<RealPid>,
}

/// Every task, by real PID.
#[derive(Clone, Debug)]
pub(super) struct Tasks {
    slots: Vec<Slot>,
    count: usize,
}

impl Tasks {
    /// An empty table for PIDs below `pid_max`.
    pub(super) fn new(pid_max: i32) -> Self {
        Tasks {
            slots: vec![Slot::default(); pid_max as usize],
            count: 0,
        }
    }

    /// The task with this PID, if any.
    pub(super) fn get(&self, real: RealPid) -> Option<Task> {
        let slot = self.slots.get(real.as_raw() as usize)?;
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
        let slot = &mut self.slots[real.as_raw() as usize];
        debug_assert!(slot.tgid.is_none(), "{real} taken twice");
        slot.generation = slot.generation.wrapping_add(1).max(1);
        slot.tgid = Some(tgid);
        self.count += 1;
        slot.generation
    }

    /// Removes a task; its slot keeps the generation.
    pub(super) fn remove(&mut self, real: RealPid) {
        let slot = &mut self.slots[real.as_raw() as usize];
        if slot.tgid.take().is_some() {
            self.count -= 1;
        }
    }

    /// How many tasks there are.
    pub(super) fn len(&self) -> usize {
        self.count
    }
}
