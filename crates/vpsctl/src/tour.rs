//! `vpsctl tour`: a guided run of the whole design, the README's first command.
//!
//! Each section is a short scenario, printed statement by statement with what
//! it gives, so that the tour is also a readable sample of the scenario
//! language. The last section shows a PID mix-up caught twice: at run time by
//! vpid-core's kind check, and before run time by vpid-check.

use std::collections::HashMap;
use std::io::Write;

use vpid_core::convert::{IdType, pid_to_vpid};
use vpid_core::{KindError, LinearMapping, RealPid};

use crate::exec::{Executor, OpError, RunError, Verbosity};
use crate::scenario::{ParseError, parse_script};

/// What can stop the tour.
#[derive(Debug, thiserror::Error)]
pub enum TourError {
    /// A section's script did not parse (a bug in the tour).
    #[error("tour script: {0}")]
    Parse(#[from] ParseError),
    /// A section did not run as the tour says it does.
    #[error("tour: {0}")]
    Run(#[from] RunError),
    /// The model refused an operation of the mix-up section.
    #[error("tour: {0}")]
    Op(#[from] OpError),
    /// The scratch directory for the checkpoint image.
    #[error("tour: scratch directory: {0}")]
    Io(#[from] std::io::Error),
    /// A check did not catch the mix-up it should.
    #[error("tour: a mix-up was not caught: {0}")]
    NotCaught(String),
}

struct Section {
    title: &'static str,
    prose: &'static str,
    script: &'static str,
}

const SECTIONS: &[Section] = &[
    Section {
        title: "Two VPSes on one host",
        prose: "\
Each VPS gets an init with virtual PID 1. A task can be forked with a chosen
virtual PID (it must carry the marker bit, 1024); the same virtual PID can
live in two VPSes at once, because each VPS has its own numbers.",
        script: "\
create 101 init web-init
create 102 init db-init
fork web in 101 as 1025
fork worker from web as 1030
fork db in 102 as 1025
fork cron
expect getpid web == 1025
expect getpid db == 1025
expect getppid web == 1
expect pid web from host != 1025",
    },
    Section {
        title: "The process tree, from the host and from inside each VPS",
        prose: "\
The host sees every task under its real PID, with the VPS and virtual PID
beside it (OpenVZ's envID and VPid). Inside a VPS only its own tasks are
visible, in virtual numbers; the host and the other VPS do not exist.",
        script: "\
ps host
ps host tree
ps 101 tree
ps 102
expect count 101 == 3
expect lookup web-init 1025 == web
expect lookup db-init 1025 == db",
    },
    Section {
        title: "A process group, killed with one signal",
        prose: "\
A job in VPS 101 gets its own process group; kill(-pgid) from inside the VPS
reaches exactly its members, and `web`, their parent, reaps them with waitpid
on the group.",
        script: "\
fork job1 from web as 1040
fork job2 from web as 1041
setpgid web job1 job1
setpgid web job2 job1
expect getpgid job2 == 1040
kill -job1 SIGTERM from web
expect state job1 == Z
expect state job2 == Z
expect state worker == R
expect waitpid web -1040 == 1040 signaled SIGTERM
expect waitpid web -1040 == 1041 signaled SIGTERM
expect waitpid web -1040 WNOHANG fails ECHILD",
    },
    Section {
        title: "Checkpoint VPS 101, restore it on a second host",
        prose: "\
The image keeps every virtual PID. The second host is busy (it already has
tasks of its own), so the restored tasks get new real PIDs, while the programs
inside still see the numbers they remember.",
        script: "\
checkpoint 101 to vps101.img
host second
fork busy1
fork busy2
fork busy3
restore vps101.img as 101
let web-init2 = 101
let web2 = 101:1025
let worker2 = 101:1030
expect getpid web2 == 1025
expect getppid worker2 == 1025
expect pid web2 from host != 1025
show web
show web2
ps host tree
ps 101",
    },
    Section {
        title: "A mix-up, caught by the runtime check",
        prose: "\
On the host a number with the marker bit names no task: a host tool that
takes a virtual PID from inside a VPS and uses it as a real one gets ESRCH
instead of hitting an unrelated process.",
        script: "\
host main
expect kill 1025 SIGKILL fails ESRCH
expect lookup host 1025 fails ESRCH",
    },
];

/// Prints the tour to `out`.
pub fn run(out: &mut dyn Write) -> Result<(), TourError> {
    let scratch = tempfile::tempdir()?;
    let mut executor = Executor::new(scratch.path());
    writeln!(
        out,
        "vpid tour: OpenVZ-style virtual PIDs, in a model of a host and its VPSes.\n\
         Lines starting with `$` are statements of the scenario language (docs/vpsctl.md)."
    )?;
    for (index, section) in SECTIONS.iter().enumerate() {
        writeln!(
            out,
            "\n== {}. {} ==\n{}\n",
            index + 1,
            section.title,
            section.prose
        )?;
        let script = parse_script(&format!("tour section {}", index + 1), section.script)?;
        executor.run_script(&script, out, Verbosity::Trace)?;
    }
    kind_check(&executor, out)?;
    static_check(out)?;
    writeln!(
        out,
        "\nEnd of the tour. Next: `vpsctl run examples/*.vps`, `vpsctl shell`."
    )?;
    Ok(())
}

/// vpid-core's conversion refuses a virtual PID where a real one is due.
fn kind_check(executor: &Executor, out: &mut dyn Write) -> Result<(), TourError> {
    let web_init = executor
        .host()
        .vps_init(vps::VpsId(101))
        .map_err(OpError::from)?;
    let web = executor
        .named("web")
        .ok_or_else(|| TourError::NotCaught("the task `web` is gone".to_owned()))?;
    let virtual_pid = executor.host().getpid(web).map_err(OpError::from)?;
    let mapping = Some(LinearMapping::new(web_init.real()));
    writeln!(
        out,
        "\nInside the library the same mistake is a kind error. `web` calls getpid and\n\
         gets {virtual_pid}; passing that to pid_to_vpid, which takes a real PID:"
    )?;
    // vpid-check: allow(PID003) the tour converts a virtual pid on purpose, to show the runtime catch
    match pid_to_vpid(IdType::Pid, virtual_pid, mapping) {
        Err(error @ KindError::WrongKind { .. }) => {
            writeln!(
                out,
                "  pid_to_vpid(Pid, {virtual_pid}, ..) = Err({error:?})\n  \"{error}\""
            )?;
        }
        other => return Err(TourError::NotCaught(format!("pid_to_vpid gave {other:?}"))),
    }
    // vpid-check: allow(PID005) the tour launders a virtual pid on purpose, to show the runtime catch
    match RealPid::try_from_raw(virtual_pid) {
        Err(error) => writeln!(
            out,
            "  RealPid::try_from_raw({virtual_pid}) = Err(\"{error}\")"
        )?,
        Ok(pid) => return Err(TourError::NotCaught(format!("RealPid {pid}"))),
    }
    Ok(())
}

/// The source of the static-check example: a virtual PID passed where the
/// annotation says a real one is due.
pub const MIXUP_SOURCE: &str = "\
use vpid_core::VirtPid;

/// vpid-check: pid=real
fn signal_host_task(pid: i32) {
    let _ = pid;
}

fn forward(vpid: VirtPid) {
    signal_host_task(vpid.as_raw());
}
";

fn static_check(out: &mut dyn Write) -> Result<(), TourError> {
    const FILE: &str = "mixup.rs";
    writeln!(
        out,
        "\nvpid-check finds the same mistake in source, before anything runs. Given\n{FILE}:\n\n{MIXUP_SOURCE}"
    )?;
    let report = vpid_check::Checker::new()
        .check_sources(&[vpid_check::SourceFile::new(FILE, MIXUP_SOURCE)]);
    if report.findings.is_empty() {
        return Err(TourError::NotCaught(
            "vpid-check found nothing in the example".to_owned(),
        ));
    }
    let sources = HashMap::from([(FILE.to_owned(), MIXUP_SOURCE.to_owned())]);
    writeln!(out, "vpid-check reports:\n")?;
    writeln!(
        out,
        "{}",
        vpid_check::render::human(&report, &sources, false).trim_end()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpid_check_flags_the_example() {
        let mut out = Vec::new();
        static_check(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("PID001"), "{text}");
        assert!(text.contains("mixup.rs:9:22"), "{text}");
    }

    #[test]
    fn every_section_parses() {
        for (index, section) in SECTIONS.iter().enumerate() {
            let script = parse_script(&format!("section {index}"), section.script).unwrap();
            assert!(!script.statements.is_empty());
        }
    }
}
