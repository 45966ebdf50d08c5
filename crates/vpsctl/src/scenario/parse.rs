//! The parser: lines of text into [`Statement`]s, with errors that name the
//! file, the line and what was expected.

use std::fmt;
use std::path::PathBuf;

use vpid_core::{CloneFlags, Errno, RawPid, WaitOptions};

use super::ast::{
    Disposition, Op, Outcome, PidArg, Query, Script, Statement, StatementKind, TaskSpec, Viewer,
};
use super::lex::{self, Token};
use super::signal::{SIGTERM, signal_number};

/// Words that have a meaning inside a statement and so cannot name a task.
pub const KEYWORDS: &[&str] = &[
    "in",
    "from",
    "as",
    "to",
    "thread",
    "clone_parent",
    "flags",
    "numproc",
    "init",
    "host",
    "tree",
    "fails",
    "ok",
    "pid_max",
];

/// What went wrong on one line: where, what was expected, what was found.
#[derive(Clone, Eq, PartialEq, Debug, thiserror::Error)]
#[error("{line}:{column}: expected {expected}, found {found}")]
pub struct LineError {
    /// The 1-based line number.
    pub line: usize,
    /// The 1-based column of the offending token (or of the line's end).
    pub column: usize,
    /// What the parser wanted there.
    pub expected: String,
    /// What it found: a quoted token, or `end of line`.
    pub found: String,
}

/// A parse error in a named file.
#[derive(Clone, Eq, PartialEq, Debug, thiserror::Error)]
#[error("{file}:{error}")]
pub struct ParseError {
    /// The file name.
    pub file: String,
    /// The error on the line.
    pub error: LineError,
}

impl ParseError {
    /// The 1-based line number of the error.
    #[must_use]
    pub fn line(&self) -> usize {
        self.error.line
    }
}

/// Parses a whole scenario; `file` names it in errors.
///
/// ```
/// use vpsctl::scenario::{parse_script, Op, StatementKind};
///
/// let script = parse_script("demo.vps", "create 101\n# a comment\n\nfork web in 101 as 1025\n").unwrap();
/// assert_eq!(script.statements.len(), 2);
/// assert_eq!(script.statements[1].line, 4);
/// assert!(matches!(&script.statements[1].kind, StatementKind::Do(Op::Fork { chosen: Some(1025), .. })));
///
/// let err = parse_script("demo.vps", "create 101\nfork web in 101 as lots\n").unwrap_err();
/// assert_eq!(err.to_string(), "demo.vps:2:20: expected a virtual pid after `as`, found 'lots'");
/// ```
pub fn parse_script(file: &str, text: &str) -> Result<Script, ParseError> {
    let mut statements = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match parse_line(index + 1, line) {
            Ok(Some(statement)) => statements.push(statement),
            Ok(None) => {}
            Err(error) => {
                return Err(ParseError {
                    file: file.to_owned(),
                    error,
                });
            }
        }
    }
    Ok(Script {
        file: file.to_owned(),
        statements,
    })
}

/// Parses one line (numbered `line` in errors); `Ok(None)` for a blank or
/// comment line.
pub fn parse_line(line: usize, text: &str) -> Result<Option<Statement>, LineError> {
    let split = lex::split(text).map_err(|lex::UnterminatedQuote(column)| LineError {
        line,
        column,
        expected: "a closing `\"`".to_owned(),
        found: "end of line".to_owned(),
    })?;
    if split.tokens.is_empty() {
        return Ok(None);
    }
    let end_column = text.chars().count() + 1;
    let tokens = &split.tokens;
    let kind = if is_word(&tokens[0], "expect") {
        let cut = tokens
            .iter()
            .position(|t| ["==", "!=", "fails", "ok"].iter().any(|k| is_word(t, k)))
            .unwrap_or(tokens.len());
        let mut op_cursor = Cursor::new(line, &tokens[1..cut], column_at(tokens, cut, end_column));
        let op = parse_op(&mut op_cursor)?;
        op_cursor.end("end of the operation, `==`, `!=`, `fails` or `ok`")?;
        let mut rest = Cursor::new(line, &tokens[cut..], end_column);
        let outcome = parse_outcome(&mut rest)?;
        StatementKind::Expect { op, outcome }
    } else {
        let mut cursor = Cursor::new(line, tokens, end_column);
        let op = parse_op(&mut cursor)?;
        cursor.end("end of line")?;
        StatementKind::Do(op)
    };
    let text = source_text(text);
    Ok(Some(Statement { line, text, kind }))
}

/// The line without its comment (a `#` that starts a token outside quotes).
fn source_text(line: &str) -> String {
    let mut quoted = false;
    let mut previous_blank = true;
    for (at, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted && previous_blank => return line[..at].trim().to_owned(),
            _ => {}
        }
        previous_blank = c.is_whitespace();
    }
    line.trim().to_owned()
}

fn column_at(tokens: &[Token], index: usize, end_column: usize) -> usize {
    tokens.get(index).map_or(end_column, |t| t.column)
}

fn is_word(token: &Token, word: &str) -> bool {
    !token.quoted && token.text == word
}

/// Whether `text` can name a task or a host: a letter or `_`, then letters,
/// digits, `_`, `-` or `.`, and not a keyword.
#[must_use]
pub fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !KEYWORDS.contains(&text)
}

/// A position in a line's tokens.
struct Cursor<'a> {
    line: usize,
    tokens: &'a [Token],
    at: usize,
    end_column: usize,
}

impl<'a> Cursor<'a> {
    fn new(line: usize, tokens: &'a [Token], end_column: usize) -> Self {
        Self {
            line,
            tokens,
            at: 0,
            end_column,
        }
    }

    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.at)
    }

    fn peek_is(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| is_word(t, word))
    }

    fn error(&self, expected: &str) -> LineError {
        let (column, found) = match self.peek() {
            Some(t) => (t.column, format!("'{}'", t.text)),
            None => (self.end_column, "end of line".to_owned()),
        };
        LineError {
            line: self.line,
            column,
            expected: expected.to_owned(),
            found,
        }
    }

    /// The next token, parsed by `f`, or an error naming `expected`.
    fn take<T>(
        &mut self,
        expected: &str,
        f: impl FnOnce(&Token) -> Option<T>,
    ) -> Result<T, LineError> {
        match self.peek().and_then(f) {
            Some(value) => {
                self.at += 1;
                Ok(value)
            }
            None => Err(self.error(expected)),
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        let found = self.peek_is(word);
        if found {
            self.at += 1;
        }
        found
    }

    fn keyword(&mut self, word: &str) -> Result<(), LineError> {
        if self.eat(word) {
            Ok(())
        } else {
            Err(self.error(&format!("`{word}`")))
        }
    }

    fn end(&self, expected: &str) -> Result<(), LineError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(expected)),
        }
    }

    fn rest(&mut self) -> Vec<&'a Token> {
        let rest = self.tokens[self.at..].iter().collect();
        self.at = self.tokens.len();
        rest
    }

    fn int<T: std::str::FromStr>(&mut self, expected: &str) -> Result<T, LineError> {
        self.take(expected, |t| t.text.parse().ok())
    }

    fn name(&mut self, expected: &str) -> Result<String, LineError> {
        self.take(expected, |t| is_name(&t.text).then(|| t.text.clone()))
    }

    fn vps(&mut self) -> Result<u32, LineError> {
        self.int("a VPS id (a number)")
    }

    fn task(&mut self, expected: &str) -> Result<TaskSpec, LineError> {
        self.take(expected, |t| task_spec(&t.text))
    }

    fn pid_arg(&mut self, expected: &str) -> Result<PidArg, LineError> {
        self.take(expected, |t| pid_arg(&t.text))
    }

    fn viewer(&mut self, expected: &str) -> Result<Viewer, LineError> {
        if self.eat("host") {
            Ok(Viewer::Host)
        } else {
            self.task(expected).map(Viewer::Task)
        }
    }

    fn signal(&mut self, expected: &str) -> Result<i32, LineError> {
        self.take(expected, |t| {
            signal_number(t.text.strip_prefix('-').unwrap_or(&t.text))
        })
    }

    fn path(&mut self, expected: &str) -> Result<PathBuf, LineError> {
        self.take(expected, |t| {
            (!t.text.is_empty() && (t.quoted || !KEYWORDS.contains(&t.text.as_str())))
                .then(|| PathBuf::from(&t.text))
        })
    }
}

/// `NAME`, `host`, `VPS` or `VPS:PID`.
fn task_spec(text: &str) -> Option<TaskSpec> {
    if text == "host" {
        return Some(TaskSpec::HOST_INIT);
    }
    if let Some((vps, pid)) = text.split_once(':') {
        return Some(TaskSpec::Pid {
            vps: vps.parse().ok()?,
            pid: pid.parse().ok()?,
        });
    }
    if let Ok(vps) = text.parse() {
        return Some(TaskSpec::init_of(vps));
    }
    is_name(text).then(|| TaskSpec::Name(text.to_owned()))
}

/// A number, a task, or `-TASK`.
fn pid_arg(text: &str) -> Option<PidArg> {
    if let Ok(raw) = text.parse::<RawPid>() {
        return Some(PidArg::Raw(raw));
    }
    if let Some(group) = text.strip_prefix('-') {
        return task_spec(group).map(PidArg::Group);
    }
    task_spec(text).map(PidArg::Task)
}

fn wait_options(text: &str) -> Option<WaitOptions> {
    text.split('|').try_fold(WaitOptions::empty(), |all, name| {
        WaitOptions::from_name(name).map(|o| all | o)
    })
}

fn clone_flags(text: &str) -> Option<CloneFlags> {
    text.split('|').try_fold(CloneFlags::empty(), |all, name| {
        CloneFlags::from_name(name).map(|f| all | f)
    })
}

const PID_ARG: &str = "a pid (a number, a task, or -TASK for its group)";
const TASK: &str = "a task (a name, host, VPS or VPS:PID)";

fn parse_outcome(c: &mut Cursor<'_>) -> Result<Outcome, LineError> {
    let outcome = if c.eat("ok") || c.peek().is_none() {
        Outcome::Succeeds
    } else if c.eat("fails") {
        c.take("an errno name such as ESRCH", |t| {
            t.text.parse::<Errno>().ok()
        })
        .map(Outcome::Fails)?
    } else {
        let equal = c.eat("==");
        if !equal {
            c.keyword("!=")?;
        }
        let value = c
            .rest()
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if value.is_empty() {
            return Err(c.error("a value to compare with"));
        }
        if equal {
            Outcome::Equals(value)
        } else {
            Outcome::NotEquals(value)
        }
    };
    c.end("end of line")?;
    Ok(outcome)
}

fn parse_op(c: &mut Cursor<'_>) -> Result<Op, LineError> {
    let word = c.take("an operation (see docs/vpsctl.md)", |t| {
        (!t.quoted).then(|| t.text.clone())
    })?;
    let op = match word.as_str() {
        "host" => {
            let name = c.name("a host name")?;
            let pid_max = if c.eat("pid_max") {
                Some(c.int("a number after `pid_max`")?)
            } else {
                None
            };
            Op::Host { name, pid_max }
        }
        "create" => parse_create(c)?,
        "destroy" => Op::Destroy { vps: c.vps()? },
        "fork" => parse_fork(c)?,
        "exit" => {
            let task = c.task(TASK)?;
            let code = if c.peek().is_some() {
                c.int("an exit code")?
            } else {
                0
            };
            Op::Exit { task, code }
        }
        "kill" => {
            let target = c.pid_arg(PID_ARG)?;
            let signal = if c.peek().is_some() && !c.peek_is("from") {
                c.signal("a signal (SIGTERM, TERM, -TERM, 15 or -15) or `from`")?
            } else {
                SIGTERM
            };
            let caller = if c.eat("from") {
                c.task(TASK)?
            } else {
                TaskSpec::HOST_INIT
            };
            Op::Kill {
                target,
                signal,
                caller,
            }
        }
        "waitpid" => {
            let caller = c.task(TASK)?;
            let pid = match c.peek() {
                Some(t) if wait_options(&t.text).is_none() => c.pid_arg(PID_ARG)?,
                _ => PidArg::Raw(-1),
            };
            let mut options = WaitOptions::empty();
            while c.peek().is_some() {
                options |= c.take(
                    "a wait option such as WNOHANG or WUNTRACED|WCONTINUED",
                    |t| wait_options(&t.text),
                )?;
            }
            Op::Waitpid {
                caller,
                pid,
                options,
            }
        }
        "setpgid" => Op::Setpgid {
            caller: c.task(TASK)?,
            pid: c.pid_arg(PID_ARG)?,
            pgid: c.pid_arg("a process group (a number or a task)")?,
        },
        "setsid" => Op::Setsid {
            task: c.task(TASK)?,
        },
        "sigaction" => Op::Sigaction {
            task: c.task(TASK)?,
            signal: c.signal("a signal (SIGTERM, TERM or 15)")?,
            disposition: c.take("`default`, `ignore` or `handler`", |t| {
                match t.text.as_str() {
                    "default" => Some(Disposition::Default),
                    "ignore" => Some(Disposition::Ignore),
                    "handler" => Some(Disposition::Handler),
                    _ => None,
                }
            })?,
        },
        "enter" => Op::Enter {
            task: c.task(TASK)?,
            vps: c.vps()?,
        },
        "checkpoint" => {
            let vps = c.vps()?;
            c.keyword("to")?;
            let file = c.path("an image file name")?;
            Op::Checkpoint { vps, file }
        }
        "restore" => {
            let file = c.path("an image file name")?;
            c.keyword("as")?;
            let as_vps = c.vps()?;
            Op::Restore { file, as_vps }
        }
        "let" => {
            let name = c.name("a new name")?;
            c.keyword("=")?;
            let task = c.task(TASK)?;
            Op::Let { name, task }
        }
        "ps" => {
            let viewer = if c.peek().is_none() || c.peek_is("tree") {
                Viewer::Host
            } else {
                c.viewer("a viewer (host or a task) or `tree`")?
            };
            Op::Ps {
                viewer,
                tree: c.eat("tree"),
            }
        }
        "show" => Op::Show {
            task: c.task(TASK)?,
        },
        "echo" => Op::Echo {
            text: c
                .rest()
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        },
        _ => match parse_query(&word, c)? {
            Some(query) => Op::Query(query),
            None => {
                c.at -= 1;
                return Err(c.error("an operation (see docs/vpsctl.md)"));
            }
        },
    };
    Ok(op)
}

fn parse_create(c: &mut Cursor<'_>) -> Result<Op, LineError> {
    let vps = c.vps()?;
    let (mut numproc, mut init, mut caller) = (None, None, TaskSpec::HOST_INIT);
    while c.peek().is_some() {
        if c.eat("numproc") {
            numproc = Some(c.int("a process limit after `numproc`")?);
        } else if c.eat("init") {
            init = Some(c.name("a name for the VPS init after `init`")?);
        } else if c.eat("from") {
            caller = c.task(TASK)?;
        } else {
            return Err(c.error("`numproc`, `init`, `from` or end of line"));
        }
    }
    Ok(Op::Create {
        vps,
        numproc,
        init,
        caller,
    })
}

fn parse_fork(c: &mut Cursor<'_>) -> Result<Op, LineError> {
    let name = match c.peek() {
        Some(t) if is_name(&t.text) => {
            c.at += 1;
            Some(t.text.clone())
        }
        _ => None,
    };
    let (mut parent, mut chosen, mut flags) = (TaskSpec::HOST_INIT, None, CloneFlags::empty());
    while c.peek().is_some() {
        if c.eat("from") {
            parent = c.task(TASK)?;
        } else if c.eat("in") {
            parent = TaskSpec::init_of(c.vps()?);
        } else if c.eat("as") {
            chosen = Some(c.int("a virtual pid after `as`")?);
        } else if c.eat("thread") {
            flags |= CloneFlags::CLONE_THREAD;
        } else if c.eat("clone_parent") {
            flags |= CloneFlags::CLONE_PARENT;
        } else if c.eat("flags") {
            flags |= c.take("clone flags such as CLONE_THREAD|CLONE_VM", |t| {
                clone_flags(&t.text)
            })?;
        } else {
            let expected = if name.is_none() {
                "a name, `from`, `in`, `as`, `thread`, `clone_parent`, `flags` or end of line"
            } else {
                "`from`, `in`, `as`, `thread`, `clone_parent`, `flags` or end of line"
            };
            return Err(c.error(expected));
        }
    }
    Ok(Op::Fork {
        name,
        parent,
        chosen,
        flags,
    })
}

fn parse_query(word: &str, c: &mut Cursor<'_>) -> Result<Option<Query>, LineError> {
    let optional_pid = |c: &mut Cursor<'_>| -> Result<PidArg, LineError> {
        if c.peek().is_some() {
            c.pid_arg(PID_ARG)
        } else {
            Ok(PidArg::Raw(0))
        }
    };
    let query = match word {
        "getpid" => Query::Getpid(c.task(TASK)?),
        "gettid" => Query::Gettid(c.task(TASK)?),
        "getppid" => Query::Getppid(c.task(TASK)?),
        "getpgid" => Query::Getpgid(c.task(TASK)?, optional_pid(c)?),
        "getsid" => Query::Getsid(c.task(TASK)?, optional_pid(c)?),
        "pid" => {
            let task = c.task(TASK)?;
            let viewer = if c.eat("from") {
                c.viewer("a viewer (host or a task)")?
            } else {
                Viewer::Host
            };
            Query::PidOf { task, viewer }
        }
        "state" => Query::State(c.task(TASK)?),
        "vps" => Query::VpsOf(c.task(TASK)?),
        "count" => Query::Count(if c.peek().is_some() {
            c.viewer("a viewer (host or a task)")?
        } else {
            Viewer::Host
        }),
        "vpses" => Query::Vpses,
        "sparse" => Query::Sparse(c.vps()?),
        "lookup" => Query::Lookup {
            caller: c.task(TASK)?,
            pid: c.pid_arg(PID_ARG)?,
        },
        _ => return Ok(None),
    };
    Ok(Some(query))
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for statement in &self.statements {
            writeln!(f, "{statement}")?;
        }
        Ok(())
    }
}
