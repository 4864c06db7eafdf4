//! The procedures as written: the engine over the shipped packs, and whole
//! timelines through the daemon.

// One support module for every test binary, from its folder.
#[path = "../support/mod.rs"]
mod support;

mod as_written;
mod cacert_timeline;
mod engine;
mod set_aside;
mod stale_drafts;
mod twoi2c_resolution;
