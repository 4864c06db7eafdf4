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
    if store.ticket(id)?.as_ref().and_then(pending).is_none() {
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
        let note = format!("{by} did: {action}");
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
