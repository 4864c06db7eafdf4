//! Notices: tell the staff channel what happened (a new ticket, a deadline
//! that fired, a quarantined message, a reply seen in Sent) and take staff
//! commands back (`!claim N`, `!queue`, ...). Sinks are the IRC channel and
//! an optional webhook; both get the same one-line rendering.
//!
//! Everything here treats user-derived text (sender, subject, reasons) as
//! hostile; [`lines`] is the one place a line staff read is made, so a
//! subject can never inject an IRC command. Apart from claims, which staff
//! own, nothing here changes a ticket; other requests go to the daemon as
//! [`StaffCommand`]s.

mod commands;
pub mod irc;
pub mod lines;
pub mod webhook;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::store::{Outgoing, Queued, Store, TicketId};

pub use irc::spawn_irc;
pub use lines::{
    CONTINUED, DIGEST_AFTER, REPEAT_MARK, cut, cut_bytes, digest, identity, identity_report, next_post, sanitise, shown, split_line,
    when,
};
pub use webhook::spawn_webhook;

/// Whom a reply that proved too little wrote as: the ticket's account,
/// or for a ticket no account is known for, its address. A notice's
/// `account` (the username, as queued before there was an address) or
/// `address` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claimed {
    Account(String),
    Address(String),
}

/// Something staff should know about, rendered as one line by
/// [`Notice::render`] (in [`lines`]). Queued in the store as JSON, so a
/// variant once released keeps its fields: old queues stay readable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Notice {
    NewTicket {
        ticket: TicketId,
        procedure: String,
        /// The sender's bare address.
        from: String,
        subject: String,
        /// [`lines::identity`], and any note on the reply address.
        identity: String,
        draft_ready: bool,
    },
    /// A reply moved a ticket on.
    Reply {
        ticket: TicketId,
        /// The sender's bare address.
        from: String,
        /// Procedure and step, and what staff must do.
        procedure: String,
        identity: String,
        draft_ready: bool,
        /// The note of a step the reply closed the ticket at: nobody opens
        /// a closed ticket again to read it (CAcert `kept`: "If you locked
        /// the account already, unlock it").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// It was held, its identity not checkable when it came, until a
        /// re-check proved it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rechecked: bool,
    },
    /// A reply claims a ticket's account (or, without one, its address)
    /// without proving it: kept, and nothing moves.
    Unproven {
        ticket: TicketId,
        message_id: String,
        #[serde(flatten)]
        claimed: Claimed,
        /// Why it does not count.
        reason: String,
    },
    /// The second account of a procedure that involves one wrote.
    SecondAccount {
        ticket: TicketId,
        identity: String,
        /// The step the ticket moved to, when it did (a draft is ready).
        step: Option<String>,
        /// The reply was held because its check could not run, until a
        /// re-check proved it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rechecked: bool,
        /// It says no, or not yet: what a person must read (the hand-off
        /// or the note of the step it reached).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        objection: Option<String>,
    },
    /// A ticket's identity checked again after a check that could not
    /// reach a key server or DNS.
    Rechecked {
        ticket: TicketId,
        /// Settled, or trying again.
        outcome: String,
        identity: String,
        /// What each factor said this time (`dkim pass, dns retry`).
        latest: String,
        step: Option<String>,
    },
    /// A bounce returned mail of ours on a ticket: handed to a person, and
    /// no deadline moves it on meanwhile (`act::aside`).
    Bounced {
        ticket: TicketId,
        /// The ticket's address our mail went to (a bounce from where it
        /// forwards names another).
        to: String,
        /// The bounce's status and diagnostic, or its subject.
        why: String,
        /// The step's deadlines it stopped ("reminder"); none on a closed
        /// ticket or a step that had none.
        stopped: Vec<String>,
        /// The ticket was closed already: recorded, nothing changed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        closed: bool,
    },
    /// A draft of ours went stale, and staff had edited it: left in place.
    StaleDraftEdited { ticket: TicketId, mailbox: String },
    DeadlineFired {
        ticket: TicketId,
        procedure: String,
        /// What the deadline was for ("no reply from the user in 14 days").
        what: String,
        draft_ready: bool,
    },
    Quarantined {
        folder: String,
        uid: u32,
        from: Option<String>,
        subject: Option<String>,
        reason: String,
    },
    Answered {
        ticket: TicketId,
        by: String,
        /// Set when the reply did not come from the claim holder.
        warning: Option<String>,
    },
    /// What became of a request staff made through the daemon (`!set`,
    /// `!reclassify`, `triaged done`), already a line of [`lines`].
    Text(String),
    /// Once a day (`[intake] aside_digest`): the mail set aside since the
    /// last such line, which got no draft and no notice of its own.
    SetAside {
        /// When the last such line went, local ("2026-11-30 09:00");
        /// `None` when there was none before.
        since: Option<String>,
        /// How many of each kind (`bulk`, `spam`, ...), most first.
        kinds: Vec<(String, usize)>,
        /// The newest few, newest first.
        newest: Vec<AsideItem>,
    },
}

/// One message set aside, as the daily line names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AsideItem {
    pub ticket: TicketId,
    pub kind: String,
    /// The sender's bare address.
    pub from: String,
    pub subject: String,
}

/// A request from staff that only the daemon can carry out. Also the
/// format of the command line's requests to the running daemon (see
/// `control.rs`), hence the JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum StaffCommand {
    Reclassify {
        ticket: TicketId,
        procedure: String,
        by: String,
    },
    /// Facts staff know (`!set N key=value ...`), keys already checked.
    SetFacts {
        ticket: TicketId,
        facts: Vec<(String, serde_json::Value)>,
        by: String,
    },
    /// Labelled examples for the local model (`triaged learn`): features
    /// only, never the mail.
    Learn {
        examples: Vec<crate::store::Example>,
        by: String,
    },
    /// Examples to drop, by id (`triaged learn --forget`).
    Forget {
        keys: Vec<String>,
        by: String,
    },
    /// Staff carried out the ticket's staff action (`!done N` on a ticket
    /// that waits for one).
    StaffDone { ticket: TicketId, by: String },
    /// `triaged done N`: what `!done N` does in the channel
    /// (`act::staff_action::done`): the staff action carried out, or the
    /// ticket closed.
    Done { ticket: TicketId, by: String },
    /// `!notdone N`, `triaged not-done N`: staff had not carried out the
    /// action the user took back; the ticket closes with nothing drafted
    /// (`Actor::not_done`).
    NotDone { ticket: TicketId, by: String },
    /// `!done N` closed the ticket: drafts of ours still waiting are stale.
    WithdrawStale { ticket: TicketId, by: String },
    /// `triaged show N`: the ticket's history, read only; the answer's
    /// text is the history as JSON (`history::History`).
    Show {
        ticket: TicketId,
        by: String,
    },
    /// `triaged classify` while the daemon runs: how the daemon would read
    /// the message were it a new request, with what it learned; read only.
    /// `message`: the raw message, base64; the answer's text is
    /// `classify::cli::Decision` as JSON.
    Classify {
        message: String,
        by: String,
    },
    /// `triaged learn --list` while the daemon runs; read only. The
    /// answer's text is the examples (`learn::cli::Listed`) as a JSON array.
    Examples { by: String },
}

impl StaffCommand {
    /// Whether it only reads what the daemon holds (`show`, `classify`,
    /// `learn --list`): nothing is lost when it is never applied.
    pub fn reads_only(&self) -> bool {
        matches!(self, StaffCommand::Show { .. } | StaffCommand::Classify { .. } | StaffCommand::Examples { .. })
    }
}

/// The name of the IRC sink's queue in the outbox.
pub const IRC: &str = "irc";
/// The name of the webhook sink's queue in the outbox.
pub const WEBHOOK: &str = "webhook";

/// Hands notices to every configured sink through the store's outbox, so a
/// notice outlives a crash or an outage of its sink. Cheap to clone; never
/// blocks on a sink. When the last clone is dropped the sinks know no more
/// notices will come (`run --once` then drains and ends).
#[derive(Clone, Default)]
pub struct Notifier {
    store: Option<Store>,
    sinks: Vec<Sink>,
}

#[derive(Clone)]
struct Sink {
    name: &'static str,
    /// Capacity one: a wake already waiting covers every later one.
    wake: mpsc::Sender<()>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.sinks.iter().map(|s| s.name)).finish()
    }
}

impl Notifier {
    /// A notifier with no sinks (no IRC or webhook configured).
    pub fn disabled() -> Notifier {
        Notifier::default()
    }

    /// A notifier feeding the queue `name` in `store`, and the sink's side:
    /// woken when there is something new, closed when every notifier is gone.
    pub(crate) fn sink(store: Store, name: &'static str) -> (Notifier, mpsc::Receiver<()>) {
        let (wake, rx) = mpsc::channel(1);
        (
            Notifier {
                store: Some(store),
                sinks: vec![Sink { name, wake }],
            },
            rx,
        )
    }

    /// One notifier that feeds both.
    pub fn and(mut self, other: Notifier) -> Notifier {
        self.store = self.store.or(other.store);
        self.sinks.extend(other.sinks);
        self
    }

    /// The names of the sinks fed.
    pub fn sink_names(&self) -> Vec<&'static str> {
        self.sinks.iter().map(|s| s.name).collect()
    }

    /// `n` ready to be queued in a store transition (a ticket opened, a
    /// message quarantined), so the notice is as durable as what it tells;
    /// `None` without sinks. Call [`Notifier::wake`] after the transition.
    pub fn outgoing(&self, n: &Notice) -> Option<Outgoing> {
        if self.sinks.is_empty() {
            return None;
        }
        Some(Outgoing {
            sinks: self.sinks.iter().map(|s| s.name.to_string()).collect(),
            notice: serde_json::to_value(n).unwrap_or_default(),
        })
    }

    /// Queues `n` on its own and wakes the sinks.
    pub fn notify(&self, n: Notice) {
        let (Some(store), Some(out)) = (&self.store, self.outgoing(&n)) else {
            return;
        };
        if let Err(e) = store.enqueue_notice(&out) {
            tracing::error!("notice not queued: {e}: {}", n.render());
        }
        self.wake();
    }

    /// Tells every sink to look at its queue (notices queued by a store
    /// transition, or drafts done that notices were waiting for).
    pub fn wake(&self) {
        for s in &self.sinks {
            // Full: a wake is already waiting. Closed: the sink stopped.
            let _ = s.wake.try_send(());
        }
    }
}

/// What a sink posts from a queued notice: the notice, or `None` for one
/// this version cannot read (logged; the sink drops it).
pub(crate) fn read_queued(sink: &str, seq: u64, q: &Queued) -> Option<Notice> {
    match serde_json::from_value(q.notice.clone()) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!("{sink}: queued notice {seq} cannot be read ({e}); dropped");
            None
        }
    }
}

/// reqwest's rustls needs a process-wide crypto provider when more than one
/// is compiled in; ring is the one the rest of triaged uses.
pub(crate) fn install_crypto_provider() {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn notifier_queues_for_every_sink_and_survives_closed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (a, mut ra) = Notifier::sink(store.clone(), IRC);
        let (b, rb) = Notifier::sink(store.clone(), WEBHOOK);
        drop(rb);
        let n = a.and(b);
        n.notify(Notice::Text("hi".into()));
        n.notify(Notice::Text("again".into()));
        assert_eq!(ra.try_recv(), Ok(()));
        assert!(ra.try_recv().is_err(), "wakes coalesce");
        for sink in [IRC, WEBHOOK] {
            let q = store.ready_notices(sink, 10).unwrap();
            let texts: Vec<_> = q.iter().map(|(seq, q)| read_queued(sink, *seq, q).unwrap()).collect();
            assert_eq!(texts, [Notice::Text("hi".into()), Notice::Text("again".into())]);
        }
        Notifier::disabled().notify(Notice::Text("nobody".into()));
        drop(n);
        assert!(matches!(ra.try_recv(), Err(mpsc::error::TryRecvError::Disconnected)));
    }
}
