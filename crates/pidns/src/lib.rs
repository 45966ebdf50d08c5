//! A rival design: Linux PID namespaces, one number per nesting level.
#![forbid(unsafe_code)]
