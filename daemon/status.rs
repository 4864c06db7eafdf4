//! `triaged status`: tickets, pending work and quarantine. sled allows one
//! process per store, so while the daemon runs it keeps a snapshot
//! (`status.json` beside the database, replaced atomically) that `status`
//! reads instead.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::store::{Quarantined, Store, StoreError, Ticket};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FolderStatus {
    pub folder: String,
    pub uidvalidity: u32,
    pub last_uid: u32,
    pub last_sync: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketSummary {
    pub ticket: u64,
    pub state: String,
    pub procedure: String,
    pub from: String,
    pub subject: String,
    pub created: jiff::Timestamp,
    pub drafts: usize,
    /// The procedure step it is at.
    #[serde(default)]
    pub step: Option<String>,
    /// The next armed deadline.
    #[serde(default)]
    pub next_deadline: Option<jiff::Timestamp>,
    /// A number the procedure allocated (e.g. "a20111128.3.4").
    #[serde(default)]
    pub case_number: Option<String>,
    /// The identity report in one line (staff only).
    #[serde(default)]
    pub identity: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusReport {
    pub generated: jiff::Timestamp,
    /// True when read from the running daemon's snapshot.
    #[serde(default)]
    pub snapshot: bool,
    pub folders: Vec<FolderStatus>,
    pub tickets: Vec<TicketSummary>,
    pub pending_actions: usize,
    pub quarantine: Vec<Quarantined>,
}

const SNAPSHOT: &str = "status.json";

impl StatusReport {
    pub fn from_store(store: &Store, synced: &BTreeMap<String, jiff::Timestamp>) -> Result<StatusReport, StoreError> {
        let folders = store
            .cursors()?
            .into_iter()
            .map(|(folder, c)| FolderStatus {
                last_sync: synced.get(&folder).copied(),
                folder,
                uidvalidity: c.validity,
                last_uid: c.last_uid,
            })
            .collect();
        let tickets = store.tickets()?.iter().map(summary).collect();
        Ok(StatusReport {
            generated: jiff::Timestamp::now(),
            snapshot: false,
            folders,
            tickets,
            pending_actions: store.pending_actions()?.len(),
            quarantine: store.quarantined()?,
        })
    }

    /// The store when it is free, else the running daemon's snapshot.
    pub fn load(store_path: &Path) -> Result<StatusReport, StoreError> {
        match Store::open(store_path) {
            Ok(store) => StatusReport::from_store(&store, &BTreeMap::new()),
            Err(StoreError::Locked { path }) => {
                let text = std::fs::read(store_path.join(SNAPSHOT)).map_err(|_| StoreError::Locked { path })?;
                let mut r: StatusReport = serde_json::from_slice(&text).map_err(|source| StoreError::Corrupt {
                    what: "status snapshot".into(),
                    source,
                })?;
                r.snapshot = true;
                Ok(r)
            }
            Err(e) => Err(e),
        }
    }

    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.snapshot {
            writeln!(out, "(the daemon is running; snapshot from {})", self.generated)?;
        }
        writeln!(out, "Folders:")?;
        for f in &self.folders {
            let when = f.last_sync.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
            writeln!(out, "  {:<20} uidvalidity {:<10} last uid {:<8} last sync {}", f.folder, f.uidvalidity, f.last_uid, when)?;
        }
        let open: Vec<_> = self.tickets.iter().filter(|t| t.state != "closed" && t.state != "answered").collect();
        writeln!(out, "Tickets: {} in all, {} open", self.tickets.len(), open.len())?;
        for t in open {
            let step = t.step.as_deref().map(|s| format!("/{s}")).unwrap_or_default();
            let due = t.next_deadline.map(|d| format!(" (due {d})")).unwrap_or_default();
            writeln!(out, "  #{:<5} {:<9} {}{step} — {} — {}{due}", t.ticket, t.state, t.procedure, t.from, t.subject)?;
            if let Some(id) = &t.identity {
                writeln!(out, "         {id}")?;
            }
        }
        writeln!(out, "Pending actions: {}", self.pending_actions)?;
        writeln!(out, "Quarantine: {}", self.quarantine.len())?;
        for q in &self.quarantine {
            writeln!(
                out,
                "  {} UID {} ({}): {}",
                q.folder,
                q.uid.uid,
                q.from.as_deref().unwrap_or("sender unknown"),
                q.reason
            )?;
        }
        Ok(())
    }
}

fn summary(t: &Ticket) -> TicketSummary {
    TicketSummary {
        ticket: t.id.0,
        state: serde_json::to_value(t.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        procedure: t.procedure.clone(),
        from: t.from.clone(),
        subject: t.subject.clone(),
        created: t.created,
        drafts: t.drafts.len(),
        step: t.step.clone(),
        next_deadline: t.deadlines.iter().map(|d| d.due).min(),
        identity: t.data.get("identity_summary").and_then(|v| v.as_str()).map(str::to_string),
        case_number: t.data.get("number").and_then(|n| {
            Some(format!("{}.{}", n.get("series")?.as_str()?, n.get("number")?.as_u64()?))
        }),
    }
}

/// Best effort: a failed snapshot only makes `status` staler.
pub fn write_snapshot(store: &Store, synced: &BTreeMap<String, jiff::Timestamp>) {
    let Ok(report) = StatusReport::from_store(store, synced) else {
        return;
    };
    let dir = store.path();
    let tmp = dir.join(format!("{SNAPSHOT}.tmp"));
    let ok = std::fs::write(&tmp, serde_json::to_vec_pretty(&report).unwrap_or_default())
        .and_then(|_| std::fs::rename(&tmp, dir.join(SNAPSHOT)));
    if let Err(e) = ok {
        tracing::debug!("status snapshot not written: {e}");
    }
}
