//! The mapping of a restriction to the database's statement, checked field by field
//! and against the stand-in's rules (`testkit::dsa_tdb::violations`).

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::*;
use crate::pb::{self, AutomatedDecision, ClaimState, DecisionOutcome, Regime};
use crate::testkit::dsa_tdb::violations;
use crate::testkit::fixtures;

fn day(n: u64) -> SystemTime {
    fixtures::start_time() + Duration::from_secs(86_400 * n)
}

/// The fixture notice as decided `outcome` with the fixture statement.
fn decided(outcome: DecisionOutcome) -> pb::Claim {
    let mut c = fixtures::notice(fixtures::ARTICLE_ID, Regime::Dsa);
    c.id = "0190a1b2-0000-7000-8000-000000000001".to_string();
    c.create_time = Some(fixtures::start_time().into());
    c.state = match outcome {
        DecisionOutcome::Delete => ClaimState::Deleted,
        _ => ClaimState::CorrectionPending,
    } as i32;
    c.decision = Some(pb::Decision {
        outcome: outcome as i32,
        statement_of_reasons: Some(fixtures::reasons()),
        decide_time: Some(day(1).into()),
        reviewer: "reviewer-1".to_string(),
        ..Default::default()
    });
    c
}

fn entry(action: AuditAction, from: ClaimState, to: ClaimState) -> pb::AuditEntry {
    pb::AuditEntry {
        action: action.as_str().to_string(),
        from_state: from as i32,
        to_state: to as i32,
        ..Default::default()
    }
}

#[test]
fn a_deletion_maps_every_field() {
    let c = decided(DecisionOutcome::Delete);
    let article = fixtures::seed_article();
    let s = statement(Restriction::Removal, &c, Some(&article), 42, day(1));
    assert_eq!(
        s,
        json!({
            "puid": "takedown-0190a1b2-0000-7000-8000-000000000001-42",
            "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "illegal_content_legal_ground": "17 U.S.C. 512(c)",
            "illegal_content_explanation": "The text matches the original and no licence is on file.",
            "category": "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            "category_specification": ["KEYWORD_COPYRIGHT_INFRINGEMENT"],
            "content_type": ["CONTENT_TYPE_TEXT"],
            "content_date": "2024-01-15",
            "application_date": "2024-01-16",
            "end_date_visibility_restriction": null,
            "decision_facts": "The article reproduces the claimant's report verbatim without licence.",
            "source_type": "SOURCE_ARTICLE_16",
            "automated_detection": "No",
            "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
            "territorial_scope": EU_EEA,
        })
    );
    assert_eq!(violations(&s), Default::default());
}

#[test]
fn a_correction_says_what_it_asks_and_passes() {
    let mut c = decided(DecisionOutcome::Correct);
    c.items.push(pb::Item {
        kind: pb::ItemKind::Image as i32,
        locator: "figure 2".to_string(),
        excerpt: String::new(),
    });
    if let Some(d) = c.decision.as_mut() {
        d.items_to_change = vec![1];
    }
    let s = statement(Restriction::Correction, &c, None, 7, day(1));
    assert_eq!(
        s["decision_visibility"],
        json!(["DECISION_VISIBILITY_OTHER"])
    );
    let other = s["decision_visibility_other"].as_str().unwrap();
    assert!(other.contains("claimed item(s) 2 (image)"), "{other}");
    assert!(other.chars().count() <= OTHER_MAX);
    // No article: the claim's create date stands in for the publish date.
    assert_eq!(s["content_date"], "2024-01-15");
    assert_eq!(
        s["content_type"],
        json!(["CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE"])
    );
    assert_eq!(violations(&s), Default::default());
}

#[test]
fn a_system_removal_uses_the_system_statement() {
    let mut c = decided(DecisionOutcome::Correct);
    c.state = ClaimState::Deleted as i32;
    let at = day(9);
    // Journaled before the claim kept it: made from the decision.
    let s = statement(Restriction::SystemRemoval, &c, None, 9, at);
    assert_eq!(
        s["decision_visibility"],
        json!(["DECISION_VISIBILITY_CONTENT_REMOVED"])
    );
    assert_eq!(s["application_date"], "2024-01-24");
    assert_eq!(s["automated_decision"], "AUTOMATED_DECISION_PARTIALLY");
    assert!(
        s["decision_facts"]
            .as_str()
            .unwrap()
            .contains("no correction was recorded"),
        "{s}"
    );
    // Kept on the claim: that one.
    c.system_statement = Some(pb::StatementOfReasons {
        facts: "The window closed.".to_string(),
        ..reasons::system_statement(&c, at)
    });
    let s = statement(Restriction::SystemRemoval, &c, None, 9, at);
    assert_eq!(s["decision_facts"], "The window closed.");
    assert_eq!(violations(&s), Default::default());
}

#[test]
fn trusted_flaggers_scope_automation_and_end_date() {
    let mut c = decided(DecisionOutcome::Delete);
    c.trusted_flagger = true;
    if let Some(sor) = c
        .decision
        .as_mut()
        .and_then(|d| d.statement_of_reasons.as_mut())
    {
        sor.territorial_scope = vec!["de".to_string(), "US".to_string(), "FR".to_string()];
        sor.automated_detection = true;
        sor.automated_decision = AutomatedDecision::Partially as i32;
        sor.restriction_end_time = Some(day(30).into());
    }
    let s = statement(Restriction::Removal, &c, None, 3, day(1));
    assert_eq!(s["source_type"], "SOURCE_TRUSTED_FLAGGER");
    // Only the EU/EEA codes the database knows, in its order.
    assert_eq!(s["territorial_scope"], json!(["DE", "FR"]));
    assert_eq!(s["automated_detection"], "Yes");
    assert_eq!(s["automated_decision"], "AUTOMATED_DECISION_PARTIALLY");
    assert_eq!(s["end_date_visibility_restriction"], "2024-02-14");
    assert_eq!(violations(&s), Default::default());
}

#[test]
fn an_incompatible_content_ground_sends_its_own_pair() {
    let mut c = decided(DecisionOutcome::Delete);
    if let Some(sor) = c
        .decision
        .as_mut()
        .and_then(|d| d.statement_of_reasons.as_mut())
    {
        sor.decision_ground = pb::DecisionGround::IncompatibleContent as i32;
        sor.incompatible_content_ground = "Terms 4.2: no republication without licence".to_string();
        sor.legal_ground.clear();
        sor.incompatible_content_illegal = true;
    }
    let s = statement(Restriction::Removal, &c, None, 3, day(1));
    assert_eq!(s["decision_ground"], "DECISION_GROUND_INCOMPATIBLE_CONTENT");
    assert_eq!(s["incompatible_content_illegal"], "Yes");
    assert!(s.get("illegal_content_legal_ground").is_none());
    assert_eq!(violations(&s), Default::default());
}

#[test]
fn long_texts_are_cut_to_the_database_limits() {
    let mut c = decided(DecisionOutcome::Delete);
    if let Some(sor) = c
        .decision
        .as_mut()
        .and_then(|d| d.statement_of_reasons.as_mut())
    {
        sor.facts = "é".repeat(6_000);
        sor.legal_ground = "§".repeat(700);
        sor.explanation = "x".repeat(2_500);
    }
    let s = statement(Restriction::Removal, &c, None, 3, day(1));
    let len = |k: &str| s[k].as_str().unwrap().chars().count();
    assert_eq!(len("decision_facts"), FACTS_MAX);
    assert_eq!(len("illegal_content_legal_ground"), GROUND_MAX);
    assert_eq!(len("illegal_content_explanation"), EXPLANATION_MAX);
    assert_eq!(violations(&s), Default::default());
}

#[test]
fn no_personal_data_leaves() {
    let mut c = decided(DecisionOutcome::Delete);
    c.counter_notice = Some(fixtures::counter_notice());
    if let Some(sor) = c
        .decision
        .as_mut()
        .and_then(|d| d.statement_of_reasons.as_mut())
    {
        sor.facts = "Shen Chen (rights@legaldaily.example.cn, +86 10 8413 0000, 10 Beisanhuan Rd, Beijing) wrote; Ying Ying answered from someone@else.example."
            .to_string();
    }
    let s = statement(Restriction::Removal, &c, None, 3, day(1)).to_string();
    for personal in [
        "Shen Chen",
        "rights@legaldaily.example.cn",
        "+86 10 8413 0000",
        "Beisanhuan",
        "Ying Ying",
        "someone@else.example",
    ] {
        assert!(!s.contains(personal), "{personal} leaked: {s}");
    }
    assert!(
        s.contains("[redacted] ([redacted], [redacted], [redacted]) wrote"),
        "{s}"
    );
}

#[test]
fn which_entries_are_restrictions() {
    let delete = decided(DecisionOutcome::Delete);
    let correct = decided(DecisionOutcome::Correct);
    let reject = decided(DecisionOutcome::Reject);
    let (u, d, cp) = (
        ClaimState::UnderReview,
        ClaimState::Deleted,
        ClaimState::CorrectionPending,
    );
    let decide = entry(AuditAction::DecideClaim, u, d);
    assert_eq!(
        Restriction::of(&decide, &delete),
        Some(Restriction::Removal)
    );
    assert_eq!(
        Restriction::of(&decide, &correct),
        Some(Restriction::Correction)
    );
    assert_eq!(Restriction::of(&decide, &reject), None);
    let expire = entry(AuditAction::ExpireDeadline, cp, d);
    assert_eq!(
        Restriction::of(&expire, &correct),
        Some(Restriction::SystemRemoval)
    );
    let restore = entry(
        AuditAction::ExpireDeadline,
        ClaimState::CounterNoticed,
        ClaimState::Restored,
    );
    assert_eq!(Restriction::of(&restore, &delete), None);
    let file = entry(
        AuditAction::FileClaim,
        ClaimState::Unspecified,
        ClaimState::Received,
    );
    assert_eq!(Restriction::of(&file, &delete), None);
}
