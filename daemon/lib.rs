//! triaged: watches a support mailbox over IMAP, works out which written
//! procedure each message belongs to, checks who sent it, tells the staff
//! channel, and leaves a ready-to-send reply in Drafts. It never sends mail
//! to a user by itself.
//!
//! The modules follow the pipeline, in the order mail flows: mailbox →
//! message → classify → verify → procedures → act → store, and back to
//! mailbox, which carries out what act planned; staff is the channel staff
//! read. docs/DESIGN.md, "The path of one message", follows one message
//! through them.

pub mod backoff;
pub mod config;
pub mod locate;
pub mod forward_regex;
pub mod mailbox;
pub mod message;
pub mod verify;
pub mod procedures;
pub mod classify;
pub mod learn;
pub mod act;
pub mod staff;
pub mod store;
pub mod daemon;
pub mod control;
pub mod service;
pub mod status;
pub mod retention;
pub mod check;
pub mod logging;
pub mod document;
pub mod history;
pub mod quarantine;
