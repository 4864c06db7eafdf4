//! Acting on a message: plan what to do (a ticket, a draft), persist the
//! plan, then carry it out. Every action is safe to repeat, so a crash at
//! any point followed by a restart yields exactly one draft per message.

pub mod draft;

use serde_json::json;

use crate::config::Config;
use crate::mailbox::{Connection, MailboxError};
use crate::message::Message;
use crate::store::{Action, NewTicket, Store, StoreError, Ticket, TicketId, Uid};
use draft::{DraftError, Drafter};

/// The generic reply used until a procedure claims the message.
pub const ACKNOWLEDGE_TEMPLATE: &str = "acknowledge.txt";

#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    #[error(transparent)]
    Draft(#[from] DraftError),
}

pub struct Actor {
    pub store: Store,
    pub drafter: Drafter,
    pub drafts_mailbox: String,
}

impl Actor {
    pub fn new(config: &Config, store: Store) -> Result<Actor, DraftError> {
        Ok(Actor {
            store,
            drafter: Drafter::new(&config.procedures.pack_dir(), &config.draft.from, &config.draft.signature)?,
            drafts_mailbox: config.imap.drafts.clone(),
        })
    }

    /// Opens a ticket for `msg` and persists its first draft as a pending
    /// action, in one transaction with the folder cursor.
    pub fn open_ticket(&self, folder: &str, uid: Uid, msg: &Message) -> Result<(Ticket, Vec<(u64, Action)>), ActError> {
        let new = NewTicket {
            folder: folder.to_string(),
            uid,
            message_id: msg.message_id.clone(),
            from: msg.from[0].display(),
            subject: msg.subject_line(200),
            procedure: "unclassified".into(),
            data: Default::default(),
        };
        // Rendering needs the ticket number, which the transaction assigns;
        // render for the next number and check it inside.
        let plan = |id: TicketId| -> Result<Vec<Action>, String> {
            let draft = self.draft_for(msg, id).map_err(|e| e.to_string())?;
            Ok(vec![Action::AppendDraft {
                ticket: id,
                folder: folder.to_string(),
                mailbox: self.drafts_mailbox.clone(),
                message_id: draft.message_id,
                bytes: draft.bytes,
            }])
        };
        Ok(self.store.open_ticket(&new, plan)?)
    }

    fn draft_for(&self, msg: &Message, id: TicketId) -> Result<draft::Draft, DraftError> {
        let sender = msg.reply_recipient();
        let ctx = json!({
            "ticket": id.0,
            "sender_name": sender.name.as_deref().map(crate::message::sanitize_line).unwrap_or_default(),
            "sender_email": sender.email,
            "subject": msg.subject_line(200),
            "signature": self.drafter.signature(),
        });
        let body = self.drafter.render(ACKNOWLEDGE_TEMPLATE, &ctx)?;
        let message_id = self.drafter.draft_message_id(id, 0, &msg.message_id);
        self.drafter.build(msg, id, &message_id, body)
    }

    /// Carries out one planned action. `check_first`: look for an earlier
    /// attempt's result before acting (after a restart or a lost
    /// connection, when the server may have applied it).
    pub async fn execute(&self, conn: &mut Connection, id: u64, action: &Action, check_first: bool) -> Result<(), ActError> {
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
                    self.store.complete_action(id, *ticket, "draft found in the drafts folder after a restart")?;
                    return Ok(());
                }
                conn.append_draft(mailbox, bytes).await?;
                self.store
                    .complete_action(id, *ticket, &format!("draft <{message_id}> appended to {mailbox}"))?;
            }
        }
        Ok(())
    }

    /// Finishes what an earlier run (or connection) planned for `folder`.
    pub async fn recover(&self, conn: &mut Connection, folder: &str) -> Result<usize, ActError> {
        let pending: Vec<_> = self
            .store
            .pending_actions()?
            .into_iter()
            .filter(|(_, a)| a.folder() == folder)
            .collect();
        for (id, action) in &pending {
            self.execute(conn, *id, action, true).await?;
        }
        Ok(pending.len())
    }
}
