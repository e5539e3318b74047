//! What a well-formed request is. Each function lists every violation at once, so a
//! caller fixes its notice in one round trip; an empty list means valid. This file
//! holds the limits and the checks every request shares; `notice` checks a notice as
//! the law asks for it, `article` an article; each claim verb checks its own payload
//! (`domain::commands`) with the checks here.

mod article;
mod notice;
mod web_url;

pub use article::{article, normalize_article};
pub use notice::{LANGUAGES, evidence_list, language, normalize_notice, notice};
pub use web_url::{is_http_url, normalize_url};

use super::FieldViolation;

/// The most bytes (of UTF-8) each kind of field may hold, and the most entries per
/// list. Generous for real notices; hostile input is refused field by field, all at
/// once, before anything is written. The request size limit bounds the whole.
pub mod limits {
    /// Names, organisations, rights owners, signatures.
    pub const NAME: usize = 200;
    /// An e-mail address (RFC 5321's limit on a path).
    pub const EMAIL: usize = 254;
    /// A telephone number.
    pub const PHONE: usize = 50;
    /// A postal address.
    pub const POSTAL_ADDRESS: usize = 500;
    /// A URL or URI.
    pub const URL: usize = 2_048;
    /// An article title.
    pub const TITLE: usize = 1_000;
    /// Where an item is in the article ("figure 1", "paragraph 3").
    pub const LOCATOR: usize = 500;
    /// Court, authority, legal ground, case reference.
    pub const REFERENCE: usize = 500;
    /// Descriptions of works, excerpts, evidence.
    pub const DESCRIPTION: usize = 5_000;
    /// Statements, explanations, messages, replies, reasons.
    pub const TEXT: usize = 10_000;
    /// Items claimed in one notice.
    pub const ITEMS: usize = 100;
    /// Works named in one notice.
    pub const WORKS: usize = 20;
    /// Evidence entries in one notice.
    pub const EVIDENCE: usize = 20;
}

pub(in crate::domain) type Violations = Vec<FieldViolation>;

pub(in crate::domain) fn required(v: &mut Violations, field: &str, value: &str, what: &str) {
    if value.trim().is_empty() {
        v.push(FieldViolation::new(field, format!("{what} is required")));
    }
}

pub(in crate::domain) fn too_long(
    v: &mut Violations,
    field: &str,
    value: &str,
    max: usize,
) -> bool {
    if value.len() > max {
        v.push(FieldViolation::new(
            field,
            format!("must be at most {max} bytes, got {}", value.len()),
        ));
        return true;
    }
    false
}

/// Characters that change how text around them is shown without being seen: bidi
/// embeddings, overrides and isolates (U+202A-202E, U+2066-2069), zero-width and
/// directional marks (U+200B-200F), invisible operators (U+2060-2064) and the BOM.
/// A name, an address or a URL holding one can pass for another.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// One line of text (a name, a reference, a phone number): at most `max` bytes, no
/// control characters and no invisible formatting characters.
pub(in crate::domain) fn line(v: &mut Violations, field: &str, value: &str, max: usize) {
    if too_long(v, field, value, max) {
        return;
    }
    if value.chars().any(char::is_control) {
        v.push(FieldViolation::new(
            field,
            "must not contain control characters (line breaks, tabs, NUL, ESC, ...)",
        ));
    } else if value.chars().any(is_invisible) {
        v.push(FieldViolation::new(
            field,
            "must not contain invisible formatting characters (bidi overrides and isolates, zero-width characters)",
        ));
    }
}

/// Checks a one-line field outside the domain's own payloads (principal names).
pub fn one_line(field: &str, value: &str, max: usize) -> Violations {
    let mut v = Vec::new();
    line(&mut v, field, value, max);
    v
}

/// Free text: at most `max` bytes; line breaks and tabs are fine, other control
/// characters are not.
pub(in crate::domain) fn text(v: &mut Violations, field: &str, value: &str, max: usize) {
    if !too_long(v, field, value, max)
        && value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        v.push(FieldViolation::new(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
}

/// An e-mail address that parses (RFC 5322 addr-spec through the `email_address`
/// crate) with a dotted domain, no display name and no IP literal: an address a
/// person can be written to.
pub fn is_email(s: &str) -> bool {
    let options = email_address::Options::default()
        .with_required_tld()
        .without_display_text()
        .without_domain_literal();
    s.len() <= limits::EMAIL
        && !s
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || is_invisible(c))
        && email_address::EmailAddress::parse_with_options(s, options).is_ok()
}

/// An article id from the CMS: 1-128 of letters, digits and `. _ : / -`.
pub fn is_article_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-'))
}

pub(in crate::domain) fn count(v: &mut Violations, field: &str, n: usize, max: usize) {
    if n > max {
        v.push(FieldViolation::new(
            field,
            format!("at most {max} entries, got {n}; split the notice"),
        ));
    }
}

pub(in crate::domain) fn email(v: &mut Violations, field: &str, value: &str) {
    if value.trim().is_empty() {
        v.push(FieldViolation::new(field, "an e-mail address is required"));
    } else if !too_long(v, field, value, limits::EMAIL) && !is_email(value) {
        v.push(FieldViolation::new(
            field,
            format!("{value:?} is not an e-mail address; send one like name@example.org"),
        ));
    }
}

/// A URL under the one URL rule (`web_url`), of at most [`limits::URL`] bytes.
pub(in crate::domain) fn url(v: &mut Violations, field: &str, value: &str) {
    if !too_long(v, field, value, limits::URL) && !is_http_url(value) {
        v.push(FieldViolation::new(field, web_url::URL_RULE));
    }
}

/// The first and last instants a timestamp may name: 0001-01-01T00:00:00Z and
/// 9999-12-31T23:59:59.999999999Z, as RFC 3339 and protobuf JSON can write them.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

/// A timestamp that RFC 3339 can write: 0001-9999, nanos in 0..1e9.
pub fn is_timestamp(t: &prost_types::Timestamp) -> bool {
    (MIN_SECONDS..=MAX_SECONDS).contains(&t.seconds) && (0..1_000_000_000).contains(&t.nanos)
}

/// An optional timestamp field: absent, or one RFC 3339 can write.
pub fn timestamp(field: &str, t: Option<&prost_types::Timestamp>) -> Violations {
    match t {
        Some(t) if !is_timestamp(t) => vec![FieldViolation::new(
            field,
            "must be a time between 0001-01-01 and 9999-12-31 with nanos in 0..999999999, such as 2024-01-15T09:00:00Z",
        )],
        _ => Vec::new(),
    }
}

/// The years a date in a request (such as when a lawsuit was filed) may name.
pub const DATE_YEARS: std::ops::RangeInclusive<u32> = 1900..=2199;

/// A calendar date written `YYYY-MM-DD`, in [`DATE_YEARS`].
pub fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    if !DATE_YEARS.contains(&y) {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

pub fn non_empty_text(field: &str, value: &str, what: &str) -> Violations {
    let mut v = Vec::new();
    required(&mut v, field, value, what);
    text(&mut v, field, value, limits::TEXT);
    v
}

pub fn optional_text(field: &str, value: &str) -> Violations {
    let mut v = Vec::new();
    text(&mut v, field, value, limits::TEXT);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;

    #[test]
    fn emails_and_urls() {
        assert!(is_email("rights@legaldaily.com.cn"));
        assert!(!is_email("rights@localhost"));
        assert!(!is_email("no-at-sign"));
        assert!(is_http_url("https://www.legaldaily.com.cn/a?b=1"));
        assert!(!is_http_url("ftp://x.org/"));
        assert!(!is_http_url("https:///nohost"));
        assert!(!is_http_url("https://news.example.org/a\u{0}b"));
        assert!(!is_http_url("https://news.example.org/a\nb"));
        assert!(!is_http_url("https://:443/"));
        assert!(!is_http_url("https://host:port/"));
        assert!(is_http_url("https://news.example.org:8443/x"));
        assert!(is_http_url("http://[2001:db8::1]:8080/x"));
        assert!(!is_http_url("http://user@host.example/x"));
        assert!(is_email("first.last+tag@sub.example.co.uk"));
        assert!(!is_email("Name <name@example.org>"));
        assert!(!is_email("name@[192.0.2.1]"));
        assert!(!is_email("a..b@example.org"));
        assert!(!is_email("name@example.org\n"));
        assert!(!is_email("name@@example.org"));
    }

    #[test]
    fn dates() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2024-13-01"));
        assert!(!is_date("24-01-01"));
        assert!(!is_date("0000-01-01"));
        assert!(!is_date("9999-12-31"));
    }

    #[test]
    fn empty_notice_lists_every_missing_element() {
        let fields: Vec<String> = notice(&pb::Claim::default())
            .into_iter()
            .map(|v| v.field)
            .collect();
        for f in [
            "claim.article_id",
            "claim.regime",
            "claim.claimant",
            "claim.works",
            "claim.items",
            "claim.requested_remedy",
            "claim.good_faith_statement",
            "claim.accuracy_statement",
            "claim.signature",
        ] {
            assert!(fields.contains(&f.to_string()), "missing {f} in {fields:?}");
        }
    }
}
