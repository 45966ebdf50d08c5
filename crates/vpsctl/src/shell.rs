//! `vpsctl shell`: the scenario language, one statement at a time.
//!
//! On a terminal it shows a prompt with the current host and keeps a history
//! (rustyline: arrows, Ctrl-R); on a pipe it reads plain lines without a
//! prompt. A failed statement prints one error line and the shell goes on; at
//! the end of a pipe the exit status says whether any statement failed.

use std::io::{self, BufRead, IsTerminal, Write};

use vpsctl::exec::{Executor, Verbosity};
use vpsctl::scenario::parse_line;

const HELP: &str = "\
statements (one per line; see docs/vpsctl.md):
  create VPS [numproc N] [init NAME]      destroy VPS        host NAME
  fork [NAME] [from TASK | in VPS] [as VPID] [thread] [clone_parent]
  exit TASK [CODE]     kill TARGET [SIGNAL] [from TASK]     waitpid TASK [PID] [WNOHANG ...]
  setpgid TASK PID PGID     setsid TASK     sigaction TASK SIGNAL default|ignore|handler
  enter TASK VPS     checkpoint VPS to FILE     restore FILE as VPS     let NAME = TASK
  ps [VIEWER] [tree]     show TASK     echo TEXT
  getpid|gettid|getppid TASK   getpgid|getsid TASK [PID]   pid TASK [from VIEWER]
  state TASK   vps TASK   count [VIEWER]   vpses   sparse VPS   lookup TASK PID
  expect STATEMENT [ok | fails ERRNO | == VALUE | != VALUE]
tasks: NAME, host, VPS (its init) or VPS:PID.   quit, or Ctrl-D, leaves.";

/// Runs the shell on standard input.
pub fn run(out: &mut dyn Write) -> Result<(), String> {
    let mut session = Session {
        executor: Executor::new(std::env::current_dir().unwrap_or_else(|_| ".".into())),
        failures: 0,
    };
    if io::stdin().is_terminal() {
        session.interactive(out)
    } else {
        session.piped(out)
    }
}

struct Session {
    executor: Executor,
    failures: usize,
}

impl Session {
    fn interactive(&mut self, out: &mut dyn Write) -> Result<(), String> {
        let mut editor = rustyline::DefaultEditor::new().map_err(|e| e.to_string())?;
        let _ = writeln!(
            out,
            "vpsctl shell: `help` lists the statements, `quit` leaves."
        );
        let mut number = 0;
        loop {
            let prompt = format!("vpsctl({})> ", self.executor.host_name());
            match editor.readline(&prompt) {
                Ok(line) => {
                    number += 1;
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    if !self.line(number, &line, out) {
                        break;
                    }
                }
                Err(rustyline::error::ReadlineError::Interrupted) => {}
                Err(rustyline::error::ReadlineError::Eof) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    fn piped(&mut self, out: &mut dyn Write) -> Result<(), String> {
        for (index, line) in io::stdin().lock().lines().enumerate() {
            let line = line.map_err(|e| format!("<stdin>: {e}"))?;
            if !self.line(index + 1, &line, out) {
                break;
            }
        }
        match self.failures {
            0 => Ok(()),
            n => Err(format!("{n} statements failed")),
        }
    }

    /// Runs one line; `false` to stop.
    fn line(&mut self, number: usize, line: &str, out: &mut dyn Write) -> bool {
        match line.trim() {
            "quit" => return false,
            "help" => {
                let _ = writeln!(out, "{HELP}");
                return true;
            }
            _ => {}
        }
        let result = parse_line(number, line)
            .map_err(|e| format!("<stdin>:{e}"))
            .and_then(|statement| match statement {
                None => Ok(()),
                Some(statement) => self
                    .executor
                    .run_and_print(&statement, out, Verbosity::Values)
                    .map(drop)
                    .map_err(|e| format!("<stdin>:{number}: {e}")),
            });
        if let Err(message) = result {
            let _ = out.flush();
            eprintln!("vpsctl: error: {message}");
            self.failures += 1;
        }
        true
    }
}
