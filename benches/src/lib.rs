//! Shared workloads for the vpid comparison benchmarks.
#![forbid(unsafe_code)]
