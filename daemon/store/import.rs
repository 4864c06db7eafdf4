//! Stores written by earlier versions, which kept a sled database in
//! `STORE/db`: imported once, every tree and every key, into the redb
//! file, at the first open by this version. The sled database is then
//! moved aside to `STORE/sled-before-redb/`, untouched, for the sysadmin to
//! delete once satisfied (README.md, "Upgrading a store").
//!
//! Crash safety: the import is written to `STORE/store.redb.import` and
//! renamed to `STORE/store.redb` only when complete and on disk, so the
//! redb file, when there is one, is always a whole import. A crash
//! before the rename imports again from the start; one after it (the sled
//! database not yet moved aside) finds the redb file and only moves the
//! old database aside.

use std::path::{Path, PathBuf};

use super::kv::{self, io_error};
use super::StoreError;

/// Where earlier versions kept their sled database.
const SLED_DIR: &str = "db";
/// Where it is moved once imported.
const ASIDE: &str = "sled-before-redb";
/// The import while it is written.
const PARTIAL: &str = "store.redb.import";

/// Whether `store` holds the sled database of an earlier version.
pub(super) fn has_sled_store(store: &Path) -> bool {
    store.join(SLED_DIR).is_dir()
}

/// Imports the sled database of an earlier version, if `store` has one
/// and no redb file yet; then moves it aside.
pub(super) fn from_sled_once(store: &Path) -> Result<(), StoreError> {
    if !has_sled_store(store) {
        return Ok(());
    }
    let sled_dir = store.join(SLED_DIR);
    let file = kv::file(store);
    if !file.exists() {
        let (keys, tickets) = import(store, &sled_dir, &file)?;
        let aside = move_aside(store, &sled_dir)?;
        tracing::info!(
            "store {}: imported the sled database of an earlier version ({tickets} tickets, {keys} keys) into {}; the old database is kept at {}: delete that folder once the daemon runs as it should",
            store.display(),
            file.display(),
            aside.display()
        );
    } else {
        let aside = move_aside(store, &sled_dir)?;
        tracing::info!(
            "store {}: the sled database of an earlier version, imported before, is now kept at {}: delete that folder once the daemon runs as it should",
            store.display(),
            aside.display()
        );
    }
    Ok(())
}

fn import(store: &Path, sled_dir: &Path, file: &Path) -> Result<(u64, u64), StoreError> {
    let partial = store.join(PARTIAL);
    remove_if_there(&partial)?;
    let old = sled::Config::new()
        .path(sled_dir)
        .mode(sled::Mode::LowSpace)
        .cache_capacity(super::cache_bytes() as u64)
        .flush_every_ms(None)
        .open()
        .map_err(|source| match &source {
            sled::Error::Io(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("lock") => {
                StoreError::Locked { path: store.to_path_buf() }
            }
            _ => StoreError::Import { path: store.to_path_buf(), source },
        })?;
    let sled_err = |source| StoreError::Import { path: store.to_path_buf(), source };
    let new = redb::Database::builder()
        .set_cache_size(super::cache_bytes())
        .create(&partial)
        .map_err(|e| StoreError::Open { path: store.to_path_buf(), source: e.into() })?;
    let mut names = Vec::new();
    for name in old.tree_names() {
        let tree = old.open_tree(&name).map_err(sled_err)?;
        // sled's default tree, which the store never wrote, is empty.
        if !tree.is_empty() {
            names.push(String::from_utf8_lossy(&name).into_owned());
        }
    }
    let keys = kv::copy_tables(
        &names,
        |name, put| {
            for kv in old.open_tree(name).map_err(sled_err)?.iter() {
                let (k, v) = kv.map_err(sled_err)?;
                put(&k, &v)?;
            }
            Ok(())
        },
        &new,
    )?;
    // sled's id generator is not a tree: audit entries, planned actions
    // and notices are keyed by its ids, so the store's counter starts
    // past every one it handed out.
    let next = old.generate_id().map_err(sled_err)?;
    let txn = new.begin_write()?;
    txn.open_table(redb::TableDefinition::<&[u8], &[u8]>::new(kv::META))?
        .insert(kv::ID_SEQ, next.to_be_bytes().as_slice())?;
    txn.commit()?;
    let tickets = old.open_tree("tickets").map_err(sled_err)?.len() as u64;
    drop(new);
    drop(old);
    sync(&partial)?;
    std::fs::rename(&partial, file).map_err(|e| io_error(file, "rename the imported store into place", e))?;
    sync(store)?;
    Ok((keys, tickets))
}

/// Moves the sled database to `sled-before-redb` (or `…-2`, … when that
/// is taken) and returns where.
fn move_aside(store: &Path, sled_dir: &Path) -> Result<PathBuf, StoreError> {
    let mut aside = store.join(ASIDE);
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = store.join(format!("{ASIDE}-{n}"));
    }
    std::fs::rename(sled_dir, &aside).map_err(|e| io_error(sled_dir, "move the imported sled database aside", e))?;
    sync(store)?;
    Ok(aside)
}

fn remove_if_there(p: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(p, "remove an interrupted import", e)),
    }
}

fn sync(p: &Path) -> Result<(), StoreError> {
    std::fs::File::open(p).and_then(|f| f.sync_all()).map_err(|e| io_error(p, "sync", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::claims::Claim;
    use crate::store::{Action, AuditEntry, Cursor, Intake, Store, Ticket, TicketId, Uid, enc};

    /// Writes a store as the sled versions did: the same trees, keys and
    /// encodings, ids from sled's generator.
    fn write_sled_store(store: &Path, tickets: u64) -> u64 {
        let db = sled::Config::new().path(store.join(SLED_DIR)).open().unwrap();
        let t = |n: &str| db.open_tree(n).unwrap();
        for n in 1..=tickets {
            let intake = Intake { folder: "INBOX".into(), uid: Uid { validity: 9, uid: n as u32 }, message_id: format!("<m{n}@example.org>") };
            let ticket = Ticket::new(TicketId(n), &intake, "Ann <ann@example.org>", &format!("request {n}"), "general");
            t("tickets").insert(n.to_be_bytes(), enc(&ticket)).unwrap();
            t("msgids").insert(intake.message_id.as_bytes(), &n.to_be_bytes()).unwrap();
            let mut k = n.to_be_bytes().to_vec();
            k.extend_from_slice(&db.generate_id().unwrap().to_be_bytes());
            t("audit").insert(k, enc(&AuditEntry { at: jiff::Timestamp::UNIX_EPOCH, event: format!("opened {n}") })).unwrap();
            t("cursors").insert("INBOX", enc(&Cursor { validity: 9, last_uid: n as u32 })).unwrap();
        }
        let draft = Action::AppendDraft {
            ticket: TicketId(tickets),
            folder: "INBOX".into(),
            mailbox: "Drafts".into(),
            message_id: "<d@example.org>".into(),
            bytes: b"draft".to_vec(),
        };
        let pending = db.generate_id().unwrap();
        t("pending").insert(pending.to_be_bytes(), enc(&draft)).unwrap();
        t("claims").insert(1u64.to_be_bytes(), enc(&Claim { nick: "alice".into(), since: jiff::Timestamp::UNIX_EPOCH })).unwrap();
        t("meta").insert(b"next_ticket", &(tickets + 1).to_be_bytes()).unwrap();
        t("meta").insert(b"draft_key", &[7u8; 32]).unwrap();
        db.flush().unwrap();
        pending
    }

    /// How long a test waits for the sled database it wrote to be let go.
    const SLED_LETS_GO: std::time::Duration = std::time::Duration::from_secs(10);

    #[test]
    fn a_sled_store_is_imported_whole_once_and_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let pending = write_sled_store(&path, 1200);
        // What a crash during an earlier attempt left.
        std::fs::write(path.join(PARTIAL), b"half an import").unwrap();

        // sled's threads let go of its lock a moment after the database
        // is dropped; under a loaded test run the import found it held.
        let s = Store::open_waiting(&path, SLED_LETS_GO).unwrap();
        assert!(!path.join(PARTIAL).exists() && !path.join(SLED_DIR).exists());
        assert!(path.join(ASIDE).join("conf").exists(), "the sled database is kept as it was");
        let tickets = s.tickets().unwrap();
        assert_eq!(tickets.len(), 1200);
        assert_eq!(tickets[1199].subject, "request 1200");
        assert_eq!(s.ticket_for_message_id("<m700@example.org>").unwrap(), Some(TicketId(700)));
        assert_eq!(s.audit_log(TicketId(700)).unwrap()[0].event, "opened 700");
        assert_eq!(s.cursor("INBOX").unwrap(), Some(Cursor { validity: 9, last_uid: 1200 }));
        assert_eq!(s.claim_of(TicketId(1)).unwrap().unwrap().nick, "alice");
        assert_eq!(s.next_ticket_id().unwrap(), TicketId(1201));
        assert_eq!(s.draft_key().unwrap(), [7u8; 32], "drafts keep their Message-IDs");
        assert_eq!(s.pending_actions().unwrap().iter().map(|(id, _)| *id).collect::<Vec<_>>(), [pending]);
        // New ids go on past sled's, so no audit entry or action is overwritten.
        let i = Intake { folder: "INBOX".into(), uid: Uid { validity: 9, uid: 1201 }, message_id: "<new@example.org>".into() };
        let t = Ticket::new(s.next_ticket_id().unwrap(), &i, "b@example.org", "s", "general");
        s.open_ticket(&t, &i, &[], None).unwrap();
        assert_eq!(s.audit_log(TicketId(1200)).unwrap().len(), 1);
        assert_eq!(s.pending_actions().unwrap().len(), 1);
        drop(s);

        // Opened again: nothing imported again, nothing lost.
        let s = Store::open(&path).unwrap();
        assert_eq!(s.tickets().unwrap().len(), 1201);
        assert!(!path.join(format!("{ASIDE}-2")).exists());
    }

    /// A crash after the import was renamed into place and before the sled
    /// database was moved aside: the next open only moves it.
    #[test]
    fn an_import_interrupted_after_the_rename_is_not_done_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        write_sled_store(&path, 3);
        drop(Store::open_waiting(&path, SLED_LETS_GO).unwrap());
        std::fs::rename(path.join(ASIDE), path.join(SLED_DIR)).unwrap();
        let s = Store::open(&path).unwrap();
        s.update_ticket(TicketId(2), None, "changed", None, |t| {
            t.subject = "changed".into();
            Vec::new()
        })
        .unwrap();
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.ticket(TicketId(2)).unwrap().unwrap().subject, "changed", "the redb file is the store");
        assert!(path.join(ASIDE).exists() && !path.join(SLED_DIR).exists());
    }
}
