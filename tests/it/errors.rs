//! Errors as the API conventions promise them: the right code, rich details, and a
//! message that says what to do next.

use crate::common::TestServer;
use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, decide_request, error_info, violated_fields};
use takedown::pb::{self, ClaimState, DecisionOutcome};
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn an_empty_notice_lists_every_missing_element() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(pb::Claim::default()),
        })
        .await
        .expect_err("an empty notice");
    assert_eq!(e.code(), Code::InvalidArgument);
    let fields = violated_fields(&e);
    for element in [
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
        assert!(
            fields.iter().any(|f| f == element),
            "{element} in {fields:?}"
        );
    }
    for v in e.get_details_bad_request().unwrap().field_violations {
        assert!(!v.description.is_empty(), "{} says what to send", v.field);
    }
    s.stop().await;
}

#[tokio::test]
async fn missing_claim_and_bad_nested_fields_are_named() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest::default())
        .await
        .expect_err("no claim at all");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&e), ["claim"]);

    let mut notice = fixtures::dmca_notice();
    notice.claimant.as_mut().unwrap().email = "not an address".into();
    notice.items[0].locator.clear();
    notice.evidence[0].sha256 = "abc".into();
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(notice),
        })
        .await
        .expect_err("bad nested fields");
    assert_eq!(
        violated_fields(&e),
        [
            "claim.claimant.email",
            "claim.items[0].locator",
            "claim.evidence[0].sha256"
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn an_unknown_article_is_not_found_by_name() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(fixtures::notice("news-1999-12-31-nothing", pb::Regime::Dsa)),
        })
        .await
        .expect_err("unknown article");
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().contains("news-1999-12-31-nothing"), "{e:?}");

    let mut by_url = fixtures::dmca_notice();
    by_url.article_id.clear();
    by_url.article_url = "https://news.example.org/nowhere".into();
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(by_url),
        })
        .await
        .expect_err("unknown url");
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().contains("https://news.example.org/nowhere"));

    let e = flow
        .publisher()
        .get_article(pb::GetArticleRequest {
            article_id: "news-1999-12-31-nothing".into(),
        })
        .await
        .expect_err("unknown article");
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().contains("news-1999-12-31-nothing"));
    s.stop().await;
}

#[tokio::test]
async fn a_claim_can_be_filed_by_article_url() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut notice = fixtures::dmca_notice();
    notice.article_id.clear();
    notice.article_url = fixtures::ARTICLE_URL.into();
    let c = flow.file(notice).await;
    assert_eq!(c.article_id, ARTICLE_ID);
    s.stop().await;
}

#[tokio::test]
async fn a_transition_not_allowed_now_names_the_current_state() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;

    // Deciding before review started.
    let e = flow
        .review()
        .decide_claim(decide_request(&c, DecisionOutcome::Delete))
        .await
        .expect_err("decide a RECEIVED claim");
    assert_eq!(e.code(), Code::FailedPrecondition);
    let (reason, current) = error_info(&e);
    assert_eq!(reason, "INVALID_TRANSITION");
    assert_eq!(current, "CLAIM_STATE_RECEIVED");
    assert!(
        e.message().contains("StartReview"),
        "says what to do: {e:?}"
    );
    let info = e.get_details_error_info().unwrap();
    assert_eq!(info.domain, "takedown.v1");
    assert_eq!(info.metadata["command"], "DecideClaim");

    // Counter-notice against a claim under review; legal action without one.
    let c = flow.start_review(&c).await;
    let e = flow.try_counter_notice(&c).await.expect_err("not DELETED");
    assert_eq!(error_info(&e).1, "CLAIM_STATE_UNDER_REVIEW");
    let e = flow
        .claimant()
        .report_legal_action(crate::common::flow::legal_action_request(&c))
        .await
        .expect_err("not COUNTER_NOTICED");
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(error_info(&e).1, "CLAIM_STATE_UNDER_REVIEW");

    // Starting review twice.
    let e = flow
        .review()
        .start_review(pb::StartReviewRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
        })
        .await
        .expect_err("already under review");
    assert_eq!(
        error_info(&e),
        (
            "INVALID_TRANSITION".into(),
            "CLAIM_STATE_UNDER_REVIEW".into()
        )
    );

    // Amending a claim nobody asked about.
    let e = flow
        .claimant()
        .amend_claim(pb::AmendClaimRequest {
            claim_id: c.id.clone(),
            claim: Some(fixtures::dmca_notice()),
            ..Default::default()
        })
        .await
        .expect_err("not NEEDS_INFO");
    assert_eq!(error_info(&e).1, "CLAIM_STATE_UNDER_REVIEW");
    assert_eq!(flow.get(&c.id).await.etag, c.etag, "nothing changed");
    s.stop().await;
}

#[tokio::test]
async fn a_stale_etag_is_aborted() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let filed = flow.file_claim().await;
    let reviewed = flow.start_review(&filed).await;
    assert_ne!(filed.etag, reviewed.etag, "each change moves the etag");

    let e = flow
        .review()
        .decide_claim(decide_request(&filed, DecisionOutcome::Reject))
        .await
        .expect_err("decided on the receipt's etag");
    assert_eq!(e.code(), Code::Aborted);
    assert!(e.message().contains("read it again"), "{e:?}");
    assert_eq!(flow.get(&filed.id).await.state(), ClaimState::UnderReview);

    let decided = flow.decide(&reviewed, DecisionOutcome::Reject).await;
    assert_eq!(decided.state(), ClaimState::Rejected);
    s.stop().await;
}

#[tokio::test]
async fn malformed_and_unknown_claim_ids() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let e = flow
        .reviewer_claims()
        .get_claim(pb::GetClaimRequest {
            claim_id: "claim-42".into(),
        })
        .await
        .expect_err("not a uuid");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&e), ["claim_id"]);

    let e = flow
        .review()
        .start_review(pb::StartReviewRequest {
            claim_id: "claim-42".into(),
            etag: String::new(),
        })
        .await
        .expect_err("not a uuid");
    assert_eq!(e.code(), Code::InvalidArgument);

    let unknown = "01900000-0000-7000-8000-000000000000";
    let e = flow
        .reviewer_claims()
        .get_claim(pb::GetClaimRequest {
            claim_id: unknown.into(),
        })
        .await
        .expect_err("no such claim");
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().contains(unknown));
    s.stop().await;
}

#[tokio::test]
async fn negative_page_sizes_are_invalid() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let e = flow
        .reviewer_claims()
        .list_claims(pb::ListClaimsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative page size");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&e), ["page_size"]);

    let e = flow
        .audit()
        .list_audit_entries(pb::ListAuditEntriesRequest {
            page_size: -5,
            ..Default::default()
        })
        .await
        .expect_err("negative page size");
    assert_eq!(violated_fields(&e), ["page_size"]);

    let e = s
        .admin(&s.admin_token)
        .await
        .list_principals(pb::ListPrincipalsRequest {
            page_size: -1,
            page_token: String::new(),
        })
        .await
        .expect_err("negative page size");
    assert_eq!(e.code(), Code::InvalidArgument);
    s.stop().await;
}

#[tokio::test]
async fn a_decision_needs_a_statement_of_reasons() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.claim_in(ARTICLE_ID, ClaimState::UnderReview).await;
    let mut req = decide_request(&c, DecisionOutcome::Delete);
    req.statement_of_reasons = None;
    let e = flow
        .review()
        .decide_claim(req)
        .await
        .expect_err("no reasons");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        violated_fields(&e)
            .iter()
            .any(|f| f.starts_with("statement_of_reasons")),
        "{e:?}"
    );
    assert!(flow.seed_available().await, "nothing was deleted");
    s.stop().await;
}

#[tokio::test]
async fn racing_reviewers_with_one_etag_get_one_winner() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let (_, second) = s.principal("Second reviewer", &[pb::Role::Reviewer]).await;
    let start =
        |mut client: pb::review_service_client::ReviewServiceClient<crate::common::Authed>| {
            let req = pb::StartReviewRequest {
                claim_id: c.id.clone(),
                etag: c.etag.clone(),
            };
            async move { client.start_review(req).await }
        };
    let (a, b) = tokio::join!(start(flow.review()), start(s.review(&second).await));
    let codes = [&a, &b].map(|r| r.as_ref().map(|_| ()).map_err(|e| e.code()));
    assert!(
        codes == [Ok(()), Err(Code::Aborted)] || codes == [Err(Code::Aborted), Ok(())],
        "{codes:?}"
    );
    let winner = a.or(b).unwrap().into_inner().claim.unwrap();
    assert_eq!(flow.get(&c.id).await.assignee, winner.assignee);
    s.stop().await;
}

#[tokio::test]
async fn an_article_url_belongs_to_one_article() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let e = flow
        .publisher()
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::article("news-copy", fixtures::ARTICLE_URL)),
        })
        .await
        .expect_err("url taken");
    assert_eq!(e.code(), Code::AlreadyExists);
    assert!(e.message().contains(ARTICLE_ID), "names the owner: {e:?}");

    // Re-registering the same article unchanged writes nothing.
    let head = flow.verify().await.head_seq;
    flow.register(fixtures::seed_article()).await;
    assert_eq!(flow.verify().await.head_seq, head);
    s.stop().await;
}
