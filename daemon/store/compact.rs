//! Compaction: the store's file rewritten in place with its pages moved
//! to the front and the file cut after the last one in use.
//!
//! Why: redb reuses the space that old versions of a page took, but does
//! not give it back to the file system; a store that had content dropped
//! by retention, or a backlog's drafts written and done, keeps a file
//! larger than its live data (docs/BENCHMARKS.md, "A store with a
//! history").
//!
//! Crash safety is redb's: every step of the compaction is a durable
//! commit (two-phase), so a crash leaves the store as the last step left
//! it, whole; the next compaction goes on from there.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::kv::{self, io_error};
use super::{Store, StoreError};

/// What the compaction of an earlier version left beside its sled store
/// (a copy it did not finish, or the old store it had replaced).
const SLED_COPY: &str = "db.compact";

/// What a compaction did.
#[derive(Debug, Clone, Copy)]
pub struct Compacted {
    /// The store's file, in bytes, before and after.
    pub before: u64,
    pub after: u64,
    pub keys: u64,
    pub took: Duration,
}

/// Removes what an interrupted compaction of an earlier version left.
/// Called before the store is opened.
pub(super) fn clear_leftovers(store: &Path) -> Result<(), StoreError> {
    let copy = store.join(SLED_COPY);
    match std::fs::remove_dir_all(&copy) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&copy, "remove the leftover of an interrupted compaction", e)),
    }
}

/// Compacts the store at `path` (the daemon stopped: it holds the store's
/// lock) and returns the sizes before and after.
pub fn compact(path: &Path) -> Result<Compacted, StoreError> {
    let t0 = Instant::now();
    let store = Store::open(path)?;
    let before = store.size_on_disk()?;
    let keys = store.db.count_keys()?;
    let mut db = store.db.clone();
    drop(store);
    db.persist()?;
    let Some(db) = Arc::get_mut(&mut db) else {
        return Err(StoreError::Missing("handle: the store is shared while it is compacted"));
    };
    db.redb.compact()?;
    let after = std::fs::metadata(kv::file(path)).map_err(|e| io_error(path, "measure the compacted store", e))?.len();
    Ok(Compacted {
        before,
        after,
        keys,
        took: t0.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Action, Intake, Ticket, TicketId, Uid};

    fn intake(uid: u32) -> Intake {
        Intake {
            folder: "INBOX".into(),
            uid: Uid { validity: 1, uid },
            message_id: format!("<{uid}@example.org>"),
        }
    }

    /// Tickets, audit trail, pending actions and the id generator survive
    /// a compaction; the next id is past every one handed out before.
    #[test]
    fn compaction_keeps_everything_and_ids_move_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let (before_tickets, before_audit, pending) = {
            let s = Store::open(&path).unwrap();
            for uid in 1..=300 {
                let i = intake(uid);
                let t = Ticket::new(s.next_ticket_id().unwrap(), &i, "A <a@example.org>", "hello", "general");
                let draft = Action::AppendDraft {
                    ticket: t.id,
                    folder: "INBOX".into(),
                    mailbox: "Drafts".into(),
                    message_id: format!("<d{uid}@example.org>"),
                    bytes: vec![b'x'; 2000],
                };
                let (t, planned) = s.open_ticket(&t, &i, &[draft], None).unwrap();
                // Most drafts done, the last few still pending.
                if uid <= 290 {
                    let done: Vec<_> = planned.iter().map(|(id, _)| (*id, t.id, "draft appended".to_string())).collect();
                    s.complete_actions(&done).unwrap();
                }
            }
            s.persist().unwrap();
            (s.tickets().unwrap(), s.audit_log(TicketId(7)).unwrap(), s.pending_actions().unwrap())
        };
        let c = compact(&path).unwrap();
        assert!(c.after < c.before, "a store rewritten many times shrinks: {c:?}");
        let s = Store::open_waiting(&path, crate::store::REOPEN).unwrap();
        assert_eq!(s.tickets().unwrap(), before_tickets);
        assert_eq!(s.audit_log(TicketId(7)).unwrap(), before_audit);
        let now_pending = s.pending_actions().unwrap();
        assert_eq!(now_pending.len(), 10);
        assert_eq!(now_pending.iter().map(|(id, _)| *id).collect::<Vec<_>>(), pending.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        let highest = pending.iter().map(|(id, _)| *id).max().unwrap();
        let next = s.db.write(false, |t| t.tree(kv::META).generate_id()).unwrap();
        assert!(next > highest, "ids go on past the old store's");
        assert!(s.ticket_for_message_id("<150@example.org>").unwrap().is_some());
    }

    /// A copy left by an earlier version's compaction that crashed is removed at the next
    /// open, and the store is the old one.
    #[test]
    fn an_interrupted_copy_is_cleared_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        {
            let s = Store::open(&path).unwrap();
            let i = intake(1);
            let t = Ticket::new(s.next_ticket_id().unwrap(), &i, "A <a@example.org>", "hello", "general");
            s.open_ticket(&t, &i, &[], None).unwrap();
            s.persist().unwrap();
        }
        std::fs::create_dir_all(path.join(SLED_COPY)).unwrap();
        std::fs::write(path.join(SLED_COPY).join("db"), b"half a copy").unwrap();
        let s = Store::open_waiting(&path, crate::store::REOPEN).unwrap();
        assert!(!path.join(SLED_COPY).exists());
        assert_eq!(s.tickets().unwrap().len(), 1);
    }
}
