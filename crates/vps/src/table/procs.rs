//! The process table: one [`Process`] per thread-group leader, stored inline
//! in an array indexed directly by the dense slot of the leader's real PID
//! (no hashing and no heap allocation on the hot paths of fork, exit and
//! wait; the slots are allocated a chunk at a time as PIDs are used: see
//! [`crate::slots`]), with a bitmap of occupied slots so that iterating (in
//! ascending PID order) skips empty stretches 64 PIDs at a time.
//!
//! Until November 2026 each process was a separate `Box`: a heap allocation
//! and a free on every fork and reap, an indirection on every access, and
//! the allocator's own overhead per process. Inline, a slot costs the size
//! of a process whether a process holds it or not, but a host's PIDs are
//! used densely (the allocator hands them out in order), so the chunks that
//! exist are mostly full.

use std::ops::Index;

use vpid_core::RealPid;

use crate::slots::{SlotArray, pid_of, slot_count, slot_of};

use super::Process;

/// Every process, by its leader's real PID.
#[derive(Clone, Debug)]
pub(super) struct Procs {
    slots: SlotArray<Option<Process>>,
    occupied: Vec<u64>,
    count: usize,
}

impl Procs {
    /// An empty table for PIDs below `pid_max`.
    pub(super) fn new(pid_max: i32) -> Self {
        Procs {
            slots: SlotArray::new(slot_count(pid_max)),
            occupied: vec![0; slot_count(pid_max).div_ceil(64)],
            count: 0,
        }
    }

    #[inline]
    pub(super) fn get(&self, leader: &RealPid) -> Option<&Process> {
        self.slots.get(slot_of(*leader))?.as_ref()
    }

    #[inline]
    pub(super) fn get_mut(&mut self, leader: &RealPid) -> Option<&mut Process> {
        self.slots.get_mut(slot_of(*leader))?.as_mut()
    }

    pub(super) fn contains_key(&self, leader: &RealPid) -> bool {
        self.get(leader).is_some()
    }

    #[inline]
    pub(super) fn insert(&mut self, leader: RealPid, proc: Process) {
        let i = slot_of(leader);
        let slot = self.slots.get_mut_or_alloc(i);
        debug_assert!(slot.is_none(), "process {leader} inserted twice");
        if slot.replace(proc).is_none() {
            self.count += 1;
            self.occupied[i / 64] |= 1 << (i % 64);
        }
    }

    #[inline]
    pub(super) fn remove(&mut self, leader: &RealPid) -> Option<Process> {
        let i = slot_of(*leader);
        let proc = self.slots.get_mut(i)?.take();
        if proc.is_some() {
            self.count -= 1;
            self.occupied[i / 64] &= !(1 << (i % 64));
        }
        proc
    }

    /// How many processes there are.
    pub(super) fn len(&self) -> usize {
        self.count
    }

    /// Every process, by ascending leader PID.
    pub(super) fn iter(&self) -> impl Iterator<Item = (RealPid, &Process)> + '_ {
        self.occupied
            .iter()
            .enumerate()
            .filter(|(_, word)| **word != 0)
            .flat_map(|(w, word)| {
                (0..64)
                    .filter(move |bit| word & (1 << bit) != 0)
                    .map(move |bit| w * 64 + bit)
            })
            .filter_map(|i| Some((pid_of(i)?, self.slots.get(i)?.as_ref()?)))
    }

    /// Every leader PID, ascending.
    pub(super) fn keys(&self) -> impl Iterator<Item = RealPid> + '_ {
        self.iter().map(|(pid, _)| pid)
    }

    /// Every process, by ascending leader PID.
    pub(super) fn values(&self) -> impl Iterator<Item = &Process> + '_ {
        self.iter().map(|(_, p)| p)
    }
}

impl Index<&RealPid> for Procs {
    type Output = Process;

    fn index(&self, leader: &RealPid) -> &Process {
        self.get(leader).expect("a process in the table")
    }
}
