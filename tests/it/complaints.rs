//! Complaints against decisions (DSA Art. 20): either party may complain within the
//! window; the claim is reviewed again by another reviewer; the article stays as the
//! decision left it until then; a changed decision counts as a reversal.

use std::time::Duration;

use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, assert_state, decide_request, error_info};
use crate::common::{TestServer, code};
use takedown::pb::{self, ClaimState, DecisionOutcome, Regime, Role};
use tonic::Code;

const DAY: Duration = Duration::from_secs(86_400);

fn complaint(c: &pb::Claim, text: &str) -> pb::FileComplaintRequest {
    pb::FileComplaintRequest {
        claim_id: c.id.clone(),
        etag: String::new(),
        text: text.to_string(),
    }
}

async fn decided(flow: &Flow, outcome: DecisionOutcome) -> pb::Claim {
    let c = flow.file(fixtures::notice(ARTICLE_ID, Regime::Dsa)).await;
    let c = flow.start_review(&c).await;
    flow.decide(&c, outcome).await
}

#[tokio::test]
async fn a_rejected_claimant_complains_and_a_second_reviewer_deletes() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (_, second_token) = s.principal("Second reviewer", &[Role::Reviewer]).await;
    let mut second = s.review(&second_token).await;
    let c = decided(&flow, DecisionOutcome::Reject).await;

    s.clock.advance(10 * DAY);
    let c = flow
        .claimant()
        .file_complaint(complaint(&c, "The photograph is ours; see the archive."))
        .await
        .expect("complaint")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&c, ClaimState::UnderReview);
    assert_eq!(c.complaints.len(), 1);
    assert!(c.assignee.is_empty());
    assert!(
        flow.seed_available().await,
        "the rejection stands until decided again"
    );

    // The reviewer who rejected may not decide the complaint.
    let e = flow
        .review()
        .decide_claim(decide_request(&c, DecisionOutcome::Reject))
        .await
        .expect_err("same reviewer");
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(error_info(&e).0, "SAME_REVIEWER");

    let c = second
        .decide_claim(decide_request(&c, DecisionOutcome::Delete))
        .await
        .expect("second reviewer decides")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&c, ClaimState::Deleted);
    let x = &c.complaints[0];
    assert!(x.decision_changed, "a reversal");
    assert_eq!(x.new_outcome, DecisionOutcome::Delete as i32);
    assert!(x.resolve_time.is_some());
    assert_eq!(
        x.previous_decision.as_ref().map(|d| d.outcome),
        Some(DecisionOutcome::Reject as i32)
    );
    assert!(!flow.seed_available().await);
    let actions: Vec<String> = flow
        .claim_audit(&c.id)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "FileClaim",
            "StartReview",
            "DecideClaim",
            "FileComplaint",
            "DecideClaim"
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn the_publisher_complains_about_a_deletion_and_gets_the_article_back() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (_, second_token) = s.principal("Second reviewer", &[Role::Reviewer]).await;
    let c = decided(&flow, DecisionOutcome::Delete).await;
    assert!(!flow.seed_available().await);
    let c = s
        .claims(&flow.desk.publisher)
        .await
        .file_complaint(complaint(&c, "Republished under licence."))
        .await
        .expect("publisher may complain")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&c, ClaimState::UnderReview);
    assert!(
        !flow.seed_available().await,
        "the deletion stands while under review"
    );
    let c = s
        .review(&second_token)
        .await
        .decide_claim(decide_request(&c, DecisionOutcome::Reject))
        .await
        .expect("decide")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&c, ClaimState::Rejected);
    assert!(flow.seed_available().await, "the reversal brings it back");
    s.stop().await;
}

#[tokio::test]
async fn the_same_decision_again_is_no_reversal() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let (_, second_token) = s.principal("Second reviewer", &[Role::Reviewer]).await;
    let c = decided(&flow, DecisionOutcome::Reject).await;
    let c = flow
        .claimant()
        .file_complaint(complaint(&c, "Please look again."))
        .await
        .expect("complaint")
        .into_inner()
        .claim
        .expect("claim");
    let c = s
        .review(&second_token)
        .await
        .decide_claim(decide_request(&c, DecisionOutcome::Reject))
        .await
        .expect("decide")
        .into_inner()
        .claim
        .expect("claim");
    assert!(!c.complaints[0].decision_changed);
    s.stop().await;
}

#[tokio::test]
async fn complaints_close_six_months_after_the_decision() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = decided(&flow, DecisionOutcome::Reject).await;
    s.clock.advance(183 * DAY);
    let e = flow
        .claimant()
        .file_complaint(complaint(&c, "Too late."))
        .await
        .expect_err("window closed");
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(error_info(&e).0, "COMPLAINT_WINDOW_CLOSED");
    assert_state(&flow.get(&c.id).await, ClaimState::Rejected);
    s.stop().await;
}

#[tokio::test]
async fn who_may_complain_and_when() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = decided(&flow, DecisionOutcome::Reject).await;
    // Another claimant does not see the claim at all.
    assert_eq!(
        code(
            flow.other_claimant()
                .file_complaint(complaint(&c, "me too"))
                .await
        ),
        Code::NotFound
    );
    // Reviewers decide complaints; they do not file them.
    assert_eq!(
        code(
            flow.reviewer_claims()
                .file_complaint(complaint(&c, "hm"))
                .await
        ),
        Code::PermissionDenied
    );
    // A complaint needs a text.
    assert_eq!(
        code(flow.claimant().file_complaint(complaint(&c, " ")).await),
        Code::InvalidArgument
    );
    // An undecided claim has nothing to complain about.
    let open = flow.file_claim().await;
    let e = flow
        .claimant()
        .file_complaint(complaint(&open, "early"))
        .await
        .expect_err("not decided");
    assert_eq!(
        error_info(&e),
        ("INVALID_TRANSITION".into(), "CLAIM_STATE_RECEIVED".into())
    );
    s.stop().await;
}
