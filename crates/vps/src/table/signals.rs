//! Signals: dispositions, delivery with init protection, and `kill`.

use vpid_core::{Errno, RawPid, RealPid};

use super::{HOST_INIT, RunState, Table};
use crate::disposition::Disposition;
use crate::ids::TaskRef;
use crate::reboot::RebootCmd;
use crate::signal::{DefaultAction, Signal};
use crate::wait_status::WaitStatus;

impl Table {
    /// `sigaction`: returns the old disposition. `EINVAL` for 0, numbers
    /// out of range, and SIGKILL/SIGSTOP.
    pub(crate) fn sigaction(
        &mut self,
        caller: TaskRef,
        sig: Signal,
        disp: Disposition,
    ) -> Result<Disposition, Errno> {
        let leader = self.caller(caller)?;
        if sig.validate().is_err() || sig.is_probe() || sig.is_kernel_only() {
            return Err(Errno::EINVAL);
        }
        let proc = self.proc_mut(leader);
        let old = proc.disp.set(sig, disp);
        let now_ignored = disp == Disposition::Ignore
            || (disp == Disposition::Default && sig.default_action() == DefaultAction::Ignore);
        if now_ignored {
            proc.pending &= !sig.mask();
        }
        Ok(old)
    }

    /// `execve`, as far as the table cares: the process has exec'd (so its
    /// parent may no longer `setpgid` it) and its handlers reset to default.
    pub(crate) fn exec(&mut self, caller: TaskRef) -> Result<(), Errno> {
        let leader = self.caller(caller)?;
        let proc = self.proc_mut(leader);
        proc.did_exec = true;
        proc.disp.reset_handlers();
        Ok(())
    }

    /// The signals pending for the caller's process, lowest first.
    pub(crate) fn pending(&self, caller: TaskRef) -> Result<Vec<Signal>, Errno> {
        let leader = self.caller(caller)?;
        Ok(Signal::in_mask(self.proc(leader).pending).collect())
    }

    /// Runs the caller's handler for its lowest pending signal: removes and
    /// returns it.
    pub(crate) fn take_signal(&mut self, caller: TaskRef) -> Result<Option<Signal>, Errno> {
        let leader = self.caller(caller)?;
        let proc = self.proc_mut(leader);
        let next = Signal::in_mask(proc.pending).next();
        if let Some(sig) = next {
            proc.pending &= !sig.mask();
        }
        Ok(next)
    }

    /// `kill` in all its forms: see [`crate::Host::kill`].
    pub(crate) fn kill(&mut self, caller: TaskRef, pid: RawPid, sig: Signal) -> Result<(), Errno> {
        let leader = self.caller(caller)?;
        sig.validate()?;
        if pid == i32::MIN {
            return Err(Errno::ESRCH);
        }
        let ctx = self.proc(leader).vps();
        let targets: Vec<RealPid> = match pid {
            p if p > 0 => vec![self.tasks.at(self.find_task(ctx, p)?).tgid],
            0 => self.group_members(ctx, self.proc(leader).pgid),
            -1 => self.kill_all_targets(ctx, leader),
            p => {
                let group = self.resolve(ctx, -p).ok_or(Errno::ESRCH)?;
                self.group_members(ctx, group)
            }
        };
        if targets.is_empty() {
            return Err(Errno::ESRCH);
        }
        for target in targets {
            // An earlier delivery may have ended this one (a VPS init's death).
            if self.procs.contains_key(&target) {
                self.deliver(ctx, target, sig);
            }
        }
        Ok(())
    }

    /// `reboot` (OpenVZ `sys_reboot` in a VE): inside a VPS, a command
    /// that stops the system SIGKILLs the VPS init (a kernel signal, so init
    /// protection does not apply) and returns 0; the Ctrl-Alt-Del commands
    /// return 0. On the host: `EPERM` (the model does not reboot hosts).
    pub(crate) fn reboot(&mut self, caller: TaskRef, raw: u32) -> Result<(), Errno> {
        let leader = self.caller(caller)?;
        let cmd = RebootCmd::from_raw(raw)?;
        let Some(slot) = self.proc(leader).vps() else {
            return Err(Errno::EPERM);
        };
        if cmd.stops() {
            let init = self.vps(slot).init;
            self.deliver(None, init, Signal::SIGKILL);
        }
        Ok(())
    }

    /// The processes of group `pgid` reachable from `ctx`, by real PID.
    fn group_members(&self, ctx: Option<usize>, pgid: RealPid) -> Vec<RealPid> {
        let mut members: Vec<RealPid> = self
            .group_list(pgid)
            .filter(|m| self.accessible(ctx, self.proc(*m).vps()))
            .collect();
        members.sort_unstable();
        members
    }

    /// `kill(-1)`: every process reachable from `ctx` whose own PID is above
    /// 1 (so no VPS init and not the host init), except the caller's.
    fn kill_all_targets(&self, ctx: Option<usize>, caller: RealPid) -> Vec<RealPid> {
        let candidates: Vec<RealPid> = match ctx {
            None => self.procs.keys().collect(),
            Some(slot) => self
                .members(slot)
                .filter(|m| self.procs.contains_key(m))
                .collect(),
        };
        let mut targets: Vec<RealPid> = candidates
            .into_iter()
            .filter(|&p| p != caller && self.visible(p, self.proc(p).vps()) > 1)
            .collect();
        targets.sort_unstable();
        targets
    }

    /// Sends `sig` from a sender in `ctx` to the process led by `target`.
    fn deliver(&mut self, ctx: Option<usize>, target: RealPid, sig: Signal) {
        let proc = self.proc(target);
        if sig.is_probe() || proc.is_zombie() {
            return;
        }
        let disp = proc.disp.get(sig);
        let protected = target == HOST_INIT
            || proc
                .vps()
                .is_some_and(|slot| ctx == Some(slot) && self.vps(slot).init == target);
        if protected && (sig.is_kernel_only() || disp != Disposition::Handler) {
            return; // init protection (checklist 16; the host init as Linux)
        }
        if sig == Signal::SIGCONT && self.continue_process(target) {
            // A fatal signal that came while it was stopped takes effect now.
            if let Some(fatal) = self.pending_fatal(target) {
                self.exit_group(target, WaitStatus::Signaled(fatal));
                return;
            }
        }
        let action = match disp {
            _ if sig.is_kernel_only() => sig.default_action(),
            Disposition::Ignore => return,
            Disposition::Handler => {
                self.proc_mut(target).pending |= sig.mask();
                return;
            }
            Disposition::Default => sig.default_action(),
        };
        match action {
            // A stopped process stays stopped: only SIGKILL ends it; any
            // other fatal signal waits for SIGCONT (Linux `wants_signal`).
            DefaultAction::Terminate
                if sig != Signal::SIGKILL
                    && matches!(self.proc(target).run, RunState::Stopped(_)) =>
            {
                self.proc_mut(target).pending |= sig.mask();
            }
            DefaultAction::Terminate => self.exit_group(target, WaitStatus::Signaled(sig)),
            DefaultAction::Stop => self.stop_process(target, sig),
            DefaultAction::Ignore | DefaultAction::Continue => {}
        }
    }

    fn stop_process(&mut self, target: RealPid, sig: Signal) {
        let proc = self.proc_mut(target);
        if proc.run != RunState::Running {
            return;
        }
        proc.run = RunState::Stopped(sig);
        proc.stop_unreported = true;
        proc.continued_unreported = false;
        self.notify_parent_of_state(target);
    }

    /// Continues a stopped process; whether it was stopped.
    fn continue_process(&mut self, target: RealPid) -> bool {
        let proc = self.proc_mut(target);
        if !matches!(proc.run, RunState::Stopped(_)) {
            return false;
        }
        proc.run = RunState::Running;
        proc.stop_unreported = false;
        proc.continued_unreported = true;
        self.notify_parent_of_state(target);
        true
    }

    /// The lowest pending signal that kills the process by default and is
    /// still at its default disposition: one that came while it was stopped.
    fn pending_fatal(&self, target: RealPid) -> Option<Signal> {
        let proc = self.proc(target);
        Signal::in_mask(proc.pending).find(|&sig| {
            proc.disp.get(sig) == Disposition::Default
                && sig.default_action() == DefaultAction::Terminate
        })
    }

    fn notify_parent_of_state(&mut self, child: RealPid) {
        if let Some(parent) = self.proc(child).parent {
            self.send_sigchld(parent);
        }
    }

    /// SIGCHLD to a parent: pending if it has a handler, else nothing
    /// (SIGCHLD's default action is to ignore it).
    pub(super) fn send_sigchld(&mut self, parent: RealPid) {
        let proc = self.proc_mut(parent);
        if !proc.is_zombie() && proc.disp.get(Signal::SIGCHLD) == Disposition::Handler {
            proc.pending |= Signal::SIGCHLD.mask();
        }
    }
}
