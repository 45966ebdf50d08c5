//! Printing the syntax tree back as canonical scenario text, which the parser
//! reads back to the same tree (the state file relies on it).

use std::fmt;
use std::path::Path;

use super::ast::{
    Disposition, Op, Outcome, PidArg, Query, Statement, StatementKind, TaskSpec, Viewer,
};
use super::signal::signal_text;

impl fmt::Display for TaskSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskSpec::Name(name) => f.write_str(name),
            TaskSpec::Pid { vps: 0, pid: 1 } => f.write_str("host"),
            TaskSpec::Pid { vps, pid } => write!(f, "{vps}:{pid}"),
        }
    }
}

impl fmt::Display for PidArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PidArg::Raw(raw) => write!(f, "{raw}"),
            PidArg::Task(task) => write!(f, "{task}"),
            PidArg::Group(task) => write!(f, "-{task}"),
        }
    }
}

impl fmt::Display for Viewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Viewer::Host => f.write_str("host"),
            // In a viewer position `host` means the host's view, so the
            // host's init as a task is written by number.
            Viewer::Task(TaskSpec::Pid { vps: 0, pid: 1 }) => f.write_str("0:1"),
            Viewer::Task(task) => write!(f, "{task}"),
        }
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Disposition::Default => "default",
            Disposition::Ignore => "ignore",
            Disposition::Handler => "handler",
        })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Succeeds => f.write_str("ok"),
            Outcome::Fails(errno) => write!(f, "fails {}", errno.name()),
            Outcome::Equals(value) => write!(f, "== {value}"),
            Outcome::NotEquals(value) => write!(f, "!= {value}"),
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StatementKind::Do(op) => write!(f, "{op}"),
            StatementKind::Expect { op, outcome } => write!(f, "expect {op} {outcome}"),
        }
    }
}

/// A file name as one token: quoted when it holds a blank, a `#`, or is empty.
struct FileToken<'a>(&'a Path);

impl fmt::Display for FileToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string_lossy();
        if text.is_empty()
            || text.contains(|c: char| c.is_whitespace() || c == '#')
            || super::parse::KEYWORDS.contains(&text.as_ref())
        {
            write!(f, "\"{text}\"")
        } else {
            f.write_str(&text)
        }
    }
}

/// The names of a set of flags, joined with `|`.
fn flag_names<F: bitflags::Flags>(flags: F) -> String {
    flags
        .iter_names()
        .map(|(name, _)| name)
        .collect::<Vec<_>>()
        .join("|")
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Host { name, pid_max } => {
                write!(f, "host {name}")?;
                if let Some(max) = pid_max {
                    write!(f, " pid_max {max}")?;
                }
                Ok(())
            }
            Op::Create {
                vps,
                numproc,
                init,
                caller,
            } => {
                write!(f, "create {vps}")?;
                if let Some(n) = numproc {
                    write!(f, " numproc {n}")?;
                }
                if let Some(name) = init {
                    write!(f, " init {name}")?;
                }
                if *caller != TaskSpec::HOST_INIT {
                    write!(f, " from {caller}")?;
                }
                Ok(())
            }
            Op::Destroy { vps } => write!(f, "destroy {vps}"),
            Op::Fork {
                name,
                parent,
                chosen,
                flags,
            } => {
                f.write_str("fork")?;
                if let Some(name) = name {
                    write!(f, " {name}")?;
                }
                match parent {
                    TaskSpec::Pid { vps, pid: 1 } if *vps != 0 => write!(f, " in {vps}")?,
                    p if *p == TaskSpec::HOST_INIT => {}
                    p => write!(f, " from {p}")?,
                }
                if let Some(vpid) = chosen {
                    write!(f, " as {vpid}")?;
                }
                if !flags.is_empty() {
                    write!(f, " flags {}", flag_names(*flags))?;
                }
                Ok(())
            }
            Op::Exit { task, code } => write!(f, "exit {task} {code}"),
            Op::Kill {
                target,
                signal,
                caller,
            } => {
                write!(f, "kill {target} {}", signal_text(*signal))?;
                if *caller != TaskSpec::HOST_INIT {
                    write!(f, " from {caller}")?;
                }
                Ok(())
            }
            Op::Waitpid {
                caller,
                pid,
                options,
            } => {
                write!(f, "waitpid {caller} {pid}")?;
                if !options.is_empty() {
                    write!(f, " {}", flag_names(*options))?;
                }
                Ok(())
            }
            Op::Setpgid { caller, pid, pgid } => write!(f, "setpgid {caller} {pid} {pgid}"),
            Op::Setsid { task } => write!(f, "setsid {task}"),
            Op::Sigaction {
                task,
                signal,
                disposition,
            } => write!(f, "sigaction {task} {} {disposition}", signal_text(*signal)),
            Op::Enter { task, vps } => write!(f, "enter {task} {vps}"),
            Op::Checkpoint { vps, file } => write!(f, "checkpoint {vps} to {}", FileToken(file)),
            Op::Restore { file, as_vps } => write!(f, "restore {} as {as_vps}", FileToken(file)),
            Op::Let { name, task } => write!(f, "let {name} = {task}"),
            Op::Ps { viewer, tree } => {
                write!(f, "ps {viewer}")?;
                if *tree {
                    f.write_str(" tree")?;
                }
                Ok(())
            }
            Op::Show { task } => write!(f, "show {task}"),
            Op::Echo { text } if text.is_empty() => f.write_str("echo"),
            Op::Echo { text } => write!(f, "echo {text}"),
            Op::Query(query) => write!(f, "{query}"),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Query::Getpid(t) => write!(f, "getpid {t}"),
            Query::Gettid(t) => write!(f, "gettid {t}"),
            Query::Getppid(t) => write!(f, "getppid {t}"),
            Query::Getpgid(t, pid) => write!(f, "getpgid {t} {pid}"),
            Query::Getsid(t, pid) => write!(f, "getsid {t} {pid}"),
            Query::PidOf { task, viewer } => write!(f, "pid {task} from {viewer}"),
            Query::State(t) => write!(f, "state {t}"),
            Query::VpsOf(t) => write!(f, "vps {t}"),
            Query::Count(viewer) => write!(f, "count {viewer}"),
            Query::Vpses => f.write_str("vpses"),
            Query::Sparse(vps) => write!(f, "sparse {vps}"),
            Query::Lookup { caller, pid } => write!(f, "lookup {caller} {pid}"),
        }
    }
}
