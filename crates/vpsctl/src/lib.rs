//! The VPS manager's command line, its scenario language, and the tour.
//!
//! - [`scenario`]: the language, a parser into a typed tree that does not
//!   depend on the `vps` crate, so that `vps-linux` can run the same files on
//!   real Linux namespaces.
//! - [`exec`]: runs scenarios on the model (`vps::Host`), checking `expect`.
//! - [`view`]: the `ps` table and tree, and their JSON form.
//! - [`state`]: the persistent host of `vpsctl create 101` and friends.
//! - [`tour`]: the guided tour.
#![forbid(unsafe_code)]

pub mod exec;
pub mod scenario;
pub mod state;
pub mod tour;
pub mod view;
