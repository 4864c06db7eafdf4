//! The newest tickets as the daemon's snapshot lists them, kept between
//! snapshots and brought up to date from the tickets written since the
//! last one: a sync pass costs the tickets it touched, not the
//! [`super::SNAPSHOT_TICKETS`] listed (decoding those after every pass
//! was most of the CPU a pass cost on a large store).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{TicketSummary, summary};
use crate::store::{Store, StoreError};

/// Shared by the daemon's tasks through [`super::Health`]; the first
/// snapshot (and one after too many changes to list) reads the window
/// from the store.
#[derive(Debug, Clone, Default)]
pub struct NewestTickets(Arc<Mutex<Option<Window>>>);

#[derive(Debug)]
struct Window {
    limit: usize,
    /// Each summary with its JSON, so that writing the snapshot encodes
    /// only the tickets that changed.
    summaries: BTreeMap<u64, (TicketSummary, String)>,
    /// Tickets older than the window exist.
    older: bool,
}

impl NewestTickets {
    /// The `limit` newest tickets, oldest first, and whether older ones
    /// exist.
    pub fn read(&self, store: &Store, limit: usize) -> Result<(Vec<TicketSummary>, bool), StoreError> {
        self.with(store, limit, |w| (w.summaries.values().map(|(t, _)| t.clone()).collect(), w.older))
    }

    /// As `read`, as a JSON array that `f` writes where it wants it
    /// (what `read` gives, encoded), without building it in memory.
    pub fn with_json<R>(&self, store: &Store, limit: usize, f: impl FnOnce(JsonList<'_>) -> R) -> Result<R, StoreError> {
        self.with(store, limit, |w| f(JsonList(w)))
    }

    /// The window brought up to date, given to `f`.
    fn with<R>(&self, store: &Store, limit: usize, f: impl FnOnce(&Window) -> R) -> Result<R, StoreError> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let touched = store.take_touched();
        let result = match kept.as_mut() {
            Some(w) if w.limit == limit && !touched.overflowed => w.update(store, touched.ids),
            _ => Window::load(store, limit).map(|w| {
                *kept = Some(w);
            }),
        };
        match (result, kept.as_ref()) {
            (Ok(()), Some(w)) => Ok(f(w)),
            (r, _) => {
                // What was taken is lost with the failed read: start over.
                *kept = None;
                Err(r.err().unwrap_or_else(|| StoreError::Missing("status window: not loaded")))
            }
        }
    }
}

/// The window's tickets as JSON, for [`NewestTickets::with_json`].
pub struct JsonList<'w>(&'w Window);

impl JsonList<'_> {
    /// Tickets older than the listed ones exist.
    pub fn older(&self) -> bool {
        self.0.older
    }

    /// The tickets listed, oldest first.
    pub fn summaries(&self) -> impl Iterator<Item = &TicketSummary> {
        self.0.summaries.values().map(|(t, _)| t)
    }

    /// The tickets as one JSON array, oldest first.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        out.write_all(b"[")?;
        for (i, (_, json)) in self.0.summaries.values().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(json.as_bytes())?;
        }
        out.write_all(b"]")
    }
}

/// A ticket's summary and its JSON.
fn entry(t: &crate::store::Ticket) -> (TicketSummary, String) {
    let s = summary(t);
    let json = serde_json::to_string(&s).unwrap_or_default();
    (s, json)
}

impl Window {
    fn load(store: &Store, limit: usize) -> Result<Window, StoreError> {
        let (newest, older) = store.newest_tickets(limit)?;
        Ok(Window {
            limit,
            summaries: newest.iter().map(|t| (t.id.0, entry(t))).collect(),
            older,
        })
    }

    fn update(&mut self, store: &Store, touched: impl IntoIterator<Item = crate::store::TicketId>) -> Result<(), StoreError> {
        for id in touched {
            let full = self.summaries.len() >= self.limit;
            if full && self.summaries.first_key_value().is_some_and(|(&oldest, _)| id.0 < oldest) {
                continue;
            }
            match store.ticket(id)? {
                Some(t) => self.summaries.insert(id.0, entry(&t)),
                None => self.summaries.remove(&id.0),
            };
        }
        while self.summaries.len() > self.limit {
            self.summaries.pop_first();
            self.older = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Intake, Ticket, TicketId, TicketState, Uid};

    fn open(s: &Store, uid: u32) -> TicketId {
        let i = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid }, message_id: format!("m{uid}") };
        let t = Ticket::new(s.next_ticket_id().unwrap(), &i, "a@x", &format!("subject {uid}"), "p");
        s.open_ticket(&t, &i, &[], None).unwrap().0.id
    }

    /// What a fresh read of the store lists, as the window must.
    fn fresh(s: &Store, limit: usize) -> (Vec<(u64, String, String)>, bool) {
        let (newest, older) = s.newest_tickets(limit).unwrap();
        (newest.iter().map(|t| (t.id.0, t.state.as_str().to_string(), t.subject.clone())).collect(), older)
    }

    fn listed(w: &NewestTickets, s: &Store, limit: usize) -> (Vec<(u64, String, String)>, bool) {
        let (v, older) = w.read(s, limit).unwrap();
        (v.into_iter().map(|t| (t.ticket, t.state, t.subject)).collect(), older)
    }

    #[test]
    fn the_kept_window_matches_a_fresh_read_after_every_kind_of_change() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let w = NewestTickets::default();
        assert_eq!(listed(&w, &s, 3), (vec![], false));
        for uid in 1..=2 {
            open(&s, uid);
        }
        assert_eq!(listed(&w, &s, 3), fresh(&s, 3), "filling up");
        for uid in 3..=5 {
            open(&s, uid);
        }
        assert_eq!(listed(&w, &s, 3), fresh(&s, 3), "sliding: the oldest leave");
        assert!(listed(&w, &s, 3).1);
        s.update_ticket(TicketId(4), None, "renamed", None, |t| {
            t.subject = "changed".into();
            Vec::new()
        })
        .unwrap();
        s.claim(TicketId(5), "alice", jiff::Timestamp::now()).unwrap();
        // A change to a ticket below the window is not listed.
        s.update_ticket(TicketId(1), None, "renamed", None, |t| {
            t.subject = "old".into();
            Vec::new()
        })
        .unwrap();
        let now = listed(&w, &s, 3);
        assert_eq!(now, fresh(&s, 3));
        assert_eq!(now.0[1].2, "changed");
        assert_eq!(now.0[2].1, TicketState::Claimed.as_str());
        let (json, older) = w
            .with_json(&s, 3, |list| {
                let mut json = Vec::new();
                list.write_to(&mut json).unwrap();
                (String::from_utf8(json).unwrap(), list.older())
            })
            .unwrap();
        let decoded: Vec<TicketSummary> = serde_json::from_str(&json).unwrap();
        let listed: Vec<_> = decoded.into_iter().map(|t| (t.ticket, t.state, t.subject)).collect();
        assert_eq!((listed, older), fresh(&s, 3), "the JSON lists the same");
    }
}
