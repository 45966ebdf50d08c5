//! VPSes: create (with the init at virtual PID 1), destroy, enter, queries.

use vpid_core::{Errno, RawPid, RealPid, VirtPid};

use super::{HOST_INIT, Map, MemberList, Table, Vps};
use crate::config::VpsConfig;
use crate::disposition::Dispositions;
use crate::ids::{TaskRef, VpsId};
use crate::signal::Signal;

impl Table {
    /// `VE_CREATE`: see [`crate::Host::create_vps`].
    pub(crate) fn create_vps(
        &mut self,
        caller: TaskRef,
        id: VpsId,
        config: VpsConfig,
    ) -> Result<TaskRef, Errno> {
        let creator = self.caller(caller)?;
        if self.proc(creator).vps().is_some() {
            return Err(Errno::EPERM); // no nesting, as OpenVZ
        }
        config.validate()?;
        let slot = self.vacant_slot(id)?;
        let init = self.alloc.alloc()?;
        self.install_vps(slot, id, init, config.numproc, false);
        let task = self.insert_task(init, init, Some(slot));
        // The init leads a new session and group (OpenVZ: set_special_pids).
        let disp = Dispositions::default();
        self.insert_process(init, Some(slot), Some(creator), init, init, disp);
        self.set_vnr(slot, init, VirtPid::INIT);
        self.publish(init);
        Ok(task)
    }

    /// The slot a new VPS `id` would take: `EINVAL` for the host's id,
    /// `EEXIST` for an id in use, `EAGAIN` when every slot is taken.
    pub(super) fn vacant_slot(&self, id: VpsId) -> Result<usize, Errno> {
        if id.is_host() {
            return Err(Errno::EINVAL);
        }
        if self.vps_slots.contains_key(&id) {
            return Err(Errno::EEXIST);
        }
        self.free_vps_slots.last().copied().ok_or(Errno::EAGAIN)
    }

    /// Puts a new, empty VPS in the slot [`Table::vacant_slot`] gave, with
    /// its init's real PID, and publishes it (sparse from the start if asked:
    /// a restore's numbers follow).
    pub(super) fn install_vps(
        &mut self,
        slot: usize,
        id: VpsId,
        init: RealPid,
        numproc: Option<u32>,
        sparse: bool,
    ) {
        let taken = self.free_vps_slots.pop();
        debug_assert_eq!(taken, Some(slot));
        self.vps_slots.insert(id, slot);
        self.vpses[slot] = Some(Vps {
            id,
            init,
            dying: false,
            sparse,
            numproc,
            members: MemberList::default(),
            v2r: Map::default(),
        });
        self.ix.publish_vps(slot, id, init);
        if sparse {
            self.ix.make_sparse(slot, std::iter::empty());
        }
    }

    /// Kills every task of a VPS from the host, reaps them all (even zombies
    /// whose parents have not waited) and frees the id.
    pub(crate) fn destroy_vps(&mut self, id: VpsId) -> Result<(), Errno> {
        let slot = *self.vps_slots.get(&id).ok_or(Errno::ESRCH)?;
        let init = self.vps(slot).init;
        if self.procs.get(&init).is_some_and(|p| !p.is_zombie()) {
            self.exit_group(init, crate::WaitStatus::Signaled(Signal::SIGKILL));
        }
        while let Some(slot) = self.vps_slots.get(&id).copied() {
            let next = self.members(slot).find(|m| self.procs.contains_key(m));
            match next {
                Some(zombie) => self.reap(zombie),
                None => break,
            }
        }
        debug_assert!(!self.vps_slots.contains_key(&id));
        Ok(())
    }

    /// Frees a VPS slot, once it has no member. Numbers that outlive the VPS
    /// (a host process that joined a group made inside it) lose their
    /// virtual number: with no member left, only group and session IDs can
    /// still carry one.
    pub(super) fn remove_vps(&mut self, slot: usize) {
        let Some(vps) = self.vpses[slot].take() else {
            return;
        };
        debug_assert!(vps.members.is_empty());
        let outliving: Vec<RealPid> = self
            .groups
            .keys()
            .chain(self.sessions.keys())
            .copied()
            .filter(|n| self.tasks.vnr(*n).is_some_and(|(s, _)| s == slot))
            .collect();
        for n in outliving {
            self.tasks.set_vnr(n, None);
        }
        self.vps_slots.remove(&vps.id);
        self.free_vps_slots.push(slot);
        self.ix.unpublish_vps(slot);
    }

    /// `VE_ENTER`: see [`crate::Host::enter`].
    pub(crate) fn enter(&mut self, task: TaskRef, id: VpsId) -> Result<RawPid, Errno> {
        let leader = self.caller(task)?;
        if task.real() != leader || self.threads_of(leader).next().is_some() {
            return Err(Errno::EINVAL); // single-threaded leaders only
        }
        if self.proc(leader).vps().is_some() || leader == HOST_INIT {
            return Err(Errno::EPERM);
        }
        let slot = *self.vps_slots.get(&id).ok_or(Errno::ESRCH)?;
        let vps = self.vps(slot);
        if vps.dying {
            return Err(Errno::ENOMEM);
        }
        if vps.numproc.is_some_and(|n| vps.members.len() >= n as usize) {
            return Err(Errno::EAGAIN);
        }
        if self.alone_in_group_and_session(leader) {
            let cursor = self.alloc.last();
            let virt = self.auto_vnr(slot, leader);
            let virt = virt.inspect_err(|_| self.alloc.set_last(cursor))?;
            self.set_vnr(slot, leader, virt);
        }
        self.proc_mut(leader).set_vps(slot);
        self.add_member(slot, leader);
        self.republish(leader);
        Ok(self.visible(leader, Some(slot)))
    }

    /// The ids of every VPS, dying ones included.
    pub(crate) fn vps_ids(&self) -> Vec<VpsId> {
        self.vps_slots.keys().copied().collect()
    }

    /// The init of a VPS (a zombie once it has exited); `ESRCH` once it
    /// has been reaped while the VPS lingers.
    pub(crate) fn vps_init(&self, id: VpsId) -> Result<TaskRef, Errno> {
        let slot = *self.vps_slots.get(&id).ok_or(Errno::ESRCH)?;
        let init = self.vps(slot).init;
        match self.tasks.get(init) {
            Some(task) if task.tgid == init => Ok(TaskRef::from_parts(init, task.generation)),
            _ => Err(Errno::ESRCH),
        }
    }

    /// Whether a VPS uses sparse mapping.
    pub(crate) fn is_sparse(&self, id: VpsId) -> Result<bool, Errno> {
        let slot = *self.vps_slots.get(&id).ok_or(Errno::ESRCH)?;
        Ok(self.vps(slot).sparse)
    }

    /// Whether a VPS's init has exited (it is dying until its last task is reaped).
    pub(crate) fn is_dying(&self, id: VpsId) -> Result<bool, Errno> {
        let slot = *self.vps_slots.get(&id).ok_or(Errno::ESRCH)?;
        Ok(self.vps(slot).dying)
    }
}
