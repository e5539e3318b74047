//! A notice as the law asks for it: DMCA 512(c)(3), DSA Art. 16, PRC Civil Code 1195.

use crate::pb::{self, ItemKind, Regime, Remedy};

use super::super::FieldViolation;
use super::*;

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
    evidence_list(&mut v, "claim.evidence", &claim.evidence);
    match regime {
        Regime::Dsa => required(
            &mut v,
            "claim.explanation",
            &claim.explanation,
            "an explanation of why you consider the content illegal (DSA Art. 16(2)(a))",
        ),
        Regime::Dmca if !claim.authority_statement => v.push(FieldViolation::new(
            "claim.authority_statement",
            "set to true to state, under penalty of perjury, that you are the owner of the rights or authorised to act for the owner (17 U.S.C. 512(c)(3)(A)(vi))",
        )),
        _ => {}
    }
    text(
        &mut v,
        "claim.explanation",
        &claim.explanation,
        limits::TEXT,
    );
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
    if !claim.language.is_empty() && language(&claim.language).is_none() {
        v.push(FieldViolation::new(
            "claim.language",
            format!(
                "{:?} is not a language notifications are written in; send \"en\", \"zh-CN\" or leave it empty",
                claim.language
            ),
        ));
    }
    v
}

/// The languages notifications are written in, in their canonical spelling.
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// `text` as one of [`LANGUAGES`], compared without regard to case.
pub fn language(text: &str) -> Option<&'static str> {
    LANGUAGES
        .into_iter()
        .find(|l| l.eq_ignore_ascii_case(text.trim()))
}

/// Each piece of evidence in `list` (under `at`, such as "claim.evidence"): an http(s)
/// URL, an optional SHA-256, a description. A list past `limits::EVIDENCE` is the
/// caller's to report once (`count`); its entries are not checked one by one.
pub fn evidence_list(v: &mut Violations, at: &str, list: &[pb::Evidence]) {
    if list.len() > limits::EVIDENCE {
        return;
    }
    for (i, e) in list.iter().enumerate() {
        let field = format!("{at}[{i}].uri");
        if e.uri.trim().is_empty() {
            required(v, &field, &e.uri, "where the evidence is (an http(s) URL)");
        } else {
            url(v, &field, &e.uri);
        }
        let sha256_ok = e.sha256.len() == 64 && e.sha256.chars().all(|c| c.is_ascii_hexdigit());
        if !e.sha256.is_empty() && !sha256_ok {
            v.push(FieldViolation::new(
                format!("{at}[{i}].sha256"),
                "must be 64 hex digits (or empty)",
            ));
        }
        text(
            v,
            &format!("{at}[{i}].description"),
            &e.description,
            limits::DESCRIPTION,
        );
    }
}

/// Puts every URL of a valid notice in its normal form (`normalize_url`), so that it is
/// stored and compared as one spelling.
pub fn normalize_notice(claim: &mut pb::Claim) {
    let normal = |u: &mut String| {
        if let Some(n) = normalize_url(u) {
            *u = n;
        }
    };
    if let Some(l) = language(&claim.language) {
        claim.language = l.to_string();
    }
    normal(&mut claim.article_url);
    for w in &mut claim.works {
        normal(&mut w.original_url);
    }
    for e in &mut claim.evidence {
        normal(&mut e.uri);
    }
}
