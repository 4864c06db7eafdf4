//! What staff must do, and what was sent. A step whose outcome staff carry
//! out (refund, delete, disable 2FA, lock) leaves its `staff_action` on the
//! ticket, which waits, open, until staff say it is done (`!done N`,
//! `triaged done N`); only then does the procedure draft "it is done". A
//! step that answers the user leaves the ticket open with its draft
//! waiting until the Sent folder shows the reply: drafting is not
//! answering.

use super::{ActError, Actor, apply};
use crate::procedures::engine::{ActionChange, Event, Plan};
use crate::store::claims::DoneOutcome;
use crate::store::{Store, StoreError, Ticket, TicketId, TicketState};

/// Records the staff action of the step the plan enters, and clears what
/// staff were told about the step it leaves (its action, its note, why a
/// person had to look): `!show` and `status` must not tell staff to do
/// what is done.
pub(super) fn record(ticket: &mut Ticket, plan: &Plan) {
    match plan.action_change {
        Some(change @ (ActionChange::Withdrawn | ActionChange::PutOff)) => {
            // Staff may have carried it out before the user's words came:
            // they owe the answer which (`done`, `notdone`), kept until
            // given. Taken back twice, it is the same action; taken back
            // once, it stays taken back whatever is said after.
            // On hold (put off, not carried out), taken back for good: asked
            // again, so that `notdone` closes it and documents its number.
            let put_off = change == ActionChange::PutOff;
            let on_hold = if put_off { None } else { ticket.notes.on_hold_action.take() };
            if let Some(action) = ticket.notes.staff_action.take().or(on_hold) {
                ticket.notes.withdrawn_action = Some(action);
                ticket.notes.withdrawn_put_off = put_off.then_some(true);
            } else if ticket.notes.withdrawn_action.is_some() {
                if !put_off {
                    ticket.notes.withdrawn_put_off = None;
                }
            } else if ticket.notes.handoff.is_some() {
                // Answered already (`notdone`): the reason must not offer
                // the answers again, which would be refused or only close.
                ticket.notes.handoff = Some(answered_already(ticket, put_off));
            }
            // The step's note tells staff to carry the action out, and its
            // deadlines would move a withdrawn request on by themselves;
            // triaged's own timers (identity re-checks) stay.
            ticket.notes.staff_note = None;
            ticket.deadlines.retain(|d| d.name.starts_with("triaged:"));
        }
        // Confirmed again: the action stands.
        Some(ActionChange::Reinstated) => {
            ticket.notes.staff_action = plan.staff_action.clone();
            ticket.notes.settle_take_back();
        }
        None => {}
    }
    if plan.step.is_none() {
        return;
    }
    if plan.staff_note.is_none() {
        ticket.notes.staff_note = None;
    }
    if plan.handoff.is_none() {
        ticket.notes.settle_handoff();
    }
    ticket.notes.staff_action = plan.staff_action.clone();
    ticket.notes.settle_take_back();
}

/// Why a person reads a reply that takes back (or puts off, `put_off`) an
/// action no longer asked of staff (answered not carried out, `notdone`):
/// no answer is owed.
fn answered_already(ticket: &Ticket, put_off: bool) -> String {
    match &ticket.notes.on_hold_action {
        Some(action) if put_off => format!(
            "the user puts the request off again (a deferral): {action} stays on hold, not carried out, until they confirm again (a plain confirmation puts it back); to close it, !notdone {}",
            ticket.id.0
        ),
        _ => format!(
            "a reply ({}) at a step whose action was taken back already and answered not carried out: no answer is owed; a person reads the reply, and !done {} closes the ticket",
            if put_off { "deferral" } else { "decline" },
            ticket.id.0
        ),
    }
}

/// The plan drafted a reply: it waits in Drafts until the Sent folder
/// shows it, and staff are told so. A step that would leave the ticket
/// answered or closed leaves it open meanwhile; a step that waits for the
/// user (an identity request) keeps its state, but nobody was asked
/// anything yet: "waiting" alone would read as the user's turn.
pub(super) fn draft_waiting(ticket: &mut Ticket, plan: &Plan) {
    let Some(after) = TicketState::parse(&plan.state)
        .filter(|s| matches!(s, TicketState::Waiting | TicketState::Answered | TicketState::Closed))
    else {
        return;
    };
    ticket.notes.draft_waiting = Some(after);
    if after != TicketState::Waiting && ticket.state != TicketState::Claimed {
        ticket.state = TicketState::New;
    }
}

/// The user wrote again while a draft of ours waits unsent, and nothing
/// new was drafted for their words: that draft answers what came before
/// them, so once it is sent the ticket stays open for them (waiting when
/// the procedure waits for the user, else new), never "answered".
pub(super) fn words_after_the_draft(ticket: &mut Ticket, actions: &[crate::store::Action]) {
    let drafted = actions.iter().any(|a| matches!(a, crate::store::Action::AppendDraft { .. }));
    if drafted || ticket.notes.draft_waiting.is_none() || ticket.state == TicketState::Closed {
        return;
    }
    let open = if ticket.state == TicketState::Waiting { TicketState::Waiting } else { TicketState::New };
    ticket.notes.draft_waiting = Some(open);
}

/// A reply of ours was seen in Sent: the state the step meant, "answered"
/// when it meant none (staff wrote their own reply). A step that leaves
/// the ticket open leaves a claim in place, as [`super::Actor`] does when
/// it plans one. The user's words after our draft keep the ticket open
/// when that draft goes as drafted; staff writing their own reply
/// answered them.
pub(super) fn answered(t: &mut Ticket, as_drafted: bool) {
    if t.state == TicketState::Closed {
        return;
    }
    match t.notes.draft_waiting.take() {
        Some(TicketState::New) if !as_drafted => t.state = TicketState::Answered,
        Some(TicketState::Waiting | TicketState::New) if t.state == TicketState::Claimed => {}
        Some(after) => t.state = after,
        None => t.state = TicketState::Answered,
    }
}

/// Staff answered the user from their mail client: the person has looked,
/// so "needs a person" goes, if they wrote after it was recorded (the
/// reply's Date; without one, when it was written is unknown and the note
/// stays). A draft of ours sent word for word does not clear it, even one
/// sent after: a support person who sends the mail triaged drafted before
/// the user's reply has answered what came before those words, not them
/// (as [`words_after_the_draft`] keeps the ticket open for them), and
/// expects the reply still to be shown as waiting. A note recorded before
/// triaged kept the time goes with any reply of their own. A Date later
/// than `now` (past a few minutes' drift) is a wrong clock: when the reply
/// was written is unknown then, as without a Date.
pub(super) fn looked(t: &mut Ticket, as_drafted: bool, sent_at: Option<jiff::Timestamp>, now: jiff::Timestamp) {
    let drift = jiff::SignedDuration::from_mins(15);
    let Some(sent_at) = sent_at.filter(|at| !as_drafted && *at <= now + drift) else {
        return;
    };
    if t.notes.handoff_at.is_none_or(|at| sent_at >= at) {
        t.notes.settle_handoff();
    }
}

/// The ticket's pending staff action, if it waits for one.
pub fn pending(t: &Ticket) -> Option<&str> {
    if t.state == TicketState::Closed {
        return None;
    }
    t.notes.staff_action.as_deref()
}

/// The staff action the user took back (or put off) before staff said it
/// was done, while staff owe the answer whether they had carried it out.
pub fn withdrawn(t: &Ticket) -> Option<&str> {
    if t.state == TicketState::Closed {
        return None;
    }
    t.notes.withdrawn_action.as_deref()
}

/// The action the user put off and staff said was not carried out
/// (`notdone`): on hold until the user confirms again.
pub fn on_hold(t: &Ticket) -> Option<&str> {
    if t.state == TicketState::Closed {
        return None;
    }
    t.notes.on_hold_action.as_deref()
}

/// The state as staff read it in `status`, `show`, `!show` and `!queue`:
/// waiting for their action, or for a draft of ours to be sent, before
/// the stored state.
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

/// The refusal to close ticket `t` at `wall` (the wall clock: people say
/// `done` twice in minutes of real time, whatever a rehearsal's clock
/// says): its staff action was recorded as done less than [`SAID_TWICE`]
/// ago, it is still at the step that led to, and the reply that step
/// drafted waits unsent. Read from the ticket's own record of it, never
/// from history text a sender's words may be part of.
fn just_acted(t: &Ticket, wall: jiff::Timestamp) -> Option<DoneOutcome> {
    let acted = t.notes.acted.as_ref()?;
    let until = acted.at + SAID_TWICE;
    (waiting_draft(t) && acted.step == t.step && wall < until).then(|| DoneOutcome::JustActed {
        by: acted.by.clone(),
        action: acted.action.clone(),
        at: acted.at,
        until,
        taken_back: acted.taken_back_at.is_some(),
    })
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
    /// The action the user put off, which staff said was not carried out
    /// (on hold): not closed, which would leave its number undocumented;
    /// `notdone` closes it.
    OnHold(String),
}

/// `done N` by `by`: a ticket waiting for its staff action goes on with its
/// procedure (left to [`Actor::staff_done`], which drafts "it is done");
/// any other ticket is closed here. Either is refused while someone else
/// holds the ticket, so two people never both think they finished it.
pub fn done(store: &Store, id: TicketId, by: &str, now: jiff::Timestamp) -> Result<Done, StoreError> {
    let ticket = store.ticket(id)?;
    // Taken back after staff were asked to act, `done` says it was carried
    // out all the same: the record of what was done must not be lost.
    let owed = ticket.as_ref().is_some_and(|t| pending(t).is_some() || withdrawn(t).is_some());
    if let Some(action) = ticket.as_ref().filter(|_| !owed).and_then(on_hold) {
        return Ok(Done::OnHold(action.to_string()));
    }
    if !owed {
        if let Some(acted) = ticket.as_ref().and_then(|t| just_acted(t, jiff::Timestamp::now())) {
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
        let _moving = self.moving();
        let Some(mut ticket) = self.store.ticket(id)? else {
            return Err(ActError::Refused(format!("there is no ticket {id}")));
        };
        let Some(action) = pending(&ticket).or_else(|| withdrawn(&ticket)).map(str::to_string) else {
            return Err(ActError::Refused(format!(
                "{id} waits for no staff action (step {}): nothing recorded as done",
                ticket.step.as_deref().unwrap_or("-"),
            )));
        };
        // Taken back (not put off: that stays the user's to confirm), the
        // step it was done at, for a `notdone` that says otherwise.
        let taken_back = pending(&ticket).is_none() && ticket.notes.withdrawn_put_off != Some(true);
        let taken_back_at = taken_back.then(|| ticket.step.clone()).flatten();
        let actions = self.step(&mut ticket, &Event::StaffDone { by: by.to_string() })?;
        ticket.notes.acted = Some(crate::store::Acted {
            by: by.to_string(),
            action: action.clone(),
            at: jiff::Timestamp::now(),
            step: ticket.step.clone(),
            taken_back_at,
        });
        let note = match pending(&ticket) {
            Some(_) => format!("{by} did: {action}"),
            None => format!("{by} did: {action} (carried out before the user took the request back)"),
        };
        let (t, _) = self.store.update_ticket(id, None, &note, None, |t| {
            apply(t, &ticket);
            actions.clone()
        })?;
        self.record_document(&t)?;
        self.wake_workers();
        self.deadlines_changed.notify_one();
        Ok(t)
    }

    /// Staff (`by`) say they had not carried out the action the user took
    /// back (`notdone N`): ticket `id` closes with nothing drafted, its
    /// drafts of ours still waiting are withdrawn, and a number its step
    /// allocated is documented as not used, so the series' table stays
    /// without gaps. Said after a `done` of an action taken back, while the
    /// reply that done drafted waits unsent, it undoes it: back at the
    /// step it was taken back at, closed, that reply withdrawn, the
    /// number's row rewritten as not used. Refused unless an action was
    /// taken back and no answer given yet (or that undo), and while
    /// someone else holds the ticket.
    pub fn not_done(&self, id: TicketId, by: &str) -> Result<NotDone, ActError> {
        let _moving = self.moving();
        let Some(ticket) = self.store.ticket(id)? else {
            return Err(ActError::Refused(format!("there is no ticket {id}")));
        };
        // `done` said, by mistake, of an action taken back: still at the
        // step it led to, its reply unsent, it may be said not done.
        let undo = ticket.notes.acted.clone().filter(|a| a.taken_back_at.is_some() && a.step == ticket.step && waiting_draft(&ticket));
        // On hold, said not done again: given up, it closes as a take-back.
        let answer = withdrawn(&ticket).or(undo.as_ref().map(|a| a.action.as_str())).or(on_hold(&ticket));
        let Some(action) = answer.map(str::to_string) else {
            return Err(ActError::Refused(match pending(&ticket) {
                _ if ticket.state == TicketState::Closed => format!("{id} is already closed"),
                Some(action) => format!("{id} still waits for staff to {action}: nobody took it back; once it is done, done {}", id.0),
                None => format!("{id} has no staff action the user took back: nothing to answer; to close it, done {}", id.0),
            }));
        };
        if let Some(c) = self.store.claim_of(id)?.filter(|c| !c.held_by(by)) {
            return Err(ActError::Refused(format!("{id} is held by {}; ask them, or release {} first", c.nick, id.0)));
        }
        // Put off, not taken back: the user still wants it, once they
        // confirm again; nothing closes and the number stays theirs.
        if ticket.notes.withdrawn_put_off == Some(true) {
            let note = format!("{by}: not done: {action}; on hold until the user confirms again");
            let why = format!(
                "the user put the request off, and {by} said {action} was not carried out: on hold until they confirm again (a plain confirmation puts it back; a take-back asks again whether it was carried out); to close it, !notdone {}",
                id.0
            );
            let (ticket, _) = self.store.update_ticket(id, None, &note, None, |t| {
                t.notes.on_hold_action = t.notes.withdrawn_action.take();
                t.notes.withdrawn_put_off = None;
                // The reason asked for this answer: given, it must not
                // offer `done` as "it goes on as done" any more.
                if t.notes.handoff.is_some() {
                    t.notes.handoff = Some(why.clone());
                }
                Vec::new()
            })?;
            return Ok(NotDone { ticket, action, unused: None, withdrawn: 0, on_hold: true, undone: None });
        }
        // The number first: a crash before the close leaves the answer
        // to give again, never a number unaccounted for.
        let row = ticket.notes.number.clone().and_then(|n| Some((self.document_unused(&ticket, &n)?, n)));
        if let Some((row, n)) = &row {
            self.store.record_document(&n.series, n.number, row)?;
        }
        let unused = row.map(|(_, n)| n);
        match self.store.done(id, by, self.now())? {
            DoneOutcome::Done(_) => {}
            DoneOutcome::AlreadyClosed => return Err(ActError::Refused(format!("{id} is already closed"))),
            DoneOutcome::NoSuchTicket => return Err(ActError::Refused(format!("there is no ticket {id}"))),
            DoneOutcome::HeldBy(c) => return Err(ActError::Refused(format!("{id} is held by {}", c.nick))),
            DoneOutcome::JustActed { by, .. } => return Err(ActError::Refused(format!("{id}: {by} just recorded its staff action as done"))),
        }
        let mut note = format!("{by}: not done: {action}");
        if let Some(a) = &undo {
            note.push_str(&format!(" (the done {} recorded is undone)", a.by));
        }
        if let Some(n) = &unused {
            note.push_str(&format!("; {n} documented as not used"));
        }
        let mailbox = self.drafts_mailbox.clone();
        let (ticket, planned) = self.store.update_ticket(id, None, &note, None, |t| {
            t.notes.settle_take_back();
            if let Some(a) = &undo {
                // Back at the step it was taken back at, as if never done:
                // nothing of the step `done` led to stays to be acted on.
                t.step = a.taken_back_at.clone();
                t.notes.acted = None;
                t.notes.document = None;
                t.notes.staff_note = None;
                t.deadlines.retain(|d| d.name.starts_with("triaged:"));
            }
            super::withdraw::superseded(t, &mailbox)
        })?;
        if !planned.is_empty() {
            self.wake_workers();
        }
        let undone = undo.map(|a| a.by);
        Ok(NotDone { ticket, action, unused, withdrawn: planned.len(), on_hold: false, undone })
    }

    /// The documentation row of number `n`, allocated to `ticket` and not
    /// used: the columns the procedure documents its cases with, the
    /// ticket and the number in theirs, "not used" in the others. `None`
    /// when the procedure documents nothing.
    fn document_unused(&self, ticket: &Ticket, n: &crate::store::CaseNumber) -> Option<serde_json::Map<String, serde_json::Value>> {
        let procedure = self.pack.procedure(&ticket.procedure)?;
        let columns = procedure.steps.iter().map(|s| &s.document).find(|d| !d.is_empty())?;
        let key = procedure.steps.iter().filter_map(|s| s.allocate.as_ref()).find(|a| a.series == n.series).map(|a| a.key.as_str());
        let cell = |c: &String| match c.as_str() {
            "ticket" => serde_json::Value::from(ticket.id.0),
            c if Some(c) == key => serde_json::Value::from(n.to_string()),
            _ => serde_json::Value::from(NOT_USED),
        };
        Some(columns.iter().map(|c| (c.clone(), cell(c))).collect())
    }
}

/// What a number's documentation row says in its other columns when the
/// action it was allocated for was taken back and not carried out.
pub const NOT_USED: &str = "not used: taken back, not carried out";

/// What `notdone N` came to.
#[derive(Debug, Clone)]
pub struct NotDone {
    pub ticket: Ticket,
    /// The action not carried out.
    pub action: String,
    /// The number documented as not used.
    pub unused: Option<crate::store::CaseNumber>,
    /// Drafts of ours withdrawn from Drafts.
    pub withdrawn: usize,
    /// Put off, not taken back: the ticket stays open, on hold until the
    /// user confirms again.
    pub on_hold: bool,
    /// Who had recorded it as done (`done` after the take-back), undone.
    pub undone: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Acted;
    use crate::store::{Intake, Uid};

    /// Taken back while staff are asked to act: the action, its note and
    /// the step's deadlines go; what a person must read and triaged's own
    /// timers stay.
    #[test]
    fn a_withdrawn_action_leaves_nothing_that_moves_the_request_on() {
        let intake = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: 1 }, message_id: "m1@x".into() };
        let mut t = Ticket::new(crate::store::TicketId(1), &intake, "u@x", "s", "refund");
        t.step = Some("refund".into());
        t.notes.staff_action = Some("refund the payment".into());
        t.notes.staff_note = Some("Staff: refund the payment".into());
        let due = jiff::Timestamp::now();
        t.deadlines = vec![
            crate::store::Deadline { name: "escalate".into(), due },
            crate::store::Deadline { name: super::super::reverify::REVERIFY.into(), due },
        ];
        let plan = Plan {
            step: None,
            path: Vec::new(),
            template: None,
            staff_note: None,
            staff_action: None,
            queue: None,
            context: serde_json::Value::Null,
            state: "new".into(),
            deadlines: Vec::new(),
            data: serde_json::Map::new(),
            number: None,
            document: None,
            handoff: Some("the user takes the request back".into()),
            action_change: Some(ActionChange::Withdrawn),
        };
        t.notes.handoff = plan.handoff.clone();
        record(&mut t, &plan);
        assert_eq!((t.notes.staff_action.as_deref(), t.notes.staff_note.as_deref()), (None, None));
        assert_eq!(t.deadlines.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), [super::super::reverify::REVERIFY]);
        assert!(pending(&t).is_none());
        assert_eq!(withdrawn(&t), Some("refund the payment"), "staff owe the answer whether it was done");
        assert_eq!(t.notes.handoff, plan.handoff, "a person still reads the reply");

        // Any other reply that stays leaves the action as it is; a
        // confirmation puts the withdrawn one back.
        record(&mut t, &Plan { action_change: None, ..plan.clone() });
        assert_eq!(pending(&t), None);
        let again = Plan { action_change: Some(ActionChange::Reinstated), staff_action: Some("refund the payment".into()), ..plan };
        record(&mut t, &again);
        assert_eq!(pending(&t), Some("refund the payment"));
        assert_eq!(withdrawn(&t), None);
    }

    /// Taken back, `done` still says the action was carried out (the
    /// procedure goes on), never a bare close that would lose the record
    /// of it; someone else's claim stops it as it stops any `done`.
    #[test]
    fn done_after_a_take_back_is_the_action_carried_out() {
        let (_d, s) = store(None);
        s.update_ticket(TicketId(1), None, "taken back", None, |t| {
            t.notes.withdrawn_action = Some("refund the payment".into());
            Vec::new()
        })
        .unwrap();
        assert_eq!(done(&s, TicketId(1), "bob", jiff::Timestamp::now()).unwrap(), Done::StaffAction);
        s.claim(TicketId(1), "alice", jiff::Timestamp::now()).unwrap();
        assert!(matches!(done(&s, TicketId(1), "bob", jiff::Timestamp::now()).unwrap(), Done::Closing(DoneOutcome::HeldBy(_))));
        assert_ne!(s.ticket(TicketId(1)).unwrap().unwrap().state, TicketState::Closed);
    }

    /// "Needs a person" goes with a reply staff wrote after it was
    /// recorded; not with one written before, one without a Date or dated
    /// in the future (a wrong clock), or a draft of ours sent word for
    /// word.
    #[test]
    fn only_staff_writing_after_the_handoff_settle_it() {
        let intake = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: 1 }, message_id: "m1@x".into() };
        let at: jiff::Timestamp = "2027-01-10T09:00:00Z".parse().unwrap();
        let ticket = || {
            let mut t = Ticket::new(crate::store::TicketId(1), &intake, "u@x", "s", "account-deletion");
            t.notes.hand_off("a reply (other) a person decides".into(), at);
            t
        };
        let later = Some(at + jiff::SignedDuration::from_hours(1));
        let before = Some(at - jiff::SignedDuration::from_hours(1));
        let now = at + jiff::SignedDuration::from_hours(2);
        let tomorrow = Some(now + jiff::SignedDuration::from_hours(24));
        for (as_drafted, sent_at, settled) in [(false, later, true), (false, before, false), (false, None, false), (true, later, false), (false, tomorrow, false)] {
            let mut t = ticket();
            looked(&mut t, as_drafted, sent_at, now);
            assert_eq!(t.notes.handoff.is_none(), settled, "as drafted {as_drafted}, sent {sent_at:?}");
            assert_eq!(t.notes.handoff_at.is_none(), settled);
        }
    }

    /// A store with ticket #1 open at step `executed`, waiting for no staff
    /// action, its reply unsent, and `acted` as its record.
    fn store(acted: Option<Acted>) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let intake = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: 1 }, message_id: "m1 did: x@example.net".into() };
        let mut t = Ticket::new(s.next_ticket_id().unwrap(), &intake, "u@x", "s", "refund");
        t.step = Some("executed".into());
        t.notes.draft_waiting = Some(TicketState::Answered);
        t.notes.acted = acted;
        s.open_ticket(&t, &intake, &[], None).unwrap();
        (dir, s)
    }

    fn acted(ago_mins: i64, step: &str) -> Option<Acted> {
        Some(Acted {
            by: "alice".into(),
            action: "refund the payment".into(),
            at: jiff::Timestamp::now() - jiff::SignedDuration::from_mins(ago_mins),
            step: Some(step.into()),
            taken_back_at: None,
        })
    }

    fn closes(s: &Store) -> bool {
        matches!(done(s, TicketId(1), "bob", jiff::Timestamp::now()).unwrap(), Done::Closing(DoneOutcome::Done(_)))
    }

    #[test]
    fn a_second_done_soon_after_a_staff_action_is_that_action_said_twice_and_closes_nothing() {
        let (_d, s) = store(acted(2, "executed"));
        match done(&s, TicketId(1), "bob", jiff::Timestamp::now()).unwrap() {
            Done::Closing(DoneOutcome::JustActed { by, action, at, until, .. }) => {
                assert_eq!((by.as_str(), action.as_str()), ("alice", "refund the payment"));
                assert_eq!(until, at + SAID_TWICE);
            }
            other => panic!("{other:?}"),
        }
        assert_ne!(s.ticket(TicketId(1)).unwrap().unwrap().state, TicketState::Closed);
    }

    #[test]
    fn done_closes_once_the_while_has_passed_the_ticket_moved_on_or_the_reply_went() {
        // Said again after a quarter of an hour: an order to close.
        let (_d, s) = store(acted(16, "executed"));
        assert!(closes(&s));
        // The ticket moved on since (a reply, a reclassify).
        let (_d, s) = store(acted(2, "initial"));
        assert!(closes(&s));
        // The reply the action drafted was sent: nothing to withdraw.
        let (_d, s) = store(acted(2, "executed"));
        s.update_ticket(TicketId(1), None, "answered", None, |t| {
            t.notes.draft_waiting = None;
            Vec::new()
        })
        .unwrap();
        assert!(closes(&s));
    }

    #[test]
    fn a_senders_words_in_the_history_are_no_staff_action() {
        // The Message-ID "m1 did: x@example.net" is in the history line of
        // the ticket's opening; no staff action was recorded.
        let (_d, s) = store(None);
        assert!(closes(&s));
    }
}
