//! `triaged quarantine list|retry|dismiss`: what triaged set aside, and
//! staff's decision on it. `list` works whether the daemon runs or not
//! (like `status`); `retry` and `dismiss` change the store, and `retry`
//! moves a folder's cursor back, which a running daemon's folder worker
//! would undo: both ask for the daemon to be stopped.

use std::path::Path;

use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Read the message again at the next sync pass.
    Retry,
    /// Forget the entry; the message stays in its folder, unhandled.
    Dismiss,
}

#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    #[error("the daemon is running and holds the store at {}: stop it (systemctl stop triaged), run this again, then start it", path.display())]
    DaemonRunning { path: std::path::PathBuf },
    #[error("nothing quarantined in {folder} with UID {uid}; `triaged quarantine list` shows what is")]
    NotFound { folder: String, uid: u32 },
    #[error(transparent)]
    Store(StoreError),
}

/// Carries out `decision` on `folder` UID `uid`; what to print.
pub fn decide(store_path: &Path, folder: &str, uid: u32, decision: Decision) -> Result<String, QuarantineError> {
    let store = Store::open(store_path).map_err(|e| match e {
        StoreError::Locked { path } => QuarantineError::DaemonRunning { path },
        e => QuarantineError::Store(e),
    })?;
    // "INBOX" is the one name IMAP reads in any case (RFC 3501, 5.1);
    // every other folder's name is as the server spells it.
    let inbox = folder.eq_ignore_ascii_case("INBOX");
    let stored = match store.find_quarantined(folder, uid).map_err(QuarantineError::Store)? {
        Some(q) => Some(q),
        None if inbox => store.quarantined().map_err(QuarantineError::Store)?.into_iter().find(|q| q.uid.uid == uid && q.folder.eq_ignore_ascii_case("INBOX")),
        None => None,
    };
    let not_found = || QuarantineError::NotFound { folder: folder.to_string(), uid };
    let q = stored.ok_or_else(not_found)?;
    let folder = q.folder.as_str();
    let done = match decision {
        Decision::Retry => store.retry_quarantined(&q),
        Decision::Dismiss => store.dismiss_quarantined(&q),
    }
    .map_err(QuarantineError::Store)?;
    if !done {
        return Err(not_found());
    }
    Ok(match decision {
        Decision::Retry => format!("{folder} UID {uid}: out of quarantine; the daemon reads it again at its next start"),
        Decision::Dismiss => format!("{folder} UID {uid}: dismissed; the message stays in {folder}, unhandled"),
    })
}
