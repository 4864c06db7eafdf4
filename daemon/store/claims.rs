//! Claims: which staff member holds a ticket and since when. A claim and
//! the ticket state it implies change in one transaction, so `!claim` from
//! two people at the same moment gives exactly one holder, and a restart
//! keeps every claim.

use serde::{Deserialize, Serialize};
use super::kv::{self, Tree, TxTree};
use super::{StoreError, Ticket, TicketId, TicketState, TxResult, be_u64, dec, enc};

const CLAIMS: &str = "claims";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub nick: String,
    pub since: jiff::Timestamp,
}

impl Claim {
    /// Whether `nick` is the one who holds it.
    pub fn held_by(&self, nick: &str) -> bool {
        same_nick(&self.nick, nick)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    Claimed,
    /// The same person claimed it again; nothing changed.
    AlreadyYours(Claim),
    HeldBy(Claim),
    /// Closed tickets cannot be claimed.
    Finished,
    NoSuchTicket,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReleaseOutcome {
    /// The claim that was dropped (it may have been someone else's).
    Released(Claim),
    NotClaimed,
    NoSuchTicket,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DoneOutcome {
    /// Closed; the claim it had, if any.
    Done(Option<Claim>),
    /// Only the holder closes a claimed ticket.
    HeldBy(Claim),
    AlreadyClosed,
    NoSuchTicket,
    /// Not closed: `by` recorded the ticket's staff action as done at `at`,
    /// too recently for a second `done` to be taken for a close (before
    /// `until`; see `act::staff_action::SAID_TWICE`). `taken_back`: the
    /// user had taken it back, and `notdone` may still say it was not.
    JustActed { by: String, action: String, at: jiff::Timestamp, until: jiff::Timestamp, taken_back: bool },
}

/// The claimed-by keyword each ticket's original message carries on the
/// server, as far as we set it.
const CLAIM_KEYWORDS: &str = "claim_keywords";
/// Tickets whose claim changed since their keyword was last set: ticket
/// → a sequence number of the change. Written in the claim's own
/// transaction, so a sync pass looks only at what changed (not at every
/// claim ever made) and a change made just before a crash is still synced
/// after it. An entry is removed only if its number is unchanged, so a
/// claim changed during the sync stays marked.
const CLAIM_KEYWORDS_STALE: &str = "claim_keywords_stale";
/// Set once the stale index covers every claim (stores made before it
/// had none): see `index_stale_claim_keywords`.
const STALE_INDEXED: &[u8] = b"claim_keywords_stale_indexed";

/// The IMAP keyword naming a claim holder: an atom, so only letters,
/// digits, `-` and `_` of the nick.
fn claim_keyword(nick: &str) -> String {
    let safe: String = nick.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    format!("triaged-claimed-{safe}")
}

/// IRC nicks compare case-insensitively (RFC 2812 2.2, ASCII folding is
/// what every current server advertises via CASEMAPPING or close to it).
fn same_nick(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

struct ClaimTx<'a> {
    trees: super::Named<TxTree<'a>>,
    claims: TxTree<'a>,
    stale: TxTree<'a>,
    touched: &'a std::cell::RefCell<Vec<TicketId>>,
}

impl ClaimTx<'_> {
    fn ticket(&self, id: TicketId) -> TxResult<Option<Ticket>> {
        match self.trees.tickets.get(id.0.to_be_bytes())? {
            Some(v) => Ok(Some(dec("ticket", &v)?)),
            None => Ok(None),
        }
    }

    fn claim(&self, id: TicketId) -> TxResult<Option<Claim>> {
        match self.claims.get(id.0.to_be_bytes())? {
            Some(v) => Ok(Some(dec("claim", &v)?)),
            None => Ok(None),
        }
    }

    fn set_state(&self, mut t: Ticket, state: TicketState, now: jiff::Timestamp) -> TxResult<()> {
        if t.state != state {
            t.state = state;
            super::retention::index_closing(&self.trees.closed, &mut t, now)?;
            self.trees.tickets.insert(t.id.0.to_be_bytes(), enc(&t))?;
            self.touched.borrow_mut().push(t.id);
        }
        Ok(())
    }

    /// The claim of `id` changes: its keyword on the server is stale.
    fn set_claim(&self, id: TicketId, claim: Option<&Claim>) -> TxResult<()> {
        match claim {
            Some(c) => self.claims.insert(id.0.to_be_bytes(), enc(c))?,
            None => self.claims.remove(id.0.to_be_bytes())?,
        };
        let seq = self.trees.meta.generate_id()?;
        self.stale.insert(id.0.to_be_bytes(), seq.to_be_bytes())?;
        Ok(())
    }

    fn note(&self, id: TicketId, at: jiff::Timestamp, event: String) -> TxResult<()> {
        let seq = self.trees.meta.generate_id()?;
        let mut k = id.0.to_be_bytes().to_vec();
        k.extend_from_slice(&seq.to_be_bytes());
        self.trees.audit.insert(k, enc(&super::AuditEntry { at, event }))?;
        Ok(())
    }
}

impl super::Store {
    fn claims_tree(&self) -> Tree {
        self.tree(CLAIMS)
    }

    /// One claim transition, durable before it returns (staff are told
    /// the outcome at once).
    fn claim_tx<R>(&self, f: impl Fn(&ClaimTx<'_>) -> TxResult<R>) -> Result<R, StoreError> {
        let touched = std::cell::RefCell::new(Vec::new());
        let r = self.db.write(true, |tables| {
            f(&ClaimTx {
                trees: super::Named::new(|n| tables.tree(n)),
                claims: tables.tree(CLAIMS),
                stale: tables.tree(CLAIM_KEYWORDS_STALE),
                touched: &touched,
            })
        })?;
        self.touch(&touched.into_inner());
        self.claims_changed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(r)
    }

    /// Changes when a claim is made, released or closed.
    pub fn claims_changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.claims_changed.subscribe()
    }

    /// Tickets of `folder` whose claimed-by keyword on the server differs
    /// from their claim: (ticket, keyword set now, keyword wanted). Reads
    /// only the tickets whose claim changed since their keyword was set.
    pub fn claim_keywords_to_sync(&self, folder: &str) -> Result<Vec<(Ticket, Option<String>, Option<String>)>, StoreError> {
        let tagged = self.tree(CLAIM_KEYWORDS);
        let stale = self.tree(CLAIM_KEYWORDS_STALE);
        let mut marks = Vec::new();
        stale.scan(kv::all(), false, |k, seq| {
            marks.push((k.to_vec(), seq.to_vec()));
            Ok(true)
        })?;
        let mut out = Vec::new();
        for (k, seq) in marks {
            let id = TicketId(be_u64(&k));
            let want = self.claim_of(id)?.map(|c| claim_keyword(&c.nick));
            let have = tagged.get(&k)?.map(|v| String::from_utf8_lossy(&v).into_owned());
            if have == want {
                // Claimed and released between two passes: nothing to do.
                stale.compare_and_swap(&k, Some(&seq), None)?;
                continue;
            }
            match self.ticket(id)? {
                Some(t) if t.folder == folder => out.push((t, have, want)),
                Some(_) => {}
                // A claim on no ticket cannot be made; nothing to tag.
                None => {
                    stale.compare_and_swap(&k, Some(&seq), None)?;
                }
            }
        }
        Ok(out)
    }

    /// Records the claimed-by keyword now on the server for `ticket`; the
    /// ticket is no longer stale if that is the keyword its claim wants
    /// (it may have changed again meanwhile).
    pub fn set_claim_keyword(&self, ticket: TicketId, keyword: Option<&str>) -> Result<(), StoreError> {
        let tagged = self.tree(CLAIM_KEYWORDS);
        let stale = self.tree(CLAIM_KEYWORDS_STALE);
        let k = ticket.0.to_be_bytes();
        match keyword {
            Some(kw) => tagged.insert(k, kw.as_bytes())?,
            None => tagged.remove(k)?,
        };
        // Read the mark before the claim: a claim changed after this read
        // renumbers the mark, and the swap below fails.
        let seq = stale.get(k)?;
        let want = self.claim_of(ticket)?.map(|c| claim_keyword(&c.nick));
        if seq.is_some() && want.as_deref() == keyword {
            stale.compare_and_swap(k, seq.as_deref(), None)?;
        }
        Ok(())
    }

    /// Marks every claim and every keyword set as stale, once per store:
    /// stores written before the stale index existed have claims it does
    /// not list. Later changes are marked in their own transaction.
    pub(super) fn index_stale_claim_keywords(&self) -> Result<(), StoreError> {
        if self.trees.meta.contains_key(STALE_INDEXED)? {
            return Ok(());
        }
        let mut keys = Vec::new();
        for tree in [self.claims_tree(), self.tree(CLAIM_KEYWORDS)] {
            tree.scan(kv::all(), false, |k, _| {
                keys.push(k.to_vec());
                Ok(true)
            })?;
        }
        self.db.write(true, |tables| {
            let stale = tables.tree(CLAIM_KEYWORDS_STALE);
            for k in &keys {
                stale.insert(k, 0u64.to_be_bytes())?;
            }
            tables.tree(kv::META).insert(STALE_INDEXED, [])
        })
    }

    /// How many tickets' claimed-by keywords wait to be synced.
    pub fn stale_claim_keywords(&self) -> Result<usize, StoreError> {
        self.tree(CLAIM_KEYWORDS_STALE).len()
    }

    /// `nick` takes the ticket. A new ticket becomes `claimed`; a ticket
    /// waiting on the user keeps its state and just gains a holder.
    pub fn claim(&self, ticket: TicketId, nick: &str, now: jiff::Timestamp) -> Result<ClaimOutcome, StoreError> {
        self.claim_tx(|tx| {
            let Some(t) = tx.ticket(ticket)? else {
                return Ok(ClaimOutcome::NoSuchTicket);
            };
            if t.state == TicketState::Closed {
                return Ok(ClaimOutcome::Finished);
            }
            if let Some(c) = tx.claim(ticket)? {
                return Ok(if same_nick(&c.nick, nick) {
                    ClaimOutcome::AlreadyYours(c)
                } else {
                    ClaimOutcome::HeldBy(c)
                });
            }
            let c = Claim {
                nick: nick.to_string(),
                since: now,
            };
            tx.set_claim(ticket, Some(&c))?;
            if t.state == TicketState::New {
                tx.set_state(t, TicketState::Claimed, now)?;
            }
            tx.note(ticket, now, format!("claimed by {nick}"))?;
            Ok(ClaimOutcome::Claimed)
        })
    }

    /// Drops the claim, whoever holds it: a teammate on holiday must not
    /// block a ticket. The audit log says who released whose claim.
    pub fn release(&self, ticket: TicketId, nick: &str, now: jiff::Timestamp) -> Result<ReleaseOutcome, StoreError> {
        self.claim_tx(|tx| {
            let Some(t) = tx.ticket(ticket)? else {
                return Ok(ReleaseOutcome::NoSuchTicket);
            };
            let Some(c) = tx.claim(ticket)? else {
                return Ok(ReleaseOutcome::NotClaimed);
            };
            tx.set_claim(ticket, None)?;
            if t.state == TicketState::Claimed {
                tx.set_state(t, TicketState::New, now)?;
            }
            tx.note(ticket, now, format!("claim of {} released by {nick}", c.nick))?;
            Ok(ReleaseOutcome::Released(c))
        })
    }

    /// Closes the ticket. Refused while someone else holds it, so two
    /// people never both think they finished it.
    pub fn done(&self, ticket: TicketId, nick: &str, now: jiff::Timestamp) -> Result<DoneOutcome, StoreError> {
        self.claim_tx(|tx| {
            let Some(t) = tx.ticket(ticket)? else {
                return Ok(DoneOutcome::NoSuchTicket);
            };
            if t.state == TicketState::Closed {
                return Ok(DoneOutcome::AlreadyClosed);
            }
            let claim = tx.claim(ticket)?;
            if let Some(c) = &claim
                && !same_nick(&c.nick, nick)
            {
                return Ok(DoneOutcome::HeldBy(c.clone()));
            }
            if claim.is_some() {
                tx.set_claim(ticket, None)?;
            }
            tx.set_state(t, TicketState::Closed, now)?;
            tx.note(ticket, now, format!("closed by {nick}"))?;
            Ok(DoneOutcome::Done(claim))
        })
    }

    pub fn claim_of(&self, ticket: TicketId) -> Result<Option<Claim>, StoreError> {
        self.claims_tree().get(ticket.0.to_be_bytes())?.map(|v| dec("claim", &v)).transpose()
    }

    /// Every claim held, by ticket number.
    pub fn claims(&self) -> Result<Vec<(TicketId, Claim)>, StoreError> {
        let mut out = Vec::new();
        self.claims_tree().scan(kv::all(), false, |k, v| {
            out.push((TicketId(be_u64(k)), dec("claim", v)?));
            Ok(true)
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Intake, Store, Ticket, Uid};

    fn open_with(path: &std::path::Path, n: u32) -> Store {
        let s = Store::open(path).unwrap();
        for uid in 1..=n {
            let intake = Intake {
                folder: "INBOX".into(),
                uid: Uid { validity: 1, uid },
                message_id: format!("m{uid}@x"),
            };
            let t = Ticket::new(s.next_ticket_id().unwrap(), &intake, "u@x", "s", "p");
            s.open_ticket(&t, &intake, &[], None).unwrap();
        }
        s
    }

    fn store_with(n: u32) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = open_with(dir.path(), n);
        (dir, s)
    }

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn second_claim_names_the_holder_and_keeps_the_first() {
        let (_d, s) = store_with(1);
        let t = TicketId(1);
        assert_eq!(
            s.claim(t, "alice", at("2026-01-01T14:02:00Z")).unwrap(),
            ClaimOutcome::Claimed
        );
        let held = s.claim(t, "bob", at("2026-01-01T14:05:00Z")).unwrap();
        assert_eq!(
            held,
            ClaimOutcome::HeldBy(Claim {
                nick: "alice".into(),
                since: at("2026-01-01T14:02:00Z")
            })
        );
        assert!(matches!(
            s.claim(t, "ALICE", at("2026-01-01T14:06:00Z")).unwrap(),
            ClaimOutcome::AlreadyYours(_)
        ));
        assert_eq!(s.ticket(t).unwrap().unwrap().state, TicketState::Claimed);
        assert_eq!(
            s.claim(TicketId(9), "bob", at("2026-01-01T14:05:00Z")).unwrap(),
            ClaimOutcome::NoSuchTicket
        );
    }

    #[test]
    fn release_and_done_move_the_state() {
        let (_d, s) = store_with(2);
        let now = at("2026-01-01T10:00:00Z");
        s.claim(TicketId(1), "alice", now).unwrap();
        assert!(
            matches!(s.release(TicketId(1), "bob", now).unwrap(), ReleaseOutcome::Released(c) if c.nick == "alice")
        );
        assert_eq!(s.ticket(TicketId(1)).unwrap().unwrap().state, TicketState::New);
        assert_eq!(s.release(TicketId(1), "bob", now).unwrap(), ReleaseOutcome::NotClaimed);

        s.claim(TicketId(2), "alice", now).unwrap();
        assert!(matches!(s.done(TicketId(2), "bob", now).unwrap(), DoneOutcome::HeldBy(c) if c.nick == "alice"));
        assert!(matches!(
            s.done(TicketId(2), "alice", now).unwrap(),
            DoneOutcome::Done(Some(_))
        ));
        assert_eq!(s.ticket(TicketId(2)).unwrap().unwrap().state, TicketState::Closed);
        assert_eq!(s.claim_of(TicketId(2)).unwrap(), None);
        assert_eq!(s.done(TicketId(2), "alice", now).unwrap(), DoneOutcome::AlreadyClosed);
        assert_eq!(s.claim(TicketId(2), "bob", now).unwrap(), ClaimOutcome::Finished);
        let log: Vec<_> = s.audit_log(TicketId(2)).unwrap().into_iter().map(|e| e.event).collect();
        assert_eq!(&log[1..], ["claimed by alice", "closed by alice"]);
    }

    #[test]
    fn only_changed_claims_are_synced_and_a_change_during_the_sync_is_kept() {
        let (_d, s) = store_with(3);
        let now = at("2026-01-01T10:00:00Z");
        let ids = |v: Vec<(Ticket, Option<String>, Option<String>)>| {
            v.into_iter().map(|(t, have, want)| (t.id.0, have, want)).collect::<Vec<_>>()
        };
        assert!(s.claim_keywords_to_sync("INBOX").unwrap().is_empty());
        s.claim(TicketId(2), "alice", now).unwrap();
        let todo = ids(s.claim_keywords_to_sync("INBOX").unwrap());
        assert_eq!(todo, [(2, None, Some("triaged-claimed-alice".into()))]);
        assert!(s.claim_keywords_to_sync("Other").unwrap().is_empty(), "another folder's ticket");
        // bob takes it over between the look and the keyword being set.
        s.release(TicketId(2), "bob", now).unwrap();
        s.claim(TicketId(2), "bob", now).unwrap();
        s.set_claim_keyword(TicketId(2), Some("triaged-claimed-alice")).unwrap();
        let todo = ids(s.claim_keywords_to_sync("INBOX").unwrap());
        assert_eq!(
            todo,
            [(2, Some("triaged-claimed-alice".into()), Some("triaged-claimed-bob".into()))]
        );
        s.set_claim_keyword(TicketId(2), Some("triaged-claimed-bob")).unwrap();
        assert!(s.claim_keywords_to_sync("INBOX").unwrap().is_empty());
        assert_eq!(s.stale_claim_keywords().unwrap(), 0, "nothing left to look at");
        // Claimed and released before a pass: nothing to do, and forgotten.
        s.claim(TicketId(3), "carol", now).unwrap();
        s.release(TicketId(3), "carol", now).unwrap();
        assert!(s.claim_keywords_to_sync("INBOX").unwrap().is_empty());
        assert_eq!(s.stale_claim_keywords().unwrap(), 0);
    }

    #[test]
    fn a_store_without_the_stale_index_syncs_every_claim_once() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = open_with(dir.path(), 2);
            s.claim(TicketId(1), "alice", at("2026-01-01T10:00:00Z")).unwrap();
            // As a store written before the index: the claim is unlisted.
            s.tree(CLAIM_KEYWORDS_STALE).remove(1u64.to_be_bytes()).unwrap();
            s.trees.meta.remove(STALE_INDEXED).unwrap();
            assert!(s.claim_keywords_to_sync("INBOX").unwrap().is_empty());
        }
        let s = Store::open_waiting(dir.path(), crate::store::REOPEN).unwrap();
        let todo = s.claim_keywords_to_sync("INBOX").unwrap();
        assert_eq!(todo.len(), 1);
        assert_eq!(todo[0].0.id, TicketId(1));
    }

    #[test]
    fn claims_survive_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = open_with(dir.path(), 1);
            s.claim(TicketId(1), "alice", at("2026-01-01T10:00:00Z")).unwrap();
        }
        let s = Store::open_waiting(dir.path(), crate::store::REOPEN).unwrap();
        assert_eq!(s.claim_of(TicketId(1)).unwrap().unwrap().nick, "alice");
        assert_eq!(s.claims().unwrap().len(), 1);
    }
}
