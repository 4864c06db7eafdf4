//! The daemon as a service: the backbone, crashes and faults, limits,
//! hostile input, operator commands, status and systemd.

// One support module for every test binary, from its folder.
#[path = "../support/mod.rs"]
mod support;

mod backbone;
mod faults;
mod hostile_text;
mod limits;
mod operator;
mod pinned_tls;
mod status_health;
mod store_faults;
mod systemd_notify;
mod systemd_unit;
