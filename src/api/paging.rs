//! AIP-132 paging: page sizes and opaque page tokens (the last index key of the
//! previous page, base64url-encoded).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tonic::Status;

use super::status::invalid_field;
use crate::store::{Page, PageQuery};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

/// Builds the store query from a request's page_size and page_token. The token must
/// belong to the index `prefix` the query reads.
pub fn query(page_size: i32, page_token: &str, prefix: &[u8]) -> Result<PageQuery, Status> {
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
            .filter(|k| k.starts_with(prefix))
            .ok_or_else(|| {
                invalid_field(
                    "page_token",
                    "not a token of this query; pass next_page_token from the previous page with the same filters",
                )
            })?;
        Some(key)
    };
    Ok(PageQuery { after, limit })
}

/// The next_page_token of a page.
pub fn next_token<T>(page: &Page<T>) -> String {
    page.next
        .as_ref()
        .map(|k| URL_SAFE_NO_PAD.encode(k))
        .unwrap_or_default()
}
