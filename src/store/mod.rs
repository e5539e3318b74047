//! The sled store: the state machine's working copy of the journal, and its indexes.
//! Reads come straight from here; only the writer (and recovery) calls `apply`.

mod deadlines;
pub mod indexes;
pub mod keyspace;
mod query;
mod reads;
mod shared;
mod transparency;
pub mod tree;

use std::collections::HashMap;
use std::path::Path;

use prost::Message;
use uuid::Uuid;

use crate::pb::{self, stored_record::Kind};

pub use query::{
    AuditQuery, AuditSubject, ClaimOrder, ClaimQuery, NotificationQuery, PagePosition,
};
pub use reads::{Page, PageQuery};
pub use tree::TreeError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the sled store at {path} could not be opened: {source}; if it is damaged, run `takedownd rebuild` to recreate it from the journal"
    )]
    Open { path: String, source: sled::Error },
    #[error(
        "a page position that does not belong to this listing; restart paging from the first page"
    )]
    ForeignPosition,
    #[error("sled store error: {0}")]
    Sled(#[from] sled::Error),
    #[error(
        "a stored record under key {key} does not decode: {source}; run `takedownd rebuild` to recreate the store from the journal"
    )]
    Corrupt {
        key: String,
        source: prost::DecodeError,
    },
    #[error(
        "the Merkle tree node ({level}, {index}) is missing from the store; run `takedownd rebuild` to recreate the store from the journal"
    )]
    MissingTreeNode { level: u8, index: u64 },
    #[error(
        "the store was written by a newer takedown (schema {found}, this build knows {known}); upgrade takedownd"
    )]
    Schema { found: u64, known: u64 },
}

/// A handle on the sled tree. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    /// Shared by every clone, and reopened in place after sled keeps an I/O error.
    db: shared::SharedDb,
    /// Opens the personal fields of what is read (`pdata`); none in tools that only
    /// check keys and indexes.
    vault: Option<std::sync::Arc<crate::pdata::Vault>>,
    /// Merkle tree nodes already read or written (they never change).
    tree_cache: std::sync::Arc<tree::NodeCache>,
}

/// What the store needs to know about one record to place it: its key, its encoding
/// and the index keys it implies.
struct Placed {
    key: Vec<u8>,
    value: Vec<u8>,
    index: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The key a record is stored under (`None` for a record without a valid id).
pub fn record_key(record: &pb::StoredRecord) -> Option<Vec<u8>> {
    Some(match record.kind.as_ref()? {
        Kind::Claim(c) => keyspace::claim(&Uuid::parse_str(&c.id).ok()?),
        Kind::Article(a) => keyspace::article(&a.id),
        Kind::Principal(p) => {
            keyspace::principal(&Uuid::parse_str(&p.principal.as_ref()?.id).ok()?)
        }
        Kind::IdempotencyKey(k) => {
            keyspace::idempotency(&Uuid::parse_str(&k.principal_id).ok()?, &k.request_id)
        }
        Kind::ClaimToken(t) => keyspace::claim_token(&Uuid::parse_str(&t.claim_id).ok()?, t.party),
        Kind::PartyRecord(r) => keyspace::party(r.party.as_ref()?)?,
        Kind::Notification(n) => keyspace::notification(&Uuid::parse_str(&n.id).ok()?),
        Kind::StatementSubmission(s) => {
            keyspace::submission(&Uuid::parse_str(&s.claim_id).ok()?, s.seq)
        }
        Kind::ErasedSubject(e) => keyspace::erased_subject(&e.subject),
    })
}

fn place(record: &pb::StoredRecord, key: Vec<u8>) -> Option<Placed> {
    let empty = |keys: Vec<Vec<u8>>| keys.into_iter().map(|k| (k, Vec::new())).collect();
    let (value, index) = match record.kind.as_ref()? {
        Kind::Claim(c) => (c.encode_to_vec(), empty(indexes::claim_keys(c))),
        Kind::Article(a) => (a.encode_to_vec(), empty(indexes::article_keys(a))),
        Kind::Principal(p) => (p.encode_to_vec(), indexes::principal_keys(p)),
        Kind::IdempotencyKey(k) => (k.encode_to_vec(), Vec::new()),
        Kind::ClaimToken(t) => (t.encode_to_vec(), indexes::claim_token_keys(t)),
        Kind::PartyRecord(r) => (r.encode_to_vec(), Vec::new()),
        Kind::Notification(n) => (n.encode_to_vec(), empty(indexes::notification_keys(n))),
        Kind::StatementSubmission(s) => (s.encode_to_vec(), empty(indexes::submission_keys(s))),
        Kind::ErasedSubject(e) => (e.encode_to_vec(), Vec::new()),
    };
    Some(Placed { key, value, index })
}

/// Decodes the record stored under `key` with the index keys it implies, to be removed
/// when the record changes.
fn old_index(key: &[u8], bytes: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
    let corrupt = |source| StoreError::Corrupt {
        key: hex::encode(key),
        source,
    };
    Ok(match key.first() {
        Some(&keyspace::CLAIM) => indexes::claim_keys(&pb::Claim::decode(bytes).map_err(corrupt)?),
        Some(&keyspace::ARTICLE) => {
            indexes::article_keys(&pb::Article::decode(bytes).map_err(corrupt)?)
        }
        Some(&keyspace::PRINCIPAL) => {
            indexes::principal_keys(&pb::StoredPrincipal::decode(bytes).map_err(corrupt)?)
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        }
        Some(&keyspace::CLAIM_TOKEN) => {
            indexes::claim_token_keys(&pb::ClaimToken::decode(bytes).map_err(corrupt)?)
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        }
        Some(&keyspace::SUBMISSION) => {
            indexes::submission_keys(&pb::StatementSubmission::decode(bytes).map_err(corrupt)?)
        }
        Some(&keyspace::NOTIFICATION) => {
            indexes::notification_keys(&pb::Notification::decode(bytes).map_err(corrupt)?)
        }
        _ => Vec::new(),
    })
}

impl Store {
    /// Opens (or creates) the sled store in `path` with a bounded page cache.
    pub fn open(path: &Path, cache_capacity: u64) -> Result<Self, StoreError> {
        let db = open_sled(path, cache_capacity).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        match db.get(keyspace::SCHEMA_VERSION)? {
            None => {
                db.insert(
                    keyspace::SCHEMA_VERSION,
                    &keyspace::CURRENT_SCHEMA_VERSION.to_be_bytes(),
                )?;
            }
            Some(v) => {
                let found = v
                    .as_ref()
                    .try_into()
                    .map(u64::from_be_bytes)
                    .unwrap_or(u64::MAX);
                if found > keyspace::CURRENT_SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        found,
                        known: keyspace::CURRENT_SCHEMA_VERSION,
                    });
                }
            }
        }
        Ok(Self {
            db: shared::SharedDb::new(db, path, cache_capacity),
            vault: None,
            tree_cache: Default::default(),
        })
    }

    /// This store, opening personal fields with `vault` as it reads them.
    pub fn with_vault(mut self, vault: std::sync::Arc<crate::pdata::Vault>) -> Self {
        self.vault = Some(vault);
        self
    }

    /// The key store personal fields are opened with, if any.
    pub fn vault(&self) -> Option<&crate::pdata::Vault> {
        self.vault.as_deref()
    }

    /// True if the store was written with an older key layout than this build's: its
    /// indexes must be rebuilt from the journal before it is used.
    pub fn schema_outdated(&self) -> Result<bool, StoreError> {
        let found = self
            .db
            .get(keyspace::SCHEMA_VERSION)?
            .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(0);
        Ok(found < keyspace::CURRENT_SCHEMA_VERSION)
    }

    /// The seq of the last journal entry applied.
    pub fn applied_seq(&self) -> Result<u64, StoreError> {
        Ok(self
            .db
            .get(keyspace::APPLIED_SEQ)?
            .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(0))
    }

    /// Applies journal entries, in order, in one atomic batch: the after-images, the
    /// index keys they move, the audit entries and their indexes, the Merkle tree's
    /// new nodes, and `applied_seq`.
    pub fn apply(&self, entries: &[pb::JournalEntry]) -> Result<(), StoreError> {
        let Some(last) = entries.last().and_then(|e| e.audit.as_ref()) else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        // What this batch already wrote, so a record changed twice in one group moves
        // its indexes from the right old version.
        let mut written: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        for entry in entries {
            for record in &entry.records {
                let Some(placed) = self.place(record) else {
                    continue;
                };
                let old = match written.get(&placed.key) {
                    Some(v) => Some(v.clone()),
                    None => self.db.get(&placed.key)?.map(|v| v.to_vec()),
                };
                if let Some(old) = old {
                    for k in old_index(&placed.key, &old)? {
                        batch.remove(k);
                    }
                }
                for (k, v) in placed.index {
                    batch.insert(k, v);
                }
                batch.insert(placed.key.clone(), placed.value.clone());
                written.insert(placed.key, placed.value);
            }
            if let Some(audit) = &entry.audit {
                batch.insert(keyspace::audit(audit.seq), audit.encode_to_vec());
                for k in indexes::audit_keys(audit) {
                    batch.insert(k, Vec::new());
                }
            }
        }
        let nodes = tree::append(self, entries, &mut batch)?;
        batch.insert(keyspace::APPLIED_SEQ, &last.seq.to_be_bytes());
        self.db.apply_batch(batch)?;
        // Only once they are in sled: a reader never sees a node beyond applied_seq.
        self.tree_cache.remember(nodes);
        Ok(())
    }

    /// Where `record` goes: its key, value and index keys. A notifier e-mail in clear
    /// (an entry journaled before personal data was sealed) is keyed by its subject,
    /// like a sealed one.
    fn place(&self, record: &pb::StoredRecord) -> Option<Placed> {
        let key = match (&self.vault, &record.kind) {
            (Some(v), Some(Kind::PartyRecord(r))) => {
                keyspace::party(&crate::pdata::party_key_ref(v, r.party.as_ref()?))?
            }
            _ => record_key(record)?,
        };
        place(record, key)
    }

    /// Waits until everything applied so far is on disk (as far as sled can promise).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// The I/O error sled last answered any call with (a read included), taken: the
    /// writer stalls on it and resumes by reopening sled (`writer/stall.rs`).
    pub fn take_fault(&self) -> Option<StoreError> {
        self.db
            .take_fault()
            .map(|e| StoreError::Sled(sled::Error::Io(e)))
    }

    /// Turns true when sled answers a call with an I/O error, so that the server can
    /// wake the writer even when no write comes (every read failing first).
    pub fn faults(&self) -> tokio::sync::watch::Receiver<bool> {
        self.db.faults()
    }

    /// True if sled takes a write and a flush now. After sled met an I/O error in its
    /// background flusher it refuses both until reopened ([`Store::reopen`]).
    pub fn accepts_writes(&self) -> bool {
        let applied = match self.db.get(keyspace::APPLIED_SEQ) {
            Ok(v) => v,
            Err(_) => return false,
        };
        // Writing back what is there changes nothing but goes through sled's log.
        let written = match applied {
            Some(v) => self.db.insert(keyspace::APPLIED_SEQ, v),
            None => self.db.insert(keyspace::APPLIED_SEQ, &0u64.to_be_bytes()),
        };
        written.is_ok() && self.db.flush().is_ok()
    }

    /// Closes sled and opens it again from disk, for every clone of this store. What
    /// sled had applied only in memory is lost: `catch_up` gets the reopened store
    /// (before any reader does) to replay the journal after its
    /// [`Store::applied_seq`].
    pub fn reopen<R, E: From<StoreError>>(
        &self,
        catch_up: impl FnOnce(&Store) -> Result<R, E>,
    ) -> Result<R, E> {
        let open_error = |source| StoreError::Open {
            path: self.db.path().display().to_string(),
            source,
        };
        self.db
            .reopen(|db| {
                let fresh = Store {
                    db: db.clone(),
                    vault: self.vault.clone(),
                    tree_cache: self.tree_cache.clone(),
                };
                catch_up(&fresh).map_err(Reopen::CatchUp)
            })
            .map_err(|e| match e {
                Reopen::Open(source) => E::from(open_error(source)),
                Reopen::CatchUp(e) => e,
            })
    }

    fn get<M: Message + Default>(&self, key: &[u8]) -> Result<Option<M>, StoreError> {
        match self.db.get(key)? {
            None => Ok(None),
            Some(v) => M::decode(v.as_ref())
                .map(Some)
                .map_err(|source| StoreError::Corrupt {
                    key: hex::encode(key),
                    source,
                }),
        }
    }
}

/// Why [`Store::reopen`] failed: sled would not open, or the catch-up failed.
enum Reopen<E> {
    Open(sled::Error),
    CatchUp(E),
}

impl<E> From<sled::Error> for Reopen<E> {
    fn from(e: sled::Error) -> Self {
        Reopen::Open(e)
    }
}

/// How long opening waits for sled's own file lock before giving up.
const SLED_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens sled, asking again for a short while when its file lock is taken. The data
/// folder's lock is already ours, so the holder can only be this process: a child it
/// forked holds a copy of sled's file until it execs, and a `Db` just dropped may
/// still have a background thread holding the file for a moment. sled reports the
/// lock only as an `Other` I/O error with this text.
fn open_sled(path: &Path, cache_capacity: u64) -> sled::Result<sled::Db> {
    let deadline = std::time::Instant::now() + SLED_LOCK_PATIENCE;
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(cache_capacity)
            .open()
        {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sled_lock_released_a_moment_later_is_waited_for() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = Store::open(dir.path(), 1 << 20).expect("first open");
        let holder = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(first);
        });
        let second = Store::open(dir.path(), 1 << 20);
        holder.join().expect("holder thread");
        assert!(second.is_ok(), "second open: {:?}", second.err());
    }

    #[test]
    fn a_sled_lock_held_on_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let _first = Store::open(dir.path(), 1 << 20).expect("first open");
        let err = Store::open(dir.path(), 1 << 20).err().expect("refused");
        assert!(err.to_string().contains("could not acquire lock"), "{err}");
    }
}
