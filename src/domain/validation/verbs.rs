//! The payloads of the workflow's other commands: statements of reasons, decisions,
//! counter-notices, legal actions and articles.

use crate::pb::{self, ContentOrigin, DecisionOutcome, LegalActionOutcome, Regime};

use super::super::FieldViolation;
use super::*;

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
