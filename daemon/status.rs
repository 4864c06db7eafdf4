//! `triaged status`: health (last sync and backlog per folder, deadlines,
//! the staff channel), tickets, pending work and quarantine. sled allows one
//! process per store, so while the daemon runs it keeps a snapshot
//! (`status.json` beside the database, replaced atomically) that `status`
//! reads instead.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::act::notice::irc::IrcHealth;
use crate::act::staff_action;
use crate::store::{Quarantined, Store, StoreError, Ticket};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FolderStatus {
    pub folder: String,
    pub uidvalidity: u32,
    pub last_uid: u32,
    pub last_sync: Option<jiff::Timestamp>,
    /// Messages after the cursor not handled yet, as of the last sync pass;
    /// unknown while the daemon is not running.
    #[serde(default)]
    pub backlog: Option<usize>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Deadlines {
    /// Due and not fired yet: the daemon fires them within a minute, so a
    /// long list here means it is stopped or stuck.
    pub due: Vec<DueDeadline>,
    pub next: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DueDeadline {
    pub ticket: u64,
    pub deadline: String,
    pub at: jiff::Timestamp,
}

/// What the running daemon knows beyond the store, shared by its tasks and
/// written into every snapshot.
#[derive(Debug, Clone, Default)]
pub struct Health {
    folders: Arc<Mutex<BTreeMap<String, FolderHealth>>>,
    irc: Option<watch::Receiver<IrcHealth>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct FolderHealth {
    last_sync: Option<jiff::Timestamp>,
    backlog: Option<usize>,
}

impl Health {
    /// Follows the staff channel's connection too.
    pub fn with_irc(self, irc: Option<watch::Receiver<IrcHealth>>) -> Health {
        Health { irc, ..self }
    }

    /// A sync pass over `folder` just finished.
    pub fn synced(&self, folder: &str) {
        self.update(folder, |f| f.last_sync = Some(jiff::Timestamp::now()));
    }

    /// `waiting` messages after the cursor are not handled yet.
    pub fn backlog(&self, folder: &str, waiting: usize) {
        self.update(folder, |f| f.backlog = Some(waiting));
    }

    fn update(&self, folder: &str, f: impl FnOnce(&mut FolderHealth)) {
        // A panic elsewhere while holding the lock leaves plain data behind.
        let mut folders = self.folders.lock().unwrap_or_else(|p| p.into_inner());
        f(folders.entry(folder.to_string()).or_default());
    }

    fn folders(&self) -> Vec<String> {
        self.folders.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect()
    }

    fn folder(&self, folder: &str) -> FolderHealth {
        let folders = self.folders.lock().unwrap_or_else(|p| p.into_inner());
        folders.get(folder).copied().unwrap_or_default()
    }
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
    /// What staff must carry out before the procedure goes on (`done N`).
    #[serde(default)]
    pub staff_action: Option<String>,
    /// The staff note of the step (never part of a draft).
    #[serde(default)]
    pub staff_note: Option<String>,
    /// The staff queue (CAcert: "SE", "dispute").
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub issue_type: Option<String>,
    /// A draft of ours waits in Drafts: open until Sent shows it.
    #[serde(default)]
    pub draft_waiting: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusReport {
    pub generated: jiff::Timestamp,
    /// True when read from the running daemon's snapshot.
    #[serde(default)]
    pub snapshot: bool,
    pub folders: Vec<FolderStatus>,
    #[serde(default)]
    pub deadlines: Deadlines,
    /// The staff channel; None without `[irc]` or while the daemon is not
    /// running.
    #[serde(default)]
    pub irc: Option<IrcHealth>,
    pub tickets: Vec<TicketSummary>,
    /// True when `tickets` holds only the newest: the running daemon's
    /// snapshot lists at most [`SNAPSHOT_TICKETS`].
    #[serde(default)]
    pub tickets_truncated: bool,
    pub pending_actions: usize,
    /// Notices waiting in the outbox, per sink ("irc", "webhook").
    #[serde(default)]
    pub queued_notices: BTreeMap<String, usize>,
    pub quarantine: Vec<Quarantined>,
}

const SNAPSHOT: &str = "status.json";
/// Tickets listed in the daemon's snapshot. Listing all of them meant
/// reading every ticket after every sync pass: at 10,000 tickets that cost
/// more memory than the rest of the daemon together.
pub const SNAPSHOT_TICKETS: usize = 500;

/// Which tickets a report lists.
#[derive(Debug, Clone, Copy)]
pub enum TicketList {
    All,
    Newest(usize),
}

impl StatusReport {
    pub fn from_store(store: &Store, health: &Health, list: TicketList) -> Result<StatusReport, StoreError> {
        let mut cursors: BTreeMap<String, (u32, u32)> =
            store.cursors()?.into_iter().map(|(f, c)| (f, (c.validity, c.last_uid))).collect();
        // A folder the daemon is reading for the first time has no cursor
        // yet, and may have the biggest backlog of all.
        for folder in health.folders() {
            cursors.entry(folder).or_default();
        }
        let folders = cursors
            .into_iter()
            .map(|(folder, (uidvalidity, last_uid))| {
                let h = health.folder(&folder);
                FolderStatus {
                    folder,
                    uidvalidity,
                    last_uid,
                    last_sync: h.last_sync,
                    backlog: h.backlog,
                }
            })
            .collect();
        let now = jiff::Timestamp::now();
        let deadlines = Deadlines {
            due: store
                .due_deadlines(now)?
                .into_iter()
                .map(|(at, ticket, deadline)| DueDeadline { ticket: ticket.0, deadline, at })
                .collect(),
            next: store.next_deadline()?,
        };
        let (tickets, tickets_truncated) = match list {
            TicketList::All => {
                let mut tickets = Vec::new();
                store.for_each_ticket(|t| tickets.push(summary(&t)))?;
                (tickets, false)
            }
            TicketList::Newest(n) => {
                let (newest, older) = store.newest_tickets(n)?;
                (newest.iter().map(summary).collect(), older)
            }
        };
        Ok(StatusReport {
            generated: now,
            snapshot: false,
            folders,
            deadlines,
            irc: health.irc.as_ref().map(|rx| rx.borrow().clone()),
            tickets,
            tickets_truncated,
            pending_actions: store.pending_actions()?.len(),
            queued_notices: store.queued_notices()?,
            quarantine: store.quarantined()?,
        })
    }

    /// The store when it is free, else the running daemon's snapshot.
    /// Opening the store locks it for a moment: see [`open_store_for_daemon`].
    pub fn load(store_path: &Path) -> Result<StatusReport, StoreError> {
        match Store::open(store_path) {
            Ok(store) => StatusReport::from_store(&store, &Health::default(), TicketList::All),
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
            let backlog = f.backlog.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "  {:<20} uidvalidity {:<10} last uid {:<8} last sync {:<28} backlog {}",
                f.folder, f.uidvalidity, f.last_uid, when, backlog
            )?;
        }
        let next = self.deadlines.next.map(|t| t.to_string()).unwrap_or_else(|| "none".into());
        writeln!(out, "Deadlines: {} due, next {}", self.deadlines.due.len(), next)?;
        for d in &self.deadlines.due {
            writeln!(out, "  #{:<5} {:<22} due {}", d.ticket, d.deadline, d.at)?;
        }
        match (&self.irc, self.snapshot) {
            (Some(irc), _) => writeln!(out, "IRC: {irc}")?,
            (None, true) => writeln!(out, "IRC: not configured")?,
            (None, false) => writeln!(out, "IRC: unknown (the daemon is not running)")?,
        }
        let open: Vec<_> =
            self.tickets.iter().filter(|t| t.draft_waiting || (t.state != "closed" && t.state != "answered")).collect();
        if self.tickets_truncated {
            writeln!(
                out,
                "Tickets: the newest {} ({} open among them; the running daemon's snapshot lists no older ones)",
                self.tickets.len(),
                open.len()
            )?;
        } else {
            writeln!(out, "Tickets: {} in all, {} open", self.tickets.len(), open.len())?;
        }
        for t in open {
            let step = t.step.as_deref().map(|s| format!("/{s}")).unwrap_or_default();
            let due = t.next_deadline.map(|d| format!(" (due {d})")).unwrap_or_default();
            let state = match (&t.staff_action, t.draft_waiting) {
                (Some(_), _) => "waiting for staff",
                (None, true) => "draft waiting",
                (None, false) => t.state.as_str(),
            };
            writeln!(out, "  #{:<5} {:<9} {}{step} — {} — {}{due}", t.ticket, state, t.procedure, t.from, t.subject)?;
            if let Some(id) = &t.identity {
                writeln!(out, "         {id}")?;
            }
            let mut about = Vec::new();
            about.extend(t.queue.as_ref().map(|q| format!("queue {q}")));
            about.extend(t.issue_type.as_ref().map(|i| format!("issue type {i}")));
            if !about.is_empty() {
                writeln!(out, "         {}", about.join(", "))?;
            }
            if let Some(a) = &t.staff_action {
                writeln!(out, "         staff action: {a}, then `triaged done {}`", t.ticket)?;
            }
            if let Some(n) = &t.staff_note {
                for line in n.lines().filter(|l| !l.trim().is_empty()) {
                    writeln!(out, "         | {}", line.trim_end())?;
                }
            }
        }
        writeln!(out, "Pending actions: {}", self.pending_actions)?;
        if self.queued_notices.is_empty() {
            writeln!(out, "Queued notices: none")?;
        } else {
            let per: Vec<String> = self.queued_notices.iter().map(|(sink, n)| format!("{sink} {n}")).collect();
            writeln!(out, "Queued notices: {}", per.join(", "))?;
        }
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
        staff_action: staff_action::pending(t).map(str::to_string),
        staff_note: t.data.get("staff_note").and_then(|v| v.as_str()).map(str::to_string),
        queue: t.queue.clone(),
        issue_type: t.data.get("issue_type").and_then(|v| v.as_str()).map(str::to_string),
        draft_waiting: staff_action::waiting_draft(t),
    }
}

/// Opens the store for the daemon. `triaged status` holds the store for a
/// few milliseconds while the daemon is not running (or has not written
/// its first snapshot yet); a daemon starting at that moment waits for it
/// instead of failing. A store still locked after a few seconds belongs to
/// another daemon.
pub async fn open_store_for_daemon(path: &Path) -> Result<Store, StoreError> {
    let path = path.to_path_buf();
    let waiting = path.clone();
    tokio::task::spawn_blocking(move || Store::open_waiting(&waiting, Duration::from_secs(5)))
        .await
        .unwrap_or_else(|e| Err(StoreError::Open { path, source: sled::Error::Io(std::io::Error::other(e.to_string())) }))
}

/// Keeps the snapshot fresh between sync passes: at once when the staff
/// channel's state changes, else every minute (deadlines come due while
/// the folders are quiet).
pub fn spawn_snapshots(store: Store, health: Health, cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut irc = health.irc.clone();
        loop {
            let irc_changed = async {
                let changed = match irc.as_mut() {
                    Some(rx) => rx.changed().await.is_ok(),
                    None => false,
                };
                // No IRC, or its task is gone: only the clock is left.
                if !changed {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                _ = irc_changed => {}
            }
            let (store, health) = (store.clone(), health.clone());
            let _ = tokio::task::spawn_blocking(move || write_snapshot(&store, &health)).await;
        }
    });
}

/// Best effort: a failed snapshot only makes `status` staler. Each write
/// has its own temporary file, as several tasks write snapshots.
pub fn write_snapshot(store: &Store, health: &Health) {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let Ok(report) = StatusReport::from_store(store, health, TicketList::Newest(SNAPSHOT_TICKETS)) else {
        return;
    };
    let dir = store.path();
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!("{SNAPSHOT}.{n}.tmp"));
    let ok = std::fs::write(&tmp, serde_json::to_vec_pretty(&report).unwrap_or_default())
        .and_then(|_| std::fs::rename(&tmp, dir.join(SNAPSHOT)));
    if let Err(e) = ok {
        let _ = std::fs::remove_file(&tmp);
        tracing::debug!("status snapshot not written: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Intake, Uid};

    #[test]
    fn the_snapshot_lists_only_the_newest_tickets_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for n in 1..=3u32 {
            let intake = Intake {
                folder: "INBOX".into(),
                uid: Uid { validity: 1, uid: n },
                message_id: format!("m{n}@x"),
            };
            let t = Ticket::new(store.next_ticket_id().unwrap(), &intake, "a@x", &format!("subject {n}"), "p");
            store.open_ticket(&t, &intake, &[], None).unwrap();
        }
        let all = StatusReport::from_store(&store, &Health::default(), TicketList::All).unwrap();
        assert_eq!((all.tickets.len(), all.tickets_truncated), (3, false));
        let capped = StatusReport::from_store(&store, &Health::default(), TicketList::Newest(2)).unwrap();
        let numbers: Vec<u64> = capped.tickets.iter().map(|t| t.ticket).collect();
        assert_eq!((numbers, capped.tickets_truncated), (vec![2, 3], true));
        let mut text = Vec::new();
        capped.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("Tickets: the newest 2 (2 open among them"), "{text}");
        assert!(!text.contains("subject 1"), "{text}");
    }
}
