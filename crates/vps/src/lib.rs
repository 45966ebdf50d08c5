//! The host process table and its containers (VPSes), with OpenVZ-style virtual PIDs.
#![forbid(unsafe_code)]
