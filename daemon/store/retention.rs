//! Retention: support mail holds personal data, kept only as long as the
//! team needs it (`[store] retention_days`). Once a ticket has been closed
//! that long, what came from the message goes: sender, subject, the reply
//! target, the staff facts (identity report, classification reasons,
//! procedure data) and a message kept for re-verification. What stays is
//! the record that the request existed and was handled: its number,
//! procedure, state, step, dates, draft Message-IDs, a procedure's case
//! number, and the audit trail. Quarantine entries that old lose sender
//! and subject the same way.
//!
//! Closed tickets are indexed by when they were closed, in the
//! transaction that closes them, so a pass reads only the tickets whose
//! time has come. The file keeps the space the old versions took, reused
//! by later writes; `triaged compact` (compact.rs) gives it back to the
//! file system: measured in docs/BENCHMARKS.md ("A store with a history").

use super::kv::{self, TxTree};
use super::{Quarantined, Store, StoreError, Ticket, TicketId, TicketState, TxResult, dec, deadline_key, enc, parse_deadline_key};

/// Closed tickets by when they were closed (key as the deadline index's:
/// time, then ticket).
pub(super) const CLOSED: &str = "closed";
/// Set once every closed ticket is in the index: tickets closed before it
/// existed have no close time and count as closed when first indexed.
const CLOSED_INDEXED: &[u8] = b"closed_indexed";
/// Tickets stripped per transaction batch; the pass goes on until none is
/// due, flushing after each batch.
const PER_BATCH: usize = 256;

/// What one pass dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub tickets: usize,
    pub quarantine: usize,
}

/// Keeps the index in step with a ticket about to be stored: closing it
/// records when (`now`, the transition's time), reopening it drops the
/// record.
pub(super) fn index_closing(closed: &TxTree<'_>, t: &mut Ticket, now: jiff::Timestamp) -> TxResult<()> {
    match (t.state == TicketState::Closed, t.closed) {
        (true, None) => {
            let at = to_millisecond(now);
            t.closed = Some(at);
            closed.insert(deadline_key(at, t.id, ""), [])?;
        }
        (false, Some(at)) => {
            closed.remove(deadline_key(at, t.id, ""))?;
            t.closed = None;
        }
        _ => {}
    }
    Ok(())
}

/// The index keeps milliseconds; the ticket keeps the same time, so an
/// entry is recognised as the ticket's latest close.
fn to_millisecond(t: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t)
}

/// `t` without what came from the message.
fn strip(t: &mut Ticket, now: jiff::Timestamp) {
    t.from.clear();
    t.sender_email.clear();
    t.subject.clear();
    t.reply_to = None;
    t.notes = t.notes.retained();
    // Staff facts and what the checks said about the sender's messages
    // (addresses, account, factors) are the sender's data too.
    t.facts.clear();
    t.identity = Default::default();
    t.content_dropped = Some(now);
}

impl Store {
    /// Drops the message content of every ticket closed at least
    /// `retention` before `now`, and sender and subject of quarantine
    /// entries that old. Safe to repeat; each ticket is stripped in its own
    /// transaction with its audit line.
    pub fn drop_old_content(&self, retention: std::time::Duration, now: jiff::Timestamp) -> Result<Pruned, StoreError> {
        self.index_closed_once(now)?;
        let retention = jiff::SignedDuration::try_from(retention).unwrap_or(jiff::SignedDuration::MAX);
        let before = now.checked_sub(retention).unwrap_or(jiff::Timestamp::MIN);
        let days = retention.as_secs() / 86_400;
        let end = deadline_key(before, TicketId(u64::MAX), "");
        let mut pruned = Pruned::default();
        loop {
            let due: Vec<_> = self.trees.closed.entries(kv::below(end.clone()), PER_BATCH)?.into_iter().map(|(k, _)| k).collect();
            if due.is_empty() {
                break;
            }
            for k in &due {
                let Some((at, id, _)) = parse_deadline_key(k) else {
                    self.trees.closed.remove(k)?;
                    continue;
                };
                let stripped = self.tx_deferred(|tx| {
                    tx.trees.closed.remove(k)?;
                    let Some(v) = tx.trees.tickets.get(id.0.to_be_bytes())? else { return Ok(false) };
                    let mut t: Ticket = dec("ticket", &v)?;
                    // Reopened since (and maybe closed again, indexed anew).
                    if t.closed != Some(at) || t.content_dropped.is_some() {
                        return Ok(false);
                    }
                    strip(&mut t, now);
                    tx.put_ticket(&mut t)?;
                    tx.audit(id, format!("message content dropped: closed more than {days} days ([store] retention_days)"))?;
                    Ok(true)
                })?;
                if stripped {
                    self.forget_reverify(id)?;
                    pruned.tickets += 1;
                }
            }
            self.persist()?;
        }
        let mut old = Vec::new();
        self.trees.quarantine.scan(kv::all(), false, |k, v| {
            let mut q: Quarantined = dec("quarantine entry", v)?;
            if q.at < before && (q.from.is_some() || q.subject.is_some()) {
                q.from = None;
                q.subject = None;
                old.push((k.to_vec(), enc(&q)));
            }
            Ok(true)
        })?;
        pruned.quarantine = old.len();
        self.tx(|tx| {
            for (k, v) in &old {
                tx.trees.quarantine.insert(k, v)?;
            }
            Ok(())
        })?;
        Ok(pruned)
    }

    /// Stores written before the index have closed tickets it does not
    /// list; they are indexed once, as closed `now` (their close time was
    /// not recorded), so their content is kept a full retention period
    /// from the upgrade.
    fn index_closed_once(&self, now: jiff::Timestamp) -> Result<(), StoreError> {
        if self.trees.meta.contains_key(CLOSED_INDEXED)? {
            return Ok(());
        }
        let now = to_millisecond(now);
        let mut unindexed = Vec::new();
        self.for_each_ticket(|t| {
            if t.state == TicketState::Closed && t.closed.is_none() && t.content_dropped.is_none() {
                unindexed.push(t);
            }
        })?;
        self.tx(|tx| {
            for t in &unindexed {
                let mut t = t.clone();
                t.closed = Some(now);
                tx.trees.closed.insert(deadline_key(now, t.id, ""), [])?;
                tx.trees.tickets.insert(t.id.0.to_be_bytes(), enc(&t))?;
            }
            tx.trees.meta.insert(CLOSED_INDEXED, [])
        })
    }

    /// The store's file on disk, in bytes.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(std::fs::metadata(kv::file(&self.path)).map_err(redb::Error::Io)?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Intake, Uid};

    fn days(n: i64) -> jiff::SignedDuration {
        jiff::SignedDuration::from_hours(24 * n)
    }

    #[test]
    fn content_goes_after_the_retention_and_the_record_stays() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let mut ids = Vec::new();
        for uid in 1..=3u32 {
            let i = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid }, message_id: format!("<m{uid}@x>") };
            let mut t = Ticket::new(s.next_ticket_id().unwrap(), &i, "Ann <ann@example.org>", "my IBAN is DE00", "refund");
            t.notes.identity_summary = Some("dkim pass, account ann".into());
            t.notes.number = Some(crate::store::CaseNumber { series: "a1".into(), number: uid.into() });
            t.facts.insert("payment_date".into(), "2026-01-01".into());
            t.identity.address = "ann@example.org".into();
            t.identity.account = Some("ann".into());
            ids.push(s.open_ticket(&t, &i, &[], None).unwrap().0.id);
        }
        let (closed, reopened, open) = (ids[0], ids[1], ids[2]);
        s.keep_for_reverify(closed, &crate::store::Kept { message_id: "<m1@x>".into(), joined_by: None, party: Default::default(), held: false, tries: 0, told: None, public: false, raw: b"raw message".to_vec() }).unwrap();
        s.done(closed, "alice", jiff::Timestamp::now()).unwrap();
        s.done(reopened, "alice", jiff::Timestamp::now()).unwrap();
        s.update_ticket(reopened, None, "reopened", None, |t| {
            t.state = TicketState::New;
            Vec::new()
        })
        .unwrap();
        let now = jiff::Timestamp::now();
        let retention = std::time::Duration::from_secs(90 * 86_400);

        assert_eq!(s.drop_old_content(retention, now).unwrap(), Pruned::default(), "closed today: kept");
        let later = now + days(91);
        assert_eq!(s.drop_old_content(retention, later).unwrap(), Pruned { tickets: 1, quarantine: 0 });
        let t = s.ticket(closed).unwrap().unwrap();
        assert_eq!((t.from.as_str(), t.subject.as_str(), t.sender_email.as_str()), ("", "", ""));
        assert_eq!(t.notes.to_map().keys().collect::<Vec<_>>(), ["number"]);
        assert!(t.facts.is_empty() && t.identity.address.is_empty() && t.identity.account.is_none());
        assert_eq!((t.procedure.as_str(), t.state, t.content_dropped), ("refund", TicketState::Closed, Some(later)));
        assert!(t.closed.is_some());
        assert!(s.kept_for_reverify(closed).unwrap().is_empty());
        let log: Vec<_> = s.audit_log(closed).unwrap().into_iter().map(|e| e.event).collect();
        assert!(log[0].starts_with("opened from INBOX UID 1"), "{log:?}");
        assert!(log.last().unwrap().contains("closed more than 90 days"), "{log:?}");
        for id in [reopened, open] {
            assert_eq!(s.ticket(id).unwrap().unwrap().subject, "my IBAN is DE00", "{id} is not closed");
        }
        assert_eq!(s.drop_old_content(retention, later).unwrap(), Pruned::default(), "once");
    }

    #[test]
    fn old_quarantine_entries_lose_sender_and_subject() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let q = |uid, at| Quarantined {
            folder: "INBOX".into(),
            uid: Uid { validity: 1, uid },
            message_id: Some(format!("<q{uid}@x>")),
            from: Some("Ann <ann@example.org>".into()),
            subject: Some("secret".into()),
            reason: "cannot parse".into(),
            ticket: None,
            at,
        };
        s.quarantine(&q(1, at), None).unwrap();
        s.quarantine(&q(2, at + days(60)), None).unwrap();
        let pruned = s.drop_old_content(std::time::Duration::from_secs(30 * 86_400), at + days(45)).unwrap();
        assert_eq!(pruned.quarantine, 1);
        let left = s.quarantined().unwrap();
        assert_eq!((left[0].from.as_deref(), left[0].reason.as_str()), (None, "cannot parse"));
        assert_eq!(left[1].subject.as_deref(), Some("secret"));
    }

    #[test]
    fn tickets_closed_before_the_index_are_kept_a_full_period_from_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let i = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: 1 }, message_id: "<m@x>".into() };
        let t = Ticket::new(s.next_ticket_id().unwrap(), &i, "ann@example.org", "s", "p");
        let id = s.open_ticket(&t, &i, &[], None).unwrap().0.id;
        s.done(id, "alice", jiff::Timestamp::now()).unwrap();
        // As written before the index: no close time, not indexed.
        let mut old = s.ticket(id).unwrap().unwrap();
        old.closed = None;
        s.trees.tickets.insert(id.0.to_be_bytes(), enc(&old)).unwrap();
        let closes = s.trees.closed.entries(kv::all(), usize::MAX).unwrap();
        s.tx(|tx| closes.iter().try_for_each(|(k, _)| tx.trees.closed.remove(k))).unwrap();
        let upgrade = jiff::Timestamp::now() + days(400);
        let retention = std::time::Duration::from_secs(30 * 86_400);
        assert_eq!(s.drop_old_content(retention, upgrade).unwrap().tickets, 0);
        assert_eq!(s.drop_old_content(retention, upgrade + days(31)).unwrap().tickets, 1);
    }
}
