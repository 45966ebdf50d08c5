//! Runs vpsctl scenarios on real Linux PID namespaces and compares them with the model.
#![forbid(unsafe_code)]
