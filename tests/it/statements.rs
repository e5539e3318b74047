//! The statement of reasons in the DSA database's shape and the elements the statutes
//! name: what a decision keeps (defaults, templates), what it refuses (all at once),
//! the system's statement for a missed correction, and the notice and counter-notice
//! elements of DSA Art. 16, DMCA 512(c)(3) and 512(g)(3), PRC Civil Code 1196.

use std::time::Duration;

use takedown::pb::{
    self, AutomatedDecision, ClaimState, ContentType, DecisionGround, DecisionOutcome, Keyword,
    Regime, StatementCategory,
};

use crate::common::flow::{Flow, assert_state, decide_request, violated_fields};
use crate::common::{TestServer, fixtures};

const DAY: Duration = Duration::from_secs(86_400);

/// A claim of `regime` under review.
async fn under_review(flow: &Flow, regime: Regime) -> pb::Claim {
    let c = flow
        .file(fixtures::notice(fixtures::ARTICLE_ID, regime))
        .await;
    flow.start_review(&c).await
}

async fn decide(
    flow: &Flow,
    c: &pb::Claim,
    outcome: DecisionOutcome,
    reasons: pb::StatementOfReasons,
) -> Result<pb::Claim, tonic::Status> {
    let mut request = decide_request(c, outcome);
    request.statement_of_reasons = Some(reasons);
    flow.review()
        .decide_claim(request)
        .await
        .map(|r| r.into_inner().claim.expect("claim"))
}

#[tokio::test]
async fn a_decision_keeps_its_statement_with_the_databases_defaults() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = under_review(&flow, Regime::Dmca).await;
    let c = decide(&flow, &c, DecisionOutcome::Delete, fixtures::reasons())
        .await
        .expect("decide");
    let kept = c
        .decision
        .and_then(|d| d.statement_of_reasons)
        .expect("statement");
    assert_eq!(kept.decision_ground(), DecisionGround::IllegalContent);
    assert_eq!(
        kept.category(),
        StatementCategory::IntellectualPropertyInfringements
    );
    assert_eq!(
        kept.category_keywords().collect::<Vec<_>>(),
        [Keyword::CopyrightInfringement]
    );
    // The fixture notice names a passage of text.
    assert_eq!(
        kept.content_types().collect::<Vec<_>>(),
        [ContentType::Text]
    );
    assert_eq!(kept.automated_decision(), AutomatedDecision::NotAutomated);
    assert!(!kept.redress.is_empty(), "a default redress");
    s.stop().await;
}

#[tokio::test]
async fn a_bad_statement_is_refused_field_by_field_and_changes_nothing() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = under_review(&flow, Regime::Dsa).await;
    let bad = pb::StatementOfReasons {
        facts: "x".repeat(5_001),
        explanation: String::new(),
        decision_ground: DecisionGround::IncompatibleContent as i32,
        legal_ground: "Art. 3".to_string(),
        territorial_scope: vec!["DE".to_string(), "XX".to_string(), "fr".to_string()],
        category_keywords: vec![Keyword::CopyrightInfringement as i32, 99],
        ..Default::default()
    };
    let e = decide(&flow, &c, DecisionOutcome::Delete, bad)
        .await
        .expect_err("refused");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let mut fields = violated_fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        [
            "statement_of_reasons.category_keywords[1]",
            "statement_of_reasons.explanation",
            "statement_of_reasons.facts",
            "statement_of_reasons.incompatible_content_ground",
            "statement_of_reasons.territorial_scope[1]",
            "statement_of_reasons.territorial_scope[2]",
        ],
        "{e:?}"
    );
    assert_state(&flow.get(&c.id).await, ClaimState::UnderReview);

    // Terms and conditions: the clause is the ground.
    let terms = pb::StatementOfReasons {
        facts: "The photograph is a reader's upload of a press agency picture.".to_string(),
        explanation: "Uploads of third-party press pictures break clause 4.2.".to_string(),
        decision_ground: DecisionGround::IncompatibleContent as i32,
        incompatible_content_ground: "Terms of use, clause 4.2".to_string(),
        territorial_scope: vec!["DE".to_string(), "FR".to_string()],
        ..Default::default()
    };
    let c = decide(&flow, &c, DecisionOutcome::Delete, terms)
        .await
        .expect("a terms-and-conditions ground");
    let kept = c
        .decision
        .and_then(|d| d.statement_of_reasons)
        .expect("kept");
    assert_eq!(kept.territorial_scope, ["DE", "FR"]);
    s.stop().await;
}

#[tokio::test]
async fn a_complaint_is_not_decided_by_a_machine_alone() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = under_review(&flow, Regime::Dsa).await;
    let c = flow.decide(&c, DecisionOutcome::Reject).await;
    let c = flow
        .claimant()
        .file_complaint(pb::FileComplaintRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
            text: "The copy is verbatim; please look again.".to_string(),
        })
        .await
        .expect("complaint")
        .into_inner()
        .claim
        .expect("claim");
    let (_, second) = s.principal("Second reviewer", &[pb::Role::Reviewer]).await;
    let mut review = s.review(&second).await;
    let mut request = decide_request(&c, DecisionOutcome::Delete);
    request.statement_of_reasons = Some(pb::StatementOfReasons {
        automated_decision: AutomatedDecision::Fully as i32,
        ..fixtures::reasons()
    });
    let e = review
        .decide_claim(request.clone())
        .await
        .expect_err("Art. 20(6)");
    assert_eq!(
        violated_fields(&e),
        ["statement_of_reasons.automated_decision"]
    );
    assert!(e.message().contains("20(6)"), "{}", e.message());
    request.statement_of_reasons = Some(pb::StatementOfReasons {
        automated_decision: AutomatedDecision::Partially as i32,
        ..fixtures::reasons()
    });
    let c = review
        .decide_claim(request)
        .await
        .expect("a person decides, helped by a tool")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&c, ClaimState::Deleted);
    s.stop().await;
}

#[tokio::test]
async fn a_reason_template_fills_what_the_reviewer_leaves_empty() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let templates = flow
        .review()
        .list_reason_templates(pb::ListReasonTemplatesRequest {
            regime: Regime::Dmca as i32,
        })
        .await
        .expect("list")
        .into_inner()
        .templates;
    assert_eq!(templates.len(), 1, "{templates:#?}");
    let template = &templates[0];
    let c = under_review(&flow, Regime::Dmca).await;
    let given = pb::StatementOfReasons {
        facts: "Paragraph 1 is the claimant's report, word for word.".to_string(),
        template_id: template.id.clone(),
        ..Default::default()
    };
    let c = decide(&flow, &c, DecisionOutcome::Delete, given)
        .await
        .expect("decide from a template");
    let kept = c
        .decision
        .and_then(|d| d.statement_of_reasons)
        .expect("kept");
    let from = template.statement_of_reasons.clone().expect("template");
    assert_eq!(kept.legal_ground, from.legal_ground);
    assert_eq!(kept.explanation, from.explanation);
    assert_eq!(kept.template_id, template.id);

    // A template of another regime, or none at all, is named in the error.
    let c = under_review(&flow, Regime::Dsa).await;
    let e = decide(
        &flow,
        &c,
        DecisionOutcome::Delete,
        pb::StatementOfReasons {
            facts: "Verbatim copy.".to_string(),
            template_id: template.id.clone(),
            ..Default::default()
        },
    )
    .await
    .expect_err("a DMCA template on a DSA claim");
    assert_eq!(violated_fields(&e), ["statement_of_reasons.template_id"]);
    assert!(
        e.message().contains("dsa-"),
        "lists the DSA ones: {}",
        e.message()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_missed_correction_window_deletes_with_the_systems_statement() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = under_review(&flow, Regime::Dsa).await;
    let c = flow.decide(&c, DecisionOutcome::Correct).await;
    s.clock.advance(5 * DAY);
    s.server
        .as_ref()
        .expect("running")
        .sweep()
        .await
        .expect("sweep");
    let c = flow.get(&c.id).await;
    assert_state(&c, ClaimState::Deleted);
    let system = c.system_statement.expect("a statement for the deletion");
    assert!(
        system.facts.contains("no correction was recorded"),
        "{system:?}"
    );
    assert_eq!(system.legal_ground, fixtures::reasons().legal_ground);
    assert_eq!(system.automated_decision(), AutomatedDecision::Partially);
    s.stop().await;
}

#[tokio::test]
async fn notices_carry_the_elements_each_statute_names() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut dsa = fixtures::notice(fixtures::ARTICLE_ID, Regime::Dsa);
    dsa.explanation.clear();
    let mut dmca = fixtures::notice(fixtures::ARTICLE_ID, Regime::Dmca);
    dmca.authority_statement = false;
    for (notice, field) in [
        (dsa, "claim.explanation"),
        (dmca, "claim.authority_statement"),
    ] {
        let e = flow
            .claimant()
            .file_claim(pb::FileClaimRequest {
                request_id: String::new(),
                claim: Some(notice),
            })
            .await
            .expect_err("refused");
        assert_eq!(violated_fields(&e), [field]);
    }
    // PRC needs neither.
    let mut prc = fixtures::notice(fixtures::ARTICLE_ID, Regime::PrcCivilCode);
    prc.explanation.clear();
    prc.authority_statement = false;
    flow.file(prc).await;
    s.stop().await;
}

#[tokio::test]
async fn a_counter_notice_carries_what_512g3_and_article_1196_ask_all_at_once() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = under_review(&flow, Regime::Dmca).await;
    let c = flow.decide(&c, DecisionOutcome::Delete).await;
    let bare = pb::CounterNotice {
        perjury_statement: false,
        accepts_service_of_process: false,
        removed_material: String::new(),
        ..fixtures::counter_notice()
    };
    let e = flow
        .publisher()
        .file_counter_notice(pb::FileCounterNoticeRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
            counter_notice: Some(bare),
        })
        .await
        .expect_err("refused");
    let mut fields = violated_fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        [
            "counter_notice.accepts_service_of_process",
            "counter_notice.perjury_statement",
            "counter_notice.removed_material",
        ]
    );
    assert_state(&flow.get(&c.id).await, ClaimState::Deleted);

    let c = under_review(&flow, Regime::PrcCivilCode).await;
    let c = flow.decide(&c, DecisionOutcome::Delete).await;
    let e = flow
        .publisher()
        .file_counter_notice(pb::FileCounterNoticeRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
            counter_notice: Some(pb::CounterNotice {
                evidence: Vec::new(),
                ..fixtures::counter_notice()
            }),
        })
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&e), ["counter_notice.evidence"]);
    flow.counter_notice(&c).await;
    s.stop().await;
}
