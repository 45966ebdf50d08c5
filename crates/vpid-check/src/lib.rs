//! A static analyzer that flags real/virtual PID mix-ups in Rust source.
#![forbid(unsafe_code)]
