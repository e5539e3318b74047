//! What a well-formed request is. Each function lists every violation at once, so a
//! caller fixes its notice in one round trip; an empty list means valid.

use crate::pb::{
    self, ContentOrigin, DecisionOutcome, ItemKind, LegalActionOutcome, Regime, Remedy,
};

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

/// Longest free-text field we accept, in bytes.
pub const MAX_TEXT: usize = limits::TEXT;
/// Longest short field (urls, references), in bytes.
pub const MAX_SHORT: usize = limits::URL;

type Violations = Vec<FieldViolation>;

fn required(v: &mut Violations, field: &str, value: &str, what: &str) {
    if value.trim().is_empty() {
        v.push(FieldViolation::new(field, format!("{what} is required")));
    }
}

fn too_long(v: &mut Violations, field: &str, value: &str, max: usize) -> bool {
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
fn line(v: &mut Violations, field: &str, value: &str, max: usize) {
    if !too_long(v, field, value, max) && value.chars().any(char::is_control) {
        v.push(FieldViolation::new(
            field,
            "must not contain control characters (line breaks, tabs, NUL, ...)",
        ));
    }
}

/// Free text: at most `max` bytes; line breaks and tabs are fine, other control
/// characters are not.
fn text(v: &mut Violations, field: &str, value: &str, max: usize) {
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

fn count(v: &mut Violations, field: &str, n: usize, max: usize) {
    if n > max {
        v.push(FieldViolation::new(
            field,
            format!("at most {max} entries, got {n}; split the notice"),
        ));
    }
}

fn email(v: &mut Violations, field: &str, value: &str) {
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
fn url(v: &mut Violations, field: &str, value: &str) {
    if !too_long(v, field, value, limits::URL) && !is_http_url(value) {
        v.push(FieldViolation::new(
            field,
            "must be an http(s) URL with a host and no spaces or control characters, such as https://news.example.org/2024/01/15/story",
        ));
    }
}

/// A notice as filed (or as amended): the elements DMCA 512(c)(3), DSA Art. 16 and PRC
/// Civil Code 1195 ask for, checked per regime.
pub fn notice(claim: &pb::Claim) -> Violations {
    let mut v = Vec::new();
    if claim.article_id.is_empty() && claim.article_url.is_empty() {
        v.push(FieldViolation::new(
            "claim.article_id",
            "name the claimed article: set article_id or article_url",
        ));
    }
    if !claim.article_id.is_empty() && !is_article_id(&claim.article_id) {
        v.push(FieldViolation::new(
            "claim.article_id",
            "must be 1-128 letters, digits or . _ : / -",
        ));
    }
    if !claim.article_url.is_empty() {
        url(&mut v, "claim.article_url", &claim.article_url);
    }
    let regime = Regime::try_from(claim.regime).unwrap_or(Regime::Unspecified);
    if regime == Regime::Unspecified {
        v.push(FieldViolation::new(
            "claim.regime",
            "choose REGIME_DMCA, REGIME_DSA or REGIME_PRC_CIVIL_CODE",
        ));
    }
    match &claim.claimant {
        None => v.push(FieldViolation::new(
            "claim.claimant",
            "the claimant's name and contact details are required",
        )),
        Some(c) => {
            required(
                &mut v,
                "claim.claimant.name",
                &c.name,
                "the claimant's full name",
            );
            line(&mut v, "claim.claimant.name", &c.name, limits::NAME);
            line(
                &mut v,
                "claim.claimant.organization",
                &c.organization,
                limits::NAME,
            );
            email(&mut v, "claim.claimant.email", &c.email);
            text(
                &mut v,
                "claim.claimant.postal_address",
                &c.postal_address,
                limits::POSTAL_ADDRESS,
            );
            line(&mut v, "claim.claimant.phone", &c.phone, limits::PHONE);
            if regime == Regime::Dmca
                && c.postal_address.trim().is_empty()
                && c.phone.trim().is_empty()
            {
                v.push(FieldViolation::new(
                    "claim.claimant.postal_address",
                    "a DMCA notice needs a postal address or a telephone number",
                ));
            }
        }
    }
    line(
        &mut v,
        "claim.rights_owner",
        &claim.rights_owner,
        limits::NAME,
    );
    count(&mut v, "claim.works", claim.works.len(), limits::WORKS);
    count(&mut v, "claim.items", claim.items.len(), limits::ITEMS);
    count(
        &mut v,
        "claim.evidence",
        claim.evidence.len(),
        limits::EVIDENCE,
    );
    if claim.works.is_empty() {
        v.push(FieldViolation::new(
            "claim.works",
            "identify at least one original work whose rights are claimed",
        ));
    }
    // Past its limit a list is reported once, not entry by entry.
    let works = if claim.works.len() > limits::WORKS {
        &[][..]
    } else {
        &claim.works[..]
    };
    for (i, w) in works.iter().enumerate() {
        required(
            &mut v,
            &format!("claim.works[{i}].description"),
            &w.description,
            "a description of the work",
        );
        text(
            &mut v,
            &format!("claim.works[{i}].description"),
            &w.description,
            limits::DESCRIPTION,
        );
        if !w.original_url.is_empty() {
            url(
                &mut v,
                &format!("claim.works[{i}].original_url"),
                &w.original_url,
            );
        }
    }
    if claim.items.is_empty() {
        v.push(FieldViolation::new(
            "claim.items",
            "locate at least one infringing item in the article",
        ));
    }
    let items = if claim.items.len() > limits::ITEMS {
        &[][..]
    } else {
        &claim.items[..]
    };
    for (i, item) in items.iter().enumerate() {
        let kind = ItemKind::try_from(item.kind).unwrap_or(ItemKind::Unspecified);
        if kind == ItemKind::Unspecified {
            v.push(FieldViolation::new(
                format!("claim.items[{i}].kind"),
                "choose ITEM_KIND_TEXT, ITEM_KIND_IMAGE or ITEM_KIND_WHOLE_ARTICLE",
            ));
        }
        if kind != ItemKind::WholeArticle {
            required(
                &mut v,
                &format!("claim.items[{i}].locator"),
                &item.locator,
                "where the item is in the article",
            );
        }
        line(
            &mut v,
            &format!("claim.items[{i}].locator"),
            &item.locator,
            limits::LOCATOR,
        );
        text(
            &mut v,
            &format!("claim.items[{i}].excerpt"),
            &item.excerpt,
            limits::DESCRIPTION,
        );
    }
    if Remedy::try_from(claim.requested_remedy).unwrap_or(Remedy::Unspecified)
        == Remedy::Unspecified
    {
        v.push(FieldViolation::new(
            "claim.requested_remedy",
            "choose REMEDY_CORRECTION or REMEDY_DELETION",
        ));
    }
    if regime == Regime::PrcCivilCode && claim.evidence.is_empty() {
        v.push(FieldViolation::new(
            "claim.evidence",
            "a PRC Civil Code notice needs preliminary evidence of infringement",
        ));
    }
    let evidence = if claim.evidence.len() > limits::EVIDENCE {
        &[][..]
    } else {
        &claim.evidence[..]
    };
    for (i, e) in evidence.iter().enumerate() {
        required(
            &mut v,
            &format!("claim.evidence[{i}].uri"),
            &e.uri,
            "where the evidence is",
        );
        line(
            &mut v,
            &format!("claim.evidence[{i}].uri"),
            &e.uri,
            limits::URL,
        );
        let sha256_ok = e.sha256.len() == 64 && e.sha256.chars().all(|c| c.is_ascii_hexdigit());
        if !e.sha256.is_empty() && !sha256_ok {
            v.push(FieldViolation::new(
                format!("claim.evidence[{i}].sha256"),
                "must be 64 hex digits (or empty)",
            ));
        }
        text(
            &mut v,
            &format!("claim.evidence[{i}].description"),
            &e.description,
            limits::DESCRIPTION,
        );
    }
    if !claim.good_faith_statement {
        v.push(FieldViolation::new(
            "claim.good_faith_statement",
            "set to true to state in good faith that the use is not authorised",
        ));
    }
    if !claim.accuracy_statement {
        v.push(FieldViolation::new(
            "claim.accuracy_statement",
            "set to true to state that the notice is accurate (under penalty of perjury for DMCA)",
        ));
    }
    required(
        &mut v,
        "claim.signature",
        &claim.signature,
        "a signature (your full legal name)",
    );
    line(&mut v, "claim.signature", &claim.signature, limits::NAME);
    v
}

/// A statement of reasons (DSA Art. 17).
pub fn statement_of_reasons(reasons: Option<&pb::StatementOfReasons>) -> Violations {
    let mut v = Vec::new();
    match reasons {
        None => v.push(FieldViolation::new(
            "statement_of_reasons",
            "a statement of reasons (facts, legal_ground, explanation) is required",
        )),
        Some(r) => {
            required(
                &mut v,
                "statement_of_reasons.facts",
                &r.facts,
                "the facts relied on",
            );
            required(
                &mut v,
                "statement_of_reasons.legal_ground",
                &r.legal_ground,
                "the legal ground",
            );
            required(
                &mut v,
                "statement_of_reasons.explanation",
                &r.explanation,
                "an explanation",
            );
            text(&mut v, "statement_of_reasons.facts", &r.facts, limits::TEXT);
            text(
                &mut v,
                "statement_of_reasons.explanation",
                &r.explanation,
                limits::TEXT,
            );
            line(
                &mut v,
                "statement_of_reasons.legal_ground",
                &r.legal_ground,
                limits::REFERENCE,
            );
            text(
                &mut v,
                "statement_of_reasons.redress",
                &r.redress,
                limits::TEXT,
            );
        }
    }
    v
}

pub fn decision_outcome(outcome: i32) -> Violations {
    match DecisionOutcome::try_from(outcome) {
        Ok(DecisionOutcome::Unspecified) | Err(_) => vec![FieldViolation::new(
            "outcome",
            "choose DECISION_OUTCOME_REJECT, DECISION_OUTCOME_CORRECT or DECISION_OUTCOME_DELETE",
        )],
        Ok(_) => Vec::new(),
    }
}

pub fn legal_action_outcome(outcome: i32) -> Violations {
    match LegalActionOutcome::try_from(outcome) {
        Ok(LegalActionOutcome::Unspecified) | Err(_) => vec![FieldViolation::new(
            "outcome",
            "choose LEGAL_ACTION_OUTCOME_UPHELD or LEGAL_ACTION_OUTCOME_DISMISSED",
        )],
        Ok(_) => Vec::new(),
    }
}

/// A counter-notice (DMCA 512(g)(3), PRC Civil Code 1196).
pub fn counter_notice(cn: Option<&pb::CounterNotice>, regime: Regime) -> Violations {
    let mut v = Vec::new();
    let Some(cn) = cn else {
        v.push(FieldViolation::new(
            "counter_notice",
            "the counter-notice is required",
        ));
        return v;
    };
    required(
        &mut v,
        "counter_notice.name",
        &cn.name,
        "the name of the person responsible",
    );
    email(&mut v, "counter_notice.email", &cn.email);
    required(
        &mut v,
        "counter_notice.postal_address",
        &cn.postal_address,
        "a postal address",
    );
    required(
        &mut v,
        "counter_notice.phone",
        &cn.phone,
        "a telephone number",
    );
    required(
        &mut v,
        "counter_notice.statement",
        &cn.statement,
        "a statement of why the removal was a mistake or misidentification",
    );
    required(
        &mut v,
        "counter_notice.signature",
        &cn.signature,
        "a signature",
    );
    line(&mut v, "counter_notice.name", &cn.name, limits::NAME);
    text(
        &mut v,
        "counter_notice.postal_address",
        &cn.postal_address,
        limits::POSTAL_ADDRESS,
    );
    line(&mut v, "counter_notice.phone", &cn.phone, limits::PHONE);
    line(
        &mut v,
        "counter_notice.signature",
        &cn.signature,
        limits::NAME,
    );
    text(
        &mut v,
        "counter_notice.statement",
        &cn.statement,
        limits::TEXT,
    );
    if regime == Regime::Dmca && !cn.consent_to_jurisdiction {
        v.push(FieldViolation::new(
            "counter_notice.consent_to_jurisdiction",
            "a DMCA counter-notice must consent to the jurisdiction of the federal court",
        ));
    }
    v
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

pub fn legal_action(authority: &str, case_reference: &str, filed_date: &str) -> Violations {
    let mut v = Vec::new();
    required(
        &mut v,
        "authority",
        authority,
        "the court or authority seized",
    );
    required(
        &mut v,
        "case_reference",
        case_reference,
        "the case reference",
    );
    line(&mut v, "authority", authority, limits::REFERENCE);
    line(&mut v, "case_reference", case_reference, limits::REFERENCE);
    if !is_date(filed_date) {
        v.push(FieldViolation::new(
            "filed_date",
            if filed_date.len() <= 32 {
                format!("{filed_date:?} is not a date; send YYYY-MM-DD")
            } else {
                "not a date; send YYYY-MM-DD".to_string()
            },
        ));
    }
    v
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

/// An article as the CMS registers it.
pub fn article(a: Option<&pb::Article>) -> Violations {
    let mut v = Vec::new();
    let Some(a) = a else {
        v.push(FieldViolation::new("article", "the article is required"));
        return v;
    };
    if !is_article_id(&a.id) {
        v.push(FieldViolation::new(
            "article.id",
            "must be 1-128 letters, digits or . _ : / -",
        ));
    }
    url(&mut v, "article.url", &a.url);
    line(&mut v, "article.title", &a.title, limits::TITLE);
    line(&mut v, "article.source", &a.source, limits::URL);
    if ContentOrigin::try_from(a.content_origin).unwrap_or(ContentOrigin::Unspecified)
        == ContentOrigin::Unspecified
    {
        v.push(FieldViolation::new(
            "article.content_origin",
            "choose CONTENT_ORIGIN_EDITORIAL, CONTENT_ORIGIN_CONTRIBUTED or CONTENT_ORIGIN_COMMENT",
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

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
