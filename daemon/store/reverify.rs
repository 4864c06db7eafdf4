//! Messages whose identity could not be checked (a DNS timeout, a key
//! server down): kept, by ticket, until a later check settles it. Only
//! these are kept; every other message lives in the mailbox alone.
//!
//! A ticket keeps up to [`KEPT_PER_TICKET`] of them, keyed by ticket and
//! then by the order they came in, so they are checked again oldest first.
//! Each is kept with what its re-check needs to handle it as it would have
//! been handled had the check run ([`Kept`]). An earlier version kept one
//! raw message per ticket under the ticket's number alone; such an entry is
//! read as a message kept with nothing more known about it (`Kept::raw_only`).

use serde::{Deserialize, Serialize};

use super::{Outgoing, Store, StoreError, Ticket, TicketId, be_u64, dec, enc, kv};
use crate::act::{JoinedBy, Party};
use crate::store::Action;

pub(super) const TREE: &str = "reverify";

/// How many messages a ticket keeps for a re-check; a message beyond that
/// drops one (`Store::keep_for_reverify`).
pub const KEPT_PER_TICKET: usize = 4;

/// A message kept for an identity re-check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    pub message_id: String,
    /// The header by which a reply named its ticket, to decide again
    /// whether a signature covers it; `None` for the request that opened
    /// the ticket (and for an entry an earlier version kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_by: Option<JoinedBy>,
    /// Whose reply it is: the ticket's sender, or the second account of a
    /// procedure that involves one (its evidence is that account's).
    #[serde(default, skip_serializing_if = "Party::is_owner")]
    pub party: Party,
    /// The reply was held (it moved nothing, staff were told it proves
    /// nothing): once a re-check proves it, it is handled as the reply it
    /// is.
    #[serde(default)]
    pub held: bool,
    /// Re-checks so far.
    #[serde(default)]
    pub tries: u64,
    /// What staff last heard of it in the channel: why it is held (empty
    /// when it is not) and the identity verdict. A re-check that finds the
    /// same, and tries again, posts nothing; `None` (an entry an earlier
    /// version kept) is news.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub told: Option<String>,
    /// The mail of ours it names was posted where anyone reads it (the
    /// ticket's drafts are copied to a list): naming it proves no more
    /// than the subject tag does, and it is dropped as early.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
    #[serde(with = "super::bytes_b64")]
    pub raw: Vec<u8>,
}

impl Kept {
    /// Whether it named its ticket by nothing only its sender could know:
    /// the subject tag, or mail of ours a list made public.
    fn named_by_anyone(&self) -> bool {
        self.joined_by == Some(JoinedBy::SubjectTag) || (self.public && self.joined_by.is_some())
    }

    /// An entry an earlier version kept: the raw message, nothing more.
    fn raw_only(raw: Vec<u8>) -> Kept {
        Kept { message_id: String::new(), joined_by: None, party: Party::Owner, held: false, tries: 0, told: None, public: false, raw }
    }
}

/// One kept message and where it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptEntry {
    key: Vec<u8>,
    pub kept: Kept,
}

impl KeptEntry {
    /// Whether `other` is this very entry.
    pub fn same(&self, other: &KeptEntry) -> bool {
        self.key == other.key
    }
}

/// What a re-check makes of the entry it checked.
#[derive(Clone, Copy)]
pub enum Settled<'a> {
    /// Checked again later, as it now stands (its tries counted).
    Again(&'a Kept),
    /// Done with: proven, settled, or given up.
    Forget,
}

fn key(ticket: TicketId, seq: u64) -> Vec<u8> {
    let mut k = ticket.0.to_be_bytes().to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn read(k: &[u8], v: &[u8]) -> Result<KeptEntry, StoreError> {
    // Eight bytes: the ticket's number alone, as an earlier version kept
    // its one message (the raw bytes, no record around them).
    let kept = if k.len() == 8 { Kept::raw_only(v.to_vec()) } else { dec("message kept for re-check", v)? };
    Ok(KeptEntry { key: k.to_vec(), kept })
}

impl Store {
    /// Keeps `kept` for a re-check of ticket `ticket`, after what it keeps
    /// already (a message kept before under the same Message-ID, the same
    /// message handled again, is replaced). Returns what was dropped to
    /// stay within [`KEPT_PER_TICKET`], oldest first: first those that
    /// named the ticket by its subject tag alone, which anyone can write,
    /// or by mail of ours a list made public (`Kept::public`), then the
    /// others. Naming our mail (In-Reply-To, References) takes
    /// having received it, so replies in the sender's name that only tag
    /// the ticket do not push out one that answers our mail: `kept` itself,
    /// when it only tags a full ticket whose others all answer our mail,
    /// is what is dropped (and returned), and nothing else changes.
    pub fn keep_for_reverify(&self, ticket: TicketId, kept: &Kept) -> Result<Vec<Kept>, StoreError> {
        let before = self.kept_for_reverify(ticket)?;
        let same = |e: &&KeptEntry| !kept.message_id.is_empty() && e.kept.message_id == kept.message_id;
        let replaced: Vec<&KeptEntry> = before.iter().filter(same).collect();
        let others: Vec<&KeptEntry> = before.iter().filter(|e| !same(e)).collect();
        let next = before.last().map(|e| if e.key.len() == 16 { be_u64(&e.key[8..]) + 1 } else { 1 }).unwrap_or(1);
        let over = (others.len() + 1).saturating_sub(KEPT_PER_TICKET);
        let tag_only = |e: &&&KeptEntry| e.kept.named_by_anyone();
        if over > 0 && kept.named_by_anyone() && !others.iter().any(|e| tag_only(&e)) {
            return Ok(vec![kept.clone()]);
        }
        let dropped: Vec<&KeptEntry> = others.iter().filter(tag_only).chain(others.iter().filter(|e| !tag_only(e))).take(over).copied().collect();
        let dropped: Vec<&KeptEntry> = others.iter().filter(|e| dropped.contains(e)).copied().collect();
        self.trees.reverify.write(|t| {
            for e in replaced.iter().chain(&dropped) {
                t.remove(&e.key)?;
            }
            t.insert(key(ticket, next), enc(kept))
        })?;
        self.persist()?;
        Ok(dropped.into_iter().map(|e| e.kept.clone()).collect())
    }

    /// The messages ticket `ticket` keeps for a re-check, oldest first.
    pub fn kept_for_reverify(&self, ticket: TicketId) -> Result<Vec<KeptEntry>, StoreError> {
        let mut out = Vec::new();
        self.trees.reverify.scan(kv::prefixed(&ticket.0.to_be_bytes()), false, |k, v| {
            out.push(read(k, v)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Forgets every message ticket `ticket` keeps for a re-check.
    pub fn forget_reverify(&self, ticket: TicketId) -> Result<(), StoreError> {
        let keys: Vec<Vec<u8>> = self.kept_for_reverify(ticket)?.into_iter().map(|e| e.key).collect();
        if keys.is_empty() {
            return Ok(());
        }
        self.trees.reverify.write(|t| keys.iter().try_for_each(|k| t.remove(k)))
    }

    /// A re-check of `entry` on ticket `id`, in one transaction: the
    /// ticket's change (as `update_ticket`) and what becomes of the entry.
    /// A reply released by its re-check is thus handled exactly once: a
    /// crash leaves it either kept and unhandled, or handled and gone.
    pub fn settle_reverify(
        &self,
        id: TicketId,
        entry: &KeptEntry,
        settled: Settled<'_>,
        event: &str,
        notice: Option<&Outgoing>,
        change: impl Fn(&mut Ticket) -> Vec<Action>,
    ) -> Result<(Ticket, Vec<(u64, Action)>), StoreError> {
        self.tx(|tx| {
            let kept = &tx.trees.reverify;
            kept.remove(&entry.key)?;
            if let Settled::Again(k) = &settled {
                // An entry an earlier version kept moves to this version's
                // key, first among the ticket's (sequence 0).
                let at = if entry.key.len() == 8 { key(id, 0) } else { entry.key.clone() };
                kept.insert(at, enc(k))?;
            }
            tx.change_ticket(id, None, event, notice, &change)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Intake, Uid};

    fn kept(n: u32) -> Kept {
        Kept { message_id: format!("<m{n}@x>"), joined_by: Some(JoinedBy::InReplyTo), party: Party::Owner, held: true, tries: 0, told: None, public: false, raw: format!("raw {n}").into_bytes() }
    }

    fn ids(s: &Store, t: TicketId) -> Vec<String> {
        s.kept_for_reverify(t).unwrap().into_iter().map(|e| e.kept.message_id).collect()
    }

    fn a_ticket(s: &Store) -> TicketId {
        let i = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: 1 }, message_id: "<m0@x>".into() };
        let t = Ticket::new(s.next_ticket_id().unwrap(), &i, "Ann <ann@example.org>", "delete", "account-deletion");
        s.open_ticket(&t, &i, &[], None).unwrap().0.id
    }

    #[test]
    fn a_ticket_keeps_its_newest_messages_oldest_first_and_one_message_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let (t, other) = (TicketId(1), TicketId(2));
        s.keep_for_reverify(other, &kept(9)).unwrap();
        for n in 1..=KEPT_PER_TICKET as u32 {
            assert!(s.keep_for_reverify(t, &kept(n)).unwrap().is_empty());
        }
        // The same message handled again (a crash before its cursor moved).
        assert!(s.keep_for_reverify(t, &kept(2)).unwrap().is_empty());
        assert_eq!(ids(&s, t), ["<m1@x>", "<m3@x>", "<m4@x>", "<m2@x>"]);
        let dropped = s.keep_for_reverify(t, &kept(5)).unwrap();
        assert_eq!(dropped.iter().map(|k| k.message_id.as_str()).collect::<Vec<_>>(), ["<m1@x>"]);
        assert_eq!(ids(&s, t), ["<m3@x>", "<m4@x>", "<m2@x>", "<m5@x>"]);
        s.forget_reverify(t).unwrap();
        assert!(ids(&s, t).is_empty());
        assert_eq!(ids(&s, other), ["<m9@x>"], "another ticket's stay");
    }

    /// Full, a ticket drops first what named it by the subject tag alone
    /// (anyone can write the tag), oldest first, and only then the oldest
    /// of the rest: replies in the sender's name that only tag the ticket
    /// do not push out one that answers our mail.
    #[test]
    fn a_full_ticket_drops_messages_that_only_tag_it_before_one_that_answers_our_mail() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t = TicketId(1);
        let tagged = |n| Kept { joined_by: Some(JoinedBy::SubjectTag), ..kept(n) };
        s.keep_for_reverify(t, &kept(1)).unwrap();
        for n in 2..=8 {
            s.keep_for_reverify(t, &tagged(n)).unwrap();
        }
        assert_eq!(ids(&s, t), ["<m1@x>", "<m6@x>", "<m7@x>", "<m8@x>"]);
        for n in 9..=11 {
            s.keep_for_reverify(t, &kept(n)).unwrap();
        }
        assert_eq!(ids(&s, t), ["<m1@x>", "<m9@x>", "<m10@x>", "<m11@x>"]);
        let dropped = s.keep_for_reverify(t, &kept(12)).unwrap();
        assert_eq!(dropped.iter().map(|k| k.message_id.as_str()).collect::<Vec<_>>(), ["<m1@x>"], "then the oldest");
    }

    /// A message that only tags a ticket full of ones that answer our mail
    /// is itself not kept: it pushes none of them out.
    #[test]
    fn a_message_that_only_tags_a_full_ticket_is_not_kept_over_ones_that_answer_our_mail() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t = TicketId(1);
        for n in 1..=4 {
            s.keep_for_reverify(t, &kept(n)).unwrap();
        }
        let tagged = Kept { joined_by: Some(JoinedBy::SubjectTag), ..kept(5) };
        let dropped = s.keep_for_reverify(t, &tagged).unwrap();
        assert_eq!(dropped.iter().map(|k| k.message_id.as_str()).collect::<Vec<_>>(), ["<m5@x>"]);
        assert_eq!(ids(&s, t), ["<m1@x>", "<m2@x>", "<m3@x>", "<m4@x>"]);
    }

    /// On a ticket from a list, naming our mail proves no more than the
    /// tag does (the list's archive shows it to anyone): four replies that
    /// name it do not keep out a later one that only tags the ticket; the
    /// oldest goes, as among tag-only ones.
    #[test]
    fn on_a_list_ticket_replies_naming_our_public_mail_keep_out_no_tagged_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t = TicketId(1);
        for n in 1..=4 {
            s.keep_for_reverify(t, &Kept { public: true, ..kept(n) }).unwrap();
        }
        let tagged = Kept { joined_by: Some(JoinedBy::SubjectTag), public: true, ..kept(5) };
        let dropped = s.keep_for_reverify(t, &tagged).unwrap();
        assert_eq!(dropped.iter().map(|k| k.message_id.as_str()).collect::<Vec<_>>(), ["<m1@x>"]);
        assert_eq!(ids(&s, t), ["<m2@x>", "<m3@x>", "<m4@x>", "<m5@x>"]);
        // The request that opened the ticket names nothing: never counted so.
        assert!(!Kept { joined_by: None, public: true, ..kept(6) }.named_by_anyone());
    }

    /// An earlier version kept one raw message under the ticket's number:
    /// it is read (first), and a re-check that keeps it moves it to this
    /// version's key with its tries.
    #[test]
    fn a_message_an_earlier_version_kept_is_read_and_kept_in_the_new_form() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t = a_ticket(&s);
        s.trees.reverify.insert(t.0.to_be_bytes(), b"raw old").unwrap();
        s.keep_for_reverify(t, &kept(1)).unwrap();
        let entries = s.kept_for_reverify(t).unwrap();
        assert_eq!(entries[0].kept, Kept::raw_only(b"raw old".to_vec()));
        assert_eq!(entries[1].kept, kept(1));

        let again = Kept { message_id: "<old@x>".into(), tries: 1, ..entries[0].kept.clone() };
        s.settle_reverify(t, &entries[0], Settled::Again(&again), "re-checked", None, |_| Vec::new()).unwrap();
        let entries = s.kept_for_reverify(t).unwrap();
        assert_eq!(entries.iter().map(|e| e.kept.clone()).collect::<Vec<_>>(), [again, kept(1)]);
        s.settle_reverify(t, &entries[1], Settled::Forget, "released", None, |_| Vec::new()).unwrap();
        assert_eq!(ids(&s, t), ["<old@x>"]);
        let log: Vec<String> = s.audit_log(t).unwrap().into_iter().map(|e| e.event).collect();
        assert!(log.ends_with(&["re-checked".to_string(), "released".to_string()]), "{log:?}");
    }
}
