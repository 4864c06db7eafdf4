//! Identity factors that could not be checked now (`none (temporary)`:
//! a DNS timeout, a key server down) are checked again later, never turned
//! into `fail`. The message is kept in the store meanwhile (a ticket keeps
//! [`KEPT_PER_TICKET`] of them), when it carries something a re-check
//! could find valid (`Actor::worth_a_recheck`); a ticket deadline named
//! [`REVERIFY`] brings them back every few minutes, oldest first, each for
//! an hour at most. Each try is written in the ticket's history; the
//! channel hears of one only when what staff were told changes, or when it
//! gives up.
//!
//! What a re-check does depends on what became of the message when it
//! came. A reply that was held for want of proof is judged again as a
//! reply arriving now would be, against the ticket as it is now: once
//! proven, it is handled as the reply it is (its words move the
//! procedure, the draft follows, staff are told it was re-checked), once.
//! Any other message (the request, or a reply that moved the ticket then)
//! has only its evidence checked again: staff are told, and a ticket that
//! was waiting for identity moves on by its step's own routes; never as
//! if the user had answered (the re-check of a deletion request is no
//! reply to the self-service mail).

use super::{ActError, Actor, JoinedBy, Party, apply, binding};
use crate::message::Message;
use crate::procedures::engine::Event;
use crate::staff::{Notice, lines};
use crate::store::{Deadline, KEPT_PER_TICKET, Kept, KeptEntry, Settled, Ticket, TicketId};
use crate::verify::conversation::Binding;
use crate::verify::{Report, dkim, pgp, policy, ssh};

/// The deadline name; procedure deadlines never use the `triaged:` prefix.
pub const REVERIFY: &str = "triaged:reverify";
const EVERY: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);
const TRIES: u64 = 12;

/// Added to why a reply is held when some of its checks could not run.
pub const HELD_UNTIL: &str = "; checks that could not run are tried again every 5 minutes for an hour, and a reply they prove is handled then";
/// Added instead when it carries nothing those checks could pass (and,
/// without its "; ", to a new request's identity line then).
pub const NOT_KEPT: &str = "; some checks could not run, but it carries no signature they could find valid: not checked again";
/// Added to the history line of a reply a re-check released.
pub const RELEASED: &str = ", held until a re-check proved it";

impl Actor {
    /// Whether checking `msg` again could change what it proves on
    /// `ticket`: some check could not run, and the message carries what a
    /// factor of its own would pass on (see `verify::conversation`: only
    /// those make a message count; DNS and web challenges add up inside
    /// one that counts). A message with none of them is judged as it is,
    /// once: in an outage every mail in a sender's name has checks that
    /// could not run, forged or not, and keeping those would let anyone
    /// push a genuine one out of the few a ticket keeps.
    pub(super) fn worth_a_recheck(&self, ticket: &Ticket, msg: &Message, report: &Report) -> bool {
        let f = &report.factors;
        let billing = self.pack.procedure(&ticket.procedure).is_some_and(|p| p.billing);
        report.temporary
            && ([&f.dkim, &f.pgp, &f.ssh, &f.billing_last4].iter().any(|f| f.passed())
                || (f.dkim.temporary && dkim::claims_from_domain(msg))
                || (f.pgp.temporary && pgp::is_signed(msg))
                || (f.ssh.temporary && ssh::is_signed(msg))
                // Only without the directory: the card digits are read
                // against the account once it answers. A reply that gives
                // none (or several) passes no re-check, as an unsigned one.
                || (f.billing_last4.temporary && billing && policy::gives_card_digits(&msg.text)))
    }

    /// After a check with temporary gaps that a re-check could settle
    /// (`worth_a_recheck`): keep the message (with how a reply joined its
    /// ticket, whose it is, and why it was held) and arm the retry on the
    /// (not yet stored) ticket. Returns what staff must be told when
    /// keeping it pushed out a held reply: it will not be re-checked,
    /// though its hold notice said so.
    pub(super) fn schedule_reverify(
        &self,
        ticket: &mut Ticket,
        msg: &Message,
        report: &Report,
        joined_by: Option<JoinedBy>,
        party: Party,
        held: Option<&str>,
    ) -> Result<Option<String>, ActError> {
        if !self.worth_a_recheck(ticket, msg, report) {
            return Ok(None);
        }
        let told = told(held, &ticket.identity.verdict(self.policy(ticket)));
        let kept = Kept {
            message_id: msg.message_id.clone(),
            joined_by,
            party,
            held: held.is_some(),
            tries: 0,
            told: Some(told),
            // A ticket from a list: its mail, ours and the request, is in
            // the list's archive for anyone to name.
            public: ticket.reply_to.as_ref().is_some_and(|t| t.cc.is_some() || t.list.is_some()),
            raw: msg.raw().to_vec(),
        };
        let mut given_up = Vec::new();
        for dropped in self.store.keep_for_reverify(ticket.id, &kept)? {
            tracing::warn!(
                ticket = ticket.id.0,
                "identity re-check of {} given up: a ticket keeps {KEPT_PER_TICKET} messages for one{}",
                dropped.message_id,
                if dropped.held { "; it stays held: check it by hand" } else { "" }
            );
            if dropped.held {
                given_up.push(crate::message::sanitize_line(&dropped.message_id));
            }
        }
        arm(ticket, self.now());
        Ok((!given_up.is_empty()).then(|| {
            format!(
                "held reply {} no longer checked again (a ticket keeps {KEPT_PER_TICKET} for one): check it by hand",
                given_up.join(", ")
            )
        }))
    }

    /// Tells staff, in the ticket's history and the channel, that a held
    /// reply will not be checked again after all (`schedule_reverify`).
    pub(super) fn given_up(&self, id: TicketId, given_up: Option<String>) -> Result<(), ActError> {
        let Some(line) = given_up else { return Ok(()) };
        let notice = self.notifier.outgoing(&Notice::Text(format!("{id} {line}")));
        self.store.update_ticket(id, None, &line, notice.as_ref(), |_| Vec::new())?;
        self.notifier.wake();
        Ok(())
    }

    /// The retry deadline fired: check each kept message again, oldest
    /// first.
    pub(super) async fn reverify(&self, id: TicketId) -> Result<(), ActError> {
        if self.store.ticket(id)?.is_none() {
            return Ok(());
        }
        let kept = self.store.kept_for_reverify(id)?;
        if kept.is_empty() {
            let _moving = self.moving();
            self.store.update_ticket(id, None, "identity re-check: nothing kept", None, |t| {
                t.deadlines.retain(|d| d.name != REVERIFY);
                Vec::new()
            })?;
            return Ok(());
        }
        for entry in &kept {
            self.recheck(id, entry).await?;
        }
        Ok(())
    }

    /// One kept message checked again. Its checks are awaited first; what
    /// they found is applied under `moving`, to the ticket as stored then.
    async fn recheck(&self, id: TicketId, entry: &KeptEntry) -> Result<(), ActError> {
        let Some(ticket) = self.store.ticket(id)? else { return Ok(()) };
        let Ok(msg) = Message::parse(entry.kept.raw.clone()) else {
            let _moving = self.moving();
            let Some(others) = self.others_kept(id, entry)? else { return Ok(()) };
            let mut ticket = self.as_stored(ticket)?;
            rearm(&mut ticket, others, self.now());
            let event = "identity re-check: the kept message cannot be read; dropped";
            self.store.settle_reverify(id, entry, Settled::Forget, event, None, |t| {
                t.deadlines = ticket.deadlines.clone();
                Vec::new()
            })?;
            return Ok(());
        };
        let arrival = self.verifier.arrival(&msg).await;
        let report = self.check_in(&ticket, &arrival).await;
        let _moving = self.moving();
        let Some(others) = self.others_kept(id, entry)? else { return Ok(()) };
        let mut ticket = self.as_stored(ticket)?;
        let policy = self.policy(&ticket);
        let party = entry.kept.party;
        let was_verified = verified(&ticket, party, policy);
        let tries = entry.kept.tries + 1;
        ticket.notes.reverify_tries = Some(ticket.notes.reverify_tries.unwrap_or(0) + 1);
        // A held reply is judged again by the rules of a reply arriving
        // now, as its sender's or the second account's; any other message
        // keeps the place it took, and only its evidence is checked again
        // (on the identity of whoever wrote it), its link to the ticket
        // decided anew from how it joined.
        let judged = match entry.kept.joined_by.filter(|_| entry.kept.held) {
            Some(joined_by) => Some(self.judge(party, &mut ticket, &arrival, &report, joined_by)),
            None => {
                let binding = match entry.kept.joined_by {
                    Some(joined_by) => binding(&ticket, &msg, &report, joined_by, &self.team_addresses(&arrival)),
                    // The request (`Opening`), or an entry an earlier
                    // version kept, which did not say how it joined.
                    None => ticket
                        .identity
                        .messages
                        .iter()
                        .find(|e| e.message_id == msg.message_id)
                        .map(|e| e.binding)
                        .unwrap_or(Binding::Unsigned),
                };
                match party {
                    Party::Owner => {
                        ticket.identity.record(&report, &msg.message_id, binding);
                    }
                    // Kept unheld, it counted: the second account is its
                    // sender's.
                    Party::Second => {
                        if let Some(second) = ticket.identity.second.as_mut() {
                            second.record(&report, &msg.message_id, binding);
                        }
                    }
                }
                None
            }
        };
        // Proven after a newer reply of the same sender moved the ticket:
        // her later words answered it, and these older ones, read now,
        // would undo them (a "go ahead" held, then a signed "cancel it"
        // handled, would put the withdrawn action back).
        let overtaken = judged.as_ref().is_some_and(|j| j.is_ok()).then(|| newer_reply(&ticket, &msg.message_id)).flatten();
        let now_verified = verified(&ticket, party, policy);
        // For `status` and `!show`, whether or not the ticket moves.
        ticket.notes.identity_summary = Some(ticket.identity.summary(policy));
        // Once the sender is verified, what is still unreachable no longer
        // matters, unless a held reply waits for it.
        let settled = match &judged {
            Some(held) => held.is_ok(),
            None => now_verified,
        };
        let again = report.temporary && !settled && tries < TRIES;
        rearm(&mut ticket, again || others, self.now());
        let mut kept = Kept { message_id: msg.message_id.clone(), tries, ..entry.kept.clone() };
        let settle = if again { Settled::Again(&kept) } else { Settled::Forget };
        if let (Some(Ok(())), None) = (&judged, &overtaken) {
            // Proven: the reply it is, planned from where the ticket is now.
            let planned = self.plan_move(party, ticket, &arrival, &report, true)?;
            let (t, _) = self.store.settle_reverify(id, entry, settle, &planned.event, planned.notice.as_ref(), |t| {
                apply(t, &planned.ticket);
                planned.actions.clone()
            })?;
            self.record_document(&t)?;
            return Ok(());
        }
        // Identity newly established while the ticket waits for it: the
        // step's own routes move it on (they read `verified`). Nobody
        // answered, so a step that waits for words stays where it is.
        let newly = judged.is_none() && now_verified && !was_verified && ticket.step.is_some();
        let moves = if newly { self.plan(&mut ticket, &Event::IdentitySettled) } else { None };
        let actions = match moves.filter(|p| p.step.is_some()) {
            Some(plan) => {
                self.record_plan(&mut ticket, &plan);
                self.render(&mut ticket, &plan, None)?
            }
            None => Vec::new(),
        };
        let summary = report.summary();
        let verdict = ticket.identity.verdict(policy);
        let told = told(judged.as_ref().and_then(|j| j.as_ref().err()).map(|h| h.reason.as_str()), &verdict);
        // Trying again with nothing new to say posts nothing: in an outage
        // that would be a line every 5 minutes for an hour per message.
        let news = !again || !actions.is_empty() || entry.kept.told.as_deref() != Some(told.as_str());
        let unreachable = if again {
            "still partly unreachable; trying again in 5 minutes".to_string()
        } else if report.temporary && !settled {
            format!("still partly unreachable after {tries} tries; check by hand")
        } else {
            String::new()
        };
        let outcome = match (&judged, unreachable.is_empty()) {
            _ if let Some(newer) = &overtaken => {
                format!("reply {} proven, but {newer}, which came after it, was handled first: its words are not read; check them by hand", msg.message_id)
            }
            (Some(Err(held)), true) => format!("reply {} still held: {}", msg.message_id, held.reason),
            (Some(Err(held)), false) => format!("reply {} still held ({}); {unreachable}", msg.message_id, held.reason),
            (_, true) => "settled".to_string(),
            (_, false) => unreachable,
        };
        // Queued with the change and held until its draft is appended, as
        // every ticket notice is.
        let notice = news
            .then(|| {
                self.notifier.outgoing(&Notice::Rechecked {
                    ticket: id,
                    outcome: outcome.clone(),
                    identity: lines::identity(&verdict),
                    latest: report.factor_words().join(", "),
                    step: (!actions.is_empty()).then(|| ticket.step.clone().unwrap_or_else(|| "-".into())),
                })
            })
            .flatten();
        kept.told = Some(told);
        let settle = if again { Settled::Again(&kept) } else { Settled::Forget };
        let event = format!("identity re-checked ({tries}) {}: {summary}; {outcome}", msg.message_id);
        self.store.settle_reverify(id, entry, settle, &event, notice.as_ref(), |t| {
            apply(t, &ticket);
            actions.clone()
        })?;
        Ok(())
    }

    /// Whether ticket `id` keeps messages for a re-check besides `entry`;
    /// `None` when `entry` itself is no longer kept as it was read (another
    /// re-check or the retention pass settled it meanwhile). Read under
    /// `moving`, under which every message is kept.
    fn others_kept(&self, id: TicketId, entry: &KeptEntry) -> Result<Option<bool>, ActError> {
        let kept = self.store.kept_for_reverify(id)?;
        Ok(kept.contains(entry).then(|| kept.iter().any(|e| !e.same(entry))))
    }
}

/// What staff hear of a kept message, as a re-check compares it: why it
/// is held (`None`: it is not) and the sender's identity verdict.
fn told(held: Option<&str>, verdict: &crate::verify::conversation::Verdict) -> String {
    format!("{}\n{}", held.unwrap_or_default(), lines::identity(verdict))
}

/// The newest reply that moved `ticket`, when it came after the one with
/// `message_id` (the order each was first checked in).
fn newer_reply(ticket: &Ticket, message_id: &str) -> Option<String> {
    let newest = ticket.notes.newest_reply.as_deref()?;
    let at = |id: &str| ticket.identity.messages.iter().position(|e| e.message_id == id);
    (at(newest)? > at(message_id)?).then(|| newest.to_string())
}

/// Whether `party` is verified on `ticket` under `policy`: its sender, or
/// the second account once one proved itself there.
fn verified(ticket: &Ticket, party: Party, policy: crate::procedures::IdentityPolicy) -> bool {
    match party {
        Party::Owner => ticket.identity.verdict(policy).verified,
        Party::Second => ticket.identity.second.as_ref().is_some_and(|s| s.verdict(policy).verified),
    }
}

/// The retry on `ticket`, armed anew while `wanted` (a message is tried
/// again, or another is kept), else disarmed.
fn rearm(ticket: &mut Ticket, wanted: bool, now: jiff::Timestamp) {
    ticket.deadlines.retain(|d| d.name != REVERIFY);
    if wanted {
        arm(ticket, now);
    }
}

fn arm(ticket: &mut Ticket, now: jiff::Timestamp) {
    ticket.deadlines.retain(|d| d.name != REVERIFY);
    ticket.deadlines.push(Deadline {
        name: REVERIFY.into(),
        due: now + EVERY,
    });
}
