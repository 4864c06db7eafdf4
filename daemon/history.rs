//! `triaged show N`: one ticket's history — its messages, drafts, notes,
//! claims and staff actions, with their times — from the store's audit log,
//! which every change to a ticket writes in the same transaction as the
//! change. While the daemon runs (it holds the store) the request goes
//! through the spool like `reclassify` (control.rs); the answer carries the
//! history as JSON.

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::act::staff_action;
use crate::staff::lines;
use crate::store::{AuditEntry, Quarantined, Store, StoreError, TicketId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct History {
    pub ticket: u64,
    pub procedure: String,
    pub state: String,
    #[serde(default)]
    pub step: Option<String>,
    pub from: String,
    pub subject: String,
    pub created: jiff::Timestamp,
    /// Who holds the claim, and since when.
    #[serde(default)]
    pub claimed_by: Option<String>,
    #[serde(default)]
    pub claimed_since: Option<jiff::Timestamp>,
    /// What staff must carry out before the procedure goes on (`done N`).
    #[serde(default)]
    pub staff_action: Option<String>,
    /// A draft of ours waits in Drafts.
    #[serde(default)]
    pub draft_waiting: bool,
    /// Why the ticket has its procedure, in words (rules, the model).
    #[serde(default)]
    pub classified: Option<String>,
    /// Who is asking, as far as the ticket's messages proved it, and the
    /// latest message's own checks: what `!show N` says.
    #[serde(default)]
    pub identity: Option<String>,
    /// What staff need beyond the staff action: queue and issue type, the
    /// step's staff note, why a person must look (as `!show N`).
    #[serde(default)]
    pub staff: Vec<String>,
    /// The ticket's deadlines, soonest first.
    #[serde(default)]
    pub deadlines: Vec<crate::store::Deadline>,
    /// The Message-IDs of its drafts, oldest first.
    pub drafts: Vec<String>,
    /// Everything that happened to it, oldest first.
    pub events: Vec<AuditEntry>,
    /// Replies to it that were quarantined.
    pub quarantined: Vec<Quarantined>,
}

impl History {
    /// None when there is no such ticket.
    pub fn load(store: &Store, id: TicketId) -> Result<Option<History>, StoreError> {
        let Some(t) = store.ticket(id)? else {
            return Ok(None);
        };
        let claim = store.claim_of(id)?;
        let quarantined = store.quarantined()?.into_iter().filter(|q| q.ticket == Some(id.0)).collect();
        Ok(Some(History {
            ticket: id.0,
            procedure: t.procedure.clone(),
            state: t.state.as_str().to_string(),
            step: t.step.clone(),
            from: t.from.clone(),
            subject: t.subject.clone(),
            created: t.created,
            claimed_by: claim.as_ref().map(|c| c.nick.clone()),
            claimed_since: claim.map(|c| c.since),
            staff_action: staff_action::pending(&t).map(str::to_string),
            draft_waiting: staff_action::waiting_draft(&t),
            classified: t.notes.explanation.clone(),
            identity: Some(lines::ticket_identity(&t)),
            staff: lines::staff_context(&t),
            deadlines: {
                let mut d = t.deadlines.clone();
                d.sort_by_key(|d| d.due);
                d
            },
            drafts: t.drafts.clone(),
            events: store.audit_log(id)?,
            quarantined,
        }))
    }

    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let secs = |t: jiff::Timestamp| t.round(jiff::Unit::Second).unwrap_or(t);
        let step = self.step.as_deref().map(|s| format!("/{s}")).unwrap_or_default();
        // The word `status` shows for the ticket.
        let state = staff_action::shown_state(&self.state, self.staff_action.is_some(), self.draft_waiting);
        writeln!(out, "#{} {state} {}{step} — {} — {}", self.ticket, self.procedure, self.from, self.subject)?;
        writeln!(out, "opened {}", secs(self.created))?;
        if let (Some(nick), Some(since)) = (&self.claimed_by, self.claimed_since) {
            writeln!(out, "claimed by {nick} since {}", secs(since))?;
        }
        if let Some(c) = &self.classified {
            writeln!(out, "classified: {c}")?;
        }
        if let Some(i) = &self.identity {
            writeln!(out, "identity: {i}")?;
        }
        if let Some(a) = &self.staff_action {
            writeln!(out, "staff action: {a}, then `triaged done {}`", self.ticket)?;
        }
        for line in &self.staff {
            writeln!(out, "{line}")?;
        }
        for d in &self.deadlines {
            writeln!(out, "deadline {}: due {}", d.name, secs(d.due))?;
        }
        writeln!(out, "drafts: {}", self.drafts.len())?;
        writeln!(out, "History:")?;
        for e in &self.events {
            writeln!(out, "  {}  {}", secs(e.at), e.event)?;
        }
        for q in &self.quarantined {
            writeln!(out, "  {}  quarantined: {} UID {}: {}", secs(q.at), q.folder, q.uid.uid, q.reason)?;
        }
        Ok(())
    }
}
