//! Whole claim lifecycles through the real gRPC API.

use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::Flow;
use crate::common::{Desk, TestServer};
use takedown::pb::{self, ClaimState, DecisionOutcome, LegalActionOutcome};

#[tokio::test]
async fn delete_counter_notice_legal_action_dismissed_restores_the_article() {
    let mut s = TestServer::start().await;
    let desk = Desk::new(&s).await;
    s.publisher(&desk.publisher)
        .await
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::seed_article()),
        })
        .await
        .expect("register article");

    let claim = s
        .claims(&desk.claimant)
        .await
        .file_claim(pb::FileClaimRequest {
            request_id: "req-1".into(),
            claim: Some(fixtures::dmca_notice()),
        })
        .await
        .expect("file claim")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(claim.state(), ClaimState::Received);
    assert_eq!(claim.article_id, ARTICLE_ID);

    let mut review = s.review(&desk.reviewer).await;
    let c = review
        .start_review(pb::StartReviewRequest {
            claim_id: claim.id.clone(),
            etag: claim.etag.clone(),
        })
        .await
        .expect("start review")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(c.state(), ClaimState::UnderReview);
    assert_eq!(c.assignee, desk.reviewer_id);

    let c = review
        .decide_claim(pb::DecideClaimRequest {
            claim_id: claim.id.clone(),
            etag: c.etag.clone(),
            outcome: DecisionOutcome::Delete as i32,
            statement_of_reasons: Some(fixtures::reasons()),
            items_to_change: vec![],
            ..Default::default()
        })
        .await
        .expect("decide")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(c.state(), ClaimState::Deleted);

    let mut publisher = s.publisher(&desk.publisher).await;
    let article = publisher
        .get_article(pb::GetArticleRequest {
            article_id: ARTICLE_ID.into(),
        })
        .await
        .expect("get article")
        .into_inner()
        .article
        .expect("article");
    assert!(!article.available);

    let c = publisher
        .file_counter_notice(pb::FileCounterNoticeRequest {
            claim_id: claim.id.clone(),
            etag: String::new(),
            counter_notice: Some(fixtures::counter_notice()),
        })
        .await
        .expect("counter-notice")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(c.state(), ClaimState::CounterNoticed);

    let c = s
        .claims(&desk.claimant)
        .await
        .report_legal_action(pb::ReportLegalActionRequest {
            claim_id: claim.id.clone(),
            etag: String::new(),
            authority: "US District Court, N.D. Cal.".into(),
            case_reference: "3:24-cv-00123".into(),
            filed_date: "2024-01-20".into(),
        })
        .await
        .expect("report legal action")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(c.state(), ClaimState::LegalActionPending);

    let c = review
        .resolve_legal_action(pb::ResolveLegalActionRequest {
            claim_id: claim.id.clone(),
            etag: String::new(),
            outcome: LegalActionOutcome::Dismissed as i32,
            note: "dismissed".into(),
        })
        .await
        .expect("resolve")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(c.state(), ClaimState::Restored);

    s.restart().await;
    let article = s
        .publisher(&desk.publisher)
        .await
        .get_article(pb::GetArticleRequest {
            article_id: ARTICLE_ID.into(),
        })
        .await
        .expect("get article")
        .into_inner()
        .article
        .expect("article");
    assert!(article.available);
    let verify = s
        .audit(&desk.auditor)
        .await
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verify.ok, "{verify:?}");
    // 5 principals + admin, the article, and 7 claim commands.
    assert_eq!(verify.head_seq, 6 + 1 + 6);
    s.stop().await;
}

/// An auditor checks the log up to a head published earlier: the hash at that seq is
/// the same later, whatever was appended since; a seq past the head is refused.
#[tokio::test]
async fn verify_up_to_an_earlier_head_gives_the_hash_published_then() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    flow.file_claim().await;
    let published = flow.verify().await;
    assert!(published.ok);
    flow.file_claim().await;
    let mut audit = flow.audit();
    let now = audit
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(now.head_seq > published.head_seq);
    assert_ne!(now.head_hash, published.head_hash);
    let then = audit
        .verify_audit_log(pb::VerifyAuditLogRequest {
            up_to_seq: published.head_seq,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(then.ok);
    assert_eq!(then.head_seq, published.head_seq);
    assert_eq!(then.head_hash, published.head_hash);
    // The hex head hash is the entry's hash bytes.
    let entries = flow
        .audit_entries(pb::ListAuditEntriesRequest {
            after_seq: published.head_seq - 1,
            page_size: 1,
            ..Default::default()
        })
        .await;
    assert_eq!(hex::encode(&entries[0].hash), published.head_hash);
    let e = audit
        .verify_audit_log(pb::VerifyAuditLogRequest {
            up_to_seq: now.head_seq + 1,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    s.stop().await;
}
