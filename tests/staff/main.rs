//! The staff channel: IRC against a real ngIRCd, the webhook, staff
//! commands through the daemon.

// One support module for every test binary, from its folder.
#[path = "../support/mod.rs"]
mod support;

mod daemon_staff;
mod irc_channel;
mod irc_resilience;
mod staff_ops;
mod webhook;
