//! AIP-132 paging: page sizes and opaque page tokens.
//!
//! A token carries the store's position after the previous page behind a fingerprint
//! of the listing it belongs to: the caller and the canonical encoding of the typed
//! query (`ClaimQuery::canonical`, ...). A token is refused with other filters or
//! from another caller (AIP-158), even when both would read the same index. The whole
//! token is signed with HMAC-SHA256 under a key kept in the data folder
//! (`page-token.key`, made at first start), so a client can neither forge a position
//! nor move one to another listing.
//!
//! Layout before base64url: fingerprint (8 bytes) | position | HMAC (32 bytes).

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::caller::Caller;
use super::status::invalid_field;
use crate::store::{Page, PagePosition};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

/// The key file in the data folder.
pub const KEY_FILE: &str = "page-token.key";
const KEY_LEN: usize = 32;
const FINGERPRINT_LEN: usize = 8;
const MAC_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum PageKeyError {
    #[error("could not read the page-token key {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the page-token key {path} holds {len} bytes, not {KEY_LEN}; delete it and start again (page tokens handed out before stop working; clients restart paging)"
    )]
    Length { path: PathBuf, len: usize },
    #[error("could not create the page-token key {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The listing a token belongs to: who asked, and for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing([u8; FINGERPRINT_LEN]);

impl Listing {
    /// `canonical` is the canonical encoding of the typed query.
    pub fn new(caller: &Caller, canonical: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update((caller.principal_id.len() as u64).to_be_bytes());
        h.update(caller.principal_id.as_bytes());
        h.update(canonical);
        let mut fp = [0u8; FINGERPRINT_LEN];
        fp.copy_from_slice(&h.finalize()[..FINGERPRINT_LEN]);
        Listing(fp)
    }
}

/// Makes and checks page tokens under this server's key. Cheap to clone.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; KEY_LEN],
}

impl PageTokens {
    /// The tokens of the data folder `data_dir`: its key, created (32 random bytes,
    /// mode 0600) on first start.
    pub fn open(data_dir: &Path) -> Result<Self, PageKeyError> {
        let path = data_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let len = bytes.len();
                let key = bytes
                    .try_into()
                    .map_err(|_| PageKeyError::Length { path, len })?;
                Ok(Self { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; KEY_LEN];
                rand::rng().fill_bytes(&mut key);
                write_key(data_dir, &path, &key)
                    .map_err(|source| PageKeyError::Create { path, source })?;
                Ok(Self { key })
            }
            Err(source) => Err(PageKeyError::Read { path, source }),
        }
    }

    /// Tokens under a given key.
    #[cfg(test)]
    fn with_key(key: [u8; KEY_LEN]) -> Self {
        Self { key }
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    /// The store position for a request's page_size and page_token. The token must
    /// have been issued by this server for the same `listing`.
    pub fn position(
        &self,
        page_size: i32,
        page_token: &str,
        listing: Listing,
    ) -> Result<PagePosition, Status> {
        let limit = match page_size {
            n if n < 0 => {
                return Err(invalid_field(
                    "page_size",
                    format!(
                        "must not be negative (got {n}); send 0 for the default of {DEFAULT_PAGE_SIZE}"
                    ),
                ));
            }
            0 => DEFAULT_PAGE_SIZE,
            n => (n as usize).min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(self.open_token(page_token, listing)?)
        };
        Ok(PagePosition { after, limit })
    }

    fn open_token(&self, token: &str, listing: Listing) -> Result<Vec<u8>, Status> {
        let unsigned = || {
            invalid_field(
                "page_token",
                "not a page token issued by this server, or altered; restart paging: send the request again without a page_token",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| unsigned())?;
        let signed_len = bytes
            .len()
            .checked_sub(MAC_LEN)
            .filter(|n| *n >= FINGERPRINT_LEN)
            .ok_or_else(unsigned)?;
        let (signed, tag) = bytes.split_at(signed_len);
        let mut mac = self.mac();
        mac.update(signed);
        mac.verify_slice(tag).map_err(|_| unsigned())?;
        let (fp, position) = signed.split_at(FINGERPRINT_LEN);
        if fp != listing.0 {
            return Err(invalid_field(
                "page_token",
                "this token belongs to a listing with other filters or another caller; send the same filters as the request that returned it, or no page_token to start over",
            ));
        }
        Ok(position.to_vec())
    }

    /// The next_page_token of `page` in `listing` (empty on the last page).
    pub fn next_token<T>(&self, page: &Page<T>, listing: Listing) -> String {
        let Some(position) = &page.next else {
            return String::new();
        };
        let mut token = Vec::with_capacity(FINGERPRINT_LEN + position.len() + MAC_LEN);
        token.extend_from_slice(&listing.0);
        token.extend_from_slice(position);
        let mut mac = self.mac();
        mac.update(&token);
        token.extend_from_slice(&mac.finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(token)
    }
}

/// Writes the key with mode 0600, atomically (temp file, fsync, rename, fsync of the
/// folder), so that a crash never leaves a short key behind.
fn write_key(data_dir: &Path, path: &Path, key: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("key.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(&tmp)?;
    f.write_all(key)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(data_dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(id: &str) -> Caller {
        Caller::principal(id.to_string(), vec![])
    }

    fn page(next: &[u8]) -> Page<()> {
        Page {
            items: vec![],
            next: Some(next.to_vec()),
        }
    }

    #[test]
    fn a_token_round_trips_only_in_its_listing_and_under_its_key() {
        let tokens = PageTokens::with_key([7; KEY_LEN]);
        let mine = Listing::new(&caller("a"), b"claims");
        let token = tokens.next_token(&page(b"position"), mine);
        let p = tokens.position(10, &token, mine).expect("own token");
        assert_eq!(p.after.as_deref(), Some(b"position".as_slice()));
        assert_eq!(p.limit, 10);

        for other in [
            Listing::new(&caller("b"), b"claims"),
            Listing::new(&caller("a"), b"audit"),
        ] {
            let e = tokens
                .position(10, &token, other)
                .expect_err("other listing");
            assert!(e.message().contains("other filters"), "{e:?}");
        }
        let e = PageTokens::with_key([8; KEY_LEN])
            .position(10, &token, mine)
            .expect_err("other key");
        assert!(e.message().contains("restart paging"), "{e:?}");
    }

    #[test]
    fn any_altered_byte_fails_the_mac() {
        let tokens = PageTokens::with_key([7; KEY_LEN]);
        let listing = Listing::new(&caller("a"), b"claims");
        let token = tokens.next_token(&page(b"some position"), listing);
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 1;
            let e = tokens
                .position(1, &URL_SAFE_NO_PAD.encode(altered), listing)
                .expect_err("altered");
            assert!(e.message().contains("restart paging"), "byte {i}: {e:?}");
        }
        for junk in ["not a token!", "AAAA", ""] {
            let r = tokens.position(1, junk, listing);
            if junk.is_empty() {
                assert_eq!(r.expect("no token").after, None);
            } else {
                assert!(r.is_err(), "{junk:?}");
            }
        }
    }

    #[test]
    fn the_key_is_made_once_with_mode_0600_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = PageTokens::open(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(std::fs::read(&path).unwrap().len(), KEY_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = PageTokens::open(dir.path()).unwrap();
        assert_eq!(first.key, again.key, "the same key after a restart");
        std::fs::write(&path, b"short").unwrap();
        let e = PageTokens::open(dir.path())
            .err()
            .expect("short key refused");
        assert!(e.to_string().contains("holds 5 bytes"), "{e}");
    }
}
