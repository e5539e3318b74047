//! The key store of personal data: one data key per party ("subject"), wrapped with the
//! master key, in `pdata/keys` beside the journal but outside the hash chain; the one
//! thing an erasure truly deletes. A subject is named by a keyed hash of who it is
//! (`Vault::subject`), never by the value in clear: that same hash is the blind index
//! the store keys party records by.
//!
//! The key file is a sequence of fixed-size records (kind, subject, nonce, wrapped key,
//! CRC32C): the master key's fingerprint, the blind-index key, then one record per
//! party key. New keys are appended and synced before the journal entry that uses them
//! is ([`Vault::persist`]); an erasure rewrites the file without the key (temp file,
//! sync, rename, sync the folder), so it is either done or not. See
//! `docs/operations.md`, "Personal data".

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The bytes naming one subject: the first 16 bytes of an HMAC-SHA256.
pub type Subject = [u8; 16];

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const WRAPPED_LEN: usize = KEY_LEN + TAG_LEN;
/// kind (1) + subject (16) + nonce (24) + wrapped key (48) + CRC32C (4).
const RECORD_LEN: usize = 1 + 16 + NONCE_LEN + WRAPPED_LEN + 4;
/// The size of one key-store record, as [`Vault::persist`] returns them.
pub const KEY_RECORD_LEN: usize = RECORD_LEN;

const KIND_FINGERPRINT: u8 = 0;
const KIND_BLIND: u8 = 1;
const KIND_PARTY: u8 = 2;

/// What a subject is, so that an e-mail and an account id with the same text are two
/// subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// A person known by an e-mail address (a notifier, a counter-notifier).
    Email,
    /// A contributor known by the CMS's account id.
    Contributor,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: io::Error,
    },
    #[error(
        "the data key in {key} is not the one {keys} was made with; start with the right --data-key-file (personal data cannot be read without it)"
    )]
    WrongMasterKey { key: String, keys: String },
    #[error("{path} is damaged at byte {offset}: {problem}")]
    Damaged {
        path: String,
        offset: usize,
        problem: String,
    },
    #[error("the data key file {path} must hold 32 bytes as 64 hex digits: {problem}")]
    BadKeyFile { path: String, problem: String },
    #[error(
        "a data key replicated from the leader {problem}; start every node with the same --data-key-file (docs/operations.md, \"Replication\")"
    )]
    Foreign { problem: &'static str },
}

/// The party keys, in memory, and where they are kept.
pub struct Vault {
    master: XChaCha20Poly1305,
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The blind-index key (`Vault::subject`).
    blind: [u8; KEY_LEN],
    keys: HashMap<Subject, [u8; KEY_LEN]>,
    /// Made since the last `persist`, to be appended.
    unsaved: Vec<Subject>,
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> VaultError + use<> {
    let path = path.display().to_string();
    move |source| VaultError::Io { what, path, source }
}

/// Reads or makes the master key: `key_file` if given, else `dir/data.key`, made (0600)
/// at first start.
pub fn master_key(dir: &Path, key_file: Option<&Path>) -> Result<[u8; KEY_LEN], VaultError> {
    let path = key_file.map_or_else(|| dir.join("data.key"), Path::to_path_buf);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_key(&text).map_err(|problem| VaultError::BadKeyFile {
            path: path.display().to_string(),
            problem,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound && key_file.is_none() => {
            let mut key = [0u8; KEY_LEN];
            rand::rng().fill_bytes(&mut key);
            write_atomically(&path, format!("{}\n", hex::encode(key)).as_bytes())
                .map_err(io_err("cannot write the data key", &path))?;
            Ok(key)
        }
        Err(e) => Err(io_err("cannot read the data key", &path)(e)),
    }
}

/// Makes a new master key in `path` (0600), which must not exist yet.
pub fn new_key_file(path: &Path) -> Result<[u8; KEY_LEN], VaultError> {
    let mut key = [0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut key);
    if path.exists() {
        return Err(VaultError::BadKeyFile {
            path: path.display().to_string(),
            problem: "it exists and is not a key file".to_string(),
        });
    }
    write_atomically(path, format!("{}\n", hex::encode(key)).as_bytes())
        .map_err(io_err("cannot write the data key", path))?;
    Ok(key)
}

fn parse_key(text: &str) -> Result<[u8; KEY_LEN], String> {
    let bytes = hex::decode(text.trim()).map_err(|e| e.to_string())?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{} bytes", b.len()))
}

/// Writes `bytes` to `path` (0600) through a temp file, synced, renamed, and the folder
/// synced.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn fingerprint(master: &[u8; KEY_LEN]) -> Subject {
    let digest = Sha256::digest(master);
    let mut f = [0u8; 16];
    f.copy_from_slice(&digest[..16]);
    f
}

impl Vault {
    /// Opens the key store in `dir` (made if missing) with `master`. A torn last
    /// record (a crash while appending keys no entry was acknowledged with) is cut.
    pub fn open(dir: &Path, master: [u8; KEY_LEN]) -> Result<Vault, VaultError> {
        let path = dir.join("keys");
        let cipher = XChaCha20Poly1305::new((&master).into());
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)
                    .map_err(io_err("cannot read", &path))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("cannot open", &path)(e)),
        }
        let whole = bytes.len() / RECORD_LEN * RECORD_LEN;
        if whole < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                cut = bytes.len() - whole,
                "cutting a torn last record of the key store"
            );
            bytes.truncate(whole);
            write_atomically(&path, &bytes).map_err(io_err("cannot rewrite", &path))?;
        }
        let mut state = State::default();
        let mut blind = None;
        let damaged = |offset: usize, problem: &str| VaultError::Damaged {
            path: path.display().to_string(),
            offset,
            problem: problem.to_string(),
        };
        for (i, record) in bytes.chunks_exact(RECORD_LEN).enumerate() {
            let offset = i * RECORD_LEN;
            let (body, crc) = record.split_at(RECORD_LEN - 4);
            if crc32c::crc32c(body).to_le_bytes() != crc {
                return Err(damaged(offset, "checksum mismatch"));
            }
            let kind = body[0];
            let mut subject = [0u8; 16];
            subject.copy_from_slice(&body[1..17]);
            match kind {
                KIND_FINGERPRINT => {
                    if subject != fingerprint(&master) {
                        return Err(VaultError::WrongMasterKey {
                            key: "the data key".to_string(),
                            keys: path.display().to_string(),
                        });
                    }
                }
                KIND_BLIND | KIND_PARTY => {
                    let key = unwrap(&cipher, &subject, &body[17..])
                        .ok_or_else(|| damaged(offset, "a key does not unwrap"))?;
                    if kind == KIND_BLIND {
                        blind = Some(key);
                    } else {
                        state.keys.insert(subject, key);
                    }
                }
                _ => return Err(damaged(offset, "unknown record kind")),
            }
        }
        let vault_blind = match blind {
            Some(b) => b,
            None => {
                // A new store: its fingerprint and blind-index key come first.
                let mut b = [0u8; KEY_LEN];
                rand::rng().fill_bytes(&mut b);
                let mut head = record_bytes(
                    KIND_FINGERPRINT,
                    &fingerprint(&master),
                    &[0; NONCE_LEN],
                    &[0; WRAPPED_LEN],
                );
                head.extend(wrap_record(&cipher, KIND_BLIND, &[0; 16], &b));
                write_atomically(&path, &head).map_err(io_err("cannot write", &path))?;
                b
            }
        };
        state.blind = vault_blind;
        Ok(Vault {
            master: cipher,
            path,
            state: Mutex::new(state),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The subject `value` names: a keyed hash of its kind and normalised text.
    pub fn subject(&self, kind: SubjectKind, value: &str) -> Subject {
        let normal = match kind {
            SubjectKind::Email => value.trim().to_lowercase(),
            SubjectKind::Contributor => value.trim().to_string(),
        };
        let blind = self.state().blind;
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&blind).expect("HMAC takes a key of any length");
        mac.update(&[kind as u8]);
        mac.update(normal.as_bytes());
        let mut s = [0u8; 16];
        s.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        s
    }

    /// The data key of `subject`, made (and queued for `persist`) if it has none. `None`
    /// if the subject was erased: nothing is sealed for it again.
    fn key_for_sealing(
        &self,
        subject: &Subject,
        erased: impl Fn(&Subject) -> bool,
    ) -> Option<[u8; KEY_LEN]> {
        let mut state = self.state();
        if let Some(k) = state.keys.get(subject) {
            return Some(*k);
        }
        if erased(subject) {
            return None;
        }
        let mut key = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        state.keys.insert(*subject, key);
        state.unsaved.push(*subject);
        Some(key)
    }

    /// `clear` encrypted for `subject`, as a sealed string; the erased marker if the
    /// subject's key is gone.
    pub fn seal(
        &self,
        subject: &Subject,
        clear: &str,
        erased: impl Fn(&Subject) -> bool,
    ) -> String {
        if clear.is_empty() || super::is_sealed(clear) || clear == super::ERASED {
            return clear.to_string();
        }
        let Some(key) = self.key_for_sealing(subject, erased) else {
            return super::ERASED.to_string();
        };
        let cipher = XChaCha20Poly1305::new((&key).into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let Ok(ct) = cipher.encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: clear.as_bytes(),
                aad: subject,
            },
        ) else {
            return super::ERASED.to_string();
        };
        let mut body = nonce.to_vec();
        body.extend(ct);
        super::format_sealed(subject, &body)
    }

    /// The clear text of a sealed string; the erased marker if its subject's key is
    /// gone; anything not sealed as it is.
    pub fn unseal(&self, text: &str) -> String {
        let Some((subject, body)) = super::parse_sealed(text) else {
            return text.to_string();
        };
        let Some(key) = self.state().keys.get(&subject).copied() else {
            return super::ERASED.to_string();
        };
        if body.len() < NONCE_LEN {
            return super::ERASED.to_string();
        }
        let cipher = XChaCha20Poly1305::new((&key).into());
        cipher
            .decrypt(
                XNonce::from_slice(&body[..NONCE_LEN]),
                Payload {
                    msg: &body[NONCE_LEN..],
                    aad: &subject,
                },
            )
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| super::ERASED.to_string())
    }

    /// A short fingerprint of `subject`'s current key, if it has one.
    pub fn key_check(&self, subject: &Subject) -> Option<[u8; 8]> {
        self.state().keys.get(subject).map(|k| {
            let mut c = [0u8; 8];
            c.copy_from_slice(&Sha256::digest(k)[..8]);
            c
        })
    }

    /// Deletes `subject`'s key if it is the one `check` fingerprints (an erasure
    /// replayed at start must not delete a key made since for new data).
    pub fn erase_checked(&self, subject: &Subject, check: &[u8]) -> Result<(), VaultError> {
        if self
            .key_check(subject)
            .is_some_and(|c| c.as_slice() == check)
        {
            self.erase(subject)
        } else {
            Ok(())
        }
    }

    /// Whether `subject` has a key (was sealed for and not erased).
    pub fn has(&self, subject: &Subject) -> bool {
        self.state().keys.contains_key(subject)
    }

    /// Appends the keys made since the last call and syncs them: called before the
    /// journal entry that uses them is synced. Returns the records appended (wrapped
    /// with the master key), which a replicating leader sends with the entries.
    pub fn persist(&self) -> Result<Vec<u8>, VaultError> {
        let mut state = self.state();
        if state.unsaved.is_empty() {
            return Ok(Vec::new());
        }
        let mut bytes = Vec::with_capacity(state.unsaved.len() * RECORD_LEN);
        for s in &state.unsaved {
            if let Some(k) = state.keys.get(s) {
                bytes.extend(wrap_record(&self.master, KIND_PARTY, s, k));
            }
        }
        let mut f = OpenOptions::new()
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(io_err("cannot open", &self.path))?;
        f.write_all(&bytes)
            .and_then(|_| f.sync_data())
            .map_err(io_err("cannot append keys to", &self.path))?;
        state.unsaved.clear();
        Ok(bytes)
    }

    /// The blind-index key's record, wrapped with the master key: sent with the first
    /// replicated entry, so that every node names subjects alike.
    pub fn blind_record(&self) -> Vec<u8> {
        let blind = self.state().blind;
        wrap_record(&self.master, KIND_BLIND, &[0; 16], &blind)
    }

    /// Every party key's record, wrapped with the master key: sent when a node puts a
    /// journal it kept alone into an empty stream.
    pub fn party_records(&self) -> Vec<u8> {
        let state = self.state();
        let mut bytes = Vec::with_capacity(state.keys.len() * RECORD_LEN);
        for (s, k) in &state.keys {
            bytes.extend(wrap_record(&self.master, KIND_PARTY, s, k));
        }
        bytes
    }

    /// Takes key records replicated from the leader (made by [`Vault::persist`],
    /// [`Vault::blind_record`] or [`Vault::party_records`] there) and syncs the new ones.
    /// The blind-index key may change only while this vault holds no party key (a new
    /// node). Records that do not unwrap with this node's master key are refused.
    pub fn adopt(&self, records: &[u8]) -> Result<(), VaultError> {
        if records.is_empty() {
            return Ok(());
        }
        if !records.len().is_multiple_of(RECORD_LEN) {
            return Err(VaultError::Foreign {
                problem: "is not a whole number of key records",
            });
        }
        let mut new_blind = None;
        {
            let mut state = self.state();
            for record in records.chunks_exact(RECORD_LEN) {
                let (body, crc) = record.split_at(RECORD_LEN - 4);
                if crc32c::crc32c(body).to_le_bytes() != crc {
                    return Err(VaultError::Foreign {
                        problem: "fails its checksum",
                    });
                }
                let mut subject = [0u8; 16];
                subject.copy_from_slice(&body[1..17]);
                let key =
                    unwrap(&self.master, &subject, &body[17..]).ok_or(VaultError::Foreign {
                        problem: "does not unwrap with this node's data key",
                    })?;
                match body[0] {
                    KIND_BLIND if key != state.blind => {
                        if !state.keys.is_empty() {
                            return Err(VaultError::Foreign {
                                problem: "names subjects differently from this node's, which already holds keys",
                            });
                        }
                        state.blind = key;
                        new_blind = Some(key);
                    }
                    KIND_PARTY if !state.keys.contains_key(&subject) => {
                        state.keys.insert(subject, key);
                        state.unsaved.push(subject);
                    }
                    _ => {}
                }
            }
            if new_blind.is_some() {
                // The file's blind record changes: rewrite it (new keys stay unsaved
                // and are appended below).
                self.rewrite(&state)?;
            }
        }
        self.persist().map(|_| ())
    }

    /// Deletes `subject`'s key for good: the key file is rewritten without it. Idempotent.
    pub fn erase(&self, subject: &Subject) -> Result<(), VaultError> {
        let mut state = self.state();
        let had = state.keys.remove(subject).is_some();
        state.unsaved.retain(|s| s != subject);
        if !had {
            return Ok(());
        }
        self.rewrite(&state)
    }

    fn rewrite(&self, state: &State) -> Result<(), VaultError> {
        let master_fp = {
            // The fingerprint record is kept as it is: read it back from the file.
            let mut f = File::open(&self.path).map_err(io_err("cannot open", &self.path))?;
            let mut head = vec![0u8; RECORD_LEN];
            f.read_exact(&mut head)
                .map_err(io_err("cannot read", &self.path))?;
            head
        };
        let mut bytes = master_fp;
        bytes.extend(wrap_record(
            &self.master,
            KIND_BLIND,
            &[0; 16],
            &state.blind,
        ));
        let unsaved: std::collections::HashSet<&Subject> = state.unsaved.iter().collect();
        for (s, k) in &state.keys {
            if !unsaved.contains(s) {
                bytes.extend(wrap_record(&self.master, KIND_PARTY, s, k));
            }
        }
        write_atomically(&self.path, &bytes).map_err(io_err("cannot rewrite", &self.path))
    }

    /// Re-wraps every key under `new_master` and returns the new key file's bytes'
    /// path: used by `takedownd rotate-data-key`.
    pub fn rewrap(&self, new_master: [u8; KEY_LEN]) -> Result<(), VaultError> {
        let cipher = XChaCha20Poly1305::new((&new_master).into());
        let state = self.state();
        let mut bytes = record_bytes(
            KIND_FINGERPRINT,
            &fingerprint(&new_master),
            &[0; NONCE_LEN],
            &[0; WRAPPED_LEN],
        );
        bytes.extend(wrap_record(&cipher, KIND_BLIND, &[0; 16], &state.blind));
        for (s, k) in &state.keys {
            bytes.extend(wrap_record(&cipher, KIND_PARTY, s, k));
        }
        write_atomically(&self.path, &bytes).map_err(io_err("cannot rewrite", &self.path))
    }

    /// How many party keys are held.
    pub fn len(&self) -> usize {
        self.state().keys.len()
    }

    /// True if no party key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn wrap_record(
    master: &XChaCha20Poly1305,
    kind: u8,
    subject: &Subject,
    key: &[u8; KEY_LEN],
) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let wrapped = master
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key,
                aad: subject,
            },
        )
        .unwrap_or_default();
    record_bytes(kind, subject, &nonce, &wrapped)
}

fn record_bytes(kind: u8, subject: &Subject, nonce: &[u8], wrapped: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(RECORD_LEN);
    r.push(kind);
    r.extend_from_slice(subject);
    r.extend_from_slice(nonce);
    r.extend_from_slice(wrapped);
    r.resize(RECORD_LEN - 4, 0);
    let crc = crc32c::crc32c(&r);
    r.extend_from_slice(&crc.to_le_bytes());
    r
}

fn unwrap(master: &XChaCha20Poly1305, subject: &Subject, rest: &[u8]) -> Option<[u8; KEY_LEN]> {
    let nonce = rest.get(..NONCE_LEN)?;
    let wrapped = rest.get(NONCE_LEN..NONCE_LEN + WRAPPED_LEN)?;
    let key = master
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: wrapped,
                aad: subject,
            },
        )
        .ok()?;
    key.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path, master: [u8; KEY_LEN]) -> Vault {
        Vault::open(dir, master).expect("open the vault")
    }

    #[test]
    fn a_new_vault_adopts_the_leaders_keys_and_reads_what_it_sealed() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let master = [7u8; KEY_LEN];
        let leader = open(a.path(), master);
        let subject = leader.subject(SubjectKind::Email, "Jane@Example.org");
        let sealed = leader.seal(&subject, "Jane Doe", |_| false);
        let mut records = leader.blind_record();
        records.extend(leader.persist().expect("persist"));

        let follower = open(b.path(), master);
        follower.adopt(&records).expect("adopt");
        assert_eq!(
            follower.subject(SubjectKind::Email, "jane@example.org"),
            subject
        );
        assert_eq!(follower.unseal(&sealed), "Jane Doe");
        // What it adopted is on its disk: a reopened vault reads it too.
        drop(follower);
        assert_eq!(open(b.path(), master).unseal(&sealed), "Jane Doe");
    }

    #[test]
    fn keys_wrapped_with_another_data_key_are_refused() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let leader = open(a.path(), [7u8; KEY_LEN]);
        let subject = leader.subject(SubjectKind::Email, "jane@example.org");
        leader.seal(&subject, "Jane Doe", |_| false);
        let records = leader.persist().expect("persist");
        let follower = open(b.path(), [8u8; KEY_LEN]);
        assert!(matches!(
            follower.adopt(&records),
            Err(VaultError::Foreign { .. })
        ));
        assert!(!follower.has(&subject));
    }

    #[test]
    fn a_vault_holding_keys_refuses_another_blind_index_key() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let master = [7u8; KEY_LEN];
        let leader = open(a.path(), master);
        let other = open(b.path(), master);
        let s = other.subject(SubjectKind::Email, "x@example.org");
        other.seal(&s, "x", |_| false);
        other.persist().expect("persist");
        assert!(matches!(
            other.adopt(&leader.blind_record()),
            Err(VaultError::Foreign { .. })
        ));
    }
}
