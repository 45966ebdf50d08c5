//! Fork, exit, and what follows an exit: reparenting, zombies, reaping.

use vpid_core::{CloneFlags, Errno, RawPid, RealPid, VPID_DIV, VirtPid};

use super::{HOST_INIT, RunState, Table};
use crate::disposition::Disposition;
use crate::ids::{Forked, TaskRef};
use crate::signal::Signal;
use crate::wait_status::WaitStatus;

impl Table {
    /// `clone`: see [`crate::Host::fork`].
    pub(crate) fn fork(
        &mut self,
        caller: TaskRef,
        flags: CloneFlags,
        chosen: Option<RawPid>,
    ) -> Result<Forked, Errno> {
        let leader = self.caller(caller)?;
        let proc = self.proc(leader);
        let vps = proc.vps();
        let thread = flags.contains(CloneFlags::CLONE_THREAD);
        let sibling = flags.contains(CloneFlags::CLONE_PARENT);
        if sibling && !thread && self.is_init(leader) {
            // Linux: an init (SIGNAL_UNKILLABLE) may not make siblings.
            return Err(Errno::EINVAL);
        }
        let parent = if sibling { proc.parent } else { Some(leader) };
        let (pgid, sid, disp) = (proc.pgid, proc.sid, proc.disp);
        let chosen = match vps {
            None => None, // the host ignores a requested vpid (OpenVZ)
            Some(slot) => {
                let vps = self.vps(slot);
                if vps.dying {
                    return Err(Errno::ENOMEM);
                }
                if let Some(want) = chosen {
                    // 1 only for the first process, which create_vps makes.
                    if want == 1 || want <= 0 || want & VPID_DIV == 0 || want >= self.pid_max {
                        return Err(Errno::EINVAL);
                    }
                }
                if vps.numproc.is_some_and(|n| vps.members.len() >= n as usize) {
                    return Err(Errno::EAGAIN);
                }
                chosen
            }
        };
        let cursor = self.alloc.last();
        let real = self.alloc.alloc()?;
        let virt = match vps {
            None => None,
            Some(slot) => match self.choose_vnr(slot, real, chosen) {
                Ok(v) => Some((slot, v)),
                Err(e) => {
                    let freed = self.alloc.free(real);
                    debug_assert!(freed.is_ok());
                    self.alloc.set_last(cursor);
                    return Err(e);
                }
            },
        };
        // Nothing can fail from here on.
        let tgid = if thread { leader } else { real };
        let child = self.insert_task(real, tgid, vps);
        if thread {
            self.threads.insert((leader, real));
        } else {
            self.insert_process(real, vps, parent, pgid, sid, disp);
            // The child is on the list of the thread that forked it (with
            // CLONE_PARENT, on the list its creator's process is on); a
            // leader's own fork leaves it on the leader's, as linked.
            if sibling {
                self.proc_mut(real).parent_thread = self.proc(leader).parent_thread;
            } else if caller.real() != leader {
                self.proc_mut(real).parent_thread = Some(caller.real());
            }
        }
        if let Some((slot, virt)) = virt {
            if !self.vps(slot).sparse && virt != real.to_linear_virt() {
                self.make_sparse(slot);
            }
            self.set_vnr(slot, real, virt);
        }
        self.publish(real);
        Ok(Forked {
            child,
            pid: self.visible(real, vps),
        })
    }

    /// The virtual number of a new task: the chosen one (`EEXIST` if taken)
    /// or the automatic one.
    fn choose_vnr(
        &mut self,
        slot: usize,
        real: RealPid,
        chosen: Option<RawPid>,
    ) -> Result<VirtPid, Errno> {
        match chosen {
            Some(want) if self.vnr_taken(slot, want) => Err(Errno::EEXIST),
            Some(want) => VirtPid::from_raw(want).ok_or(Errno::EINVAL),
            None => self.auto_vnr(slot, real),
        }
    }

    /// Whether a process is the host init or a VPS init.
    pub(super) fn is_init(&self, leader: RealPid) -> bool {
        leader == HOST_INIT
            || self
                .proc(leader)
                .vps()
                .is_some_and(|slot| self.vps(slot).init == leader)
    }

    /// `exit_group`: see [`crate::Host::exit`].
    pub(crate) fn exit(&mut self, caller: TaskRef, code: i32) -> Result<(), Errno> {
        let leader = self.caller(caller)?;
        if caller.real() != leader {
            // A thread other than the leader ends alone (pthread_exit) and
            // is released at once: threads are never waited for.
            let vps = self.proc(leader).vps();
            let thread = caller.real();
            // Its children go to the first live thread of the group, the
            // leader, at the end of its list (Linux's find_alive_thread; no
            // SIGCHLD within the group).
            let orphans: Vec<RealPid> = self
                .children(leader)
                .filter(|&c| self.proc(c).parent_thread == Some(thread))
                .collect();
            for child in orphans {
                self.unlink_child(child);
                self.link_child(leader, child);
            }
            self.threads.remove(&(leader, thread));
            self.remove_task(thread, vps);
            return Ok(());
        }
        if leader == HOST_INIT {
            return Err(Errno::EPERM); // the kernel would panic
        }
        self.exit_group(leader, WaitStatus::Exited(code & 0xff));
        Ok(())
    }

    /// Ends a live process (every thread) with `status`. Not for the host init.
    pub(super) fn exit_group(&mut self, leader: RealPid, status: WaitStatus) {
        debug_assert!(leader != HOST_INIT && !self.proc(leader).is_zombie());
        let vps = self.proc(leader).vps();
        if let Some(slot) = vps {
            if self.vps(slot).init == leader {
                self.zap_vps(slot, leader);
            }
        }
        let threads: Vec<RealPid> = self.threads_of(leader).collect();
        for thread in threads {
            self.threads.remove(&(leader, thread));
            self.remove_task(thread, vps);
        }
        while let Some(child) = self.first_child(leader) {
            let reaper = self.reaper_for(child, leader);
            self.reparent(child, reaper);
        }
        let proc = self.proc_mut(leader);
        proc.run = RunState::Zombie(status);
        proc.pending = 0;
        proc.stop_unreported = false;
        proc.continued_unreported = false;
        self.republish(leader);
        self.notify_parent_of_exit(leader);
    }

    /// What OpenVZ's `do_initproc_exit` does when a VPS init exits: mark the
    /// VPS dying, kill every other process in it, and reap the init's zombie
    /// children.
    fn zap_vps(&mut self, slot: usize, init: RealPid) {
        self.vps_mut(slot).dying = true;
        let mut victims: Vec<RealPid> = self
            .members(slot)
            .filter(|&t| t != init && self.procs.contains_key(&t))
            .collect();
        victims.sort_unstable();
        for victim in victims {
            if self.procs.get(&victim).is_some_and(|p| !p.is_zombie()) {
                self.exit_group(victim, WaitStatus::Signaled(Signal::SIGKILL));
            }
        }
        let zombies: Vec<RealPid> = self
            .children(init)
            .filter(|c| self.proc(*c).is_zombie())
            .collect();
        for zombie in zombies {
            self.reap(zombie);
        }
    }

    /// Who adopts `child` when its parent `dying` exits: the init of the
    /// child's VPS (OpenVZ: `owner_env->init_entry`), unless the child is
    /// that init or the init is the one exiting; else the host init.
    fn reaper_for(&self, child: RealPid, dying: RealPid) -> RealPid {
        match self.proc(child).vps() {
            Some(slot) => {
                let init = self.vps(slot).init;
                let init_alive = self.procs.get(&init).is_some_and(|p| !p.is_zombie());
                if init != child && init != dying && init_alive {
                    init
                } else {
                    HOST_INIT
                }
            }
            None => HOST_INIT,
        }
    }

    /// Gives `child` a new parent; a zombie is then notified to it afresh.
    fn reparent(&mut self, child: RealPid, reaper: RealPid) {
        self.unlink_child(child);
        self.link_child(reaper, child);
        let proc = self.proc_mut(child);
        if reaper == HOST_INIT {
            proc.adopted_by_host_init = true;
        }
        let zombie = proc.is_zombie();
        if zombie {
            self.notify_parent_of_exit(child);
        }
    }

    /// After `leader` became a zombie: the host init reaps what it adopted,
    /// a parent ignoring SIGCHLD reaps at once, a parent with a SIGCHLD
    /// handler gets SIGCHLD pending.
    fn notify_parent_of_exit(&mut self, leader: RealPid) {
        let proc = self.proc(leader);
        let Some(parent) = proc.parent else { return };
        let auto_reap = proc.adopted_by_host_init
            || self.proc(parent).disp.get(Signal::SIGCHLD) == Disposition::Ignore;
        if auto_reap {
            self.reap(leader);
        } else {
            self.send_sigchld(parent);
        }
    }

    /// Releases a zombie process: its PID, its group and session membership,
    /// and its VPS once that VPS is dying and empty.
    pub(super) fn reap(&mut self, leader: RealPid) {
        debug_assert!(self.proc(leader).is_zombie() && self.threads_of(leader).next().is_none());
        self.unlink_child(leader);
        while let Some(child) = self.first_child(leader) {
            // Only a forced reap (destroy_vps) can leave children behind.
            self.reparent(child, HOST_INIT);
        }
        let pgid = self.proc(leader).pgid;
        self.leave_group(leader, pgid);
        let proc = self.procs.remove(&leader).expect("a zombie to reap");
        self.leave_session(proc.sid);
        self.release_number(proc.pgid);
        self.release_number(proc.sid);
        self.remove_task(leader, proc.vps());
    }

    /// Removes one task (thread or leader whose process is gone or going).
    fn remove_task(&mut self, real: RealPid, vps: Option<usize>) {
        self.tasks.remove(real);
        self.ix.unpublish(real);
        self.release_number(real);
        if let Some(slot) = vps {
            self.remove_member(slot, real);
            let v = self.vps(slot);
            if v.dying && v.members.is_empty() {
                self.remove_vps(slot);
            }
        }
    }
}
