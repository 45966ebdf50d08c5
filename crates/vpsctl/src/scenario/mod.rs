//! The scenario language: one operation per line, tasks named by the script.
//!
//! ```text
//! create 101 numproc 20           # a VPS whose init is 101:1
//! fork web in 101 as 1025         # a child of its init, virtual PID 1025
//! expect getppid web == 1
//! kill web SIGKILL
//! expect kill web 0 fails ESRCH   # gone? no: a zombie still exists; see docs/vpsctl.md
//! ```
//!
//! [`parse_script`] turns text into a [`Script`], a typed tree that does not
//! depend on the `vps` crate, so that other backends (real Linux namespaces in
//! `vps-linux`) can run the same files. Printing a [`Statement`] gives
//! canonical text that parses back to the same tree. The full grammar is in
//! `docs/vpsctl.md`.

mod ast;
mod display;
mod lex;
mod parse;
mod signal;

pub use ast::{
    Disposition, Op, Outcome, PidArg, Query, Script, Statement, StatementKind, TaskSpec, Viewer,
};
pub use parse::{KEYWORDS, LineError, ParseError, is_name, parse_line, parse_script};
pub use signal::{SIGNAL_MAX, SIGTERM, signal_number, signal_text};
