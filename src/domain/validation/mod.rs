//! What a well-formed request is. Each function lists every violation at once, so a
//! caller fixes its notice in one round trip; an empty list means valid. This file
//! holds the limits and the checks every request shares; `notice` checks a notice as
//! the law asks for it, `article` an article; each claim verb checks its own payload
//! (`domain::commands`) with the checks here.

mod article;
mod notice;

pub use article::article;
pub use notice::notice;

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

/// One line of text: at most `max` bytes, no control characters.
pub(in crate::domain) fn line(v: &mut Violations, field: &str, value: &str, max: usize) {
    if !too_long(v, field, value, max) && value.chars().any(char::is_control) {
        v.push(FieldViolation::new(
            field,
            "must not contain control characters (line breaks, tabs, NUL, ...)",
        ));
    }
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
        && !s.chars().any(|c| c.is_control() || c.is_whitespace())
        && email_address::EmailAddress::parse_with_options(s, options).is_ok()
}

/// An absolute http(s) URL with a host (a name, an IPv4 or a bracketed IPv6 address,
/// with an optional port), no whitespace and no control characters.
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let Some(rest) = rest else {
        return false;
    };
    if s.len() > limits::URL || s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port, ipv6) = match host_port.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, "")) => (addr, None, true),
            Some((addr, rest)) => match rest.strip_prefix(':') {
                Some(port) => (addr, Some(port), true),
                None => return false,
            },
            None => return false,
        },
        None => match host_port.rsplit_once(':') {
            Some((h, port)) => (h, Some(port), false),
            None => (host_port, None, false),
        },
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if ipv6 {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'))
    } else {
        !host.is_empty()
            && !host.starts_with('.')
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
    };
    port_ok && host_ok
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

/// An http(s) URL with a host, of at most [`limits::URL`] bytes.
pub(in crate::domain) fn url(v: &mut Violations, field: &str, value: &str) {
    if !too_long(v, field, value, limits::URL) && !is_http_url(value) {
        v.push(FieldViolation::new(
            field,
            "must be an http(s) URL with a host and no spaces or control characters, such as https://news.example.org/2024/01/15/story",
        ));
    }
}

/// A calendar date written `YYYY-MM-DD`.
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
        assert!(is_http_url("http://user@host.example/x"));
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
