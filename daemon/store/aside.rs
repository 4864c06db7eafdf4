//! Where the daily line of mail set aside stopped: the day it went and the
//! highest ticket number it covered. Ticket numbers only grow, so the next
//! line reads the tickets above that number and nothing older: its cost is
//! one day's mail, whatever the store holds.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::{Outgoing, Store, StoreError, Ticket, dec, enc};
use crate::classify::aside::SET_ASIDE;

const ASIDE_DIGEST: &[u8] = b"aside_digest";

/// The last daily set-aside line, as recorded with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsideMark {
    /// When it went, local ("2026-11-30 09:00"): the next line says
    /// "since" this.
    pub at: String,
    /// The highest ticket number it covered.
    pub after: u64,
}

impl AsideMark {
    /// The local day it went ("2026-11-30"): one line a day.
    pub fn day(&self) -> &str {
        self.at.split_once(' ').map_or(&self.at, |(day, _)| day)
    }
}

impl Store {
    /// The last daily set-aside line's mark; `None` before the first.
    pub fn aside_mark(&self) -> Result<Option<AsideMark>, StoreError> {
        self.trees.meta.get(ASIDE_DIGEST)?.map(|v| dec("set-aside digest mark", &v)).transpose()
    }

    /// The tickets numbered above `after`, oldest first, that are set
    /// aside now (one pulled back by staff keeps its note but not the
    /// procedure), and the highest ticket number there is.
    pub fn set_aside_after(&self, after: u64) -> Result<(Vec<Ticket>, u64), StoreError> {
        let mut aside = Vec::new();
        let mut highest = after;
        let range = (Bound::Excluded(after.to_be_bytes().to_vec()), Bound::Unbounded);
        self.trees.tickets.scan(range, false, |_, v| {
            let t: Ticket = dec("ticket", v)?;
            highest = highest.max(t.id.0);
            if t.procedure == SET_ASIDE && t.notes.set_aside.is_some() {
                aside.push(t);
            }
            Ok(true)
        })?;
        Ok((aside, highest))
    }

    /// Records `mark`, and queues `notice` with it, if the last mark is
    /// still `last`: two passes that both found the line due post it once.
    /// Whether this one did.
    pub fn record_aside_line(&self, last: Option<&AsideMark>, mark: &AsideMark, notice: Option<&Outgoing>) -> Result<bool, StoreError> {
        self.tx(|tx| {
            let now: Option<AsideMark> = tx.trees.meta.get(ASIDE_DIGEST)?.map(|v| dec("set-aside digest mark", &v)).transpose()?;
            if now.as_ref() != last {
                return Ok(false);
            }
            tx.trees.meta.insert(ASIDE_DIGEST, enc(mark))?;
            if let Some(out) = notice {
                tx.enqueue(out, &[])?;
            }
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::aside::{Aside, AsideKind};
    use crate::store::{Intake, Ticket, Uid};

    /// Ticket `n`, set aside when `aside`; `procedure` is what it is now.
    fn open(s: &Store, n: u32, aside: bool, procedure: &str) {
        let intake = Intake { folder: "INBOX".into(), uid: Uid { validity: 1, uid: n }, message_id: format!("m{n}") };
        let mut t = Ticket::new(s.next_ticket_id().unwrap(), &intake, "a@x", "s", procedure);
        t.notes.set_aside = aside.then(|| Aside { kind: AsideKind::Bulk, reason: "List-Id: x".into() });
        s.open_ticket(&t, &intake, &[], None).unwrap();
    }

    fn out() -> Outgoing {
        Outgoing { sinks: vec!["irc".into()], notice: serde_json::json!("line") }
    }

    #[test]
    fn the_daily_line_reads_only_tickets_after_the_last_one_and_goes_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        // Past 255, so that a key that did not sort as a number would fail.
        for n in 1..=300 {
            open(&s, n, n % 100 == 0, if n % 100 == 0 { SET_ASIDE } else { "refund" });
        }
        // Set aside, then pulled back by staff: a refund now, not counted.
        open(&s, 301, true, "refund");
        let ids = |(v, highest): (Vec<Ticket>, u64)| (v.iter().map(|t| t.id.0).collect::<Vec<_>>(), highest);
        assert_eq!(ids(s.set_aside_after(0).unwrap()), (vec![100, 200, 300], 301));
        assert_eq!(ids(s.set_aside_after(200).unwrap()), (vec![300], 301));
        assert_eq!(ids(s.set_aside_after(300).unwrap()), (vec![], 301));

        let monday = AsideMark { at: "2026-11-30 09:00".into(), after: 300 };
        assert!(s.record_aside_line(None, &monday, Some(&out())).unwrap());
        // A second pass that read the store before the first recorded.
        assert!(!s.record_aside_line(None, &monday, Some(&out())).unwrap());
        assert_eq!(s.aside_mark().unwrap(), Some(monday.clone()));
        assert_eq!(s.queued_notices().unwrap().get("irc"), Some(&1), "queued once");
        let tuesday = AsideMark { at: "2026-12-01 09:00".into(), after: 300 };
        assert!(s.record_aside_line(Some(&monday), &tuesday, None).unwrap());
        assert_eq!(s.queued_notices().unwrap().get("irc"), Some(&1), "a day with nothing queues nothing");
    }
}
