//! `vpsctl`: the VPS manager's command line (see `vpsctl --help`).
#![forbid(unsafe_code)]

mod shell;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vpsctl::exec::{Executor, Value, Verbosity};
use vpsctl::scenario::{
    Op, PidArg, Query, Statement, StatementKind, TaskSpec, Viewer, parse_line, parse_script,
    signal_number,
};
use vpsctl::state::PersistentHost;

/// The VPS manager: containers with OpenVZ-style virtual PIDs, on a model host.
#[derive(Parser)]
#[command(
    name = "vpsctl",
    version,
    after_help = "Examples:
  vpsctl tour                          a guided tour (start here)
  vpsctl run examples/*.vps            run scenario files, checking their expectations
  vpsctl create 101 && vpsctl fork 101 --vpid 1025 && vpsctl ps 101"
)]
struct Cli {
    /// The state file of the single-operation commands.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        default_value = "vpsctl.state"
    )]
    state: PathBuf,
    /// Print data as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A guided tour: two VPSes, chosen PIDs, views, a group kill, migration, mix-ups.
    #[command(after_help = "Example:\n  cargo run --release -p vpsctl -- tour")]
    Tour,
    /// Run scenario files: each stops at its first failed statement; exit 1 if any failed.
    #[command(
        after_help = "Example:\n  vpsctl run examples/migration.vps examples/numproc.vps\n  vpsctl run --trace examples/job-control.vps"
    )]
    Run {
        /// Print every statement and its value.
        #[arg(long, short = 't')]
        trace: bool,
        /// The scenario files (see docs/vpsctl.md).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The scenario language, interactively (a prompt and history on a terminal).
    #[command(
        after_help = "Example:\n  vpsctl shell\n  vpsctl(main)> create 101\n  vpsctl(main)> fork web in 101 as 1025\n  vpsctl(main)> ps tree\n\n  echo 'create 101\nps' | vpsctl shell"
    )]
    Shell,
    /// Create a VPS on the persistent host.
    #[command(after_help = "Example:\n  vpsctl create 101 --numproc 20")]
    Create {
        /// The VPS id.
        id: u32,
        /// The process limit.
        #[arg(long)]
        numproc: Option<u32>,
        /// A name for its init, usable in `vpsctl do`.
        #[arg(long)]
        name: Option<String>,
    },
    /// Destroy a VPS (kill and reap every task in it).
    #[command(after_help = "Example:\n  vpsctl destroy 101")]
    Destroy {
        /// The VPS id.
        id: u32,
    },
    /// Fork a task in a VPS (0 = the host), optionally with a chosen virtual PID.
    #[command(
        after_help = "Example:\n  vpsctl fork 101 --vpid 1025\n  vpsctl fork 101 --parent 1025 --name worker"
    )]
    Fork {
        /// The VPS id (0 = the host).
        id: u32,
        /// The virtual PID to give the child.
        #[arg(long)]
        vpid: Option<i32>,
        /// The parent, by its PID in the VPS (default 1, its init).
        #[arg(long, default_value_t = 1)]
        parent: i32,
        /// A name for the child, usable in `vpsctl do`.
        #[arg(long)]
        name: Option<String>,
        /// Make a thread of the parent (CLONE_THREAD).
        #[arg(long)]
        thread: bool,
        /// Make a sibling of the parent (CLONE_PARENT).
        #[arg(long)]
        clone_parent: bool,
    },
    /// Make a task exit.
    #[command(after_help = "Example:\n  vpsctl exit 101 1025 --code 3")]
    Exit {
        /// The VPS id (0 = the host).
        id: u32,
        /// The task's PID in the VPS.
        pid: i32,
        /// The exit code.
        #[arg(long, default_value_t = 0)]
        code: i32,
    },
    /// Send a signal; PID is in the VPS's numbers (negative: a process group).
    #[command(
        after_help = "Example:\n  vpsctl kill 101 1025 --signal KILL\n  vpsctl kill 101 -1025 --signal TSTP --from 1",
        allow_negative_numbers = true
    )]
    Kill {
        /// The VPS id (0 = the host).
        id: u32,
        /// The target, in the VPS's numbers.
        pid: i32,
        /// The signal (name or number).
        #[arg(long, short = 's', default_value = "SIGTERM")]
        signal: String,
        /// Send from this task of the VPS (default: from the host).
        #[arg(long)]
        from: Option<i32>,
    },
    /// Show the process table: from the host, or from inside VPS ID.
    #[command(after_help = "Example:\n  vpsctl ps\n  vpsctl ps 101 --tree\n  vpsctl ps --json")]
    Ps {
        /// The VPS whose view to show (default: the host's).
        id: Option<u32>,
        /// As a process tree.
        #[arg(long)]
        tree: bool,
    },
    /// Checkpoint a VPS to an image file.
    #[command(after_help = "Example:\n  vpsctl checkpoint 101 --out web.img")]
    Checkpoint {
        /// The VPS id.
        id: u32,
        /// The image file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore an image file as a VPS.
    #[command(after_help = "Example:\n  vpsctl restore web.img --as 102")]
    Restore {
        /// The image file.
        file: PathBuf,
        /// The VPS id to restore it as.
        #[arg(long = "as", value_name = "ID")]
        as_id: u32,
    },
    /// Run one scenario statement on the persistent host.
    #[command(
        after_help = "Example:\n  vpsctl do fork web in 101 as 1030\n  vpsctl do expect getppid web == 1\n  vpsctl do setsid web",
        allow_hyphen_values = true
    )]
    Do {
        /// The statement (see docs/vpsctl.md).
        #[arg(required = true, num_args = 1.., trailing_var_arg = true)]
        words: Vec<String>,
    },
}

/// A failure of the command, printed as one line.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{text}: {error}")]
    Statement {
        text: String,
        error: vpsctl::exec::StepError,
    },
    #[error(transparent)]
    Op(#[from] vpsctl::exec::OpError),
    #[error(transparent)]
    State(#[from] vpsctl::state::StateError),
    #[error(transparent)]
    Parse(#[from] vpsctl::scenario::ParseError),
    #[error(transparent)]
    Run(#[from] vpsctl::exec::RunError),
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Usage(String),
    #[error("{0} of {1} scenario files failed")]
    Failed(usize, usize),
    #[error(transparent)]
    Tour(#[from] vpsctl::tour::TourError),
    #[error("{0}")]
    Shell(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vpsctl: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: &Cli) -> Result<(), CliError> {
    let stdout = &mut io::stdout().lock();
    match &cli.command {
        Command::Tour => Ok(vpsctl::tour::run(stdout)?),
        Command::Run { trace, files } => run_files(files, *trace, stdout),
        Command::Shell => shell::run(stdout).map_err(CliError::Shell),
        Command::Restore { file, as_id } => {
            let image = std::fs::read(file).map_err(|source| CliError::Read {
                path: file.clone(),
                source,
            })?;
            let mut host = PersistentHost::open(&cli.state, &cwd())?;
            let init = host.restore(&image, *as_id)?;
            host.save()?;
            print_data(
                cli.json,
                stdout,
                &format!(
                    "restored {} as VPS {as_id} (init: real pid {init})",
                    file.display()
                ),
                &serde_json::json!({ "vps": as_id, "file": file, "init_real_pid": number(&init) })
                    .to_string(),
            );
            Ok(())
        }
        other => single_operation(cli, other, stdout),
    }
}

/// The commands that are one statement on the persistent host.
fn single_operation(cli: &Cli, command: &Command, out: &mut dyn Write) -> Result<(), CliError> {
    let statement = statement_of(command)?;
    let mut host = PersistentHost::open(&cli.state, &cwd())?;
    let value = host.run(&statement).map_err(|error| CliError::Statement {
        text: statement.to_string(),
        error,
    })?;
    let json = match command {
        Command::Fork { id, .. } => {
            let pid = number(&value);
            let real = real_pid_of(&host, *id, pid);
            let text = match real {
                Some(real) if *id != 0 => format!("forked pid {pid} in VPS {id} (real pid {real})"),
                _ => format!("forked pid {pid} in VPS {id}"),
            };
            Some((
                text,
                serde_json::json!({ "vps": id, "pid": pid, "real_pid": real }).to_string(),
            ))
        }
        Command::Checkpoint { id, out: file } => {
            let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
            Some((
                format!(
                    "checkpointed VPS {id} to {} ({bytes} bytes)",
                    file.display()
                ),
                serde_json::json!({ "vps": id, "file": file, "bytes": bytes }).to_string(),
            ))
        }
        Command::Create { id, .. } => Some((
            format!("created VPS {id} (init: real pid {value})"),
            serde_json::json!({ "vps": id, "init_real_pid": number(&value) }).to_string(),
        )),
        Command::Ps { .. } => match &value {
            Value::Ps { table, .. } => Some((value.to_string(), to_json(table))),
            _ => None,
        },
        Command::Do { .. }
            if value != Value::Unit && matches!(statement.kind, StatementKind::Do(_)) =>
        {
            Some((value.to_string(), to_json(&value)))
        }
        _ => None,
    };
    host.save()?;
    if let Some((text, data)) = json {
        print_data(cli.json, out, &text, &data);
    }
    Ok(())
}

fn real_pid_of(host: &PersistentHost, id: u32, pid: i64) -> Option<i64> {
    let pid = i32::try_from(pid).ok()?;
    let query = Query::PidOf {
        task: TaskSpec::Pid { vps: id, pid },
        viewer: Viewer::Host,
    };
    host.executor()
        .query(&query)
        .ok()
        .map(|value| number(&value))
}

fn number(value: &Value) -> i64 {
    match value {
        Value::Number { value } => *value,
        _ => 0,
    }
}

fn statement_of(command: &Command) -> Result<Statement, CliError> {
    let op = match command {
        Command::Create { id, numproc, name } => Op::Create {
            vps: *id,
            numproc: *numproc,
            init: name.clone(),
            caller: TaskSpec::HOST_INIT,
        },
        Command::Destroy { id } => Op::Destroy { vps: *id },
        Command::Fork {
            id,
            vpid,
            parent,
            name,
            thread,
            clone_parent,
        } => {
            let mut flags = vpid_core::CloneFlags::empty();
            flags.set(vpid_core::CloneFlags::CLONE_THREAD, *thread);
            flags.set(vpid_core::CloneFlags::CLONE_PARENT, *clone_parent);
            Op::Fork {
                name: name.clone(),
                parent: TaskSpec::Pid {
                    vps: *id,
                    pid: *parent,
                },
                chosen: *vpid,
                flags,
            }
        }
        Command::Exit { id, pid, code } => Op::Exit {
            task: TaskSpec::Pid {
                vps: *id,
                pid: *pid,
            },
            code: *code,
        },
        Command::Kill {
            id,
            pid,
            signal,
            from,
        } => {
            let signal = signal_number(signal.strip_prefix('-').unwrap_or(signal))
                .ok_or_else(|| CliError::Usage(format!("unknown signal {signal:?} (EINVAL)")))?;
            match from {
                Some(from) => Op::Kill {
                    target: PidArg::Raw(*pid),
                    signal,
                    caller: TaskSpec::Pid {
                        vps: *id,
                        pid: *from,
                    },
                },
                None => Op::Kill {
                    target: host_side_target(*id, *pid),
                    signal,
                    caller: TaskSpec::HOST_INIT,
                },
            }
        }
        Command::Ps { id, tree } => Op::Ps {
            viewer: id.map_or(Viewer::Host, |id| Viewer::Task(TaskSpec::init_of(id))),
            tree: *tree,
        },
        Command::Do { words } => {
            let text = words.join(" ");
            return parse_line(1, &text)
                .map_err(|error| {
                    CliError::Parse(vpsctl::scenario::ParseError {
                        file: "<command line>".to_owned(),
                        error,
                    })
                })?
                .ok_or_else(|| CliError::Usage("an empty statement".to_owned()));
        }
        Command::Checkpoint { id, out } => Op::Checkpoint {
            vps: *id,
            file: out.clone(),
        },
        Command::Tour | Command::Run { .. } | Command::Shell | Command::Restore { .. } => {
            return Err(CliError::Usage("not a single operation".to_owned()));
        }
    };
    Ok(Statement {
        line: 1,
        text: op.to_string(),
        kind: StatementKind::Do(op),
    })
}

/// A target given in a VPS's numbers, sent from the host: the task (or the
/// group led by the task) with that number in the VPS.
fn host_side_target(id: u32, pid: i32) -> PidArg {
    match pid {
        p if p > 0 => PidArg::Task(TaskSpec::Pid { vps: id, pid: p }),
        p if p < -1 => PidArg::Group(TaskSpec::Pid { vps: id, pid: -p }),
        p => PidArg::Raw(p),
    }
}

/// Serializes data keeping its fields in declaration order.
fn to_json(data: &impl serde::Serialize) -> String {
    serde_json::to_string(data).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn print_data(json: bool, out: &mut dyn Write, text: &str, data: &str) {
    let _ = if json {
        writeln!(out, "{data}")
    } else {
        writeln!(out, "{}", text.trim_end())
    };
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

fn run_files(files: &[PathBuf], trace: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let mut failed = 0;
    for file in files {
        match run_file(file, trace, out) {
            Ok(count) => {
                let _ = writeln!(out, "ok: {} ({count} statements)", file.display());
            }
            Err(error) => {
                let _ = out.flush();
                eprintln!("vpsctl: error: {error}");
                failed += 1;
            }
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::Failed(failed, files.len()))
    }
}

fn run_file(path: &Path, trace: bool, out: &mut dyn Write) -> Result<usize, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    let script = parse_script(&path.display().to_string(), &text)?;
    let verbosity = if trace {
        Verbosity::Trace
    } else {
        Verbosity::Quiet
    };
    Executor::new(cwd()).run_script(&script, out, verbosity)?;
    Ok(script.statements.len())
}
