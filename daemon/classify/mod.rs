//! Classification: which written procedure a message belongs to. It
//! scores the message against the pack's rules ([`rules`]), sets aside what
//! is no request at all ([`aside`]), holds back sensitive routes the
//! message does not ask for ([`guard`]), and explains its choice ([`explain`]).
//! What the procedure then does is `procedures`' business; nothing here
//! changes a ticket.

pub mod aside;
pub mod cli;
pub mod explain;
pub mod guard;
pub mod language;
pub mod opinion;
pub mod own;
pub mod pack_model;
pub mod request;
pub mod rules;
pub mod sensitive;
pub mod spam;
pub mod spelling;

pub use explain::explain;

/// The procedure name for messages no procedure claims with enough score.
pub use crate::procedures::UNCLASSIFIED;
/// The procedure name for messages that are not requests (bounces,
/// auto-replies, bulk, spam): see [`aside`].
pub use aside::SET_ASIDE;

/// The explainable result: the procedure, its score, the rules that fired
/// (`procedure/rule-name`), the next best procedure, and what the local
/// model made of it when it was asked.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Classification {
    pub procedure: String,
    pub score: f64,
    pub rules: Vec<String>,
    pub runner_up: Option<String>,
    /// For each rule that fired: `procedure/rule: "the words it matched"`,
    /// marked `(fallback)` when they were in a fallback clause ("or else
    /// …"). Message text: for staff and `classify`, never for notices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// Why the best procedure was not routed to (below its threshold, not
    /// far enough ahead of the runner-up, or stopped by the precision guard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_back: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<opinion::Opinion>,
    /// For a pack that lists its own services (`[own]`): the sign of them
    /// found, or none, and which procedures that kept out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own: Option<own::OwnVerdict>,
    /// What the pack's model made of it, when the pack ships one and it
    /// was asked ([`pack_model`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_model: Option<pack_model::PackOpinion>,
}
