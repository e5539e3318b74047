//! Who sees which claims: claimants their own (others' are NOT_FOUND, for reads and
//! for verbs), publishers all with the claimant's postal address and phone redacted,
//! reviewers, auditors and admins all as filed.

use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, legal_action_request};
use crate::common::{Authed, TestServer};
use takedown::pb::{self, ClaimState, Role, claim_service_client::ClaimServiceClient};
use tonic::Code;

async fn get(client: &ClaimServiceClient<Authed>, id: &str) -> Result<pb::Claim, tonic::Status> {
    client
        .clone()
        .get_claim(pb::GetClaimRequest {
            claim_id: id.to_string(),
        })
        .await
        .map(|r| r.into_inner().claim.expect("claim"))
}

async fn list(client: &ClaimServiceClient<Authed>) -> Vec<pb::Claim> {
    client
        .clone()
        .list_claims(pb::ListClaimsRequest::default())
        .await
        .expect("list claims")
        .into_inner()
        .claims
}

fn ids(claims: &[pb::Claim]) -> Vec<&str> {
    claims.iter().map(|c| c.id.as_str()).collect()
}

#[tokio::test]
async fn a_claimant_sees_only_its_own_claims() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mine = flow.file_claim().await;
    let theirs: Vec<pb::Claim> = {
        let mut v = Vec::new();
        for _ in 0..2 {
            let c = flow
                .other_claimant()
                .file_claim(pb::FileClaimRequest {
                    request_id: String::new(),
                    claim: Some(fixtures::dmca_notice()),
                })
                .await
                .expect("other claimant files")
                .into_inner()
                .claim
                .expect("claim");
            v.push(c);
        }
        v
    };

    assert_eq!(get(&flow.claimant(), &mine.id).await.unwrap(), mine);
    assert_eq!(ids(&list(&flow.claimant()).await), [mine.id.as_str()]);
    assert_eq!(
        ids(&list(&flow.other_claimant()).await),
        ids(&theirs),
        "oldest first"
    );
    assert_eq!(list(&flow.reviewer_claims()).await.len(), 3);

    let e = get(&flow.other_claimant(), &mine.id).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert!(
        !e.message().contains("another"),
        "existence is not leaked: {e:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn another_claimant_cannot_act_on_a_claim() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let other = flow.other_claimant();

    let received = flow.claim_in(ARTICLE_ID, ClaimState::Received).await;
    let e = other
        .clone()
        .withdraw_claim(pb::WithdrawClaimRequest {
            claim_id: received.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("withdraw someone else's claim");
    assert_eq!(e.code(), Code::NotFound);

    let needs_info = flow.claim_in(ARTICLE_ID, ClaimState::NeedsInfo).await;
    let e = other
        .clone()
        .amend_claim(pb::AmendClaimRequest {
            claim_id: needs_info.id.clone(),
            claim: Some(fixtures::dmca_notice()),
            reply: "hijack".into(),
            ..Default::default()
        })
        .await
        .expect_err("amend someone else's claim");
    assert_eq!(e.code(), Code::NotFound);

    let counter_noticed = flow.claim_in(ARTICLE_ID, ClaimState::CounterNoticed).await;
    let e = other
        .clone()
        .report_legal_action(legal_action_request(&counter_noticed))
        .await
        .expect_err("report legal action on someone else's claim");
    assert_eq!(e.code(), Code::NotFound);

    // Nothing moved.
    assert_eq!(flow.get(&received.id).await, received);
    assert_eq!(flow.get(&needs_info.id).await, needs_info);
    assert_eq!(flow.get(&counter_noticed.id).await, counter_noticed);
    s.stop().await;
}

#[tokio::test]
async fn a_publisher_sees_claims_with_contact_details_redacted() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let publisher = s.claims(&flow.desk.publisher).await;

    let seen = get(&publisher, &c.id).await.expect("publisher reads claim");
    let claimant = seen.claimant.as_ref().expect("claimant");
    assert_eq!(claimant.postal_address, "");
    assert_eq!(claimant.phone, "");
    assert_eq!(claimant.email, "rights@legaldaily.example.cn", "email kept");
    assert_eq!(claimant.name, "Shen Chen");
    assert_eq!(seen.works, c.works, "the notice itself is visible");

    let listed = list(&publisher).await;
    assert_eq!(ids(&listed), [c.id.as_str()]);
    let claimant = listed[0].claimant.as_ref().unwrap();
    assert!(claimant.postal_address.is_empty() && claimant.phone.is_empty());

    // The answers to the publisher's own verbs are redacted too.
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, pb::DecisionOutcome::Delete).await;
    let cn = flow.counter_notice(&c).await;
    let claimant = cn.claimant.as_ref().unwrap();
    assert!(claimant.postal_address.is_empty() && claimant.phone.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn reviewers_auditors_and_admins_see_everything_unredacted() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mine = flow.file_claim().await;
    let theirs = flow
        .other_claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(fixtures::dmca_notice()),
        })
        .await
        .expect("file")
        .into_inner()
        .claim
        .expect("claim");

    for token in [&flow.desk.reviewer, &flow.desk.auditor, &s.admin_token] {
        let client = s.claims(token).await;
        let listed = list(&client).await;
        assert_eq!(ids(&listed), [mine.id.as_str(), theirs.id.as_str()]);
        assert_eq!(listed[0], mine);
        let got = get(&client, &theirs.id).await.expect("get");
        assert_eq!(got, theirs);
        assert_eq!(
            got.claimant.unwrap().postal_address,
            "10 Beisanhuan Rd, Beijing"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn an_admin_may_act_for_a_claimant() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let w = s
        .claims(&s.admin_token)
        .await
        .withdraw_claim(pb::WithdrawClaimRequest {
            claim_id: c.id.clone(),
            etag: c.etag.clone(),
            reason: "Claimant asked by phone".into(),
        })
        .await
        .expect("admin withdraws")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(w.state(), ClaimState::Withdrawn);
    s.stop().await;
}

#[tokio::test]
async fn a_claimant_with_two_roles_keeps_its_own_view() {
    // A principal that is both claimant and auditor sees everything (auditor scope).
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    flow.file_claim().await;
    let (_, both) = s
        .principal("Agency with audit duty", &[Role::Claimant, Role::Auditor])
        .await;
    assert_eq!(list(&s.claims(&both).await).await.len(), 1);
    s.stop().await;
}
