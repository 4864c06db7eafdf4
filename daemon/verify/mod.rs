//! Identity verification: who really sent a message, as factors checked
//! against the keys on file for the account. Never trusts a key's user ID
//! or a display name; only keys and addresses on file count.

pub mod factor;
pub mod pgp;
pub mod ssh;
pub mod challenge;

pub use factor::{Factor, Outcome};
