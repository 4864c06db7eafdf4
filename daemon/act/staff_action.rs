//! What staff must do, and what was sent. A step whose outcome staff carry
//! out (refund, delete, disable 2FA, lock) leaves its `staff_action` on the
//! ticket, which waits, open, until staff say it is done (`!done N`,
//! `triaged done N`); only then does the procedure draft "it is done". A
//! step that answers the user leaves the ticket open with its draft
//! waiting until the Sent folder shows the reply: drafting is not
//! answering.

use super::{ActError, Actor, apply};
use crate::procedures::engine::{Event, Plan};
use crate::store::claims::DoneOutcome;
use crate::store::{Store, StoreError, Ticket, TicketId, TicketState};

/// Records the staff action of the step the plan enters, and clears what
/// staff were told about the step it leaves (its action, its note, why a
/// person had to look): `!show` and `status` must not tell staff to do
/// what is done.
pub(super) fn record(ticket: &mut Ticket, plan: &Plan) {
    if plan.step.is_none() {
        return;
    }
    if plan.staff_note.is_none() {
        ticket.notes.staff_note = None;
    }
    if plan.handoff.is_none() {
        ticket.notes.handoff = None;
    }
    ticket.notes.staff_action = plan.staff_action.clone();
}

/// The plan drafted a reply: a step that would leave the ticket answered or
/// closed leaves it open until the reply is seen in Sent.
pub(super) fn draft_waiting(ticket: &mut Ticket, plan: &Plan) {
    let Some(after) = TicketState::parse(&plan.state).filter(|s| matches!(s, TicketState::Answered | TicketState::Closed))
    else {
        return;
    };
    ticket.notes.draft_waiting = Some(after);
    if ticket.state != TicketState::Claimed {
        ticket.state = TicketState::New;
    }
}

/// A reply of ours was seen in Sent: the state the step meant, "answered"
/// when it meant none (staff wrote their own reply).
pub(super) fn answered(t: &mut Ticket) {
    if t.state == TicketState::Closed {
        return;
    }
    t.state = t.notes.draft_waiting.take().unwrap_or(TicketState::Answered);
}

/// The ticket's pending staff action, if it waits for one.
pub fn pending(t: &Ticket) -> Option<&str> {
    if t.state == TicketState::Closed {
        return None;
    }
    t.notes.staff_action.as_deref()
}

/// The state as staff read it in `status`, `show`, `!show` and `!queue`:
/// waiting for their action, or for a draft of ours that ends the ticket
/// to be sent, before the stored state. A step that leaves the ticket
/// new or waiting keeps it open whether its draft is sent or not, so that
/// draft is not followed and the stored state is shown.
pub fn shown_state(state: &str, staff_action: bool, draft_waiting: bool) -> &str {
    match (staff_action, draft_waiting) {
        (true, _) => "waiting for staff",
        (false, true) => "draft waiting",
        (false, false) => state,
    }
}

/// Whether an unsent draft of ours waits in Drafts.
pub fn waiting_draft(t: &Ticket) -> bool {
    t.state != TicketState::Closed && t.notes.draft_waiting.is_some()
}

/// How long after a staff action was recorded as done a `done` is taken
/// for the same action said twice (two people who both carried it out,
/// or one who said it twice) rather than an order to close: closing would
/// withdraw the reply the action just drafted.
pub const SAID_TWICE: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);

/// The history line of a staff action done: "alice did: refund the payment".
fn did(by: &str, action: &str) -> String {
    format!("{by} did: {action}")
}

/// A staff action recorded as done on ticket `id` less than [`SAID_TWICE`]
/// ago, as the refusal to close says it.
fn just_acted(store: &Store, id: TicketId, now: jiff::Timestamp) -> Result<Option<DoneOutcome>, StoreError> {
    let log = store.audit_log(id)?;
    let Some(last) = log.iter().rev().find(|e| e.event.contains(" did: ")) else { return Ok(None) };
    let Some((by, action)) = last.event.split_once(" did: ") else { return Ok(None) };
    let until = last.at + SAID_TWICE;
    Ok((now < until).then(|| DoneOutcome::JustActed { by: by.to_string(), action: action.to_string(), at: last.at, until }))
}

/// What `done N` came to, the same from the channel (`!done N`) and the
/// command line (`triaged done N`).
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    /// The ticket waits for its staff action and `by` may say it is done:
    /// [`Actor::staff_done`] carries the procedure on.
    StaffAction,
    /// Anything else: the ticket closed (`DoneOutcome::Done`), or why
    /// not (someone else holds it, whatever it waits for; closed already;
    /// no such ticket).
    Closing(DoneOutcome),
}

/// `done N` by `by`: a ticket waiting for its staff action goes on with its
/// procedure (left to [`Actor::staff_done`], which drafts "it is done");
/// any other ticket is closed here. Either is refused while someone else
/// holds the ticket, so two people never both think they finished it.
pub fn done(store: &Store, id: TicketId, by: &str, now: jiff::Timestamp) -> Result<Done, StoreError> {
    let ticket = store.ticket(id)?;
    if ticket.as_ref().and_then(pending).is_none() {
        if let Some(t) = ticket.as_ref().filter(|t| t.state != TicketState::Closed)
            && let Some(acted) = just_acted(store, t.id, now)?
        {
            return Ok(Done::Closing(acted));
        }
        return Ok(Done::Closing(store.done(id, by, now)?));
    }
    if let Some(c) = store.claim_of(id)?.filter(|c| !c.held_by(by)) {
        return Ok(Done::Closing(DoneOutcome::HeldBy(c)));
    }
    Ok(Done::StaffAction)
}

impl Actor {
    /// Staff (`by`) carried out the staff action of ticket `id`: the
    /// procedure goes on to the step's `on_done`, whose draft is planned for
    /// the folder workers. Refused when the ticket waits for no action (any
    /// more: a second `!done` sent before the first was applied), so a
    /// ticket is never closed by a `done` meant for its action.
    pub fn staff_done(&self, id: TicketId, by: &str) -> Result<Ticket, ActError> {
        let Some(mut ticket) = self.store.ticket(id)? else {
            return Err(ActError::Refused(format!("there is no ticket {id}")));
        };
        let Some(action) = pending(&ticket).map(str::to_string) else {
            return Err(ActError::Refused(format!(
                "{id} waits for no staff action (step {}): nothing recorded as done",
                ticket.step.as_deref().unwrap_or("-"),
            )));
        };
        let actions = self.step(&mut ticket, &Event::StaffDone { by: by.to_string() })?;
        let note = did(by, &action);
        let (t, _) = self.store.update_ticket(id, None, &note, None, |t| {
            apply(t, &ticket);
            actions.clone()
        })?;
        self.record_document(&t)?;
        self.wake_workers();
        self.deadlines_changed.notify_one();
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Intake, Uid};

    /// A store with ticket #1 open, waiting for no staff action.
    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let intake = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: 1 }, message_id: "m1@x".into() };
        let t = Ticket::new(s.next_ticket_id().unwrap(), &intake, "u@x", "s", "refund");
        s.open_ticket(&t, &intake, &[], None).unwrap();
        (dir, s)
    }

    #[test]
    fn a_second_done_soon_after_a_staff_action_is_that_action_said_twice_and_closes_nothing() {
        let (_d, s) = store();
        let id = TicketId(1);
        s.update_ticket(id, None, &did("alice", "refund the payment"), None, |_| Vec::new()).unwrap();
        let now = jiff::Timestamp::now();
        match done(&s, id, "bob", now).unwrap() {
            Done::Closing(DoneOutcome::JustActed { by, action, until, .. }) => {
                assert_eq!((by.as_str(), action.as_str()), ("alice", "refund the payment"));
                assert!(until > now && until <= now + SAID_TWICE);
            }
            other => panic!("{other:?}"),
        }
        assert_ne!(s.ticket(id).unwrap().unwrap().state, TicketState::Closed);
        // Said again once the while has passed, it is an order to close.
        let later = now + SAID_TWICE + jiff::SignedDuration::from_secs(1);
        assert!(matches!(done(&s, id, "bob", later).unwrap(), Done::Closing(DoneOutcome::Done(_))));
        assert_eq!(s.ticket(id).unwrap().unwrap().state, TicketState::Closed);
    }

    #[test]
    fn done_on_a_ticket_no_staff_action_touched_closes_it() {
        let (_d, s) = store();
        assert!(matches!(done(&s, TicketId(1), "bob", jiff::Timestamp::now()).unwrap(), Done::Closing(DoneOutcome::Done(_))));
    }
}
