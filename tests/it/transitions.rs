//! Every path of the claim-state table in `docs/api.md` (except the timed ones and
//! complaints), end to end through gRPC, with the article following its claims.

use crate::common::TestServer;
use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, assert_state, error_info, violated_fields};
use takedown::pb::{self, ArticleStatus, ClaimState, DecisionOutcome, LegalActionOutcome, Role};
use tonic::Code;

#[tokio::test]
async fn reject_leaves_the_article_alone_and_keeps_the_reasons() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;

    let c = flow.file_claim().await;
    let receipt = c
        .next_deadline
        .as_ref()
        .expect("review deadline on the receipt");
    assert_eq!(receipt.kind(), pb::DeadlineKind::Review);
    assert!(c.create_time.is_some() && !c.etag.is_empty());
    let c = flow.start_review(&c).await;
    assert_state(&c, ClaimState::UnderReview);
    assert_eq!(c.assignee, flow.desk.reviewer_id);
    let c = flow.decide(&c, DecisionOutcome::Reject).await;

    assert_state(&c, ClaimState::Rejected);
    let decision = c.decision.expect("decision recorded");
    assert_eq!(decision.outcome(), DecisionOutcome::Reject);
    assert_eq!(decision.reviewer, flow.desk.reviewer_id);
    let reasons = decision.statement_of_reasons.expect("statement of reasons");
    assert_eq!(reasons.facts, fixtures::reasons().facts);
    assert!(
        !reasons.redress.is_empty(),
        "a default redress is filled in"
    );
    let article = flow.article(ARTICLE_ID).await;
    assert!(article.available);
    assert_eq!(article.status(), ArticleStatus::Published);
    assert_eq!(article.revision, 1);
    s.stop().await;
}

#[tokio::test]
async fn correct_then_record_correction_bumps_the_revision() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;

    let c = flow.file_claim().await;
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, DecisionOutcome::Correct).await;
    assert_state(&c, ClaimState::CorrectionPending);
    assert!(flow.seed_available().await, "still up during the window");

    // The CMS claims a revision that is not the next one: refused, nothing changes.
    let wrong = flow
        .publisher()
        .record_correction(pb::RecordCorrectionRequest {
            claim_id: c.id.clone(),
            etag: c.etag.clone(),
            article_revision: 5,
            summary: "Paragraph 1 rewritten".into(),
        })
        .await
        .expect_err("revision 5 is not 1 + 1");
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&wrong), ["article_revision"]);
    assert_state(&flow.get(&c.id).await, ClaimState::CorrectionPending);

    let done = flow
        .publisher()
        .record_correction(pb::RecordCorrectionRequest {
            claim_id: c.id.clone(),
            etag: c.etag.clone(),
            article_revision: 2,
            summary: "Paragraph 1 rewritten".into(),
        })
        .await
        .expect("record correction at revision 2")
        .into_inner();
    let c = done.claim.expect("claim");
    assert_state(&c, ClaimState::Corrected);
    assert_eq!(c.correction.expect("correction").article_revision, 2);
    let article = done.article.expect("article in the response");
    assert_eq!(article.revision, 2);
    assert_eq!(article.status(), ArticleStatus::Corrected);
    assert!(article.available);
    assert_eq!(flow.article(ARTICLE_ID).await, article);
    s.stop().await;
}

#[tokio::test]
async fn a_reviewer_may_record_the_correction_too() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow
        .claim_in(ARTICLE_ID, ClaimState::CorrectionPending)
        .await;
    let (_, reviewer2) = s.principal("Second reviewer", &[Role::Reviewer]).await;
    let done = s
        .publisher(&reviewer2)
        .await
        .record_correction(pb::RecordCorrectionRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
            article_revision: 0,
            summary: "Image 2 replaced".into(),
        })
        .await
        .expect("a reviewer records a correction")
        .into_inner();
    assert_state(&done.claim.expect("claim"), ClaimState::Corrected);
    assert_eq!(done.article.expect("article").revision, 2);
    s.stop().await;
}

#[tokio::test]
async fn delete_takes_the_article_down() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, DecisionOutcome::Delete).await;

    assert_state(&c, ClaimState::Deleted);
    let article = flow.article(ARTICLE_ID).await;
    assert!(!article.available);
    assert_eq!(article.status(), ArticleStatus::Deleted);
    assert_eq!(article.holding_claim_ids, [c.id]);
    s.stop().await;
}

#[tokio::test]
async fn legal_action_upheld_makes_the_deletion_final() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.claim_in(ARTICLE_ID, ClaimState::Deleted).await;

    let c = flow.counter_notice(&c).await;
    assert_state(&c, ClaimState::CounterNoticed);
    let cn = c.counter_notice.clone().expect("counter-notice recorded");
    assert_eq!(cn.name, fixtures::counter_notice().name);
    assert!(cn.file_time.is_some());
    assert!(!flow.seed_available().await, "down while the period runs");

    let c = flow.report_legal_action(&c).await;
    assert_state(&c, ClaimState::LegalActionPending);
    assert_eq!(
        c.legal_action
            .as_ref()
            .expect("legal action")
            .case_reference,
        "3:24-cv-00123"
    );
    assert!(!flow.seed_available().await, "down while the case runs");

    let c = flow.resolve(&c, LegalActionOutcome::Upheld).await;
    assert_state(&c, ClaimState::Deleted);
    assert_eq!(
        c.legal_action.as_ref().expect("legal action").outcome(),
        LegalActionOutcome::Upheld
    );
    assert!(!flow.seed_available().await, "stays deleted");

    // The counter-notice was used: a second one is refused, naming the state.
    let again = flow
        .try_counter_notice(&c)
        .await
        .expect_err("second counter-notice");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let (reason, current) = error_info(&again);
    assert_eq!(reason, "INVALID_TRANSITION");
    assert_eq!(current, "CLAIM_STATE_DELETED");
    // And a final deletion cannot be withdrawn either.
    let w = flow
        .claimant()
        .withdraw_claim(pb::WithdrawClaimRequest {
            claim_id: c.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("final deletion is terminal");
    assert_eq!(w.code(), Code::FailedPrecondition);
    s.stop().await;
}

#[tokio::test]
async fn legal_action_dismissed_restores_the_article() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow
        .claim_in(ARTICLE_ID, ClaimState::LegalActionPending)
        .await;
    assert!(!flow.seed_available().await);

    let c = flow.resolve(&c, LegalActionOutcome::Dismissed).await;
    assert_state(&c, ClaimState::Restored);
    let article = flow.article(ARTICLE_ID).await;
    assert!(article.available);
    assert_eq!(article.status(), ArticleStatus::Published);
    assert!(article.holding_claim_ids.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn request_information_then_amend_returns_to_received() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let c = flow.start_review(&c).await;
    let c = flow
        .request_information(&c, "Which paragraphs exactly, and where is the original?")
        .await;
    assert_state(&c, ClaimState::NeedsInfo);
    assert_eq!(
        c.next_deadline.as_ref().expect("reply deadline").kind(),
        pb::DeadlineKind::InformationReply
    );

    // Only the items change; everything else stays as filed.
    let amendment = pb::Claim {
        items: vec![pb::Item {
            kind: pb::ItemKind::Text as i32,
            locator: "paragraphs 1-3".into(),
            excerpt: "On the afternoon of January 14th ...".into(),
        }],
        ..Default::default()
    };
    let amended = flow
        .claimant()
        .amend_claim(pb::AmendClaimRequest {
            claim_id: c.id.clone(),
            etag: c.etag.clone(),
            claim: Some(amendment),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["items".into()],
            }),
            reply: "Paragraphs 1 to 3; the original is linked.".into(),
        })
        .await
        .expect("amend claim")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&amended, ClaimState::Received);
    assert_eq!(amended.items[0].locator, "paragraphs 1-3");
    assert_eq!(amended.claimant, c.claimant, "unmasked fields kept");
    assert_eq!(amended.signature, c.signature);
    assert!(amended.assignee.is_empty(), "back in the queue");
    assert_eq!(
        amended
            .information_request
            .as_ref()
            .expect("request kept")
            .reply,
        "Paragraphs 1 to 3; the original is linked."
    );

    // Back in the queue: review starts again.
    let c = flow.start_review(&amended).await;
    assert_state(&c, ClaimState::UnderReview);
    s.stop().await;
}

#[tokio::test]
async fn request_information_straight_from_received() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let c = flow
        .request_information(&c, "Please sign the notice.")
        .await;
    assert_state(&c, ClaimState::NeedsInfo);
    s.stop().await;
}

#[tokio::test]
async fn withdraw_from_every_open_state() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    for state in [
        ClaimState::Received,
        ClaimState::NeedsInfo,
        ClaimState::UnderReview,
        ClaimState::CorrectionPending,
        ClaimState::Deleted,
        ClaimState::CounterNoticed,
        ClaimState::LegalActionPending,
    ] {
        let c = flow.claim_in(ARTICLE_ID, state).await;
        let w = flow.withdraw(&c).await;
        assert_state(&w, ClaimState::Withdrawn);
        assert_eq!(
            w.withdrawal.as_ref().expect("withdrawal").reason,
            "Settled with the publisher"
        );
        assert!(
            flow.seed_available().await,
            "withdrawing from {state:?} leaves the article up"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn withdraw_is_refused_once_the_claim_is_closed() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    for state in [
        ClaimState::Rejected,
        ClaimState::Corrected,
        ClaimState::Restored,
        ClaimState::Withdrawn,
    ] {
        let c = flow.claim_in(ARTICLE_ID, state).await;
        let e = flow
            .claimant()
            .withdraw_claim(pb::WithdrawClaimRequest {
                claim_id: c.id.clone(),
                ..Default::default()
            })
            .await
            .expect_err("closed claims cannot be withdrawn");
        assert_eq!(e.code(), Code::FailedPrecondition, "{state:?}");
        assert_eq!(error_info(&e).1, state.as_str_name());
    }
    s.stop().await;
}

#[tokio::test]
async fn two_claims_hold_one_article_until_both_let_go() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let first = flow.claim_in(ARTICLE_ID, ClaimState::Deleted).await;
    let second = flow.claim_in(ARTICLE_ID, ClaimState::Deleted).await;
    let article = flow.article(ARTICLE_ID).await;
    assert_eq!(article.holding_claim_ids.len(), 2);

    flow.withdraw(&first).await;
    let article = flow.article(ARTICLE_ID).await;
    assert!(!article.available, "the second claim still holds it");
    assert_eq!(article.holding_claim_ids, [second.id.as_str()]);

    flow.withdraw(&second).await;
    let article = flow.article(ARTICLE_ID).await;
    assert!(article.available);
    assert_eq!(article.status(), ArticleStatus::Published);
    s.stop().await;
}

#[tokio::test]
async fn batch_get_articles_reflects_availability() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let other = fixtures::article(
        "news-2024-01-16-court",
        "https://news.example.org/2024/01/16",
    );
    flow.register(other.clone()).await;
    flow.claim_in(ARTICLE_ID, ClaimState::Deleted).await;

    let got = flow
        .publisher()
        .batch_get_articles(pb::BatchGetArticlesRequest {
            article_ids: vec![other.id.clone(), ARTICLE_ID.into()],
        })
        .await
        .expect("batch get")
        .into_inner()
        .articles;
    let seen: Vec<(&str, bool)> = got.iter().map(|a| (a.id.as_str(), a.available)).collect();
    assert_eq!(seen, [(other.id.as_str(), true), (ARTICLE_ID, false)]);

    let too_many = flow
        .publisher()
        .batch_get_articles(pb::BatchGetArticlesRequest {
            article_ids: (0..1001).map(|i| format!("a-{i}")).collect(),
        })
        .await
        .expect_err("1001 ids");
    assert_eq!(too_many.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&too_many), ["article_ids"]);

    let unknown = flow
        .publisher()
        .batch_get_articles(pb::BatchGetArticlesRequest {
            article_ids: vec![ARTICLE_ID.into(), "no-such-article".into()],
        })
        .await
        .expect_err("unknown id");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains("no-such-article"), "{unknown:?}");
    s.stop().await;
}
