//! What changed since a reader last looked, so that work repeated on
//! every sync pass (the status snapshot) costs what changed, not what the
//! store holds. Kept in memory: a restart starts the reader over from the
//! store, which is what it does the first time anyway.

use std::collections::BTreeSet;

use super::{Store, TicketId};

/// Tickets touched past this many since the last look are not listed one
/// by one: the reader starts over, as after a restart. A backlog writes
/// about 64 tickets per batch between two looks.
const MAX_LISTED: usize = 4096;

/// Tickets written (opened, changed, claimed, pruned) since the last
/// [`Store::take_touched`].
#[derive(Debug, Default)]
pub struct Touched {
    pub ids: BTreeSet<TicketId>,
    /// More than [`MAX_LISTED`] were touched: `ids` is empty and the
    /// reader must read everything it keeps again.
    pub overflowed: bool,
}

impl Store {
    /// Called after a transaction that wrote these tickets commits: a
    /// reader that looks earlier must not see the old ticket and forget
    /// that it changed.
    pub(super) fn touch(&self, ids: &[TicketId]) {
        if ids.is_empty() {
            return;
        }
        let mut t = self.touched.lock().unwrap_or_else(|p| p.into_inner());
        if t.overflowed {
            return;
        }
        t.ids.extend(ids.iter().copied());
        if t.ids.len() > MAX_LISTED {
            t.ids.clear();
            t.overflowed = true;
        }
    }

    /// The tickets written since the last call, for the one reader that
    /// keeps a view of them (the daemon's status snapshot).
    pub fn take_touched(&self) -> Touched {
        std::mem::take(&mut *self.touched.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Intake, Ticket, Uid};

    #[test]
    fn writes_are_listed_once_and_too_many_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let open = |uid: u32| {
            let i = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid }, message_id: format!("m{uid}") };
            let t = Ticket::new(s.next_ticket_id().unwrap(), &i, "a@x", "s", "p");
            s.open_ticket(&t, &i, &[], None).unwrap().0.id
        };
        let (a, b) = (open(1), open(2));
        s.update_ticket(a, None, "changed", None, |_| Vec::new()).unwrap();
        s.claim(b, "alice", jiff::Timestamp::now()).unwrap();
        let t = s.take_touched();
        assert_eq!((t.ids.into_iter().collect::<Vec<_>>(), t.overflowed), (vec![a, b], false));
        assert!(s.take_touched().ids.is_empty(), "taken once");
        // A claim on a ticket that is already claimed changes nothing.
        s.claim(b, "bob", jiff::Timestamp::now()).unwrap();
        assert!(s.take_touched().ids.is_empty());

        s.touch(&(0..=MAX_LISTED as u64).map(TicketId).collect::<Vec<_>>());
        let t = s.take_touched();
        assert!(t.overflowed && t.ids.is_empty());
    }
}
