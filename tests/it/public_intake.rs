//! Anyone can send a notice (DSA Art. 16(1)): FileClaim without credentials is
//! accepted while public intake is on, the notifier is named by the notice's e-mail,
//! and the answer carries a claim token that opens that one claim for the calls a
//! notifier may make. Public notices are limited per client address.

use prost::Message;
use takedown::pb::{self, ClaimState, claim_service_client::ClaimServiceClient};
use tonic::Code;

use super::access_matrix::{Shape, call, rpcs_in_descriptor_set};
use crate::common::flow::{Flow, assert_state};
use crate::common::{Authed, TestServer, authed, fixtures};

fn public_notice(request_id: &str) -> pb::FileClaimRequest {
    pb::FileClaimRequest {
        request_id: request_id.to_string(),
        claim: Some(fixtures::dmca_notice()),
    }
}

/// FileClaim with no `authorization` header.
async fn file_publicly(s: &TestServer, req: pb::FileClaimRequest) -> pb::FileClaimResponse {
    ClaimServiceClient::new(s.channel().await)
        .file_claim(req)
        .await
        .expect("a public notice is accepted")
        .into_inner()
}

/// What the server has counted about a party, as an admin reads it.
async fn party_record(s: &TestServer, key: pb::party_key::Key) -> pb::PartyRecord {
    s.admin(&s.admin_token)
        .await
        .get_party_record(pb::GetPartyRecordRequest {
            party: Some(pb::PartyKey { key: Some(key) }),
        })
        .await
        .expect("the party's record")
        .into_inner()
        .record
        .expect("a record")
}

async fn with_token(s: &TestServer, token: &str) -> ClaimServiceClient<Authed> {
    ClaimServiceClient::new(authed(&s.channel().await, token))
}

#[tokio::test]
async fn a_notice_without_an_account_is_filed_and_followed_with_its_token() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let filed = file_publicly(&s, public_notice("public-1")).await;
    let claim = filed.claim.expect("the receipt");
    assert_state(&claim, ClaimState::Received);
    assert!(
        filed.access_token.starts_with("tdk_"),
        "a token, shown once"
    );
    let filer = uuid::Uuid::parse_str(&claim.filed_by).expect("the notifier's id");
    assert_eq!(filer.get_version_num(), 8, "not a principal's id");
    // Counted by its e-mail, not as a principal.
    let by_email = party_record(
        &s,
        pb::party_key::Key::NotifierEmail("Rights@LegalDaily.example.cn".to_string()),
    )
    .await;
    assert_eq!(by_email.notices_filed, 1);

    // The token reads the claim and its timeline.
    let mut notifier = with_token(&s, &filed.access_token).await;
    let got = notifier
        .get_claim(pb::GetClaimRequest {
            claim_id: claim.id.clone(),
        })
        .await
        .expect("the notifier reads its claim")
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(got.id, claim.id);
    assert_eq!(
        got.claimant.as_ref().unwrap().postal_address,
        "10 Beisanhuan Rd, Beijing",
        "its own notice, whole"
    );
    // The desk asks for more; the notifier answers with its token.
    let asked = flow.request_information(&claim, "Which paragraph?").await;
    let events = notifier
        .list_claim_events(pb::ListClaimEventsRequest {
            claim_id: claim.id.clone(),
            ..Default::default()
        })
        .await
        .expect("the timeline")
        .into_inner()
        .events;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["FileClaim", "RequestInformation"]);
    assert_eq!(events[0].actor, claim.filed_by, "its own act");
    assert_eq!(events[0].request_id, "public-1");
    assert_eq!(events[1].actor, "site", "not the reviewer's principal id");
    let amended = notifier
        .amend_claim(pb::AmendClaimRequest {
            claim_id: claim.id.clone(),
            etag: asked.etag.clone(),
            claim: Some(fixtures::dmca_notice()),
            reply: "Paragraph 1.".to_string(),
            ..Default::default()
        })
        .await
        .expect("the notifier amends")
        .into_inner()
        .claim
        .unwrap();
    assert_state(&amended, ClaimState::Received);
    // Staff see the timeline whole.
    let staff = flow
        .reviewer_claims()
        .list_claim_events(pb::ListClaimEventsRequest {
            claim_id: claim.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(staff[1].actor, flow.desk.reviewer_id);

    // Nothing else: not the list of claims, not another claim.
    let e = notifier
        .list_claims(pb::ListClaimsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let other = flow.file_claim().await;
    let e = notifier
        .get_claim(pb::GetClaimRequest {
            claim_id: other.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::NotFound,
        "another claim does not exist for it"
    );
    let e = notifier
        .withdraw_claim(pb::WithdrawClaimRequest {
            claim_id: other.id,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // A retry is the first claim, and does not show the token again.
    let again = file_publicly(&s, public_notice("public-1")).await;
    assert_eq!(again.claim.unwrap().id, claim.id);
    assert!(again.access_token.is_empty());
    // The same e-mail is the same notifier; its second claim has its own token.
    let second = file_publicly(&s, public_notice("public-2")).await;
    let second_claim = second.claim.unwrap();
    assert_eq!(second_claim.filed_by, claim.filed_by);
    assert_ne!(second.access_token, filed.access_token);
    let e = notifier
        .get_claim(pb::GetClaimRequest {
            claim_id: second_claim.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "a token opens its own claim only");
    // The notifier withdraws with its token.
    let withdrawn = notifier
        .withdraw_claim(pb::WithdrawClaimRequest {
            claim_id: claim.id.clone(),
            ..Default::default()
        })
        .await
        .expect("withdraw")
        .into_inner()
        .claim
        .unwrap();
    assert_state(&withdrawn, ClaimState::Withdrawn);
    // The token survives a restart: it is journaled with the claim.
    let mut s = s;
    s.restart().await;
    let mut notifier = with_token(&s, &filed.access_token).await;
    notifier
        .get_claim(pb::GetClaimRequest { claim_id: claim.id })
        .await
        .expect("after a restart");
    s.stop().await;
}

/// Every RPC with a notifier's and with a contributor's claim token: the calls the
/// party may make reach the service; every other one is PERMISSION_DENIED before it
/// does. The RPC list is the compiled descriptor set, so a new RPC is covered.
#[tokio::test]
async fn every_rpc_answers_a_claim_token_as_its_party_may() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let filed = file_publicly(&s, public_notice("")).await;
    let notifier_claim = filed.claim.unwrap().id;
    let mut article = fixtures::article("forum-9", "https://news.example.org/forum/9");
    article.content_origin = pb::ContentOrigin::Comment as i32;
    article.contributor = Some(pb::Contributor {
        account_id: "user-9".to_string(),
        ..Default::default()
    });
    flow.register(article).await;
    let contributed = flow
        .file(fixtures::notice("forum-9", pb::Regime::Dmca))
        .await;
    let contributor_token = flow
        .publisher()
        .issue_party_token(pb::IssuePartyTokenRequest {
            claim_id: contributed.id.clone(),
            party: pb::Party::Contributor as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let notifier_allowed: &[&str] = &[
        "ClaimService/GetClaim",
        "ClaimService/ListClaimEvents",
        "ClaimService/AmendClaim",
        "ClaimService/WithdrawClaim",
        "ClaimService/ReportLegalAction",
        "ClaimService/FileComplaint",
        "ClaimService/GetReceipt",
        "AuditService/GetCheckpoint",
        "AuditService/GetConsistencyProof",
    ];
    let contributor_allowed: &[&str] = &[
        "ClaimService/GetClaim",
        "ClaimService/ListClaimEvents",
        "PublisherService/FileCounterNotice",
        "ClaimService/FileComplaint",
        "ClaimService/GetReceipt",
        "AuditService/GetCheckpoint",
        "AuditService/GetConsistencyProof",
    ];
    let channel = s.channel().await;
    let mut failures = Vec::new();
    for (party, token, claim_id, allowed) in [
        (
            "notifier",
            &filed.access_token,
            &notifier_claim,
            notifier_allowed,
        ),
        (
            "contributor",
            &contributor_token,
            &contributed.id,
            contributor_allowed,
        ),
    ] {
        let header = format!("Bearer {token}");
        failures.extend(check_every_rpc(&channel, &header, claim_id, allowed, party).await);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    s.stop().await;
}

async fn check_every_rpc(
    channel: &tonic::transport::Channel,
    header: &str,
    claim_id: &str,
    allowed: &[&str],
    party: &str,
) -> Vec<String> {
    let mut failures = Vec::new();
    for (rpc, shape) in rpcs_in_descriptor_set() {
        // Field 1 is the claim id in every claim request; for the others the body
        // never reaches a decoder.
        let body = pb::GetClaimRequest {
            claim_id: claim_id.to_string(),
        }
        .encode_to_vec();
        let shape = if shape == Shape::ServerStreaming {
            Shape::ServerStreaming
        } else {
            Shape::Unary
        };
        let got = call(channel, &rpc, shape, Some(header), body).await;
        let reached = !matches!(got.code(), Code::PermissionDenied | Code::Unauthenticated);
        if reached != allowed.contains(&rpc.as_str()) {
            failures.push(format!(
                "{party} {rpc}: {:?} {:?}",
                got.code(),
                got.message()
            ));
        }
    }
    failures
}

#[tokio::test]
async fn public_notices_are_limited_per_address_without_slowing_the_desk() {
    let s = TestServer::start_with(|c| {
        c.limits.public_intake.per_client = takedown::api::limits::RateLimit::per_minute(2, 2);
    })
    .await;
    let flow = Flow::new(&s).await;
    file_publicly(&s, public_notice("")).await;
    file_publicly(&s, public_notice("")).await;
    let e = ClaimServiceClient::new(s.channel().await)
        .file_claim(public_notice(""))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(
        e.message().contains("--public-intake-rate"),
        "{}",
        e.message()
    );
    // A claimant with an account is not held back by the flood.
    flow.file_claim().await;
    s.stop().await;
}

#[tokio::test]
async fn with_public_intake_off_a_notice_needs_an_account() {
    let s = TestServer::start_with(|c| c.limits.public_intake.enabled = false).await;
    let _flow = Flow::new(&s).await;
    let e = ClaimServiceClient::new(s.channel().await)
        .file_claim(public_notice(""))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    s.stop().await;
}

/// A contributed article's author is a party: the CMS issues them a claim token, and
/// with it they read the claim (without the notifier's address and phone) and
/// counter-notify, as the publisher may.
#[tokio::test]
async fn the_contributor_answers_with_the_token_the_cms_issued() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut article = fixtures::article("forum-42", "https://news.example.org/forum/42");
    article.content_origin = pb::ContentOrigin::Contributed as i32;
    article.contributor = Some(pb::Contributor {
        account_id: "user-42".to_string(),
        display_name: "Li Wei".to_string(),
        email: "li.wei@example.org".to_string(),
    });
    flow.register(article).await;
    let claim = flow
        .file(fixtures::notice("forum-42", pb::Regime::Dmca))
        .await;
    assert_eq!(claim.contributor.as_ref().unwrap().account_id, "user-42");
    let claim = flow.start_review(&claim).await;
    let claim = flow.decide(&claim, pb::DecisionOutcome::Delete).await;
    // The upheld claim counts against the contribution's author (DMCA 512(i)).
    let record = party_record(
        &s,
        pb::party_key::Key::ContributorAccountId("user-42".to_string()),
    )
    .await;
    assert_eq!(record.contributions_infringing, 1);

    let issue = |party: pb::Party, claim_id: String| pb::IssuePartyTokenRequest {
        claim_id,
        party: party as i32,
    };
    let first = flow
        .publisher()
        .issue_party_token(issue(pb::Party::Contributor, claim.id.clone()))
        .await
        .expect("the CMS issues the contributor's token")
        .into_inner()
        .access_token;
    let token = flow
        .publisher()
        .issue_party_token(issue(pb::Party::Contributor, claim.id.clone()))
        .await
        .unwrap()
        .into_inner()
        .access_token;
    // A new token replaces the previous one.
    let e = with_token(&s, &first)
        .await
        .get_claim(pb::GetClaimRequest {
            claim_id: claim.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");

    let mut contributor = with_token(&s, &token).await;
    let seen = contributor
        .get_claim(pb::GetClaimRequest {
            claim_id: claim.id.clone(),
        })
        .await
        .expect("the contributor reads the claim")
        .into_inner()
        .claim
        .unwrap();
    let notifier = seen.claimant.unwrap();
    assert!(notifier.postal_address.is_empty() && notifier.phone.is_empty());
    let e = contributor
        .amend_claim(pb::AmendClaimRequest {
            claim_id: claim.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "not a contributor's call");
    let answered = takedown::pb::publisher_service_client::PublisherServiceClient::new(authed(
        &s.channel().await,
        &token,
    ))
    .file_counter_notice(pb::FileCounterNoticeRequest {
        claim_id: claim.id.clone(),
        etag: String::new(),
        counter_notice: Some(fixtures::counter_notice()),
    })
    .await
    .expect("the contributor counter-notifies")
    .into_inner()
    .claim
    .unwrap();
    assert_state(&answered, ClaimState::CounterNoticed);
    assert_eq!(
        answered.counter_notice.unwrap().filed_by,
        "contributor:user-42"
    );

    // A suspended contributor (after a warning, DSA Art. 23) may not answer.
    let contributor_key = || {
        Some(pb::PartyKey {
            key: Some(pb::party_key::Key::ContributorAccountId(
                "user-42".to_string(),
            )),
        })
    };
    let mut admin = s.admin(&s.admin_token).await;
    admin
        .warn_party(pb::WarnPartyRequest {
            party: contributor_key(),
            reason: "Third infringing upload this year.".to_string(),
        })
        .await
        .expect("warn");
    admin
        .suspend_party(pb::SuspendPartyRequest {
            party: contributor_key(),
            reason: "Repeat infringer.".to_string(),
            until: Some(
                (crate::common::start_time() + std::time::Duration::from_secs(30 * 86_400)).into(),
            ),
        })
        .await
        .expect("suspend after the warning");
    let again = flow
        .file(fixtures::notice("forum-42", pb::Regime::Dmca))
        .await;
    let again = flow.start_review(&again).await;
    let again = flow.decide(&again, pb::DecisionOutcome::Delete).await;
    let token = flow
        .publisher()
        .issue_party_token(issue(pb::Party::Contributor, again.id.clone()))
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let e = takedown::pb::publisher_service_client::PublisherServiceClient::new(authed(
        &s.channel().await,
        &token,
    ))
    .file_counter_notice(pb::FileCounterNoticeRequest {
        claim_id: again.id,
        etag: String::new(),
        counter_notice: Some(fixtures::counter_notice()),
    })
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(crate::common::flow::error_info(&e).0, "PARTY_SUSPENDED");

    // Editorial content has no contributor, neither on the article nor as a party.
    let editorial = flow.file_claim().await;
    let e = flow
        .publisher()
        .issue_party_token(issue(pb::Party::Contributor, editorial.id))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(crate::common::flow::error_info(&e).0, "NO_CONTRIBUTOR");
    let mut wrong = fixtures::seed_article();
    wrong.contributor = Some(pb::Contributor {
        account_id: "user-1".to_string(),
        ..Default::default()
    });
    let e = flow
        .publisher()
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(wrong),
        })
        .await
        .unwrap_err();
    assert_eq!(
        crate::common::flow::violated_fields(&e),
        ["article.contributor"]
    );
    s.stop().await;
}

/// DMCA 512(i): the contributor whose contributions are found infringing for the
/// policy's threshold within its window is named once, on the event feed the CMS
/// follows, and counted in the transparency report.
#[tokio::test]
async fn a_repeat_infringer_is_named_on_the_event_feed() {
    let s = TestServer::start_with(|c| c.policy.repeat_infringer.threshold = 2).await;
    let flow = Flow::new(&s).await;
    let mut article = fixtures::article("forum-7", "https://news.example.org/forum/7");
    article.content_origin = pb::ContentOrigin::Comment as i32;
    article.contributor = Some(pb::Contributor {
        account_id: "user-7".to_string(),
        ..Default::default()
    });
    flow.register(article).await;
    for _ in 0..3 {
        let c = flow
            .file(fixtures::notice("forum-7", pb::Regime::Dmca))
            .await;
        let c = flow.start_review(&c).await;
        flow.decide(&c, pb::DecisionOutcome::Correct).await;
    }
    // The CMS follows the feed for the event (a publisher sees it).
    let mut feed = takedown::pb::publisher_service_client::PublisherServiceClient::new(authed(
        &s.channel().await,
        &flow.desk.publisher,
    ))
    .watch_events(pb::WatchEventsRequest {
        after_seq: 0,
        actions: vec!["CONTRIBUTOR_REPEAT_INFRINGER".to_string()],
        ..Default::default()
    })
    .await
    .expect("watch")
    .into_inner();
    // Messages that carry only a checkpoint come between entries.
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let m = feed.message().await.expect("stream").expect("an event");
            if let Some(entry) = m.entry {
                break entry;
            }
        }
    })
    .await
    .expect("the event arrives");
    assert_eq!(event.actor, "system");
    assert!(
        event.detail.contains("contributor user-7"),
        "{}",
        event.detail
    );
    // Once: the third upheld claim does not name them again.
    let report = flow
        .audit()
        .get_transparency_report(pb::GetTransparencyReportRequest::default())
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    assert_eq!(report.repeat_infringers, 1);
    let record = party_record(
        &s,
        pb::party_key::Key::ContributorAccountId("user-7".to_string()),
    )
    .await;
    assert_eq!(record.contributions_infringing, 3);
    assert_eq!(record.infringement_times.len(), 3);
    // The chain covers the event like any entry.
    assert!(flow.verify().await.ok);
    s.stop().await;
}
