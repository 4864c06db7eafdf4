//! Identity factors that could not be checked now (`none (temporary)`:
//! a DNS timeout, a key server down) are checked again later, never turned
//! into `fail`. The message is kept in the store meanwhile; a ticket
//! deadline named [`REVERIFY`] brings it back every few minutes, for an
//! hour at most. When the check settles, staff are told, and a ticket that
//! was waiting for identity moves on by its step's own routes; never as if
//! the user had answered (the re-check of a deletion request is no reply
//! to the self-service mail).


use super::{ActError, Actor, apply};
use crate::verify::conversation::Binding;
use crate::staff::{Notice, lines};
use crate::procedures::engine::Event;
use crate::message::Message;
use crate::store::{Deadline, Ticket, TicketId};
use crate::verify::Report;

/// The deadline name; procedure deadlines never use the `triaged:` prefix.
pub const REVERIFY: &str = "triaged:reverify";
const EVERY: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);
const TRIES: u64 = 12;

impl Actor {
    /// After a check with temporary gaps: keep the message and arm the
    /// retry on the (not yet stored) ticket.
    pub(super) fn schedule_reverify(&self, ticket: &mut Ticket, msg: &Message, report: &Report) -> Result<(), ActError> {
        if !report.temporary {
            return Ok(());
        }
        self.store.keep_for_reverify(ticket.id, msg.raw())?;
        arm(ticket, self.now());
        Ok(())
    }

    /// The retry deadline fired: check the kept message again.
    pub(super) async fn reverify(&self, id: TicketId) -> Result<(), ActError> {
        let Some(mut ticket) = self.store.ticket(id)? else { return Ok(()) };
        ticket.deadlines.retain(|d| d.name != REVERIFY);
        let Some(raw) = self.store.reverify_message(id)? else {
            self.store.update_ticket(id, None, "identity re-check: nothing kept", None, |t| {
                t.deadlines.retain(|d| d.name != REVERIFY);
                Vec::new()
            })?;
            return Ok(());
        };
        let Ok(msg) = Message::parse(raw) else {
            self.store.forget_reverify(id)?;
            return Ok(());
        };
        let arrival = self.verifier.arrival(&msg).await;
        let report = self.check_in(&ticket, &arrival).await;
        let _moving = self.moving();
        let mut ticket = self.as_stored(ticket)?;
        ticket.deadlines.retain(|d| d.name != REVERIFY);
        let policy = self.policy(&ticket);
        let was_verified = ticket.identity.verdict(policy).verified;
        // The message keeps the link to the ticket it was judged by; only
        // its factors are checked again.
        let binding = ticket
            .identity
            .messages
            .iter()
            .find(|e| e.message_id == msg.message_id)
            .map(|e| e.binding)
            .unwrap_or(Binding::Unsigned);
        ticket.identity.record(&report, &msg.message_id, binding);
        let now_verified = ticket.identity.verdict(policy).verified;
        // For `status` and `!show`, whether or not the ticket moves.
        ticket.notes.identity_summary = Some(ticket.identity.summary(policy));
        let tries = ticket.notes.reverify_tries.unwrap_or(0) + 1;
        ticket.notes.reverify_tries = Some(tries);
        // Once the sender is verified, what is still unreachable no longer
        // matters.
        let again = report.temporary && !now_verified && tries < TRIES;
        if again {
            arm(&mut ticket, self.now());
        } else {
            self.store.forget_reverify(id)?;
        }
        // Identity newly established while the ticket waits for it: the
        // step's own routes move it on (they read `verified`). Nobody
        // answered, so a step that waits for words stays where it is.
        let settled = now_verified && !was_verified && ticket.step.is_some();
        let moves = if settled { self.plan(&mut ticket, &Event::IdentitySettled) } else { None };
        let actions = match moves.filter(|p| p.step.is_some()) {
            Some(plan) => {
                self.record_plan(&mut ticket, &plan);
                self.render(&mut ticket, &plan)?
            }
            None => Vec::new(),
        };
        let summary = report.summary();
        let outcome = if again {
            "still partly unreachable; trying again in 5 minutes".to_string()
        } else if report.temporary {
            format!("still partly unreachable after {tries} tries; check by hand")
        } else {
            "settled".to_string()
        };
        // Queued with the change and held until its draft is appended, as
        // every ticket notice is.
        let notice = self.notifier.outgoing(&Notice::Rechecked {
            ticket: id,
            outcome,
            identity: lines::identity(&ticket.identity.verdict(policy)),
            latest: report.factor_words().join(", "),
            step: (!actions.is_empty()).then(|| ticket.step.clone().unwrap_or_else(|| "-".into())),
        });
        self.store.update_ticket(id, None, &format!("identity re-checked ({tries}): {summary}"), notice.as_ref(), |t| {
            apply(t, &ticket);
            actions.clone()
        })?;
        Ok(())
    }
}

fn arm(ticket: &mut Ticket, now: jiff::Timestamp) {
    ticket.deadlines.retain(|d| d.name != REVERIFY);
    ticket.deadlines.push(Deadline {
        name: REVERIFY.into(),
        due: now + EVERY,
    });
}
