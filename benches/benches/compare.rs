//! The comparison benchmarks of issue 7: the marker-bit design (`vps`)
//! against Biederman's pspace and Linux PID namespaces, on the same
//! workloads. Group and function names are fixed so that results can be
//! compared over time; `cargo run -p vpid-benches --bin report` turns them
//! into `docs/benchmarks.md`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
use pspace::blocks::PidBitmap;
use vpid_benches::design::{Design, Nestable, Pidns, Pspace, Vps};
use vpid_benches::workload::{
    BENCH_PID_MAX, Population, XorShift, choosable_pids, pick, random_indices,
};
use vpid_core::{RawPid, RealPid, VirtPid};

/// Tasks in the container for `translate`.
const SIZES: [usize; 2] = [1000, 32_000];
/// Precomputed random inputs per benchmark (a power of two).
const INPUTS: usize = 4096;
const MASK: usize = INPUTS - 1;

fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(400))
        .measurement_time(Duration::from_millis(1200))
        .sample_size(30)
        .without_plots()
}

/// Times `op` on each input in turn, cycling.
fn bench_inputs<T: Copy, R>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    inputs: &[T],
    mut op: impl FnMut(T) -> R,
) {
    assert_eq!(inputs.len(), INPUTS);
    g.bench_function(id, |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & MASK;
            black_box(op(black_box(inputs[i])))
        });
    });
}

/// Numbers of the choosable range that no task of `pop` has: lookups of
/// them miss.
fn free_numbers<D: Design>(pop: &Population<D>) -> Vec<RawPid> {
    let used: std::collections::HashSet<RawPid> = pop.pids.iter().copied().collect();
    let free: Vec<RawPid> = choosable_pids()
        .filter(|nr| !used.contains(nr))
        .take(INPUTS)
        .collect();
    pick(&free, &random_indices(free.len(), INPUTS, 11))
}

/// A container of `n` tasks, with random numbers that hit and that miss.
struct LookupCase<D: Design> {
    name: &'static str,
    n: usize,
    pop: Population<D>,
    hits: Vec<RawPid>,
    misses: Vec<RawPid>,
}

impl<D: Design> LookupCase<D> {
    fn new(name: &'static str, n: usize, chosen: bool) -> Self {
        let pop = Population::<D>::new(n, chosen).expect("population fits");
        let hits = pick(&pop.pids, &random_indices(n, INPUTS, 7));
        let misses = free_numbers(&pop);
        assert!(
            misses
                .iter()
                .all(|&nr| pop.design.lookup(pop.init, nr).is_err())
        );
        Self {
            name,
            n,
            pop,
            hits,
            misses,
        }
    }

    fn bench(&self, g: &mut BenchmarkGroup<'_, WallTime>, miss: bool) {
        let inputs = if miss { &self.misses } else { &self.hits };
        bench_inputs(g, BenchmarkId::new(self.name, self.n), inputs, |nr| {
            self.pop.design.lookup(self.pop.init, nr).is_ok()
        });
    }
}

fn translate(c: &mut Criterion) {
    let vps: Vec<LookupCase<Vps>> = SIZES
        .iter()
        .flat_map(|&n| {
            [
                LookupCase::new("vps_linear", n, false),
                LookupCase::new("vps_sparse", n, true),
            ]
        })
        .collect();
    let pspace: Vec<LookupCase<Pspace>> = SIZES
        .iter()
        .map(|&n| LookupCase::new("pspace", n, false))
        .collect();
    let pidns: Vec<LookupCase<Pidns>> = SIZES
        .iter()
        .map(|&n| LookupCase::new("pidns", n, false))
        .collect();
    let mut g = c.benchmark_group("translate");
    for n in SIZES {
        let indices = random_indices(n, INPUTS, 7);
        let dense: Vec<u32> = (0..n as u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        bench_inputs(&mut g, BenchmarkId::new("array_index", n), &indices, |i| {
            dense[i]
        });
        // The linear conversion alone: a virtual PID (typed at the system
        // call boundary) to its real PID, `vpid & !VPID_DIV`.
        let virtuals: Vec<VirtPid> = indices
            .iter()
            .map(|&i| RealPid::from_raw(2048 + i as RawPid / 1024 * 2048 + i as RawPid % 1024))
            .map(|r| r.expect("a real pid").to_linear_virt())
            .collect();
        bench_inputs(
            &mut g,
            BenchmarkId::new("marker_bit", n),
            &virtuals,
            VirtPid::linear_real,
        );
    }
    for miss in [false, true] {
        if miss {
            g.finish();
            g = c.benchmark_group("translate_miss");
        }
        vps.iter().for_each(|case| case.bench(&mut g, miss));
        pspace.iter().for_each(|case| case.bench(&mut g, miss));
        pidns.iter().for_each(|case| case.bench(&mut g, miss));
    }
    g.finish();
}

fn getpid_of<D: Design>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let pop = Population::<D>::new(10, false).expect("population fits");
    let task = pop.tasks[3];
    g.bench_function(D::NAME, |b| {
        b.iter(|| black_box(pop.design.getpid(black_box(task))))
    });
}

fn getpid(c: &mut Criterion) {
    let mut g = c.benchmark_group("getpid");
    getpid_of::<Vps>(&mut g);
    getpid_of::<Pspace>(&mut g);
    getpid_of::<Pidns>(&mut g);
    // rustix's linux_raw backend makes the system call itself: no libc cache.
    g.bench_function("kernel", |b| {
        b.iter(|| black_box(rustix::process::getpid()))
    });
    g.finish();
}

/// In a container of 1000 tasks, a task with no other children forks a
/// child, the child exits, the task reaps it.
fn fork_exit_of<D: Design>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, chosen: bool) {
    let pop = Population::<D>::new(1000, false).expect("population fits");
    let wanted = chosen.then(|| free_numbers(&pop)[0]);
    let parent = pop.tasks[0];
    g.bench_function(name, |b| {
        b.iter(|| {
            let f = pop.design.fork(parent, wanted).expect("fork");
            pop.design.exit(f.child, 0).expect("exit");
            black_box(pop.design.reap(parent, f.pid).expect("reap"))
        });
    });
}

fn fork_exit(c: &mut Criterion) {
    let mut g = c.benchmark_group("fork_exit");
    let mut bitmap = PidBitmap::new(32_768);
    for _ in 0..1000 {
        bitmap.alloc();
    }
    g.bench_function("bitmap_alloc", |b| {
        b.iter(|| {
            let nr = bitmap.alloc().expect("a free pid");
            black_box(bitmap.free(black_box(nr)))
        });
    });
    fork_exit_of::<Vps>(&mut g, "vps", false);
    fork_exit_of::<Vps>(&mut g, "vps_chosen", true);
    fork_exit_of::<Pspace>(&mut g, "pspace", false);
    fork_exit_of::<Pidns>(&mut g, "pidns", false);
    g.finish();
}

/// A container `depth` levels below the host, with 1000 tasks forked by
/// its init; the first of them forks in `nesting`.
struct Nested<D: Nestable> {
    depth: usize,
    design: D,
    init: D::Task,
    parent: D::Task,
    pids: Vec<RawPid>,
}

impl<D: Nestable> Nested<D> {
    fn new(depth: usize) -> Self {
        let design = D::with_pid_max(BENCH_PID_MAX).expect("host");
        let mut init = design.host_init();
        for _ in 0..depth {
            init = design.nest(init).expect("nesting within 32 levels").child;
        }
        let pids: Vec<RawPid> = (0..1000)
            .map(|_| design.fork(init, None).expect("fork").pid)
            .collect();
        let parent = design.lookup(init, pids[0]).expect("a child");
        Self {
            depth,
            design,
            init,
            parent,
            pids,
        }
    }

    fn fork_exit(&self, g: &mut BenchmarkGroup<'_, WallTime>) {
        g.bench_function(BenchmarkId::new(D::NAME, self.depth), |b| {
            b.iter(|| {
                let f = self.design.fork(self.parent, None).expect("fork");
                self.design.exit(f.child, 0).expect("exit");
                black_box(self.design.reap(self.parent, f.pid).expect("reap"))
            });
        });
    }

    fn lookup(&self, g: &mut BenchmarkGroup<'_, WallTime>) {
        let targets = pick(&self.pids, &random_indices(self.pids.len(), INPUTS, 5));
        bench_inputs(g, BenchmarkId::new(D::NAME, self.depth), &targets, |nr| {
            self.design.lookup(self.init, nr).is_ok()
        });
    }
}

/// The issue asks for `pidns` at depths 1, 4 and 32; `pspace`, whose cost
/// should not depend on depth, is measured beside it for contrast.
fn nesting(c: &mut Criterion) {
    let pidns: Vec<Nested<Pidns>> = [1, 4, 32].into_iter().map(Nested::new).collect();
    let pspace: Vec<Nested<Pspace>> = [1, 4, 32].into_iter().map(Nested::new).collect();
    let mut g = c.benchmark_group("nesting");
    pidns.iter().for_each(|n| n.fork_exit(&mut g));
    pspace.iter().for_each(|n| n.fork_exit(&mut g));
    g.finish();
    let mut g = c.benchmark_group("nesting_lookup");
    pidns.iter().for_each(|n| n.lookup(&mut g));
    pspace.iter().for_each(|n| n.lookup(&mut g));
    g.finish();
}

/// A container of 32,000 tasks holding a group of 10 and one of 1000; the
/// init sends signal 0 to one group.
fn kill_group_of<D: Design>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let design = D::with_pid_max(BENCH_PID_MAX).expect("host");
    let init = design.create_container(1).expect("container").child;
    let mut leaders = Vec::new();
    let mut total = 0;
    for size in [10usize, 1000] {
        let leader = design.fork(init, None).expect("fork");
        design.setpgid(leader.child, 0, 0).expect("setpgid");
        for _ in 1..size {
            design.fork(leader.child, None).expect("fork");
        }
        leaders.push((size, leader.pid));
        total += size;
    }
    for _ in total..32_000 {
        design.fork(init, None).expect("fork");
    }
    for (size, pgid) in leaders {
        design.kill_group(init, pgid).expect("the group exists");
        g.bench_function(BenchmarkId::new(D::NAME, size), |b| {
            b.iter(|| black_box(design.kill_group(init, black_box(pgid))));
        });
    }
}

fn kill_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("kill_group");
    kill_group_of::<Vps>(&mut g);
    kill_group_of::<Pspace>(&mut g);
    kill_group_of::<Pidns>(&mut g);
    g.finish();
}

/// Operations per sample, split evenly between the threads.
const SCALING_OPS: u64 = 1 << 19;

/// Runs `work(thread, ops / threads)` on `threads` threads at once, `iters`
/// times.
fn timed_threads(
    iters: u64,
    threads: u64,
    ops: u64,
    work: &(impl Fn(usize, u64) + Sync),
) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        std::thread::scope(|s| {
            for t in 0..threads {
                s.spawn(move || work(t as usize, ops / threads));
            }
        });
    }
    start.elapsed()
}

/// The scaling workloads on one design: a container of 1000 tasks, and one
/// parent per thread for the writes.
struct ScalingCase<D: Design> {
    pop: Population<D>,
    parents: Vec<D::Task>,
}

impl<D: Design> ScalingCase<D> {
    fn new() -> Self {
        let pop = Population::<D>::new(1000, false).expect("population fits");
        let parents = (0..2)
            .map(|_| pop.design.fork(pop.init, None).expect("fork").child)
            .collect();
        Self { pop, parents }
    }

    /// Random lookups only.
    fn read_only(&self, thread: usize, ops: u64) {
        let mut rng = XorShift::new(thread as u64 + 1);
        for _ in 0..ops {
            let nr = self.pop.pids[(rng.next_u64() % 1000) as usize];
            black_box(self.pop.design.lookup(self.pop.init, nr).is_ok());
        }
    }

    /// Nine lookups in ten; the tenth operation is a fork, or the exit and
    /// reap of the child forked before, by this thread's parent.
    fn mixed_90_10(&self, thread: usize, ops: u64) {
        let d = &self.pop.design;
        let mut rng = XorShift::new(thread as u64 + 1);
        let parent = self.parents[thread];
        let mut child = None;
        for _ in 0..ops {
            let r = rng.next_u64();
            if r % 10 == 0 {
                child = match child {
                    None => Some(d.fork(parent, None).expect("fork")),
                    Some(f) => {
                        d.exit(f.child, 0).expect("exit");
                        d.reap(parent, f.pid).expect("reap");
                        None
                    }
                };
            } else {
                let nr = self.pop.pids[((r >> 8) % 1000) as usize];
                black_box(d.lookup(self.pop.init, nr).is_ok());
            }
        }
        if let Some(f) = child {
            d.exit(f.child, 0).expect("exit");
            d.reap(parent, f.pid).expect("reap");
        }
    }

    /// Both workloads on 1 and 2 threads, named `{prefix}{workload}/{threads}`.
    fn bench(&self, g: &mut BenchmarkGroup<'_, WallTime>, prefix: &str) {
        for threads in [1u64, 2] {
            g.bench_function(
                BenchmarkId::new(format!("{prefix}read_only"), threads),
                |b| {
                    b.iter_custom(|iters| {
                        timed_threads(iters, threads, SCALING_OPS, &|t, ops| {
                            self.read_only(t, ops)
                        })
                    });
                },
            );
            g.bench_function(
                BenchmarkId::new(format!("{prefix}mixed_90_10"), threads),
                |b| {
                    b.iter_custom(|iters| {
                        timed_threads(iters, threads, SCALING_OPS, &|t, ops| {
                            self.mixed_90_10(t, ops)
                        })
                    });
                },
            );
        }
    }
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.sample_size(10).measurement_time(Duration::from_secs(2));
    ScalingCase::<Vps>::new().bench(&mut g, "");
    g.finish();
    // What two threads can gain on this machine at this moment: random reads
    // of a dense atomic array, which share nothing that is written; and the
    // rivals on the same workloads.
    let mut g = c.benchmark_group("scaling_reference");
    g.sample_size(10).measurement_time(Duration::from_secs(2));
    let dense: Vec<AtomicU64> = (0..1000).map(AtomicU64::new).collect();
    let read_dense = |thread: usize, ops: u64| {
        let mut rng = XorShift::new(thread as u64 + 1);
        for _ in 0..ops {
            black_box(dense[(rng.next_u64() % 1000) as usize].load(Ordering::Acquire));
        }
    };
    for threads in [1u64, 2] {
        g.bench_function(BenchmarkId::new("dense_array", threads), |b| {
            b.iter_custom(|iters| timed_threads(iters, threads, 8 * SCALING_OPS, &read_dense));
        });
    }
    ScalingCase::<Pspace>::new().bench(&mut g, "pspace_");
    ScalingCase::<Pidns>::new().bench(&mut g, "pidns_");
    g.finish();
}

/// Checkpoint a VPS of `n` tasks into memory, and restore that image as
/// another VPS (destroyed again outside the timed part).
fn checkpoint_restore(c: &mut Criterion) {
    let mut g = c.benchmark_group("checkpoint_restore");
    g.sample_size(10);
    for n in [1000usize, 100_000] {
        let host = vps::Host::new(vps::HostConfig {
            pid_max: vpid_core::PID_MAX_LIMIT,
        })
        .expect("host");
        let id = vps::VpsId(1);
        let init = host
            .create_vps(host.init(), id, vps::VpsConfig::default())
            .expect("vps");
        for _ in 1..n {
            host.fork(init, vpid_core::CloneFlags::empty(), None)
                .expect("fork");
        }
        let mut image = Vec::new();
        host.checkpoint(id, &mut image).expect("checkpoint");
        g.bench_function(BenchmarkId::new("checkpoint", n), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(image.len());
                host.checkpoint(id, &mut out).expect("checkpoint");
                black_box(out.len())
            });
        });
        g.bench_function(BenchmarkId::new("restore", n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let restored = host.restore(&image[..], vps::VpsId(2)).expect("restore");
                    total += start.elapsed();
                    black_box(restored);
                    host.destroy_vps(vps::VpsId(2)).expect("destroy");
                }
                total
            });
        });
    }
    g.finish();
}

fn main() {
    let mut c = criterion().configure_from_args();
    translate(&mut c);
    getpid(&mut c);
    fork_exit(&mut c);
    nesting(&mut c);
    kill_group(&mut c);
    scaling(&mut c);
    checkpoint_restore(&mut c);
    c.final_summary();
}
