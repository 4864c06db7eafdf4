//! Learning from the team: labelled examples (from `triaged learn`, an
//! archive, or staff moving a ticket to another procedure) train a small
//! local model that routes what the pack's rules leave unclassified. It
//! owns the examples' features and the model's counts; it never keeps a
//! message's text, never overrules a rule that is sure, and never routes
//! into a sensitive procedure against a rule of that procedure that speaks
//! against it. Identity is not its business: a procedure it picks is gated
//! exactly as one the rules picked.

pub mod cli;
pub mod features;
pub mod model;
pub mod twins;

use std::sync::RwLock;

use crate::classify::rules::Scored;
use crate::classify::own::Sender;
use crate::classify::{Classification, UNCLASSIFIED};
use crate::procedures::Pack;
use crate::config::LearningConfig;
use crate::message::Message;
use crate::store::{Example, ExampleKey, Store, StoreError, TicketId};
use twins::Sketches;
pub use features::Features;
pub use crate::classify::opinion::{Opinion, Twin};
pub use model::{Model, Vote};

/// What learning one example did: the message was new to the store, was
/// there with the same label, or was there with another one (which it
/// replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learned {
    New,
    Known,
    Relabelled { from: String },
}

/// "1 example", "2 examples".
pub fn examples(n: usize) -> String {
    if n == 1 { "1 example".into() } else { format!("{n} examples") }
}

/// What a batch of examples did, told in one line: "learned 3 examples
/// (1 new, 1 already known, 1 relabelled: unclassified → refund)". A
/// label that changed is named, since learning a message again under
/// another label replaces what it was taught as.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub new: usize,
    pub known: usize,
    /// (old label, new label) → how many.
    pub relabelled: std::collections::BTreeMap<(String, String), usize>,
}

impl Tally {
    pub fn add(&mut self, learned: &Learned, label: &str) {
        match learned {
            Learned::New => self.new += 1,
            Learned::Known => self.known += 1,
            Learned::Relabelled { from } => *self.relabelled.entry((from.clone(), label.to_string())).or_default() += 1,
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.new += other.new;
        self.known += other.known;
        for (k, n) in &other.relabelled {
            *self.relabelled.entry(k.clone()).or_default() += n;
        }
    }

    pub fn line(&self) -> String {
        let relabelled: usize = self.relabelled.values().sum();
        let total = self.new + self.known + relabelled;
        if self.known == 0 && relabelled == 0 {
            return format!("learned {}", examples(total));
        }
        let mut parts = vec![format!("{} new", self.new), format!("{} already known", self.known)];
        if relabelled > 0 {
            let moves: Vec<String> = self.relabelled.iter().map(|((from, to), n)| format!("{n} {from} → {to}")).collect();
            parts.push(format!("{relabelled} relabelled: {}", moves.join(", ")));
        }
        format!("learned {} ({})", examples(total), parts.join(", "))
    }

    /// Reads back a [`Tally::line`]; `None` for any other text.
    pub fn parse(line: &str) -> Option<Tally> {
        let rest = line.strip_prefix("learned ")?;
        let (total, rest) = rest.split_once(' ')?;
        let total: usize = total.parse().ok()?;
        let Some((_, detail)) = rest.split_once(" (") else {
            return Some(Tally { new: total, ..Default::default() });
        };
        let detail = detail.strip_suffix(')')?;
        let mut t = Tally::default();
        let (counts, moves) = match detail.split_once(" relabelled: ") {
            Some((c, m)) => (c, Some(m)),
            None => (detail, None),
        };
        for part in counts.split(", ") {
            if let Some(n) = part.strip_suffix(" new") {
                t.new = n.parse().ok()?;
            } else if let Some(n) = part.strip_suffix(" already known") {
                t.known = n.parse().ok()?;
            }
        }
        for m in moves.into_iter().flat_map(|m| m.split(", ")) {
            let (n, labels) = m.split_once(' ')?;
            let (from, to) = labels.split_once(" → ")?;
            t.relabelled.insert((from.to_string(), to.to_string()), n.parse().ok()?);
        }
        Some(t)
    }
}

/// The model and the examples behind it. Shared by the intake and the
/// staff requests of one process.
pub struct Learner {
    store: Store,
    settings: LearningConfig,
    model: RwLock<Model>,
    /// Each example's sketch, to find a request taught before.
    twins: RwLock<Sketches>,
}

impl Learner {
    /// Counts in every stored example. Ten thousand take a fraction of a
    /// second (docs/BENCHMARKS.md), so the counts are not stored twice.
    pub fn open(store: &Store, settings: LearningConfig) -> Result<Learner, StoreError> {
        let (mut model, mut twins) = (Model::default(), Sketches::default());
        if settings.enabled {
            for (key, ex) in store.examples()? {
                model.add(&ex.label, &ex.features);
                twins.insert(key, &ex.label, &ex.features);
            }
        }
        Ok(Learner { store: store.clone(), settings, model: RwLock::new(model), twins: RwLock::new(twins) })
    }

    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    fn model(&self) -> std::sync::RwLockReadGuard<'_, Model> {
        // A panic while counting leaves counts that are merely off by one
        // example; classification goes on.
        self.model.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The pack's rules, then the model where they are not sure. Returns
    /// the message's features too, for [`Learner::ticket_features`].
    pub fn classify(&self, pack: &Pack, msg: &Message) -> (Classification, Option<Features>) {
        self.classify_from(pack, msg, Sender::Unknown)
    }

    /// As [`Learner::classify`], knowing whether the account directory
    /// knows the sender ([`Pack::classify_from`]).
    pub fn classify_from(&self, pack: &Pack, msg: &Message, sender: Sender) -> (Classification, Option<Features>) {
        let mut class = pack.classify_from(msg, sender);
        if !self.settings.enabled {
            return (class, None);
        }
        let features = Features::of_message_with(msg, self.settings.features);
        let Some(vote) = self.model().vote(&features) else {
            return (class, Some(features));
        };
        let (not_used, twin) = match self.judge(pack, msg, &class, &vote, &features) {
            Ok(twin) => (None, twin),
            Err(why) => (Some(why), None),
        };
        let decided = not_used.is_none();
        if decided {
            class.procedure = vote.procedure.clone();
            // The pack's model no longer decided it, unless both agree.
            class.pack_model.take_if(|m| m.procedure != class.procedure);
        }
        class.model = Some(Opinion { vote, decided, not_used, twin });
        (class, Some(features))
    }

    /// Whether the model's vote may decide: `Err` says why not; `Ok` holds
    /// the taught example it rests on when the rules saw no sign of a
    /// sensitive procedure.
    fn judge(&self, pack: &Pack, msg: &Message, rules: &Classification, vote: &Vote, features: &Features) -> Result<Option<Twin>, String> {
        // What the pack's model routed or confirmed (a sensitive near
        // miss too), the team's own examples may route elsewhere: they are
        // this team's mail. The gates below still hold for any route.
        if rules.procedure != UNCLASSIFIED && rules.pack_model.is_none() {
            return Err("the rules decided".into());
        }
        if vote.procedure == UNCLASSIFIED {
            return Err("its best guess is no procedure".into());
        }
        let Some(procedure) = pack.procedure(&vote.procedure) else {
            return Err(format!("pack {} has no procedure {}", pack.name, vote.procedure));
        };
        // Whose service it is holds for the model as for the rules: learned
        // words ("hub", "spawn") never say it.
        if procedure.needs_own && rules.own.as_ref().is_some_and(|o| o.sign.is_none()) {
            return Err(format!("{} needs a sign of our own services (an address, name or tracker of ours, or a known sender) and the message has none", procedure.id));
        }
        let (key, least) = if procedure.sensitive {
            ("min_probability_sensitive", self.settings.min_probability_sensitive)
        } else {
            ("min_probability", self.settings.min_probability)
        };
        if vote.probability < least {
            return Err(format!("probability below learning.{key} {least}"));
        }
        if vote.examples < self.settings.min_examples {
            return Err(format!("{} examples, learning.min_examples is {}", vote.examples, self.settings.min_examples));
        }
        // The precision guard holds for the model as for the rules: a bug
        // report or talk about other people's accounts is no request.
        if let Some(why) = procedure.needs_request.then(|| pack.sensitive_hold(msg, !procedure.by_content, procedure.sensitive)).flatten() {
            return Err(format!("{} is {} and {why}", procedure.id, if procedure.sensitive { "sensitive" } else { "guarded" }));
        }
        if self.model().examples().count() < 2 {
            return Err("nothing else learned to compare with (learn --not some ordinary mail)".into());
        }
        // The rules' view of the model's procedure: a rule of it that
        // speaks against the message wins over any probability, and a
        // sensitive procedure needs a sign of it the rules saw too (a near
        // miss the model confirms, never a guess from words alone).
        let weight = |name: &str| procedure.rules.iter().find(|r| r.name == name).map_or(0.0, |r| r.weight);
        let scored = pack.scores(msg);
        let Some(mine) = scored.iter().find(|s| s.procedure == procedure.id) else { return Ok(None) };
        if let Some(rule) = mine.rules.iter().find(|r| weight(r) < 0.0) {
            return Err(format!("its rule {rule} speaks against {}", procedure.id));
        }
        // Where the rules lean to another procedure (a stack trace for
        // out-of-scope, a lockout word for 2FA), the model fills no silence:
        // it would overrule them on learned words.
        let lean = scored.iter().filter(|s| s.score > mine.score.max(0.0)).max_by(|a, b| a.score.total_cmp(&b.score));
        if let Some(lean) = lean {
            return Err(format!("the rules lean to {} (score {} against {} for {})", lean.procedure, lean.score, mine.score, procedure.id));
        }
        if procedure.sensitive && self.settings.sensitive_needs_rule_sign {
            return match self.why_not_sensitive(pack, &scored, mine) {
                None => Ok(None),
                // A tie between procedures stays a person's, twin or not.
                Some(SensitiveHold::Tie(why)) => Err(why),
                Some(SensitiveHold::NoSign(why)) => match self.twin(&procedure.id, &twin_features(msg, features, self.settings.features)) {
                    Ok(twin) => Ok(Some(twin)),
                    Err(unlike) => Err(format!("{why}, and {unlike} (learning.sensitive_needs_rule_sign)")),
                },
            };
        }
        Ok(None)
    }

    /// A sensitive procedure is confirmed, never guessed: the rules must
    /// have seen a fair part of the evidence they need themselves (half
    /// their threshold: one weak word such as "student" or "locked out" is
    /// not a sign of a refund or a lockout), and it must be their own best
    /// candidate, clear of every other procedure by the pack's margin. When
    /// the rules held back between two procedures, that is a question for a
    /// person, not for learned word counts; the model breaks no such tie.
    fn why_not_sensitive(&self, pack: &Pack, scored: &[Scored<'_>], mine: &Scored<'_>) -> Option<SensitiveHold> {
        let id = mine.procedure;
        let floor = pack.threshold_for(true) / 2.0;
        // A tie first: a request taught before stands in for the rules'
        // sign, never for their margin (two procedures at 1.5 each are a
        // question for a person, twin or not).
        let rival = scored.iter().filter(|s| s.procedure != id && s.score > 0.0).find(|s| mine.score - s.score < pack.margin);
        if let Some(rival) = rival.filter(|_| mine.score > 0.0) {
            return Some(SensitiveHold::Tie(format!(
                "{id} is sensitive and its rules found {} as likely (scores {} and {}): the model does not choose between them (learning.sensitive_needs_rule_sign)",
                rival.procedure, mine.score, rival.score
            )));
        }
        if mine.score <= 0.0 {
            return Some(SensitiveHold::NoSign(format!(
                "{id} is sensitive and none of its rules saw a sign of it"
            )));
        }
        if mine.score < floor {
            return Some(SensitiveHold::NoSign(format!(
                "{id} is sensitive and its rules saw too little of it: score {} < {floor}, half of what they need",
                mine.score
            )));
        }
        None
    }

    /// The taught example of `procedure` nearest to a message with these
    /// features, when it is at least `learning.twin_similarity` alike and
    /// nearer than every example of anything else (a "no procedure" one
    /// included): staff answered this very request before, so the model
    /// may route it where the rules saw no sign. The sketches pick the
    /// examples that may be that alike; only those are read from the store
    /// and compared exactly. `Err` says, without message text, why there
    /// is none.
    fn twin(&self, procedure: &str, query: &TwinQuery) -> Result<Twin, String> {
        if let Some(words) = &query.retracted {
            return Err(format!("the message takes a request back (\"{words}\"): a person reads it, not the examples"));
        }
        let features = query.hashes.as_slice();
        let least = self.settings.twin_similarity;
        let (candidates, estimated): (Vec<ExampleKey>, f64) = {
            let twins = self.twins.read().unwrap_or_else(|e| e.into_inner());
            let near = twins.near(features, least, procedure);
            (near.candidates.into_iter().map(|(key, _, _)| key).collect(), near.nearest_of_label)
        };
        let mut same: Option<(f64, ExampleKey, Example)> = None;
        let mut other: Option<(f64, String)> = None;
        for key in candidates {
            let ex = match self.store.example(key) {
                Ok(Some(ex)) => ex,
                // Forgotten meanwhile: nothing to compare with.
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!("learning: cannot read a taught example to compare with: {e}; the model does not route this one");
                    return Err(format!("the taught examples could not be read ({e})"));
                }
            };
            let s = twins::similarity(features, &ex.features);
            if ex.label == procedure {
                if same.as_ref().is_none_or(|(best, _, _)| s > *best) {
                    same = Some((s, key, ex));
                }
            } else if other.as_ref().is_none_or(|(best, _)| s > *best) {
                other = Some((s, ex.label));
            }
        }
        let nearest = |s: Option<f64>| match s {
            Some(s) => format!("{s:.2}"),
            None => format!("about {estimated:.2}"),
        };
        match same {
            Some((s, key, ex)) if s >= least => match other.filter(|(o, _)| *o >= s) {
                Some((o, label)) => Err(format!("an example of {label} is as alike as any of it ({o:.2} against {s:.2})")),
                // "Please do not, under any circumstances, delete my
                // account" shares most words with the request it denies:
                // each negation of the message must negate something the
                // example negates too, or the share weighs a denial as
                // little as a typo.
                None => match query.negations.iter().find(|scope| !scope.iter().any(|(_, h)| ex.features.binary_search(h).is_ok())) {
                    Some(scope) => Err(format!(
                        "the message negates what the nearest example of it ({s:.2} alike) does not ({}): a person reads it",
                        scope.first().map_or_else(|| "a negation covering no word".to_string(), |(w, _)| format!("\"{w}\""))
                    )),
                    None => Ok(Twin { example: key.to_string(), source: ex.source, similarity: (s * 100.0).round() / 100.0 }),
                },
            },
            same => Err(format!(
                "no example taught of it is that alike: the nearest {} < learning.twin_similarity {least}",
                nearest(same.map(|(s, _, _)| s))
            )),
        }
    }

    /// Records one example and counts it into the model; a message learned
    /// before is counted out with its old label first. Says which of the
    /// three it was, so that staff are told when a label changed.
    pub fn learn(&self, example: &Example) -> Result<Learned, StoreError> {
        let old = self.store.learn_example(example)?;
        let mut model = self.model.write().unwrap_or_else(|e| e.into_inner());
        let learned = match &old {
            None => Learned::New,
            Some(old) if old.label == example.label => Learned::Known,
            Some(old) => Learned::Relabelled { from: old.label.clone() },
        };
        if let Some(old) = old {
            model.remove(&old.label, &old.features);
        }
        model.add(&example.label, &example.features);
        drop(model);
        let key = ExampleKey::of(&example.features);
        self.twins.write().unwrap_or_else(|e| e.into_inner()).insert(key, &example.label, &example.features);
        Ok(learned)
    }

    /// Removes one example; false when there was none.
    pub fn forget(&self, key: ExampleKey) -> Result<bool, StoreError> {
        let Some(old) = self.store.forget_example(key)? else { return Ok(false) };
        self.model.write().unwrap_or_else(|e| e.into_inner()).remove(&old.label, &old.features);
        self.twins.write().unwrap_or_else(|e| e.into_inner()).remove(&key);
        Ok(true)
    }

    /// What of a new ticket's features to keep with it for a later staff
    /// decision (`Store::open_ticket_with`): none while learning is off.
    pub fn ticket_features(&self, features: Option<&Features>, msg: &Message) -> Option<Vec<u32>> {
        features.filter(|_| self.settings.enabled).map(|f| f.example_hashes(msg, self.settings.features))
    }

    /// Staff moved ticket `id` to `procedure`: its first message becomes an
    /// example of it (replacing whatever it was learned as before). Does
    /// nothing when learning is off or the ticket predates it.
    pub fn staff_decided(&self, id: TicketId, procedure: &str, by: &str) -> Result<bool, StoreError> {
        self.ticket_example(id, procedure, format!("ticket {id}, reclassified by {by}"))
    }

    /// Staff sent our draft of `procedure` for ticket `id` as it was
    /// drafted: they agreed with the route, so the ticket's first message
    /// is an example of it. A draft they edited, or a ticket closed with
    /// `!done` and nothing sent, teaches nothing: the edit may be the
    /// correction.
    pub fn draft_sent_unchanged(&self, id: TicketId, procedure: &str, by: &str) -> Result<bool, StoreError> {
        if procedure == UNCLASSIFIED {
            // An acknowledgement says nothing about where the mail belongs.
            return Ok(false);
        }
        self.ticket_example(id, procedure, format!("ticket {id}, draft sent unchanged by {by}"))
    }

    fn ticket_example(&self, id: TicketId, label: &str, source: String) -> Result<bool, StoreError> {
        if !self.settings.enabled {
            return Ok(false);
        }
        let Some(features) = self.store.ticket_features(id)? else { return Ok(false) };
        self.learn(&Example { label: label.to_string(), source, added: jiff::Timestamp::now(), features })?;
        Ok(true)
    }

    /// About how many bytes the model holds in memory.
    pub fn footprint(&self) -> usize {
        self.model().footprint() + self.twins.read().unwrap_or_else(|e| e.into_inner()).footprint()
    }

    /// Examples per label in the store (also those the model ignores while
    /// learning is off), by label.
    pub fn counts(&self) -> Result<Vec<(String, u32)>, StoreError> {
        let mut counts: std::collections::BTreeMap<String, u32> = Default::default();
        for (_, ex) in self.store.examples()? {
            *counts.entry(ex.label).or_default() += 1;
        }
        Ok(counts.into_iter().collect())
    }
}

/// Why the rules' view keeps a sensitive procedure from the model.
enum SensitiveHold {
    /// They saw no sign of it, or too little: an example the team taught
    /// of this very request may stand in for the sign.
    NoSign(String),
    /// They found another procedure as likely: a person decides.
    Tie(String),
}

/// What a message is compared with taught examples by: its features; its
/// negations, each of which an example must share; and a taking back of
/// the request, which no example outweighs.
struct TwinQuery {
    hashes: Vec<u32>,
    negations: Vec<Vec<(String, u32)>>,
    retracted: Option<String>,
}

/// A reply's subject was written by the other side (the rules count it at
/// half weight): a reply is compared by what its writer wrote below it, so
/// a subject alone never makes a twin.
fn twin_features(msg: &Message, features: &Features, set: features::FeatureSet) -> TwinQuery {
    let body = crate::message::strip_quoted(&msg.text);
    let own;
    let features = if crate::classify::rules::is_reply(&msg.subject) {
        own = Features::of_text_with("", &body, set);
        &own
    } else {
        features
    };
    let subject = crate::classify::rules::clean_subject(&msg.subject);
    TwinQuery {
        hashes: features.hashes(),
        negations: features.negations.clone(),
        retracted: features::retraction(&format!("{subject}\n{body}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(outcomes: &[(Learned, &str)]) -> Tally {
        let mut t = Tally::default();
        for (l, label) in outcomes {
            t.add(l, label);
        }
        t
    }

    #[test]
    fn a_batch_of_new_examples_is_counted_in_the_singular_and_plural() {
        assert_eq!(tally(&[(Learned::New, "refund")]).line(), "learned 1 example");
        assert_eq!(tally(&[(Learned::New, "refund"), (Learned::New, "refund")]).line(), "learned 2 examples");
    }

    #[test]
    fn a_label_that_changed_is_named_and_one_learned_before_is_not_counted_as_new() {
        let t = tally(&[
            (Learned::New, "refund"),
            (Learned::Known, "refund"),
            (Learned::Relabelled { from: "unclassified".into() }, "refund"),
            (Learned::Relabelled { from: "unclassified".into() }, "refund"),
        ]);
        assert_eq!(t.line(), "learned 4 examples (1 new, 1 already known, 2 relabelled: 2 unclassified → refund)");
    }

    #[test]
    fn the_answers_of_several_requests_add_up_to_one_line() {
        let a = tally(&[(Learned::New, "refund"), (Learned::Relabelled { from: "unclassified".into() }, "refund")]);
        let b = tally(&[(Learned::Known, "account-deletion"), (Learned::Relabelled { from: "refund".into() }, "account-deletion")]);
        let (pa, pb) = (Tally::parse(&a.line()).unwrap(), Tally::parse(&b.line()).unwrap());
        assert_eq!((&pa, &pb), (&a, &b));
        let mut all = pa;
        all.merge(&pb);
        assert_eq!(all.line(), "learned 4 examples (1 new, 1 already known, 2 relabelled: 1 refund → account-deletion, 1 unclassified → refund)");
        assert_eq!(Tally::parse("learned 3 examples"), Some(Tally { new: 3, ..Default::default() }));
        assert_eq!(Tally::parse("learning stopped after learned 1 example: disk full"), None);
    }
}
