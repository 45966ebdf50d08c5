//! Shared workloads for the vpid comparison benchmarks.
//!
//! The three designs (the marker-bit `vps`, Biederman's `pspace`, Linux
//! `pidns`) sit behind one [`design::Design`] trait, so each benchmark,
//! each conformance scenario and the memory measurement run identical code
//! against each. [`report`] turns criterion's results into
//! `docs/benchmarks.md`.
#![forbid(unsafe_code)]

pub mod design;
pub mod report;
pub mod workload;
