//! The pack's model: for each procedure of a pack, how likely a text is a
//! request for it, learned from the public labelled text of the tree
//! (`tests/corpus/real`, the pack's written mail) and shipped beside the
//! pack as [`FILE`]. Where the team's own model (`learn`) starts empty, this
//! one knows from the first message how other people asked for each
//! procedure.
//!
//! Its powers are narrow (docs/CLASSIFICATION.md, "Classification", "The
//! pack's model"), and only over a message the rules left unclassified:
//!
//! - it may **route** it to an ordinary procedure that it finds at
//!   [`MIN_ROUTE`] or more ([`MIN_ROUTE_REDIRECT`] for a redirect, whose
//!   wrong guess harms no one), or at [`MIN_CONFIRM_ORDINARY`] when that is
//!   the rules' own near miss with a score of [`MIN_ORDINARY_SIGN`] or
//!   more (more than one weak word of theirs) and the precision guard
//!   finds the writer's own request;
//! - it may **confirm** the rules' near miss of a sensitive procedure: the
//!   rules scored that procedure [`MIN_SENSITIVE_SIGN`] or more but below
//!   the sensitive threshold, the model finds it at [`MIN_ROUTE`] too, and
//!   the request model read the text (English, longer than
//!   [`request::MIN_CHARS`]) as its writer's own request.
//!   It never routes into a sensitive procedure on its own words, and
//!   never into one decided by content.
//!
//! Either way only if no rule speaks against that procedure, the rules
//! lean to no other and found none as likely, whose service it is holds
//! (`needs_own`), and the precision guard (with the request model, for a
//! sensitive procedure) lets it through. It holds no route of the rules
//! back: tried, that held back right routes and short requests in other
//! languages, and no wrong route it alone would have caught.
//!
//! One logistic regression per procedure not decided by content (that
//! procedure against every other text) over the request model's features
//! ([`super::request`]), folded into [`BUCKETS`] weights each. `cargo run
//! --release --example train_pack_model -- PACK` writes the file;
//! `tests/classify/pack_model.rs` checks it is what the tree's text
//! trains.

use std::path::Path;

use super::rules::clean_subject;
use super::{Classification, UNCLASSIFIED, request};
use crate::message::{Message, strip_quoted};
use crate::procedures::Pack;

/// The file beside `procedures.toml`. A pack without one has no model.
pub const FILE: &str = "pack-model.bin";

/// Weights per procedure (2^16): 128 KiB each as 16-bit weights. On the
/// first looks 2^18 added one right route and 2^14 lost two.
pub const BUCKETS: usize = 1 << 16;

/// The probability the model needs to route a message the rules left
/// unclassified, or to confirm their sensitive near miss. Chosen on the
/// sealed sets' first looks, each judged by a model trained without that
/// set: for 2i2c, 0.9 routed 28 requests the rules had missed for 1 wrong
/// route, 0.8 34 for 8. For sourcehut's sensitive near misses (the sets
/// r4 to r11 and Banking77 each judged by a model without it, under
/// today's rules) 0.9 confirmed 5 requests and 0.8 7, neither a wrong one;
/// on the held-out halves 0.8 also confirmed one wrong route, 0.9 none.
pub const MIN_ROUTE: f64 = 0.9;

/// The probability the model needs to route a message to a redirect
/// (`redirect = true`: a reply that points elsewhere and asks or promises
/// nothing, 2i2c's everyday questions to the forum) that the rules left
/// unclassified. On the read sets r4 to r14, each judged by a model
/// trained without it (`pack_model_usage_questions_lower`), below
/// [`MIN_ROUTE`] 2i2c's model sent to out-of-scope 9 more usage questions
/// and 5 texts not 2i2c's at 0.5, 8 and 4 at 0.6, 5 and 3 at 0.7, and no
/// hub request of 2i2c's at any of them.
pub const MIN_ROUTE_REDIRECT: f64 = 0.6;

/// The rules' score a sensitive procedure needs before the model may
/// confirm it: more than one weak sign of its own. At 1.0 the model also
/// confirmed a bank customer's "If I lost my phone, how can I stop
/// someone from accessing my account" (Banking77's tune half) as a 2FA
/// request on "lost my phone" alone (1.5); at 2.0 it confirmed 4 of the
/// sealed sets' requests instead of 5, and that query no more.
pub const MIN_SENSITIVE_SIGN: f64 = 2.0;

/// The probability the model needs to confirm the rules' near miss of an
/// ordinary procedure scored [`MIN_ORDINARY_SIGN`] or more. On the sets r4
/// to r11 (each judged by a model trained without it, under today's
/// rules; `pack_model_confirms_ordinary_near_misses`), 2i2c's near misses
/// scored 2 or more that the model agreed with were 15 right routes and
/// no wrong one at 0.5, 10 at 0.9, the probability it routes alone with;
/// with the guard [`MIN_ORDINARY_SIGN`] asks for too, 8 and 6.
pub const MIN_CONFIRM_ORDINARY: f64 = 0.5;

/// The rules' score an ordinary near miss needs before the model may
/// confirm it below [`MIN_ROUTE`]; the text must also pass the precision
/// guard (a sign of the writer's own request). At 1.0 (any sign) without
/// the guard the read sets gave 28 right routes and 2 wrong, and an
/// adversary's 21 questions about other services went to `infrastructure`
/// on one noun ("hub", 1.5); at 2.0, 15 and none, but a second adversary
/// found 5 wrong routes for 2 right on "hub" and "log in" in a thank-you,
/// an onboarding notice and staff notes; with the guard, 8 and none on the
/// read sets, and 2 and 1 of the adversary's.
pub const MIN_ORDINARY_SIGN: f64 = 2.0;

/// The letters a text needs before the model routes it on its own
/// words. "hi", "hi, here" and a subject alone of two words carry no
/// request a reader could name, yet the model, which learned short
/// questions in Chinese and Russian, sent such spam to the forum.
pub const MIN_LETTERS: usize = 12;

const MAGIC: &[u8; 8] = b"TRPM0002";

/// How many words [`PackModel::words`] names.
const WORDS_SHOWN: usize = 5;

/// One procedure's weights.
#[derive(Debug)]
struct Weights {
    procedure: String,
    bias: f32,
    scale: f32,
    weights: Vec<i16>,
}

impl Weights {
    fn weight(&self, bucket: u32) -> f32 {
        f32::from(self.weights[bucket as usize % BUCKETS]) * self.scale
    }

    fn probability(&self, features: &[(u32, f32)]) -> f64 {
        let z = self.bias + features.iter().map(|&(b, v)| self.weight(b) * v).sum::<f32>();
        request::sigmoid(f64::from(z))
    }
}

/// The pack's model: weights for each procedure it learned.
#[derive(Debug)]
pub struct PackModel {
    procedures: Vec<Weights>,
}

/// What the pack's model did to a message, as `classify --json` shows it:
/// only when it routed it (otherwise the line is the rules' alone).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PackOpinion {
    /// The procedure it routed to.
    pub procedure: String,
    pub probability: f64,
    /// The writer's words that weighed most for `procedure`, strongest
    /// first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
}

/// The rules' view of one procedure, for the model's gates: its score and
/// whether a rule of it that speaks against it fired.
pub struct RuleView<'a> {
    pub procedure: &'a str,
    pub score: f64,
    pub against: Option<&'a str>,
}

/// The model's look at a message the rules left unclassified: it may
/// route it to an ordinary procedure (the module's doc). `rules`: every
/// procedure's score before any was set aside; `own_missing`: the pack
/// lists its own services and the message shows none of them.
pub fn look(pack: &Pack, msg: &Message, c: &mut Classification, rules: &[RuleView<'_>], own_missing: bool) {
    let Some(model) = pack.model.as_deref().filter(|_| c.procedure == UNCLASSIFIED) else { return };
    let (subject, body) = (clean_subject(&msg.subject), strip_quoted(&msg.text));
    let Some((best, p)) = model.best(&features(&subject, &body)) else { return };
    if let Some(why) = why_not(pack, msg, (&subject, &body), best, p, rules, own_missing) {
        tracing::trace!(procedure = best, probability = p, "the pack's model does not route: {why}");
        return;
    }
    let words = model.words(best, &subject, &body);
    c.procedure = best.to_string();
    c.held_back = None;
    // The rules' near miss was this very procedure: no runner-up to show.
    if c.runner_up.as_deref() == Some(best) {
        c.runner_up = None;
    }
    c.pack_model = Some(PackOpinion { procedure: best.to_string(), probability: round2(p), words });
}

/// Why the model may not route to `best`, or `None` when it may.
fn why_not(pack: &Pack, msg: &Message, (subject, body): (&str, &str), best: &str, p: f64, rules: &[RuleView<'_>], own_missing: bool) -> Option<String> {
    let Some(procedure) = pack.procedure(best) else {
        return Some(format!("pack {} has no procedure {best}", pack.name));
    };
    if procedure.by_content {
        return Some(format!("{best} is decided by content: the pack's model routes only by what the writer asks"));
    }
    let mine = rules.iter().find(|r| r.procedure == best);
    let floor = mine.map_or(0.0, |r| r.score.max(0.0));
    // A probability that is no number never passes. The rules' own near
    // miss of an ordinary procedure, on more than one weak word, needs
    // only the model's agreement; the lean and rival checks below keep it
    // the rules' best procedure.
    // A probability the model routes on alone never needs the rules'
    // words: a redirect's near miss the model finds at 0.7 routes as the
    // same text with no word of the rules would.
    let alone = if procedure.redirect { MIN_ROUTE_REDIRECT } else { MIN_ROUTE };
    let confirming = !procedure.sensitive && floor >= MIN_ORDINARY_SIGN && p < alone;
    let need = if confirming { MIN_CONFIRM_ORDINARY } else { alone };
    if p.is_nan() || p < need {
        return Some(format!("probability {p:.2} below {need}"));
    }
    if !confirming && letters(subject, body) < MIN_LETTERS {
        return Some(format!("the text has fewer than {MIN_LETTERS} letters: too little for the pack's model to route on its own words"));
    }
    // A sensitive procedure: a confirmation of the rules' own near miss,
    // never a route on the model's words alone.
    if procedure.sensitive && floor < MIN_SENSITIVE_SIGN {
        return Some(format!(
            "{best} is sensitive and its rules scored {floor} < {MIN_SENSITIVE_SIGN}: the pack's model confirms a sensitive near miss of the rules, it never routes into one alone"
        ));
    }
    // And only a text the request model reads (English, long enough): a
    // short query ("I lost my phone, can I disable the app?") could be to
    // anyone, and the request model passes it unread.
    if procedure.sensitive && !request::judged(subject, body) {
        return Some(format!(
            "{best} is sensitive and the text is too short or not English for the request model to read: the pack's model confirms only a text it read as its writer's own request"
        ));
    }
    if procedure.needs_own && own_missing {
        return Some(format!("{best} needs a sign of our own services (an address, name or tracker of ours, or a known sender) and the message has none"));
    }
    if let Some(rule) = mine.and_then(|r| r.against) {
        return Some(format!("its rule {rule} speaks against {best}"));
    }
    // These scores are the rules' before whose service it is was asked:
    // a question in the words of a hub request that names no hub of ours
    // is not redirected on learned words either.
    if let Some(lean) = rules.iter().filter(|r| r.score > floor).max_by(|a, b| a.score.total_cmp(&b.score)) {
        return Some(format!("the rules lean to {} (score {} against {floor} for {best})", lean.procedure, lean.score));
    }
    // Where the rules found another procedure as likely ("change my
    // username, or delete my account"), a person decides, not word counts.
    if let Some(rival) = rules.iter().find(|r| r.procedure != best && r.score > 0.0 && floor - r.score < pack.margin.max(f64::MIN_POSITIVE)) {
        return Some(format!("the rules found {} as likely as {best} (scores {} and {floor})", rival.procedure, rival.score));
    }
    // The guard, and for a sensitive procedure the request model: the
    // writer's own request, as the rules' own sensitive routes need. An
    // unsure model over two weak words ("hub" and "log in" in a thank-you
    // note) needs it too, guarded procedure or not.
    if let Some(why) = (procedure.needs_request || confirming).then(|| pack.sensitive_hold(msg, true, procedure.sensitive)).flatten() {
        return Some(if procedure.needs_request {
            format!("{best} is guarded and {why}")
        } else {
            format!("{best} scored {floor}, the pack's model agrees at {p:.2} below {alone}, and {why}")
        });
    }
    None
}

/// The letters of `subject` and `body`, counted up to [`MIN_LETTERS`].
fn letters(subject: &str, body: &str) -> usize {
    subject.chars().chain(body.chars()).filter(|c| c.is_alphabetic()).take(MIN_LETTERS).count()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A labelled text as the model learns it: its [`features`] and its
/// procedure, or `unclassified`.
pub type Example = (Vec<(u32, f32)>, String);

/// The features the model reads: the request model's, folded into
/// [`BUCKETS`] (the sum of the buckets that fold together).
pub fn features(subject: &str, body: &str) -> Vec<(u32, f32)> {
    let mut folded: Vec<(u32, f32)> = request::features(subject, body).into_iter().map(|(b, v)| (b % BUCKETS as u32, v)).collect();
    folded.sort_by_key(|&(b, _)| b);
    let mut out: Vec<(u32, f32)> = Vec::with_capacity(folded.len());
    for (b, v) in folded {
        match out.last_mut() {
            Some((last, sum)) if *last == b => *sum += v,
            _ => out.push((b, v)),
        }
    }
    out
}

impl PackModel {
    /// The model beside the pack in `dir` ([`FILE`]), if there is one; an
    /// error that says what to do when it is not a model (the caller names
    /// the file).
    pub fn load(dir: &Path) -> Result<Option<PackModel>, String> {
        let path = dir.join(FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read the pack's model: {e}")),
        };
        PackModel::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| format!("{e}: write it again with `cargo run --release --example train_pack_model -- PACK`, or remove it to run the pack without a model"))
    }

    /// Trains one regression per procedure of `procedures` over
    /// `examples` (features by [`features`], and each text's procedure or
    /// `unclassified`).
    pub fn train(examples: &[Example], procedures: &[&str]) -> PackModel {
        let procedures = procedures
            .iter()
            .map(|id| {
                let labelled: Vec<(Vec<(u32, f32)>, bool)> = examples.iter().map(|(f, label)| (f.clone(), label == id)).collect();
                let (bias, weights) = request::train_sized(&labelled, BUCKETS);
                let largest = weights.iter().fold(0f32, |m, w| m.max(w.abs())).max(f32::MIN_POSITIVE);
                let scale = largest / f32::from(i16::MAX);
                Weights { procedure: id.to_string(), bias, scale, weights: weights.iter().map(|w| (w / scale).round() as i16).collect() }
            })
            .collect();
        PackModel { procedures }
    }

    /// The file format: [`MAGIC`], the number of procedures (u32), then for
    /// each its id's length (u16) and id, bias and scale (f32), and
    /// [`BUCKETS`] i16 weights, all little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.procedures.len() * (64 + 2 * BUCKETS));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.procedures.len() as u32).to_le_bytes());
        for w in &self.procedures {
            let len = u16::try_from(w.procedure.len()).expect("a procedure id is shorter than 64 KiB");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(w.procedure.as_bytes());
            out.extend_from_slice(&w.bias.to_le_bytes());
            out.extend_from_slice(&w.scale.to_le_bytes());
            w.weights.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PackModel, String> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], String> {
            let part = bytes.get(at..at + n).ok_or("the file ends early")?;
            at += n;
            Ok(part)
        };
        if take(MAGIC.len())? != MAGIC {
            return Err("not a pack model of this version (no TRPM0002 at its start)".into());
        }
        let n = u32::from_le_bytes(take(4)?.try_into().expect("four bytes"));
        let mut procedures = Vec::new();
        for _ in 0..n {
            let len = u16::from_le_bytes(take(2)?.try_into().expect("two bytes")) as usize;
            let procedure = std::str::from_utf8(take(len)?).map_err(|_| "a procedure id is not UTF-8")?.to_string();
            let bias = f32::from_le_bytes(take(4)?.try_into().expect("four bytes"));
            let scale = f32::from_le_bytes(take(4)?.try_into().expect("four bytes"));
            if !(bias.is_finite() && scale.is_finite()) {
                return Err(format!("the weights of {procedure} are no numbers"));
            }
            let weights = take(2 * BUCKETS)?.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
            procedures.push(Weights { procedure, bias, scale, weights });
        }
        if at != bytes.len() {
            return Err(format!("{} bytes after the last procedure", bytes.len() - at));
        }
        Ok(PackModel { procedures })
    }

    /// The procedures it has weights for.
    pub fn procedures(&self) -> impl Iterator<Item = &str> {
        self.procedures.iter().map(|w| w.procedure.as_str())
    }

    /// The probability that a text with these features asks for
    /// `procedure`; `None` when the model has no weights for it.
    pub fn probability(&self, procedure: &str, features: &[(u32, f32)]) -> Option<f64> {
        self.procedures.iter().find(|w| w.procedure == procedure).map(|w| w.probability(features))
    }

    /// Its most likely procedure and that probability.
    pub fn best(&self, features: &[(u32, f32)]) -> Option<(&str, f64)> {
        self.procedures.iter().map(|w| (w.procedure.as_str(), w.probability(features))).max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The words of the text that weighed most for `procedure`, strongest
    /// first: each word's own features' weights summed.
    pub fn words(&self, procedure: &str, subject: &str, body: &str) -> Vec<String> {
        let Some(w) = self.procedures.iter().find(|w| w.procedure == procedure) else {
            return Vec::new();
        };
        let text: String = format!("{subject}\n{body}").chars().take(1024).collect();
        let mut seen = std::collections::HashSet::new();
        let mut weighed: Vec<(f32, String)> = request::words_of(&text)
            .map(str::to_lowercase)
            .filter(|word| seen.insert(word.clone()))
            .map(|word| (request::word_buckets(&word).iter().map(|&b| w.weight(b)).sum::<f32>(), word))
            .filter(|(x, _)| *x > 0.0)
            .collect();
        weighed.sort_by(|a, b| b.0.total_cmp(&a.0));
        weighed.into_iter().take(WORDS_SHOWN).map(|(_, word)| word).collect()
    }
}

/// The procedures a model of `pack` has weights for: those the examples
/// hold, but none decided by content (the model judges what the writer
/// asks, not what a message carries).
pub fn trained_procedures<'a>(pack: &'a Pack, examples: &[Example]) -> Vec<&'a str> {
    pack.procedures
        .iter()
        .filter(|p| !p.by_content && examples.iter().any(|(_, label)| *label == p.id))
        .map(|p| p.id.as_str())
        .collect()
}

/// The text the model of `pack` is trained on, under `root`: the pack's
/// rows of the tree's labelled real text that are tune text, and its
/// written mail ([`request::labelled`]).
pub fn corpus(root: &Path, pack: &str) -> Result<Vec<Example>, String> {
    Ok(corpus_texts(root, pack)?.into_iter().map(|t| (features(&t.subject, &t.body), t.label)).collect())
}

/// The texts of [`corpus`], each with its set and source (for trials that
/// leave some of them out).
pub fn corpus_texts(root: &Path, pack: &str) -> Result<Vec<request::Text>, String> {
    let mut texts = request::labelled(root, &[pack])?;
    // Which procedure, not whether a request: a bank customer's own query
    // about a transfer is no refund, and without these the model took
    // any talk of money for one.
    if pack == "sourcehut" {
        texts.extend(request::banking77(root, false)?);
    }
    // None of a bank's queries is 2i2c's: without them as no procedure,
    // the model sent one in seven to `out-of-scope` ("how do I ...?" reads
    // like a usage question), and one short business mail in a hundred.
    // Since it learns other projects' usage questions too, it needs the
    // whole tune half of Banking77's train split: with banking77.tsv's few
    // hundred alone, "I keep getting an error when I transfer" and "how do
    // I change my last name?" went to the forum.
    if pack == "2i2c" {
        let bank: Vec<request::Text> = request::banking77(root, true)?.into_iter().chain(request::banking77(root, false)?).collect();
        let seen: std::collections::BTreeSet<String> = bank.iter().map(|t| t.body.clone()).collect();
        texts.extend(bank.into_iter().map(|t| request::Text { pack: pack.into(), label: crate::procedures::UNCLASSIFIED.into(), request: false, ..t }));
        texts.extend(request::banking77_train(root, pack, true)?.into_iter().filter(|t| !seen.contains(&t.body)));
    }
    // What people ask an assistant or a bank, none of it ours: without
    // them "what's my name huh" and "tell me my name" went to
    // account-rename, on "my name" alone. (Not 2i2c's: learned, they
    // moved its weights enough to send a lecturer's own hub to
    // infrastructure, and they reached nothing of 2i2c's but the forum.)
    // (clinc.tsv's tune half: every row is sourcehut's, every one none.)
    if pack == "sourcehut" {
        texts.extend(request::set_rows(root, "clinc.tsv", false, &[pack])?);
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> PackModel {
        let f = |s: &str| features("", s);
        let mut examples = Vec::new();
        for _ in 0..5 {
            examples.push((f("my notebook raises a KeyError when I read the csv"), "out-of-scope".to_string()));
            examples.push((f("the hub will not start my server, spawn timeout"), "infrastructure".to_string()));
            examples.push((f("thanks for the newsletter, see you at the conference"), "unclassified".to_string()));
        }
        PackModel::train(&examples, &["infrastructure", "out-of-scope"])
    }

    #[test]
    fn a_model_survives_its_file_format_and_a_damaged_file_is_an_error() {
        let model = toy();
        let bytes = model.to_bytes();
        let back = PackModel::from_bytes(&bytes).expect("reads back");
        assert_eq!(back.procedures().collect::<Vec<_>>(), ["infrastructure", "out-of-scope"]);
        let f = features("", "the hub will not start my server");
        assert_eq!(back.probability("infrastructure", &f), model.probability("infrastructure", &f));
        assert!(PackModel::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err().contains("ends early"));
        assert!(PackModel::from_bytes(b"TRQM0001....").unwrap_err().contains("not a pack model"));
        let mut nan = bytes.clone();
        // The first procedure's bias: after the magic, the count, the id's
        // length and "infrastructure".
        let at = 8 + 4 + 2 + "infrastructure".len();
        nan[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(PackModel::from_bytes(&nan).unwrap_err().contains("no numbers"));
    }

    #[test]
    fn it_learns_which_procedure_and_names_the_words() {
        let model = toy();
        let f = features("", "my hub server will not start");
        let (best, p) = model.best(&f).expect("a procedure");
        assert_eq!(best, "infrastructure", "{p}");
        let words = model.words("infrastructure", "", "my hub server will not start");
        assert!(words.iter().any(|w| w == "hub" || w == "server" || w == "start"), "{words:?}");
        assert!(model.probability("refund", &f).is_none());
    }
}
