//! (backbone, in progress)

pub mod notice;
