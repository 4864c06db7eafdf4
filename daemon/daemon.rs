//! The long-running job: one worker per watched folder, each owning one
//! IMAP session through select → sync → idle (or poll) → … and reconnecting
//! through the shared backoff policy. A message that cannot be handled is
//! quarantined and never blocks the ones behind it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::staff::{self, Notice, Notifier, StaffCommand};
use crate::act::{ActError, Actor, Handled, Sent};
use crate::backoff::Backoff;
use crate::classify::sensitive::redact;
use crate::config::Config;
use crate::mailbox::{Connection, Waiting, Woke, plans};
use crate::message::Message;
use crate::status;
use crate::store::{Action, Commit, Quarantined, Store, StoreError, Uid};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Act(#[from] ActError),
    #[error("folder {folder}: {source}")]
    Folder { folder: String, source: ActError },
    #[error("worker for {0} stopped unexpectedly")]
    Worker(String),
}

/// What a watched folder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Support mail: each message opens or joins a ticket.
    Support,
    /// Staff's sent mail: each message may answer a ticket.
    Sent,
}

struct Worker {
    folder: String,
    role: Role,
    config: Arc<Config>,
    actor: Arc<Actor>,
    cancel: CancellationToken,
    once: bool,
    health: status::Health,
}

/// Attempts at a message whose ticket number another worker took first.
const INTAKE_TRIES: u32 = 3;

/// What `take` made of a message.
enum Taken {
    /// Nothing more to do (duplicate, quarantined).
    Done(Disposition),
    /// A ticket opened or advanced; its drafts still to append.
    Handled(Handled),
}

/// A batch fetched (or to be handled one message at a time).
enum FetchedBatch<'b> {
    Bodies(&'b [Waiting], std::collections::HashMap<u32, Vec<u8>>),
    OneByOne(&'b [Waiting]),
}

/// A batch whose tickets and drafts are planned and stored, its drafts not
/// appended yet.
#[derive(Default)]
struct PlannedBatch {
    actions: Vec<(u64, Action)>,
    handled: Vec<Handled>,
    dispositions: Vec<(u32, Disposition)>,
}

/// Messages per batch, and bytes fetched per batch: one round trip for
/// many small messages, bounded memory for large ones. The pipeline holds
/// the bodies of at most one budget at once (the batch being planned and
/// the one being fetched together), or one message over it alone, so
/// bodies in memory are at most `max(BATCH_BYTES, largest message)`. At
/// 16 MiB a backlog with attachments of a few MiB kept 15 MB of bodies
/// alive beside a 10 MB message's (docs/BENCHMARKS.md, "A realistic
/// backlog"); 64 ordinary requests are well under 1 MiB, so 4 MiB costs
/// them no round trips.
const BATCH_MESSAGES: usize = 64;
const BATCH_BYTES: u64 = 4 * 1024 * 1024;

/// How far apart the passes of a worker begin when mail arrives during a
/// pass. Each pass has costs of its own, whatever it holds: the server's
/// sync of the folder at each command (Dovecot's maildir reads the whole
/// folder when it changed, so these grow with the folder), three commits,
/// the status snapshot. Starting the next pass at once made passes of one
/// or two messages as soon as a pass took longer than mail took to come:
/// in a 30-minute soak at 10 messages a second, after some 15,000
/// messages in the folder, CPU per message rose by a third
/// (docs/BENCHMARKS.md, "A 30-minute soak"). Under IDLE, Dovecot reports
/// new mail about half a second after it came, which spaces passes the
/// same way; mail a pass missed waits no longer than mail IDLE reports.
const PASS_SPACING: Duration = Duration::from_millis(500);

/// What fetching `batch` brings into memory: oversized messages are not
/// fetched.
fn batch_bytes(batch: &[Waiting], max_message_bytes: u64) -> u64 {
    batch.iter().map(|w| w.size).filter(|&s| s <= max_message_bytes).sum()
}

/// Splits the waiting list into batches; a message over the byte budget
/// (but under the size limit) travels alone.
fn batches(waiting: &[Waiting], max_message_bytes: u64) -> Vec<&[Waiting]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, w) in waiting.iter().enumerate() {
        let size = if w.size > max_message_bytes { 0 } else { w.size };
        if i > start && (i - start >= BATCH_MESSAGES || bytes + size > BATCH_BYTES) {
            out.push(&waiting[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < waiting.len() {
        out.push(&waiting[start..]);
    }
    out
}

/// What became of one message, as the log and `run --once` tell it.
enum Disposition {
    Ticket(u64, String, Drafted),
    Reply(u64, String, Drafted),
    Duplicate,
    Gone,
    Quarantined,
    Answered(u64),
    SentElsewhere(u64),
    Ignored,
}

impl Disposition {
    /// A ticket opened or moved by the message.
    fn of(handled: &Handled) -> Disposition {
        match handled {
            Handled::Opened(t, _) => Disposition::Ticket(t.id.0, t.procedure.clone(), Drafted::of(handled, t.state)),
            Handled::Reply(t, _) => Disposition::Reply(t.id.0, t.step.clone().unwrap_or_default(), Drafted::of(handled, t.state)),
        }
    }
}

/// The IMAP keyword on a quarantined message.
pub const QUARANTINED_KEYWORD: &str = "triaged-quarantined";

/// Whether a message got a draft, and if not, the state its ticket is
/// left in for staff: the log line says which, and the benchmark counts
/// drafts from it.
enum Drafted {
    Yes,
    No(crate::store::TicketState),
}

impl Drafted {
    fn of(handled: &Handled, state: crate::store::TicketState) -> Drafted {
        if handled.actions().iter().any(|(_, a)| matches!(a, crate::store::Action::AppendDraft { .. })) {
            Drafted::Yes
        } else {
            Drafted::No(state)
        }
    }
}

impl std::fmt::Display for Drafted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drafted::Yes => f.write_str("draft appended"),
            Drafted::No(crate::store::TicketState::Claimed) => f.write_str("claimed for staff, no draft"),
            Drafted::No(state) => write!(f, "no draft, left {} for staff", state.as_str()),
        }
    }
}

/// Runs until `cancel` fires, or for one full pass when `once`.
pub async fn run(config: Config, once: bool, cancel: CancellationToken) -> Result<(), DaemonError> {
    let config = Arc::new(config);
    crate::store::set_cache_mib(config.store_cache_mib);
    let store = status::open_store_for_daemon(&config.store_path).await?;
    let Notices { notifier, staff, sink_tasks, irc_health } = start_notices(&config, &store, &cancel, once)?;
    let actor = Arc::new(Actor::new(&config, store.clone(), notifier).await?);
    if let Some(mut staff) = staff {
        let actor = actor.clone();
        tokio::spawn(async move {
            while let Some(cmd) = staff.recv().await {
                crate::control::apply(&actor, &cmd).await;
            }
        });
    }
    // Requests from `triaged reclassify`/`set` run while the store is ours.
    let requests = crate::control::spool_dir(&config.store_path);
    if once {
        crate::control::apply_waiting(&actor, &requests).await;
    } else {
        tokio::spawn(crate::control::serve(actor.clone(), requests, cancel.clone()));
    }
    // Deadlines missed while stopped fire now; their drafts go out with
    // each folder's pending actions.
    let fired = actor.fire_due().await?;
    if fired > 0 {
        info!(fired, "deadlines that came due while triaged was stopped");
    }
    info!(
        host = %config.imap.host,
        folders = ?config.imap.folders,
        once,
        "triaged starting"
    );
    let released = crate::service::release_startup_pages();
    debug!(mib = released >> 20, "start-up pages of the binary handed back to the kernel");
    let mut tasks = tokio::task::JoinSet::new();
    let mut folders: Vec<(String, Role)> = config.imap.folders.iter().map(|f| (f.clone(), Role::Support)).collect();
    if !config.imap.sent.is_empty() && !config.imap.folders.contains(&config.imap.sent) {
        folders.push((config.imap.sent.clone(), Role::Sent));
    }
    let names: Vec<String> = folders.iter().map(|(f, _)| f.clone()).collect();
    let health = status::Health::starting(&config.store_path, &names).with_irc(irc_health);
    for (folder, role) in folders {
        let w = Worker {
            folder,
            role,
            config: config.clone(),
            actor: actor.clone(),
            cancel: cancel.clone(),
            once,
            health: health.clone(),
        };
        tasks.spawn(async move {
            let folder = w.folder.clone();
            w.run().await.map_err(|source| DaemonError::Folder { folder, source })
        });
    }
    if !once {
        tokio::spawn(deadline_timer(actor.clone(), cancel.clone()));
        crate::service::spawn_watchdog(cancel.clone());
        status::spawn_snapshots(store.clone(), health.clone(), cancel.clone());
        crate::retention::spawn(store.clone(), config.store_retention, cancel.clone());
        crate::service::ready();
        let c = cancel.clone();
        tokio::spawn(async move {
            c.cancelled().await;
            crate::service::stopping();
        });
    }
    let mut first_err = None;
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap_or_else(|e| Err(DaemonError::Worker(e.to_string())));
        if let Err(e) = r {
            warn!("{e}");
            first_err.get_or_insert(e);
        }
    }
    // A pass run from cron tells what was set aside as the daemon would.
    if once {
        tell_set_aside(&actor);
    }
    status::write_snapshot(&store, &health);
    // `--once`: the sinks post what is queued, then end (the last notifier
    // is the actor's).
    let Ok(actor) = Arc::try_unwrap(actor) else {
        info!("triaged stopped");
        return first_err.map_or(Ok(()), Err);
    };
    drop(actor);
    drain_sinks(&store, sink_tasks).await;
    info!("triaged stopped");
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The notice sinks the config names, and the staff commands from IRC.
/// The queue of a sink no longer configured is dropped.
fn start_notices(
    config: &Config,
    store: &Store,
    cancel: &CancellationToken,
    once: bool,
) -> Result<Notices, StoreError> {
    let mut notifier = Notifier::disabled();
    let mut staff = None;
    let mut sink_tasks = Vec::new();
    let mut irc_health = None;
    // In `--once` a sink ends by itself once every notice is posted.
    let token = if once { CancellationToken::new() } else { cancel.clone() };
    if let Some(irc) = &config.irc {
        let (tx, rx) = mpsc::channel(16);
        let (n, handle, health) = staff::irc::spawn_irc_watched(irc.clone(), store.clone(), token.clone(), tx);
        sink_tasks.push((staff::IRC, handle));
        irc_health = Some(health);
        notifier = notifier.and(n);
        // A one-shot pass posts notices but takes no commands.
        staff = (!once).then_some(rx);
    }
    if let Some(w) = &config.webhook {
        let (n, handle) = staff::webhook::spawn_webhook(w.clone(), store.clone(), token);
        sink_tasks.push((staff::WEBHOOK, handle));
        notifier = notifier.and(n);
    }
    for (sink, n) in store.drop_stale_queues(&notifier.sink_names())? {
        warn!("dropped {n} queued notices for {sink}: it is no longer configured");
    }
    Ok(Notices { notifier, staff, sink_tasks, irc_health })
}

struct Notices {
    notifier: Notifier,
    staff: Option<mpsc::Receiver<StaffCommand>>,
    sink_tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
    irc_health: Option<tokio::sync::watch::Receiver<staff::irc::IrcHealth>>,
}

/// How long `run --once` waits for the sinks to post what is queued.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// `run --once`: waits (bounded) for every sink to post its queue; what
/// is left stays queued for the next run, and says so.
async fn drain_sinks(store: &Store, tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)>) {
    let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
    for (sink, handle) in tasks {
        let why = match tokio::time::timeout_at(deadline, handle).await {
            Ok(_) => "waiting for drafts not appended in this run",
            Err(_) => "not posted within 30 s",
        };
        let left = store.queued_notices().ok().and_then(|q| q.get(sink).copied()).unwrap_or(0);
        if left > 0 {
            warn!("{sink}: {left} notices {why}; they stay queued for the next run");
        }
    }
}

/// The daily line of mail set aside, if it is due (`Actor::tell_set_aside`).
fn tell_set_aside(actor: &Actor) {
    if let Err(e) = actor.tell_set_aside() {
        warn!("daily line of mail set aside: {e}; tried again at the next check");
    }
}

/// Sleeps until the earliest deadline, fires it, and wakes the folder
/// workers to append what it drafted. Re-reads the store at least every
/// minute, so a deadline armed meanwhile is never late by more than that;
/// intake wakes it at once through `wake`. Each time it wakes it also
/// posts the daily line of mail set aside when that is due.
async fn deadline_timer(actor: Arc<Actor>, cancel: CancellationToken) {
    loop {
        tell_set_aside(&actor);
        let now = actor.now();
        let wait = match actor.store.next_deadline() {
            Ok(Some(due)) if due <= now => Duration::ZERO,
            Ok(Some(due)) => Duration::try_from(due.duration_since(now)).unwrap_or(Duration::ZERO).min(Duration::from_secs(60)),
            Ok(None) => Duration::from_secs(60),
            Err(e) => {
                warn!("deadline timer: {e}");
                Duration::from_secs(5)
            }
        };
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = actor.deadlines_changed.notified() => {}
                _ = cancel.cancelled() => return,
            }
        }
        if let Err(e) = actor.fire_due().await {
            warn!("firing deadlines: {e}");
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = cancel.cancelled() => return,
            }
        }
    }
}

impl Worker {
    async fn run(self) -> Result<(), ActError> {
        let mut backoff = Backoff::new(Duration::from_secs(1), self.config.imap.backoff_max);
        let mut failures = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Ok(());
            }
            let (e, began) = match Connection::open(&self.config.imap).await {
                Err(e) => (ActError::from(e), false),
                Ok(conn) => {
                    backoff.reset();
                    match self.session(conn).await {
                        Ok(()) => return Ok(()),
                        Err(e) => (e, true),
                    }
                }
            };
            failures += 1;
            let new = self.health.failed(&self.folder, &e.to_string());
            status::write_snapshot(&self.actor.store, &self.health);
            // One pass must still finish on a flaky link, but must not hang
            // a script forever, nor wait on a password nobody has fixed.
            if self.once && (failures >= 3 || matches!(&e, ActError::Mailbox(m) if m.needs_the_operator())) {
                return Err(e);
            }
            // The daemon keeps trying (a password may be fixed meanwhile)
            // but says an error again only when it changes: a wrong
            // password would otherwise fill the log every few minutes.
            let delay = backoff.next_delay();
            let ended = if began { "IMAP session ended: " } else { "" };
            if new {
                warn!(folder = %self.folder, "{ended}{e}; trying again in {:.1}s", delay.as_secs_f64());
            } else {
                debug!(folder = %self.folder, "{ended}{e}, again; trying again in {:.1}s", delay.as_secs_f64());
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.cancel.cancelled() => return Ok(()),
            }
        }
    }

    /// Carries out what `act` planned for this folder (see
    /// `mailbox::plans`); how many actions.
    async fn carry_out_pending(&self, conn: &mut Connection, check_first: bool) -> Result<usize, ActError> {
        let carried = plans::run_pending(conn, &self.actor.store, &self.folder, check_first).await?;
        for e in carried.edited {
            self.actor.notifier.notify(Notice::StaleDraftEdited { ticket: e.ticket, mailbox: e.mailbox });
        }
        if carried.actions > 0 {
            // Notices queued with these drafts (before a restart too) may go.
            self.actor.notifier.wake();
        }
        Ok(carried.actions)
    }

    /// One connection's life, once logged in: recover, then sync and wait
    /// until told to stop.
    async fn session(&self, mut conn: Connection) -> Result<(), ActError> {
        let imap = &self.config.imap;
        let mut wake = self.actor.wake_receiver();
        let mut claims = self.actor.store.claims_changed();
        let recovered = self.carry_out_pending(&mut conn, true).await?;
        if recovered > 0 {
            info!(folder = %self.folder, recovered, "finished actions planned before the last stop");
        }
        loop {
            let began = tokio::time::Instant::now();
            // Drafts planned by deadlines or staff since the last pass.
            wake.borrow_and_update();
            self.carry_out_pending(&mut conn, false).await?;
            let selected = self.sync(&mut conn).await?;
            // Everything the pass wrote, durable before waiting. Usually
            // already so (see `plan`); not after a pass that only skipped
            // or quarantined.
            self.actor.store.persist()?;
            if selected && self.role == Role::Support {
                claims.borrow_and_update();
                self.sync_claim_keywords(&mut conn).await?;
            }
            self.health.synced(&self.folder);
            status::write_snapshot(&self.actor.store, &self.health);
            crate::service::status(&format!("{}: synced at {}", self.folder, jiff::Timestamp::now()));
            if self.once || self.cancel.is_cancelled() {
                conn.logout().await;
                return Ok(());
            }
            if selected && conn.more_mail_reported() {
                debug!(folder = %self.folder, "more mail arrived during the pass: another pass follows");
                tokio::select! {
                    _ = tokio::time::sleep_until(began + PASS_SPACING) => {}
                    _ = self.cancel.cancelled() => {
                        conn.logout().await;
                        return Ok(());
                    }
                }
                continue;
            }
            if conn.supports_idle() && selected {
                let woken = async {
                    tokio::select! {
                        _ = wake.changed() => {}
                        _ = claims.changed() => {}
                    }
                };
                let (c, woke) = conn.idle(imap.idle_renew, &self.cancel, woken).await?;
                conn = c;
                if woke == Woke::Cancelled {
                    conn.logout().await;
                    return Ok(());
                }
            } else {
                // A folder that does not exist yet is looked for again
                // within a minute, whatever the poll interval.
                let wait = if selected { imap.poll_interval } else { imap.poll_interval.min(Duration::from_secs(60)) };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = wake.changed() => {}
                    _ = claims.changed() => {}
                    _ = self.cancel.cancelled() => {
                        conn.logout().await;
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Handles every message after the cursor, oldest first.
    /// Returns false when the folder does not exist (a Sent folder not
    /// created yet): nothing to do until it does.
    async fn sync(&self, conn: &mut Connection) -> Result<bool, ActError> {
        let store = &self.actor.store;
        let selected = match conn.select(&self.folder).await {
            Ok(s) => s,
            Err(crate::mailbox::MailboxError::Imap(async_imap::error::Error::No(_))) if self.role == Role::Sent => {
                // Staff clients fail to file sent mail into a folder that
                // is not there, and their answers go unseen: make it.
                match conn.create(&self.folder).await {
                    Ok(()) => {
                        info!(folder = %self.folder, "created the sent folder (imap.sent), which did not exist");
                        conn.select(&self.folder).await?
                    }
                    Err(e) => {
                        if !self.health.is_missing(&self.folder) {
                            warn!(folder = %self.folder, "the sent folder (imap.sent) does not exist and cannot be created ({e}); staff answers are not tracked until it exists: create it or fix imap.sent");
                        }
                        self.health.missing(&self.folder);
                        return Ok(false);
                    }
                }
            }
            Err(e) => return Err(e.into()),
        };
        self.health.present(&self.folder);
        let last = match store.cursor(&self.folder)? {
            Some(c) if c.validity == selected.validity => c.last_uid,
            Some(c) => {
                warn!(
                    folder = %self.folder,
                    old = c.validity,
                    new = selected.validity,
                    "UIDVALIDITY changed: re-reading the folder; messages already handled are recognised by Message-ID"
                );
                store.reset_cursor(&self.folder, selected.validity)?;
                0
            }
            None => 0,
        };
        if selected.exists == 0 {
            self.health.backlog(&self.folder, 0);
            return Ok(true);
        }
        let waiting = conn.waiting(last).await?;
        let total = waiting.len();
        self.health.backlog(&self.folder, total);
        let batches = batches(&waiting, self.config.limits.max_message_bytes);
        if total > 1 {
            info!(folder = %self.folder, backlog = total, "messages to handle");
        }
        // The backlog shows in `status` before a pass of several batches
        // (it takes a while); a pass of one batch is over soon, and the
        // snapshot after it follows. Under IDLE most passes hold two or
        // three messages; the second snapshot of such a pass took 8 % of a
        // profiled stream's CPU on a store with a history.
        if batches.len() > 1 {
            status::write_snapshot(store, &self.health);
        }
        let mut done = 0;
        let report = |dispositions: Vec<(u32, Disposition)>| self.report(dispositions, &mut done, total);
        match self.role {
            Role::Support => self.support_pass(conn, selected.validity, batches, report).await?,
            Role::Sent => {
                let mut report = report;
                for batch in batches {
                    if self.cancel.is_cancelled() {
                        break;
                    }
                    let mut out = Vec::new();
                    for w in batch {
                        let uid = Uid { validity: selected.validity, uid: w.uid };
                        out.push((w.uid, self.handle_sent(conn, uid, *w).await?));
                    }
                    report(out);
                }
            }
        }
        if done < total {
            info!(folder = %self.folder, left = total - done, "stopping; the rest waits for the next start");
        }
        self.health.backlog(&self.folder, total - done);
        debug!(folder = %self.folder, messages = done, "sync pass");
        Ok(true)
    }

    /// A batch of new support messages, fetched in one UID FETCH; or, when
    /// it was attempted before (the daemon died in it), left to be handled
    /// one message at a time, so that a message which kills the daemon is
    /// found and quarantined alone.
    async fn fetch_batch<'b>(&self, conn: &mut Connection, validity: u32, batch: &'b [Waiting]) -> Result<FetchedBatch<'b>, ActError> {
        let store = &self.actor.store;
        let uids: Vec<u32> = batch.iter().map(|w| w.uid).collect();
        // A batch of one too: marked afresh, a lone message the daemon
        // died in would never be counted, and would kill it on every start.
        if store.attempted_before(&self.folder, validity, &uids)? {
            return Ok(FetchedBatch::OneByOne(batch));
        }
        store.mark_attempts(&self.folder, validity, &uids)?;
        let limits = &self.config.limits;
        let wanted: Vec<u32> = batch.iter().filter(|w| limits.check_size(w.size).is_ok()).map(|w| w.uid).collect();
        Ok(FetchedBatch::Bodies(batch, conn.fetch_many(&wanted).await?.into_iter().collect()))
    }

    /// Logs what became of each message, with progress on a long backlog.
    fn report(&self, dispositions: Vec<(u32, Disposition)>, done: &mut usize, total: usize) {
        for (uid, disposition) in dispositions {
            let said = match disposition {
                Disposition::Ticket(n, procedure, drafted) => format!("ticket #{n} ({procedure}), {drafted}"),
                Disposition::Reply(n, step, drafted) if step.is_empty() => format!("reply joins ticket #{n} (no procedure's step: a person reads it), {drafted}"),
                Disposition::Reply(n, step, drafted) => format!("reply joins ticket #{n}, now at step {step:?}, {drafted}"),
                Disposition::Duplicate => "set aside: already handled (same Message-ID)".into(),
                Disposition::Gone => "expunged before it could be read".into(),
                Disposition::Quarantined => "quarantined".into(),
                Disposition::Answered(n) => format!("staff answered ticket #{n}"),
                Disposition::SentElsewhere(n) => format!("staff mail about ticket #{n} to none of its addresses (a forward?): no answer"),
                Disposition::Ignored => "not an answer to a ticket".into(),
            };
            info!(folder = %self.folder, uid, "{said}");
            *done += 1;
            if total >= 100 && *done % 100 == 0 {
                info!(folder = %self.folder, "progress: {done}/{total} messages");
                self.health.backlog(&self.folder, total - *done);
                // The snapshot reads tickets: refreshing it every 100
                // messages would cost more than the messages.
                if *done % 1000 == 0 {
                    status::write_snapshot(&self.actor.store, &self.health);
                }
            }
        }
    }

    /// A folder's new support messages, batch by batch, pipelined: while
    /// one batch is parsed, checked and planned (local work), the
    /// connection appends the drafts of the batch before and fetches the
    /// batch after. Sequentially, the append of 64 drafts to Dovecot took
    /// as long as planning them. Each batch is still taken in UID order and
    /// after the one before, so the cursor only moves forward; what is
    /// planned is durable before its own append, and recovery finishes any
    /// append a failure cut short. `each` gets the dispositions of every batch
    /// once its drafts are appended. Stops between batches when cancelled.
    async fn support_pass(
        &self,
        conn: &mut Connection,
        validity: u32,
        batches: Vec<&[Waiting]>,
        mut each: impl FnMut(Vec<(u32, Disposition)>),
    ) -> Result<(), ActError> {
        let max = self.config.limits.max_message_bytes;
        let mut batches = batches.into_iter();
        let mut in_hand: Option<PlannedBatch> = None;
        let mut fetched = match batches.next() {
            Some(b) => Some(self.fetch_batch(conn, validity, b).await?),
            None => None,
        };
        loop {
            let following = if self.cancel.is_cancelled() { None } else { batches.next() };
            match fetched.take() {
                None => {
                    if let Some(p) = in_hand.take() {
                        each(self.finish(conn, p).await?);
                    }
                    return Ok(());
                }
                Some(FetchedBatch::OneByOne(batch)) => {
                    if let Some(p) = in_hand.take() {
                        each(self.finish(conn, p).await?);
                    }
                    let mut out = Vec::new();
                    for w in batch {
                        out.push((w.uid, self.handle(conn, Uid { validity, uid: w.uid }, *w).await?));
                    }
                    each(out);
                    if let Some(b) = following {
                        fetched = Some(self.fetch_batch(conn, validity, b).await?);
                    }
                }
                Some(FetchedBatch::Bodies(batch, bodies)) => {
                    let before = in_hand.take();
                    // Bodies held at once stay within one batch's bytes (or
                    // one large message): the batch after one with a 20 MB
                    // attachment is fetched once that one is planned.
                    let (following, after) = match following {
                        Some(b) if batch_bytes(batch, max) + batch_bytes(b, max) > BATCH_BYTES => (None, Some(b)),
                        f => (f, None),
                    };
                    let network = async {
                        let finished = match before {
                            Some(p) => Some(self.finish(conn, p).await?),
                            None => None,
                        };
                        let next = match following {
                            Some(b) => Some(self.fetch_batch(conn, validity, b).await?),
                            None => None,
                        };
                        Ok::<_, ActError>((finished, next))
                    };
                    let (network, planned) = tokio::join!(network, self.plan(validity, batch, bodies));
                    let (finished, next) = network?;
                    if let Some(out) = finished {
                        each(out);
                    }
                    in_hand = Some(planned?);
                    fetched = match after {
                        Some(b) => Some(self.fetch_batch(conn, validity, b).await?),
                        None => next,
                    };
                }
            }
        }
    }

    /// Takes each message of a fetched batch: tickets and drafts planned
    /// and stored, nothing sent to the server yet.
    ///
    /// When the store commits, for a sync pass: each commit writes the
    /// pages from the root to every leaf it changed, so its cost grows
    /// with the depth of the store's trees (the history), and a message
    /// alone in a pass (the steady state under IDLE) paid for six. Now:
    /// the batch's attempt mark, durable before its messages are parsed
    /// (`fetch_batch`); one transaction per message, its ticket with all
    /// it keeps (the classifier's features too), deferred except the
    /// batch's last, which is durable and so makes the others durable
    /// before the APPEND (`plans::execute_fresh` persists first, and finds
    /// nothing left to write); the completion of the batch's drafts,
    /// durable, the pass's last write before the worker waits. A lone
    /// message: three commits.
    async fn plan(
        &self,
        validity: u32,
        batch: &[Waiting],
        mut bodies: std::collections::HashMap<u32, Vec<u8>>,
    ) -> Result<PlannedBatch, ActError> {
        let store = &self.actor.store;
        let mut planned = PlannedBatch::default();
        for (i, w) in batch.iter().enumerate() {
            let uid = Uid { validity, uid: w.uid };
            let commit = if i + 1 == batch.len() { Commit::Durable } else { Commit::Deferred };
            if let Err(over) = self.config.limits.check_size(w.size) {
                self.quarantine(uid, None, over.to_string())?;
                planned.dispositions.push((w.uid, Disposition::Quarantined));
                continue;
            }
            let Some(raw) = bodies.remove(&w.uid) else {
                store.skip(&self.folder, uid)?;
                planned.dispositions.push((w.uid, Disposition::Gone));
                continue;
            };
            match self.take(uid, raw, commit).await? {
                Taken::Done(o) => planned.dispositions.push((w.uid, o)),
                Taken::Handled(h) => {
                    planned.dispositions.push((w.uid, Disposition::of(&h)));
                    planned.actions.extend(h.actions().iter().cloned());
                    planned.handled.push(h);
                }
            }
        }
        Ok(planned)
    }

    /// Appends a planned batch's drafts and tags its messages; its dispositions.
    async fn finish(&self, conn: &mut Connection, p: PlannedBatch) -> Result<Vec<(u32, Disposition)>, ActError> {
        plans::execute_fresh(conn, &self.actor.store, &p.actions).await?;
        self.tag(conn, &p.handled).await?;
        let quarantined: Vec<u32> = p.dispositions.iter().filter(|(_, o)| matches!(o, Disposition::Quarantined)).map(|(uid, _)| *uid).collect();
        self.mark_quarantined(conn, &quarantined).await?;
        // Their notices, queued with the tickets, may go now.
        self.actor.notifier.wake();
        if !p.handled.is_empty() {
            self.actor.deadlines_changed.notify_one();
        }
        Ok(p.dispositions)
    }

    /// One message, after a crash in its batch: counted on its own before
    /// it is even fetched, so the one that kills the daemon is quarantined
    /// after `limits.max_attempts` and the others go through.
    async fn handle(&self, conn: &mut Connection, uid: Uid, w: Waiting) -> Result<Disposition, ActError> {
        let disposition = self.handle_alone(conn, uid, w).await?;
        if matches!(disposition, Disposition::Quarantined) {
            self.mark_quarantined(conn, &[uid.uid]).await?;
        }
        Ok(disposition)
    }

    /// The keyword [`QUARANTINED_KEYWORD`] on quarantined messages, so a
    /// mail client shows which ones triaged set aside (where the server
    /// allows keywords; refused, it is logged and nothing else).
    async fn mark_quarantined(&self, conn: &mut Connection, uids: &[u32]) -> Result<(), ActError> {
        Ok(conn.add_keywords(uids, &[QUARANTINED_KEYWORD.to_string()]).await?)
    }

    async fn handle_alone(&self, conn: &mut Connection, uid: Uid, w: Waiting) -> Result<Disposition, ActError> {
        let store = &self.actor.store;
        let limits = &self.config.limits;
        let attempts = store.count_attempt(&self.folder, uid)?;
        if attempts > limits.max_attempts {
            self.quarantine(uid, None, format!("failed {} times while being handled; look at it by hand", attempts - 1))?;
            return Ok(Disposition::Quarantined);
        }
        if let Err(over) = limits.check_size(w.size) {
            self.quarantine(uid, None, over.to_string())?;
            return Ok(Disposition::Quarantined);
        }
        let Some(raw) = conn.fetch(uid.uid).await? else {
            store.skip(&self.folder, uid)?;
            return Ok(Disposition::Gone);
        };
        // Alone: nothing else to wait for before its APPEND.
        match self.take(uid, raw, Commit::Durable).await? {
            Taken::Done(o) => Ok(o),
            Taken::Handled(h) => {
                let disposition = Disposition::of(&h);
                let actions = h.actions().to_vec();
                self.finish(conn, PlannedBatch { actions, handled: vec![h], dispositions: Vec::new() }).await?;
                Ok(disposition)
            }
        }
    }

    /// The claimed-by keyword on each original message of this folder
    /// follows its ticket's claim (made, moved or released from IRC).
    async fn sync_claim_keywords(&self, conn: &mut Connection) -> Result<(), ActError> {
        let store = &self.actor.store;
        let validity = store.cursor(&self.folder)?.map(|c| c.validity);
        for (t, have, want) in store.claim_keywords_to_sync(&self.folder)? {
            // After a UIDVALIDITY change the old UID names another message.
            if Some(t.uid.validity) != validity {
                store.set_claim_keyword(t.id, want.as_deref())?;
                continue;
            }
            if let Some(k) = have {
                conn.remove_keywords(&[t.uid.uid], &[k]).await?;
            }
            if let Some(k) = &want {
                conn.add_keywords(&[t.uid.uid], std::slice::from_ref(k)).await?;
            }
            store.set_claim_keyword(t.id, want.as_deref())?;
        }
        Ok(())
    }

    /// A keyword on each new ticket's original message naming its
    /// procedure, so a mail client shows it as a tag: one UID STORE per
    /// procedure in the batch.
    async fn tag(&self, conn: &mut Connection, handled: &[Handled]) -> Result<(), ActError> {
        let mut by_procedure: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
        for h in handled {
            if let Handled::Opened(t, _) = h {
                by_procedure.entry(format!("triaged-{}", t.procedure)).or_default().push(t.uid.uid);
            }
        }
        for (keyword, uids) in by_procedure {
            conn.add_keywords(&uids, &[keyword]).await?;
        }
        Ok(())
    }

    /// Parse, recognise duplicates, and hand the message to the actor.
    /// Failures that would repeat on every try are quarantined.
    /// `commit`: how a new ticket is committed (see `plan`).
    async fn take(&self, uid: Uid, raw: Vec<u8>, commit: Commit) -> Result<Taken, ActError> {
        let store = &self.actor.store;
        let msg = match Message::parse(raw) {
            Ok(m) => m,
            Err(e) => {
                self.quarantine(uid, None, format!("cannot parse: {e}"))?;
                return Ok(Taken::Done(Disposition::Quarantined));
            }
        };
        if let Err(over) = msg.check_limits(&self.config.limits) {
            self.quarantine(uid, Some(&msg), over.to_string())?;
            return Ok(Taken::Done(Disposition::Quarantined));
        }
        if store.ticket_for_message_id(&msg.message_id)?.is_some() {
            store.skip(&self.folder, uid)?;
            return Ok(Taken::Done(Disposition::Duplicate));
        }
        let mut tries = 0;
        let handled = loop {
            tries += 1;
            match self.actor.intake(&self.folder, uid, &msg, commit).await {
                // Another worker took the ticket number: nothing was
                // written, so the message is simply handled again.
                Err(ActError::Store(StoreError::TicketNumberTaken { .. })) if tries < INTAKE_TRIES => continue,
                r => break r,
            }
        };
        let handled = match handled {
            Ok(Some(h)) => h,
            Ok(None) => {
                store.skip(&self.folder, uid)?;
                return Ok(Taken::Done(Disposition::Duplicate));
            }
            // Planning failed the same way it will every time: park it.
            Err(ActError::Store(e @ (StoreError::NoTicket(_) | StoreError::TicketNumberTaken { .. } | StoreError::Missing(_)))) => {
                self.quarantine(uid, Some(&msg), e.to_string())?;
                return Ok(Taken::Done(Disposition::Quarantined));
            }
            Err(ActError::Draft(e)) => {
                self.quarantine(uid, Some(&msg), format!("cannot draft a reply: {e}"))?;
                return Ok(Taken::Done(Disposition::Quarantined));
            }
            Err(e) => return Err(e),
        };
        Ok(Taken::Handled(handled))
    }

    /// A message in the Sent folder. Nothing here is quarantined: it is
    /// staff's own mail, and what is not an answer is simply passed over.
    async fn handle_sent(&self, conn: &mut Connection, uid: Uid, w: Waiting) -> Result<Disposition, ActError> {
        let store = &self.actor.store;
        if self.config.limits.check_size(w.size).is_err() {
            store.skip(&self.folder, uid)?;
            return Ok(Disposition::Ignored);
        }
        let Some(raw) = conn.fetch(uid.uid).await? else {
            store.skip(&self.folder, uid)?;
            return Ok(Disposition::Gone);
        };
        let Ok(msg) = Message::parse(raw) else {
            store.skip(&self.folder, uid)?;
            return Ok(Disposition::Ignored);
        };
        let intake = crate::store::Intake {
            folder: self.folder.clone(),
            uid,
            message_id: msg.message_id.clone(),
        };
        match self.actor.sent(&intake, &msg)? {
            Some(Sent::Answered(t)) => Ok(Disposition::Answered(t.0)),
            Some(Sent::Elsewhere(t)) => Ok(Disposition::SentElsewhere(t.0)),
            None => {
                store.skip(&self.folder, uid)?;
                Ok(Disposition::Ignored)
            }
        }
    }

    fn quarantine(&self, uid: Uid, msg: Option<&Message>, reason: String) -> Result<(), StoreError> {
        // The log, the notice and the store get no secret the sender pasted
        // (a reason may quote an address or a header).
        let reason = redact(&reason);
        let from = msg.map(|m| redact(&m.from[0].display()));
        let subject = msg.map(|m| redact(&m.subject_line(200)));
        // A reply that cannot be handled still belongs with its ticket.
        let ticket = msg.and_then(|m| self.actor.ticket_of(m)).map(|t| t.0);
        match ticket {
            Some(n) => warn!(folder = %self.folder, uid = uid.uid, ticket = n, "quarantined: {reason}"),
            None => warn!(folder = %self.folder, uid = uid.uid, "quarantined: {reason}"),
        }
        let notice = self.actor.notifier.outgoing(&Notice::Quarantined {
            folder: self.folder.clone(),
            uid: uid.uid,
            from: from.clone(),
            subject: subject.clone(),
            reason: reason.clone(),
        });
        self.actor.store.quarantine(&Quarantined {
            folder: self.folder.clone(),
            uid,
            message_id: msg.map(|m| m.message_id.clone()),
            from,
            subject,
            reason,
            at: jiff::Timestamp::now(),
            ticket,
        }, notice.as_ref())?;
        self.actor.notifier.wake();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(uid: u32, size: u64) -> Waiting {
        Waiting { uid, size }
    }

    #[test]
    fn batches_respect_count_and_bytes_and_keep_order() {
        let many: Vec<_> = (1..=130).map(|u| w(u, 1000)).collect();
        let b = batches(&many, 1 << 30);
        assert_eq!(b.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![64, 64, 2]);
        assert_eq!(b.concat(), many, "every message once, in order");

        let big = vec![w(1, 10), w(2, BATCH_BYTES), w(3, 10), w(4, 10)];
        let b = batches(&big, 1 << 30);
        assert_eq!(b.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![1, 1, 2]);

        // A message of a few MiB (a screenshot, a PDF) travels alone:
        // nothing else is fetched while it is in memory.
        let mixed = vec![w(1, 30_000), w(2, 7 << 20), w(3, 30_000), w(4, 3 << 20), w(5, 2 << 20), w(6, 30_000)];
        let b = batches(&mixed, 25 << 20);
        assert_eq!(b.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![1, 1, 2, 2]);
        assert!(b.iter().all(|b| b.len() == 1 || batch_bytes(b, 25 << 20) <= BATCH_BYTES));

        // Oversized messages are never fetched, so they cost no budget.
        let over = vec![w(1, 10), w(2, 1 << 40), w(3, 10)];
        assert_eq!(batches(&over, 1 << 20).len(), 1);
        assert!(batches(&[], 10).is_empty());
    }
}
