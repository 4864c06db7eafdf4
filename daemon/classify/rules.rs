//! Scoring a message against a pack's weighted rules. Each rule counts at
//! most once; quoted lines, attribution lines and `Re:`/`Fwd:` prefixes are
//! removed first so that a reply is judged by what its author wrote, not by
//! what it quotes.

use std::sync::LazyLock;

use regex::Regex;

use super::pack::{Field, Pack};
use super::{Classification, UNCLASSIFIED};
use crate::message::Message;

static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:(?:re|fwd?|aw|wg|tr|sv|vs|antw|rif|r|enc)\s*(?:\[\d+\])?\s*:\s*|\[#\d+\]\s*)+")
        .expect("static regex")
});

static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(on .{1,200} wrote:|am .{1,200} schrieb .{1,200}:|le .{1,200} a écrit ?:|el .{1,200} escribió:)\s*$")
        .expect("static regex")
});

/// Where a top-posted reply's unquoted copy of the original begins
/// (Outlook and friends): everything after it is the other side's text.
static ORIGINAL_BEGINS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(-+ ?(original message|ursprüngliche nachricht|message d'origine|mensaje original) ?-+|_{10,})\s*$")
        .expect("static regex")
});

static OUTLOOK_FROM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\*?(from|von|de):\*? .+").expect("static regex"));
static OUTLOOK_SENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\*?(sent|date|gesendet|datum|envoyé|enviado|fecha):\*? .+").expect("static regex"));

static TICKET_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[#(\d{1,18})\]").expect("static regex"));

/// The ticket number of a `[#N]` tag in a subject, for joining a reply to
/// its ticket when In-Reply-To/References do not name one.
pub fn ticket_tag(subject: &str) -> Option<u64> {
    TICKET_TAG.captures(subject)?.get(1)?.as_str().parse().ok()
}

/// A reply (not a forward): its subject was written by the other side.
static IS_REPLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*(re|aw|sv|antw|rif|vs)\s*(\[\d+\])?\s*:").expect("static regex"));

/// The subject without reply/forward prefixes and ticket tags.
pub fn clean_subject(s: &str) -> String {
    REPLY_PREFIX.replace(s, "").trim().to_string()
}

/// The body without quoted lines, attribution lines and the signature.
pub fn strip_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_end();
        let outlook_header = OUTLOOK_FROM.is_match(t.trim())
            && lines.get(i + 1).is_some_and(|next| OUTLOOK_SENT.is_match(next.trim()));
        if t == "--" || t == "-- " || ORIGINAL_BEGINS.is_match(t.trim()) || outlook_header {
            break;
        }
        if t.trim_start().starts_with('>') || ATTRIBUTION.is_match(t.trim()) {
            continue;
        }
        out.push_str(t);
        out.push('\n');
    }
    out
}

/// Header values by (lowercase) name from the raw header section, unfolded.
fn headers(raw: &[u8]) -> Vec<(String, String)> {
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

/// One procedure's score for a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored<'a> {
    pub score: f64,
    pub procedure: &'a str,
    /// `procedure/rule-name` of each rule that fired.
    pub rules: Vec<String>,
}

impl Pack {
    /// The best procedure for `msg`, with the rules that fired and the
    /// runner-up; `unclassified` when the best score is below the threshold.
    pub fn classify(&self, msg: &Message) -> Classification {
        let mut scored = self.scores(msg);
        // Highest score first; ties keep pack order (stable sort), so the
        // pack author decides precedence by ordering procedures.
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        let runner_up = scored.get(1).filter(|s| s.score > 0.0).map(|s| s.procedure.to_string());
        match scored.into_iter().next() {
            Some(Scored { score, procedure, rules }) if score >= self.effective_threshold() && score > 0.0 => Classification {
                procedure: procedure.to_string(),
                score,
                rules,
                runner_up,
                model: None,
            },
            Some(Scored { score, procedure, rules }) => Classification {
                procedure: UNCLASSIFIED.to_string(),
                score: score.max(0.0),
                rules,
                // The near miss is the most useful hint for a human.
                runner_up: (score > 0.0).then(|| procedure.to_string()),
                model: None,
            },
            None => Classification {
                procedure: UNCLASSIFIED.to_string(),
                score: 0.0,
                rules: Vec::new(),
                runner_up: None,
                model: None,
            },
        }
    }

    /// Every procedure's score for `msg` and the rules of it that fired,
    /// in pack order.
    pub fn scores(&self, msg: &Message) -> Vec<Scored<'_>> {
        let subject = clean_subject(&msg.subject);
        let body = strip_quoted(&msg.text);
        // In a reply the subject is inherited from the other side: it still
        // counts, at half weight, so that "Re: hub down" above "fixed now,
        // thanks" does not reopen the outage procedure.
        let subject_factor = if IS_REPLY.is_match(&msg.subject) { 0.5 } else { 1.0 };
        let needs_headers = self
            .procedures
            .iter()
            .any(|p| p.rules.iter().any(|r| matches!(r.field, Field::Header(_))));
        let hdrs = if needs_headers { headers(msg.raw()) } else { Vec::new() };

        self
            .procedures
            .iter()
            .map(|p| {
                let mut score = 0.0;
                let mut fired = Vec::new();
                for r in &p.rules {
                    let in_subject = || r.regex.is_match(&subject);
                    let factor = match &r.field {
                        Field::Subject => in_subject().then_some(subject_factor),
                        Field::Body => r.regex.is_match(&body).then_some(1.0),
                        Field::Text if r.regex.is_match(&body) => Some(1.0),
                        Field::Text => in_subject().then_some(subject_factor),
                        Field::Header(h) => hdrs.iter().any(|(n, v)| n == h && r.regex.is_match(v)).then_some(1.0),
                    };
                    if let Some(f) = factor {
                        score += r.weight * f;
                        fired.push(r.name.clone());
                    }
                }
                Scored { score: round2(score), procedure: p.id.as_str(), rules: fired }
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
    }

    #[test]
    fn quotes_attribution_and_signature_are_removed() {
        let t = "Yes please.\nOn Mon, 1 Jan 2024 Bob <b@x> wrote:\n> delete my account\n> now\n-- \nAlice\ndelete";
        assert_eq!(strip_quoted(t), "Yes please.\n");
    }

    fn pack() -> Pack {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acknowledge.txt"), "hi").unwrap();
        let proc = |id: &str, rules: &str| {
            format!("[[procedure]]\nid = \"{id}\"\ntitle = \"{id}\"\nidentity = \"none\"\n{rules}[[procedure.step]]\nname = \"s\"\nstate = \"new\"\n")
        };
        let rule = |name: &str, on: &str, pattern: &str, weight: f64| {
            format!("[[procedure.rule]]\nname = \"{name}\"\non = \"{on}\"\npattern = '{pattern}'\nweight = {weight}\n")
        };
        let toml = format!(
            "[pack]\nname = \"t\"\nthreshold = 3.0\n{}{}",
            proc(
                "delete",
                &(rule("word", "text", r"\bdelete\b", 3.0) + &rule("not-repo", "body", r"\brepository\b", -4.0))
            ),
            proc("mailer", &(rule("hdr", "header:X-Mailer", "^Acme", 2.0) + &rule("word", "body", "acme", 1.5))),
        );
        std::fs::write(dir.path().join("procedures.toml"), toml).unwrap();
        Pack::load(dir.path()).unwrap()
    }

    fn msg(head: &str, body: &str) -> Message {
        Message::parse(format!("From: a@example.org\r\n{head}\r\n\r\n{body}\r\n").into_bytes()).unwrap()
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
        let t = "Fine.\nFrom: Bob <b@x>\nSent: Monday\nSubject: delete my account\n";
        assert_eq!(strip_quoted(t), "Fine.\n");
        let t = "From: my old address I wrote before\nplease delete my account\n";
        assert_eq!(strip_quoted(t), t, "a From: line alone is the user's text");
    }

    #[test]
    fn folded_headers_are_unfolded() {
        let h = headers(b"X-Tag: a\r\n b\r\nSubject: s\r\n\r\nbody: x\r\n");
        assert_eq!(h, vec![("x-tag".into(), "a b".into()), ("subject".into(), "s".into())]);
    }
}
