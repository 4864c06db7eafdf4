//! Classification: which written procedure a message belongs to, and what
//! that procedure does next. A pack (`templates/<pack>/procedures.toml` plus
//! its reply templates) is data; this module loads and validates it
//! ([`pack`]), scores messages against its rules ([`rules`]), runs the
//! procedure's steps as pure planning ([`procedure`]) and renders replies
//! ([`render`]). It never sends anything and never puts user text into a
//! template's source: user text is only ever data.

pub mod cli;
pub mod explain;
pub mod guarantee;
pub mod intent;
pub mod pack;
pub mod procedure;
pub mod render;
pub mod rules;
pub mod sensitive;

pub use pack::{IdentityPolicy, Pack, Procedure, Step, TicketState};
pub use procedure::{Clock, Event, Plan, SystemClock};
pub use explain::explain;
pub use intent::Intent;
pub use render::{RenderError, render};

/// The procedure name for messages no procedure claims with enough score.
pub const UNCLASSIFIED: &str = "unclassified";

/// The explainable result: the procedure, its score, the rules that fired
/// (`procedure/rule-name`) and the next best procedure.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Classification {
    pub procedure: String,
    pub score: f64,
    pub rules: Vec<String>,
    pub runner_up: Option<String>,
}
