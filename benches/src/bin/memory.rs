//! Heap bytes per task at 1,000,000 tasks (100 containers of 10,000) for
//! each design, on hosts with `pid_max` 4194304. Prints a table and writes
//! `<target>/vpid-memory.json` for the report.
//!
//! Run it in release: `cargo run --release -p vpid-benches --bin memory`.
#![forbid(unsafe_code)]

use std::alloc::System;

use cap::Cap;
use vpid_benches::design::{Design, Pidns, Pspace, Vps};
use vpid_benches::report::{Memory, Paths};
use vpid_core::{Errno, PID_MAX_LIMIT};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

const CONTAINERS: usize = 100;
const PER_CONTAINER: usize = 10_000;

/// Builds a host of `CONTAINERS × PER_CONTAINER` tasks (each container's
/// init included) and returns the heap bytes it holds per task.
fn bytes_per_task<D: Design>() -> Result<f64, Errno> {
    let before = ALLOCATOR.allocated();
    let design = D::with_pid_max(PID_MAX_LIMIT)?;
    for id in 0..CONTAINERS {
        let init = design.create_container(id as u32 + 1)?.child;
        for _ in 1..PER_CONTAINER {
            design.fork(init, None)?;
        }
    }
    let bytes = ALLOCATOR.allocated().saturating_sub(before);
    drop(design);
    Ok(bytes as f64 / (CONTAINERS * PER_CONTAINER) as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut memory = Memory {
        tasks: (CONTAINERS * PER_CONTAINER) as u64,
        pid_max: i64::from(PID_MAX_LIMIT),
        bytes_per_task: Default::default(),
    };
    memory
        .bytes_per_task
        .insert(Vps::NAME.to_owned(), bytes_per_task::<Vps>()?);
    memory
        .bytes_per_task
        .insert(Pspace::NAME.to_owned(), bytes_per_task::<Pspace>()?);
    memory
        .bytes_per_task
        .insert(Pidns::NAME.to_owned(), bytes_per_task::<Pidns>()?);
    println!(
        "bytes per task at {} tasks, pid_max {}:",
        memory.tasks, memory.pid_max
    );
    for (design, bytes) in &memory.bytes_per_task {
        println!("  {design:7} {bytes:8.1}");
    }
    let path = Paths::from_env().memory;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, memory.to_json())?;
    println!("written to {}", path.display());
    Ok(())
}
