//! Drafts of ours that a later event made stale: after a reclassification
//! (the new procedure drafts its own) or once staff answered the ticket,
//! the old draft is withdrawn from Drafts so nobody sends it by mistake.
//! Only our own drafts, found by Message-ID, and only while their bytes are
//! still exactly those we appended: a draft staff edited is theirs, it
//! stays, and the channel is told.

use sha2::Digest;

use super::{ActError, Actor};
use crate::mailbox::hex;
use crate::store::{Action, DraftText, Ticket};

/// Remembers a draft about to be appended, to recognise it unedited later:
/// in Drafts by its bytes, in Sent by its text.
/// `answers`: the Message-ID of the reply it was made for, if any.
pub(super) fn remember(ticket: &mut Ticket, message_id: &str, bytes: &[u8], at: jiff::Timestamp, answers: Option<&str>) {
    let notes = &mut ticket.notes;
    notes
        .our_drafts
        .get_or_insert_default()
        .insert(message_id.to_string(), hex(&sha2::Sha256::digest(bytes)));
    let Ok(draft) = crate::message::Message::parse(bytes.to_vec()) else { return };
    // Its words, to recognise it in Sent when staff send it as drafted (a
    // positive example for the model).
    let text = DraftText {
        text: text_fingerprint(&draft.text),
        procedure: ticket.procedure.clone(),
        at: Some(at),
        answers: answers.map(str::to_string),
    };
    notes.our_draft_texts.get_or_insert_default().insert(message_id.to_string(), text);
}

/// The procedure of the draft of ours that `sent_text` is, word for word,
/// if it is one. Only the words count: the Sent copy has its own headers,
/// and mail clients re-wrap lines and re-encode the body.
pub(super) fn sent_as_drafted(ticket: &Ticket, sent_text: &str) -> Option<String> {
    let fingerprint = text_fingerprint(sent_text);
    ticket
        .notes
        .our_draft_texts
        .as_ref()?
        .values()
        .find(|d| d.text == fingerprint)
        .map(|d| d.procedure.clone())
}

fn text_fingerprint(text: &str) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    hex(&sha2::Sha256::digest(words.as_bytes()))
}

/// Plans the withdrawal of every draft of ours the ticket still has, and
/// forgets them: no draft of ours waits any more.
pub(super) fn superseded(ticket: &mut Ticket, mailbox: &str) -> Vec<Action> {
    ticket.notes.draft_waiting = None;
    let Some(ours) = ticket.notes.our_drafts.replace(Default::default()) else {
        return Vec::new();
    };
    withdrawals(ticket, mailbox, ours)
}

/// The drafts of ours made after staff wrote `sent`, mail dated `sent_at`
/// (the Sent folder's copy may be read after the user's answer to it, and
/// after the draft made for that answer): they answer what came since.
/// None when its date is unknown; never the draft `sent` is, word for word
/// (a mail client's clock may be behind ours), nor one made for a reply
/// `sent` names (In-Reply-To, References): staff wrote it having read
/// that reply, though triaged, stopped meanwhile, drafted later.
pub(super) fn drafted_after(ticket: &Ticket, sent: &crate::message::Message, sent_at: Option<jiff::Timestamp>) -> Vec<String> {
    let (Some(sent_at), Some(ours), Some(texts)) = (sent_at, &ticket.notes.our_drafts, &ticket.notes.our_draft_texts) else {
        return Vec::new();
    };
    let names = |id: &String| sent.in_reply_to.contains(id) || sent.references.contains(id);
    let text = text_fingerprint(&sent.text);
    let after = |d: &DraftText| d.text != text && d.at.is_some_and(|at| at > sent_at) && !d.answers.as_ref().is_some_and(names);
    ours.keys().filter(|id| texts.get(*id).is_some_and(after)).cloned().collect()
}

/// Staff answered the ticket: plans the withdrawal of the drafts of ours
/// it made stale, all but `newer` (`drafted_after`), which stay and still
/// wait to be sent.
pub(super) fn answered_by(ticket: &mut Ticket, mailbox: &str, newer: &[String]) -> Vec<Action> {
    if newer.is_empty() {
        return superseded(ticket, mailbox);
    }
    let Some(ours) = ticket.notes.our_drafts.as_mut() else { return Vec::new() };
    let (stale, kept) = std::mem::take(ours).into_iter().partition(|(id, _)| !newer.contains(id));
    *ours = kept;
    withdrawals(ticket, mailbox, stale)
}

fn withdrawals(ticket: &Ticket, mailbox: &str, ours: std::collections::BTreeMap<String, String>) -> Vec<Action> {
    ours.into_iter()
        .map(|(message_id, sha256)| Action::WithdrawDraft {
            ticket: ticket.id,
            folder: ticket.folder.clone(),
            mailbox: mailbox.to_string(),
            message_id,
            sha256,
        })
        .collect()
}

impl Actor {
    /// A closed ticket's drafts of ours still waiting are stale: plans
    /// their withdrawal; how many.
    pub fn withdraw_stale(&self, id: crate::store::TicketId) -> Result<usize, ActError> {
        let mailbox = self.drafts_mailbox.clone();
        // A move (`Actor::moving`): one planned meanwhile would write back
        // the drafts and the draft waiting this forgets.
        let _moving = self.moving();
        let (_, planned) = self.store.update_ticket(id, None, "stale drafts withdrawn", None, |t| superseded(t, &mailbox))?;
        if !planned.is_empty() {
            self.wake_workers();
        }
        Ok(planned.len())
    }
}
