//! `waitpid` in all its forms.

use vpid_core::{Errno, RawPid, RealPid, WaitOptions};

use super::{RunState, Table};
use crate::ids::TaskRef;
use crate::wait_status::{WaitStatus, Waited};

/// Which children a `waitpid` call asks about.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
enum WaitFor {
    Any,
    Pid(RealPid),
    Group(RealPid),
    /// A number that names nothing in the caller's view: no child matches.
    Nothing,
}

/// The options `wait4` accepts (the rest is `EINVAL`, as Linux).
const WAIT4_OPTIONS: WaitOptions = WaitOptions::WNOHANG
    .union(WaitOptions::WUNTRACED)
    .union(WaitOptions::WCONTINUED)
    .union(WaitOptions::WNOTHREAD)
    .union(WaitOptions::WCLONE)
    .union(WaitOptions::WALL);

impl Table {
    /// `wait4`: see [`crate::Host::waitpid`].
    pub(crate) fn waitpid(
        &mut self,
        caller: TaskRef,
        pid: RawPid,
        options: WaitOptions,
    ) -> Result<Option<Waited>, Errno> {
        let leader = self.caller(caller)?;
        if !WAIT4_OPTIONS.contains(options) {
            return Err(Errno::EINVAL);
        }
        // Each thread has its own list of children; `waitpid` walks the
        // caller's first, then the other threads' (only the caller's with
        // __WNOTHREAD). A single-threaded process has one list: nothing to
        // order, nothing allocated (the usual case, and fork-exit's hot
        // path).
        let single_threaded = self.threads_of(leader).next().is_none();
        let only_callers = options.contains(WaitOptions::WNOTHREAD) && !single_threaded;
        let on_walked_list = |table: &Table, child: RealPid| {
            !only_callers || table.parent_thread(child) == Some(caller.real())
        };
        if pid == i32::MIN {
            return Err(Errno::ESRCH);
        }
        let ctx = self.proc(leader).vps();
        let want = match pid {
            -1 => WaitFor::Any,
            0 => WaitFor::Group(self.proc(leader).pgid),
            p if p > 0 => self.resolve(ctx, p).map_or(WaitFor::Nothing, WaitFor::Pid),
            p => self
                .resolve(ctx, -p)
                .map_or(WaitFor::Nothing, WaitFor::Group),
        };
        let fits = |table: &Table, child: RealPid| {
            let proc = table.proc(child);
            let wanted = match want {
                WaitFor::Any => true,
                WaitFor::Pid(p) => p == child,
                WaitFor::Group(g) => g == proc.pgid,
                WaitFor::Nothing => false,
            };
            wanted && table.accessible(ctx, proc.vps()) && on_walked_list(table, child)
        };
        // Is there any matching child at all? (ECHILD if not.) Each form
        // looks only where its children can be.
        let matched = match want {
            WaitFor::Any => self.children(leader).any(|c| fits(self, c)),
            WaitFor::Pid(p) => self.is_child_of(p, leader) && fits(self, p),
            WaitFor::Group(g) => self
                .group_list(g)
                .any(|m| self.is_child_of(m, leader) && fits(self, m)),
            WaitFor::Nothing => false,
        };
        if !matched {
            return Err(Errno::ECHILD);
        }
        // The first waitable child that fits and is reportable with these
        // options, thread by thread, each thread's children in the order
        // they joined it (a specific PID looks only at itself).
        let report = |child: RealPid| -> Option<(RealPid, WaitStatus)> {
            if !self.is_waitable(child) || !fits(self, child) {
                return None;
            }
            let proc = self.proc(child);
            let status = match proc.run {
                RunState::Zombie(status) => status,
                RunState::Stopped(sig)
                    if proc.stop_unreported && options.contains(WaitOptions::WUNTRACED) =>
                {
                    WaitStatus::Stopped(sig)
                }
                _ if proc.continued_unreported && options.contains(WaitOptions::WCONTINUED) => {
                    WaitStatus::Continued
                }
                _ => return None,
            };
            Some((child, status))
        };
        let found: Option<(RealPid, WaitStatus)> = match want {
            WaitFor::Pid(p) => report(p),
            _ if single_threaded || only_callers => self.children(leader).find_map(report),
            _ => self
                .wait_order(leader, caller.real())
                .into_iter()
                .find_map(|thread| {
                    self.children(leader)
                        .filter(|&c| self.parent_thread(c) == Some(thread))
                        .find_map(report)
                }),
        };
        let Some((child, status)) = found else {
            return Ok(None);
        };
        let reported = self.visible(child, ctx);
        match status {
            WaitStatus::Stopped(_) => self.proc_mut(child).stop_unreported = false,
            WaitStatus::Continued => self.proc_mut(child).continued_unreported = false,
            _ => self.reap(child),
        }
        Ok(Some(Waited {
            pid: reported,
            status,
        }))
    }
}
