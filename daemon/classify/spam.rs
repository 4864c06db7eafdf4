//! Spam by its words: a message the rules or the pack's model would
//! route goes to a person instead when its words read as spam at
//! [`MIN_HOLD`] ([`hold`]). An advance-fee letter that "cannot pay" a fee
//! for a charity reads like a request to `cannot-pay`, and its draft
//! would be a wrong one; `unclassified` costs a person's look and nothing
//! else. Spam that reaches no procedure is left as it was: unclassified,
//! with its notice. Only our receiving server's verdict sets mail aside
//! unseen ([`super::aside`]): tried, setting aside by these words alone
//! (at 0.995) also dropped, with no notice, reports about spam ("my list
//! gets pharmacy spam, can you block it?") and replies quoting it.
//!
//! Text in other languages needs [`MIN_HOLD_OTHER`]: the model learned
//! English mail, and requests in other languages read more like spam to
//! it than English ones (a Spanish non-profit's request for a free plan,
//! 0.93).
//!
//! The model is one logistic regression over the request model's
//! features ([`super::request`]), in the pack model's file format
//! ([`PackModel`], one "procedure", `spam`). It learned the spam and as
//! many ham of Enron-Spam's enron1 and enron3 folders
//! (`tests/learn-data/enron-spam.tsv`, rebuilt by `scripts/real-spam`)
//! against that ham, every labelled text of `tests/corpus/real` that is
//! not Enron's, and the tune half of Banking77's train split: requests
//! and issue reports are what it must never take for spam. `cargo run
//! --release --example train_spam_model` writes the file;
//! `tests/classify/spam.rs` checks it is what the tree's text trains.

use std::path::Path;
use std::sync::LazyLock;

use super::pack_model::{self, Example, PackModel};
use super::{Classification, request};
use super::rules::clean_subject;
use crate::message::{Message, strip_quoted};
use crate::procedures::UNCLASSIFIED;

/// The file, beside this module, that the daemon embeds.
pub const FILE: &str = "daemon/classify/spam_model.bin";

/// The model's one label.
pub const SPAM: &str = "spam";

/// The probability at which a route is handed to a person instead
/// ([`hold`]). At 0.9 the model took for spam none of the 6,692 requests
/// and issue reports it had not learned (Banking77's other train half,
/// the held-out question sets, the sealed twenty-third and generic
/// sets); trained on one of enron1 and enron3 it took 86 and 52 of the
/// other's ham, whose routes are wrong anyway.
pub const MIN_HOLD: f64 = 0.9;

/// The same for text the detector is sure is not English:
/// the model learned English mail, and requests in other languages read
/// more like spam to it than English ones (an adversary's Spanish,
/// Portuguese, Indonesian and German requests at 0.69 to 0.93).
pub const MIN_HOLD_OTHER: f64 = 0.99;

static SHIPPED: &[u8] = include_bytes!("spam_model.bin");

static MODEL: LazyLock<PackModel> = LazyLock::new(|| PackModel::from_bytes(SHIPPED).expect("spam_model.bin is written by the train_spam_model example"));

/// Hands a routed message whose words read as spam at [`MIN_HOLD`] to a
/// person: `unclassified`, with the route as the runner-up and why.
pub fn hold(msg: &Message, c: &mut Classification) {
    if c.procedure == UNCLASSIFIED {
        return;
    }
    let (subject, body) = (clean_subject(&msg.subject), strip_quoted(&msg.text));
    let start: String = format!("{subject}\n{body}").chars().take(1024).collect();
    // A text too short or mixed for the detector to be sure of is judged
    // as English: most such spam is ("hi, here").
    let least = match crate::learn::features::language(&start) {
        Some(lang) if lang != whatlang::Lang::Eng => MIN_HOLD_OTHER,
        _ => MIN_HOLD,
    };
    let p = probability(&MODEL, &subject, &body);
    if p < least {
        return;
    }
    c.held_back = Some(format!(
        "{} was chosen but its words read as spam ({p:.2} ≥ {MIN_HOLD}: {}): a person decides",
        c.procedure,
        MODEL.words(SPAM, &subject, &body).join(", ")
    ));
    c.runner_up = Some(std::mem::replace(&mut c.procedure, UNCLASSIFIED.to_string()));
    c.pack_model = None;
}

/// The probability `model` gives that this text is spam.
pub fn probability(model: &PackModel, subject: &str, body: &str) -> f64 {
    model.probability(SPAM, &pack_model::features(subject, body)).unwrap_or(0.0)
}

/// What the model learns: Enron-Spam's spam as [`SPAM`]; its ham, the
/// labelled real text that is not Enron's, and Banking77's tune half as
/// [`UNCLASSIFIED`].
pub fn corpus(root: &Path) -> Result<Vec<Example>, String> {
    let path = root.join("tests/learn-data/enron-spam.tsv");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let r: Vec<&str> = line.split('\t').collect();
        let [_, kind, subject, body] = r[..] else {
            return Err(format!("{}:{}: {} columns, the file has 4 (source, kind, subject, body)", path.display(), i + 1, r.len()));
        };
        let label = match kind {
            "spam" => SPAM,
            "ham" => UNCLASSIFIED,
            other => return Err(format!("{}:{}: kind {other:?}, not spam or ham", path.display(), i + 1)),
        };
        out.push((pack_model::features(subject, body), label.to_string()));
    }
    // Enron's own rows of the real sets were picked for tempting words
    // and are spam and ham alike: the file above is their place.
    let real = request::labelled(root, &["sourcehut", "2i2c", "cacert"])?;
    let bank = request::banking77_train(root, "any", true)?;
    for t in real.iter().filter(|t| !t.source.starts_with("enron-spam/")).chain(&bank) {
        out.push((pack_model::features(&t.subject, &t.body), UNCLASSIFIED.to_string()));
    }
    Ok(out)
}

/// The model [`corpus`] trains.
pub fn train(examples: &[Example]) -> PackModel {
    PackModel::train(examples, &[SPAM])
}
