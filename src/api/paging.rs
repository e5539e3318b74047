//! AIP-132 paging: page sizes and opaque page tokens. A token is the last index key of
//! the previous page behind a fingerprint of the request's filters and caller, so a
//! token is refused with any other filters (AIP-158), even ones that read the same
//! index.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::status::invalid_field;
use crate::store::{Page, PageQuery};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

const FINGERPRINT_LEN: usize = 8;

fn fingerprint(filters: &str) -> [u8; FINGERPRINT_LEN] {
    let digest = Sha256::digest(filters.as_bytes());
    let mut fp = [0u8; FINGERPRINT_LEN];
    fp.copy_from_slice(&digest[..FINGERPRINT_LEN]);
    fp
}

/// Builds the store query from a request's page_size and page_token. The token must
/// come from a request with the same `filters` (a description of the filters and the
/// caller) and point into the index `prefix` the query reads.
pub fn query(
    page_size: i32,
    page_token: &str,
    prefix: &[u8],
    filters: &str,
) -> Result<PageQuery, Status> {
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
        let key = URL_SAFE_NO_PAD
            .decode(page_token)
            .ok()
            .and_then(|t| {
                let (fp, key) = t.split_at_checked(FINGERPRINT_LEN)?;
                (fp == fingerprint(filters) && key.starts_with(prefix)).then(|| key.to_vec())
            })
            .ok_or_else(|| {
                invalid_field(
                    "page_token",
                    "not a token of this query; pass next_page_token from the previous page with the same filters",
                )
            })?;
        Some(key)
    };
    Ok(PageQuery {
        after,
        limit,
        until: None,
    })
}

/// The next_page_token of a page read with `filters`.
pub fn next_token<T>(page: &Page<T>, filters: &str) -> String {
    page.next
        .as_ref()
        .map(|k| {
            let mut token = fingerprint(filters).to_vec();
            token.extend_from_slice(k);
            URL_SAFE_NO_PAD.encode(token)
        })
        .unwrap_or_default()
}
