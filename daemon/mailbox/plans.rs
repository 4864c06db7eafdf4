//! Carrying out what `act` planned: drafts appended to Drafts, stale drafts
//! of ours withdrawn. `act` decides and persists; only this side of the
//! daemon holds the IMAP connection. Each plan is in the store before the
//! server sees anything (plan, persist, then act) and is recorded done
//! after it; after a restart or a lost connection an action may already
//! have reached the server, so `check_first` looks before acting again.

use super::{Connection, MailboxError, Withdrawal};
use crate::store::{Action, Store, StoreError, TicketId};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A stale draft of ours that staff had edited: left where it is, and
/// staff must be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedDraft {
    pub ticket: TicketId,
    pub mailbox: String,
}

/// What a pass over the pending actions did.
#[derive(Debug, Default)]
pub struct Carried {
    pub actions: usize,
    pub edited: Vec<EditedDraft>,
}

/// Carries out one planned action.
pub async fn execute(
    conn: &mut Connection,
    store: &Store,
    id: u64,
    action: &Action,
    check_first: bool,
) -> Result<Option<EditedDraft>, PlanError> {
    store.persist()?;
    match action {
        Action::AppendDraft {
            ticket,
            mailbox,
            message_id,
            bytes,
            ..
        } => {
            if check_first && conn.contains_message_id(mailbox, message_id).await? {
                tracing::info!(ticket = ticket.0, mailbox, "draft already there, not appending again");
                store.complete_action(id, *ticket, "draft found in the drafts folder after a restart")?;
                return Ok(None);
            }
            conn.append_draft(mailbox, bytes).await?;
            store.complete_action(id, *ticket, &format!("draft <{message_id}> appended to {mailbox}"))?;
            Ok(None)
        }
        Action::WithdrawDraft { .. } => withdraw(conn, store, id, action).await,
    }
}

/// Carries out freshly planned actions (never attempted before) as one
/// batch: drafts for the same folder go in one MULTIAPPEND where the
/// server allows, and are recorded done in one transaction.
pub async fn execute_fresh(conn: &mut Connection, store: &Store, actions: &[(u64, Action)]) -> Result<(), PlanError> {
    // The tickets behind these drafts are durable before the server
    // sees a draft (plan, persist, then act).
    store.persist()?;
    // Withdrawals are never planned by intake (they select Drafts, and
    // a sync pass holds its folder selected): left pending, they run
    // with the next `run_pending`.
    let mut by_mailbox: std::collections::BTreeMap<&str, Vec<(u64, TicketId, &str, &[u8])>> = Default::default();
    for (id, a) in actions {
        if let Action::AppendDraft { ticket, mailbox, message_id, bytes, .. } = a {
            by_mailbox.entry(mailbox.as_str()).or_default().push((*id, *ticket, message_id, bytes));
        }
    }
    for (mailbox, group) in by_mailbox {
        let bytes: Vec<&[u8]> = group.iter().map(|g| g.3).collect();
        conn.append_drafts(mailbox, &bytes).await?;
        let done: Vec<_> = group
            .iter()
            .map(|(id, ticket, message_id, _)| (*id, *ticket, format!("draft <{message_id}> appended to {mailbox}")))
            .collect();
        store.complete_actions(&done)?;
    }
    Ok(())
}

/// Carries out what is pending for `folder`: after a restart or a lost
/// connection (`check_first`), or actions planned by a deadline or staff.
pub async fn run_pending(conn: &mut Connection, store: &Store, folder: &str, check_first: bool) -> Result<Carried, PlanError> {
    let pending: Vec<_> = store.pending_actions()?.into_iter().filter(|(_, a)| a.folder() == folder).collect();
    let mut carried = Carried { actions: pending.len(), edited: Vec::new() };
    for (id, action) in &pending {
        carried.edited.extend(execute(conn, store, *id, action, check_first).await?);
    }
    Ok(carried)
}

/// One withdrawal (planned `id`): only our draft, found by Message-ID, and
/// only while its bytes are still those we appended.
async fn withdraw(conn: &mut Connection, store: &Store, id: u64, action: &Action) -> Result<Option<EditedDraft>, PlanError> {
    let Action::WithdrawDraft { ticket, mailbox, message_id, sha256, .. } = action else {
        return Ok(None);
    };
    let mut edited = None;
    let what = match conn.withdraw_draft(mailbox, message_id, sha256).await? {
        Withdrawal::Removed => format!("stale draft <{message_id}> withdrawn from {mailbox}"),
        Withdrawal::Absent => format!("stale draft <{message_id}> no longer in {mailbox}"),
        Withdrawal::Edited => {
            edited = Some(EditedDraft { ticket: *ticket, mailbox: mailbox.clone() });
            format!("stale draft <{message_id}> was edited by staff; left in {mailbox}")
        }
    };
    tracing::info!(ticket = ticket.0, "{what}");
    store.complete_action(id, *ticket, &what)?;
    Ok(edited)
}
