//! The sled database behind every clone of [`super::Store`], swappable in place.
//!
//! sled 0.34 keeps the first I/O error its background flusher meets (a full disk, say)
//! as a global error, and from then on refuses every write and flush of that `Db`
//! until it is opened again, even once the disk has room. The writer can resume after
//! such a failure without a restart only if it can reopen sled under the request
//! handlers, the sweeper and the notifier, which all read through their own clones of
//! the store: so the clones share this handle, and [`SharedDb::reopen`] swaps the
//! `Db` inside it. The methods mirror sled's, so the store's code reads as before.

use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use sled::{Batch, IVec, Iter};

/// A cheap, cloneable handle on the one open sled database. See the module docs.
#[derive(Clone)]
pub(super) struct SharedDb {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` only while a reopen failed: sled's own file lock allows one open `Db`, so
    /// the old one must be gone before the new one opens.
    db: RwLock<Option<sled::Db>>,
    path: PathBuf,
    cache_capacity: u64,
    /// The last I/O error sled answered a call with (kind and text), until the writer
    /// takes it; `faulted` tells watchers one is there.
    fault: Mutex<Option<(std::io::ErrorKind, String)>>,
    faulted: tokio::sync::watch::Sender<bool>,
}

impl SharedDb {
    pub(super) fn new(db: sled::Db, path: &Path, cache_capacity: u64) -> Self {
        SharedDb {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(db)),
                path: path.to_path_buf(),
                cache_capacity,
                fault: Mutex::new(None),
                faulted: tokio::sync::watch::Sender::new(false),
            }),
        }
    }

    /// Runs `f` on the current `Db`; the lock is held only for the call (iterators
    /// that `f` returns own what they need).
    fn with<T>(&self, f: impl FnOnce(&sled::Db) -> sled::Result<T>) -> sled::Result<T> {
        let guard = self.inner.db.read().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(db) => {
                let result = f(db);
                if let Err(sled::Error::Io(e)) = &result {
                    self.record_fault(e);
                }
                result
            }
            None => Err(closed()),
        }
    }

    /// Keeps `e` for the writer and tells watchers: sled keeps such an error and
    /// answers with it until it is reopened, so readers may meet it before any write.
    fn record_fault(&self, e: &std::io::Error) {
        *self
            .inner
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((e.kind(), e.to_string()));
        self.inner.faulted.send_replace(true);
    }

    /// The I/O error sled last answered with, taken (the writer stalls on it).
    pub(super) fn take_fault(&self) -> Option<std::io::Error> {
        let taken = self
            .inner
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.inner.faulted.send_replace(false);
        taken.map(|(kind, text)| std::io::Error::new(kind, text))
    }

    /// Turns true when sled answers a call with an I/O error.
    pub(super) fn faults(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.faulted.subscribe()
    }

    pub(super) fn get<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        self.with(|db| db.get(key))
    }

    pub(super) fn range<K, R>(&self, range: R) -> Keys
    where
        K: AsRef<[u8]>,
        R: RangeBounds<K>,
    {
        self.iter(|db| db.range(range))
    }

    pub(super) fn scan_prefix<P: AsRef<[u8]>>(&self, prefix: P) -> Keys {
        self.iter(|db| db.scan_prefix(prefix))
    }

    pub(super) fn apply_batch(&self, batch: Batch) -> sled::Result<()> {
        self.with(|db| db.apply_batch(batch))
    }

    pub(super) fn insert<K: AsRef<[u8]>, V: Into<IVec>>(
        &self,
        key: K,
        value: V,
    ) -> sled::Result<Option<IVec>> {
        self.with(|db| db.insert(key, value))
    }

    pub(super) fn flush(&self) -> sled::Result<usize> {
        self.with(|db| db.flush())
    }

    /// An iterator over the current `Db`; with none open, one that yields the error.
    fn iter(&self, f: impl FnOnce(&sled::Db) -> Iter) -> Keys {
        let guard = self.inner.db.read().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(db) => Keys::Open(f(db)),
            None => Keys::Closed(Some(closed())),
        }
    }

    /// The sled folder.
    pub(super) fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Drops the open `Db`, opens it again from disk (which clears sled's kept error),
    /// lets `catch_up` bring the new one up to date (the caller replays into it what
    /// sled had applied only in memory), and only then shows it to readers. Readers
    /// wait meanwhile, so none sees the store step back. If `catch_up` fails the new
    /// `Db` is shown anyway: the next attempt catches it up.
    pub(super) fn reopen<R, E: From<sled::Error>>(
        &self,
        catch_up: impl FnOnce(&SharedDb) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut guard = self
            .inner
            .db
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // The old Db (and its flusher thread) must let go of sled's file lock first.
        drop(guard.take());
        let db = super::open_sled(&self.inner.path, self.inner.cache_capacity)?;
        let fresh = SharedDb::new(db.clone(), &self.inner.path, self.inner.cache_capacity);
        let caught_up = catch_up(&fresh);
        *guard = Some(db);
        caught_up
    }
}

fn closed() -> sled::Error {
    sled::Error::Io(std::io::Error::other(
        "the sled store is being reopened after a storage failure; retry in a moment",
    ))
}

/// The keys of a range or prefix: sled's iterator, or the one error of a store that
/// is not open right now.
// Almost every value is `Open` and lives on the stack for one scan: boxing the
// iterator would cost an allocation per read to save bytes nobody keeps.
#[allow(clippy::large_enum_variant)]
pub(super) enum Keys {
    Open(Iter),
    Closed(Option<sled::Error>),
}

impl Iterator for Keys {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Keys::Open(iter) => iter.next(),
            Keys::Closed(error) => error.take().map(Err),
        }
    }
}

impl DoubleEndedIterator for Keys {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Keys::Open(iter) => iter.next_back(),
            Keys::Closed(error) => error.take().map(Err),
        }
    }
}
