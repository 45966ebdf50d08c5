//! The typed syntax tree of a scenario: what the parser produces and what an
//! executor (the model in [`crate::exec`], or real Linux in `vps-linux`) runs.
//!
//! The tree depends on `vpid-core` only, never on `vps`, so that any backend
//! can run it. Numbers are kept as the script wrote them (raw `pid_t` values,
//! Linux signal numbers, VPS ids); what they mean is the executor's business.

use std::path::PathBuf;

use vpid_core::{CloneFlags, Errno, RawPid, WaitOptions};

/// A parsed scenario: its statements in order, and the file they came from.
#[derive(Clone, Eq, PartialEq, Debug)]
pub struct Script {
    /// The file name used in error messages (`<stdin>` for a pipe).
    pub file: String,
    /// The statements, one per non-empty line.
    pub statements: Vec<Statement>,
}

/// One line of a scenario.
#[derive(Clone, Eq, PartialEq, Debug)]
pub struct Statement {
    /// The 1-based line number in the file.
    pub line: usize,
    /// The line as written, without its comment and surrounding blanks.
    pub text: String,
    /// What the line says.
    pub kind: StatementKind,
}

/// What a line says: do something, or do something and check what happened.
#[derive(Clone, Eq, PartialEq, Debug)]
pub enum StatementKind {
    /// Run an operation; a failure stops the script.
    Do(Op),
    /// `expect OP OUTCOME`: run an operation and check its outcome.
    Expect {
        /// The operation to run.
        op: Op,
        /// What must happen.
        outcome: Outcome,
    },
}

/// The outcome an `expect` line asks for.
#[derive(Clone, Eq, PartialEq, Debug)]
pub enum Outcome {
    /// `ok` (or nothing): the operation succeeds.
    Succeeds,
    /// `fails ERRNO`: the operation fails with this error number.
    Fails(Errno),
    /// `== VALUE`: the operation succeeds and its value, printed, is this text
    /// (compared with runs of blanks squeezed to one space).
    Equals(String),
    /// `!= VALUE`: the operation succeeds and its value is not this text.
    NotEquals(String),
}

/// A task, as a script names it.
#[derive(Clone, Eq, PartialEq, Hash, Debug)]
pub enum TaskSpec {
    /// A name given by `fork NAME`, `create ... init NAME` or `let NAME`.
    Name(String),
    /// `VPS:PID`: the task whose PID, as VPS `vps` sees it, is `pid`; VPS 0 is
    /// the host (real PIDs). A bare `VPS` means `VPS:1`, the VPS's init, and
    /// `host` means `0:1`, the host's init.
    Pid {
        /// The VPS whose numbers `pid` is in (0 = the host).
        vps: u32,
        /// The PID in that VPS's numbers.
        pid: RawPid,
    },
}

impl TaskSpec {
    /// The host's init, `host` (`0:1`).
    pub const HOST_INIT: TaskSpec = TaskSpec::Pid { vps: 0, pid: 1 };

    /// The init of VPS `vps` (`vps:1`).
    #[must_use]
    pub const fn init_of(vps: u32) -> TaskSpec {
        TaskSpec::Pid { vps, pid: 1 }
    }
}

/// A `pid_t` argument of `kill`, `waitpid`, `setpgid`, `getpgid`, `getsid`
/// and `lookup`, as the caller passes it.
#[derive(Clone, Eq, PartialEq, Hash, Debug)]
pub enum PidArg {
    /// A number, passed as written (0, -1 and negative groups included).
    Raw(RawPid),
    /// A task: its PID in the *caller's* numbers.
    Task(TaskSpec),
    /// `-TASK`: the negated PID of a task in the caller's numbers (a process
    /// group in `kill` and `waitpid`).
    Group(TaskSpec),
}

/// Whose numbers a view is in.
#[derive(Clone, Eq, PartialEq, Hash, Debug)]
pub enum Viewer {
    /// The host: real PIDs, and every task.
    Host,
    /// A task: the numbers and the tasks it can see.
    Task(TaskSpec),
}

/// A signal disposition, as `sigaction` sets it.
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub enum Disposition {
    /// `SIG_DFL`.
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// A handler (the model does not run it; it only makes the signal caught).
    Handler,
}

/// One operation: a system call of the model, a manager action, or a query.
#[derive(Clone, Eq, PartialEq, Debug)]
pub enum Op {
    /// `host NAME [pid_max N]`: switch to host NAME, creating it if new.
    Host {
        /// The host's name.
        name: String,
        /// Its `pid_max`, used only when the host is created.
        pid_max: Option<i32>,
    },
    /// `create VPS [numproc N] [init NAME] [from TASK]`.
    Create {
        /// The VPS id.
        vps: u32,
        /// The process limit (`None` = unlimited).
        numproc: Option<u32>,
        /// A name for the VPS init.
        init: Option<String>,
        /// The host task that forks the init (default `host`).
        caller: TaskSpec,
    },
    /// `destroy VPS`.
    Destroy {
        /// The VPS id.
        vps: u32,
    },
    /// `fork [NAME] [from TASK | in VPS] [as VPID] [thread] [clone_parent] [flags F|F...]`.
    Fork {
        /// A name for the child.
        name: Option<String>,
        /// The task that calls fork (default `host`).
        parent: TaskSpec,
        /// The chosen virtual PID.
        chosen: Option<RawPid>,
        /// Clone flags.
        flags: CloneFlags,
    },
    /// `exit TASK [CODE]`.
    Exit {
        /// The exiting task.
        task: TaskSpec,
        /// The exit code (default 0).
        code: i32,
    },
    /// `kill TARGET [SIGNAL] [from TASK]`.
    Kill {
        /// The pid argument of kill(2), in the caller's numbers.
        target: PidArg,
        /// The signal number (default SIGTERM; 0 probes).
        signal: i32,
        /// The calling task (default `host`).
        caller: TaskSpec,
    },
    /// `waitpid TASK [PID] [OPTION...]`.
    Waitpid {
        /// The waiting task.
        caller: TaskSpec,
        /// The pid argument of waitpid(2) (default -1).
        pid: PidArg,
        /// The options.
        options: WaitOptions,
    },
    /// `setpgid TASK PID PGID`.
    Setpgid {
        /// The calling task.
        caller: TaskSpec,
        /// The task to move (0 = the caller).
        pid: PidArg,
        /// The group to move it to (0 = its own PID).
        pgid: PidArg,
    },
    /// `setsid TASK`.
    Setsid {
        /// The calling task.
        task: TaskSpec,
    },
    /// `sigaction TASK SIGNAL default|ignore|handler`.
    Sigaction {
        /// The calling task.
        task: TaskSpec,
        /// The signal number.
        signal: i32,
        /// The new disposition.
        disposition: Disposition,
    },
    /// `enter TASK VPS`: move a host task into a VPS (`vzctl enter`).
    Enter {
        /// The entering task.
        task: TaskSpec,
        /// The VPS.
        vps: u32,
    },
    /// `checkpoint VPS to FILE`.
    Checkpoint {
        /// The VPS.
        vps: u32,
        /// The image file.
        file: PathBuf,
    },
    /// `restore FILE as VPS`: restore an image on the current host.
    Restore {
        /// The image file.
        file: PathBuf,
        /// The id the restored VPS gets.
        as_vps: u32,
    },
    /// `let NAME = TASK`: give a task found by number a name.
    Let {
        /// The new name.
        name: String,
        /// The task.
        task: TaskSpec,
    },
    /// `ps [VIEWER] [tree]`: print the process table as a viewer sees it.
    Ps {
        /// Whose view.
        viewer: Viewer,
        /// As a tree rather than a table.
        tree: bool,
    },
    /// `show TASK`: print one task's numbers in every view.
    Show {
        /// The task.
        task: TaskSpec,
    },
    /// `echo TEXT`: print a line.
    Echo {
        /// The text, as written.
        text: String,
    },
    /// A question whose answer can be printed or checked with `expect`.
    Query(Query),
}

/// A question about the model's state.
#[derive(Clone, Eq, PartialEq, Debug)]
pub enum Query {
    /// `getpid TASK`: its TGID in its own numbers.
    Getpid(TaskSpec),
    /// `gettid TASK`.
    Gettid(TaskSpec),
    /// `getppid TASK`.
    Getppid(TaskSpec),
    /// `getpgid TASK [PID]` (PID default 0, the caller).
    Getpgid(TaskSpec, PidArg),
    /// `getsid TASK [PID]` (PID default 0).
    Getsid(TaskSpec, PidArg),
    /// `pid TASK [from VIEWER]`: its PID as a viewer sees it (default the host).
    PidOf {
        /// The task.
        task: TaskSpec,
        /// The viewer.
        viewer: Viewer,
    },
    /// `state TASK`: `R`, `T` or `Z`.
    State(TaskSpec),
    /// `vps TASK`: the VPS it is in, or `host`.
    VpsOf(TaskSpec),
    /// `count [VIEWER]`: how many tasks a viewer sees.
    Count(Viewer),
    /// `vpses`: the VPS ids on the current host, or `none`.
    Vpses,
    /// `sparse VPS`: `yes` if the VPS holds a chosen (non-linear) PID.
    Sparse(u32),
    /// `lookup TASK PID`: which task the caller finds under a number.
    Lookup {
        /// The caller.
        caller: TaskSpec,
        /// The number, in the caller's numbers.
        pid: PidArg,
    },
}
