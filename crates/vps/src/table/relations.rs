//! The relations between processes, kept without a collection per process.
//!
//! A parent's children and a process group's members are intrusive
//! doubly-linked lists threaded through the processes themselves ([`Links`]:
//! five real-PID links per process, no allocation), so joining, leaving and
//! walking cost O(1), O(1) and O(size). A process's other threads are an
//! ordered set of pairs shared by the whole table ([`PairSet`]), empty for
//! the usual process with one thread; a range of the set lists one owner's
//! threads in order. Whether `waitpid` may report a child follows from the
//! child's own state (a zombie, an unreported stop or continue), so nothing
//! is kept for it: `waitpid` for one PID looks at that child, and `waitpid`
//! for any child walks the children list (as Linux's `do_wait` does), taking
//! the reportable ones in the order they joined their parent (fork or
//! adoption), which is the order in which Linux walks its children list.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Included, Unbounded};

use vpid_core::RealPid;

use super::Table;
use super::tasks::GROUP_ID;

/// The head of a process group's member list.
#[derive(Copy, Clone, Debug)]
pub(super) struct Group {
    /// The most recent member to join.
    pub(super) first: RealPid,
    /// How many processes (zombies included) the group has.
    pub(super) len: u32,
}

/// A process's places in its parent's child list and its group's member list.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct Links {
    first_child: Option<RealPid>,
    last_child: Option<RealPid>,
    next_sibling: Option<RealPid>,
    prev_sibling: Option<RealPid>,
    next_in_group: Option<RealPid>,
    prev_in_group: Option<RealPid>,
}

/// Pairs `(leader, thread)`.
pub(super) type PairSet = BTreeSet<(RealPid, RealPid)>;

/// The members of `owner` in a pair set, ascending, starting after `after`.
pub(super) fn members_after(
    set: &PairSet,
    owner: RealPid,
    after: Option<RealPid>,
) -> impl Iterator<Item = RealPid> + '_ {
    let start = match after {
        Some(last) => Excluded((owner, last)),
        None => Included((owner, RealPid::INIT)),
    };
    set.range((start, Unbounded))
        .take_while(move |(o, _)| *o == owner)
        .map(|(_, m)| *m)
}

impl Table {
    // ----- children -----

    /// The children of `parent` (zombies included), in the order they joined
    /// it: forked ones in fork order, adopted ones appended as they came, as
    /// Linux keeps its children list (and `waitpid` walks it).
    pub(super) fn children(&self, parent: RealPid) -> impl Iterator<Item = RealPid> + '_ {
        std::iter::successors(self.proc(parent).links.first_child, |c| {
            self.proc(*c).links.next_sibling
        })
    }

    /// The oldest child of `parent`, if it has any.
    pub(super) fn first_child(&self, parent: RealPid) -> Option<RealPid> {
        self.proc(parent).links.first_child
    }

    /// Whether `parent` has a child.
    pub(super) fn has_children(&self, parent: RealPid) -> bool {
        self.first_child(parent).is_some()
    }

    /// The thread whose list of children holds `child`: the thread of its
    /// parent that forked it (or adopted it), the parent's leader for most.
    pub(super) fn parent_thread(&self, child: RealPid) -> Option<RealPid> {
        let c = self.proc(child);
        c.parent_thread.or(c.parent)
    }

    /// The threads of `leader`'s process in the order its children lists
    /// are walked by `waitpid` from `caller`: the caller's first, then the
    /// others in the thread list's order (the leader, then the rest by
    /// creation, which here is their ascending real PID), round from the
    /// caller.
    pub(super) fn wait_order(&self, leader: RealPid, caller: RealPid) -> Vec<RealPid> {
        let mut threads: Vec<RealPid> = std::iter::once(leader)
            .chain(self.threads_of(leader))
            .collect();
        if let Some(at) = threads.iter().position(|&t| t == caller) {
            threads.rotate_left(at);
        }
        threads
    }

    /// Whether `child` is a process whose parent is `parent`.
    pub(super) fn is_child_of(&self, child: RealPid, parent: RealPid) -> bool {
        self.procs
            .get(&child)
            .is_some_and(|c| c.parent == Some(parent))
    }

    /// Makes `child` (in no child list) a child of `parent`.
    pub(super) fn link_child(&mut self, parent: RealPid, child: RealPid) {
        let last = self.proc(parent).links.last_child;
        let c = self.proc_mut(child);
        c.parent = Some(parent);
        c.parent_thread = None;
        c.links.prev_sibling = last;
        c.links.next_sibling = None;
        match last {
            Some(l) => self.proc_mut(l).links.next_sibling = Some(child),
            None => self.proc_mut(parent).links.first_child = Some(child),
        }
        self.proc_mut(parent).links.last_child = Some(child);
    }

    /// Takes `child` out of its parent's child list; its
    /// `parent` field is left for the caller to change.
    pub(super) fn unlink_child(&mut self, child: RealPid) {
        let c = self.proc(child);
        let Some(parent) = c.parent else { return };
        let (prev, next) = (c.links.prev_sibling, c.links.next_sibling);
        match prev {
            Some(p) => self.proc_mut(p).links.next_sibling = next,
            None => self.proc_mut(parent).links.first_child = next,
        }
        match next {
            Some(n) => self.proc_mut(n).links.prev_sibling = prev,
            None => self.proc_mut(parent).links.last_child = prev,
        }
        let c = self.proc_mut(child);
        c.links.prev_sibling = None;
        c.links.next_sibling = None;
    }

    /// Whether `child`'s parent may report it.
    pub(super) fn is_waitable(&self, child: RealPid) -> bool {
        self.proc(child).is_waitable()
    }

    // ----- process groups -----

    /// The members of group `pgid` (zombies included), most recent first.
    pub(super) fn group_list(&self, pgid: RealPid) -> impl Iterator<Item = RealPid> + '_ {
        std::iter::successors(self.groups.get(&pgid).map(|g| g.first), |m| {
            self.proc(*m).links.next_in_group
        })
    }

    /// How many processes group `pgid` has.
    pub(super) fn group_len(&self, pgid: RealPid) -> usize {
        self.groups.get(&pgid).map_or(0, |g| g.len as usize)
    }

    /// Puts `leader` (in no group list) at the head of group `pgid`'s list.
    pub(super) fn join_group(&mut self, leader: RealPid, pgid: RealPid) {
        let group = self.groups.entry(pgid).or_insert(Group {
            first: leader,
            len: 0,
        });
        let first = (group.len > 0).then_some(group.first);
        group.first = leader;
        group.len += 1;
        let p = self.proc_mut(leader);
        p.links.next_in_group = first;
        p.links.prev_in_group = None;
        match first {
            Some(f) => self.proc_mut(f).links.prev_in_group = Some(leader),
            None => self.tasks.set_id_use(pgid, GROUP_ID, true),
        }
    }

    /// Takes `leader` out of group `pgid`'s list; an empty group is removed.
    pub(super) fn leave_group(&mut self, leader: RealPid, pgid: RealPid) {
        let p = self.proc(leader);
        let (prev, next) = (p.links.prev_in_group, p.links.next_in_group);
        if let Some(n) = next {
            self.proc_mut(n).links.prev_in_group = prev;
        }
        if let Some(pr) = prev {
            self.proc_mut(pr).links.next_in_group = next;
        }
        let p = self.proc_mut(leader);
        p.links.prev_in_group = None;
        p.links.next_in_group = None;
        if let Some(group) = self.groups.get_mut(&pgid) {
            group.len -= 1;
            match next {
                _ if group.len == 0 => {
                    self.groups.remove(&pgid);
                    self.tasks.set_id_use(pgid, GROUP_ID, false);
                }
                Some(n) if prev.is_none() => group.first = n,
                _ => {}
            }
        }
    }

    // ----- threads and waitable children -----

    /// The threads of `leader`'s process other than the leader, ascending.
    pub(super) fn threads_of(&self, leader: RealPid) -> impl Iterator<Item = RealPid> + '_ {
        members_after(&self.threads, leader, None)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use vpid_core::{CloneFlags, RealPid, WaitOptions};

    use super::super::Table;
    use crate::ids::TaskRef;
    use crate::index::ReadIndex;

    fn table() -> (Table, TaskRef) {
        Table::new(4096, Arc::new(ReadIndex::new(4096))).expect("a table")
    }

    fn set(pids: impl Iterator<Item = RealPid>) -> BTreeSet<i32> {
        pids.map(RealPid::as_raw).collect()
    }

    #[test]
    fn lists_survive_removal_at_the_head_middle_and_tail() {
        let (mut t, init) = table();
        let kids: Vec<TaskRef> = (0..5)
            .map(|_| t.fork(init, CloneFlags::empty(), None).expect("fork").child)
            .collect();
        let raw = |k: &TaskRef| k.real().as_raw();
        // Groups: kids 1..=3 join a group led by kid 1 (head, middle, tail).
        for k in &kids[1..4] {
            t.setpgid(init, raw(k), raw(&kids[1])).expect("setpgid");
        }
        let g = kids[1].real();
        assert_eq!(
            set(t.group_list(g)),
            [raw(&kids[1]), raw(&kids[2]), raw(&kids[3])].into()
        );
        assert_eq!(t.group_len(g), 3);
        // Exit and reap the middle member, then the most recent (the head of
        // both lists), then the oldest (their tail).
        for k in [&kids[2], &kids[4], &kids[0]] {
            t.exit(*k, 0).expect("exit");
            let waited = t.waitpid(init, raw(k), WaitOptions::empty()).expect("wait");
            assert_eq!(waited.map(|w| w.pid), Some(raw(k)));
            t.audit().expect("invariants");
        }
        assert_eq!(
            set(t.children(init.real())),
            [raw(&kids[1]), raw(&kids[3])].into()
        );
        assert_eq!(set(t.group_list(g)), [raw(&kids[1]), raw(&kids[3])].into());
        // The last member to join leaves for a group of its own, and rejoins.
        t.setpgid(init, raw(&kids[3]), 0).expect("own group");
        assert_eq!(set(t.group_list(g)), [raw(&kids[1])].into());
        assert_eq!(set(t.group_list(kids[3].real())), [raw(&kids[3])].into());
        t.setpgid(init, raw(&kids[3]), raw(&kids[1]))
            .expect("rejoin");
        assert_eq!(t.group_len(g), 2);
        t.audit().expect("invariants");
    }

    #[test]
    fn waitpid_reports_children_in_the_order_they_joined() {
        let (mut t, init) = table();
        let kids: Vec<TaskRef> = (0..4)
            .map(|_| t.fork(init, CloneFlags::empty(), None).expect("fork").child)
            .collect();
        for k in kids.iter().rev() {
            t.exit(*k, 0).expect("exit");
        }
        let reported: Vec<Option<i32>> = kids
            .iter()
            .map(|_| {
                let waited = t.waitpid(init, -1, WaitOptions::WNOHANG).expect("wait");
                waited.map(|w| w.pid)
            })
            .collect();
        let want: Vec<Option<i32>> = kids.iter().map(|k| Some(k.real().as_raw())).collect();
        assert_eq!(reported, want);
        assert!(!t.has_children(init.real()));
        assert_eq!(
            t.waitpid(init, -1, WaitOptions::WNOHANG),
            Err(vpid_core::Errno::ECHILD)
        );
        t.audit().expect("invariants");
    }
}
