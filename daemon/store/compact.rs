//! Compaction: the store copied, key by key, into a fresh sled directory
//! that then takes the old one's place.
//!
//! Why: sled appends every change to its log and cleans the log's
//! segments in the background, page by page; a store that has lived long
//! (or had content dropped by retention) keeps a log several times its
//! live data, and what sled does at open, keeps in memory and rewrites in
//! the background grows with that log, not with the live data
//! (docs/BENCHMARKS.md, "A store with a history"). A fresh copy holds
//! only the live data, written in key order.
//!
//! Crash safety rests on one invariant: `STORE/db` is always a complete
//! store. The copy is written to `STORE/db.compact`, flushed, and only
//! then exchanged with `STORE/db` in one atomic rename (Linux's
//! RENAME_EXCHANGE). Whatever is left at `db.compact` afterwards (a copy a
//! crash interrupted, or the old store after the exchange) is garbage,
//! removed by the next open.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Store, StoreError};

/// Where the copy is written, beside the live directory.
const COPY: &str = "db.compact";
/// Keys written per batch into the copy.
const PER_BATCH: usize = 1024;

/// What a compaction did.
#[derive(Debug, Clone, Copy)]
pub struct Compacted {
    /// The store's files, in bytes, before and after.
    pub before: u64,
    pub after: u64,
    pub keys: u64,
    pub took: Duration,
}

/// The directory sled writes under the store's path.
pub(super) fn live_dir(store: &Path) -> PathBuf {
    store.join("db")
}

/// Removes what an interrupted compaction left (the copy it did not
/// finish, or the old store it had already replaced). Called before the
/// store is opened.
pub(super) fn clear_leftovers(store: &Path) -> Result<(), StoreError> {
    let copy = store.join(COPY);
    match std::fs::remove_dir_all(&copy) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&copy, "remove the leftover of an interrupted compaction", e)),
    }
}

/// Rewrites the store at `path` (the daemon stopped: it holds the store's
/// lock) and returns the sizes before and after.
pub fn compact(path: &Path) -> Result<Compacted, StoreError> {
    let t0 = Instant::now();
    let old = Store::open(path)?;
    let before = old.size_on_disk()?;
    let copy_dir = path.join(COPY);
    let copy = super::sled_config(&copy_dir).open().map_err(|source| StoreError::Open {
        path: copy_dir.clone(),
        source,
    })?;
    let mut keys = 0u64;
    for name in old.db.tree_names() {
        let from = old.db.open_tree(&name)?;
        let to = copy.open_tree(&name)?;
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for kv in from.iter() {
            let (k, v) = kv?;
            batch.insert(k, v);
            n += 1;
            if n == PER_BATCH {
                to.apply_batch(std::mem::take(&mut batch))?;
                keys += n as u64;
                n = 0;
            }
        }
        to.apply_batch(batch)?;
        keys += n as u64;
    }
    // sled's id generator is not a tree: audit entries and planned actions
    // are keyed by its ids, so the copy's must not hand out one the old
    // store already has.
    let next = old.db.generate_id()?;
    while copy.generate_id()? < next {}
    copy.flush()?;
    let after = copy.size_on_disk()?;
    drop(copy);
    drop(old);
    // sled releases its files when its background flusher ends, a moment
    // after the last handle goes.
    wait_unlocked(&copy_dir)?;
    sync_dir(path)?;
    exchange(&live_dir(path), &copy_dir)?;
    sync_dir(path)?;
    clear_leftovers(path)?;
    Ok(Compacted {
        before,
        after,
        keys,
        took: t0.elapsed(),
    })
}

/// Opens the finished copy until sled's lock on it is free: the proof
/// that nothing of this process still writes to it. The opening also
/// writes sled's snapshot of the copy's pages, so the daemon's first start
/// does not replay the whole log (sled replays what was written since the
/// last opening).
fn wait_unlocked(dir: &Path) -> Result<(), StoreError> {
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        match super::sled_config(dir).open() {
            Ok(db) => {
                db.flush()?;
                return Ok(());
            }
            Err(_) if Instant::now() < give_up => std::thread::sleep(Duration::from_millis(20)),
            Err(source) => return Err(StoreError::Open { path: dir.to_path_buf(), source }),
        }
    }
}

/// Swaps two directories in one step: at every instant `a` is one of
/// them, whole.
fn exchange(a: &Path, b: &Path) -> Result<(), StoreError> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|e| io_error(p, "name", e.into()));
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    Err(io_error(
        a,
        "swap in the compacted copy (the file system must support renameat2 RENAME_EXCHANGE, as ext4, xfs, btrfs and tmpfs do; the store is unchanged)",
        e,
    ))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(dir, "sync", e))
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io(sled::Error::Io(std::io::Error::new(e.kind(), format!("{}: cannot {what}: {e}", path.display()))))
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
        assert!(!path.join(COPY).exists(), "the old store is removed");
        let s = Store::open_waiting(&path, crate::store::REOPEN).unwrap();
        assert_eq!(s.tickets().unwrap(), before_tickets);
        assert_eq!(s.audit_log(TicketId(7)).unwrap(), before_audit);
        let now_pending = s.pending_actions().unwrap();
        assert_eq!(now_pending.len(), 10);
        assert_eq!(now_pending.iter().map(|(id, _)| *id).collect::<Vec<_>>(), pending.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        let highest = pending.iter().map(|(id, _)| *id).max().unwrap();
        assert!(s.db.generate_id().unwrap() > highest, "ids go on past the old store's");
        assert!(s.ticket_for_message_id("<150@example.org>").unwrap().is_some());
    }

    /// A copy left by a compaction that crashed is removed at the next
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
        std::fs::create_dir_all(path.join(COPY)).unwrap();
        std::fs::write(path.join(COPY).join("db"), b"half a copy").unwrap();
        let s = Store::open_waiting(&path, crate::store::REOPEN).unwrap();
        assert!(!path.join(COPY).exists());
        assert_eq!(s.tickets().unwrap().len(), 1);
    }
}
