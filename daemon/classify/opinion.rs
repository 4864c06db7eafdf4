//! What the local model said about a message, as part of its
//! classification: the model itself (`learn`) is above the rules and asks
//! them first; these are only the words of its answer.

use serde::{Deserialize, Serialize};

/// The model's opinion of one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vote {
    /// A procedure id, or `unclassified`.
    pub procedure: String,
    pub probability: f64,
    /// Examples the model holds for this procedure.
    pub examples: u32,
    /// The words of the message that weighed most for it against the
    /// runner-up, strongest first.
    pub words: Vec<String>,
    /// The log-odds of `procedure` over "no procedure" (the scores'
    /// difference), when both are learned and `procedure` is not it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_odds: Option<f64>,
}

/// What the model made of a message, as `classify --json` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opinion {
    #[serde(flatten)]
    pub vote: Vote,
    /// The model chose the procedure (the rules had left it unclassified).
    pub decided: bool,
    /// Why its vote was not taken, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_used: Option<String>,
    /// The taught example that let it choose a sensitive procedure the
    /// rules saw no sign of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin: Option<Twin>,
}

/// A learned example nearly the same as the message, of the procedure the
/// model chose, and nearer to it than any example of anything else: the
/// team answered this very request before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Twin {
    /// The example's id, as `learn --list` shows it.
    pub example: String,
    /// Where it came from: a file name, or the ticket and who decided.
    pub source: String,
    /// The share of features the two have in common (Jaccard), 0 to 1.
    pub similarity: f64,
}

impl Opinion {
    /// For staff notices: the model's part without the message's words.
    pub fn explain(&self) -> String {
        let v = &self.vote;
        match (&self.not_used, self.decided) {
            (_, true) => match &self.twin {
                Some(t) => format!("chosen by the model ({} examples learned; like example {}, {}, {:.2} alike)", v.examples, t.example, t.source, t.similarity),
                None => format!("chosen by the model ({} examples learned)", v.examples),
            },
            (Some(why), false) => format!("model: {} {} (not used: {why})", v.procedure, v.probability),
            (None, false) => format!("model: {} {}", v.procedure, v.probability),
        }
    }
}
