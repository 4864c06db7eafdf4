//! The store and the only code that touches it. Named tables, typed
//! keys, one function per state transition; each transition is one write
//! transaction, durable before the side effect that depends on it
//! ("plan, persist, then act"). A crash between any two lines leaves either
//! the old state or the new one, and the pending actions say what is left
//! to do.

mod aside;
mod changes;
pub mod claims;
mod compact;
mod import;
mod kv;
mod outbox;
mod reverify;
mod examples;
mod requeue;

pub use aside::AsideMark;
pub use examples::{Example, ExampleKey};

pub use changes::Touched;
pub use compact::{Compacted, compact};
pub use outbox::{Outgoing, Queued};
pub use reverify::{KEPT_PER_TICKET, Kept, KeptEntry, Settled};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use kv::{Tree, TxTree};

use crate::classify::sensitive::redact;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {}: {source}; check that the folder exists, is writable by triaged's user and has free space", path.display())]
    Open { path: PathBuf, source: redb::Error },
    #[error("store {} is in use by another triaged process (the daemon is running?)", path.display())]
    Locked { path: PathBuf },
    #[error("store write failed: {0}; check free space and permissions of the store folder")]
    Io(#[from] redb::Error),
    /// The sled store of an earlier version could not be read to import it.
    #[error("store {}: the sled database of an earlier version cannot be read to import it ({source}); the store is unchanged: check its permissions, or restore it from a backup", path.display())]
    Import { path: PathBuf, source: sled::Error },
    #[error("there is no ticket {0}")]
    NoTicket(TicketId),
    /// Another worker opened a ticket with the number this one planned:
    /// nothing was written, and the message is handled again.
    #[error("ticket number {wanted} was taken meanwhile (next is #{next}); the message is handled again")]
    TicketNumberTaken { wanted: TicketId, next: u64 },
    /// A record the store itself keeps is missing or malformed.
    #[error("store record {0}; restore the store from a backup or remove it to start afresh")]
    Missing(&'static str),
    #[error("store holds a record that cannot be read ({what}): {source}")]
    Corrupt { what: String, source: serde_json::Error },
}

mod procedures;
mod retention;

pub use retention::Pruned;

/// What a step inside a write transaction returns: an `Err` ends the
/// transaction, and nothing it wrote is kept.
type TxResult<T> = Result<T, StoreError>;

/// How an intake transition (a new ticket) is committed. The folder
/// worker chooses (`Worker::plan` in daemon.rs); what it must keep: the
/// transition is durable before the server sees its draft (`persist`
/// comes before the APPEND).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Atomic now, durable with the next durable commit: more of the
    /// batch follows, and one durable commit covers them all.
    Deferred,
    /// On disk when it returns: the batch's last transition, so the
    /// `persist` before the APPEND finds nothing left to write instead of
    /// making an empty commit of its own.
    Durable,
}

/// How long tests that reopen a store in the same process wait for it.
#[cfg(test)]
pub(crate) const REOPEN: std::time::Duration = std::time::Duration::from_secs(5);

/// A ticket number, `#N` to staff. Allocated sequentially from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketId(pub u64);

impl std::fmt::Display for TicketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a folder's sync stands: everything up to `last_uid` under
/// `validity` has been recorded (as a ticket, a duplicate or quarantine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub validity: u32,
    pub last_uid: u32,
}

/// One message's place in a folder (RFC 3501 2.3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uid {
    pub validity: u32,
    pub uid: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    New,
    Claimed,
    Waiting,
    Answered,
    Closed,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::New => "new",
            TicketState::Claimed => "claimed",
            TicketState::Waiting => "waiting",
            TicketState::Answered => "answered",
            TicketState::Closed => "closed",
        }
    }

    /// A state named in a pack or by staff.
    pub fn parse(s: &str) -> Option<TicketState> {
        serde_json::from_value(serde_json::Value::from(s)).ok()
    }
}

mod notes;
pub use notes::{Acted, CaseNumber, DraftText, NoteTypeError, TicketNotes};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub folder: String,
    pub uid: Uid,
    pub message_id: String,
    /// Sender as shown to staff (sanitised, secrets redacted).
    pub from: String,
    /// The sender's address: replies join the ticket only from it.
    #[serde(default)]
    pub sender_email: String,
    pub subject: String,
    pub procedure: String,
    pub state: TicketState,
    pub created: jiff::Timestamp,
    /// The procedure step the ticket is in (None: not started).
    #[serde(default)]
    pub step: Option<String>,
    /// The staff queue it belongs in, when the procedure names one.
    #[serde(default)]
    pub queue: Option<String>,
    /// Armed timers; each fires once.
    #[serde(default)]
    pub deadlines: Vec<Deadline>,
    /// Message-IDs of the drafts made for this ticket, in order.
    #[serde(default)]
    pub drafts: Vec<String>,
    /// Message-IDs of our replies as the Sent folder shows them: a mail
    /// client may send a draft under a new Message-ID, and a reply naming
    /// one joins the ticket as a reply to our draft does (only whoever
    /// received it knows it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<String>,
    /// Message-IDs of our drafts and replies that went to an address the
    /// ticket no longer answers (a Reply-To nobody checked, before staff
    /// moved it onto a procedure that acts on an account): whoever read
    /// them there knows them, so naming one ties nothing to the ticket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sent_elsewhere: Vec<String>,
    /// What the next draft replies to: the latest message from the sender.
    #[serde(default)]
    pub reply_to: Option<ReplyTarget>,
    /// What triaged recorded (classification, staff notes, drafts of ours,
    /// the case number, the pack's own step data); never rendered into a
    /// user-facing draft except through a template that names it. Stored
    /// as `data`, its name before it was typed; read leniently
    /// (`notes::read_stored`), so no value an older version stored makes
    /// the ticket unreadable.
    #[serde(default, rename = "data", deserialize_with = "notes::read_stored")]
    pub notes: TicketNotes,
    /// Who the conversation is with and what its messages proved; the only
    /// source of "verified" (see `verify::conversation`).
    #[serde(default)]
    pub identity: crate::verify::conversation::TicketIdentity,
    /// Facts staff recorded (`!set`, `triaged set`): kept apart, so they
    /// can never stand in for what triaged checked or recorded itself. A
    /// map, because the names are free-form: whatever a pack's procedure
    /// asks staff for (`assurances`, `last_certificate_expiry`, …).
    #[serde(default)]
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// When it was last closed (None while open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<jiff::Timestamp>,
    /// When its message content was dropped under `[store]
    /// retention_days` (see `retention.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_dropped: Option<jiff::Timestamp>,
}

impl Ticket {
    /// A ticket for the message in `intake`, at no step, with nothing
    /// planned yet.
    pub fn new(id: TicketId, intake: &Intake, from: &str, subject: &str, procedure: &str) -> Ticket {
        Ticket {
            id,
            folder: intake.folder.clone(),
            uid: intake.uid,
            message_id: intake.message_id.clone(),
            from: redact(from),
            sender_email: from.to_string(),
            subject: subject.to_string(),
            procedure: procedure.to_string(),
            state: TicketState::New,
            created: jiff::Timestamp::now(),
            step: None,
            queue: None,
            deadlines: Vec::new(),
            drafts: Vec::new(),
            sent: Vec::new(),
            sent_elsewhere: Vec::new(),
            reply_to: None,
            notes: Default::default(),
            identity: Default::default(),
            facts: Default::default(),
            closed: None,
            content_dropped: None,
        }
    }
}

/// The message a draft answers: enough to address and thread a reply
/// without keeping the message itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTarget {
    #[serde(serialize_with = "redacted_opt")]
    pub name: Option<String>,
    pub email: String,
    /// Stored redacted: the store never keeps a secret pasted in a subject
    /// (the draft's own subject is redacted again when it is built).
    #[serde(serialize_with = "redacted")]
    pub subject: String,
    pub message_id: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// The customer's text as the draft quotes it ("On DATE, NAME wrote:"
    /// and "> " lines), redacted and bounded (`act::draft::quote`).
    #[serde(default)]
    pub quote: Option<String>,
    /// Whose words the quote is and when they were written, so that a
    /// translated reply opens its quote in its own language
    /// (`act::draft::Attribution`). None for tickets opened before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<crate::act::draft::Attribution>,
    /// A mailing list's posting address the draft is copied to
    /// (`[[lists]] reply_to_list`, as the list's seal vouches for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<String>,
    /// The posting address of the list the request came through, as its
    /// seal vouches for it, whether or not drafts are copied there: its
    /// author reads staff's answer there too (`Actor::sent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
}

fn redacted<S: serde::Serializer>(s: &str, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&redact(s))
}

fn redacted_opt<S: serde::Serializer>(s: &Option<String>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_some(&redact(s)),
        None => ser.serialize_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub name: String,
    pub due: jiff::Timestamp,
}

/// A message entering the store: where it was, so the cursor moves past it
/// in the same transaction.
#[derive(Debug, Clone)]
pub struct Intake {
    pub folder: String,
    pub uid: Uid,
    pub message_id: String,
}

/// A side effect planned and persisted before it is carried out. Each is
/// safe to repeat: a draft is looked up by Message-ID before it is appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    AppendDraft {
        ticket: TicketId,
        /// The watched folder whose session carries this out.
        folder: String,
        mailbox: String,
        message_id: String,
        #[serde(with = "bytes_b64")]
        bytes: Vec<u8>,
    },
    /// Remove a draft of ours that a later event made stale (the ticket
    /// was reclassified, or staff answered it): only the copy whose bytes
    /// still hash to what we appended, never one staff edited.
    WithdrawDraft {
        ticket: TicketId,
        folder: String,
        mailbox: String,
        message_id: String,
        /// SHA-256 of the bytes appended, lowercase hex.
        sha256: String,
    },
}

impl Action {
    pub fn folder(&self) -> &str {
        match self {
            Action::AppendDraft { folder, .. } | Action::WithdrawDraft { folder, .. } => folder,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quarantined {
    pub folder: String,
    pub uid: Uid,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub reason: String,
    pub at: jiff::Timestamp,
    /// The ticket it is a reply to, found as a reply joins a ticket
    /// (its thread, from the ticket's sender).
    #[serde(default)]
    pub ticket: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: jiff::Timestamp,
    pub event: String,
}

#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    db: std::sync::Arc<kv::Db>,
    trees: Named<Tree>,
    /// Bumped after every claim change, so folder workers can update the
    /// claimed-by keywords at once (claims are made from the IRC task).
    claims_changed: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// Tickets written since the status snapshot last looked.
    touched: std::sync::Arc<std::sync::Mutex<Touched>>,
    /// One ticket move at a time: see [`Store::moving`].
    moves: std::sync::Arc<std::sync::Mutex<()>>,
}

const NEXT_TICKET: &[u8] = b"next_ticket";
const DRAFT_KEY: &[u8] = b"draft_key";

fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("store records serialise")
}

fn dec<T: for<'de> Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        what: what.to_string(),
        source,
    })
}

/// A big-endian u64 key or value (0 if it is not 8 bytes).
fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b.try_into().unwrap_or([0; 8]))
}

fn uid_key(folder: &str, uid: Uid) -> Vec<u8> {
    let mut k = folder.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&uid.validity.to_be_bytes());
    k.extend_from_slice(&uid.uid.to_be_bytes());
    k
}


/// The store's tables, by their names in the file (sled's tree names,
/// kept so that a sled store's import copies them as they are): as
/// handles of their own (`Tree`) or inside one transaction (`TxTree`).
#[derive(Clone)]
struct Named<T> {
    meta: T,
    cursors: T,
    msgids: T,
    tickets: T,
    pending: T,
    quarantine: T,
    attempts: T,
    audit: T,
    deadlines: T,
    outbox: T,
    closed: T,
    ticket_features: T,
    reverify: T,
}

impl<T> Named<T> {
    fn new(mut table: impl FnMut(&'static str) -> T) -> Named<T> {
        Named {
            meta: table(kv::META),
            cursors: table("cursors"),
            msgids: table("msgids"),
            tickets: table("tickets"),
            pending: table("pending"),
            quarantine: table("quarantine"),
            attempts: table("attempts"),
            audit: table("audit"),
            deadlines: table("deadlines"),
            outbox: table("outbox"),
            closed: table(retention::CLOSED),
            ticket_features: table(examples::TICKET_FEATURES),
            reverify: table(reverify::TREE),
        }
    }
}

/// The tables a transition touches, inside one transaction.
pub struct Tx<'a> {
    trees: Named<TxTree<'a>>,
    /// Tickets this attempt wrote, announced once it commits.
    touched: &'a std::cell::RefCell<Vec<TicketId>>,
}

impl Tx<'_> {
    /// `Store::update_ticket` inside a transition that may write more.
    fn change_ticket(
        &self,
        id: TicketId,
        intake: Option<&Intake>,
        event: &str,
        notice: Option<&Outgoing>,
        change: &impl Fn(&mut Ticket) -> Vec<Action>,
    ) -> TxResult<(Ticket, Vec<(u64, Action)>)> {
        let Some(v) = self.trees.tickets.get(id.0.to_be_bytes())? else {
            return Err(StoreError::NoTicket(id));
        };
        let old: Ticket = dec("ticket", &v)?;
        let mut t = old.clone();
        let actions = change(&mut t);
        let planned = self.plan_all(&mut t, &actions)?;
        self.reindex_deadlines(id, &old.deadlines, &t.deadlines)?;
        self.put_ticket(&mut t)?;
        self.audit(id, event.to_string())?;
        if let Some(i) = intake {
            self.intake(id, i)?;
        }
        self.announce(notice, &planned)?;
        Ok((t, planned))
    }

    fn set_cursor(&self, folder: &str, c: Cursor) -> TxResult<()> {
        self.trees.cursors.insert(folder.as_bytes(), enc(&c))?;
        Ok(())
    }

    /// Stores `t`, its close indexed (`closed` set) when it is closed.
    fn put_ticket(&self, t: &mut Ticket) -> TxResult<()> {
        retention::index_closing(&self.trees.closed, t, jiff::Timestamp::now())?;
        self.trees.tickets.insert(&t.id.0.to_be_bytes(), enc(t))?;
        self.touched.borrow_mut().push(t.id);
        Ok(())
    }

    fn audit(&self, ticket: TicketId, event: String) -> TxResult<()> {
        let seq = self.trees.meta.generate_id()?;
        let mut k = ticket.0.to_be_bytes().to_vec();
        k.extend_from_slice(&seq.to_be_bytes());
        self.trees.audit.insert(
            k,
            enc(&AuditEntry {
                at: jiff::Timestamp::now(),
                event,
            }),
        )?;
        Ok(())
    }

    /// Keeps the deadline index in step with a ticket's armed timers.
    fn reindex_deadlines(&self, id: TicketId, old: &[Deadline], new: &[Deadline]) -> TxResult<()> {
        for d in old {
            self.trees.deadlines.remove(deadline_key(d.due, id, &d.name))?;
        }
        for d in new {
            self.trees.deadlines.insert(deadline_key(d.due, id, &d.name), [])?;
        }
        Ok(())
    }

    fn intake(&self, id: TicketId, i: &Intake) -> TxResult<()> {
        self.trees.msgids.insert(i.message_id.as_bytes(), id.0.to_be_bytes())?;
        self.trees.attempts.remove(uid_key(&i.folder, i.uid))?;
        self.set_cursor(&i.folder, Cursor { validity: i.uid.validity, last_uid: i.uid.uid })
    }

    /// Persists planned actions and indexes the drafts among them.
    fn plan_all(&self, t: &mut Ticket, actions: &[Action]) -> TxResult<Vec<(u64, Action)>> {
        let mut planned = Vec::new();
        for a in actions {
            if let Action::AppendDraft { message_id, .. } = a {
                t.drafts.push(message_id.clone());
                self.trees.msgids.insert(message_id.as_bytes(), t.id.0.to_be_bytes())?;
            }
            planned.push((self.plan(a)?, a.clone()));
        }
        Ok(planned)
    }

    /// Queues the notice of a transition, held until its actions are done.
    fn announce(&self, notice: Option<&Outgoing>, planned: &[(u64, Action)]) -> TxResult<()> {
        match notice {
            Some(n) => self.enqueue(n, &planned.iter().map(|(id, _)| *id).collect::<Vec<_>>()),
            None => Ok(()),
        }
    }

    fn plan(&self, action: &Action) -> TxResult<u64> {
        let id = self.trees.meta.generate_id()?;
        self.trees.pending.insert(id.to_be_bytes(), enc(action))?;
        Ok(id)
    }
}

/// Deadline index key: due time first, so the earliest sorts first.
fn deadline_key(due: jiff::Timestamp, id: TicketId, name: &str) -> Vec<u8> {
    // Shift to unsigned so that times before 1970 still sort in order.
    let ms = (due.as_millisecond() as i128 - i64::MIN as i128) as u64;
    let mut k = ms.to_be_bytes().to_vec();
    k.extend_from_slice(&id.0.to_be_bytes());
    k.extend_from_slice(name.as_bytes());
    k
}

fn parse_deadline_key(k: &[u8]) -> Option<(jiff::Timestamp, TicketId, String)> {
    let ms = u64::from_be_bytes(k.get(..8)?.try_into().ok()?);
    let ms = (ms as i128 + i64::MIN as i128) as i64;
    let id = u64::from_be_bytes(k.get(8..16)?.try_into().ok()?);
    let name = String::from_utf8(k.get(16..)?.to_vec()).ok()?;
    Some((jiff::Timestamp::from_millisecond(ms).ok()?, TicketId(id), name))
}

/// The store's cache, in bytes: `[store] cache_mib`, 4 MiB unless set
/// (redb's default is 1 GiB). It bounds all that redb keeps of the file in
/// memory: nine tenths for pages read, one tenth for pages written and not
/// yet handed to the file; nothing else it holds grows with the store
/// (docs/BENCHMARKS.md, "A store with a history").
static CACHE_BYTES: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(crate::config::DEFAULT_STORE_CACHE_MIB * 1024 * 1024);

/// Sets the cache for stores opened from now on (the daemon, from its
/// configuration, before it opens the store).
pub fn set_cache_mib(mib: u64) {
    CACHE_BYTES.store(mib.max(1) * 1024 * 1024, std::sync::atomic::Ordering::Relaxed);
}

fn cache_bytes() -> usize {
    CACHE_BYTES.load(std::sync::atomic::Ordering::Relaxed) as usize
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(path).map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            source: redb::Error::Io(e),
        })?;
        compact::clear_leftovers(path)?;
        import::from_sled_once(path)?;
        let db = kv::open(path, &kv::file(path), cache_bytes())?;
        let store = Store {
            path: path.to_path_buf(),
            trees: Named::new(|n| Tree::new(&db, n)),
            claims_changed: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            touched: Default::default(),
            moves: Default::default(),
            db,
        };
        store.index_stale_claim_keywords()?;
        Ok(store)
    }

    /// The lock a ticket's move is planned and written under. A reply,
    /// `!done`, `set`, a deadline, a re-check, a reclassification, a
    /// claim, a release and a close each read the ticket and write it
    /// back, from different tasks (folder workers, the channel, the
    /// spool, the timer). Under this lock each starts from the ticket as
    /// the last one left it: none writes back a step or a state planned
    /// from one another has moved on from (a decline verified while staff
    /// said `!done` would put the ticket back at the refund; a claim
    /// released while a reply was planned would come back). Take it after
    /// the move's last `.await` (a verification may wait seconds for DNS),
    /// never twice.
    pub fn moving(&self) -> std::sync::MutexGuard<'_, ()> {
        self.moves.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a store was ever written at `path` (by this version, or by
    /// an earlier one whose store `open` imports), without creating one.
    pub fn exists(path: &Path) -> bool {
        kv::file(path).exists() || import::has_sled_store(path)
    }

    /// As `open`, waiting up to `patience` for the store's lock: another
    /// process holds it until it stops.
    pub fn open_waiting(path: &Path, patience: std::time::Duration) -> Result<Store, StoreError> {
        let give_up = std::time::Instant::now() + patience;
        loop {
            match Store::open(path) {
                Err(StoreError::Locked { .. }) if std::time::Instant::now() < give_up => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                r => return r,
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A table by name, for the store's own sub-modules.
    fn tree(&self, name: &'static str) -> Tree {
        Tree::new(&self.db, name)
    }

    /// One state transition, durable before it returns: for transitions
    /// an outside effect may follow at once (a reply on IRC, a spool file
    /// removed).
    fn tx<R>(&self, f: impl Fn(&Tx<'_>) -> TxResult<R>) -> Result<R, StoreError> {
        self.transition(true, f)
    }

    /// One state transition, atomic but not yet durable: for the intake
    /// path, where every outside effect that depends on it (a draft's
    /// APPEND, a notice) is preceded by `persist`. A crash before that
    /// loses the transition whole, with the cursor, so the message is
    /// handled again; nothing outside ever saw it. One durable commit per
    /// batch instead of one per message, which would make planning wait
    /// for a disk write per message.
    fn tx_deferred<R>(&self, f: impl Fn(&Tx<'_>) -> TxResult<R>) -> Result<R, StoreError> {
        self.transition(false, f)
    }

    fn transition<R>(&self, durable: bool, f: impl Fn(&Tx<'_>) -> TxResult<R>) -> Result<R, StoreError> {
        let touched = std::cell::RefCell::new(Vec::new());
        let r = self.db.write(durable, |tables| {
            f(&Tx {
                trees: Named::new(|n| tables.tree(n)),
                touched: &touched,
            })
        })?;
        self.touch(&touched.into_inner());
        Ok(r)
    }

    /// Makes every transition so far durable: called before an effect
    /// outside the store that depends on them.
    pub fn persist(&self) -> Result<(), StoreError> {
        self.db.persist()
    }

    pub fn cursor(&self, folder: &str) -> Result<Option<Cursor>, StoreError> {
        self.trees.cursors
            .get(folder.as_bytes())?
            .map(|v| dec("cursor", &v))
            .transpose()
    }

    /// A new UIDVALIDITY: start the folder over. Message-IDs already seen
    /// keep the re-sync from making duplicates.
    pub fn reset_cursor(&self, folder: &str, validity: u32) -> Result<(), StoreError> {
        self.tx(|tx| tx.set_cursor(folder, Cursor { validity, last_uid: 0 }))
    }

    /// The ticket a Message-ID belongs to (incoming messages and our drafts).
    pub fn ticket_for_message_id(&self, message_id: &str) -> Result<Option<TicketId>, StoreError> {
        Ok(self.trees.msgids.get(message_id.as_bytes())?.map(|v| TicketId(be_u64(&v))))
    }

    /// A message that needs nothing (already seen under another UID):
    /// only the cursor moves.
    /// Not durable until `persist` (see `tx_deferred`).
    pub fn skip(&self, folder: &str, uid: Uid) -> Result<(), StoreError> {
        self.tx_deferred(|tx| {
            tx.trees.attempts.remove(uid_key(folder, uid))?;
            tx.set_cursor(folder, Cursor { validity: uid.validity, last_uid: uid.uid })
        })
    }

    /// A random key made once per store, which our drafts' Message-IDs are
    /// derived with: stable across retries, unguessable to a sender, so
    /// naming one of our drafts in In-Reply-To takes having received it.
    pub fn draft_key(&self) -> Result<[u8; 32], StoreError> {
        if let Some(v) = self.trees.meta.get(DRAFT_KEY)?
            && let Ok(k) = <[u8; 32]>::try_from(v.as_ref())
        {
            return Ok(k);
        }
        let mut k = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
        // Only the first key ever written is used, even if two callers race.
        self.trees.meta.compare_and_swap(DRAFT_KEY, None, Some(&k[..]))?;
        self.persist()?;
        let v = self.trees.meta.get(DRAFT_KEY)?.ok_or_else(|| StoreError::Missing("draft key: not stored"))?;
        <[u8; 32]>::try_from(v.as_ref()).map_err(|_| StoreError::Missing("draft key: not 32 bytes"))
    }

    /// The number the next ticket will get. Callers that plan a ticket
    /// before opening it serialise on their side; `open_ticket` refuses a
    /// ticket whose number has been taken meanwhile.
    pub fn next_ticket_id(&self) -> Result<TicketId, StoreError> {
        Ok(TicketId(self.trees.meta.get(NEXT_TICKET)?.map_or(1, |v| be_u64(&v))))
    }

    /// Opens `ticket` (numbered by `next_ticket_id`) for the message in
    /// `intake`, with its first actions, in one transaction with the folder
    /// cursor and its notice (`notice`, held until the actions are done).
    /// Returns the stored ticket and the ids of the actions.
    /// Not durable until `persist`, which comes before the APPEND.
    pub fn open_ticket(
        &self,
        ticket: &Ticket,
        intake: &Intake,
        actions: &[Action],
        notice: Option<&Outgoing>,
    ) -> Result<(Ticket, Vec<(u64, Action)>), StoreError> {
        self.open_ticket_with(ticket, intake, actions, notice, None, Commit::Deferred)
    }

    /// As `open_ticket`, with the features of its message kept for the
    /// local model (`features`: learning is on) in the same transaction,
    /// committed as `commit` says.
    pub fn open_ticket_with(
        &self,
        ticket: &Ticket,
        intake: &Intake,
        actions: &[Action],
        notice: Option<&Outgoing>,
        features: Option<&[u32]>,
        commit: Commit,
    ) -> Result<(Ticket, Vec<(u64, Action)>), StoreError> {
        self.transition(commit == Commit::Durable, |tx| {
            let next = tx.trees.meta.get(NEXT_TICKET)?.map_or(1, |v| be_u64(&v));
            if next != ticket.id.0 {
                return Err(StoreError::TicketNumberTaken { wanted: ticket.id, next });
            }
            tx.trees.meta.insert(NEXT_TICKET, (next + 1).to_be_bytes())?;
            let mut t = ticket.clone();
            t.drafts.clear();
            let planned = tx.plan_all(&mut t, actions)?;
            tx.reindex_deadlines(t.id, &[], &t.deadlines)?;
            tx.put_ticket(&mut t)?;
            tx.audit(t.id, format!("opened from {} UID {} ({}) as {}", intake.folder, intake.uid.uid, intake.message_id, t.procedure))?;
            tx.intake(t.id, intake)?;
            tx.announce(notice, &planned)?;
            if let Some(f) = features {
                examples::keep_features(&tx.trees.ticket_features, t.id, f)?;
            }
            Ok((t, planned))
        })
    }

    /// Changes ticket `id` with `change`, which gets the current ticket and
    /// returns the actions to plan; all in one transaction, with the
    /// message in `intake` (a reply) recorded and the deadline index kept
    /// in step, and `notice` queued (held until the actions are done).
    /// `change` may run more than once (transaction retries), so it must
    /// only compute.
    pub fn update_ticket(
        &self,
        id: TicketId,
        intake: Option<&Intake>,
        event: &str,
        notice: Option<&Outgoing>,
        change: impl Fn(&mut Ticket) -> Vec<Action>,
    ) -> Result<(Ticket, Vec<(u64, Action)>), StoreError> {
        self.tx(|tx| tx.change_ticket(id, intake, event, notice, &change))
    }

    /// Deadlines due at `now`, earliest first.
    pub fn due_deadlines(&self, now: jiff::Timestamp) -> Result<Vec<(jiff::Timestamp, TicketId, String)>, StoreError> {
        let end = deadline_key(now + jiff::SignedDuration::from_millis(1), TicketId(0), "");
        let mut out = Vec::new();
        self.trees.deadlines.scan(kv::below(end), false, |k, _| {
            out.extend(parse_deadline_key(k));
            Ok(true)
        })?;
        Ok(out)
    }

    /// When the earliest armed deadline is due.
    pub fn next_deadline(&self) -> Result<Option<jiff::Timestamp>, StoreError> {
        Ok(self.trees.deadlines.entries(kv::all(), 1)?.first().and_then(|(k, _)| parse_deadline_key(k)).map(|d| d.0))
    }

    /// How many actions are pending, without decoding them (a draft's
    /// bytes are most of a pending action).
    pub fn pending_count(&self) -> Result<usize, StoreError> {
        self.trees.pending.len()
    }

    pub fn pending_actions(&self) -> Result<Vec<(u64, Action)>, StoreError> {
        let mut out = Vec::new();
        self.trees.pending.scan(kv::all(), false, |k, v| {
            out.push((be_u64(k), dec("pending action", v)?));
            Ok(true)
        })?;
        Ok(out)
    }

    /// Several actions done at once (a batch of drafts); one durable
    /// transaction. Durable because it is the last write of a sync pass
    /// that appends drafts, which is durable before the worker waits: as a
    /// deferred commit it took an empty durable commit after it. (A
    /// completion a crash loses is safe either way: the action is looked
    /// for on the server before it is done again.)
    pub fn complete_actions(&self, done: &[(u64, TicketId, String)]) -> Result<(), StoreError> {
        if done.is_empty() {
            return Ok(());
        }
        self.tx(|tx| {
            for (id, ticket, event) in done {
                tx.trees.pending.remove(id.to_be_bytes())?;
                tx.audit(*ticket, event.clone())?;
            }
            Ok(())
        })
    }

    /// The action is done; note it in the ticket's audit log.
    pub fn complete_action(&self, id: u64, ticket: TicketId, event: &str) -> Result<(), StoreError> {
        self.tx(|tx| {
            tx.trees.pending.remove(id.to_be_bytes())?;
            tx.audit(ticket, event.to_string())
        })
    }

    /// Whether any of these messages was attempted before and not finished
    /// (a crash or a hang in an earlier run).
    pub fn attempted_before(&self, folder: &str, validity: u32, uids: &[u32]) -> Result<bool, StoreError> {
        for &uid in uids {
            if self.trees.attempts.contains_key(uid_key(folder, Uid { validity, uid }))? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Counts one attempt at each of these messages, in one transaction:
    /// a batch that crashes the daemon is then handled one by one.
    pub fn mark_attempts(&self, folder: &str, validity: u32, uids: &[u32]) -> Result<(), StoreError> {
        self.tx(|tx| {
            for &uid in uids {
                tx.trees.attempts.insert(uid_key(folder, Uid { validity, uid }), 1u32.to_be_bytes())?;
            }
            Ok(())
        })
    }

    /// Counts a failed attempt at a message and returns the count so far.
    pub fn count_attempt(&self, folder: &str, uid: Uid) -> Result<u32, StoreError> {
        let n = self.tx(|tx| {
            let k = uid_key(folder, uid);
            let n = match tx.trees.attempts.get(&k)? {
                Some(v) => u32::from_be_bytes(v.as_slice().try_into().unwrap_or([0; 4])) + 1,
                None => 1,
            };
            tx.trees.attempts.insert(k, n.to_be_bytes())?;
            Ok(n)
        })?;
        Ok(n)
    }

    /// Records why a message cannot be handled and moves past it, with
    /// the notice that tells staff.
    /// Not durable until `persist`, which the sinks call before posting
    /// its notice.
    pub fn quarantine(&self, q: &Quarantined, notice: Option<&Outgoing>) -> Result<(), StoreError> {
        self.tx_deferred(|tx| {
            tx.announce(notice, &[])?;
            let k = uid_key(&q.folder, q.uid);
            tx.trees.quarantine.insert(k.clone(), enc(q))?;
            tx.trees.attempts.remove(k)?;
            if let Some(id) = &q.message_id {
                // Quarantined Message-IDs count as seen: a re-sync after a
                // UIDVALIDITY change must not quarantine them twice.
                tx.trees.msgids.insert(id.as_bytes(), 0u64.to_be_bytes())?;
            }
            tx.set_cursor(&q.folder, Cursor { validity: q.uid.validity, last_uid: q.uid.uid })
        })
    }

    pub fn quarantined(&self) -> Result<Vec<Quarantined>, StoreError> {
        let mut out = Vec::new();
        self.trees.quarantine.scan(kv::all(), false, |_, v| {
            out.push(dec("quarantine entry", v)?);
            Ok(true)
        })?;
        Ok(out)
    }

    pub fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
        self.trees.tickets
            .get(id.0.to_be_bytes())?
            .map(|v| dec("ticket", &v))
            .transpose()
    }

    pub fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        let mut out = Vec::new();
        self.for_each_ticket(|t| out.push(t))?;
        Ok(out)
    }

    /// The `limit` highest-numbered tickets, oldest first, and whether
    /// there are older ones. Reads only their pages, whatever the total.
    pub fn newest_tickets(&self, limit: usize) -> Result<(Vec<Ticket>, bool), StoreError> {
        let mut newest = Vec::new();
        let mut older = false;
        self.trees.tickets.scan(kv::all(), true, |_, v| {
            if newest.len() == limit {
                older = true;
                return Ok(false);
            }
            newest.push(dec("ticket", v)?);
            Ok(true)
        })?;
        newest.reverse();
        Ok((newest, older))
    }

    /// Every ticket, one at a time: for reports over a large store, which
    /// must not hold every ticket's data at once.
    pub fn for_each_ticket(&self, mut f: impl FnMut(Ticket)) -> Result<(), StoreError> {
        self.trees.tickets.scan(kv::all(), false, |_, v| {
            f(dec("ticket", v)?);
            Ok(true)
        })
    }

    pub fn audit_log(&self, id: TicketId) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        self.trees.audit.scan(kv::prefixed(&id.0.to_be_bytes()), false, |_, v| {
            out.push(dec("audit entry", v)?);
            Ok(true)
        })?;
        Ok(out)
    }

    pub fn cursors(&self) -> Result<Vec<(String, Cursor)>, StoreError> {
        let mut out = Vec::new();
        self.trees.cursors.scan(kv::all(), false, |k, v| {
            out.push((String::from_utf8_lossy(k).into_owned(), dec("cursor", v)?));
            Ok(true)
        })?;
        Ok(out)
    }
}

mod bytes_b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intake(uid: u32, mid: &str) -> Intake {
        Intake {
            folder: "INBOX".into(),
            uid: Uid { validity: 7, uid },
            message_id: mid.into(),
        }
    }

    fn open(s: &Store, uid: u32, mid: &str) -> (Ticket, Vec<(u64, Action)>) {
        let i = intake(uid, mid);
        let t = Ticket::new(s.next_ticket_id().unwrap(), &i, "a@x", "s", "p");
        s.open_ticket(&t, &i, &draft(t.id), None).unwrap()
    }

    fn draft(id: TicketId) -> Vec<Action> {
        vec![Action::AppendDraft {
            ticket: id,
            folder: "INBOX".into(),
            mailbox: "Drafts".into(),
            message_id: format!("d{}@t", id.0),
            bytes: b"x".to_vec(),
        }]
    }

    #[test]
    fn newest_tickets_are_the_highest_numbers_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        // Past 255, so that a little-endian key would sort them wrongly.
        for n in 1..=300u32 {
            open(&s, n, &format!("m{n}"));
        }
        let ids = |v: Vec<Ticket>| v.iter().map(|t| t.id.0).collect::<Vec<_>>();
        let (newest, older) = s.newest_tickets(3).unwrap();
        assert_eq!((ids(newest), older), (vec![298, 299, 300], true));
        let (all, older) = s.newest_tickets(300).unwrap();
        assert_eq!((all.len(), older), (300, false));
    }

    /// The two ways a plan finds the store changed, told apart: the caller
    /// handles the message again for one and parks it for the other.
    #[test]
    fn a_taken_ticket_number_and_a_missing_ticket_are_different_errors() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let i = intake(1, "m1");
        let planned = Ticket::new(s.next_ticket_id().unwrap(), &i, "a@x", "s", "p");
        open(&s, 2, "m2");
        let taken = s.open_ticket(&planned, &i, &[], None).unwrap_err();
        assert!(matches!(taken, StoreError::TicketNumberTaken { wanted: TicketId(1), next: 2 }), "{taken}");
        assert_eq!(s.ticket_for_message_id("m1").unwrap(), None, "nothing written");
        let missing = s.update_ticket(TicketId(9), None, "x", None, |_| Vec::new()).unwrap_err();
        assert!(matches!(missing, StoreError::NoTicket(TicketId(9))), "{missing}");
    }

    #[test]
    fn tickets_are_numbered_and_cursor_moves_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let (t1, a1) = open(&s, 3, "m1");
        let (t2, _) = open(&s, 5, "m2");
        assert_eq!((t1.id, t2.id), (TicketId(1), TicketId(2)));
        assert_eq!(s.cursor("INBOX").unwrap(), Some(Cursor { validity: 7, last_uid: 5 }));
        assert_eq!(s.ticket_for_message_id("m2").unwrap(), Some(TicketId(2)));
        assert_eq!(s.ticket_for_message_id("d1@t").unwrap(), Some(TicketId(1)));
        assert_eq!(s.pending_actions().unwrap().len(), 2);
        s.complete_action(a1[0].0, t1.id, "appended").unwrap();
        assert_eq!(s.pending_actions().unwrap().len(), 1);
        assert_eq!(s.audit_log(t1.id).unwrap().len(), 2);
    }

    #[test]
    fn state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            open(&s, 1, "m1");
            s.quarantine(&Quarantined {
                folder: "INBOX".into(),
                uid: Uid { validity: 7, uid: 2 },
                message_id: None,
                from: None,
                subject: None,
                reason: "too big".into(),
                at: jiff::Timestamp::now(),
                ticket: None,
            }, None)
            .unwrap();
        }
        let s = Store::open_waiting(dir.path(), crate::store::REOPEN).unwrap();
        assert_eq!(s.tickets().unwrap().len(), 1);
        assert_eq!(s.quarantined().unwrap()[0].reason, "too big");
        assert_eq!(s.cursor("INBOX").unwrap().unwrap().last_uid, 2);
        let (t, _) = open(&s, 3, "m3");
        assert_eq!(t.id, TicketId(2));
        let stale = Ticket { id: TicketId(2), ..t };
        assert!(s.open_ticket(&stale, &intake(4, "m4"), &[], None).is_err(), "a taken number is refused");
    }

    #[test]
    fn deadlines_are_indexed_by_due_time_and_follow_updates() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t0: jiff::Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let (a, _) = open(&s, 1, "m1");
        let (b, _) = open(&s, 2, "m2");
        let arm = |id, name: &str, due: jiff::Timestamp| {
            s.update_ticket(id, None, "armed", None, |t| {
                t.deadlines = vec![Deadline { name: name.into(), due }];
                Vec::new()
            })
            .unwrap()
        };
        arm(a.id, "late", t0 + jiff::SignedDuration::from_hours(48));
        arm(b.id, "soon", t0 + jiff::SignedDuration::from_hours(1));
        assert_eq!(s.next_deadline().unwrap(), Some(t0 + jiff::SignedDuration::from_hours(1)));
        assert!(s.due_deadlines(t0).unwrap().is_empty());
        let due = s.due_deadlines(t0 + jiff::SignedDuration::from_hours(2)).unwrap();
        assert_eq!(due, vec![(t0 + jiff::SignedDuration::from_hours(1), b.id, "soon".to_string())]);
        // Re-arming replaces the old entry.
        arm(b.id, "soon", t0 + jiff::SignedDuration::from_hours(72));
        assert_eq!(s.next_deadline().unwrap(), Some(t0 + jiff::SignedDuration::from_hours(48)));
        s.update_ticket(a.id, None, "fired", None, |t| {
            t.deadlines.clear();
            Vec::new()
        })
        .unwrap();
        assert_eq!(s.next_deadline().unwrap(), Some(t0 + jiff::SignedDuration::from_hours(72)));
    }

    #[test]
    fn attempts_count_up() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let u = Uid { validity: 1, uid: 9 };
        assert_eq!(s.count_attempt("INBOX", u).unwrap(), 1);
        assert_eq!(s.count_attempt("INBOX", u).unwrap(), 2);
        s.skip("INBOX", u).unwrap();
        assert_eq!(s.count_attempt("INBOX", u).unwrap(), 1);
    }

    /// What the worker's commits rely on (`Worker::plan` in daemon.rs): a
    /// deferred commit is lost in a crash until a durable one follows, and
    /// any durable one (not only `persist`'s) makes it durable. A copy of
    /// the file while the store is open is what a crash leaves.
    #[test]
    fn a_durable_commit_makes_the_deferred_ones_before_it_durable() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let crash = |n: u32| {
            let at = dir.path().join(format!("crash{n}"));
            std::fs::create_dir(&at).unwrap();
            std::fs::copy(kv::file(dir.path()), kv::file(&at)).unwrap();
            Store::open(&at).unwrap().cursor("INBOX").unwrap().map(|c| c.last_uid)
        };
        s.reset_cursor("INBOX", 1).unwrap();
        s.skip("INBOX", Uid { validity: 1, uid: 5 }).unwrap();
        assert_eq!(crash(1), Some(0), "the deferred commit is not on disk yet");
        // A durable commit of something else (the next batch's attempt mark).
        s.mark_attempts("Other", 1, &[9]).unwrap();
        assert_eq!(crash(2), Some(5), "the durable commit took the deferred one with it");
        s.skip("INBOX", Uid { validity: 1, uid: 6 }).unwrap();
        s.persist().unwrap();
        assert_eq!(crash(3), Some(6), "persist makes the next one durable");
    }
}
