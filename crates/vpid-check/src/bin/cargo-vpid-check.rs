//! `cargo vpid-check [-p PACKAGE]... [--format human|json|sarif] [--deny-warnings]`
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(vpid_check::cli::cargo_main(std::env::args_os()))
}
