//! Process groups and sessions: `setpgid` and `setsid`.

use vpid_core::{Errno, RawPid, RealPid};

use super::Table;
use crate::ids::TaskRef;

impl Table {
    /// `setpgid`, with Linux's checks in Linux's order and OpenVZ's lookup.
    pub(crate) fn setpgid(
        &mut self,
        caller: TaskRef,
        pid: RawPid,
        pgid: RawPid,
    ) -> Result<(), Errno> {
        let leader = self.caller(caller)?;
        let ctx = self.proc(leader).vps();
        let pid = if pid == 0 {
            self.visible(leader, ctx)
        } else {
            pid
        };
        let pgid = if pgid == 0 { pid } else { pgid };
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let target = self.find_task(ctx, pid)?;
        if self.tasks.at(target).tgid != target {
            return Err(Errno::EINVAL); // not a thread-group leader
        }
        let (caller_sid, target_proc) = (self.proc(leader).sid, self.proc(target));
        if target_proc.parent == Some(leader) {
            if target_proc.sid != caller_sid {
                return Err(Errno::EPERM);
            }
            if target_proc.did_exec {
                return Err(Errno::EACCES);
            }
        } else if target != leader {
            return Err(Errno::ESRCH);
        }
        if target_proc.sid == target {
            return Err(Errno::EPERM); // a session leader
        }
        let group = if pgid == pid {
            target
        } else {
            let group = self.resolve(ctx, pgid).ok_or(Errno::EPERM)?;
            let same_session = self
                .group_list(group)
                .next()
                .is_some_and(|m| self.proc(m).sid == caller_sid);
            if !same_session {
                return Err(Errno::EPERM);
            }
            group
        };
        self.change_group(target, group);
        Ok(())
    }

    /// `setsid`: the caller's process leads a new session and group.
    pub(crate) fn setsid(&mut self, caller: TaskRef) -> Result<RawPid, Errno> {
        let leader = self.caller(caller)?;
        let proc = self.proc(leader);
        if proc.sid == leader || (leader.as_raw() > 1 && self.groups.contains_key(&leader)) {
            return Err(Errno::EPERM);
        }
        let old_sid = proc.sid;
        self.change_group(leader, leader);
        self.proc_mut(leader).sid = leader;
        self.leave_session(old_sid);
        self.join_session(leader);
        self.release_number(old_sid);
        Ok(self.visible(leader, self.proc(leader).vps()))
    }

    /// Whether a process is alone in both its process group and its session.
    pub(super) fn alone_in_group_and_session(&self, leader: RealPid) -> bool {
        let proc = self.proc(leader);
        self.group_len(proc.pgid) == 1 && self.sessions.get(&proc.sid) == Some(&1)
    }
}
