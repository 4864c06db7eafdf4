//! Staff's answer to a quarantined message: dismiss it (it stays set aside,
//! the entry goes), or retry it (it is read again, from the next sync pass
//! on). Both run with the daemon stopped: a retry moves the folder's cursor
//! back, which a running folder worker would move forward again.

use super::{Cursor, Quarantined, Store, StoreError, Uid, dec, uid_key};

impl Store {
    fn quarantine_entry(&self, folder: &str, uid: Uid) -> Result<Option<Quarantined>, StoreError> {
        self.trees.quarantine.get(uid_key(folder, uid))?.map(|v| dec("quarantine entry", &v)).transpose()
    }

    /// The entry of `folder` UID `uid` (any UIDVALIDITY), if quarantined.
    pub fn find_quarantined(&self, folder: &str, uid: u32) -> Result<Option<Quarantined>, StoreError> {
        Ok(self.quarantined()?.into_iter().find(|q| q.folder == folder && q.uid.uid == uid))
    }

    /// Forgets the entry; the message stays where it is, unhandled.
    pub fn dismiss_quarantined(&self, q: &Quarantined) -> Result<bool, StoreError> {
        if self.quarantine_entry(&q.folder, q.uid)?.is_none() {
            return Ok(false);
        }
        self.tx(|tx| {
            tx.trees.quarantine.remove(uid_key(&q.folder, q.uid))?;
            Ok(())
        })?;
        Ok(true)
    }

    /// Forgets the entry and its Message-ID, and moves the folder's cursor
    /// back before it: the next sync pass reads it again, and the messages
    /// after it are recognised by Message-ID and passed over.
    pub fn retry_quarantined(&self, q: &Quarantined) -> Result<bool, StoreError> {
        if self.quarantine_entry(&q.folder, q.uid)?.is_none() {
            return Ok(false);
        }
        let cursor = self.cursor(&q.folder)?;
        self.tx(|tx| {
            tx.trees.quarantine.remove(uid_key(&q.folder, q.uid))?;
            tx.trees.attempts.remove(uid_key(&q.folder, q.uid))?;
            // Only the quarantine's own mark (ticket 0): a Message-ID that
            // names a ticket keeps its duplicate out.
            if let Some(id) = &q.message_id
                && tx.trees.msgids.get(id.as_bytes())?.is_some_and(|v| v == 0u64.to_be_bytes())
            {
                tx.trees.msgids.remove(id.as_bytes())?;
            }
            if let Some(c) = cursor
                && c.validity == q.uid.validity
                && c.last_uid >= q.uid.uid
            {
                tx.set_cursor(&q.folder, Cursor { validity: c.validity, last_uid: q.uid.uid - 1 })?;
            }
            Ok(())
        })?;
        Ok(true)
    }
}
