//! The agent: the binary the test spawns to run plans on real PID
//! namespaces (see [`relay_main`]).

mod member;
mod procfs;
mod relay;
mod restore;
mod wire;

pub use relay::relay_main;
