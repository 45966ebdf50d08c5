//! The task table: one small entry per real PID, indexed directly by its
//! dense slot (see [`crate::slots`]: a dense array is faster than a hash map
//! for a PID space bounded by `pid_max`), with
//! each PID's generation counter kept across the tasks that hold it, and the
//! number's virtual number (OpenVZ's `pid->vnr`/`pid->veid`), which outlives
//! the task while the number stays in use as a group or session ID. A
//! VPS's tasks are a list threaded through their slots ([`MemberList`]):
//! joining and leaving cost O(1) and allocate nothing.

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

/// One slot (24 bytes): the generation survives the task, so the next holder
/// of the PID gets a new one.
#[derive(Copy, Clone, Debug, Default)]
struct Slot {
    generation: u32,
    tgid: Option<RealPid>,
    /// The number's virtual number, in the VPS `vnr_vps - 1`.
    vnr: Option<VirtPid>,
    vnr_vps: u16,
    /// Which of [`GROUP_ID`] and [`SESSION_ID`] the number is in use as.
    id_uses: u8,
    /// The task's neighbours in its VPS's [`MemberList`].
    next_member: Option<RealPid>,
    prev_member: Option<RealPid>,
}

/// A number in use as a process group ID (see [`Tasks::set_id_use`]).
pub(super) const GROUP_ID: u8 = 1;
/// A number in use as a session ID.
pub(super) const SESSION_ID: u8 = 2;

/// The tasks of one VPS (threads and zombies included), a doubly-linked
/// list threaded through their slots, most recent first.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct MemberList {
    first: Option<RealPid>,
    len: u32,
}

impl MemberList {
    /// How many tasks the list holds.
    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether it holds none.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }
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

    /// Records whether `n` is in use as a group or session ID (`id` is
    /// [`GROUP_ID`] or [`SESSION_ID`]), so that [`Tasks::in_use`] needs no
    /// look-up in the table's maps.
    pub(super) fn set_id_use(&mut self, n: RealPid, id: u8, used: bool) {
        let slot = self.slot_mut(n);
        if used {
            slot.id_uses |= id;
        } else {
            slot.id_uses &= !id;
        }
    }

    /// Whether `n` is in use: as a task's PID, a group ID or a session ID.
    pub(super) fn in_use(&self, n: RealPid) -> bool {
        self.slots
            .get(slot_of(n))
            .is_some_and(|s| s.tgid.is_some() || s.id_uses != 0)
    }

    /// The slot of a number in use, for writing.
    fn slot_mut(&mut self, n: RealPid) -> &mut Slot {
        self.slots.get_mut_or_alloc(slot_of(n))
    }

    /// Puts task `real` (in no list) at the head of `list`.
    pub(super) fn push_member(&mut self, list: &mut MemberList, real: RealPid) {
        let old = list.first;
        let slot = self.slot_mut(real);
        slot.next_member = old;
        slot.prev_member = None;
        if let Some(f) = old {
            self.slot_mut(f).prev_member = Some(real);
        }
        list.first = Some(real);
        list.len += 1;
    }

    /// Takes task `real` out of `list`, which holds it.
    pub(super) fn unlink_member(&mut self, list: &mut MemberList, real: RealPid) {
        let slot = self.slot_mut(real);
        let (prev, next) = (slot.prev_member.take(), slot.next_member.take());
        match prev {
            Some(p) => self.slot_mut(p).next_member = next,
            None => list.first = next,
        }
        if let Some(n) = next {
            self.slot_mut(n).prev_member = prev;
        }
        list.len -= 1;
    }

    /// The tasks of `list`, most recent first.
    pub(super) fn members(&self, list: &MemberList) -> impl Iterator<Item = RealPid> + '_ {
        std::iter::successors(list.first, |m| {
            self.slots.get(slot_of(*m)).and_then(|s| s.next_member)
        })
    }

    /// How many numbers have a virtual number.
    pub(super) fn vnr_count(&self) -> usize {
        self.vnr_count
    }
}
