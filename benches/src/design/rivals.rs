//! [`Design`] for the two rivals, whose crates share one API shape.

use vpid_core::{Errno, RawPid};

use super::{Design, Forked};

/// A design whose containers nest: the rivals (a VPS cannot hold a VPS).
pub trait Nestable: Design {
    /// A new container nested in the caller's, whose init is its child.
    fn nest(&self, caller: Self::Task) -> Result<Forked<Self::Task>, Errno>;
}

/// Implements [`Design`] for a rival crate: `$crate_` names it, `$create`
/// is its container-creating fork, and `$chosen` turns an optional chosen
/// number into that crate's argument.
macro_rules! rival {
    ($name:ident, $label:literal, $doc:literal, $crate_:ident, $table:ident, $create:ident, $chosen:expr) => {
        #[doc = $doc]
        pub struct $name(pub $crate_::$table);

        impl Nestable for $name {
            fn nest(&self, caller: Self::Task) -> Result<Forked<Self::Task>, Errno> {
                let f = self.0.$create(caller)?;
                Ok(Forked {
                    child: f.child,
                    pid: f.pid,
                })
            }
        }

        impl Design for $name {
            type Task = $crate_::TaskRef;
            const NAME: &'static str = $label;

            fn with_pid_max(pid_max: RawPid) -> Result<Self, Errno> {
                let max_tasks = u32::try_from(pid_max).map_err(|_| Errno::EINVAL)?;
                $crate_::$table::new($crate_::Config { pid_max, max_tasks }).map(Self)
            }
            fn host_init(&self) -> Self::Task {
                self.0.init()
            }
            fn create_container(&self, _id: u32) -> Result<Forked<Self::Task>, Errno> {
                let f = self.0.$create(self.0.init())?;
                Ok(Forked {
                    child: f.child,
                    pid: f.pid,
                })
            }
            #[inline]
            fn fork(
                &self,
                parent: Self::Task,
                chosen: Option<RawPid>,
            ) -> Result<Forked<Self::Task>, Errno> {
                let f = self.0.fork(parent, $chosen(&chosen))?;
                Ok(Forked {
                    child: f.child,
                    pid: f.pid,
                })
            }
            #[inline]
            fn exit(&self, task: Self::Task, code: i32) -> Result<(), Errno> {
                self.0.exit(task, code)
            }
            #[inline]
            fn reap(&self, parent: Self::Task, pid: RawPid) -> Result<Option<i32>, Errno> {
                self.0.reap(parent, pid)
            }
            #[inline]
            fn getpid(&self, task: Self::Task) -> Result<RawPid, Errno> {
                self.0.getpid(task)
            }
            fn getppid(&self, task: Self::Task) -> Result<RawPid, Errno> {
                self.0.getppid(task)
            }
            fn getpgid(&self, task: Self::Task) -> Result<RawPid, Errno> {
                self.0.getpgid(task)
            }
            #[inline]
            fn lookup(&self, viewer: Self::Task, nr: RawPid) -> Result<Self::Task, Errno> {
                self.0.find($crate_::Viewer::Task(viewer), nr)
            }
            #[inline]
            fn pid_of(
                &self,
                viewer: Option<Self::Task>,
                task: Self::Task,
            ) -> Result<RawPid, Errno> {
                self.0.pid_of(
                    viewer.map_or($crate_::Viewer::Host, $crate_::Viewer::Task),
                    task,
                )
            }
            fn setpgid(&self, caller: Self::Task, pid: RawPid, pgid: RawPid) -> Result<(), Errno> {
                self.0.setpgid(caller, pid, pgid)
            }
            #[inline]
            fn kill_group(&self, caller: Self::Task, pgid: RawPid) -> Result<(), Errno> {
                self.0
                    .kill_group($crate_::Viewer::Task(caller), pgid)
                    .map(|_| ())
            }
            fn visible(&self, viewer: Option<Self::Task>) -> Result<Vec<RawPid>, Errno> {
                self.0
                    .visible_pids(viewer.map_or($crate_::Viewer::Host, $crate_::Viewer::Task))
            }
        }
    };
}

/// pspace takes the chosen number as it is.
fn pspace_chosen(chosen: &Option<RawPid>) -> Option<RawPid> {
    *chosen
}

/// pidns takes a `set_tid` array, innermost level first.
fn pidns_set_tid(chosen: &Option<RawPid>) -> &[RawPid] {
    chosen.as_slice()
}

rival!(
    Pspace,
    "pspace",
    "Biederman's pspace: `(space, pid)` tuples.",
    pspace,
    PidSpaces,
    create_space,
    pspace_chosen
);
rival!(
    Pidns,
    "pidns",
    "Linux PID namespaces: one number per level (`set_tid` of length 1 for a chosen PID).",
    pidns,
    PidNamespaces,
    create_ns,
    pidns_set_tid
);
