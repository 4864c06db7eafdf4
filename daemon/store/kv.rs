//! The store's file: one redb database, `STORE/store.redb`, of named
//! tables from byte keys to byte values, so keys sort as bytes (the
//! ticket, deadline and audit keys are built for that order).
//!
//! Why redb: a copy-on-write B-tree in one file, read and written through
//! a cache of a fixed size (`[store] cache_mib`), with nothing kept in
//! memory per key and nothing replayed at open. Its cost per lookup and
//! per commit grows with the depth of the tree (the logarithm of the
//! history), not with the history; sled, which it replaced, kept a table
//! of every page in memory and replayed its log at open
//! (docs/BENCHMARKS.md, "A store with a history").
//!
//! Durability: a write transaction commits either at once to disk
//! (`Durability::Immediate`: `Store::tx`, for transitions an outside effect
//! follows at once) or atomically but only in memory (`Durability::None`:
//! the intake path's `Store::tx_deferred`), made durable by the next
//! immediate commit, whichever it is: `Store::persist`, before any effect
//! that depends on them, makes an empty one only when no other came after
//! them. A crash loses the deferred commits whole, never half of one:
//! redb opens at the last durable commit. Every commit, deferred or not,
//! writes its pages to the file (a deferred one leaves out only the
//! `fsync`), so fewer commits is what saves work, not fewer `fsync`s.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle};

use super::StoreError;

/// The database file inside the store's folder.
pub(super) const FILE: &str = "store.redb";

type Def<'n> = TableDefinition<'n, &'static [u8], &'static [u8]>;

fn def(name: &str) -> Def<'_> {
    TableDefinition::new(name)
}

/// The key of the store's id counter (`TxTree::generate_id`) in `meta`.
pub(super) const ID_SEQ: &[u8] = b"id_seq";
pub(super) const META: &str = "meta";

macro_rules! via_redb_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> StoreError {
                StoreError::Io(e.into())
            }
        }
    )*};
}
via_redb_error!(redb::StorageError, redb::TableError, redb::TransactionError, redb::CommitError, redb::CompactionError, redb::SetDurabilityError);

/// The open database, shared by every clone of the store. Dropping the
/// last one makes what was committed durable.
pub(super) struct Db {
    pub(super) redb: Database,
    /// A deferred commit was made since the last durable one.
    dirty: AtomicBool,
    /// The first write to fail on the file: redb refuses every write after
    /// one fails until the store is reopened, and says only that.
    first_failure: std::sync::Mutex<Option<String>>,
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = self.persist();
    }
}

/// Opens (or creates) the database at `file`, with a read cache and a
/// write buffer of `cache_bytes` together.
pub(super) fn open(store: &Path, file: &Path, cache_bytes: usize) -> Result<Arc<Db>, StoreError> {
    let redb = Database::builder().set_cache_size(cache_bytes).create(file).map_err(|e| match e {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked { path: store.to_path_buf() },
        e => StoreError::Open { path: store.to_path_buf(), source: e.into() },
    })?;
    Ok(Arc::new(Db { redb, dirty: AtomicBool::new(false), first_failure: Default::default() }))
}

impl Db {
    /// Runs `f` in one write transaction; `durable` says whether it is on
    /// disk when this returns (see the module's comment).
    pub(super) fn write<R>(&self, durable: bool, f: impl FnOnce(&Tables<'_>) -> Result<R, StoreError>) -> Result<R, StoreError> {
        self.write_once(durable, f).map_err(|e| self.explain(e))
    }

    /// An error of a write, with the cause of the first failed write when
    /// this one failed only because of it.
    fn explain(&self, e: StoreError) -> StoreError {
        let mut first = self.first_failure.lock().unwrap_or_else(|p| p.into_inner());
        match (&e, first.as_ref()) {
            (StoreError::Io(redb::Error::PreviousIo), Some(cause)) => StoreError::Io(redb::Error::Io(std::io::Error::other(format!(
                "{cause} (an earlier write; the store takes writes again once triaged is restarted)"
            )))),
            (StoreError::Io(redb::Error::Io(io)), None) => {
                *first = Some(io.to_string());
                e
            }
            _ => e,
        }
    }

    fn write_once<R>(&self, durable: bool, f: impl FnOnce(&Tables<'_>) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let mut txn = self.redb.begin_write()?;
        txn.set_durability(if durable { Durability::Immediate } else { Durability::None })?;
        let r = {
            let tables = Tables { txn: &txn, open: Default::default() };
            f(&tables)
        };
        match r {
            Ok(r) => {
                // Write transactions run one at a time (`begin_write` waits
                // for the one before), so every deferred commit that set
                // the mark is already in the file: a durable commit makes
                // it durable with this one, and `persist` has nothing left
                // to do. A deferred one sets the mark before its commit,
                // so a `persist` racing it cannot miss it.
                let was_dirty = if durable {
                    self.dirty.swap(false, Ordering::SeqCst)
                } else {
                    self.dirty.store(true, Ordering::SeqCst);
                    false
                };
                if let Err(e) = txn.commit() {
                    if was_dirty {
                        self.dirty.store(true, Ordering::SeqCst);
                    }
                    return Err(e.into());
                }
                Ok(r)
            }
            Err(e) => {
                txn.abort()?;
                Err(e)
            }
        }
    }

    /// Makes every commit so far durable: one empty durable commit, when a
    /// deferred one was made since the last durable one (none when a
    /// durable commit came after it: see `write_once`).
    pub(super) fn persist(&self) -> Result<(), StoreError> {
        if self.dirty.load(Ordering::SeqCst) {
            // The durable commit clears the mark, and sets it again if it fails.
            self.write(true, |_| Ok(()))?;
        }
        Ok(())
    }

    /// How many keys the tables hold together.
    pub(super) fn count_keys(&self) -> Result<u64, StoreError> {
        let r = self.redb.begin_read()?;
        let mut keys = 0;
        for t in r.list_tables()? {
            keys += r.open_table(def(t.name()))?.len()?;
        }
        Ok(keys)
    }
}

/// The tables one write transaction touches, each opened the first time it
/// is used.
pub(super) struct Tables<'a> {
    txn: &'a redb::WriteTransaction,
    open: std::cell::RefCell<Vec<(&'static str, redb::Table<'a, &'static [u8], &'static [u8]>)>>,
}

impl<'a> Tables<'a> {
    pub(super) fn tree(&self, name: &'static str) -> TxTree<'_> {
        TxTree { tables: self, name }
    }

    fn with<R>(
        &self,
        name: &'static str,
        f: impl FnOnce(&mut redb::Table<'a, &'static [u8], &'static [u8]>) -> Result<R, redb::StorageError>,
    ) -> Result<R, StoreError> {
        let mut open = self.open.borrow_mut();
        let i = match open.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                open.push((name, self.txn.open_table(def(name))?));
                open.len() - 1
            }
        };
        Ok(f(&mut open[i].1)?)
    }
}

/// What a `TxTree` reads and writes through: the transaction's tables.
trait Opener {
    fn get(&self, name: &'static str, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    fn insert(&self, name: &'static str, k: &[u8], v: &[u8]) -> Result<(), StoreError>;
    fn remove(&self, name: &'static str, k: &[u8]) -> Result<(), StoreError>;
}

impl Opener for Tables<'_> {
    fn get(&self, name: &'static str, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(name, |t| Ok(t.get(k)?.map(|v| v.value().to_vec())))
    }

    fn insert(&self, name: &'static str, k: &[u8], v: &[u8]) -> Result<(), StoreError> {
        self.with(name, |t| t.insert(k, v).map(drop))
    }

    fn remove(&self, name: &'static str, k: &[u8]) -> Result<(), StoreError> {
        self.with(name, |t| t.remove(k).map(drop))
    }
}

/// One table inside a write transaction.
#[derive(Clone, Copy)]
pub struct TxTree<'t> {
    tables: &'t dyn Opener,
    name: &'static str,
}

impl TxTree<'_> {
    pub fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        self.tables.get(self.name, k.as_ref())
    }

    pub fn insert(&self, k: impl AsRef<[u8]>, v: impl AsRef<[u8]>) -> Result<(), StoreError> {
        self.tables.insert(self.name, k.as_ref(), v.as_ref())
    }

    pub fn remove(&self, k: impl AsRef<[u8]>) -> Result<(), StoreError> {
        self.tables.remove(self.name, k.as_ref())
    }

    /// The next number of the store's id counter: audit entries, planned
    /// actions, queued notices and claim changes are keyed by it, so it
    /// only ever goes up (also across compaction and the import from sled).
    pub fn generate_id(&self) -> Result<u64, StoreError> {
        let id = self.tables.get(META, ID_SEQ)?.and_then(|v| v.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0);
        self.tables.insert(META, ID_SEQ, &(id + 1).to_be_bytes())?;
        Ok(id)
    }
}

/// One table, read in its own read transaction and written in its own
/// deferred write transaction per call: for the store's calls that are
/// not part of a transition.
#[derive(Clone)]
pub struct Tree {
    db: Arc<Db>,
    name: &'static str,
}

/// A key range, as `Tree::scan` takes it.
pub(super) type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

pub(super) fn all() -> KeyRange {
    (Bound::Unbounded, Bound::Unbounded)
}

pub(super) fn below(end: Vec<u8>) -> KeyRange {
    (Bound::Unbounded, Bound::Excluded(end))
}

/// Every key that starts with `prefix`.
pub(super) fn prefixed(prefix: &[u8]) -> KeyRange {
    let mut end = prefix.to_vec();
    // The first key past every one with this prefix: the prefix with its
    // last byte that is not 0xff incremented (and what follows cut).
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return (Bound::Included(prefix.to_vec()), Bound::Excluded(end));
        }
    }
    (Bound::Included(prefix.to_vec()), Bound::Unbounded)
}

fn as_slices(r: &KeyRange) -> (Bound<&[u8]>, Bound<&[u8]>) {
    fn b(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
        b.as_ref().map(Vec::as_slice)
    }
    (b(&r.0), b(&r.1))
}

impl Tree {
    pub(super) fn new(db: &Arc<Db>, name: &'static str) -> Tree {
        Tree { db: db.clone(), name }
    }

    /// `f` on the table as it is now, or `None` when it was never written.
    fn read<R>(&self, f: impl FnOnce(&redb::ReadOnlyTable<&'static [u8], &'static [u8]>) -> Result<R, StoreError>) -> Result<Option<R>, StoreError> {
        let read = || {
            let r = self.db.redb.begin_read()?;
            match r.open_table(def(self.name)) {
                Ok(t) => f(&t).map(Some),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        read().map_err(|e| self.db.explain(e))
    }

    pub fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read(|t| Ok(t.get(k.as_ref())?.map(|v| v.value().to_vec())))?.flatten())
    }

    pub fn contains_key(&self, k: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        Ok(self.read(|t| Ok(t.get(k.as_ref())?.is_some()))?.unwrap_or(false))
    }

    pub fn len(&self) -> Result<usize, StoreError> {
        Ok(self.read(|t| Ok(t.len()? as usize))?.unwrap_or(0))
    }

    /// Calls `f` on each entry in `range`, in key order (`rev`: the
    /// reverse), until it returns false. One read transaction: the entries
    /// are as they were when it began.
    pub fn scan(&self, range: KeyRange, rev: bool, mut f: impl FnMut(&[u8], &[u8]) -> Result<bool, StoreError>) -> Result<(), StoreError> {
        self.read(|t| {
            let mut it = t.range::<&[u8]>(as_slices(&range))?;
            loop {
                let next = if rev { it.next_back() } else { it.next() };
                let Some(kv) = next else { return Ok(()) };
                let (k, v) = kv?;
                if !f(k.value(), v.value())? {
                    return Ok(());
                }
            }
        })?;
        Ok(())
    }

    /// The entries in `range`, at most `limit`, in key order.
    pub fn entries(&self, range: KeyRange, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        if limit > 0 {
            self.scan(range, false, |k, v| {
                out.push((k.to_vec(), v.to_vec()));
                Ok(out.len() < limit)
            })?;
        }
        Ok(out)
    }

    /// Writes in a deferred transaction of its own (durable at the next
    /// `persist`).
    pub fn write<R>(&self, f: impl FnOnce(TxTree<'_>) -> Result<R, StoreError>) -> Result<R, StoreError> {
        self.db.write(false, |tables| f(tables.tree(self.name)))
    }

    /// Stores `v` under `k`; returns what it replaced.
    pub fn insert(&self, k: impl AsRef<[u8]>, v: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        self.write(|t| {
            let old = t.get(k.as_ref())?;
            t.insert(k, v)?;
            Ok(old)
        })
    }

    /// Removes `k`; returns what it held.
    pub fn remove(&self, k: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        self.write(|t| {
            let old = t.get(k.as_ref())?;
            if old.is_some() {
                t.remove(k)?;
            }
            Ok(old)
        })
    }

    /// Sets `k` to `new` only if it holds `old` now; whether it did.
    pub fn compare_and_swap(&self, k: impl AsRef<[u8]>, old: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool, StoreError> {
        self.write(|t| {
            if t.get(k.as_ref())?.as_deref() != old {
                return Ok(false);
            }
            match new {
                Some(v) => t.insert(k, v)?,
                None => t.remove(k)?,
            }
            Ok(true)
        })
    }
}

/// The database file of the store at `store`.
pub(super) fn file(store: &Path) -> PathBuf {
    store.join(FILE)
}

/// Fills the tables `names` of `to` (a fresh database) with what `each`
/// hands over for each, in one transaction; returns how many keys.
pub(super) fn copy_tables(
    names: &[String],
    mut each: impl FnMut(&str, &mut dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError>) -> Result<(), StoreError>,
    to: &Database,
) -> Result<u64, StoreError> {
    let mut keys = 0u64;
    let txn = to.begin_write()?;
    for name in names {
        let mut table = txn.open_table(def(name))?;
        each(name, &mut |k, v| {
            table.insert(k, v)?;
            keys += 1;
            Ok(())
        })?;
    }
    txn.commit()?;
    Ok(keys)
}

/// A file-system step of the store that failed, saying which and where.
pub(super) fn io_error(path: &Path, what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io(redb::Error::Io(std::io::Error::new(e.kind(), format!("{}: cannot {what}: {e}", path.display()))))
}
