//! The VPS manager's command line, its scenario language, and the tour.
#![forbid(unsafe_code)]
