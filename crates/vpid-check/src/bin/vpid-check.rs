//! `vpid-check [--format human|json|sarif] [--deny-warnings] [PATHS]...`
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(vpid_check::cli::main(std::env::args_os()))
}
