//! The process table: one boxed [`Process`] per thread-group leader, indexed
//! directly by the dense slot of the leader's real PID (no hashing on the hot
//! paths of fork, exit and wait; the slots are allocated as PIDs are used:
//! see [`crate::slots`]), with a bitmap of occupied slots so that iterating
//! (in ascending PID order) skips empty stretches 64 PIDs at a time.
//!
//! A slab of processes addressed by 4-byte positions would save 4 bytes per
//! PID, but the extra indirection on every process access made fork and exit
//! about 15% slower in our measurements, so the boxes stay.

use std::ops::Index;

use vpid_core::RealPid;

use crate::slots::{SlotArray, pid_of, slot_count, slot_of};

use super::Process;

/// Every process, by its leader's real PID.
#[derive(Clone, Debug)]
pub(super) struct Procs {
    slots: SlotArray<Option<Box<Process>>>,
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

    pub(super) fn get(&self, leader: &RealPid) -> Option<&Process> {
        self.slots.get(slot_of(*leader))?.as_deref()
    }

    pub(super) fn get_mut(&mut self, leader: &RealPid) -> Option<&mut Process> {
        self.slots.get_mut(slot_of(*leader))?.as_deref_mut()
    }

    pub(super) fn contains_key(&self, leader: &RealPid) -> bool {
        self.get(leader).is_some()
    }

    pub(super) fn insert(&mut self, leader: RealPid, proc: Process) {
        let i = slot_of(leader);
        let slot = self.slots.get_mut_or_alloc(i);
        debug_assert!(slot.is_none(), "process {leader} inserted twice");
        if slot.replace(Box::new(proc)).is_none() {
            self.count += 1;
            self.occupied[i / 64] |= 1 << (i % 64);
        }
    }

    pub(super) fn remove(&mut self, leader: &RealPid) -> Option<Box<Process>> {
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
            .filter_map(|i| Some((pid_of(i)?, self.slots.get(i)?.as_deref()?)))
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
