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
//! (`Store::tx`, for transitions an outside effect follows at once) or
//! atomically but only in memory (the intake path's `Store::tx_deferred`),
//! made durable by the next durable commit, whichever it is:
//! `Store::persist`, before any effect that depends on them, makes an empty
//! one only when no other came after them. A crash loses the deferred
//! commits whole, never half of one.
//!
//! A deferred commit's writes stay in memory (`Overlay`), where every read
//! sees them, until the next durable commit writes them to the file with
//! its own, in one redb transaction. redb writes every page a commit
//! changed, durable or not, from each changed leaf up to the root of every
//! table it touched: one commit per message made a batch of k messages
//! write those paths k times, and on a store with a long history (deeper
//! trees) that was most of the extra cost per message (docs/BENCHMARKS.md,
//! "the profile at 100,000 tickets"). Now the batch's tickets share their
//! paths. The overlay is bounded (`OVERLAY_BYTES`): past that, a deferred
//! commit writes it to the file without `fsync`, as every deferred commit
//! did before. Reads wait while the overlay is written (a durable
//! commit's `fsync` included), so none sees a transaction that may still
//! fail.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use redb::{Database, Durability, ReadableDatabase, ReadableTableMetadata, TableDefinition, TableHandle};

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
    /// A deferred commit was written to the file (the overlay was full)
    /// since the last durable one.
    dirty: AtomicBool,
    /// Write transactions, one at a time: a deferred one never opens
    /// redb's, which would have made them wait for each other.
    writer: Mutex<()>,
    /// What deferred commits wrote since the last durable one. Changed only
    /// with `writer` held; read by everyone.
    overlay: RwLock<Overlay>,
    /// The first write to fail on the file: redb refuses every write after
    /// one fails until the store is reopened, and says only that.
    first_failure: Mutex<Option<String>>,
}

/// Past this many bytes of keys and values, a deferred commit writes the
/// overlay to the file without `fsync`, as every deferred commit was
/// before they were kept in memory. It bounds the memory of deferred
/// writes: a batch of messages with long drafts, or writes no durable
/// commit follows for a while.
const OVERLAY_BYTES: usize = 1 << 20;

/// A value as the overlay holds it: `None` when the key was removed.
type Held = Option<Arc<[u8]>>;

/// The writes of the deferred commits since the last durable one, by
/// table, in key order.
#[derive(Default)]
struct Overlay {
    tables: HashMap<&'static str, BTreeMap<Vec<u8>, Held>>,
    bytes: usize,
}

/// How to take a merge back: each key's entry in the overlay before it
/// (`None`: it had none).
type Undo = Vec<(&'static str, Vec<u8>, Option<Held>)>;

impl Overlay {
    fn is_empty(&self) -> bool {
        self.tables.values().all(BTreeMap::is_empty)
    }

    /// The overlay's entry for `k`: `Some(None)` when it was removed,
    /// `None` when the file has the answer.
    fn get(&self, name: &str, k: &[u8]) -> Option<Held> {
        self.tables.get(name)?.get(k).cloned()
    }

    /// Adds a transaction's writes; what takes them back.
    fn merge(&mut self, writes: BTreeMap<(&'static str, Vec<u8>), Held>) -> Undo {
        let mut undo = Vec::with_capacity(writes.len());
        for ((name, k), v) in writes {
            self.bytes += k.len() + v.as_ref().map_or(0, |v| v.len());
            let before = self.tables.entry(name).or_default().insert(k.clone(), v);
            undo.push((name, k, before));
        }
        undo
    }

    fn take_back(&mut self, undo: Undo) {
        for (name, k, before) in undo.into_iter().rev() {
            let table = self.tables.entry(name).or_default();
            match before {
                Some(v) => table.insert(k, v),
                None => table.remove(&k),
            };
        }
    }

    fn clear(&mut self) {
        self.tables.clear();
        self.bytes = 0;
    }

    /// The entries of `name` in `range`, in key order.
    fn range(&self, name: &str, range: &KeyRange) -> Vec<(Vec<u8>, Held)> {
        match self.tables.get(name) {
            Some(t) => t.range::<[u8], _>(as_slices(range)).map(|(k, v)| (k.clone(), v.clone())).collect(),
            None => Vec::new(),
        }
    }
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
    Ok(Arc::new(Db {
        redb,
        dirty: AtomicBool::new(false),
        writer: Mutex::new(()),
        overlay: RwLock::new(Overlay::default()),
        first_failure: Default::default(),
    }))
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
        let _one_at_a_time = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tables = Tables { db: self, base: self.redb.begin_read()?, open: Default::default(), writes: Default::default() };
        // An error leaves nothing behind: the writes were only in `tables`.
        let r = f(&tables)?;
        // The read transaction ends here: one left open would keep redb
        // from reusing the pages this commit frees.
        let Tables { writes, base, open, .. } = tables;
        drop(open);
        drop(base);
        let writes = writes.into_inner();
        let mut overlay = self.overlay.write().unwrap_or_else(|p| p.into_inner());
        let undo = overlay.merge(writes);
        if !durable && overlay.bytes <= OVERLAY_BYTES {
            return Ok(r);
        }
        // The overlay stays locked while it is written: no reader sees a
        // transaction that may still fail, or the file half way between.
        // Readers wait for that write (a durable one's `fsync` included);
        // deferred commits, most of them, hold the lock only to merge.
        if !durable {
            // Set before the write, so that a `persist` never finds neither
            // the overlay nor the mark.
            self.dirty.store(true, Ordering::SeqCst);
        }
        match self.write_file(durable, &overlay) {
            Ok(()) => {
                overlay.clear();
                if durable {
                    // A durable commit makes the ones written without
                    // `fsync` before it durable with it.
                    self.dirty.store(false, Ordering::SeqCst);
                }
                Ok(r)
            }
            Err(e) => {
                // This transaction failed; the deferred ones before it are
                // still in the overlay, for the next commit, and `persist`
                // tries one (and meets the error) rather than trusting it.
                overlay.take_back(undo);
                self.dirty.store(true, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Writes the overlay to the file in one redb transaction.
    fn write_file(&self, durable: bool, overlay: &Overlay) -> Result<(), StoreError> {
        let mut txn = self.redb.begin_write()?;
        txn.set_durability(if durable { Durability::Immediate } else { Durability::None })?;
        let filled = (|| {
            for (name, entries) in &overlay.tables {
                let mut t = txn.open_table(def(name))?;
                for (k, v) in entries {
                    match v {
                        Some(v) => drop(t.insert(k.as_slice(), &**v)?),
                        None => drop(t.remove(k.as_slice())?),
                    }
                }
            }
            Ok::<_, StoreError>(())
        })();
        match filled {
            Ok(()) => Ok(txn.commit()?),
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
        // The overlay first: a flush that empties it sets `dirty` before it
        // lets go of the overlay, so one of the two shows it.
        let held = !self.overlay.read().unwrap_or_else(|p| p.into_inner()).is_empty();
        if held || self.dirty.load(Ordering::SeqCst) {
            // A durable commit clears the mark and empties the overlay; a
            // failed one leaves both as they were.
            self.write(true, |_| Ok(()))?;
        }
        Ok(())
    }

    /// How many keys the tables hold together in the file (after
    /// `persist`: the overlay's are not counted).
    pub(super) fn count_keys(&self) -> Result<u64, StoreError> {
        let r = self.redb.begin_read()?;
        let mut keys = 0;
        for t in r.list_tables()? {
            keys += r.open_table(def(t.name()))?.len()?;
        }
        Ok(keys)
    }
}

/// One write transaction's view: its own writes, over the overlay, over
/// the file as the transaction found it. Nothing is written until it
/// commits (`Db::write_once`).
pub(super) struct Tables<'a> {
    db: &'a Db,
    base: redb::ReadTransaction,
    /// The file's tables read so far (`None`: not in the file yet).
    open: RefCell<Vec<(&'static str, Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>)>>,
    writes: RefCell<BTreeMap<(&'static str, Vec<u8>), Held>>,
}

impl Tables<'_> {
    pub(super) fn tree(&self, name: &'static str) -> TxTree<'_> {
        TxTree { tables: self, name }
    }

    fn from_file(&self, name: &'static str, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let mut open = self.open.borrow_mut();
        let i = match open.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                open.push((name, open_read(&self.base, name)?));
                open.len() - 1
            }
        };
        match &open[i].1 {
            Some(t) => Ok(t.get(k)?.map(|v| v.value().to_vec())),
            None => Ok(None),
        }
    }
}

/// `name` in the read transaction `r`, or `None` when it was never written.
fn open_read(r: &redb::ReadTransaction, name: &str) -> Result<Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>, StoreError> {
    match r.open_table(def(name)) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
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
        if let Some(v) = self.writes.borrow().get(&(name, k.to_vec())) {
            return Ok(v.as_deref().map(<[u8]>::to_vec));
        }
        // Writers are one at a time, so the overlay is as it was when the
        // transaction began.
        if let Some(v) = self.db.overlay.read().unwrap_or_else(|p| p.into_inner()).get(name, k) {
            return Ok(v.as_deref().map(<[u8]>::to_vec));
        }
        self.from_file(name, k)
    }

    fn insert(&self, name: &'static str, k: &[u8], v: &[u8]) -> Result<(), StoreError> {
        self.writes.borrow_mut().insert((name, k.to_vec()), Some(Arc::from(v)));
        Ok(())
    }

    fn remove(&self, name: &'static str, k: &[u8]) -> Result<(), StoreError> {
        self.writes.borrow_mut().insert((name, k.to_vec()), None);
        Ok(())
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

    /// The overlay's entry for `k` if it has one, else the file's answer.
    pub fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        let k = k.as_ref();
        let read = || {
            let base = {
                let overlay = self.db.overlay.read().unwrap_or_else(|p| p.into_inner());
                if let Some(v) = overlay.get(self.name, k) {
                    return Ok(v.as_deref().map(<[u8]>::to_vec));
                }
                // Begun before the overlay can be cleared: the file as
                // the overlay stands on it, or with the overlay written.
                self.db.redb.begin_read()?
            };
            match open_read(&base, self.name)? {
                Some(t) => Ok(t.get(k)?.map(|v| v.value().to_vec())),
                None => Ok(None),
            }
        };
        read().map_err(|e| self.db.explain(e))
    }

    pub fn contains_key(&self, k: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        Ok(self.get(k)?.is_some())
    }

    /// The overlay's entries in `range` (in key order) and a read
    /// transaction on the file they stand on, taken together.
    fn view(&self, range: &KeyRange) -> Result<(Vec<(Vec<u8>, Held)>, redb::ReadTransaction), StoreError> {
        let overlay = self.db.overlay.read().unwrap_or_else(|p| p.into_inner());
        let entries = overlay.range(self.name, range);
        let base = self.db.redb.begin_read().map_err(|e| self.db.explain(e.into()))?;
        Ok((entries, base))
    }

    pub fn len(&self) -> Result<usize, StoreError> {
        let (entries, base) = self.view(&all())?;
        let count = || {
            let Some(t) = open_read(&base, self.name)? else {
                return Ok(entries.iter().filter(|(_, v)| v.is_some()).count());
            };
            let mut n = t.len()? as usize;
            for (k, v) in &entries {
                match (t.get(k.as_slice())?.is_some(), v.is_some()) {
                    (false, true) => n += 1,
                    (true, false) => n -= 1,
                    _ => {}
                }
            }
            Ok(n)
        };
        count().map_err(|e| self.db.explain(e))
    }

    /// Calls `f` on each entry in `range`, in key order (`rev`: the
    /// reverse), until it returns false. The entries are as they were when
    /// it began: the file in one read transaction, and the overlay's over
    /// it.
    pub fn scan(&self, range: KeyRange, rev: bool, mut f: impl FnMut(&[u8], &[u8]) -> Result<bool, StoreError>) -> Result<(), StoreError> {
        let (mut entries, base) = self.view(&range)?;
        if rev {
            entries.reverse();
        }
        let mut held = entries.into_iter().peekable();
        let table = open_read(&base, self.name).map_err(|e| self.db.explain(e))?;
        let mut file = match &table {
            Some(t) => Some(t.range::<&[u8]>(as_slices(&range)).map_err(|e| self.db.explain(e.into()))?),
            None => None,
        };
        type Entry<'g> = (redb::AccessGuard<'g, &'static [u8]>, redb::AccessGuard<'g, &'static [u8]>);
        let mut next_in_file = || -> Result<Option<Entry<'_>>, StoreError> {
            let Some(it) = file.as_mut() else { return Ok(None) };
            match if rev { it.next_back() } else { it.next() } {
                Some(kv) => Ok(Some(kv.map_err(|e| self.db.explain(e.into()))?)),
                None => Ok(None),
            }
        };
        let mut in_file = next_in_file()?;
        loop {
            // The overlay's entry first when it comes first in the order,
            // or names the same key (it is the newer).
            let overlay_first = match (held.peek(), &in_file) {
                (None, None) => return Ok(()),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((h, _)), Some((k, _))) => {
                    let k = k.value();
                    if rev { h.as_slice() >= k } else { h.as_slice() <= k }
                }
            };
            if overlay_first {
                let Some((k, v)) = held.next() else { return Ok(()) };
                if in_file.as_ref().is_some_and(|(fk, _)| fk.value() == k.as_slice()) {
                    in_file = next_in_file()?;
                }
                if let Some(v) = v
                    && !f(&k, &v)?
                {
                    return Ok(());
                }
            } else {
                let Some((k, v)) = in_file.take() else { return Ok(()) };
                if !f(k.value(), v.value())? {
                    return Ok(());
                }
                in_file = next_in_file()?;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn db(dir: &Path) -> Arc<Db> {
        open(dir, &file(dir), 1 << 20).unwrap()
    }

    fn put(db: &Db, durable: bool, name: &'static str, pairs: &[(&str, Option<&str>)]) {
        db.write(durable, |t| {
            for (k, v) in pairs {
                match v {
                    Some(v) => t.tree(name).insert(k, v)?,
                    None => t.tree(name).remove(k)?,
                }
            }
            Ok(())
        })
        .unwrap();
    }

    fn scan(tree: &Tree, range: KeyRange, rev: bool, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        tree.scan(range, rev, |k, v| {
            out.push(format!("{}={}", String::from_utf8_lossy(k), String::from_utf8_lossy(v)));
            Ok(out.len() < limit)
        })
        .unwrap();
        out
    }

    /// What a crash leaves: a copy of the file, opened on its own.
    fn after_crash(dir: &Path, n: u32) -> Tree {
        let at = dir.join(format!("crash{n}"));
        std::fs::create_dir(&at).unwrap();
        std::fs::copy(file(dir), file(&at)).unwrap();
        Tree::new(&db(&at), "t")
    }

    #[test]
    fn a_deferred_commit_is_read_at_once_and_is_on_disk_only_after_a_durable_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        let t = Tree::new(&db, "t");
        put(&db, false, "t", &[("a", Some("1"))]);
        assert_eq!(t.get("a").unwrap().as_deref(), Some(&b"1"[..]), "read at once");
        assert_eq!(after_crash(dir.path(), 1).get("a").unwrap(), None, "not on disk yet");
        // A durable commit of another table takes it along.
        put(&db, true, "other", &[("x", Some("y"))]);
        assert_eq!(after_crash(dir.path(), 2).get("a").unwrap().as_deref(), Some(&b"1"[..]));
        assert!(db.overlay.read().unwrap().is_empty(), "written, so no longer held");
    }

    #[test]
    fn scans_and_counts_see_the_deferred_writes_over_the_file_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        let t = Tree::new(&db, "t");
        put(&db, true, "t", &[("b", Some("file")), ("d", Some("file")), ("f", Some("file"))]);
        // Deferred: one new key before, one between and one after the
        // file's, one replaced and one removed.
        put(&db, false, "t", &[("a", Some("new")), ("c", Some("new")), ("g", Some("new")), ("d", Some("newer")), ("f", None)]);
        put(&db, false, "t", &[("h", Some("new")), ("h", None), ("zz", None)]);
        assert_eq!(scan(&t, all(), false, 99), ["a=new", "b=file", "c=new", "d=newer", "g=new"]);
        assert_eq!(scan(&t, all(), true, 99), ["g=new", "d=newer", "c=new", "b=file", "a=new"]);
        assert_eq!(scan(&t, all(), false, 2), ["a=new", "b=file"], "stops when told");
        assert_eq!(scan(&t, prefixed(b"d"), false, 99), ["d=newer"]);
        assert_eq!(scan(&t, below(b"c".to_vec()), true, 99), ["b=file", "a=new"]);
        assert_eq!(t.len().unwrap(), 5);
        assert!(!t.contains_key("f").unwrap() && t.contains_key("c").unwrap());
        // The same once written to the file.
        db.persist().unwrap();
        assert_eq!(scan(&t, all(), false, 99), ["a=new", "b=file", "c=new", "d=newer", "g=new"]);
        assert_eq!(t.len().unwrap(), 5);
        // A table only the overlay has.
        put(&db, false, "fresh", &[("k", Some("v")), ("gone", None)]);
        let fresh = Tree::new(&db, "fresh");
        assert_eq!((scan(&fresh, all(), false, 9), fresh.len().unwrap()), (vec!["k=v".to_string()], 1));
    }

    #[test]
    fn a_transaction_reads_its_own_writes_and_the_deferred_ones_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        put(&db, true, "t", &[("a", Some("file"))]);
        put(&db, false, "t", &[("b", Some("deferred"))]);
        let seen = db
            .write(false, |t| {
                let t = t.tree("t");
                t.insert("a", "own")?;
                t.remove("b")?;
                Ok((t.get("a")?, t.get("b")?, t.generate_id()?, t.generate_id()?))
            })
            .unwrap();
        assert_eq!(seen, (Some(b"own".to_vec()), None, 0, 1));
    }

    #[test]
    fn a_failed_transaction_leaves_nothing_and_the_deferred_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        let t = Tree::new(&db, "t");
        put(&db, false, "t", &[("a", Some("1"))]);
        for durable in [false, true] {
            let r = db.write(durable, |tables| {
                tables.tree("t").insert("a", "2")?;
                tables.tree("t").insert("b", "2")?;
                Err::<(), _>(StoreError::Missing("refused"))
            });
            assert!(r.is_err());
            assert_eq!((t.get("a").unwrap(), t.get("b").unwrap()), (Some(b"1".to_vec()), None));
        }
        db.persist().unwrap();
        assert_eq!(after_crash(dir.path(), 1).get("a").unwrap(), Some(b"1".to_vec()));
    }

    /// Deferred writes no durable commit follows for a while (a long
    /// backlog of skips, say) do not grow memory without bound: past
    /// `OVERLAY_BYTES` they go to the file, still not durable.
    #[test]
    fn a_full_overlay_goes_to_the_file_without_becoming_durable() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        let t = Tree::new(&db, "t");
        let value = "v".repeat(64 << 10);
        let n = OVERLAY_BYTES / value.len() + 2;
        for i in 0..n {
            put(&db, false, "t", &[(&format!("{i:04}"), Some(&value))]);
            assert!(db.overlay.read().unwrap().bytes <= OVERLAY_BYTES + value.len() + 4);
        }
        assert!(db.dirty.load(Ordering::SeqCst), "written without fsync");
        assert_eq!(t.len().unwrap(), n);
        assert_eq!(after_crash(dir.path(), 1).len().unwrap(), 0, "not durable");
        db.persist().unwrap();
        assert_eq!(after_crash(dir.path(), 2).len().unwrap(), n);
        assert!(!db.dirty.load(Ordering::SeqCst));
    }
}
