// PID001/PID002 at the vps API: it takes and returns numbers in the caller's
// view (virtual for a caller in a VPS); `TaskRef::real()` is the real pid.
use vps::{Host, Signal, TaskRef, Viewer};

fn api(host: &Host, caller: TaskRef, task: TaskRef) -> Result<(), vps::Errno> {
    host.kill(caller, task.real().as_raw(), Signal::SIGTERM)?; //~ PID001
    let pid = host.pid_of(Viewer::Task(caller), task)?;
    host.kill(caller, pid, Signal::SIGTERM)?; // fine: the caller's view
    let forked = host.fork(caller, Default::default(), None)?;
    if forked.pid == forked.child.real().as_raw() {} //~ PID002
    let me = host.getpid(caller)?;
    let t = host.lookup(caller, me)?;
    host.setpgid(caller, me, t.real().as_raw())?; //~ PID001
    for entry in host.ps(Viewer::Task(caller))? {
        if entry.ppid == me {}
        if entry.pid == entry.task.real().as_raw() {} //~ PID002
    }
    Ok(())
}
