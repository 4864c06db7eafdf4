//! The procedure engine: a pack (`templates/<pack>/procedures.toml` plus
//! its reply templates) is data; this module loads and validates it
//! ([`pack`], with the guarantees of [`guarantee`]), runs a procedure's
//! steps as pure planning ([`engine`]), reads what a reply means for them
//! ([`intent`]) and renders replies ([`render`]). Which procedure a message
//! belongs to is `classify`'s question, not this module's. It never sends
//! anything and never puts user text into a template's source: user text
//! is only ever data.

pub mod engine;
pub mod expression;
pub mod guarantee;
pub mod intent;
pub mod pack;
pub mod procedure;
pub mod render;
pub mod rule_text;
pub mod rule_words;

pub use engine::{Clock, Event, Plan, SystemClock};
pub use intent::Intent;
pub use pack::{IdentityPolicy, Pack, Procedure, Step, TicketState};
pub use render::{RenderError, render};

/// The procedure of messages no procedure claims with enough score: they
/// are acknowledged and left for staff.
pub const UNCLASSIFIED: &str = "unclassified";
