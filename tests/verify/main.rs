//! Identity checks: each factor against real peers, the offline `verify`
//! command, and identity through the daemon.

// One support module for every test binary, from its folder.
#[path = "../support/mod.rs"]
mod support;

mod challenge;
mod cli;
mod conversation_trust;
mod dkim;
mod identity_flow;
mod list;
mod list_deployment;
mod pgp;
mod reverify;
mod ssh;
