//! `triaged status`: health (last sync and backlog per folder, deadlines,
//! the staff channel), tickets, pending work and quarantine. The store allows one
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

mod window;

use crate::staff::irc::IrcHealth;
use crate::classify::aside::{Aside, AsideKind, SET_ASIDE};
use crate::act::staff_action;
use crate::store::{Quarantined, Store, StoreError, Ticket, TicketState};

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
    /// The folder does not exist on the server and could not be created
    /// (the sent folder: staff answers go untracked).
    #[serde(default)]
    pub missing: bool,
    /// Sync passes fail (the server is down, the login refused): since
    /// when, and the latest error. Cleared by the next good pass.
    #[serde(default)]
    pub failing: Option<SyncFailure>,
    /// The last sync is an earlier daemon's: this one has not completed a
    /// pass over the folder. Known from the pass itself, not by comparing
    /// whole seconds with the start (a daemon started within the second
    /// of the last pass).
    #[serde(default)]
    pub earlier_run: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncFailure {
    pub since: jiff::Timestamp,
    pub error: String,
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
    /// When this daemon started; None outside the daemon.
    started: Option<jiff::Timestamp>,
    folders: Arc<Mutex<BTreeMap<String, FolderHealth>>>,
    irc: Option<watch::Receiver<IrcHealth>>,
    /// The newest tickets, kept between snapshots.
    newest: window::NewestTickets,
}

#[derive(Debug, Clone, Default)]
struct FolderHealth {
    last_sync: Option<jiff::Timestamp>,
    /// `last_sync` carried over from the last snapshot.
    earlier_run: bool,
    backlog: Option<usize>,
    missing: bool,
    failing: Option<SyncFailure>,
}

impl Health {
    /// A daemon starting on the store at `store_path`, to sync `folders`.
    /// Each folder's last sync carries over from the last snapshot: a
    /// daemon that cannot reach the server must not forget when it was
    /// last reached, which is what the operator needs most then.
    pub fn starting(store_path: &Path, folders: &[String]) -> Health {
        let health = Health { started: Some(to_seconds(jiff::Timestamp::now())), ..Health::default() };
        if let Some(last) = StatusReport::last_snapshot(store_path) {
            for f in last.folders.iter().filter(|f| folders.contains(&f.folder)) {
                health.update(&f.folder, |h| {
                    h.last_sync = f.last_sync;
                    h.earlier_run = f.last_sync.is_some();
                });
            }
        }
        health
    }

    /// Follows the staff channel's connection too.
    pub fn with_irc(self, irc: Option<watch::Receiver<IrcHealth>>) -> Health {
        Health { irc, ..self }
    }

    /// A sync pass over `folder` just finished.
    pub fn synced(&self, folder: &str) {
        self.update(folder, |f| {
            f.last_sync = Some(to_seconds(jiff::Timestamp::now()));
            f.earlier_run = false;
            f.failing = None;
        });
    }

    /// A session with the server over `folder` ended in `error`; whether
    /// that is news (not the error it was failing with already).
    pub fn failed(&self, folder: &str, error: &str) -> bool {
        let mut new = true;
        self.update(folder, |f| {
            new = f.failing.as_ref().is_none_or(|old| old.error != error);
            let since = f.failing.take().map_or_else(|| to_seconds(jiff::Timestamp::now()), |old| old.since);
            f.failing = Some(SyncFailure { since, error: error.to_string() });
        });
        new
    }

    /// `folder` is not on the server, and could not be created.
    pub fn missing(&self, folder: &str) {
        self.update(folder, |f| f.missing = true);
    }

    pub fn present(&self, folder: &str) {
        self.update(folder, |f| f.missing = false);
    }

    pub fn is_missing(&self, folder: &str) -> bool {
        self.folder(folder).missing
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
        folders.get(folder).cloned().unwrap_or_default()
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
    /// Who claimed it in the staff channel, and since when.
    #[serde(default)]
    pub claimed_by: Option<String>,
    #[serde(default)]
    pub claimed_since: Option<jiff::Timestamp>,
    /// Why the message was set aside (not a request), while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<Aside>,
    /// What staff must carry out before the procedure goes on (`done N`).
    #[serde(default)]
    pub staff_action: Option<String>,
    /// A staff action the user took back before staff said it was done:
    /// staff say whether they had carried it out (`done N`) or not
    /// (`not-done N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_back: Option<String>,
    /// The user put it off rather than took it back: not carried out, it
    /// stays on hold until they confirm again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub put_off: bool,
    /// The staff note of the step (never part of a draft).
    #[serde(default)]
    pub staff_note: Option<String>,
    /// Why a person must look (a reply the procedure does not cover), as
    /// `!show` says it: "needs a person: ...".
    #[serde(default)]
    pub needs_person: Option<String>,
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
    /// When the daemon that wrote the snapshot started: a last sync before
    /// this is an earlier run's.
    #[serde(default)]
    pub started: Option<jiff::Timestamp>,
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
    /// Tickets whose draft is planned but not yet in the drafts folder.
    #[serde(default)]
    pub unsent_drafts: Vec<u64>,
    /// Notices waiting in the outbox, per sink ("irc", "webhook").
    #[serde(default)]
    pub queued_notices: BTreeMap<String, usize>,
    pub quarantine: Vec<Quarantined>,
    /// The store's files on disk, in bytes (None in a snapshot written
    /// before this was reported).
    #[serde(default)]
    pub store_bytes: Option<u64>,
    /// Tickets set aside (bounce, auto-reply, bulk, spam) among `tickets`,
    /// per kind.
    #[serde(default)]
    pub set_aside: BTreeMap<AsideKind, usize>,
    /// When the last daily line of mail set aside went, local
    /// ("2026-11-30 09:00"); `None` before the first.
    #[serde(default)]
    pub set_aside_told: Option<String>,
    /// Whether the config names a staff channel (`[irc]`): read from the
    /// config by `triaged status`, so that a stopped daemon's report says
    /// "not configured" rather than "unknown". Not part of the JSON.
    #[serde(skip)]
    pub irc_configured: Option<bool>,
}

const SNAPSHOT: &str = "status.json";

/// Times as people read them: to the second.
/// How long a folder's sync must have been failing before `status
/// --check` calls it a problem: longer than a reconnect after the server
/// drops an idle connection takes (the daemon's first retry is within
/// seconds), shorter than a monitor's usual interval.
pub const SYNC_FAILING_ALERT: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

fn to_seconds(t: jiff::Timestamp) -> jiff::Timestamp {
    t.round(jiff::Unit::Second).unwrap_or(t)
}

/// How long ago, in the largest two units: "3d 4h", "12m 5s".
fn age(since: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let s = now.as_second().saturating_sub(since.as_second()).max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m {}s", s % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Set-aside tickets the text report lists, newest first.
const SET_ASIDE_LISTED: usize = 10;
/// Tickets listed in the daemon's snapshot. Listing all of them meant
/// reading every ticket after every sync pass: at 10,000 tickets that cost
/// more memory than the rest of the daemon together.
pub const SNAPSHOT_TICKETS: usize = 500;
/// A folder backlog `status --check` reports: more than a sync pass takes
/// in stride.
pub const BACKLOG_ALERT: usize = 100;

/// Which tickets a report lists.
#[derive(Debug, Clone, Copy)]
pub enum TicketList {
    All,
    Newest(usize),
    /// None: the daemon's snapshot adds the newest itself (see
    /// `write_snapshot`).
    Omitted,
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
                    missing: h.missing,
                    failing: h.failing,
                    earlier_run: h.earlier_run,
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
                // Read only to list every ticket: there is a claim for
                // each ticket being worked on, and the snapshot written
                // after every sync pass lists no ticket from here.
                let claims: BTreeMap<u64, crate::store::claims::Claim> = store.claims()?.into_iter().map(|(t, c)| (t.0, c)).collect();
                let mut tickets = Vec::new();
                store.for_each_ticket(|t| {
                    let mut s = summary(&t);
                    if let Some(c) = claims.get(&s.ticket) {
                        s.claimed_by = Some(c.nick.clone());
                        s.claimed_since = Some(to_seconds(c.since));
                    }
                    tickets.push(s)
                })?;
                (tickets, false)
            }
            TicketList::Newest(n) => health.newest.read(store, n)?,
            TicketList::Omitted => (Vec::new(), false),
        };
        let pending = store.pending_actions()?;
        let mut unsent_drafts: Vec<u64> = pending
            .iter()
            .filter_map(|(_, a)| match a {
                crate::store::Action::AppendDraft { ticket, .. } => Some(ticket.0),
                crate::store::Action::WithdrawDraft { .. } => None,
            })
            .collect();
        unsent_drafts.sort_unstable();
        unsent_drafts.dedup();
        // Rounded up: a snapshot is never dated before the state it shows
        // (a reader waiting for a snapshot newer than a moment relies on it).
        let generated = now
            .round(jiff::TimestampRound::new().smallest(jiff::Unit::Second).mode(jiff::RoundMode::Ceil))
            .unwrap_or(now);
        Ok(StatusReport {
            generated,
            snapshot: false,
            started: health.started,
            folders,
            deadlines,
            irc: health.irc.as_ref().map(|rx| rx.borrow().clone()),
            tickets_truncated,
            pending_actions: pending.len(),
            unsent_drafts,
            queued_notices: store.queued_notices()?,
            quarantine: store.quarantined()?,
            store_bytes: store.size_on_disk().ok(),
            set_aside: set_aside_per_kind(&tickets),
            set_aside_told: store.aside_mark()?.map(|m| m.at),
            irc_configured: None,
            tickets,
        })
    }

    /// The snapshot the daemon wrote last, if there is one to read.
    fn last_snapshot(store_path: &Path) -> Option<StatusReport> {
        let text = std::fs::read(store_path.join(SNAPSHOT)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// The store when it is free, else the running daemon's snapshot.
    /// Opening the store locks it for a moment: see [`open_store_for_daemon`].
    pub fn load(store_path: &Path) -> Result<StatusReport, StoreError> {
        match Store::open(store_path) {
            Ok(store) => {
                let mut r = StatusReport::from_store(&store, &Health::default(), TicketList::All)?;
                // The daemon is stopped: its last snapshot still says when
                // each folder was last synced, and whether syncing failed
                // (a folder never synced has no cursor in the store).
                if let Some(last) = StatusReport::last_snapshot(store_path) {
                    for old in last.folders {
                        let backlog = None;
                        match r.folders.iter_mut().find(|f| f.folder == old.folder) {
                            Some(f) => *f = FolderStatus { uidvalidity: f.uidvalidity, last_uid: f.last_uid, backlog, ..old },
                            None => r.folders.push(FolderStatus { backlog, ..old }),
                        }
                    }
                    r.folders.sort_by(|a, b| a.folder.cmp(&b.folder));
                }
                Ok(r)
            }
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

    /// What a monitor should hear about (`triaged status --check`): the
    /// daemon stopped, mail in quarantine, a backlog, deadlines it did not
    /// fire, a missing folder, the staff channel down. Empty when all is
    /// well.
    pub fn problems(&self) -> Vec<String> {
        self.problems_at(jiff::Timestamp::now())
    }

    /// [`StatusReport::problems`] as seen at `now`: a sync failing for less
    /// than [`SYNC_FAILING_ALERT`] is a connection the server dropped and
    /// the daemon is making again, not yet a problem.
    pub fn problems_at(&self, now: jiff::Timestamp) -> Vec<String> {
        let mut out = Vec::new();
        if !self.snapshot {
            out.push("the daemon is not running".to_string());
        }
        if !self.quarantine.is_empty() {
            let n = self.quarantine.len();
            out.push(format!("{n} {} in quarantine; `triaged status` lists them", if n == 1 { "message" } else { "messages" }));
        }
        for f in &self.folders {
            if let Some(n) = f.backlog.filter(|n| *n >= BACKLOG_ALERT) {
                out.push(format!("{}: {n} messages waiting", f.folder));
            }
            if f.missing {
                out.push(format!("{}: the folder does not exist on the server", f.folder));
            }
            if let Some(e) = f.failing.as_ref().filter(|e| now.duration_since(e.since) >= SYNC_FAILING_ALERT) {
                out.push(format!("{}: sync failing since {}: {}", f.folder, e.since, e.error));
            }
        }
        if !self.deadlines.due.is_empty() {
            let n = self.deadlines.due.len();
            out.push(format!("{n} {} due and not fired", if n == 1 { "deadline" } else { "deadlines" }));
        }
        if let Some(irc) = self.irc.as_ref().filter(|i| i.state != crate::staff::irc::IrcState::Joined) {
            out.push(format!("staff channel: {irc}"));
        }
        out
    }

    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.snapshot {
            writeln!(out, "(the daemon is running; snapshot from {})", self.generated)?;
        }
        writeln!(out, "Folders:")?;
        for f in &self.folders {
            let when = match (f.last_sync, self.snapshot) {
                (Some(t), true) if f.earlier_run => format!("{t} (none since the daemon started)"),
                (Some(t), true) => t.to_string(),
                (Some(t), false) => format!("{t} (daemon not running)"),
                (None, true) => "not yet".into(),
                (None, false) => "never (daemon not running)".into(),
            };
            let backlog = f.backlog.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "  {:<20} uidvalidity {:<10} last uid {:<8} last sync {:<28} backlog {}",
                f.folder, f.uidvalidity, f.last_uid, when, backlog
            )?;
            if f.missing {
                writeln!(out, "    missing on the server: staff clients cannot file mail there; create it, or fix imap.sent")?;
            }
            match (&f.failing, self.snapshot) {
                (Some(e), true) => writeln!(out, "    sync failing since {}: {}", e.since, e.error)?,
                (Some(e), false) => writeln!(out, "    sync was failing when the daemon stopped (since {}): {}", e.since, e.error)?,
                (None, _) => {}
            }
        }
        let next = self.deadlines.next.map(|t| t.to_string()).unwrap_or_else(|| "none".into());
        writeln!(out, "Deadlines: {} due, next {}", self.deadlines.due.len(), next)?;
        for d in &self.deadlines.due {
            writeln!(out, "  #{:<5} {:<22} due {}", d.ticket, d.deadline, d.at)?;
        }
        match (&self.irc, self.snapshot) {
            (Some(irc), _) => writeln!(out, "IRC: {irc}")?,
            (None, true) => writeln!(out, "IRC: not configured")?,
            (None, false) if self.irc_configured == Some(false) => writeln!(out, "IRC: not configured")?,
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
            let claim = t.claimed_by.as_deref().map(|n| format!(", claimed by {n}")).unwrap_or_default();
            let age = age(t.created, self.generated);
            let state = staff_action::shown_state(&t.state, t.staff_action.is_some(), t.draft_waiting);
            writeln!(out, "  #{:<5} {:<9} {}{step} — {} — {}{due} — age {age}{claim}", t.ticket, state, t.procedure, t.from, t.subject)?;
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
            if let Some(a) = &t.taken_back {
                writeln!(out, "         {}", crate::staff::lines::taken_back(a, t.put_off, crate::store::TicketId(t.ticket), false))?;
            }
            if let Some(n) = &t.staff_note {
                for line in n.lines().filter(|l| !l.trim().is_empty()) {
                    writeln!(out, "         | {}", line.trim_end())?;
                }
            }
            if let Some(h) = &t.needs_person {
                writeln!(out, "         needs a person: {h}")?;
            }
        }
        if self.unsent_drafts.is_empty() {
            writeln!(out, "Pending actions: {}", self.pending_actions)?;
        } else {
            let list: Vec<String> = self.unsent_drafts.iter().map(|n| format!("#{n}")).collect();
            writeln!(out, "Pending actions: {} (unsent drafts for {})", self.pending_actions, list.join(", "))?;
        }
        let aside: Vec<&TicketSummary> = self.tickets.iter().filter(|t| t.set_aside.is_some()).collect();
        if aside.is_empty() {
            writeln!(out, "Set aside: none")?;
        } else {
            // Counted here from the tickets listed, so that the breakdown
            // always adds up to the number before it.
            let per: Vec<String> =
                set_aside_per_kind(aside.iter().copied()).iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect();
            writeln!(
                out,
                "Set aside (no draft; `triaged reclassify N PROCEDURE` answers one): {} ({})",
                aside.len(),
                per.join(", ")
            )?;
            if let Some(at) = &self.set_aside_told {
                writeln!(out, "  (the staff channel's daily line has told of those set aside before {at})")?;
            }
            for t in aside.iter().rev().take(SET_ASIDE_LISTED) {
                let why = t.set_aside.as_ref().map(|a| a.reason.as_str()).unwrap_or_default();
                writeln!(out, "  #{:<5} {} — {} — {why}", t.ticket, t.from, t.subject)?;
            }
            if aside.len() > SET_ASIDE_LISTED {
                writeln!(out, "  … {} older (status --json lists them)", aside.len() - SET_ASIDE_LISTED)?;
            }
        }
        if self.queued_notices.is_empty() {
            writeln!(out, "Queued notices: none")?;
        } else {
            let per: Vec<String> = self.queued_notices.iter().map(|(sink, n)| format!("{sink} {n}")).collect();
            writeln!(out, "Queued notices: {}", per.join(", "))?;
        }
        if let Some(bytes) = self.store_bytes {
            writeln!(out, "Store: {:.1} MiB on disk", bytes as f64 / 1048576.0)?;
        }
        writeln!(out, "Quarantine: {}", self.quarantine.len())?;
        for q in &self.quarantine {
            let ticket = q.ticket.map(|n| format!(" [reply to ticket #{n}]")).unwrap_or_default();
            writeln!(
                out,
                "  {} UID {} ({}) at {}{ticket}: {}",
                q.folder,
                q.uid.uid,
                q.from.as_deref().unwrap_or("sender unknown"),
                to_seconds(q.at),
                q.reason
            )?;
        }
        Ok(())
    }
}

/// How many of `tickets` are set aside, per kind: what the report's
/// `set_aside` holds, counted from whichever tickets it lists.
fn set_aside_per_kind<'a>(tickets: impl IntoIterator<Item = &'a TicketSummary>) -> BTreeMap<AsideKind, usize> {
    let mut per = BTreeMap::new();
    for kind in tickets.into_iter().filter_map(|t| t.set_aside.as_ref()).map(|a| a.kind) {
        *per.entry(kind).or_default() += 1;
    }
    per
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
        created: to_seconds(t.created),
        drafts: t.drafts.len(),
        step: t.step.clone(),
        next_deadline: t.deadlines.iter().map(|d| d.due).min().map(to_seconds),
        claimed_by: None,
        claimed_since: None,
        identity: t.notes.identity_summary.clone(),
        set_aside: (t.procedure == SET_ASIDE).then(|| t.notes.set_aside.clone()).flatten(),
        case_number: t.notes.number.as_ref().map(ToString::to_string),
        staff_action: staff_action::pending(t).map(str::to_string),
        taken_back: staff_action::withdrawn(t).map(str::to_string),
        put_off: staff_action::withdrawn(t).is_some() && t.notes.withdrawn_put_off == Some(true),
        staff_note: t.notes.staff_note.clone(),
        needs_person: t.notes.handoff.clone().filter(|_| t.state != TicketState::Closed),
        queue: t.queue.clone(),
        issue_type: t.notes.issue_type.clone(),
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
        .unwrap_or_else(|e| Err(StoreError::Open { path, source: redb::Error::Io(std::io::Error::other(e.to_string())) }))
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

/// Writes the snapshot as JSON to `out`: the report without tickets,
/// with the newest tickets' JSON kept by the window put in their place.
/// Encoding 500 tickets after every sync pass cost more than the pass on a
/// store with a history; this encodes only the tickets written since the
/// last snapshot. The tickets go straight from the window to `out`: built
/// as one string first (twice: the list, then the report around it), the
/// 230 KB of a full window took a tenth of a profiled stream's CPU on a
/// store with a history, most of it faulting in fresh pages for each copy
/// (docs/BENCHMARKS.md, "A store with a history").
fn write_snapshot_json(out: &mut impl Write, store: &Store, health: &Health) -> Option<()> {
    let mut report = StatusReport::from_store(store, health, TicketList::Omitted).ok()?;
    let written = health.newest.with_json(store, SNAPSHOT_TICKETS, |tickets| {
        report.tickets_truncated = tickets.older();
        report.set_aside = set_aside_per_kind(tickets.summaries());
        let json = serde_json::to_string(&report).map_err(std::io::Error::other)?;
        // The key's own quotes: a string value with the same text would
        // have its quotes escaped, so this finds the field and nothing else.
        const EMPTY: &str = "\"tickets\":[]";
        let at = json.find(EMPTY).ok_or_else(|| std::io::Error::other("no ticket list in the report"))?;
        out.write_all(json[..at].as_bytes())?;
        out.write_all(b"\"tickets\":")?;
        tickets.write_to(out)?;
        out.write_all(json[at + EMPTY.len()..].as_bytes())
    });
    written.ok()?.ok()
}

/// Best effort: a failed snapshot only makes `status` staler. Each write
/// has its own temporary file, as several tasks write snapshots.
pub fn write_snapshot(store: &Store, health: &Health) {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let dir = store.path();
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!("{SNAPSHOT}.{n}.tmp"));
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, f);
        write_snapshot_json(&mut out, store, health).ok_or_else(|| std::io::Error::other("cannot make the snapshot"))?;
        out.flush()
    });
    let ok = written.and_then(|_| std::fs::rename(&tmp, dir.join(SNAPSHOT)));
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

    #[test]
    fn the_written_snapshot_reads_back_as_the_report_it_stands_for() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let health = Health::default();
        for n in 1..=3u32 {
            let intake = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: n }, message_id: format!("m{n}@x") };
            // A subject that spells the field the snapshot fills in.
            let t = Ticket::new(store.next_ticket_id().unwrap(), &intake, "a@x", "\"tickets\":[]", "p");
            store.open_ticket(&t, &intake, &[], None).unwrap();
            write_snapshot(&store, &health);
        }
        store.claim(crate::store::TicketId(2), "alice", jiff::Timestamp::now()).unwrap();
        write_snapshot(&store, &health);
        // The store is ours, so `load` reads the snapshot.
        let read = StatusReport::load(dir.path()).unwrap();
        let fresh = StatusReport::from_store(&store, &Health::default(), TicketList::Newest(SNAPSHOT_TICKETS)).unwrap();
        assert!(read.snapshot);
        let json = |r: &StatusReport| serde_json::to_value(&r.tickets).unwrap();
        assert_eq!(json(&read), json(&fresh));
        assert_eq!(read.tickets[1].state, "claimed");
        assert_eq!(read.tickets[0].subject, "\"tickets\":[]");
    }

    fn text(r: &StatusReport) -> String {
        let mut out = Vec::new();
        r.write_text(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A review found `Set aside …: 3 ()` while the daemon ran: the
    /// snapshot counted kinds from a ticket list it had left empty.
    #[test]
    fn the_snapshot_counts_set_aside_mail_per_kind_as_the_store_does() {
        use crate::classify::aside::{Aside, AsideKind};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (n, kind) in [(1u32, Some(AsideKind::Bounce)), (2, Some(AsideKind::AutoReply)), (3, None), (4, Some(AsideKind::Bounce))] {
            let intake = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: n }, message_id: format!("m{n}@x") };
            let procedure = if kind.is_some() { SET_ASIDE } else { "p" };
            let mut t = Ticket::new(store.next_ticket_id().unwrap(), &intake, "a@x", "s", procedure);
            t.notes.set_aside = kind.map(|kind| Aside { kind, reason: "why".into() });
            store.open_ticket(&t, &intake, &[], None).unwrap();
        }
        let stopped = StatusReport::from_store(&store, &Health::default(), TicketList::All).unwrap();
        write_snapshot(&store, &Health::default());
        // The store is ours, so `load` reads the snapshot.
        let running = StatusReport::load(dir.path()).unwrap();
        assert!(running.snapshot);
        let expected = BTreeMap::from([(AsideKind::Bounce, 2), (AsideKind::AutoReply, 1)]);
        assert_eq!((&stopped.set_aside, &running.set_aside), (&expected, &expected));
        for r in [&stopped, &running] {
            assert!(text(r).contains("(no draft; `triaged reclassify N PROCEDURE` answers one): 3 (bounce 2, auto-reply 1)\n"), "{}", text(r));
        }
    }

    /// A review found `last sync never` after a run that could not reach
    /// the server: the new daemon's empty health replaced the snapshot.
    #[test]
    fn a_daemon_that_cannot_sync_keeps_the_last_good_sync_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = Health::starting(dir.path(), &["INBOX".into()]);
        first.synced("INBOX");
        write_snapshot(&store, &first);
        let synced = StatusReport::from_store(&store, &first, TicketList::Omitted).unwrap().folders[0].last_sync;
        assert!(synced.is_some());

        // The next daemon, started a second later, cannot reach the server.
        std::thread::sleep(Duration::from_millis(1100));
        let next = Health::starting(dir.path(), &["INBOX".into(), "Sent".into()]);
        next.failed("INBOX", "cannot connect to 127.0.0.1:9: refused");
        next.failed("INBOX", "cannot connect to 127.0.0.1:9: still refused");
        write_snapshot(&store, &next);
        let running = StatusReport::load(dir.path()).unwrap();
        let inbox = &running.folders[0];
        assert_eq!((inbox.folder.as_str(), inbox.last_sync), ("INBOX", synced));
        let failing = inbox.failing.clone().unwrap();
        assert_eq!(failing.error, "cannot connect to 127.0.0.1:9: still refused");
        let shown = text(&running);
        let since = running.started.unwrap();
        assert!(shown.contains(&format!("last sync {} (none since the daemon started)", synced.unwrap())), "{shown}");
        assert!(shown.contains(&format!("    sync failing since {}: cannot connect to 127.0.0.1:9: still refused\n", failing.since)), "{shown}");
        assert!(failing.since >= since);
        // A monitor hears of it once it has lasted a minute, not during a
        // reconnect.
        let soon = running.problems_at(failing.since + jiff::SignedDuration::from_secs(5));
        assert!(!soon.iter().any(|p| p.contains("sync failing")), "{soon:?}");
        let later = running.problems_at(failing.since + SYNC_FAILING_ALERT);
        assert!(later.iter().any(|p| p.starts_with("INBOX: sync failing since")), "{later:?}");

        // Stopped: the same last sync, and the failure it stopped with.
        drop(store);
        let stopped = StatusReport::load(dir.path()).unwrap();
        assert!(!stopped.snapshot);
        let shown = text(&stopped);
        assert!(shown.contains(&format!("last sync {} (daemon not running)", synced.unwrap())), "{shown}");
        assert!(shown.contains("    sync was failing when the daemon stopped (since"), "{shown}");

        // A good pass clears the failure and is this daemon's own.
        next.synced("INBOX");
        let store = Store::open(dir.path()).unwrap();
        let good = StatusReport::from_store(&store, &next, TicketList::Omitted).unwrap();
        assert!(good.folders[0].failing.is_none() && good.folders[0].last_sync > synced);
        let shown = text(&StatusReport { snapshot: true, ..good });
        assert!(!shown.contains("none since") && !shown.contains("failing"), "{shown}");
    }

    #[test]
    fn tickets_show_their_claim_and_age_to_the_second() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let intake = Intake {
            folder: "INBOX".into(),
            uid: Uid { validity: 1, uid: 1 },
            message_id: "m1@x".into(),
        };
        let mut t = Ticket::new(store.next_ticket_id().unwrap(), &intake, "a@x", "help", "p");
        t.created = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(3 * 86_400 + 4 * 3600 + 17);
        store.open_ticket(&t, &intake, &[], None).unwrap();
        store.claim(t.id, "alice", jiff::Timestamp::now()).unwrap();
        let r = StatusReport::from_store(&store, &Health::default(), TicketList::All).unwrap();
        assert_eq!(r.tickets[0].claimed_by.as_deref(), Some("alice"));
        assert_eq!(r.generated.subsec_nanosecond(), 0);
        assert_eq!(r.tickets[0].created.subsec_nanosecond(), 0);
        let mut text = Vec::new();
        r.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("— age 3d 4h, claimed by alice"), "{text}");
        assert!(r.problems().contains(&"the daemon is not running".to_string()), "{:?}", r.problems());
    }

    #[test]
    fn ages_read_in_two_units() {
        let now = jiff::Timestamp::from_second(1_000_000).unwrap();
        let ago = |s: i64| age(jiff::Timestamp::from_second(1_000_000 - s).unwrap(), now);
        assert_eq!(ago(5), "5s");
        assert_eq!(ago(125), "2m 5s");
        assert_eq!(ago(3 * 3600 + 120), "3h 2m");
        assert_eq!(ago(2 * 86_400 + 3600), "2d 1h");
    }
}
