//! What the local model learns from (`daemon/learn/`): labelled examples,
//! each only the hashed features of a message (never its text), and the
//! features of each ticket's first message, kept so that a staff decision
//! on the ticket can become an example later.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError, TicketId};

const EXAMPLES: &str = "learn_examples";
pub(super) const TICKET_FEATURES: &str = "learn_ticket_features";

/// A labelled example: a procedure id, or `unclassified` for "no
/// procedure".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub label: String,
    /// Where it came from, for `learn --list`: a file name, or the ticket
    /// and who decided.
    pub source: String,
    pub added: jiff::Timestamp,
    /// Sorted, distinct feature hashes.
    #[serde(with = "features_b64")]
    pub features: Vec<u32>,
}

/// An example's key: a digest of its features, so the same message
/// learned again replaces its label instead of counting twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExampleKey(pub [u8; 8]);

impl ExampleKey {
    pub fn of(features: &[u32]) -> ExampleKey {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for f in features {
            h.update(f.to_le_bytes());
        }
        let d = h.finalize();
        ExampleKey(d[..8].try_into().expect("8 bytes of a digest"))
    }

    /// The 16 hex digits `learn --list` shows and `learn --forget` takes.
    pub fn parse(s: &str) -> Option<ExampleKey> {
        let b = hex::decode(s).ok()?;
        Some(ExampleKey(b.try_into().ok()?))
    }
}

impl std::fmt::Display for ExampleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

fn corrupt(what: &str) -> impl FnOnce(serde_json::Error) -> StoreError + '_ {
    move |source| StoreError::Corrupt { what: what.to_string(), source }
}

impl Store {
    /// Records `ex`; returns the example it replaces (the same message
    /// learned before, perhaps with another label).
    pub fn learn_example(&self, ex: &Example) -> Result<Option<Example>, StoreError> {
        let key = ExampleKey::of(&ex.features);
        let value = serde_json::to_vec(ex).map_err(corrupt("a learned example"))?;
        let old = self.tree(EXAMPLES).insert(key.0, value)?;
        old.map(|v| serde_json::from_slice(&v).map_err(corrupt("a learned example"))).transpose()
    }

    /// Removes one example; returns it when there was one.
    pub fn forget_example(&self, key: ExampleKey) -> Result<Option<Example>, StoreError> {
        let old = self.tree(EXAMPLES).remove(key.0)?;
        old.map(|v| serde_json::from_slice(&v).map_err(corrupt("a learned example"))).transpose()
    }

    /// One example, by its key.
    pub fn example(&self, key: ExampleKey) -> Result<Option<Example>, StoreError> {
        let value = self.tree(EXAMPLES).get(key.0)?;
        value.map(|v| serde_json::from_slice(&v).map_err(corrupt("a learned example"))).transpose()
    }

    /// Every example, in key order.
    pub fn examples(&self) -> Result<Vec<(ExampleKey, Example)>, StoreError> {
        let mut out = Vec::new();
        self.tree(EXAMPLES).scan(super::kv::all(), false, |k, v| {
            if let Ok(key) = <[u8; 8]>::try_from(k) {
                out.push((ExampleKey(key), serde_json::from_slice(v).map_err(corrupt("a learned example"))?));
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// The features of ticket `id`'s first message, kept when it was
    /// opened (`Store::open_ticket_with`), for a later decision.
    pub fn ticket_features(&self, id: TicketId) -> Result<Option<Vec<u32>>, StoreError> {
        Ok(self.tree(TICKET_FEATURES).get(id.0.to_be_bytes())?.map(|v| features_b64::from_le(&v)))
    }
}

/// Stores the features of ticket `id`'s first message in `t` (the
/// `TICKET_FEATURES` table), inside a transaction of the caller's.
pub(super) fn keep_features(t: &super::TxTree<'_>, id: TicketId, features: &[u32]) -> Result<(), StoreError> {
    let bytes: Vec<u8> = features.iter().flat_map(|f| f.to_le_bytes()).collect();
    t.insert(id.0.to_be_bytes(), bytes)
}

mod features_b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn from_le(b: &[u8]) -> Vec<u32> {
        b.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))).collect()
    }

    pub fn serialize<S: Serializer>(f: &[u32], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = f.iter().flat_map(|x| x.to_le_bytes()).collect();
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        let s = String::deserialize(d)?;
        let b = base64::engine::general_purpose::STANDARD.decode(s).map_err(serde::de::Error::custom)?;
        Ok(from_le(&b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_message_learned_again_replaces_its_label() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ex = |label: &str| Example { label: label.into(), source: "a.eml".into(), added: jiff::Timestamp::UNIX_EPOCH, features: vec![1, 7, 90000] };
        assert_eq!(store.learn_example(&ex("refund")).unwrap(), None);
        assert_eq!(store.learn_example(&ex("unclassified")).unwrap().map(|e| e.label), Some("refund".into()));
        let all = store.examples().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, ex("unclassified"));
        assert_eq!(ExampleKey::parse(&all[0].0.to_string()), Some(all[0].0));
        assert!(store.forget_example(all[0].0).unwrap().is_some());
        assert!(store.examples().unwrap().is_empty());
    }

    #[test]
    fn a_tickets_features_are_kept_with_it_or_not_at_all() {
        use crate::store::{Commit, Intake, Ticket, Uid};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let i = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: 1 }, message_id: "m1@x".into() };
        let t = Ticket::new(store.next_ticket_id().unwrap(), &i, "a@x", "s", "p");
        let id = store.open_ticket_with(&t, &i, &[], None, Some(&[5, 6]), Commit::Durable).unwrap().0.id;
        assert_eq!(store.ticket_features(id).unwrap(), Some(vec![5, 6]));
        // A ticket that is not opened (its number was taken meanwhile)
        // leaves no features behind under that number.
        let j = Intake { uid: Uid { validity: 1, uid: 2 }, message_id: "m2@x".into(), ..i.clone() };
        let stale = Ticket::new(id, &j, "b@x", "s", "p");
        assert!(matches!(
            store.open_ticket_with(&stale, &j, &[], None, Some(&[7]), Commit::Deferred),
            Err(StoreError::TicketNumberTaken { .. })
        ));
        assert_eq!(store.ticket_features(id).unwrap(), Some(vec![5, 6]));
        assert_eq!(store.ticket_features(TicketId(id.0 + 1)).unwrap(), None);
    }
}
