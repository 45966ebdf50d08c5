//! Throughput of vpid-check on one core, over a generated source tree of
//! about 100,000 lines (`cargo bench -p vpid-check`).
//!
//! Criterion reports wall-clock time and lines/s; on a shared machine that
//! includes time the thread spent waiting for a CPU, so the bench also
//! prints lines per CPU-second of the process (from `/proc/self/stat`, Linux
//! only; the check runs on one worker thread while the caller waits).
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_main};
use vpid_check::{Checker, SourceFile, synth};

fn one_core<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool")
        .install(f)
}

/// The CPU time of the process, in seconds, if the OS tells.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn report(files: &[SourceFile], checker: &Checker, lines: usize) {
    let runs = 5;
    let (wall, cpu) = one_core(|| {
        let cpu0 = process_cpu_seconds();
        let start = Instant::now();
        for _ in 0..runs {
            black_box(checker.check_sources(files));
        }
        (
            start.elapsed().as_secs_f64(),
            cpu0.zip(process_cpu_seconds()).map(|(a, b)| b - a),
        )
    });
    let runs = f64::from(runs);
    println!(
        "vpid-check: {lines} lines, wall clock {:.0} lines/s on one core",
        lines as f64 * runs / wall
    );
    if let Some(cpu) = cpu.filter(|c| *c > 0.0) {
        println!(
            "vpid-check: {lines} lines, {:.0} lines per CPU-second on one core",
            lines as f64 * runs / cpu
        );
    }
}

fn throughput(c: &mut Criterion) {
    let files = synth::tree(250, 400);
    let checker = Checker::new();
    let lines = one_core(|| checker.check_sources(&files)).lines;
    let mut group = c.benchmark_group("vpid-check");
    group.throughput(Throughput::Elements(lines as u64));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function(format!("one core, {lines} lines"), |b| {
        b.iter(|| one_core(|| black_box(checker.check_sources(black_box(&files)))));
    });
    group.finish();
    report(&files, &checker, lines);
}

mod group {
    //! The criterion group (its generated function has no docs).
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::throughput);
}
criterion_main!(group::benches);
