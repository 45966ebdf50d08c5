//! Dump a VPS to a [`VpsImage`] and recreate one from it (OpenVZ's CPT).
//!
//! Both run with the host's lock held, so a dump is a consistent cut and a
//! restore is atomic: it takes every real PID it needs first, and once it
//! has them nothing can fail.

use std::collections::HashMap;

use vpid_core::{Errno, RealPid, VirtPid};

use super::{HOST_INIT, RunState, Table};
use crate::checkpoint::image::{SettingsImage, TaskImage, TaskStateImage, exit_status};
use crate::checkpoint::{CheckpointError, VpsImage};
use crate::disposition::Dispositions;
use crate::ids::{TaskRef, VpsId};
use crate::signal::Signal;

impl Table {
    /// The image of a VPS, in its own numbers. See [`crate::Host::checkpoint`].
    pub(crate) fn checkpoint_image(&self, id: VpsId) -> Result<VpsImage, CheckpointError> {
        let slot = *self.vps_slots.get(&id).ok_or(Errno::ESRCH)?;
        let vps = self.vps(slot);
        if vps.dying {
            return Err(CheckpointError::Dying);
        }
        let virt = |n: RealPid, real: RealPid, reason: &'static str| match self.tasks.vnr(n) {
            Some((s, v)) if s == slot => Ok(v.as_raw()),
            _ => Err(CheckpointError::NotCheckpointable {
                real: real.as_raw(),
                reason,
            }),
        };
        let mut tasks = Vec::with_capacity(vps.members.len());
        let ranks = self.child_ranks(slot);
        let mut orphan_ids = Vec::new();
        for real in self.members(slot) {
            let leader = self.tasks.at(real).tgid;
            let proc = self.proc(leader);
            let vppid = if leader == vps.init {
                0
            } else {
                match proc.parent {
                    Some(p) if self.proc(p).vps() == Some(slot) => {
                        virt(p, real, "its parent has no virtual pid")?
                    }
                    _ => {
                        return Err(CheckpointError::NotCheckpointable {
                            real: real.as_raw(),
                            reason: "its parent is outside the vps",
                        });
                    }
                }
            };
            for id in [proc.pgid, proc.sid] {
                if !(self.tasks.contains(id) && self.vps_of_task(id) == Some(slot)) {
                    orphan_ids.push(virt(id, real, "its group or session is outside the vps")?);
                }
            }
            let vpthread = match proc.parent_thread {
                Some(thread) if real == leader => {
                    virt(thread, real, "its parent thread has no virtual pid")?
                }
                _ => 0,
            };
            let (ignored, handled) = proc.disp.masks();
            tasks.push(TaskImage {
                vpid: virt(real, real, "it entered from the host and kept its real pid")?,
                vtgid: virt(leader, real, "its thread group has no virtual pid")?,
                vppid,
                vpthread,
                child_rank: ranks.get(&real).copied().unwrap_or(0),
                vpgid: virt(proc.pgid, real, "its process group has no virtual id")?,
                vsid: virt(proc.sid, real, "its session has no virtual id")?,
                state: match proc.run {
                    RunState::Running => TaskStateImage::Running,
                    RunState::Stopped(sig) => TaskStateImage::Stopped { signal: sig.0 },
                    RunState::Zombie(status) => TaskStateImage::Zombie {
                        wstatus: status.raw(),
                    },
                },
                ignored,
                handled,
                pending: proc.pending,
                stop_unreported: proc.stop_unreported,
                continued_unreported: proc.continued_unreported,
                did_exec: proc.did_exec,
            });
        }
        tasks.sort_unstable_by_key(|t| t.vpid);
        orphan_ids.sort_unstable();
        orphan_ids.dedup();
        Ok(VpsImage {
            settings: SettingsImage {
                numproc: vps.numproc,
                sparse: vps.sparse,
                pid_max: self.pid_max,
            },
            tasks,
            orphan_ids,
        })
    }

    /// Each process of the VPS in `slot`: its place among its parent's
    /// children in that VPS, in the order they joined the parent (the order
    /// of the children list); each thread: its place among its process's
    /// threads. Each list is walked once.
    fn child_ranks(&self, slot: usize) -> HashMap<RealPid, u32> {
        let mut ranks = HashMap::new();
        for real in self.members(slot) {
            if ranks.contains_key(&real) {
                continue; // ranked with its siblings already
            }
            let leader = self.tasks.at(real).tgid;
            if leader != real {
                for (rank, thread) in (0u32..).zip(self.threads_of(leader)) {
                    ranks.insert(thread, rank);
                }
                continue;
            }
            let Some(parent) = self.proc(real).parent else {
                continue;
            };
            let siblings = self
                .children(parent)
                .filter(|c| self.proc(*c).vps() == Some(slot));
            for (rank, child) in (0u32..).zip(siblings) {
                ranks.insert(child, rank);
            }
        }
        ranks
    }

    /// Recreates a VPS from an image that [`VpsImage::validate`] accepted for
    /// this host's `pid_max`. See [`crate::Host::restore`].
    pub(crate) fn restore_image(&mut self, image: &VpsImage, id: VpsId) -> Result<TaskRef, Errno> {
        let slot = self.vacant_slot(id)?;
        // Every real number first: the only step that can fail.
        let numbers: Vec<i32> = image
            .tasks
            .iter()
            .map(|t| t.vpid)
            .chain(image.orphan_ids.iter().copied())
            .collect();
        let reals = self.alloc.alloc_many(numbers.len())?;
        // Nothing can fail from here on.
        let mut real_of: HashMap<i32, RealPid> = numbers.iter().copied().zip(reals).collect();
        keep_thread_order(image, &mut real_of);
        let sparse = real_of
            .iter()
            .any(|(&virt, real)| virt != 1 && virt != real.to_linear_virt().as_raw());
        let init = real_of[&1];
        self.install_vps(slot, id, init, image.settings.numproc, sparse);
        for (&virt, &real) in &real_of {
            let virt = VirtPid::from_raw(virt).expect("a validated virtual pid");
            self.set_vnr(slot, real, virt);
        }

        let mut init_task = None;
        for t in processes_parents_first(image) {
            let real = real_of[&t.vpid];
            let parent = if t.vppid == 0 {
                HOST_INIT
            } else {
                real_of[&t.vppid]
            };
            let task = self.insert_task(real, real, Some(slot));
            if t.vpid == 1 {
                init_task = Some(task);
            }
            let disp = Dispositions::from_masks(t.ignored, t.handled);
            let (pgid, sid) = (real_of[&t.vpgid], real_of[&t.vsid]);
            self.insert_process(real, Some(slot), Some(parent), pgid, sid, disp);
            let proc = self.proc_mut(real);
            proc.run = match t.state {
                TaskStateImage::Running => RunState::Running,
                TaskStateImage::Stopped { signal } => RunState::Stopped(Signal(signal)),
                TaskStateImage::Zombie { wstatus } => {
                    RunState::Zombie(exit_status(wstatus).expect("a validated exit status"))
                }
            };
            proc.pending = t.pending;
            proc.stop_unreported = t.stop_unreported;
            proc.continued_unreported = t.continued_unreported;
            proc.did_exec = t.did_exec;
        }
        for t in image.tasks.iter().filter(|t| t.vpthread != 0) {
            self.proc_mut(real_of[&t.vpid]).parent_thread = Some(real_of[&t.vpthread]);
        }
        for t in image.tasks.iter().filter(|t| t.vtgid != t.vpid) {
            let (real, leader) = (real_of[&t.vpid], real_of[&t.vtgid]);
            self.insert_task(real, leader, Some(slot));
            self.threads.insert((leader, real));
        }
        for t in &image.tasks {
            self.publish(real_of[&t.vpid]);
        }
        Ok(init_task.expect("a validated image has an init"))
    }
}

/// Gives each process's threads its real PIDs in the order the threads were
/// created (their rank), so that they keep their order (threads are
/// ordered by real PID) whatever their virtual IDs.
fn keep_thread_order(image: &VpsImage, real_of: &mut HashMap<i32, RealPid>) {
    let mut threads: HashMap<i32, Vec<&TaskImage>> = HashMap::new();
    for t in image.tasks.iter().filter(|t| t.vtgid != t.vpid) {
        threads.entry(t.vtgid).or_default().push(t);
    }
    for mut group in threads.into_values() {
        group.sort_unstable_by_key(|t| (t.child_rank, t.vpid));
        let mut reals: Vec<RealPid> = group.iter().map(|t| real_of[&t.vpid]).collect();
        reals.sort_unstable();
        for (t, real) in group.iter().zip(reals) {
            real_of.insert(t.vpid, real);
        }
    }
}

/// The processes (thread-group leaders) of a validated image, each after its
/// parent and after its older siblings (by `child_rank`): breadth first from
/// the init, so every parent's children join it in their original order.
fn processes_parents_first(image: &VpsImage) -> Vec<&TaskImage> {
    let mut children: HashMap<i32, Vec<&TaskImage>> = HashMap::new();
    let mut order = Vec::with_capacity(image.tasks.len());
    for t in image.tasks.iter().filter(|t| t.vtgid == t.vpid) {
        if t.vppid == 0 {
            order.push(t);
        } else {
            children.entry(t.vppid).or_default().push(t);
        }
    }
    let mut next = 0;
    while let Some(&t) = order.get(next) {
        if let Some(mut kids) = children.remove(&t.vpid) {
            kids.sort_unstable_by_key(|k| (k.child_rank, k.vpid));
            order.extend(kids);
        }
        next += 1;
    }
    order
}
