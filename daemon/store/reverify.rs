//! Messages whose identity could not be checked (a DNS timeout, a key
//! server down): kept, by ticket, until a later check settles it. Only
//! these are kept; every other message lives in the mailbox alone.

use super::{Store, StoreError, TicketId};

pub(super) const TREE: &str = "reverify";

impl Store {
    pub fn keep_for_reverify(&self, ticket: TicketId, raw: &[u8]) -> Result<(), StoreError> {
        self.tree(TREE).insert(ticket.0.to_be_bytes(), raw)?;
        self.persist()
    }

    pub fn reverify_message(&self, ticket: TicketId) -> Result<Option<Vec<u8>>, StoreError> {
        self.tree(TREE).get(ticket.0.to_be_bytes())
    }

    pub fn forget_reverify(&self, ticket: TicketId) -> Result<(), StoreError> {
        self.tree(TREE).remove(ticket.0.to_be_bytes())?;
        Ok(())
    }
}
