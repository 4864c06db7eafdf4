//! Mail set aside before classification (`classify::aside`): recorded as a
//! closed ticket of no procedure, with the reason, so `status` counts it and
//! staff can pull it back with `reclassify`; no draft, no notice of its
//! own, but one line a day in the staff channel that counts what was set
//! aside ([`Actor::tell_set_aside`]). An automatic answer (bounce,
//! auto-reply) on an existing ticket is recorded on it and changes
//! nothing: answering it would start a mail loop. A bounce that returns
//! mail of ours joins that mail's ticket, whoever sent it, and hands it to
//! a person with its deadlines stopped ([`Actor::bounce`]).

use jiff::Zoned;
use jiff::civil::Time;

use super::draft::reply_target;
use super::{ActError, Actor, answers_to, names_our_mail, same_mailbox};
use crate::classify;
use crate::classify::aside::{Aside, AsideKind, Returned, SET_ASIDE, returned};
use crate::classify::sensitive;
use crate::message::{Message, sanitize_line};
use crate::staff::{AsideItem, Notice, lines};
use crate::store::{Action, AsideMark, Commit, Intake, Ticket, TicketId, TicketNotes, TicketState};

/// What a bounce's hand-off says, and how a later bounce knows the ticket
/// was handed over for one already.
const BOUNCE_HANDOFF: &str = "the user may never have read it";

/// How many set-aside messages the daily line names; the rest it counts.
const NAMED: usize = 3;

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

    /// A bounce that returns mail of ours on a ticket ([`Actor::bounced_ticket`]):
    /// kept in the ticket's history, the ticket handed to a person, the
    /// step's deadlines stopped and staff told. The user may never have
    /// read what we sent, so silence after it is no answer (CAcert's 14
    /// days would delete an account whose owner was never asked). A bounce
    /// is unsigned and anyone can forge one: it only delays; it never
    /// moves a ticket on, closes it, or gets a draft. Staff who reach the
    /// user start it over (`!reclassify N PROCEDURE`); `None` when
    /// the bounce names no mail of ours.
    pub(super) fn bounce(&self, intake: &Intake, msg: &Message) -> Result<Option<(Ticket, Vec<(u64, Action)>)>, ActError> {
        let Some(aside) = self.aside.judge(msg).filter(|a| a.kind == AsideKind::Bounce && !self.aside.flagged_spam(msg)) else { return Ok(None) };
        let Some(returned) = returned(msg) else { return Ok(None) };
        let Some((ticket, to)) = self.bounced_ticket(&returned)? else { return Ok(None) };
        let _moving = self.moving();
        let ticket = self.as_stored(ticket)?;
        let closed = ticket.state == TicketState::Closed;
        let stopped = self.silence_deadlines(&ticket);
        let what = format!(
            "bounce {} ({}): our mail to {} bounced: {}; {}",
            msg.message_id,
            aside.reason,
            sanitize_line(&to),
            returned.why,
            lines::bounce_outcome(&stopped, closed)
        );
        let bounced = if stopped.is_empty() {
            format!("our mail to {} bounced ({}): {BOUNCE_HANDOFF}; reach them another way", sanitize_line(&to), returned.why)
        } else {
            format!(
                "our mail to {} bounced ({}): {BOUNCE_HANDOFF}, so no deadline counts their silence; reach them another way, then `!reclassify {} {}` starts the procedure over",
                sanitize_line(&to),
                returned.why,
                ticket.id.0,
                ticket.procedure
            )
        };
        // What a person was already needed for (the member taking the
        // request back) stays in front of them: a bounce anyone can write
        // must not put its own words in its place. One bounce is enough.
        let handoff = match ticket.notes.handoff.as_deref() {
            Some(h) if h.contains(BOUNCE_HANDOFF) => None,
            Some(h) => Some(format!("{h}; and {bounced}")),
            None => Some(bounced),
        };
        // The channel hears of a bounce that changed the ticket; a closed
        // ticket, or one a bounce already handed over, only records it.
        let changes = !closed && (!stopped.is_empty() || handoff.is_some() || !matches!(ticket.state, TicketState::New | TicketState::Claimed));
        let notice = changes
            .then(|| self.notifier.outgoing(&Notice::Bounced { ticket: ticket.id, to: to.clone(), why: returned.why.clone(), stopped: stopped.clone(), closed }))
            .flatten();
        let now = self.now();
        let (t, actions) = self.store.update_ticket(ticket.id, Some(intake), &what, notice.as_ref(), |t| {
            hand_over(t, &stopped, handoff.as_ref(), now);
            Vec::new()
        })?;
        self.notifier.wake();
        tracing::info!(ticket = t.id.0, to = %to, "bounce of our mail: handed to a person, deadlines stopped");
        Ok(Some((t, actions)))
    }

    /// The deadlines of `ticket` that take its user's silence for an
    /// answer: only a step that takes a confirmation can take silence for
    /// one (CAcert's 14 days); any other deadline (a retention date the
    /// member agreed to, a grant's end, a window that closes on silence)
    /// asks nothing of the notice's reader, and unsigned mail anyone can
    /// forge must not stop it. None on a closed ticket; triaged's own
    /// timers are never among them.
    fn silence_deadlines(&self, ticket: &Ticket) -> Vec<String> {
        let silence_consents = ticket
            .step
            .as_deref()
            .and_then(|step| self.pack.procedure(&ticket.procedure)?.step(step))
            .is_some_and(|step| step.on_confirmation.is_some());
        if ticket.state == TicketState::Closed || !silence_consents {
            return Vec::new();
        }
        ticket.deadlines.iter().filter(|d| !d.name.starts_with("triaged:")).map(|d| d.name.clone()).collect()
    }

    /// A message `opened` its own ticket from another address than that of
    /// the ticket whose mail of ours it names (In-Reply-To, References):
    /// only that mail's recipients know its Message-ID, so it may be the
    /// user answering from another address of theirs (one theirs forwards
    /// to). It moves nothing there, but that ticket goes to a person, and
    /// a step that takes a confirmation stops counting the silence at its
    /// address: "do NOT delete" from there must not be outrun by the 14
    /// days. Not for a ticket whose mail a list made public, nor a closed
    /// one, nor mail set aside (an auto-reply), nor mail from the team
    /// (staff copying our own address on their answer).
    pub(super) fn named_from_elsewhere(&self, msg: &Message, opened: &Ticket) -> Result<(), ActError> {
        let Some(from) = msg.single_from().filter(|_| opened.procedure != SET_ASIDE) else { return Ok(()) };
        let team = self.own_addresses.iter().chain(self.staff_addresses.values());
        if team.into_iter().any(|a| same_mailbox(a, &from.email)) {
            return Ok(());
        }
        for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()) {
            let Some(n) = self.store.ticket_for_message_id(id)?.filter(|n| n.0 != 0 && *n != opened.id) else { continue };
            let _moving = self.moving();
            let Some(ticket) = self.store.ticket(n)? else { continue };
            let public = ticket.reply_to.as_ref().is_some_and(|t| t.cc.is_some() || t.list.is_some());
            if !names_our_mail(&ticket, id) || public || ticket.state == TicketState::Closed || answers_to(&ticket, &from.email) {
                continue;
            }
            let stopped = self.silence_deadlines(&ticket);
            let line = lines::named_from_elsewhere(&from.email, opened.id, &ticket.identity.address, &stopped);
            let what = format!("{} {line}", msg.message_id);
            // As for a bounce, one is enough: whoever learned our
            // Message-ID may write from address after address, and each
            // would add its line to "needs a person" and to the channel.
            // The ticket's history records every one.
            let handoff = match ticket.notes.handoff.as_deref() {
                Some(h) if h.contains(lines::NAMES_OUR_MAIL) => None,
                Some(h) => Some(format!("{h}; and {line}")),
                None => Some(line.clone()),
            };
            let changes = !stopped.is_empty() || handoff.is_some() || !matches!(ticket.state, TicketState::New | TicketState::Claimed);
            let notice = changes.then(|| self.notifier.outgoing(&Notice::Text(format!("{}: {line}", ticket.id)))).flatten();
            let now = self.now();
            self.store.update_ticket(ticket.id, None, &what, notice.as_ref(), |t| {
                hand_over(t, &stopped, handoff.as_ref(), now);
                Vec::new()
            })?;
            self.notifier.wake();
            tracing::info!(ticket = ticket.id.0, opened = opened.id.0, "mail of ours named from another address: handed to a person");
            return Ok(());
        }
        Ok(())
    }

    /// The ticket whose mail a bounce returns, and the address it failed
    /// at: by the Message-ID of a draft of ours or of the reply Sent shows
    /// (keyed and unguessable: only who received it can name it), unless
    /// it failed only at the list the ticket's drafts are copied to;
    /// else by the `[#N]` tag of a returned subject together with the
    /// ticket's own address as a failed recipient.
    fn bounced_ticket(&self, returned: &Returned) -> Result<Option<(Ticket, String)>, ActError> {
        for id in &returned.message_ids {
            if let Some(n) = self.store.ticket_for_message_id(id)?.filter(|n| n.0 != 0)
                && let Some(t) = self.store.ticket(n)?
                && names_our_mail(&t, id)
            {
                // Failed only at the list our drafts are copied to, it
                // reached the user. At an address no copy went to, it is
                // where the user's own address forwards (Exim names only
                // that one): the user never got it.
                let copy = |r: &String| t.reply_to.as_ref().and_then(|to| to.cc.as_deref()).is_some_and(|cc| cc.eq_ignore_ascii_case(r));
                let to = match returned.failed.iter().find(|r| answers_to(&t, r)) {
                    Some(r) => r.clone(),
                    None if !returned.failed.is_empty() && returned.failed.iter().all(copy) => continue,
                    None => t.reply_to.as_ref().map(|r| r.email.clone()).unwrap_or_else(|| t.identity.address.clone()),
                };
                return Ok(Some((t, to)));
            }
        }
        for subject in &returned.subjects {
            if let Some(n) = classify::rules::ticket_tag(subject)
                && let Some(t) = self.store.ticket(TicketId(n))?
                && let Some(to) = returned.failed.iter().find(|r| answers_to(&t, r))
            {
                let to = to.clone();
                return Ok(Some((t, to)));
            }
        }
        Ok(None)
    }

    /// The daily line that tells staff what was set aside, when it is due
    /// (`[intake] aside_digest`, local time, once a day; days missed while
    /// triaged was stopped are folded into the next line): it counts the
    /// mail set aside since the last line and names the newest. A day with
    /// none posts nothing. Queued in the same transaction that marks the
    /// day, so it goes once.
    pub fn tell_set_aside(&self) -> Result<(), ActError> {
        use crate::procedures::Clock;
        // With no channel and no webhook there is nobody to tell.
        let Some(at) = self.aside_digest.filter(|_| !self.notifier.sink_names().is_empty()) else { return Ok(()) };
        let last = self.store.aside_mark()?;
        let now = self.clock.now();
        if aside_line_due(&now, at, last.as_ref()).is_none() {
            return Ok(());
        }
        let (tickets, highest) = self.store.set_aside_after(last.as_ref().map_or(0, |m| m.after))?;
        let notice = (!tickets.is_empty()).then(|| aside_line(last.as_ref(), &tickets));
        let out = notice.as_ref().and_then(|n| self.notifier.outgoing(n));
        let mark = AsideMark { at: now.strftime("%Y-%m-%d %H:%M").to_string(), after: highest };
        if !self.store.record_aside_line(last.as_ref(), &mark, out.as_ref())? {
            return Ok(());
        }
        if out.is_some() {
            self.notifier.wake();
        }
        tracing::info!(set_aside = tickets.len(), since = last.as_ref().map_or("the start", |m| m.at.as_str()), "daily line of mail set aside");
        Ok(())
    }
}

/// Hands open ticket `t` to a person (`handoff`, when there is a new
/// reason) with the deadlines `stopped` disarmed, not held: a deadline
/// that fired later would still take the silence for an answer.
fn hand_over(t: &mut Ticket, stopped: &[String], handoff: Option<&String>, now: jiff::Timestamp) {
    if t.state == TicketState::Closed {
        return;
    }
    t.deadlines.retain(|d| d.name.starts_with("triaged:") || !stopped.contains(&d.name));
    if let Some(h) = handoff {
        t.notes.hand_off(h.clone(), now);
    }
    if t.state != TicketState::Claimed {
        t.state = TicketState::New;
    }
}

/// When today's set-aside line is due, if it is due now: `at` today has
/// come (local time) and the last line was marked on another day. Not
/// "before today": after a rehearsal with `TRIAGED_NOW` set weeks ahead,
/// the real clock's days still get their line.
fn aside_line_due(now: &Zoned, at: Time, last: Option<&AsideMark>) -> Option<Zoned> {
    // In a gap of a clock change, the time after it.
    let due = now.date().to_datetime(at).to_zoned(now.time_zone().clone()).ok()?;
    let today = now.date().to_string();
    (now >= &due && last.is_none_or(|m| m.day() != today)).then_some(due)
}

/// The line for `tickets`, oldest first, set aside since `last`.
fn aside_line(last: Option<&AsideMark>, tickets: &[Ticket]) -> Notice {
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for kind in tickets.iter().filter_map(|t| t.notes.set_aside.as_ref()).map(|a| a.kind.as_str()) {
        match kinds.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind.to_string(), 1)),
        }
    }
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let newest = tickets
        .iter()
        .rev()
        .take(NAMED)
        .map(|t| AsideItem {
            ticket: t.id,
            kind: t.notes.set_aside.as_ref().map_or("", |a| a.kind.as_str()).to_string(),
            from: if t.sender_email.is_empty() { "(unknown sender)".into() } else { t.sender_email.clone() },
            subject: t.subject.clone(),
        })
        .collect();
    Notice::SetAside { since: last.map(|m| m.at.clone()), kinds, newest }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Zoned {
        s.parse().unwrap()
    }

    fn mark(day: &str) -> AsideMark {
        AsideMark { at: format!("{day} 09:00"), after: 0 }
    }

    #[test]
    fn the_set_aside_line_is_due_once_a_day_from_its_time_on() {
        let nine = Time::constant(9, 0, 0, 0);
        let berlin = |s: &str| at(&format!("{s}[Europe/Berlin]"));
        // Before nine local time: not yet; from nine on, once.
        assert_eq!(aside_line_due(&berlin("2026-11-30T08:59:59+01:00"), nine, None), None);
        let due = aside_line_due(&berlin("2026-11-30T09:00:00+01:00"), nine, None).unwrap();
        assert_eq!(due.strftime("%Y-%m-%d %H:%M %Z").to_string(), "2026-11-30 09:00 CET");
        assert_eq!(aside_line_due(&berlin("2026-11-30T17:00:00+01:00"), nine, Some(&mark("2026-11-29"))), Some(due));
        assert_eq!(aside_line_due(&berlin("2026-11-30T17:00:00+01:00"), nine, Some(&mark("2026-11-30"))), None);
        // Nine in Berlin is eight in UTC: the zone is the configured one.
        let utc: Zoned = "2026-11-30T08:30:00Z".parse::<jiff::Timestamp>().unwrap().in_tz("Europe/Berlin").unwrap();
        assert_eq!(aside_line_due(&utc, nine, None).map(|z| z.hour()), Some(9));
        let utc: Zoned = "2026-11-30T07:30:00Z".parse::<jiff::Timestamp>().unwrap().in_tz("Europe/Berlin").unwrap();
        assert_eq!(aside_line_due(&utc, nine, None), None);
        // The clock after a rehearsal with TRIAGED_NOW set ahead: the real
        // day gets its line, once.
        assert!(aside_line_due(&berlin("2026-11-29T10:00:00+01:00"), nine, Some(&mark("2027-01-15"))).is_some());
        assert_eq!(aside_line_due(&berlin("2026-11-29T10:00:00+01:00"), nine, Some(&mark("2026-11-29"))), None);
        // 02:30 does not exist on the spring-forward day: due from 03:30.
        let half_past_two = Time::constant(2, 30, 0, 0);
        let due = aside_line_due(&berlin("2027-03-28T04:00:00+02:00"), half_past_two, None).unwrap();
        assert_eq!(due.strftime("%H:%M %Z").to_string(), "03:30 CEST");
    }
}
