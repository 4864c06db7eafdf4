//! Drafts of ours that a later event made stale: after a reclassification
//! (the new procedure drafts its own) or once staff answered the ticket,
//! the old draft is withdrawn from Drafts so nobody sends it by mistake.
//! Only our own drafts, found by Message-ID, and only while their bytes are
//! still exactly those we appended: a draft staff edited is theirs, it
//! stays, and the channel is told.

use serde_json::{Map, Value};
use sha2::Digest;

use super::{ActError, Actor};
use crate::mailbox::hex;
use crate::store::{Action, Ticket};

/// Ticket data key: Message-ID → SHA-256 of each draft of ours not yet
/// withdrawn.
pub const OUR_DRAFTS: &str = "our_drafts";

/// Ticket data key: Message-ID → the text fingerprint and procedure of
/// each draft of ours, to recognise it in the Sent folder when staff send
/// it as drafted (a positive example for the model).
pub const OUR_DRAFT_TEXTS: &str = "our_draft_texts";

/// Remembers a draft about to be appended, to recognise it unedited later:
/// in Drafts by its bytes, in Sent by its text.
pub(super) fn remember(ticket: &mut Ticket, message_id: &str, bytes: &[u8]) {
    let entry = ticket.data.entry(OUR_DRAFTS).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.insert(message_id.to_string(), Value::from(hex(&sha2::Sha256::digest(bytes))));
    }
    let Ok(draft) = crate::message::Message::parse(bytes.to_vec()) else { return };
    let procedure = Value::from(ticket.procedure.clone());
    let entry = ticket.data.entry(OUR_DRAFT_TEXTS).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.insert(message_id.to_string(), serde_json::json!({"text": text_fingerprint(&draft.text), "procedure": procedure}));
    }
}

/// The procedure of the draft of ours that `sent_text` is, word for word,
/// if it is one. Only the words count: the Sent copy has its own headers,
/// and mail clients re-wrap lines and re-encode the body.
pub(super) fn sent_as_drafted(ticket: &Ticket, sent_text: &str) -> Option<String> {
    let fingerprint = text_fingerprint(sent_text);
    ticket
        .data
        .get(OUR_DRAFT_TEXTS)?
        .as_object()?
        .values()
        .find(|d| d["text"].as_str() == Some(fingerprint.as_str()))
        .and_then(|d| d["procedure"].as_str().map(str::to_string))
}

fn text_fingerprint(text: &str) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    hex(&sha2::Sha256::digest(words.as_bytes()))
}

/// Plans the withdrawal of every draft of ours the ticket still has, and
/// forgets them.
pub(super) fn superseded(ticket: &mut Ticket, mailbox: &str) -> Vec<Action> {
    let Some(Value::Object(ours)) = ticket.data.insert(OUR_DRAFTS.into(), Value::Object(Map::new())) else {
        return Vec::new();
    };
    ours.into_iter()
        .filter_map(|(message_id, sha)| {
            Some(Action::WithdrawDraft {
                ticket: ticket.id,
                folder: ticket.folder.clone(),
                mailbox: mailbox.to_string(),
                message_id,
                sha256: sha.as_str()?.to_string(),
            })
        })
        .collect()
}

impl Actor {
    /// A closed ticket's drafts of ours still waiting are stale: plans
    /// their withdrawal; how many.
    pub fn withdraw_stale(&self, id: crate::store::TicketId) -> Result<usize, ActError> {
        let mailbox = self.drafts_mailbox.clone();
        let (_, planned) = self.store.update_ticket(id, None, "stale drafts withdrawn", None, |t| superseded(t, &mailbox))?;
        if !planned.is_empty() {
            self.wake_workers();
        }
        Ok(planned.len())
    }
}
