//! What triaged records on a ticket besides its place in the procedure:
//! the facts a new message started it with, what the checks and the
//! procedure told staff, the drafts of ours still out, the case number.
//! One named field per fact, so every reader and writer names it; stored
//! under the ticket's `data` key with the names the untyped map had, so a
//! ticket written before the fields were typed reads back unchanged.
//!
//! Templates and a step's expressions see these fields by those names
//! (`act::Actor::context`): a field that is `None` is absent, as a key
//! never written was.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::TicketState;
use crate::classify::Classification;
use crate::classify::aside::Aside;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TicketNotes {
    /// The sender's name as a draft greets them (redacted; empty when the
    /// message gave none). Templates: `sender_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// The address drafts go to. Templates: `sender_email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_email: Option<String>,
    /// The request's subject, redacted and cut. Templates: `subject`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `[draft] signature`, as it was when the ticket opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// What the rules (and the model) made of the first message; a step's
    /// expressions read `classification.rules`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// That classification in words, for staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The language the request is written in, when the pack has templates
    /// for it (`classify::language`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Kinds of clear-text credentials the request contained (names, never
    /// values): templates warn the sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_kinds: Option<Vec<String>>,
    /// How many `age` encrypted blocks the request contained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_blocks: Option<u64>,
    /// The day of the request (`YYYY-MM-DD`, see `act::facts`); a pack
    /// step may set it too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    /// Why the message was set aside before classification (bounce,
    /// auto-reply, bulk, spam).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<Aside>,
    /// The identity verdict in words under the procedure's policy, for
    /// `status` and `!show`, which know no policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_summary: Option<String>,
    /// Why a person must look (the event did not fit the procedure, or the
    /// procedure could not run); dropped when a step is entered without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff: Option<String>,
    /// When the hand-off was recorded (the procedures' clock): a reply
    /// staff wrote after it answers it (`act::staff_action::looked`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff_at: Option<jiff::Timestamp>,
    /// The step's staff note, rendered; dropped with its step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_note: Option<String>,
    /// What staff must carry out before the procedure goes on (`!done N`);
    /// dropped with its step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_action: Option<String>,
    /// A staff action the user took back (or put off) before staff said
    /// it was done: staff owe the answer whether they had carried it out
    /// already (`done N`: the procedure goes on as done) or not (`notdone
    /// N`: closed, nothing drafted); dropped with its step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_action: Option<String>,
    /// The user put the withdrawn action off rather than taking it back:
    /// not carried out, it waits for their confirmation instead of closing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_put_off: Option<bool>,
    /// The staff action the user put off and staff said they had not
    /// carried out (`notdone N`): on hold until the user confirms again;
    /// taken back for good, staff are asked again; dropped with its step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hold_action: Option<String>,
    /// The last staff action recorded as done: by whom, when (the wall
    /// clock) and the step it led to. A second `done` soon after, with the
    /// ticket still at that step and its reply unsent, is that action said
    /// twice (`act::staff_action::done`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acted: Option<Acted>,
    /// A draft of ours waits in Drafts: the state the step leaves once the
    /// Sent folder shows it (waiting, answered or closed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft_waiting: Option<TicketState>,
    /// Message-ID → SHA-256 (hex) of each draft of ours not yet withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub our_drafts: Option<BTreeMap<String, String>>,
    /// Message-ID → what recognises each draft of ours in the Sent folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub our_draft_texts: Option<BTreeMap<String, DraftText>>,
    /// The case number a step allocated: the key of its documentation row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<CaseNumber>,
    /// The documentation row: the columns the pack's step names, so as
    /// open-ended as the pack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<Map<String, Value>>,
    /// How many times the identity checks were run again after a failure
    /// that may pass later (`act::reverify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverify_tries: Option<u64>,
    /// The Message-ID of the newest reply, in the order replies came,
    /// that moved the ticket: a held reply a re-check proves later is read
    /// only if it came after it (`act::reverify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_reply: Option<String>,
    /// The kind of issue a pack step recorded (`set = { issue_type = … }`),
    /// shown to staff beside the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    /// What the pack's steps record (`set = { … }`, `allocate = { key = … }`)
    /// under names the pack chooses: open-ended by design, since the names
    /// are the pack author's. Stored beside the fields above, as before.
    #[serde(flatten)]
    pub procedure: Map<String, Value>,
}

/// A staff action recorded as done (see [`TicketNotes::acted`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acted {
    pub by: String,
    pub action: String,
    pub at: jiff::Timestamp,
    /// The step the action led the ticket to.
    pub step: Option<String>,
    /// The step it was done at, when the user had taken it back before
    /// (`done` said it was carried out already): `notdone` may still say
    /// it was not, while that step's reply waits unsent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_back_at: Option<String>,
}

/// A draft of ours as the Sent folder shows it once staff send it unedited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftText {
    /// SHA-256 (hex) of its words, whitespace collapsed: mail clients
    /// re-wrap lines and re-encode the body.
    pub text: String,
    /// The procedure that drafted it.
    pub procedure: String,
    /// When it was drafted (the procedures' clock): staff's mail written
    /// before it does not answer what it answers (`act::withdraw::drafted_after`).
    /// `None` for a draft an earlier version remembered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<jiff::Timestamp>,
    /// The Message-ID of the reply it was made for: staff's mail that
    /// names it answers it, whatever its date. `None` for a draft the
    /// clock or staff made, or an earlier version remembered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
}

/// A number from one of the pack's numbering series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNumber {
    pub series: String,
    pub number: u64,
}

impl std::fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.series, self.number)
    }
}

/// A value a pack step recorded under a name triaged records itself, of a
/// type that name cannot hold.
#[derive(Debug, thiserror::Error)]
#[error("procedure data {key} = {value} not recorded: triaged keeps {key} itself ({reason}); give the value another name in procedures.toml")]
pub struct NoteTypeError {
    pub key: String,
    pub value: Value,
    reason: String,
}

/// Reads a stored ticket's notes. Before the notes were typed, a pack
/// step could store any value under any name, one of the names above
/// included (`set = { language = 3 }`); such a value does not fit its field,
/// and failing on it would make the whole ticket unreadable. It is kept
/// under its name with the pack's own keys instead, so it is written back
/// as it was and nothing is lost, and a warning names it.
pub(super) fn read_stored<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TicketNotes, D::Error> {
    let stored = Value::deserialize(d)?;
    if let Ok(notes) = TicketNotes::deserialize(&stored) {
        return Ok(notes);
    }
    let Value::Object(map) = stored else {
        return Err(serde::de::Error::custom("a ticket's data is not a JSON object"));
    };
    let (mut fits, mut misfits) = (Map::new(), Map::new());
    for (key, value) in map {
        let alone = Value::Object(Map::from_iter([(key.clone(), value.clone())]));
        if TicketNotes::deserialize(&alone).is_ok() {
            fits.insert(key, value);
        } else {
            misfits.insert(key, value);
        }
    }
    let mut notes = TicketNotes::deserialize(&Value::Object(fits)).map_err(serde::de::Error::custom)?;
    for (key, value) in misfits {
        tracing::warn!(key = %key, "a stored ticket holds {key} = {value}, which is not what triaged records under that name; kept as the pack's own data");
        notes.procedure.insert(key, value);
    }
    Ok(notes)
}

impl TicketNotes {
    /// The notes as templates and expressions see them: one key per field
    /// that is set, and the pack's own keys beside them.
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// Records what a pack step set (`Plan::data`). A key that names one of
    /// the fields above goes there (`received`, `issue_type`); any other is
    /// the pack's own.
    pub fn record_procedure_data(&mut self, data: &Map<String, Value>) -> Result<(), NoteTypeError> {
        for (key, value) in data {
            let one = Map::from_iter([(key.clone(), value.clone())]);
            let parsed: TicketNotes = serde_json::from_value(Value::Object(one)).map_err(|e| NoteTypeError {
                key: key.clone(),
                value: value.clone(),
                reason: e.to_string(),
            })?;
            self.overlay(parsed);
        }
        Ok(())
    }

    /// Takes every field `newer` has set, and its pack keys.
    fn overlay(&mut self, newer: TicketNotes) {
        // Destructured, so a field added above cannot be forgotten here.
        let TicketNotes {
            sender_name,
            sender_email,
            subject,
            signature,
            classification,
            explanation,
            language,
            credential_kinds,
            age_blocks,
            received,
            set_aside,
            identity_summary,
            handoff,
            handoff_at,
            staff_note,
            staff_action,
            withdrawn_action,
            withdrawn_put_off,
            on_hold_action,
            acted,
            draft_waiting,
            our_drafts,
            our_draft_texts,
            number,
            document,
            reverify_tries,
            newest_reply,
            issue_type,
            procedure,
        } = newer;
        fn take<T>(old: &mut Option<T>, new: Option<T>) {
            if new.is_some() {
                *old = new;
            }
        }
        take(&mut self.sender_name, sender_name);
        take(&mut self.sender_email, sender_email);
        take(&mut self.subject, subject);
        take(&mut self.signature, signature);
        take(&mut self.classification, classification);
        take(&mut self.explanation, explanation);
        take(&mut self.language, language);
        take(&mut self.credential_kinds, credential_kinds);
        take(&mut self.age_blocks, age_blocks);
        take(&mut self.received, received);
        take(&mut self.set_aside, set_aside);
        take(&mut self.identity_summary, identity_summary);
        take(&mut self.handoff, handoff);
        take(&mut self.handoff_at, handoff_at);
        take(&mut self.staff_note, staff_note);
        take(&mut self.staff_action, staff_action);
        take(&mut self.withdrawn_action, withdrawn_action);
        take(&mut self.withdrawn_put_off, withdrawn_put_off);
        take(&mut self.on_hold_action, on_hold_action);
        take(&mut self.acted, acted);
        take(&mut self.draft_waiting, draft_waiting);
        take(&mut self.our_drafts, our_drafts);
        take(&mut self.our_draft_texts, our_draft_texts);
        take(&mut self.number, number);
        take(&mut self.document, document);
        take(&mut self.reverify_tries, reverify_tries);
        take(&mut self.newest_reply, newest_reply);
        take(&mut self.issue_type, issue_type);
        self.procedure.extend(procedure);
    }

    /// Copies what a plan recorded on `planned` (a copy of this ticket's
    /// notes, moved by the procedure) onto the stored notes, which others
    /// may have changed meanwhile. What staff were told about the step
    /// being left (its action, its note, why a person had to look, the
    /// draft it waits on) goes when the plan dropped it.
    pub fn merge(&mut self, planned: &TicketNotes) {
        self.overlay(planned.clone());
        self.staff_action = planned.staff_action.clone();
        self.withdrawn_action = planned.withdrawn_action.clone();
        self.withdrawn_put_off = planned.withdrawn_put_off;
        self.on_hold_action = planned.on_hold_action.clone();
        self.draft_waiting = planned.draft_waiting;
        self.staff_note = planned.staff_note.clone();
        self.handoff = planned.handoff.clone();
        self.handoff_at = planned.handoff_at;
    }

    /// A person must look, for `why`, from `at` on.
    pub fn hand_off(&mut self, why: String, at: jiff::Timestamp) {
        self.handoff = Some(why);
        self.handoff_at = Some(at);
    }

    /// Nobody needs to look any more.
    pub fn settle_handoff(&mut self) {
        self.handoff = None;
        self.handoff_at = None;
    }

    /// No take-back of a staff action is waiting for staff's answer any
    /// more, nor an action on hold: the action stands again, or the
    /// ticket moved on.
    pub fn settle_take_back(&mut self) {
        self.withdrawn_action = None;
        self.withdrawn_put_off = None;
        self.on_hold_action = None;
    }

    /// What retention keeps once a ticket's content is dropped: the case
    /// number is the team's record, not the sender's data.
    pub fn retained(&self) -> TicketNotes {
        TicketNotes { number: self.number.clone(), ..TicketNotes::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Ticket;

    /// Tickets as the store held them before the notes were typed: a
    /// CAcert deletion executed and waiting for its "I executed" draft to
    /// be sent (number, document row, staff note, pack keys), another at
    /// its retention hold, and a bounce set aside.
    const STORED: [(&str, &str); 3] = [
        ("executed", include_str!("../../tests/fixtures/stored-ticket-executed.json")),
        ("on-hold", include_str!("../../tests/fixtures/stored-ticket-on-hold.json")),
        ("set-aside", include_str!("../../tests/fixtures/stored-ticket-set-aside.json")),
    ];

    #[test]
    fn a_ticket_stored_before_the_notes_were_typed_reads_back_unchanged() {
        for (name, text) in STORED {
            let stored: Value = serde_json::from_str(text).unwrap();
            let ticket: Ticket = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(serde_json::to_value(&ticket).unwrap(), stored, "{name}: written back as it was read");
            assert_eq!(Value::Object(ticket.notes.to_map()), stored["data"], "{name}: templates see the same data");
        }
    }

    #[test]
    fn a_stored_value_that_does_not_fit_its_field_is_kept_and_the_ticket_still_reads() {
        let stored = include_str!("../../tests/fixtures/stored-ticket-executed.json");
        let mut ticket: serde_json::Value = serde_json::from_str(stored).unwrap();
        ticket["data"]["language"] = serde_json::json!(3);
        ticket["data"]["reverify_tries"] = serde_json::json!("twice");
        let read: super::super::Ticket = serde_json::from_value(ticket.clone()).expect("the ticket reads");
        assert_eq!(read.notes.language, None);
        assert_eq!(read.notes.procedure.get("language"), Some(&serde_json::json!(3)));
        assert_eq!(read.notes.procedure.get("reverify_tries"), Some(&serde_json::json!("twice")));
        assert!(read.notes.subject.is_some(), "the fields that fit are read as usual");
        let written = serde_json::to_value(&read).unwrap();
        assert_eq!(written["data"], ticket["data"], "written back as it was stored");
    }

    #[test]
    fn the_stored_facts_land_in_their_fields() {
        let executed: Ticket = serde_json::from_str(STORED[0].1).unwrap();
        let n = &executed.notes;
        assert_eq!(n.number.as_ref().map(ToString::to_string).as_deref(), Some("a20111128.3.1"));
        assert_eq!(n.draft_waiting, Some(TicketState::Closed));
        assert_eq!(n.issue_type.as_deref(), Some("Delete account precedent"));
        assert_eq!(n.received.as_deref(), Some("2026-11-28"));
        assert!(n.our_drafts.as_ref().is_some_and(|d| d.len() == 2), "{n:?}");
        assert!(n.procedure.contains_key("arbitration_number"), "a pack's own key stays the pack's: {n:?}");
        assert!(!n.procedure.contains_key("number"), "triaged's own keys are fields: {n:?}");
        let aside: Ticket = serde_json::from_str(STORED[2].1).unwrap();
        assert!(aside.notes.set_aside.is_some(), "{:?}", aside.notes);
    }

    #[test]
    fn pack_data_under_a_field_name_goes_to_the_field_and_a_wrong_type_says_so() {
        let mut n = TicketNotes::default();
        let data = Map::from_iter([
            ("issue_type".to_string(), Value::from("Delete account precedent")),
            ("pending".to_string(), Value::from("pending reminder")),
        ]);
        n.record_procedure_data(&data).unwrap();
        assert_eq!(n.issue_type.as_deref(), Some("Delete account precedent"));
        assert_eq!(n.procedure.get("pending"), Some(&Value::from("pending reminder")));
        let err = n.record_procedure_data(&Map::from_iter([("number".to_string(), Value::from("seven"))])).unwrap_err();
        assert!(err.to_string().contains("give the value another name in procedures.toml"), "{err}");
        assert_eq!(n.number, None);
    }

    #[test]
    fn merge_drops_what_the_step_left_behind_and_keeps_the_rest() {
        let mut stored = TicketNotes {
            staff_action: Some("delete the account".into()),
            handoff: Some("a person decides".into()),
            language: Some("de".into()),
            ..TicketNotes::default()
        };
        let planned = TicketNotes { staff_note: Some("note".into()), ..TicketNotes::default() };
        stored.merge(&planned);
        assert_eq!((stored.staff_action, stored.handoff), (None, None));
        assert_eq!(stored.staff_note.as_deref(), Some("note"));
        assert_eq!(stored.language.as_deref(), Some("de"), "what the plan did not touch stays");
    }
}
