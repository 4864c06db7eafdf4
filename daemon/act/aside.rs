//! Mail set aside before classification (`classify::aside`): recorded as a
//! closed ticket of no procedure, with the reason, so `status` counts it and
//! staff can pull it back with `reclassify`; no draft, no notice. An
//! automatic answer (bounce, auto-reply) on an existing ticket is recorded
//! on it and changes nothing: answering it would start a mail loop.

use super::draft::reply_target;
use super::{ActError, Actor};
use crate::classify::aside::{Aside, SET_ASIDE};
use crate::classify::sensitive;
use crate::message::{Message, sanitize_line};
use crate::store::{Action, Commit, Intake, Ticket, TicketNotes, TicketState};

impl Actor {
    /// A new message that is not a request.
    pub(super) fn open_set_aside(
        &self,
        intake: &Intake,
        msg: &Message,
        aside: &Aside,
        commit: Commit,
    ) -> Result<(Ticket, Vec<(u64, Action)>), ActError> {
        let id = self.store.next_ticket_id()?;
        let subject = sensitive::redact(&msg.subject_line(200));
        let mut ticket = Ticket::new(id, intake, &msg.from[0].display(), &subject, SET_ASIDE);
        ticket.sender_email = msg.single_from().map(|a| a.email.clone()).unwrap_or_default();
        // Replies join it from this address only; no account is looked up
        // for mail nobody answers, so nothing it says can verify anyone.
        ticket.identity.address = crate::verify::accounts::normalize_address(&ticket.sender_email).unwrap_or_default();
        ticket.reply_to = Some(reply_target(msg));
        ticket.state = TicketState::Closed;
        // What a procedure needs if staff pull the ticket back: the same
        // facts a new ticket starts with, except the identity check, which
        // is not run on mail nobody answers (a reply's proofs still count).
        let sender = msg.reply_recipient();
        ticket.notes = TicketNotes {
            sender_name: Some(sender.name.as_deref().map(sanitize_line).unwrap_or_default()),
            sender_email: Some(sender.email.clone()),
            set_aside: Some(aside.clone()),
            ..self.request_notes(subject, self.pack.classify(msg), &sensitive::scan(&msg.text))
        };
        let (t, planned) = self.store.open_ticket_with(&ticket, intake, &[], None, None, commit)?;
        tracing::info!(ticket = t.id.0, kind = aside.kind.as_str(), reason = %aside.reason, "set aside: no draft, no notice");
        Ok((t, planned))
    }

    /// A bounce or auto-reply from the sender of an open ticket: kept in
    /// the ticket's history; the ticket neither advances nor gets a draft.
    pub(super) fn automatic_answer(
        &self,
        ticket: &Ticket,
        intake: &Intake,
        msg: &Message,
        aside: &Aside,
    ) -> Result<(Ticket, Vec<(u64, Action)>), ActError> {
        let note = format!(
            "{} {} ignored ({}): no draft, the ticket stays at {}",
            aside.kind.as_str(),
            msg.message_id,
            aside.reason,
            ticket.step.as_deref().unwrap_or("its step")
        );
        tracing::info!(ticket = ticket.id.0, kind = aside.kind.as_str(), "automatic answer on a ticket: no draft");
        Ok(self.store.update_ticket(ticket.id, Some(intake), &note, None, |_| Vec::new())?)
    }
}
