//! Scoring a message against a pack's weighted rules. Each rule counts at
//! most once; quoted lines, attribution lines and `Re:`/`Fwd:` prefixes are
//! removed first so that a reply is judged by what its author wrote, not by
//! what it quotes.

use std::sync::LazyLock;

use regex::Regex;

use crate::forward_regex::ForwardRegex;
use crate::procedures::pack::{Field, Pack, Rule};
use crate::procedures::rule_words::{Candidates, RuleWords};
use crate::procedures::rule_text::fold;
use super::own::{OwnVerdict, Sender};
use super::pack_model::RuleView;
use super::spelling::Spelling;
use super::{Classification, UNCLASSIFIED};
pub use crate::message::strip_quoted;
use crate::message::Message;

static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:(?:re|fwd?|aw|wg|tr|sv|vs|antw|rif|r|enc)\s*(?:\[\d+\])?\s*:\s*|\[#\d+\]\s*)+")
        .expect("static regex")
});

// ASCII digits: the numbers we write. Unicode's `\d` also took "[#١٢]",
// which no number parses from, and held half a megabyte of automaton.
static TICKET_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[#([0-9]{1,18})\]").expect("static regex"));

/// The ticket number of a `[#N]` tag in a subject, for joining a reply to
/// its ticket when In-Reply-To/References do not name one.
pub fn ticket_tag(subject: &str) -> Option<u64> {
    TICKET_TAG.captures(subject)?.get(1)?.as_str().parse().ok()
}

/// A reply (not a forward): its subject was written by the other side.
static IS_REPLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*(re|aw|sv|antw|rif|vs)\s*(\[\d+\])?\s*:").expect("static regex"));

/// Whether the subject is a reply's: written by the other side.
pub fn is_reply(subject: &str) -> bool {
    IS_REPLY.is_match(subject)
}

/// The subject without reply/forward prefixes and ticket tags.
pub fn clean_subject(s: &str) -> String {
    REPLY_PREFIX.replace(s, "").trim().to_string()
}

/// Header values by (lowercase) name from the raw header section, unfolded,
/// in their order (the newest trace headers first).
pub(crate) fn headers(raw: &[u8]) -> Vec<(String, String)> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len());
    let section = String::from_utf8_lossy(&raw[..end]);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in section.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

/// Where a request turns into its fallback ("change my username, or else
/// delete the account"): the clause from here to the end of the sentence
/// is what the sender wants only if the first request cannot be done.
/// In Chinese an alternative after a comma ("修改用户名，或者删除账号":
/// change the username, or delete the account) is put the same way.
///
/// Searched with the code's own forward search, from where its words are:
/// regex's own read all of a letter in German with its slowest engine,
/// since its fastest cannot read a Unicode `\b` beside a non-ASCII letter
/// (docs/BENCHMARKS.md, "German under 1 ms").
static FALLBACK: LazyLock<ForwardRegex> = LazyLock::new(|| ForwardRegex::fixed(FALLBACK_CLAUSE));

const FALLBACK_CLAUSE: &str =
    r"(?i)\b(or else|otherwise|if not|if (that|this|it)(['’]s| is) (not |im)possible|if (that|this|it) (can['’]?t|cannot) be done|if you can['’]?t|failing that|sonst|andernfalls|ansonsten|falls (das|dies) nicht (möglich|geht)|sinon|à défaut|si ce n'est pas possible|si no|de lo contrario|si no es posible|altrimenti|se non è possibile|zo niet|anders|als dat niet kan|caso contrário|senão|se não for possível)\b[^.!?\n]*|[，,]\s*(?:或者|或是|要不然|要不|否则|不然)[^。！？.!?\n]*";

/// A fallback clause's rules count this much: the first request decides,
/// also against a procedure with several rules that fire on the fallback.
const FALLBACK_FACTOR: f64 = 0.25;

/// The text without its fallback clauses (see [`FALLBACK`]).
fn primary(text: &str) -> std::borrow::Cow<'_, str> {
    FALLBACK.replace_all(text, " ")
}

/// A rule's match: the weight factor, and where it was found.
#[derive(Clone, Copy)]
struct Hit {
    factor: f64,
    found: Found,
}

impl Hit {
    /// How much of a rule's weight counts. Evidence against a procedure
    /// (a negative weight: a newsletter's "si no puedes ver este correo")
    /// counts in full wherever it is: a fallback clause is a lesser
    /// request, not a lesser sign that the text is no request at all.
    fn weight_factor(&self, weight: f64) -> f64 {
        let fallback = matches!(self.found, Found::Subject { fallback: true } | Found::Body { fallback: true });
        if weight < 0.0 && fallback { self.factor / FALLBACK_FACTOR } else { self.factor }
    }
}

/// Which of a message's texts a rule matched: the words it matched are
/// looked for again there, only for the procedure a person is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found {
    Subject { fallback: bool },
    Body { fallback: bool },
    /// The value of the message's `n`th header.
    Header(usize),
}

/// What the rules read of a message, folded once.
struct Texts {
    subject: String,
    body: String,
    /// The subject and the body without their fallback clauses: borrowed
    /// when there is none, which is most mail.
    first_subject: Option<String>,
    first_body: Option<String>,
    /// A reply's subject counts at half weight.
    subject_factor: f64,
    /// Folded header values by lowercase name, when a rule reads headers.
    headers: Vec<(String, String)>,
    /// Which of the pack's patterns each text may match, by the text's
    /// place ([`Texts::place`]): read once, when a rule first searches it
    /// (`procedures::rule_words`).
    candidates: Vec<std::cell::OnceCell<Candidates>>,
}

impl Texts {
    fn of(msg: &Message, needs_headers: bool, spelling: &Spelling) -> Texts {
        let subject = clean_subject(&msg.subject);
        let body = strip_quoted(&msg.text);
        // The rules' classes are compiled for folded text (rule_text);
        // quotes, signatures and the fallback clause are found first, on
        // the text as written, as the precision guard does. The pack's
        // words are then read through a slip of the finger (spelling).
        let read = |text: &str| -> String {
            let folded = fold(text);
            if let std::borrow::Cow::Owned(read) = spelling.correct(&folded) {
                return read;
            }
            folded.into_owned()
        };
        let first = |text: &str| match primary(text) {
            std::borrow::Cow::Owned(first) => Some(read(&first)),
            std::borrow::Cow::Borrowed(_) => None,
        };
        let headers: Vec<(String, String)> =
            if needs_headers { headers(msg.raw()).into_iter().map(|(n, v)| (n, fold(&v).into_owned())).collect() } else { Vec::new() };
        Texts {
            first_subject: first(&subject),
            first_body: first(&body),
            subject: read(&subject),
            body: read(&body),
            // In a reply the subject is inherited from the other side: it
            // still counts, at half weight, so that "Re: hub down" over
            // "fixed now, thanks" does not reopen the outage procedure.
            subject_factor: if is_reply(&msg.subject) { 0.5 } else { 1.0 },
            candidates: (0..4 + headers.len()).map(|_| std::cell::OnceCell::new()).collect(),
            headers,
        }
    }

    /// Where a text's candidates are kept in `candidates`.
    fn place(found: Found) -> usize {
        match found {
            Found::Subject { fallback } => usize::from(fallback),
            Found::Body { fallback } => 2 + usize::from(fallback),
            Found::Header(n) => 4 + n,
        }
    }

    /// Whether `rule` matches the text `found` names: searched only when
    /// the pack's one pass over that text found one of its words.
    fn matches(&self, words: &RuleWords, rule: &Rule, found: Found) -> bool {
        let text = self.text(found);
        let Some(cell) = self.candidates.get(Texts::place(found)) else { return rule.regex.is_match_with_words(text) };
        let candidates = cell.get_or_init(|| words.candidates(text));
        if !candidates.may_match(rule.slot) {
            return false;
        }
        match (candidates.places(rule.slot), candidates.runs()) {
            (Some(places), Some(runs)) => rule.regex.is_match_near(text, places.iter().cloned(), runs),
            _ => rule.regex.is_match_with_words(text),
        }
    }

    fn text(&self, found: Found) -> &str {
        match found {
            Found::Subject { fallback: true } => &self.subject,
            Found::Subject { fallback: false } => self.first_subject.as_deref().unwrap_or(&self.subject),
            Found::Body { fallback: true } => &self.body,
            Found::Body { fallback: false } => self.first_body.as_deref().unwrap_or(&self.body),
            Found::Header(n) => self.headers.get(n).map_or("", |(_, v)| v.as_str()),
        }
    }
}

/// At most this much of the text that matched a rule is shown.
const WORDS_SHOWN: usize = 40;

/// One procedure's score for a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored<'a> {
    pub score: f64,
    pub procedure: &'a str,
    pub sensitive: bool,
    /// Held by the precision guard (sensitive, or `needs_request`).
    pub needs_request: bool,
    /// The guard asks no positive sign of a request (`by_content`).
    pub by_content: bool,
    /// `procedure/rule-name` of each rule that fired.
    pub rules: Vec<String>,
    /// What each rule matched (see `Classification::words`): filled in
    /// only for the procedure a classification names ([`Pack::words`]).
    pub words: Vec<String>,
    /// Where each rule of `rules` fired, by its index in the procedure.
    pub found: Vec<(usize, Found)>,
}

impl Pack {
    /// The best procedure for `msg`, with the rules that fired, the words
    /// they fired on, and the runner-up; `unclassified` when the best score
    /// is below the threshold (a sensitive procedure's, for one), does not
    /// lead the runner-up by the pack's margin, or is a sensitive procedure
    /// the message does not ask for as its writer's own request
    /// ([`super::guard`]). Only the text speaks for the sender: see
    /// [`Pack::classify_from`].
    pub fn classify(&self, msg: &Message) -> Classification {
        self.classify_from(msg, Sender::Unknown)
    }

    /// As [`Pack::classify`], knowing whether the account directory knows
    /// the sender: for a procedure with `needs_own`, that is a sign of the
    /// team's own services as good as a hub address ([`super::own`]).
    pub fn classify_from(&self, msg: &Message, sender: Sender) -> Classification {
        let texts = self.texts(msg);
        let mut scored = self.scores_of(&texts);
        // The rules' view for the pack's model: only a pack with one needs it.
        let views: Vec<RuleView<'_>> = if self.model.is_none() {
            Vec::new()
        } else {
            scored
                .iter()
                .map(|s| RuleView {
                    procedure: s.procedure,
                    score: s.score,
                    against: self.procedure(s.procedure).and_then(|p| s.found.iter().map(|&(i, _)| &p.rules[i]).find(|r| r.weight < 0.0)).map(|r| r.name.as_str()),
                })
                .collect()
        };
        let mut own = self.own.as_ref().map(|o| OwnVerdict { sign: o.sign(&self.writer_text(msg), sender), gated: Vec::new() });
        // A procedure that needs a sign of our own services is no
        // candidate without one: the others are ranked as if it had no
        // rules, so a code question can still be redirected.
        let mut gated: Option<Scored<'_>> = None;
        if let Some(verdict) = own.as_mut().filter(|v| v.sign.is_none()) {
            scored.retain(|s| {
                let keep = s.score <= 0.0 || !self.procedure(s.procedure).is_some_and(|p| p.needs_own);
                if !keep {
                    verdict.gated.push(format!("{} {}", s.procedure, s.score));
                    if gated.as_ref().is_none_or(|g| s.score > g.score) {
                        gated = Some(s.clone());
                    }
                }
                keep
            });
        }
        let mut c = self.rank(msg, &texts, scored);
        if let Some(g) = gated.filter(|g| c.procedure == UNCLASSIFIED && g.score >= c.score && g.score >= self.threshold_for(g.sensitive)) {
            // The gated procedure was the near miss: it is what staff
            // should see, with why it was not taken (no message text here:
            // held_back reaches notices).
            c = Classification {
                procedure: UNCLASSIFIED.to_string(),
                score: g.score,
                held_back: Some(format!(
                    "{} scored {} but the message names none of our own services (no address, name or tracker of ours{}): {} needs one",
                    g.procedure,
                    g.score,
                    if sender == Sender::Account { "" } else { ", and the sender is no known account" },
                    g.procedure
                )),
                runner_up: Some(g.procedure.to_string()),
                words: self.words(&texts, &g),
                rules: g.rules,
                model: None,
                own: None,
                pack_model: None,
            };
        }
        let own_missing = own.as_ref().is_some_and(|o| o.sign.is_none());
        c.own = own;
        super::pack_model::look(self, msg, &mut c, &views, own_missing);
        super::spam::hold(msg, &mut c);
        c
    }

    /// The routing decision over candidates already scored.
    fn rank(&self, msg: &Message, texts: &Texts, mut scored: Vec<Scored<'_>>) -> Classification {
        // Highest score first; ties keep pack order (stable sort), so the
        // pack author decides precedence by ordering procedures.
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        let second = scored.get(1).map(|s| s.score).filter(|s| *s > 0.0);
        let runner_up = scored.get(1).filter(|s| s.score > 0.0).map(|s| s.procedure.to_string());
        let Some(best) = scored.into_iter().next() else {
            return Classification { procedure: UNCLASSIFIED.to_string(), ..Default::default() };
        };
        let threshold = self.threshold_for(best.sensitive);
        let words = self.words(texts, &best);
        let held_back = if best.score <= 0.0 {
            None
        } else if best.score < threshold {
            Some(format!("{} scored {} < {threshold}{}", best.procedure, best.score, if best.sensitive && self.sensitive_threshold.is_some() { " (sensitive)" } else { "" }))
        } else if let Some(second) = second.filter(|s| best.score - s < self.margin) {
            Some(format!(
                "{} scored {} and {} {second}: a route needs a lead of {}",
                best.procedure,
                best.score,
                runner_up.as_deref().unwrap_or("-"),
                self.margin
            ))
        } else if let Some(why) = best.needs_request.then(|| self.sensitive_hold(msg, !best.by_content, best.sensitive)).flatten() {
            Some(format!(
                "{} scored {} but {why}: a {} route needs the writer's own request",
                best.procedure,
                best.score,
                if best.sensitive { "sensitive" } else { "guarded" }
            ))
        } else {
            return Classification {
                procedure: best.procedure.to_string(),
                score: best.score,
                rules: best.rules,
                runner_up,
                words,
                ..Default::default()
            };
        };
        Classification {
            procedure: UNCLASSIFIED.to_string(),
            score: best.score.max(0.0),
            rules: best.rules,
            // The near miss is the most useful hint for a human.
            runner_up: (best.score > 0.0).then(|| best.procedure.to_string()),
            words,
            held_back,
            ..Default::default()
        }
    }

    /// The score a procedure's rules need to route to it: the pack's
    /// `sensitive_threshold` for a sensitive one (never below the ordinary
    /// threshold), else the threshold.
    pub fn threshold_for(&self, sensitive: bool) -> f64 {
        match self.sensitive_threshold {
            Some(t) if sensitive => t.max(self.effective_threshold()),
            _ => self.effective_threshold(),
        }
    }

    /// Why the precision guard holds back any route of `msg` into a
    /// sensitive procedure ([`super::guard`]), by rules or by the model. It
    /// reads what the writer wrote: the subject and the unquoted body.
    /// `ask`: whether a long text needs a positive sign of a request (not
    /// for a procedure decided by what the message carries). A sensitive
    /// route that passes the guard's signs still needs the request model
    /// ([`super::request`]) to read the text as its writer's own request.
    pub fn sensitive_hold(&self, msg: &Message, ask: bool, sensitive: bool) -> Option<String> {
        // What the writer wrote, cleaned once for both opinions.
        let (subject, body) = (clean_subject(&msg.subject), strip_quoted(&msg.text));
        if let Some(why) = super::guard::hold_sensitive(&format!("{subject}\n{body}"), ask) {
            return Some(why);
        }
        if !(sensitive && ask) {
            return None;
        }
        let p = super::request::hold(&subject, &body)?;
        Some(format!(
            "the request model reads it as talk about the topic ({p:.2} that it is its writer's own request, below {})",
            super::request::MIN_REQUEST
        ))
    }

    /// What the writer wrote: the subject without prefixes and the body
    /// without quotes, attribution and signature.
    fn writer_text(&self, msg: &Message) -> String {
        format!("{}\n{}", clean_subject(&msg.subject), strip_quoted(&msg.text))
    }

    /// Every procedure's score for `msg` and the rules of it that fired,
    /// in pack order (without the words they matched: [`Pack::words`]).
    pub fn scores(&self, msg: &Message) -> Vec<Scored<'_>> {
        self.scores_of(&self.texts(msg))
    }

    fn texts(&self, msg: &Message) -> Texts {
        let needs_headers = self
            .procedures
            .iter()
            .any(|p| p.rules.iter().any(|r| matches!(r.field, Field::Header(_))));
        Texts::of(msg, needs_headers, &self.spelling)
    }

    fn scores_of(&self, texts: &Texts) -> Vec<Scored<'_>> {
        // What a rule that several procedures share found, by pattern and
        // field: searched once a message (see `Rule::regex`).
        let mut shared: Vec<(usize, &Field, Option<Hit>)> = Vec::new();
        let sf = texts.subject_factor;
        self
            .procedures
            .iter()
            .map(|p| {
                let mut score = 0.0;
                let mut rules = Vec::new();
                let mut found = Vec::new();
                for (i, r) in p.rules.iter().enumerate() {
                    // The first request counts in full, a fallback clause
                    // at FALLBACK_FACTOR; a reply's subject at half weight.
                    // Whether it matches is all a rule is searched for
                    // here: most rules match nothing, and the words of
                    // those that do are looked for only if shown.
                    let hit = |found: Found, factor: f64| texts.matches(&self.rule_words, r, found).then_some(Hit { factor, found });
                    let in_subject = || {
                        hit(Found::Subject { fallback: false }, sf).or_else(|| {
                            texts.first_subject.is_some().then(|| hit(Found::Subject { fallback: true }, sf * FALLBACK_FACTOR)).flatten()
                        })
                    };
                    let in_body = || {
                        hit(Found::Body { fallback: false }, 1.0)
                            .or_else(|| texts.first_body.is_some().then(|| hit(Found::Body { fallback: true }, FALLBACK_FACTOR)).flatten())
                    };
                    let search = || match &r.field {
                        Field::Subject => in_subject(),
                        Field::Body => in_body(),
                        Field::Text => [in_body(), in_subject()]
                            .into_iter()
                            .flatten()
                            .max_by(|a, b| a.factor.total_cmp(&b.factor)),
                        Field::Header(h) => texts.headers.iter().enumerate().find_map(|(n, (name, _))| if name == h { hit(Found::Header(n), 1.0) } else { None }),
                    };
                    let hit = if !r.shared {
                        search()
                    } else {
                        match shared.iter().find(|(slot, f, _)| *slot == r.slot && *f == &r.field) {
                            Some((_, _, hit)) => *hit,
                            None => {
                                let hit = search();
                                shared.push((r.slot, &r.field, hit));
                                hit
                            }
                        }
                    };
                    if let Some(hit) = hit {
                        score += r.weight * hit.weight_factor(r.weight);
                        rules.push(r.name.clone());
                        found.push((i, hit.found));
                    }
                }
                Scored { score: round2(score), procedure: p.id.as_str(), sensitive: p.sensitive, needs_request: p.needs_request, by_content: p.by_content, rules, words: Vec::new(), found }
            })
            .collect()
    }

    /// The words each rule of `scored` matched, as a person is shown them:
    /// looked for again, in the text each rule fired on.
    fn words(&self, texts: &Texts, scored: &Scored<'_>) -> Vec<String> {
        let Some(p) = self.procedure(scored.procedure) else { return Vec::new() };
        scored
            .found
            .iter()
            .filter_map(|&(i, found)| {
                let r = p.rules.get(i)?;
                let words = r.regex.find(texts.text(found)).unwrap_or_default();
                let shown: String = crate::message::sanitize_line(words).chars().take(WORDS_SHOWN).collect();
                let fallback = matches!(found, Found::Subject { fallback: true } | Found::Body { fallback: true });
                Some(format!("{}: {shown:?}{}", r.name, if fallback { " (fallback)" } else { "" }))
            })
            .collect()
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedures::procedure::Rule;

    #[test]
    fn prefixes_and_tags_are_removed() {
        assert_eq!(clean_subject("Re: AW: Fwd: [#12] Delete my account"), "Delete my account");
        assert_eq!(clean_subject("RE[2]: hello"), "hello");
        assert_eq!(clean_subject("Reset password"), "Reset password");
    }

    #[test]
    fn ticket_tags_are_found() {
        assert_eq!(ticket_tag("Re: [#42] Delete my account"), Some(42));
        assert_eq!(ticket_tag("Re: Delete my account"), None);
        assert_eq!(ticket_tag("[#99999999999999999999999]"), None);
        // Digits of another script are not one of our numbers; the tag
        // after them is.
        assert_eq!(ticket_tag("Re: [#١٢] [#12] Delete my account"), Some(12));
    }

    #[test]
    fn quotes_attribution_and_signature_are_removed() {
        let t = "Yes please.\nOn Mon, 1 Jan 2024 Bob <b@x> wrote:\n> delete my account\n> now\n-- \nAlice\ndelete";
        assert_eq!(strip_quoted(t), "Yes please.\n");
    }

    fn proc(id: &str, rules: &str) -> String {
        format!("[[procedure]]\nid = \"{id}\"\ntitle = \"{id}\"\nidentity = \"none\"\n{rules}[[procedure.step]]\nname = \"s\"\nstate = \"new\"\n")
    }

    fn rule(name: &str, on: &str, pattern: &str, weight: f64) -> String {
        format!("[[procedure.rule]]\nname = \"{name}\"\non = \"{on}\"\npattern = '{pattern}'\nweight = {weight}\n")
    }

    /// A pack of `procedures` (threshold 3).
    fn pack_of(procedures: &str) -> Pack {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acknowledge.txt"), "hi").unwrap();
        std::fs::write(dir.path().join("procedures.toml"), format!("[pack]\nname = \"t\"\nthreshold = 3.0\n{procedures}")).unwrap();
        Pack::load(dir.path()).unwrap()
    }

    fn pack() -> Pack {
        pack_of(&format!(
            "{}{}",
            proc(
                "delete",
                &(rule("word", "text", r"\bdelete\b", 3.0) + &rule("not-repo", "body", r"\brepository\b", -4.0))
            ),
            proc("mailer", &(rule("hdr", "header:X-Mailer", "^Acme", 2.0) + &rule("word", "body", "acme", 1.5))),
        ))
    }

    /// Rules read folded text (`procedures::rule_text`): a no-break space
    /// or a typographic apostrophe in the subject, the body or a header is
    /// the ASCII one to a pattern, wherever the rule looks.
    #[test]
    fn every_field_a_rule_reads_is_folded() {
        let p = pack_of(&proc(
            "x",
            &(rule("subject", "subject", r"^can\Wt\W+log", 1.0)
                + &rule("body", "body", r"\bdon\Wt\W+work", 1.0)
                + &rule("hdr", "header:X-Ticket", r"^urgent\W+case$", 1.0)),
        ));
        let c = p.classify(&msg("Subject: can\u{2019}t\u{a0}log in\r\nX-Ticket: urgent\u{a0}case", "it don\u{2019}t\u{2003}work"));
        assert_eq!(c.rules, ["x/subject", "x/body", "x/hdr"], "{c:?}");
    }

    fn msg(head: &str, body: &str) -> Message {
        Message::parse(format!("From: a@example.org\r\n{head}\r\n\r\n{body}\r\n").into_bytes()).unwrap()
    }

    /// A rule that several procedures hold word for word is compiled
    /// once and searched once a message, and still counts in each of them
    /// with its own weight, in the subject as in the body; the same
    /// pattern on another field is a rule of its own.
    #[test]
    fn a_rule_that_several_procedures_hold_is_compiled_once_and_counts_in_each() {
        let against = |w: f64| rule("bulk", "text", r"\bunsubscribe\b", w);
        let p = pack_of(
            &[
                proc("a", &(rule("word", "text", r"\balpha\b", 3.0) + &against(-4.0))),
                proc("b", &(rule("word", "text", r"\bbeta\b", 3.0) + &against(-2.0))),
                proc("c", &(rule("word", "text", r"\bgamma\b", 3.0) + &rule("bulk", "subject", r"\bunsubscribe\b", -1.0))),
            ]
            .concat(),
        );
        let bulk: Vec<&Rule> = p.procedures.iter().flat_map(|p| &p.rules).filter(|r| r.name.ends_with("/bulk")).collect();
        assert!(std::sync::Arc::ptr_eq(&bulk[0].regex, &bulk[1].regex) && std::sync::Arc::ptr_eq(&bulk[1].regex, &bulk[2].regex));
        assert!(bulk.iter().all(|r| r.shared));
        assert!(p.procedures.iter().flat_map(|p| &p.rules).filter(|r| r.name.ends_with("/word")).all(|r| !r.shared));

        let score = |head: &str, body: &str| -> Vec<(String, f64)> {
            p.scores(&msg(head, body)).iter().map(|s| (s.rules.join(" "), s.score)).collect()
        };
        let by = |a: &str, b: &str, c: &str, sa: f64, sb: f64, sc: f64| vec![(a.to_string(), sa), (b.to_string(), sb), (c.to_string(), sc)];
        // In the body: the text rules of a and b, not c's subject rule.
        assert_eq!(
            score("Subject: news", "alpha beta gamma; to unsubscribe click"),
            by("a/word a/bulk", "b/word b/bulk", "c/word", -1.0, 1.0, 3.0)
        );
        // In the subject: all three.
        assert_eq!(score("Subject: unsubscribe", "alpha beta gamma"), by("a/word a/bulk", "b/word b/bulk", "c/word c/bulk", -1.0, 1.0, 2.0));
        // Nowhere: none, and the next message is searched afresh.
        assert_eq!(score("Subject: news", "alpha beta gamma"), by("a/word", "b/word", "c/word", 3.0, 3.0, 3.0));
    }

    #[test]
    fn quoted_text_and_prefixes_do_not_count() {
        let p = pack();
        let c = p.classify(&msg("Subject: Re: Fwd: question", "Thanks!\r\n> please delete my account\r\n> delete delete"));
        assert_eq!(c.procedure, UNCLASSIFIED);
        assert!(c.rules.is_empty(), "{c:?}");
        // A reply's subject is the other side's: half weight.
        let c = p.classify(&msg("Subject: Re: please delete it", "thanks"));
        assert_eq!((c.procedure.as_str(), c.score, c.runner_up.as_deref()), (UNCLASSIFIED, 1.5, Some("delete")));
        let c = p.classify(&msg("Subject: Fwd: please delete it", "see below"));
        assert_eq!((c.procedure.as_str(), c.score), ("delete", 3.0));
        assert_eq!(c.rules, ["delete/word"]);
    }

    #[test]
    fn negative_rules_headers_and_runner_up_are_explained() {
        let p = pack();
        let c = p.classify(&msg("Subject: delete\r\nX-Mailer: Acme 2.0", "delete the repository, acme"));
        // delete: 3 - 4 = -1; mailer: 2 + 1.5 = 3.5.
        assert_eq!(c.procedure, "mailer");
        assert_eq!(c.score, 3.5);
        assert_eq!(c.rules, ["mailer/hdr", "mailer/word"]);
        assert_eq!(c.runner_up, None, "a negative score is no runner-up");
        let c = p.classify(&msg("Subject: delete", "acme"));
        assert_eq!((c.procedure.as_str(), c.runner_up.as_deref()), ("delete", Some("mailer")));
        let c = p.classify(&msg("Subject: hello", "acme"));
        assert_eq!((c.procedure.as_str(), c.runner_up.as_deref()), (UNCLASSIFIED, Some("mailer")));
    }

    #[test]
    fn unquoted_originals_below_a_reply_are_cut() {
        let t = "Thanks, all good now.\n\n-----Original Message-----\nFrom: Support\nplease delete your account";
        assert_eq!(strip_quoted(t), "Thanks, all good now.\n\n");
        let t = "Fine.\nFrom: Bob <b@x>\nSent: Monday, 1 December 2026 10:00\nSubject: delete my account\n";
        assert_eq!(strip_quoted(t), "Fine.\n");
        let t = "From: my old address I wrote before\nplease delete my account\n";
        assert_eq!(strip_quoted(t), t, "a From: line alone is the user's text");
        // Yahoo: the original below the attribution, without ">".
        let t = "Thanks, solved.\n\nOn Monday, December 1, 2026, 09:00 AM GMT, Support <s@x> wrote:\n\nplease delete your account\n";
        assert_eq!(strip_quoted(t), "Thanks, solved.\n\n");
        assert!(crate::message::own_words(t).uncertain_cut.is_some());
        // An answer between quoted lines is the writer's.
        let t = "On Mon, Bob <b@x> wrote:\n> Which account?\nThe old one.\n> Delete it?\nYes.\n";
        assert_eq!(strip_quoted(t), "The old one.\nYes.\n");
        assert!(crate::message::own_words(t).uncertain_cut.is_none());
        // Quoted lines that no attribution announced may be the writer's.
        let t = "Yes, I confirm.\n>>> Please keep my certificates until May! <<<\n";
        assert_eq!(strip_quoted(t), "Yes, I confirm.\n");
        assert!(crate::message::own_words(t).uncertain_cut.is_some());
        // "Support wrote:" alone above a quote attributes it too.
        let t = "Yes.\nSupport wrote:\n> Please confirm.\n";
        assert_eq!(strip_quoted(t), "Yes.\n");
        assert!(crate::message::own_words(t).uncertain_cut.is_none());
        // Apple Mail quotes the attribution with the original.
        let t = "Yes.\n\n> On 1 Dec 2026, at 09:00, Support <s@x> wrote:\n>\n> Please confirm.\n";
        assert!(crate::message::own_words(t).uncertain_cut.is_none());
        // A signature is a few short lines; sentences below "-- " may be
        // the writer's.
        assert!(crate::message::own_words("Yes.\n-- \nAnn Example\nSoftware Engineer | ACME\n+49 30 1234567\n").uncertain_cut.is_none());
        assert!(crate::message::own_words("Yes.\n-- \nAnn\nNB: only the old account, keep the new one!\n").uncertain_cut.is_some());
        // An original's separator with no original's header below it.
        assert!(crate::message::own_words("Yes\n__________\nOnly after I exported my certificates\n").uncertain_cut.is_some());
        assert!(crate::message::own_words("Yes\n__________\nFrom: Support\nSent: Monday, 1 December 2026\n").uncertain_cut.is_none());
        // The writer's own "as my wife wrote:" above a quote attributes
        // nothing; "From: me / Sent: from my phone" is no original's header.
        assert!(crate::message::own_words("yes\non second thought as my wife wrote:\n> please keep it\n").uncertain_cut.is_some());
        assert_eq!(strip_quoted("Yes.\n\nFrom: me\nSent: from my phone, but I changed my mind\n"), "Yes.\n\nFrom: me\nSent: from my phone, but I changed my mind\n");
        // A third review: what only looks like an attribution or an
        // original's header is the writer's. An attribution carries a
        // date; "X wrote:" names X; an original's "From:" names someone
        // and its "Sent:" is a date; it follows its separator at once.
        for own in [
            "Yes, I confirm.\n\nOn the deadline, not before, as support wrote:\n> If this was sent by accident\n",
            "Yes, I confirm.\nOnly after the deadline, as support wrote:\n> If this was sent by accident\n",
            "Yes, I confirm.\n__________\nOnly the old account!\nFrom: Ann\n",
        ] {
            assert!(crate::message::own_words(own).uncertain_cut.is_some(), "{own:?}");
        }
        let own = "Yes, I confirm.\nFrom: my son, who sent the request\nDate: 3 May 2026, while I was away; keep my account\n";
        assert_eq!(strip_quoted(own), own, "no original's header: nothing is cut");
        assert!(crate::message::own_words("Yes.\nCAcert Support <support@cacert.org> wrote:\n> Please confirm.\n").uncertain_cut.is_none());
    }

    /// Gmail wraps a long attribution at the address.
    #[test]
    fn an_attribution_wrapped_in_two_lines_is_cut_whole() {
        let t = "Yes please.\n\nOn Tue, Dec 1, 2026 at 9:00 AM CAcert support <\nsupport@cacert.org> wrote:\n\n> delete my account\n";
        assert_eq!(strip_quoted(t), "Yes please.\n\n\n");
        let t = "On second thought, as\nmy wife wrote:\nkeep it\n";
        assert_eq!(strip_quoted(t), t, "a line ending in wrote: is an attribution's second half only when it ends an address");
    }

    fn vocabulary_pack(settings: &str) -> Pack {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acknowledge.txt"), "hi").unwrap();
        let toml = format!(
            r#"[pack]
name = "t"
threshold = 3.0
{settings}

[vocabulary]
delete = ["delet*", "remov*", "erase", "close", "end", "get rid of"]
rename = ["renam*", "change"]

[[procedure]]
id = "rename"
title = "Rename"
identity = "none"
[[procedure.rule]]
name = "rename-user"
on = "text"
pattern = '{{rename}}.{{0,20}}\b(user ?name|handle)'
weight = 3.5
[[procedure.step]]
name = "s"
state = "new"

[[procedure]]
id = "delete"
title = "Delete"
identity = "none"
sensitive = true
[[procedure.rule]]
name = "delete-account"
on = "text"
pattern = '{{delete}}.{{0,20}}\baccount'
weight = 3.5
[[procedure.step]]
name = "s"
state = "new"
"#
        );
        std::fs::write(dir.path().join("procedures.toml"), toml).unwrap();
        Pack::load(dir.path()).unwrap()
    }

    #[test]
    fn word_lists_cover_stems_and_synonyms_and_say_which_words_decided() {
        let p = vocabulary_pack("");
        for body in ["I am asking to end my account", "please get rid of the account", "Deleting my account, please", "remove this account"] {
            let c = p.classify(&msg("Subject: hi", body));
            assert_eq!(c.procedure, "delete", "{body}: {c:?}");
        }
        let c = p.classify(&msg("Subject: hi", "I am asking to END my account"));
        assert_eq!(c.words, [r#"delete/delete-account: "END my account""#]);
        assert_eq!(p.classify(&msg("Subject: hi", "the endpoint of my account")).procedure, UNCLASSIFIED, "a stem needs its star");
    }

    #[test]
    fn a_fallback_request_does_not_decide() {
        let p = vocabulary_pack("margin = 1.0");
        for body in [
            "Change my username, or else delete the account.",
            "Please rename my username. If that's not possible, delete my account.",
            "Bitte den Benutzernamen ändern, change my username; sonst delete my account",
        ] {
            let c = p.classify(&msg("Subject: hi", body));
            assert_eq!(c.procedure, "rename", "{body}: {c:?}");
        }
        let c = p.classify(&msg("Subject: hi", "Change my username, or else delete the account."));
        assert!(c.words.is_empty() || c.words.iter().all(|w| !w.contains("fallback")), "the winner's words: {c:?}");
        assert_eq!(c.runner_up.as_deref(), Some("delete"));
        // Both asked for outright: too close to call, a person decides.
        let c = p.classify(&msg("Subject: hi", "Change my username and delete my account."));
        assert_eq!(c.procedure, UNCLASSIFIED, "{c:?}");
        assert_eq!(c.held_back.as_deref(), Some("rename scored 3.5 and delete 3.5: a route needs a lead of 1"));
    }

    /// The first request is the text without its fallback clauses, cut
    /// where regex cuts them, in letters in other languages too.
    #[test]
    fn a_fallback_clause_is_cut_where_regex_cuts_it() {
        let regex = Regex::new(FALLBACK_CLAUSE).unwrap();
        let texts = [
            "Change my username, or else delete the account.",
            "Bitte ändern Sie meinen Benutzernamen; sonst löschen Sie mein Konto. Danke schön, Jürgen",
            "Könnten Sie den Namen ändern? Andernfalls bitte das Konto löschen! Grüße",
            "Ändern Sie bitte den Namen, falls das nicht möglich ist, löschen.",
            "Merci de renommer mon compte, sinon supprimez-le. À défaut, fermez-le.",
            "请修改用户名，或者删除账号。谢谢",
            "Änderung erbeten. Sonstiges: nichts.",
            "no clause here, ähnlich",
            "",
        ];
        for text in texts {
            assert_eq!(primary(text), regex.replace_all(text, " "), "{text:?}");
        }
        // And on every text of the real corpus, as the rules see it.
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/real");
        let (mut read, mut cut) = (0, 0);
        for entry in std::fs::read_dir(&corpus).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "tsv") {
                for row in std::fs::read_to_string(&path).unwrap().lines().skip(1) {
                    let text = row.split('\t').skip(4).collect::<Vec<_>>().join("\n").replace("\\n", "\n");
                    let expected = regex.replace_all(&text, " ");
                    read += 1;
                    cut += usize::from(expected != text);
                    assert_eq!(primary(&text), expected, "{text:?}");
                }
            }
        }
        assert!(read > 1000 && cut > 20, "{read} texts, {cut} with a fallback clause");
        assert_eq!(primary("Bitte ändern Sie meinen Namen; sonst löschen Sie mein Konto. Danke"), "Bitte ändern Sie meinen Namen;  . Danke");
    }

    #[test]
    fn sensitive_procedures_need_their_own_threshold() {
        let p = vocabulary_pack("sensitive_threshold = 4.0");
        let c = p.classify(&msg("Subject: hi", "delete my account"));
        assert_eq!(c.procedure, UNCLASSIFIED);
        assert_eq!(c.held_back.as_deref(), Some("delete scored 3.5 < 4 (sensitive)"));
        assert_eq!(p.classify(&msg("Subject: hi", "change my username")).procedure, "rename");
    }

    #[test]
    fn a_word_list_that_does_not_exist_is_a_located_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acknowledge.txt"), "hi").unwrap();
        let toml = "[pack]\nname = \"t\"\n[vocabulary]\nok = [\"a\"]\n[[procedure]]\nid = \"x\"\ntitle = \"x\"\nidentity = \"none\"\n[[procedure.rule]]\nname = \"r\"\non = \"text\"\npattern = '{nope} a{2} \\p{L}'\nweight = 3\n[[procedure.step]]\nname = \"s\"\nstate = \"new\"\n";
        std::fs::write(dir.path().join("procedures.toml"), toml).unwrap();
        let errs: Vec<String> = Pack::load(dir.path()).unwrap_err().iter().map(|p| p.to_string()).collect();
        let want = ":12: procedure[0].rule[0].pattern: {nope} names no word list; define it under [vocabulary] (known: ok)";
        assert!(errs.iter().any(|e| e.ends_with(want)), "{errs:?}");
        assert!(!errs.iter().any(|e| e.contains("a{2}") || e.contains("p{L}")), "repetitions and classes are not word lists: {errs:?}");
    }

    #[test]
    fn folded_headers_are_unfolded() {
        let h = headers(b"X-Tag: a\r\n b\r\nSubject: s\r\n\r\nbody: x\r\n");
        assert_eq!(h, vec![("x-tag".into(), "a b".into()), ("subject".into(), "s".into())]);
    }
}
