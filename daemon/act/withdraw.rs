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

/// Remembers a draft about to be appended, to recognise it unedited later.
pub(super) fn remember(ticket: &mut Ticket, message_id: &str, bytes: &[u8]) {
    let entry = ticket.data.entry(OUR_DRAFTS).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.insert(message_id.to_string(), Value::from(hex(&sha2::Sha256::digest(bytes))));
    }
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
