//! Clone flags and wait options, with the Linux bit values.

bitflags::bitflags! {
    /// Flags of `clone`/`clone3`, with their Linux values.
    ///
    /// ```
    /// use vpid_core::CloneFlags;
    /// assert_eq!(CloneFlags::CLONE_THREAD.bits(), 0x10000);
    /// ```
    #[repr(transparent)]
    #[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Default)]
    pub struct CloneFlags: u64 {
        /// Share the address space.
        const CLONE_VM = 0x0000_0100;
        /// Share filesystem information.
        const CLONE_FS = 0x0000_0200;
        /// Share the file descriptor table.
        const CLONE_FILES = 0x0000_0400;
        /// Share signal handlers.
        const CLONE_SIGHAND = 0x0000_0800;
        /// Return a pidfd for the child.
        const CLONE_PIDFD = 0x0000_1000;
        /// Continue tracing the child.
        const CLONE_PTRACE = 0x0000_2000;
        /// Suspend the parent until the child execs or exits.
        const CLONE_VFORK = 0x0000_4000;
        /// The child's parent is the caller's parent.
        const CLONE_PARENT = 0x0000_8000;
        /// The child is a thread in the caller's thread group.
        const CLONE_THREAD = 0x0001_0000;
        /// New mount namespace.
        const CLONE_NEWNS = 0x0002_0000;
        /// Share System V semaphore undo values.
        const CLONE_SYSVSEM = 0x0004_0000;
        /// Set the TLS descriptor.
        const CLONE_SETTLS = 0x0008_0000;
        /// Store the child's TID in the parent's memory.
        const CLONE_PARENT_SETTID = 0x0010_0000;
        /// Clear the child's TID in its memory when it exits.
        const CLONE_CHILD_CLEARTID = 0x0020_0000;
        /// Ignored (historical).
        const CLONE_DETACHED = 0x0040_0000;
        /// A tracer cannot force CLONE_PTRACE.
        const CLONE_UNTRACED = 0x0080_0000;
        /// Store the child's TID in the child's memory.
        const CLONE_CHILD_SETTID = 0x0100_0000;
        /// New cgroup namespace.
        const CLONE_NEWCGROUP = 0x0200_0000;
        /// New UTS namespace (the bit of pspace's CLONE_NPSPACE in 2006).
        const CLONE_NEWUTS = 0x0400_0000;
        /// New IPC namespace.
        const CLONE_NEWIPC = 0x0800_0000;
        /// New user namespace.
        const CLONE_NEWUSER = 0x1000_0000;
        /// New PID namespace.
        const CLONE_NEWPID = 0x2000_0000;
        /// New network namespace.
        const CLONE_NEWNET = 0x4000_0000;
        /// Share an I/O context.
        const CLONE_IO = 0x8000_0000;
    }
}

bitflags::bitflags! {
    /// Options of `waitpid`/`wait4`, with their Linux values.
    ///
    /// ```
    /// use vpid_core::WaitOptions;
    /// assert_eq!(WaitOptions::WNOHANG.bits(), 1);
    /// assert!(WaitOptions::from_bits(0x10).is_none()); // unknown bit: EINVAL in wait4
    /// ```
    #[repr(transparent)]
    #[derive(Copy, Clone, Eq, PartialEq, Hash, Debug, Default)]
    pub struct WaitOptions: u32 {
        /// Return at once if no child has changed state.
        const WNOHANG = 0x0000_0001;
        /// Also report stopped children.
        const WUNTRACED = 0x0000_0002;
        /// Report exited children (`waitid`).
        const WEXITED = 0x0000_0004;
        /// Also report continued children.
        const WCONTINUED = 0x0000_0008;
        /// Leave the child waitable (`waitid`).
        const WNOWAIT = 0x0100_0000;
        /// Do not wait for children of other threads in the group.
        const WNOTHREAD = 0x2000_0000;
        /// Wait for all children, clone or not.
        const WALL = 0x4000_0000;
        /// Wait for clone children only.
        const WCLONE = 0x8000_0000;
    }
}
