//! A rival design: Biederman's pspace, where every kernel PID is a (space, pid) tuple.
#![forbid(unsafe_code)]
