//! Runs plans on real Linux PID namespaces: one JSON plan per input line,
//! one JSON reply per output line. Spawned by the `vps-linux` tests; needs
//! CAP_SYS_ADMIN (its first line says whether it has it).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    vps_linux::agent::relay_main()
}
