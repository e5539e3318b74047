//! The notary: signs checkpoints of the Merkle tree over the audit log with the log's
//! Ed25519 key, and issues receipts (an entry's hash, a signed checkpoint whose tree
//! holds it, and the inclusion proof). The API answers them with every claim change
//! and on request, the event feed sends checkpoints, and the notification worker
//! attaches a receipt to the receipt e-mail. Formats: `tlog`, `docs/receipts.md`.
//!
//! The key is made at first start in the data folder (`log-signing.key`, 32 random
//! bytes, mode 0600) unless `--log-signing-key` names one. One signature serves every
//! receipt until the tree grows, so a write group costs one signature, not one per
//! caller.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rand::RngCore;

use crate::pb;
use crate::store::{Store, StoreError, TreeError};
use crate::tlog::{Checkpoint, NoteError, NoteSigner};

/// The signing key's file in the data folder.
pub const KEY_FILE: &str = "log-signing.key";

/// Why the notary could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum NotaryError {
    #[error("could not read the log signing key {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the log signing key {path} holds {len} bytes; it must be 32 raw bytes or 64 hex digits (an Ed25519 seed)"
    )]
    Length { path: PathBuf, len: usize },
    #[error("could not create the log signing key {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--log-origin: {0}")]
    Origin(NoteError),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("audit entry {0} is not in the store")]
    NoEntry(u64),
}

impl From<StoreError> for NotaryError {
    fn from(e: StoreError) -> Self {
        NotaryError::Tree(TreeError::Store(e))
    }
}

/// The default origin: this host's name and `/takedown`.
pub fn default_origin() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{host}/takedown")
}

/// Reads the signing key at `path` (32 raw bytes or 64 hex digits).
fn read_key(path: &Path) -> Result<Option<[u8; 32]>, NotaryError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(NotaryError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let len = bytes.len();
    let seed = match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(seed) => Some(seed),
        Err(_) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| hex::decode(s.trim()).ok())
            .and_then(|b| b.try_into().ok()),
    };
    seed.map(Some).ok_or(NotaryError::Length {
        path: path.to_path_buf(),
        len,
    })
}

/// Creates a new key in `data_dir` with mode 0600, written whole before it appears.
fn create_key(data_dir: &Path, path: &Path) -> Result<[u8; 32], NotaryError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let write = || -> std::io::Result<()> {
        let tmp = path.with_extension("key.tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(crate::data_dir::FILE_MODE)
            .open(&tmp)?;
        f.write_all(&seed)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(data_dir)?.sync_all()
    };
    write().map_err(|source| NotaryError::Create {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(seed)
}

/// A signed checkpoint and the tree size it is of.
#[derive(Debug, Clone)]
pub struct SignedCheckpoint {
    pub size: u64,
    /// The signed note.
    pub note: String,
}

/// Signs checkpoints and issues receipts. Cheap to share (`Arc`).
pub struct Notary {
    store: Store,
    signer: NoteSigner,
    latest: Mutex<Option<Arc<SignedCheckpoint>>>,
}

impl Notary {
    /// The notary of the data folder `data_dir` for the log `origin`: with the key at
    /// `key` if given, else the folder's own key, made on first start.
    pub fn open(
        store: Store,
        data_dir: &Path,
        key: Option<&Path>,
        origin: &str,
    ) -> Result<Self, NotaryError> {
        let seed = match key {
            Some(path) => read_key(path)?.ok_or_else(|| NotaryError::Read {
                path: path.to_path_buf(),
                source: std::io::ErrorKind::NotFound.into(),
            })?,
            None => {
                let path = data_dir.join(KEY_FILE);
                match read_key(&path)? {
                    Some(seed) => seed,
                    None => create_key(data_dir, &path)?,
                }
            }
        };
        let signer = NoteSigner::new(origin, &seed).map_err(NotaryError::Origin)?;
        Ok(Self {
            store,
            signer,
            latest: Mutex::new(None),
        })
    }

    /// The note verifier key of the log's checkpoints.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    /// The log's origin (the key's name).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The signed checkpoint of the tree as it is now.
    pub fn checkpoint(&self) -> Result<Arc<SignedCheckpoint>, NotaryError> {
        let size = self.store.tree_size()?;
        self.checkpoint_of_at_least(size)
    }

    /// The last checkpoint signed if its tree has at least `size` entries, else a new
    /// one of the tree as it is now. Signing holds the lock, so that the callers of
    /// one write group, answered together, share one signature.
    fn checkpoint_of_at_least(&self, size: u64) -> Result<Arc<SignedCheckpoint>, NotaryError> {
        let mut latest = self
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = latest.as_ref()
            && c.size >= size
        {
            return Ok(c.clone());
        }
        let signed = Arc::new(self.sign(self.store.tree_size()?)?);
        *latest = Some(signed.clone());
        Ok(signed)
    }

    fn sign(&self, size: u64) -> Result<SignedCheckpoint, NotaryError> {
        let root = self.store.tree_root(size)?;
        let text = Checkpoint {
            origin: self.signer.name().to_string(),
            size,
            root,
        }
        .text();
        Ok(SignedCheckpoint {
            size,
            note: self.signer.sign(&text),
        })
    }

    /// The receipt of entry `seq` against the newest checkpoint.
    pub fn receipt(&self, seq: u64) -> Result<pb::Receipt, NotaryError> {
        let checkpoint = self.checkpoint()?;
        self.receipt_in(seq, &checkpoint)
    }

    /// The receipt of entry `seq` just committed, against any checkpoint that holds it
    /// (the one signed for its write group, as a rule).
    pub fn receipt_of_commit(&self, seq: u64) -> Result<pb::Receipt, NotaryError> {
        let checkpoint = self.checkpoint_of_at_least(seq)?;
        self.receipt_in(seq, &checkpoint)
    }

    fn receipt_in(
        &self,
        seq: u64,
        checkpoint: &SignedCheckpoint,
    ) -> Result<pb::Receipt, NotaryError> {
        let entry = self
            .store
            .audit_entry(seq)?
            .ok_or(NotaryError::NoEntry(seq))?;
        let (tree_size, hashes) = self.store.inclusion_proof(seq, checkpoint.size)?;
        Ok(pb::Receipt {
            seq,
            entry_hash: entry.hash,
            checkpoint: checkpoint.note.clone(),
            inclusion_proof: Some(pb::InclusionProof {
                leaf_index: seq - 1,
                tree_size,
                hashes: hashes.iter().map(|h| h.to_vec()).collect(),
            }),
        })
    }
}
