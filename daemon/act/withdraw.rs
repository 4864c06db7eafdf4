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
pub(super) fn remember(ticket: &mut Ticket, message_id: &str, bytes: &[u8]) {
    let notes = &mut ticket.notes;
    notes
        .our_drafts
        .get_or_insert_default()
        .insert(message_id.to_string(), hex(&sha2::Sha256::digest(bytes)));
    let Ok(draft) = crate::message::Message::parse(bytes.to_vec()) else { return };
    // Its words, to recognise it in Sent when staff send it as drafted (a
    // positive example for the model).
    let text = DraftText { text: text_fingerprint(&draft.text), procedure: ticket.procedure.clone() };
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
