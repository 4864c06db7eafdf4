//! Procedure state that outlives a ticket: gap-free numbering series (the
//! CAcert arbitration sub-numbers a20111128.3.x) and the documentation
//! table each numbered case is recorded in.

use super::{StoreError, dec, enc, kv};

/// One documentation row: column name → value.
pub type DocumentRow = serde_json::Map<String, serde_json::Value>;

const NUMBERS: &str = "procedure_numbers";
const DOCUMENTS: &str = "procedure_documents";

fn counter_key(series: &str) -> Vec<u8> {
    let mut k = b"next\0".to_vec();
    k.extend_from_slice(series.as_bytes());
    k
}

fn ticket_key(series: &str, ticket: u64) -> Vec<u8> {
    let mut k = b"ticket\0".to_vec();
    k.extend_from_slice(series.as_bytes());
    k.push(0);
    k.extend_from_slice(&ticket.to_be_bytes());
    k
}

fn document_key(series: &str, number: u64) -> Vec<u8> {
    let mut k = series.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&number.to_be_bytes());
    k
}

impl super::Store {
    /// The ticket's number in `series`: the next free one the first time,
    /// the same one on every later call. Counter and assignment change in
    /// one transaction, so numbers have neither gaps nor repeats, also
    /// across crashes and concurrent callers.
    pub fn allocate_number(&self, series: &str, ticket: u64) -> Result<u64, StoreError> {
        self.db.write(true, |tables| {
            let t = tables.tree(NUMBERS);
            if let Some(v) = t.get(ticket_key(series, ticket))? {
                return dec::<u64>("numbering assignment", &v);
            }
            let next = match t.get(counter_key(series))? {
                Some(v) => dec::<u64>("numbering counter", &v)?,
                None => 0,
            } + 1;
            t.insert(counter_key(series), enc(&next))?;
            t.insert(ticket_key(series, ticket), enc(&next))?;
            Ok(next)
        })
    }

    /// Record the documentation row of case `series.number` (idempotent:
    /// recording again replaces the row).
    pub fn record_document(
        &self,
        series: &str,
        number: u64,
        row: &DocumentRow,
    ) -> Result<(), StoreError> {
        self.tree(DOCUMENTS).insert(document_key(series, number), enc(row))?;
        self.persist()
    }

    /// The documentation table of `series`, in number order.
    pub fn documents(&self, series: &str) -> Result<Vec<(u64, DocumentRow)>, StoreError> {
        let mut prefix = series.as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        self.tree(DOCUMENTS).scan(kv::prefixed(&prefix), false, |k, v| {
            out.push((super::be_u64(&k[prefix.len()..]), dec("documentation row", v)?));
            Ok(true)
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[test]
    fn numbers_have_no_gaps_or_repeats_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            assert_eq!(s.allocate_number("a20111128.3", 10).unwrap(), 1);
            assert_eq!(s.allocate_number("a20111128.3", 11).unwrap(), 2);
            assert_eq!(s.allocate_number("a20111128.3", 10).unwrap(), 1);
            assert_eq!(s.allocate_number("other", 10).unwrap(), 1);
        }
        let s = Store::open_waiting(dir.path(), crate::store::REOPEN).unwrap();
        assert_eq!(s.allocate_number("a20111128.3", 12).unwrap(), 3);
        let row = serde_json::json!({"ticket": 12}).as_object().unwrap().clone();
        s.record_document("a20111128.3", 3, &row).unwrap();
        assert_eq!(s.documents("a20111128.3").unwrap(), vec![(3, row)]);
    }

    #[test]
    fn concurrent_allocation_gives_distinct_consecutive_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || s.allocate_number("a20111128.3", t).unwrap())
            })
            .collect();
        let mut got: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, (1..=8).collect::<Vec<_>>());
    }
}
