//! Facts staff know and a procedure needs: a CAcert account's assurances
//! and certificates, a refund's payment date, whether the other account of
//! a billing transfer is verified. Staff record them from the channel
//! (`!set N key=value`) or the command line (`triaged set N key=value`); a
//! ticket waiting at a hand-off step for them runs its procedure again from
//! the start and moves on.
//!
//! They are kept in the ticket's own `facts` map, apart from what triaged
//! recorded and from its typed identity: a step sees staff facts first,
//! shadowed by triaged's data and then by identity, so nobody can talk a
//! ticket into being verified. Keys that would be shadowed are refused
//! with the reason, so a hand-set value never silently does nothing; so
//! are keys the ticket's procedure does not declare (`facts = [...]`: a
//! misspelt key would wait there unread), and text where its conditions
//! read a number (the procedure would stop on it).

use serde_json::{Map, Value};

use super::{ActError, Actor, apply};
use crate::procedures::Procedure;
use crate::procedures::engine::{Clock, Event};
use crate::message::sanitize_line;
use crate::store::{Ticket, TicketId, TicketNotes, TicketState};

/// Keys the identity checks own.
const IDENTITY_KEYS: &[&str] = &[
    "verified",
    "factors",
    "other_account_verified",
    "two_factor",
    "factors_passed",
    "verification",
    "identity_summary",
    "account",
    "challenge",
    "challenge_issued",
];

/// Other keys triaged writes itself, or that the procedure engine puts
/// into every expression's context (a stored one would be shadowed).
const DAEMON_KEYS: &[&str] = &[
    "classification",
    "sender_name",
    "sender_email",
    "subject",
    "signature",
    "credential_kinds",
    "age_blocks",
    "handoff",
    "handoff_at",
    "staff_note",
    "staff_action",
    "withdrawn_action",
    "withdrawn_put_off",
    "on_hold_action",
    "draft_waiting",
    "our_drafts",
    "our_draft_texts",
    "number",
    "document",
    "ticket",
    "today",
    "now",
    "procedure_title",
    "billing",
    "deadlines",
    "reverify_tries",
    "newest_reply",
    "reply_from",
];

const MAX_KEY_CHARS: usize = 40;
const MAX_VALUE_CHARS: usize = 200;
/// More than this in one request is a typo or a script gone wrong.
pub const MAX_FACTS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    #[error("{0:?} is not key=value")]
    NotKeyValue(String),
    #[error("key {0:?}: use 1 to 40 of the characters a-z and _")]
    BadKey(String),
    #[error("{0} is part of the identity check: identity can never be set by hand; it comes only from the sender's registered keys and challenges")]
    Identity(String),
    #[error("{0} is recorded by triaged itself and cannot be set by hand")]
    DaemonOwned(String),
    #[error("{key}: {reason}")]
    BadValue { key: String, reason: String },
    #[error("{key} is not a fact of {procedure}{}", declared_list(.declared, .nearest.as_deref()))]
    Undeclared {
        key: String,
        procedure: String,
        /// The facts the procedure declares.
        declared: Vec<String>,
        /// The declared fact `key` is likely a slip of.
        nearest: Option<String>,
    },
    #[error("{key}: expected a whole number ({procedure} compares it as one), found {found}")]
    NotANumber { key: String, procedure: String, found: String },
}

fn declared_list(declared: &[String], nearest: Option<&str>) -> String {
    if declared.is_empty() {
        return ", which declares none".into();
    }
    let hint = nearest.map(|n| format!("; did you mean {n}?")).unwrap_or_default();
    format!(" (it declares {}){hint}", declared.join(", "))
}

/// `key=value` as typed by staff. Values: integers, `true`/`false`,
/// `YYYY-MM-DD` dates (kept as text, which the procedures compare), else
/// text of one line.
pub fn parse_fact(arg: &str) -> Result<(String, Value), FactError> {
    let (key, value) = arg.split_once('=').ok_or_else(|| FactError::NotKeyValue(cut(arg)))?;
    check_key(key)?;
    Ok((key.to_string(), parse_value(key, value)?))
}

/// Refuses keys staff may not set; see the module comment.
pub fn check_key(key: &str) -> Result<(), FactError> {
    let well_formed = (1..=MAX_KEY_CHARS).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if !well_formed {
        return Err(FactError::BadKey(cut(key)));
    }
    if IDENTITY_KEYS.contains(&key) {
        return Err(FactError::Identity(key.to_string()));
    }
    if DAEMON_KEYS.contains(&key) {
        return Err(FactError::DaemonOwned(key.to_string()));
    }
    Ok(())
}

/// Refuses a key `procedure` (the ticket's, `None` when the pack has no
/// such procedure) does not declare, and anything but a whole number for
/// one its conditions read as a number.
pub fn check_declared(procedure_id: &str, procedure: Option<&Procedure>, key: &str, value: &Value) -> Result<(), FactError> {
    let Some(fact) = procedure.and_then(|p| p.fact(key)) else {
        let declared: Vec<String> = procedure.iter().flat_map(|p| &p.facts).map(|f| f.name.clone()).collect();
        return Err(FactError::Undeclared {
            key: key.to_string(),
            procedure: procedure_id.to_string(),
            nearest: nearest(key, &declared),
            declared,
        });
    };
    if fact.number && !value.is_i64() {
        let found = match value {
            Value::String(s) => format!("{:?}", cut(s)),
            v => v.to_string(),
        };
        return Err(FactError::NotANumber { key: key.to_string(), procedure: procedure_id.to_string(), found });
    }
    Ok(())
}

/// The declared name `key` is one or two slips of the finger from, the
/// closest if several.
fn nearest(key: &str, declared: &[String]) -> Option<String> {
    declared
        .iter()
        .map(|d| (crate::config::edit_distance(key, d), d))
        .filter(|(n, _)| *n <= 2)
        .min_by_key(|(n, _)| *n)
        .map(|(_, d)| d.clone())
}

fn parse_value(key: &str, text: &str) -> Result<Value, FactError> {
    let bad = |reason: String| FactError::BadValue { key: key.to_string(), reason };
    match text {
        "" => return Err(bad("no value; write key=value".into())),
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    // Only the canonical form: "007" stays the text it was typed as.
    if let Ok(n) = text.parse::<i64>()
        && n.to_string() == text
    {
        return Ok(Value::from(n));
    }
    if looks_like_date(text) {
        return match text.parse::<jiff::civil::Date>() {
            Ok(_) => Ok(Value::from(text)),
            Err(e) => Err(bad(format!("{text:?} is not a valid date YYYY-MM-DD: {e}"))),
        };
    }
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(bad(format!("longer than {MAX_VALUE_CHARS} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(bad("contains line breaks or control characters".into()));
    }
    Ok(Value::from(text))
}

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn cut(s: &str) -> String {
    sanitize_line(&s.chars().take(60).collect::<String>())
}

/// `assurances=0 last_certificate_expiry=2026-01-31`, for logs and staff.
pub fn describe(facts: &[(String, Value)]) -> String {
    let one = |(k, v): &(String, Value)| match v {
        Value::String(s) => format!("{k}={s}"),
        v => format!("{k}={v}"),
    };
    facts.iter().map(one).collect::<Vec<_>>().join(" ")
}

impl Actor {
    /// Records `facts` on ticket `id` for `by` (a nick, or who ran the
    /// command). When the ticket waits at a hand-off step (no template, no
    /// deadline: the procedure stopped for a person) and is not closed,
    /// its procedure runs again from the start with the new facts; the
    /// draft of the step it reaches is planned for the folder workers.
    pub fn record_facts(&self, id: TicketId, facts: &[(String, Value)], by: &str) -> Result<Ticket, ActError> {
        if facts.is_empty() {
            return Err(ActError::Refused("nothing to record; give key=value".into()));
        }
        if facts.len() > MAX_FACTS {
            return Err(ActError::Refused(format!("at most {MAX_FACTS} facts at once")));
        }
        for (key, value) in facts {
            // Requests also come from files in the spool: check again here.
            check_key(key).map_err(|e| ActError::Refused(e.to_string()))?;
            if let Value::String(s) = value {
                parse_value(key, s).map_err(|e| ActError::Refused(e.to_string()))?;
            } else if !(value.is_boolean() || value.is_i64()) {
                return Err(ActError::Refused(format!("{key}: only integers, true/false, dates and text can be recorded")));
            }
            if self.allocated_key(key) {
                return Err(ActError::Refused(format!("{key} is allocated by a numbering series and cannot be set by hand")));
            }
        }
        let _moving = self.moving();
        let Some(mut ticket) = self.store.ticket(id)? else {
            return Err(ActError::Refused(format!("there is no ticket {id}")));
        };
        let procedure = self.pack.procedure(&ticket.procedure);
        for (key, value) in facts {
            check_declared(&ticket.procedure, procedure, key, value).map_err(|e| ActError::Refused(e.to_string()))?;
        }
        record(&mut ticket.facts, facts);
        let rerun = ticket.state != TicketState::Closed && self.at_handoff(&ticket);
        let actions = if rerun {
            forget_handoff(&mut ticket.notes);
            ticket.deadlines.clear();
            self.step(&mut ticket, &Event::NewMessage)?
        } else {
            Vec::new()
        };
        let note = format!(
            "{} recorded by {by}{}",
            describe(facts),
            if rerun { "; procedure run again from its start" } else { "" }
        );
        let (t, _) = self.store.update_ticket(id, None, &note, None, |t| {
            record(&mut t.facts, facts);
            if rerun {
                forget_handoff(&mut t.notes);
                apply(t, &ticket);
            }
            actions.clone()
        })?;
        if rerun {
            self.record_document(&t)?;
            self.wake_workers();
            self.deadlines_changed.notify_one();
        }
        Ok(t)
    }

    /// The ticket's step is where the procedure waits for a person.
    fn at_handoff(&self, t: &Ticket) -> bool {
        let step = self
            .pack
            .procedure(&t.procedure)
            .zip(t.step.as_deref())
            .and_then(|(p, s)| p.step(s));
        // A step waiting for its staff action is no hand-off: running the
        // procedure again would send its first mail again.
        step.is_some_and(|s| s.template.is_none() && s.deadlines.is_empty() && s.staff_action.is_none())
    }

    fn allocated_key(&self, key: &str) -> bool {
        self.pack
            .procedures
            .iter()
            .flat_map(|p| &p.steps)
            .any(|s| s.allocate.as_ref().is_some_and(|a| a.key == key))
    }
}

/// The day of the request itself (`received`) (CAcert: "your account
/// deletion request dated ..."), from its Date header in the configured
/// zone, else the day it arrived; never the day staff got to it.
pub(super) fn request_date(msg: &crate::message::Message, clock: &dyn Clock) -> String {
    let now = clock.now();
    let sent = msg
        .date
        .as_deref()
        .and_then(|d| d.parse::<jiff::Timestamp>().ok())
        // A Date in the future is a wrong clock (or a lie): arrival it is.
        .filter(|t| *t <= now.timestamp());
    let day = match sent {
        Some(t) => t.to_zoned(now.time_zone().clone()).date(),
        None => now.date(),
    };
    day.to_string()
}

fn record(data: &mut Map<String, Value>, facts: &[(String, Value)]) {
    for (k, v) in facts {
        data.insert(k.clone(), v.clone());
    }
}

/// The notes of the step being left; the step reached writes its own.
fn forget_handoff(notes: &mut TicketNotes) {
    notes.settle_handoff();
    notes.staff_note = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_typed() {
        assert_eq!(parse_fact("assurances=0"), Ok(("assurances".into(), json!(0))));
        assert_eq!(parse_fact("delta=-3"), Ok(("delta".into(), json!(-3))));
        assert_eq!(parse_fact("card_cancelled=true"), Ok(("card_cancelled".into(), json!(true))));
        assert_eq!(parse_fact("payment_date=2026-10-01"), Ok(("payment_date".into(), json!("2026-10-01"))));
        assert_eq!(parse_fact("code=007"), Ok(("code".into(), json!("007"))));
        assert_eq!(parse_fact("note=a=b c"), Ok(("note".into(), json!("a=b c"))));
    }

    #[test]
    fn identity_and_daemon_keys_are_refused() {
        for k in IDENTITY_KEYS {
            let e = parse_fact(&format!("{k}=true")).unwrap_err();
            assert!(e.to_string().contains("identity can never be set by hand"), "{e}");
        }
        assert_eq!(parse_fact("sender_email=x@y"), Err(FactError::DaemonOwned("sender_email".into())));
        assert_eq!(parse_fact("today=2020-01-01"), Err(FactError::DaemonOwned("today".into())));
        // Whose reply moved a ticket: a billing transfer's step reads it.
        assert_eq!(parse_fact("reply_from=second"), Err(FactError::DaemonOwned("reply_from".into())));
    }

    #[test]
    fn malformed_input_is_refused() {
        assert!(matches!(parse_fact("assurances"), Err(FactError::NotKeyValue(_))));
        assert!(matches!(parse_fact("=1"), Err(FactError::BadKey(_))));
        assert!(matches!(parse_fact("Verified=true"), Err(FactError::BadKey(_))));
        assert!(matches!(parse_fact("a-b=1"), Err(FactError::BadKey(_))));
        assert!(matches!(parse_fact(&format!("{}=1", "a".repeat(41))), Err(FactError::BadKey(_))));
        assert!(matches!(parse_fact("x="), Err(FactError::BadValue { .. })));
        assert!(matches!(parse_fact("d=2026-13-45"), Err(FactError::BadValue { .. })));
        assert!(matches!(parse_fact("x=a\r\nb"), Err(FactError::BadValue { .. })));
        assert!(matches!(parse_fact(&format!("x={}", "v".repeat(201))), Err(FactError::BadValue { .. })));
    }

    fn cacert_deletion() -> Procedure {
        let pack = crate::procedures::Pack::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/cacert")).unwrap();
        pack.procedure("account-deletion").unwrap().clone()
    }

    #[test]
    fn a_key_the_procedure_does_not_declare_is_refused_with_the_keys_it_declares_and_the_nearest() {
        let p = cacert_deletion();
        let refused = |key: &str| check_declared("account-deletion", Some(&p), key, &json!(0)).unwrap_err().to_string();
        assert_eq!(
            refused("asurances"),
            "asurances is not a fact of account-deletion (it declares assurances, active_certificates, last_certificate_expiry); did you mean assurances?"
        );
        assert!(refused("active_certificate").ends_with("did you mean active_certificates?"));
        assert!(refused("username").ends_with("(it declares assurances, active_certificates, last_certificate_expiry)"), "nothing close");
        assert_eq!(check_declared("account-deletion", Some(&p), "assurances", &json!(0)), Ok(()));
        let gone = check_declared("old-procedure", None, "assurances", &json!(0)).unwrap_err();
        assert_eq!(gone.to_string(), "assurances is not a fact of old-procedure, which declares none");
    }

    #[test]
    fn a_fact_the_procedure_compares_as_a_number_takes_only_a_whole_number() {
        let p = cacert_deletion();
        let check = |key: &str, v: Value| check_declared("account-deletion", Some(&p), key, &v);
        assert_eq!(
            check("assurances", json!("none")).unwrap_err().to_string(),
            "assurances: expected a whole number (account-deletion compares it as one), found \"none\""
        );
        assert!(matches!(check("active_certificates", json!(true)), Err(FactError::NotANumber { .. })));
        assert!(matches!(check("active_certificates", json!("2026-01-31")), Err(FactError::NotANumber { .. })));
        assert_eq!(check("assurances", json!(0)), Ok(()));
        assert_eq!(check("last_certificate_expiry", json!("2026-01-31")), Ok(()), "a date, compared as text");
    }

    #[test]
    fn describe_shows_values_plainly() {
        let f = vec![("assurances".to_string(), json!(0)), ("d".to_string(), json!("2026-01-31"))];
        assert_eq!(describe(&f), "assurances=0 d=2026-01-31");
    }
}
