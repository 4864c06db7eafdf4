//! The notice outbox: one queue per sink ("irc", "webhook"), keyed by a
//! monotonic sequence, so a notice survives a crash and an outage of its
//! sink. A notice about a ticket is written in the ticket's own
//! transaction and waits there until that transaction's drafts are done;
//! the sink deletes it only once it is posted.

use serde::{Deserialize, Serialize};

use super::kv;
use super::{Store, StoreError, Tx, TxResult, dec, enc};

/// A notice on its way into the outbox, already encoded by the notice
/// stage (the store does not read it), for the sinks named.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub sinks: Vec<String>,
    pub notice: serde_json::Value,
}

/// One queued notice, as a sink reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub notice: serde_json::Value,
    /// Planned actions (drafts) that must be done before the notice may
    /// go: "draft ready" must be true when staff read it.
    #[serde(default)]
    pub after: Vec<u64>,
    /// Handed to the sink and not confirmed: a crash may have posted it.
    #[serde(default)]
    pub in_flight: bool,
}

fn key(sink: &str, seq: u64) -> Vec<u8> {
    let mut k = prefix(sink);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn prefix(sink: &str) -> Vec<u8> {
    let mut k = sink.as_bytes().to_vec();
    k.push(0);
    k
}

fn split_key(k: &[u8]) -> Option<(String, u64)> {
    let nul = k.iter().position(|b| *b == 0)?;
    let seq = u64::from_be_bytes(k.get(nul + 1..)?.try_into().ok()?);
    Some((String::from_utf8_lossy(&k[..nul]).into_owned(), seq))
}

impl Tx<'_> {
    /// Queues `out` for each of its sinks, held until `after` are done.
    pub(super) fn enqueue(&self, out: &Outgoing, after: &[u64]) -> TxResult<()> {
        let seq = self.trees.meta.generate_id()?;
        let q = Queued {
            notice: out.notice.clone(),
            after: after.to_vec(),
            in_flight: false,
        };
        for sink in &out.sinks {
            self.trees.outbox.insert(key(sink, seq), enc(&q))?;
        }
        Ok(())
    }
}

impl Store {
    /// Queues a notice that belongs to no other transition.
    pub fn enqueue_notice(&self, out: &Outgoing) -> Result<(), StoreError> {
        self.tx(|tx| tx.enqueue(out, &[]))
    }

    /// Up to `limit` notices of `sink` that may go now, oldest first, with
    /// their sequence numbers; notices still waiting for a draft are left.
    pub fn ready_notices(&self, sink: &str, limit: usize) -> Result<Vec<(u64, Queued)>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.trees.outbox.scan(kv::prefixed(&prefix(sink)), false, |k, v| {
            let Some((_, seq)) = split_key(k) else { return Ok(true) };
            let q: Queued = dec("queued notice", v)?;
            let mut held = false;
            for id in &q.after {
                held |= self.trees.pending.contains_key(id.to_be_bytes())?;
            }
            if !held {
                out.push((seq, q));
            }
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }

    /// Marks these notices as being posted, flushed before the first byte
    /// goes out: after a crash they are posted again, marked as repeats.
    pub fn notices_in_flight(&self, sink: &str, seqs: &[u64]) -> Result<(), StoreError> {
        self.tx(|tx| {
            for &seq in seqs {
                if let Some(v) = tx.trees.outbox.get(key(sink, seq))? {
                    let mut q: Queued = dec("queued notice", &v)?;
                    q.in_flight = true;
                    tx.trees.outbox.insert(key(sink, seq), enc(&q))?;
                }
            }
            Ok(())
        })
    }

    /// These notices were posted (or can never be): gone from the queue.
    pub fn notices_done(&self, sink: &str, seqs: &[u64]) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        self.tx(|tx| {
            for &seq in seqs {
                tx.trees.outbox.remove(key(sink, seq))?;
            }
            Ok(())
        })
    }

    /// Notices waiting per sink (posted or held alike).
    pub fn queued_notices(&self) -> Result<std::collections::BTreeMap<String, usize>, StoreError> {
        let mut counts = std::collections::BTreeMap::new();
        self.trees.outbox.scan(kv::all(), false, |k, _| {
            if let Some((sink, _)) = split_key(k) {
                *counts.entry(sink).or_insert(0) += 1;
            }
            Ok(true)
        })?;
        Ok(counts)
    }

    /// Drops the queue of every sink not in `configured`; returns the
    /// sinks dropped and how many notices each held.
    pub fn drop_stale_queues(&self, configured: &[&str]) -> Result<Vec<(String, usize)>, StoreError> {
        let stale: Vec<(String, usize)> = self
            .queued_notices()?
            .into_iter()
            .filter(|(sink, _)| !configured.contains(&sink.as_str()))
            .collect();
        for (sink, _) in &stale {
            let mut keys = Vec::new();
            self.trees.outbox.scan(kv::prefixed(&prefix(sink)), false, |k, _| {
                keys.push(k.to_vec());
                Ok(true)
            })?;
            self.tx(|tx| {
                for k in &keys {
                    tx.trees.outbox.remove(k)?;
                }
                Ok(())
            })?;
        }
        Ok(stale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Action, Intake, Ticket, TicketId, Uid};

    fn out(sinks: &[&str], text: &str) -> Outgoing {
        Outgoing {
            sinks: sinks.iter().map(|s| s.to_string()).collect(),
            notice: serde_json::json!(text),
        }
    }

    #[test]
    fn queues_per_sink_in_order_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            s.enqueue_notice(&out(&["irc", "webhook"], "a")).unwrap();
            s.enqueue_notice(&out(&["irc"], "b")).unwrap();
            let irc = s.ready_notices("irc", 10).unwrap();
            assert_eq!(irc.iter().map(|(_, q)| q.notice.clone()).collect::<Vec<_>>(), ["a", "b"]);
            s.notices_in_flight("irc", &[irc[0].0]).unwrap();
        }
        let s = Store::open_waiting(dir.path(), crate::store::REOPEN).unwrap();
        let irc = s.ready_notices("irc", 10).unwrap();
        assert!(irc[0].1.in_flight && !irc[1].1.in_flight);
        s.notices_done("irc", &[irc[0].0]).unwrap();
        assert_eq!(s.ready_notices("irc", 10).unwrap().len(), 1);
        let counts = s.queued_notices().unwrap();
        assert_eq!((counts["irc"], counts["webhook"]), (1, 1));
        assert_eq!(s.drop_stale_queues(&["irc"]).unwrap(), [("webhook".to_string(), 1)]);
        assert!(s.ready_notices("webhook", 10).unwrap().is_empty());
    }

    #[test]
    fn a_ticket_notice_is_held_until_its_draft_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let intake = Intake {
            folder: "INBOX".into(),
            uid: Uid { validity: 1, uid: 1 },
            message_id: "<m1@x>".into(),
        };
        let t = Ticket::new(TicketId(1), &intake, "a@x", "s", "p");
        let draft = Action::AppendDraft {
            ticket: t.id,
            folder: "INBOX".into(),
            mailbox: "Drafts".into(),
            message_id: "<d1@x>".into(),
            bytes: b"x".to_vec(),
        };
        let (_, planned) = s.open_ticket(&t, &intake, &[draft], Some(&out(&["irc"], "new"))).unwrap();
        assert!(s.ready_notices("irc", 10).unwrap().is_empty(), "held while the draft is pending");
        assert_eq!(s.queued_notices().unwrap()["irc"], 1);
        s.complete_action(planned[0].0, t.id, "done").unwrap();
        assert_eq!(s.ready_notices("irc", 10).unwrap().len(), 1);
    }
}
