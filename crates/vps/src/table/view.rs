//! Numbers as a viewer sees them: translation, lookup, identity, and `ps`.

use vpid_core::{Errno, RawPid, RealPid, has_marker_bit};

use super::{RunState, Table};
use crate::ids::TaskRef;
use crate::ps::{PsEntry, TaskState};

impl Table {
    /// A real number as seen from `ctx` (`None` = the host): its virtual
    /// number in that VPS if it has one; a host number reads as itself (as
    /// OpenVZ: "global pid can be used everywhere"); a number of another VPS
    /// reads as 0.
    pub(super) fn visible(&self, n: RealPid, ctx: Option<usize>) -> RawPid {
        let Some(slot) = ctx else { return n.as_raw() };
        match self.tasks.vnr(n) {
            Some((s, virt)) if s == slot => virt.as_raw(),
            Some(_) => 0,
            None => n.as_raw(),
        }
    }

    /// The real number a raw number stands for in `ctx` (OpenVZ `find_vpid`):
    /// inside a VPS, 1 and marker-bit numbers go through its map and other
    /// numbers are real; on the host, marker-bit numbers name nothing.
    pub(super) fn resolve(&self, ctx: Option<usize>, raw: RawPid) -> Option<RealPid> {
        match ctx {
            Some(slot) if raw == 1 || (raw > 0 && has_marker_bit(raw)) => {
                self.virt_to_real(slot, raw)
            }
            _ => RealPid::from_raw(raw),
        }
    }

    /// Whether a process in `vps` may be reached from `ctx` (OpenVZ
    /// `ve_accessible`): the host reaches everything, a VPS only itself.
    pub(super) fn accessible(&self, ctx: Option<usize>, vps: Option<usize>) -> bool {
        ctx.is_none() || ctx == vps
    }

    /// `find_task_by_pid_ve`: the task a raw number names from `ctx`.
    /// vpid-check: raw=view
    pub(super) fn find_task(&self, ctx: Option<usize>, raw: RawPid) -> Result<RealPid, Errno> {
        let n = self.resolve(ctx, raw).ok_or(Errno::ESRCH)?;
        if self.tasks.contains(n) && self.accessible(ctx, self.vps_of_task(n)) {
            Ok(n)
        } else {
            Err(Errno::ESRCH)
        }
    }

    /// The VPS slot a caller sees from (`None` = the host).
    pub(crate) fn context(&self, caller: TaskRef) -> Result<Option<usize>, Errno> {
        let leader = self.caller(caller)?;
        Ok(self.proc(leader).vps())
    }

    /// The parent of a process as `ctx` sees it: 0 if it has none or it is
    /// outside `ctx` (a VPS init's parent, an entered task's host parent).
    fn parent_seen(&self, leader: RealPid, ctx: Option<usize>) -> RawPid {
        match self.proc(leader).parent {
            Some(p) if self.accessible(ctx, self.proc(p).vps()) => self.visible(p, ctx),
            _ => 0,
        }
    }

    /// `getppid`.
    pub(crate) fn getppid(&self, caller: TaskRef) -> Result<RawPid, Errno> {
        let leader = self.caller(caller)?;
        Ok(self.parent_seen(leader, self.proc(leader).vps()))
    }

    /// The process `pid` names for `getpgid`/`getsid` (0 = the caller).
    /// vpid-check: pid=view
    fn id_target(&self, caller: TaskRef, pid: RawPid) -> Result<(RealPid, Option<usize>), Errno> {
        let leader = self.caller(caller)?;
        let ctx = self.proc(leader).vps();
        let target = match pid {
            0 => leader,
            p => self.tasks.at(self.find_task(ctx, p)?).tgid,
        };
        Ok((target, ctx))
    }

    /// `getpgid`.
    pub(crate) fn getpgid(&self, caller: TaskRef, pid: RawPid) -> Result<RawPid, Errno> {
        let (target, ctx) = self.id_target(caller, pid)?;
        Ok(self.visible(self.proc(target).pgid, ctx))
    }

    /// `getsid`.
    pub(crate) fn getsid(&self, caller: TaskRef, pid: RawPid) -> Result<RawPid, Errno> {
        let (target, ctx) = self.id_target(caller, pid)?;
        Ok(self.visible(self.proc(target).sid, ctx))
    }

    /// The `ps` view from `ctx`, sorted by PID.
    pub(crate) fn ps(&self, ctx: Option<usize>) -> Vec<PsEntry> {
        let mut out: Vec<PsEntry> = match ctx {
            None => self.all_tasks().map(|t| self.ps_entry(t, None)).collect(),
            Some(slot) => self.members(slot).map(|t| self.ps_entry(t, ctx)).collect(),
        };
        out.sort_unstable_by_key(|e| (e.pid, e.task.real()));
        out
    }

    fn ps_entry(&self, real: RealPid, ctx: Option<usize>) -> PsEntry {
        let task = self.tasks.at(real);
        let proc = self.proc(task.tgid);
        let (state, exit_status) = match proc.run {
            RunState::Running => (TaskState::Running, None),
            RunState::Stopped(_) => (TaskState::Stopped, None),
            RunState::Zombie(status) => (TaskState::Zombie, Some(status)),
        };
        let host_view = ctx.is_none();
        PsEntry {
            pid: self.visible(real, ctx),
            tgid: self.visible(task.tgid, ctx),
            ppid: self.parent_seen(task.tgid, ctx),
            pgid: self.visible(proc.pgid, ctx),
            sid: self.visible(proc.sid, ctx),
            state,
            exit_status,
            vps: proc.vps().filter(|_| host_view).map(|s| self.vps(s).id),
            vpid: proc
                .vps()
                .filter(|_| host_view)
                .map(|s| self.visible(real, Some(s))),
            task: TaskRef::from_parts(real, task.generation),
        }
    }
}
