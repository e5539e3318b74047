//! One restriction as the DSA Transparency Database takes it (Art. 24(5)): the JSON
//! object of its `POST /api/v1/statement` (and of each element of `statements` in
//! `POST /api/v1/statements`), built from the journal entry that restricted the
//! content: the claim as that entry left it, its article, and the entry's seq and
//! time. Pure: the exports (`AuditService.ExportStatementsOfReasons`,
//! `takedownctl export dsa-tdb`) and the submission worker call the same
//! [`statement`]. Field by field in `docs/exports.md`.
//!
//! No personal data leaves here: the database is public. The structured fields carry
//! none; the free texts a reviewer wrote have the claim's known names, e-mail
//! addresses, postal addresses and phone numbers, and anything shaped like an e-mail
//! address, replaced by `[redacted]`.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::AuditAction;
use super::reasons::{self, EU_EEA, EXPLANATION_MAX, FACTS_MAX, GROUND_MAX};
use crate::pb::{self, ClaimState, DecisionGround, DecisionOutcome, stored_record::Kind};

/// The database's limit on `puid` and on the `*_other` texts.
pub const PUID_MAX: usize = 500;
pub const OTHER_MAX: usize = 500;
/// The dates the database accepts (`content_date` from 2000, `application_date` from
/// 2020, both until 2038-01-01).
const CONTENT_DATE_MIN: &str = "2000-01-01";
const APPLICATION_DATE_MIN: &str = "2020-01-01";
const DATE_MAX: &str = "2038-01-01";
/// What replaces personal data in free texts.
const REDACTED: &str = "[redacted]";

/// What a journal entry did to the content, if it restricted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    /// A DELETE decision (first, or on a complaint): the article is withdrawn.
    Removal,
    /// A CORRECT decision: the claimed items must change, or the article goes.
    Correction,
    /// The correction window passed without a correction: the system withdrew the
    /// article, under the system statement of reasons.
    SystemRemoval,
}

impl Restriction {
    /// The restriction the entry `audit` made, given the claim as it left it; `None`
    /// for every entry that restricted nothing (filings, rejections, restorations,
    /// deliveries, ...).
    pub fn of(audit: &pb::AuditEntry, claim: &pb::Claim) -> Option<Restriction> {
        let outcome = claim.decision.as_ref().map(|d| d.outcome());
        if audit.action == AuditAction::DecideClaim.as_str() {
            return match outcome {
                Some(DecisionOutcome::Delete) => Some(Restriction::Removal),
                Some(DecisionOutcome::Correct) => Some(Restriction::Correction),
                _ => None,
            };
        }
        let system_removal = audit.action == AuditAction::ExpireDeadline.as_str()
            && audit.from_state == ClaimState::CorrectionPending as i32
            && audit.to_state == ClaimState::Deleted as i32;
        system_removal.then_some(Restriction::SystemRemoval)
    }
}

/// A restriction as one journal entry records it: what it did, the claim and (if the
/// entry changed it) the article as the entry left them, the entry's seq and time.
#[derive(Debug, Clone)]
pub struct Found {
    pub kind: Restriction,
    pub claim: pb::Claim,
    pub article: Option<pb::Article>,
    pub seq: u64,
    pub at: SystemTime,
}

impl Found {
    /// The restriction `entry` made, if it made one.
    pub fn in_entry(entry: &pb::JournalEntry) -> Option<Found> {
        let audit = entry.audit.as_ref()?;
        let mut claim = None;
        let mut article = None;
        for r in &entry.records {
            match &r.kind {
                Some(Kind::Claim(c)) if c.id == audit.claim_id => claim = Some(c.clone()),
                Some(Kind::Article(a)) => article = Some(a.clone()),
                _ => {}
            }
        }
        let claim = claim?;
        let kind = Restriction::of(audit, &claim)?;
        let at = audit
            .time
            .and_then(|t| SystemTime::try_from(t).ok())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Some(Found {
            kind,
            claim,
            article,
            seq: audit.seq,
            at,
        })
    }

    /// Its puid.
    pub fn puid(&self) -> String {
        puid(&self.claim.id, self.seq)
    }

    /// Its statement; `article` stands in when the entry did not change the article.
    pub fn statement(&self, article: Option<&pb::Article>) -> Value {
        let article = self.article.as_ref().or(article);
        statement(self.kind, &self.claim, article, self.seq, self.at)
    }
}

/// The platform unique identifier of the restriction journaled at `seq` on claim
/// `claim_id`: unique per decision, and the same at every export and submission, so
/// that the database refuses a second copy.
pub fn puid(claim_id: &str, seq: u64) -> String {
    format!("takedown-{claim_id}-{seq}")
}

/// The restriction's statement of reasons, with its defaults filled in: the decision's
/// for a decision, the system's for a system removal (made now from the decision if
/// the claim does not carry one, as entries journaled before it was kept do not).
pub fn statement_of_reasons(
    kind: Restriction,
    claim: &pb::Claim,
    at: SystemTime,
) -> pb::StatementOfReasons {
    let given = match kind {
        Restriction::SystemRemoval => claim
            .system_statement
            .clone()
            .unwrap_or_else(|| reasons::system_statement(claim, at)),
        Restriction::Removal | Restriction::Correction => claim
            .decision
            .as_ref()
            .and_then(|d| d.statement_of_reasons.clone())
            .unwrap_or_default(),
    };
    reasons::normalized(&given, claim)
}

/// The database's JSON object for restriction `kind`, journaled at `seq` and time
/// `at` on `claim` (as that entry left it) against `article` (`None` if it is not
/// known: the claim's create date stands in for its publish date).
pub fn statement(
    kind: Restriction,
    claim: &pb::Claim,
    article: Option<&pb::Article>,
    seq: u64,
    at: SystemTime,
) -> Value {
    let sor = statement_of_reasons(kind, claim, at);
    let scrub = |text: &str, max: usize| cut(&redact(text, claim), max);
    let mut s = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        s.insert(k.to_string(), v);
    };
    put("puid", json!(puid(&claim.id, seq)));
    match kind {
        Restriction::Removal | Restriction::SystemRemoval => {
            put(
                "decision_visibility",
                json!(["DECISION_VISIBILITY_CONTENT_REMOVED"]),
            );
        }
        Restriction::Correction => {
            put("decision_visibility", json!(["DECISION_VISIBILITY_OTHER"]));
            put("decision_visibility_other", json!(correction(claim)));
        }
    }
    let ground = DecisionGround::try_from(sor.decision_ground).unwrap_or_default();
    if ground == DecisionGround::IncompatibleContent {
        put("decision_ground", json!(ground.as_str_name()));
        put(
            "incompatible_content_ground",
            json!(scrub(&sor.incompatible_content_ground, GROUND_MAX)),
        );
        put(
            "incompatible_content_explanation",
            json!(scrub(&sor.explanation, EXPLANATION_MAX)),
        );
        put(
            "incompatible_content_illegal",
            json!(yes_no(sor.incompatible_content_illegal)),
        );
    } else {
        put(
            "decision_ground",
            json!(DecisionGround::IllegalContent.as_str_name()),
        );
        put(
            "illegal_content_legal_ground",
            json!(scrub(&sor.legal_ground, GROUND_MAX)),
        );
        put(
            "illegal_content_explanation",
            json!(scrub(&sor.explanation, EXPLANATION_MAX)),
        );
    }
    put("category", json!(sor.category().as_str_name()));
    let keywords: Vec<&str> = sor
        .category_keywords()
        .filter(|k| *k != pb::Keyword::Unspecified)
        .map(|k| k.as_str_name())
        .collect();
    put("category_specification", json!(keywords));
    let types: Vec<&str> = sor
        .content_types()
        .filter(|t| *t != pb::ContentType::Unspecified)
        .map(|t| t.as_str_name())
        .collect();
    if types.contains(&pb::ContentType::Other.as_str_name()) {
        put(
            "content_type_other",
            json!("other content of a hosted article"),
        );
    }
    put("content_type", json!(types));
    let published = article
        .and_then(|a| a.publish_time)
        .or(claim.create_time)
        .and_then(|t| SystemTime::try_from(t).ok())
        .unwrap_or(at);
    put(
        "content_date",
        json!(within(reasons::date(published), CONTENT_DATE_MIN)),
    );
    put(
        "application_date",
        json!(within(reasons::date(at), APPLICATION_DATE_MIN)),
    );
    let end = sor
        .restriction_end_time
        .and_then(|t| SystemTime::try_from(t).ok())
        .map(|t| within(reasons::date(t), APPLICATION_DATE_MIN));
    put("end_date_visibility_restriction", json!(end));
    put("decision_facts", json!(scrub(&sor.facts, FACTS_MAX)));
    put(
        "source_type",
        json!(if claim.trusted_flagger {
            "SOURCE_TRUSTED_FLAGGER"
        } else {
            "SOURCE_ARTICLE_16"
        }),
    );
    put(
        "automated_detection",
        json!(yes_no(sor.automated_detection)),
    );
    put(
        "automated_decision",
        json!(reasons::automated_decision(&sor).as_str_name()),
    );
    put("territorial_scope", json!(territorial_scope(&sor)));
    Value::Object(s)
}

/// The EU/EEA countries the restriction applies in: those of the statement's scope
/// the database knows, or all of them for a worldwide (empty) scope.
pub fn territorial_scope(sor: &pb::StatementOfReasons) -> Vec<&'static str> {
    if sor.territorial_scope.is_empty() {
        return EU_EEA.to_vec();
    }
    EU_EEA
        .iter()
        .copied()
        .filter(|c| {
            sor.territorial_scope
                .iter()
                .any(|s| s.eq_ignore_ascii_case(c))
        })
        .collect()
}

/// `decision_visibility_other` of a CORRECT decision: what the correction asks, with
/// no personal data (items by number and kind, not by excerpt).
fn correction(claim: &pb::Claim) -> String {
    let decision = claim.decision.clone().unwrap_or_default();
    let items = if decision.items_to_change.is_empty() {
        format!("all {} claimed item(s)", claim.items.len())
    } else {
        let named: Vec<String> = decision
            .items_to_change
            .iter()
            .map(|i| {
                let kind = claim
                    .items
                    .get(*i as usize)
                    .map_or("item", |it| match it.kind() {
                        pb::ItemKind::Image => "image",
                        pb::ItemKind::WholeArticle => "whole article",
                        _ => "text passage",
                    });
                format!("{} ({kind})", i + 1)
            })
            .collect();
        format!("claimed item(s) {}", named.join(", "))
    };
    cut(
        &format!(
            "Correction ordered: the publisher must change or remove {items} of the article within the correction window; the article stays available meanwhile and is withdrawn if no correction is recorded in time."
        ),
        OTHER_MAX,
    )
}

fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

/// `date` moved into the database's range [`min`, 2038-01-01] (YYYY-MM-DD compares
/// as text).
fn within(date: String, min: &str) -> String {
    if date.as_str() < min {
        min.to_string()
    } else if date.as_str() > DATE_MAX {
        DATE_MAX.to_string()
    } else {
        date
    }
}

/// `s` cut to at most `max` characters (the database counts characters).
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    s.chars().take(max.saturating_sub(1)).chain(['…']).collect()
}

/// `text` with the personal data of `claim`'s parties replaced: the claimant's,
/// the counter-notifier's and the contributor's names, e-mail addresses, postal
/// addresses and phone numbers, the notice's signature, and any other word shaped
/// like an e-mail address.
pub fn redact(text: &str, claim: &pb::Claim) -> String {
    let mut known: Vec<&str> = Vec::new();
    if let Some(c) = &claim.claimant {
        known.extend([c.name.as_str(), &c.email, &c.postal_address, &c.phone]);
    }
    known.push(&claim.signature);
    if let Some(n) = &claim.counter_notice {
        known.extend([
            n.name.as_str(),
            &n.email,
            &n.postal_address,
            &n.phone,
            &n.signature,
        ]);
    }
    if let Some(c) = &claim.contributor {
        known.extend([c.display_name.as_str(), &c.email]);
    }
    // Longest first, so that a name inside an address goes with the address.
    known.retain(|k| k.trim().chars().count() >= 3);
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    let mut out = text.to_string();
    for k in known {
        out = out.replace(k.trim(), REDACTED);
    }
    out.split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_end();
            let core = bare.trim_matches(|c: char| !c.is_alphanumeric());
            if looks_like_email(core) {
                word.replacen(core, REDACTED, 1)
            } else {
                word.to_string()
            }
        })
        .collect()
}

fn looks_like_email(w: &str) -> bool {
    match w.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.'),
        None => false,
    }
}

#[cfg(test)]
#[path = "dsa_statement_tests.rs"]
mod tests;
