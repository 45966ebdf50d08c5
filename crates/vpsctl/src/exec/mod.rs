//! The executor: runs a [`Script`] on the model, one or more [`vps::Host`]s.
//!
//! Names given by the script (`fork web ...`) are bound to [`TaskRef`]s, which
//! never hit a recycled PID; a name bound to a task that is gone gives
//! `ESRCH`. Numbers written `VPS:PID` are looked up when the statement runs.
//! Every task belongs to one host; an operation runs on the host of the tasks
//! it names, or on the current host (the last `host NAME`; at first, `main`).

mod error;
mod migrate;
mod value;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use vpid_core::{Errno, PID_MAX_DEFAULT, RawPid};
use vps::{Host, HostConfig, TaskRef, VpsConfig, VpsId};

pub use error::{OpError, RunError, StepError};
pub use value::Value;

use crate::scenario::{
    Disposition, Op, Outcome, PidArg, Query, Script, Statement, StatementKind, TaskSpec, Viewer,
    signal_text,
};
use crate::view::{PsRow, PsTable};

/// The name of the host a run starts on.
pub const FIRST_HOST: &str = "main";

/// One host of a run, with the name the script gave it.
struct NamedHost {
    name: String,
    pid_max: i32,
    host: Host,
}

/// A name bound to a task on one host.
#[derive(Copy, Clone, Debug)]
struct Bound {
    host: usize,
    task: TaskRef,
}

/// How much [`Executor::run_script`] prints.
#[derive(Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum Verbosity {
    /// Only what the script asks to see: `ps`, `show`, `echo` and plain queries.
    #[default]
    Quiet,
    /// Every value an operation gives (the interactive shell).
    Values,
    /// Also every statement, prefixed with `$ `, and every value.
    Trace,
}

/// Runs scenario operations on the model.
///
/// ```
/// use vpsctl::exec::Executor;
/// use vpsctl::scenario::parse_script;
///
/// let script = parse_script("doc", "create 101\nfork web in 101 as 1025\nexpect getpid web == 1025\nexpect getppid web == 1\n").unwrap();
/// let mut exec = Executor::new(std::env::temp_dir());
/// exec.run_script(&script, &mut std::io::sink(), Default::default()).unwrap();
/// ```
pub struct Executor {
    hosts: Vec<NamedHost>,
    current: usize,
    names: BTreeMap<String, Bound>,
    workdir: PathBuf,
}

impl Executor {
    /// An executor with one fresh host, `main`, whose image files are
    /// relative to `workdir`.
    ///
    /// # Panics
    ///
    /// Never: the default host configuration is valid.
    #[must_use]
    pub fn new(workdir: impl Into<PathBuf>) -> Self {
        let host = new_host(PID_MAX_DEFAULT).expect("the default host configuration is valid");
        Self {
            hosts: vec![NamedHost {
                name: FIRST_HOST.to_owned(),
                pid_max: PID_MAX_DEFAULT,
                host,
            }],
            current: 0,
            names: BTreeMap::new(),
            workdir: workdir.into(),
        }
    }

    /// The current host.
    #[must_use]
    pub fn host(&self) -> &Host {
        &self.hosts[self.current].host
    }

    /// The name of the current host.
    #[must_use]
    pub fn host_name(&self) -> &str {
        &self.hosts[self.current].name
    }

    /// The directory image files are relative to.
    #[must_use]
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The task a name is bound to, if any.
    #[must_use]
    pub fn named(&self, name: &str) -> Option<TaskRef> {
        self.names.get(name).map(|b| b.task)
    }

    /// Runs a whole script, printing to `out`; stops at the first failed
    /// statement.
    pub fn run_script(
        &mut self,
        script: &Script,
        out: &mut dyn Write,
        verbosity: Verbosity,
    ) -> Result<(), RunError> {
        for statement in &script.statements {
            self.run_and_print(statement, out, verbosity)
                .map_err(|error| RunError {
                    file: script.file.clone(),
                    line: statement.line,
                    statement: statement.to_string(),
                    error: Box::new(error),
                })?;
        }
        Ok(())
    }

    /// Runs one statement and prints what it shows (see [`Verbosity`]).
    pub fn run_and_print(
        &mut self,
        statement: &Statement,
        out: &mut dyn Write,
        verbosity: Verbosity,
    ) -> Result<Value, StepError> {
        if verbosity == Verbosity::Trace {
            let _ = writeln!(out, "$ {}", statement.text);
        }
        let value = self.run_statement(statement)?;
        let shown = match (&statement.kind, verbosity) {
            (StatementKind::Do(Op::Ps { .. } | Op::Show { .. } | Op::Echo { .. }), _) => {
                Some(value.to_string())
            }
            (StatementKind::Do(Op::Query(query)), Verbosity::Quiet) => {
                Some(format!("{query} = {value}"))
            }
            (StatementKind::Do(_), Verbosity::Trace | Verbosity::Values)
                if value != Value::Unit =>
            {
                Some(value.to_string())
            }
            _ => None,
        };
        if let Some(text) = shown {
            let _ = writeln!(out, "{text}");
        }
        Ok(value)
    }

    /// Runs one statement and checks its expectation, if it has one.
    pub fn run_statement(&mut self, statement: &Statement) -> Result<Value, StepError> {
        match &statement.kind {
            StatementKind::Do(op) => Ok(self.execute(op)?),
            StatementKind::Expect { op, outcome } => check_outcome(self.execute(op), outcome),
        }
    }

    /// Runs one operation.
    pub fn execute(&mut self, op: &Op) -> Result<Value, OpError> {
        match op {
            Op::Host { name, pid_max } => self.switch_host(name, *pid_max),
            Op::Create {
                vps,
                numproc,
                init,
                caller,
            } => {
                let (h, caller) = self.resolve(caller, None)?;
                let config = VpsConfig { numproc: *numproc };
                let task = self.hosts[h].host.create_vps(caller, VpsId(*vps), config)?;
                if let Some(name) = init {
                    self.bind(name, h, task);
                }
                Ok(Value::number(task.real().as_raw()))
            }
            Op::Destroy { vps } => {
                self.host().destroy_vps(VpsId(*vps))?;
                Ok(Value::Unit)
            }
            Op::Fork {
                name,
                parent,
                chosen,
                flags,
            } => {
                let (h, parent) = self.resolve(parent, None)?;
                let forked = self.hosts[h].host.fork(parent, *flags, *chosen)?;
                if let Some(name) = name {
                    self.bind(name, h, forked.child);
                }
                Ok(Value::number(forked.pid))
            }
            Op::Exit { task, code } => {
                let (h, task) = self.resolve(task, None)?;
                self.hosts[h].host.exit(task, *code)?;
                Ok(Value::Unit)
            }
            Op::Kill {
                target,
                signal,
                caller,
            } => {
                let (h, caller) = self.resolve(caller, None)?;
                let pid = self.pid_arg(h, caller, target)?;
                self.hosts[h].host.kill(caller, pid, vps::Signal(*signal))?;
                Ok(Value::Unit)
            }
            Op::Waitpid {
                caller,
                pid,
                options,
            } => {
                let (h, caller) = self.resolve(caller, None)?;
                let pid = self.pid_arg(h, caller, pid)?;
                Ok(match self.hosts[h].host.waitpid(caller, pid, *options)? {
                    None => Value::text("none"),
                    Some(waited) => Value::Waited {
                        pid: waited.pid,
                        status: wait_status_text(waited.status),
                    },
                })
            }
            Op::Setpgid { caller, pid, pgid } => {
                let (h, caller) = self.resolve(caller, None)?;
                let pid = self.pid_arg(h, caller, pid)?;
                let pgid = self.pid_arg(h, caller, pgid)?;
                self.hosts[h].host.setpgid(caller, pid, pgid)?;
                Ok(Value::Unit)
            }
            Op::Setsid { task } => {
                let (h, task) = self.resolve(task, None)?;
                Ok(Value::number(self.hosts[h].host.setsid(task)?))
            }
            Op::Sigaction {
                task,
                signal,
                disposition,
            } => {
                let (h, task) = self.resolve(task, None)?;
                let old = self.hosts[h].host.sigaction(
                    task,
                    vps::Signal(*signal),
                    to_model_disposition(*disposition),
                )?;
                Ok(Value::text(from_model_disposition(old).to_string()))
            }
            Op::Enter { task, vps } => {
                let (h, task) = self.resolve(task, None)?;
                Ok(Value::number(self.hosts[h].host.enter(task, VpsId(*vps))?))
            }
            Op::Checkpoint { vps, file } => self.checkpoint(*vps, file),
            Op::Restore { file, as_vps } => {
                let path = self.workdir.join(file);
                let input = File::open(&path).map_err(|source| OpError::Io {
                    path: path.clone(),
                    source,
                })?;
                let init = self.restore_from(BufReader::new(input), *as_vps)?;
                Ok(Value::number(init.real().as_raw()))
            }
            Op::Let { name, task } => {
                let (h, task) = self.resolve(task, None)?;
                self.bind(name, h, task);
                Ok(Value::Unit)
            }
            Op::Ps { viewer, tree } => Ok(Value::Ps {
                table: self.ps(viewer)?,
                tree: *tree,
            }),
            Op::Show { task } => self.show(task),
            Op::Echo { text } => Ok(Value::Lines { text: text.clone() }),
            Op::Query(query) => self.query(query),
        }
    }

    /// Restores a VPS image read from `input` as VPS `as_vps` on the current
    /// host; returns its init.
    pub fn restore_from(&mut self, input: impl io::Read, as_vps: u32) -> Result<TaskRef, OpError> {
        migrate::restore(self.host(), input, VpsId(as_vps))
    }

    /// Writes a checkpoint of VPS `vps` of the current host to `out`.
    pub fn checkpoint_to(&self, vps: u32, out: impl Write) -> Result<(), OpError> {
        migrate::checkpoint(self.host(), VpsId(vps), out)
    }

    fn checkpoint(&self, vps: u32, file: &Path) -> Result<Value, OpError> {
        let path = self.workdir.join(file);
        let io_error = |source| OpError::Io {
            path: path.clone(),
            source,
        };
        // Write next to the target and rename, so that a failed checkpoint
        // never leaves a truncated image under the name.
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = tempfile::NamedTempFile::new_in(dir).map_err(io_error)?;
        let mut writer = BufWriter::new(temp);
        self.checkpoint_to(vps, &mut writer)?;
        let temp = writer.into_inner().map_err(|e| io_error(e.into_error()))?;
        temp.persist(&path).map_err(|e| io_error(e.error))?;
        Ok(Value::Unit)
    }

    fn switch_host(&mut self, name: &str, pid_max: Option<i32>) -> Result<Value, OpError> {
        if let Some(index) = self.hosts.iter().position(|h| h.name == name) {
            if pid_max.is_some_and(|max| max != self.hosts[index].pid_max) {
                return Err(OpError::HostExists(name.to_owned()));
            }
            self.current = index;
        } else {
            let pid_max = pid_max.unwrap_or(PID_MAX_DEFAULT);
            let host = new_host(pid_max)?;
            self.hosts.push(NamedHost {
                name: name.to_owned(),
                pid_max,
                host,
            });
            self.current = self.hosts.len() - 1;
        }
        Ok(Value::Unit)
    }

    fn bind(&mut self, name: &str, host: usize, task: TaskRef) {
        self.names.insert(name.to_owned(), Bound { host, task });
    }

    /// Finds a task; `on` is the host the operation already runs on.
    fn resolve(&self, spec: &TaskSpec, on: Option<usize>) -> Result<(usize, TaskRef), OpError> {
        match spec {
            TaskSpec::Name(name) => {
                let bound = self
                    .names
                    .get(name)
                    .ok_or_else(|| OpError::UnknownName(name.clone()))?;
                match on {
                    Some(h) if h != bound.host => Err(OpError::OtherHost {
                        task: name.clone(),
                        its_host: self.hosts[bound.host].name.clone(),
                        host: self.hosts[h].name.clone(),
                    }),
                    _ => Ok((bound.host, bound.task)),
                }
            }
            TaskSpec::Pid { vps, pid } => {
                let h = on.unwrap_or(self.current);
                let host = &self.hosts[h].host;
                let task = match (*vps, *pid) {
                    (0, pid) => host.lookup(host.init(), pid)?,
                    (vps, 1) => host.vps_init(VpsId(vps))?,
                    (vps, pid) => host.lookup(host.vps_init(VpsId(vps))?, pid)?,
                };
                Ok((h, task))
            }
        }
    }

    /// A pid argument as `caller` passes it: a task becomes its PID in the
    /// caller's numbers (`ESRCH` if the caller cannot see it).
    fn pid_arg(&self, h: usize, caller: TaskRef, arg: &PidArg) -> Result<RawPid, OpError> {
        let visible = |spec: &TaskSpec| -> Result<RawPid, OpError> {
            let (_, task) = self.resolve(spec, Some(h))?;
            match self.hosts[h].host.pid_of(vps::Viewer::Task(caller), task)? {
                0 => Err(Errno::ESRCH.into()),
                pid => Ok(pid),
            }
        };
        match arg {
            PidArg::Raw(raw) => Ok(*raw),
            PidArg::Task(spec) => visible(spec),
            PidArg::Group(spec) => Ok(-visible(spec)?),
        }
    }

    fn viewer(&self, viewer: &Viewer) -> Result<(usize, vps::Viewer), OpError> {
        match viewer {
            Viewer::Host => Ok((self.current, vps::Viewer::Host)),
            Viewer::Task(spec) => {
                let (h, task) = self.resolve(spec, None)?;
                Ok((h, vps::Viewer::Task(task)))
            }
        }
    }

    fn ps(&self, viewer: &Viewer) -> Result<PsTable, OpError> {
        let (h, model_viewer) = self.viewer(viewer)?;
        let host = &self.hosts[h].host;
        let host_view = match model_viewer {
            vps::Viewer::Host => true,
            vps::Viewer::Task(task) => host.vps_of(task)?.is_none(),
        };
        let names = self.names_on(h);
        let rows = host
            .ps(model_viewer)?
            .into_iter()
            .map(|e| PsRow {
                pid: e.pid,
                tgid: e.tgid,
                ppid: e.ppid,
                pgid: e.pgid,
                sid: e.sid,
                stat: state_letter(e.state),
                vps: host_view.then(|| e.vps.map_or(0, |id| id.0)),
                vpid: e.vpid,
                name: names.get(&e.task).cloned(),
            })
            .collect();
        Ok(PsTable { host_view, rows })
    }

    /// The names of the tasks of host `h` (the first name, in order, of
    /// each); the host's init is `host` unless the script named it.
    fn names_on(&self, h: usize) -> std::collections::HashMap<TaskRef, String> {
        let mut names = std::collections::HashMap::new();
        for (name, bound) in self.names.iter().filter(|(_, b)| b.host == h) {
            names.entry(bound.task).or_insert_with(|| name.clone());
        }
        names
            .entry(self.hosts[h].host.init())
            .or_insert_with(|| "host".to_owned());
        names
    }

    fn show(&self, spec: &TaskSpec) -> Result<Value, OpError> {
        let (h, task) = self.resolve(spec, None)?;
        let host = &self.hosts[h].host;
        let find = |viewer| -> Result<Option<vps::PsEntry>, OpError> {
            Ok(host.ps(viewer)?.into_iter().find(|e| e.task == task))
        };
        let outside = find(vps::Viewer::Host)?.ok_or(Errno::ESRCH)?;
        let mut text = format!(
            "{spec}: host pid {} tgid {} ppid {} pgid {} sid {} state {}",
            outside.pid,
            outside.tgid,
            outside.ppid,
            outside.pgid,
            outside.sid,
            state_letter(outside.state)
        );
        if let Some(id) = outside.vps {
            text.push_str(&format!("; in vps {}", id.0));
            if let Some(inside) = find(vps::Viewer::Task(task))? {
                text.push_str(&format!(
                    ": pid {} tgid {} ppid {} pgid {} sid {}",
                    inside.pid, inside.tgid, inside.ppid, inside.pgid, inside.sid
                ));
            }
        }
        Ok(Value::Lines { text })
    }

    /// Answers a query (queries never change the model).
    pub fn query(&self, query: &Query) -> Result<Value, OpError> {
        let on_task = |spec: &TaskSpec| self.resolve(spec, None);
        let value = match query {
            Query::Getpid(t) => {
                let (h, t) = on_task(t)?;
                Value::number(self.hosts[h].host.getpid(t)?)
            }
            Query::Gettid(t) => {
                let (h, t) = on_task(t)?;
                Value::number(self.hosts[h].host.gettid(t)?)
            }
            Query::Getppid(t) => {
                let (h, t) = on_task(t)?;
                Value::number(self.hosts[h].host.getppid(t)?)
            }
            Query::Getpgid(t, pid) => {
                let (h, t) = on_task(t)?;
                let pid = self.pid_arg(h, t, pid)?;
                Value::number(self.hosts[h].host.getpgid(t, pid)?)
            }
            Query::Getsid(t, pid) => {
                let (h, t) = on_task(t)?;
                let pid = self.pid_arg(h, t, pid)?;
                Value::number(self.hosts[h].host.getsid(t, pid)?)
            }
            Query::PidOf { task, viewer } => {
                let (h, model_viewer) = self.viewer(viewer)?;
                let (_, task) = self.resolve(task, Some(h))?;
                Value::number(self.hosts[h].host.pid_of(model_viewer, task)?)
            }
            Query::State(t) => {
                let (h, t) = on_task(t)?;
                let entry = self.hosts[h]
                    .host
                    .ps(vps::Viewer::Host)?
                    .into_iter()
                    .find(|e| e.task == t)
                    .ok_or(Errno::ESRCH)?;
                Value::text(state_letter(entry.state).to_string())
            }
            Query::VpsOf(t) => {
                let (h, t) = on_task(t)?;
                match self.hosts[h].host.vps_of(t)? {
                    Some(id) => Value::number(id.0),
                    None => Value::text("host"),
                }
            }
            Query::Count(viewer) => {
                let (h, model_viewer) = self.viewer(viewer)?;
                let count = self.hosts[h].host.ps(model_viewer)?.len();
                Value::number(i64::try_from(count).unwrap_or(i64::MAX))
            }
            Query::Vpses => {
                let ids = self.host().vps_ids();
                if ids.is_empty() {
                    Value::text("none")
                } else {
                    let ids: Vec<String> = ids.iter().map(|id| id.0.to_string()).collect();
                    Value::text(ids.join(" "))
                }
            }
            Query::Sparse(vps) => Value::text(if self.host().is_sparse(VpsId(*vps))? {
                "yes"
            } else {
                "no"
            }),
            Query::Lookup { caller, pid } => {
                let (h, caller) = on_task(caller)?;
                let pid = self.pid_arg(h, caller, pid)?;
                let found = self.hosts[h].host.lookup(caller, pid)?;
                match self.names_on(h).remove(&found) {
                    Some(name) => Value::text(name),
                    None => Value::text(format!("0:{}", found.real().as_raw())),
                }
            }
        };
        Ok(value)
    }
}

fn new_host(pid_max: i32) -> Result<Host, Errno> {
    Host::new(HostConfig { pid_max })
}

/// Checks an operation's result against what `expect` asked for.
pub fn check_outcome(
    result: Result<Value, OpError>,
    outcome: &Outcome,
) -> Result<Value, StepError> {
    let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    match outcome {
        Outcome::Succeeds => Ok(result?),
        Outcome::Fails(expected) => match result {
            Ok(got) => Err(StepError::UnexpectedSuccess {
                expected: *expected,
                got,
            }),
            Err(err) if err.errno() == Some(*expected) => Ok(Value::Unit),
            Err(got) => Err(StepError::WrongFailure {
                expected: *expected,
                got,
            }),
        },
        Outcome::Equals(expected) | Outcome::NotEquals(expected) => {
            let value = result?;
            let got = squeeze(&value.to_string());
            let negated = matches!(outcome, Outcome::NotEquals(_));
            if (got == squeeze(expected)) == negated {
                Err(StepError::Mismatch {
                    expected: expected.clone(),
                    got,
                    negated,
                })
            } else {
                Ok(value)
            }
        }
    }
}

fn state_letter(state: vps::TaskState) -> char {
    state.letter()
}

fn wait_status_text(status: vps::WaitStatus) -> String {
    match status {
        vps::WaitStatus::Exited(code) => format!("exited {code}"),
        vps::WaitStatus::Signaled(sig) => format!("signaled {}", signal_text(sig.0)),
        vps::WaitStatus::Stopped(sig) => format!("stopped {}", signal_text(sig.0)),
        vps::WaitStatus::Continued => "continued".to_owned(),
    }
}

fn to_model_disposition(d: Disposition) -> vps::Disposition {
    match d {
        Disposition::Default => vps::Disposition::Default,
        Disposition::Ignore => vps::Disposition::Ignore,
        Disposition::Handler => vps::Disposition::Handler,
    }
}

fn from_model_disposition(d: vps::Disposition) -> Disposition {
    match d {
        vps::Disposition::Default => Disposition::Default,
        vps::Disposition::Ignore => Disposition::Ignore,
        vps::Disposition::Handler => Disposition::Handler,
    }
}
