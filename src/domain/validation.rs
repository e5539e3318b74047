//! What a well-formed request is. Each function lists every violation at once, so a
//! caller fixes its notice in one round trip; an empty list means valid.

use crate::pb::{
    self, ContentOrigin, DecisionOutcome, ItemKind, LegalActionOutcome, Regime, Remedy,
};

use super::FieldViolation;

/// Longest free-text field we accept, in bytes.
pub const MAX_TEXT: usize = 20_000;
/// Longest short field (names, ids, urls, references), in bytes.
pub const MAX_SHORT: usize = 2_048;

type Violations = Vec<FieldViolation>;

fn required(v: &mut Violations, field: &str, value: &str, what: &str) {
    if value.trim().is_empty() {
        v.push(FieldViolation::new(field, format!("{what} is required")));
    }
}

fn short(v: &mut Violations, field: &str, value: &str) {
    if value.len() > MAX_SHORT {
        v.push(FieldViolation::new(
            field,
            format!("must be at most {MAX_SHORT} bytes, got {}", value.len()),
        ));
    }
}

fn text(v: &mut Violations, field: &str, value: &str) {
    if value.len() > MAX_TEXT {
        v.push(FieldViolation::new(
            field,
            format!("must be at most {MAX_TEXT} bytes, got {}", value.len()),
        ));
    }
}

/// A plausible e-mail address: one `@` with a local part and a dotted domain.
pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// An absolute http(s) URL with a host.
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// An article id from the CMS: 1-128 of letters, digits and `. _ : / -`.
pub fn is_article_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-'))
}

fn email(v: &mut Violations, field: &str, value: &str) {
    if value.trim().is_empty() {
        v.push(FieldViolation::new(field, "an e-mail address is required"));
    } else if !is_email(value) {
        v.push(FieldViolation::new(
            field,
            format!("{value:?} is not an e-mail address; send one like name@example.org"),
        ));
    }
    short(v, field, value);
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
    if !claim.article_url.is_empty() && !is_http_url(&claim.article_url) {
        v.push(FieldViolation::new(
            "claim.article_url",
            "must be an http(s) URL with a host",
        ));
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
            short(&mut v, "claim.claimant.name", &c.name);
            short(&mut v, "claim.claimant.organization", &c.organization);
            email(&mut v, "claim.claimant.email", &c.email);
            short(&mut v, "claim.claimant.postal_address", &c.postal_address);
            short(&mut v, "claim.claimant.phone", &c.phone);
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
    short(&mut v, "claim.rights_owner", &claim.rights_owner);
    if claim.works.is_empty() {
        v.push(FieldViolation::new(
            "claim.works",
            "identify at least one original work whose rights are claimed",
        ));
    }
    for (i, w) in claim.works.iter().enumerate() {
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
        );
        if !w.original_url.is_empty() && !is_http_url(&w.original_url) {
            v.push(FieldViolation::new(
                format!("claim.works[{i}].original_url"),
                "must be an http(s) URL with a host",
            ));
        }
    }
    if claim.items.is_empty() {
        v.push(FieldViolation::new(
            "claim.items",
            "locate at least one infringing item in the article",
        ));
    }
    for (i, item) in claim.items.iter().enumerate() {
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
        short(&mut v, &format!("claim.items[{i}].locator"), &item.locator);
        text(&mut v, &format!("claim.items[{i}].excerpt"), &item.excerpt);
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
    for (i, e) in claim.evidence.iter().enumerate() {
        required(
            &mut v,
            &format!("claim.evidence[{i}].uri"),
            &e.uri,
            "where the evidence is",
        );
        short(&mut v, &format!("claim.evidence[{i}].uri"), &e.uri);
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
    short(&mut v, "claim.signature", &claim.signature);
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
            text(&mut v, "statement_of_reasons.facts", &r.facts);
            text(&mut v, "statement_of_reasons.explanation", &r.explanation);
            short(&mut v, "statement_of_reasons.legal_ground", &r.legal_ground);
            text(&mut v, "statement_of_reasons.redress", &r.redress);
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
    for (field, value) in [
        ("counter_notice.name", &cn.name),
        ("counter_notice.postal_address", &cn.postal_address),
        ("counter_notice.phone", &cn.phone),
        ("counter_notice.signature", &cn.signature),
    ] {
        short(&mut v, field, value);
    }
    text(&mut v, "counter_notice.statement", &cn.statement);
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
    short(&mut v, "authority", authority);
    short(&mut v, "case_reference", case_reference);
    if !is_date(filed_date) {
        v.push(FieldViolation::new(
            "filed_date",
            format!("{filed_date:?} is not a date; send YYYY-MM-DD"),
        ));
    }
    v
}

pub fn non_empty_text(field: &str, value: &str, what: &str) -> Violations {
    let mut v = Vec::new();
    required(&mut v, field, value, what);
    text(&mut v, field, value);
    v
}

pub fn optional_text(field: &str, value: &str) -> Violations {
    let mut v = Vec::new();
    text(&mut v, field, value);
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
    if !is_http_url(&a.url) {
        v.push(FieldViolation::new(
            "article.url",
            "must be an http(s) URL with a host, such as https://news.example.org/2024/01/15/story",
        ));
    }
    short(&mut v, "article.url", &a.url);
    short(&mut v, "article.title", &a.title);
    short(&mut v, "article.source", &a.source);
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
