//! AIP-155 request ids: a retry from the same principal returns the first claim and
//! creates nothing, even when the retries race; and the writer keeps up with many
//! concurrent filers without losing or duplicating anything.

use std::collections::BTreeSet;

use crate::common::fixtures;
use crate::common::flow::Flow;
use crate::common::{Authed, TestServer};
use takedown::pb::{self, Role, claim_service_client::ClaimServiceClient};
use tonic::Code;

fn request(request_id: &str) -> pb::FileClaimRequest {
    pb::FileClaimRequest {
        request_id: request_id.to_string(),
        claim: Some(fixtures::dmca_notice()),
    }
}

async fn file(client: &ClaimServiceClient<Authed>, request_id: &str) -> pb::Claim {
    client
        .clone()
        .file_claim(request(request_id))
        .await
        .expect("file claim")
        .into_inner()
        .claim
        .expect("claim")
}

async fn count_claims(client: &ClaimServiceClient<Authed>) -> usize {
    client
        .clone()
        .list_claims(pb::ListClaimsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .claims
        .len()
}

#[tokio::test]
async fn a_retry_returns_the_first_claim_and_files_nothing() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let first = file(&flow.claimant(), "0b6f3c1e-retry-1").await;
    assert_eq!(first.request_id, "0b6f3c1e-retry-1");
    let head = flow.verify().await.head_seq;

    let retry = file(&flow.claimant(), "0b6f3c1e-retry-1").await;
    assert_eq!(retry.id, first.id);
    assert_eq!(retry, first, "the first response, as it was");

    assert_eq!(count_claims(&flow.reviewer_claims()).await, 1);
    assert_eq!(
        flow.claim_audit(&first.id).await.len(),
        1,
        "one FileClaim entry"
    );
    assert_eq!(flow.verify().await.head_seq, head, "nothing journaled");

    // The same id with an edited notice is not a retry (AIP-155): ALREADY_EXISTS,
    // naming the first claim, and nothing written.
    let mut edited = fixtures::dmca_notice();
    edited.signature = "Someone Else".into();
    let e = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: "0b6f3c1e-retry-1".into(),
            claim: Some(edited),
        })
        .await
        .expect_err("another notice under the same request_id");
    assert_eq!(e.code(), Code::AlreadyExists);
    assert!(e.message().contains(&first.id), "{}", e.message());
    assert_eq!(flow.verify().await.head_seq, head, "nothing journaled");

    // A different request id is a different claim.
    let second = file(&flow.claimant(), "0b6f3c1e-retry-2").await;
    assert_ne!(second.id, first.id);
    assert_eq!(count_claims(&flow.reviewer_claims()).await, 2);
    s.stop().await;
}

#[tokio::test]
async fn the_same_request_id_from_another_principal_is_another_claim() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mine = file(&flow.claimant(), "shared-id").await;
    let theirs = file(&flow.other_claimant(), "shared-id").await;
    assert_ne!(mine.id, theirs.id);
    assert_eq!(theirs.filed_by, flow.desk.other_claimant_id);
    assert_eq!(count_claims(&flow.reviewer_claims()).await, 2);
    s.stop().await;
}

#[tokio::test]
async fn concurrent_retries_create_exactly_one_claim() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let head = flow.verify().await.head_seq;
    let c = flow.claimant();
    let r = "4f1d9a70-race";
    let got = tokio::join!(
        file(&c, r),
        file(&c, r),
        file(&c, r),
        file(&c, r),
        file(&c, r),
        file(&c, r),
        file(&c, r),
        file(&c, r),
        file(&c, r),
        file(&c, r),
    );
    let ids: BTreeSet<String> = [
        got.0, got.1, got.2, got.3, got.4, got.5, got.6, got.7, got.8, got.9,
    ]
    .into_iter()
    .map(|c| c.id)
    .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(count_claims(&flow.reviewer_claims()).await, 1);
    assert_eq!(flow.verify().await.head_seq, head + 1);
    s.stop().await;
}

#[tokio::test]
async fn an_overlong_request_id_is_invalid() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let e = flow
        .claimant()
        .file_claim(request(&"x".repeat(129)))
        .await
        .expect_err("129 characters");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(crate::common::flow::violated_fields(&e), ["request_id"]);
    s.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_claims_from_five_claimants() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let head = flow.verify().await.head_seq;
    let mut claimants = Vec::new();
    for i in 0..5 {
        let (_, token) = s.principal(&format!("Agency {i}"), &[Role::Claimant]).await;
        claimants.push(s.claims(&token).await);
    }
    let head = head + 5;

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let client = claimants[i % 5].clone();
        // Half with request ids, half without: both paths under load.
        let rid = if i % 2 == 0 {
            format!("load-{i}")
        } else {
            String::new()
        };
        tasks.spawn(async move { file(&client, &rid).await });
    }
    let mut ids = BTreeSet::new();
    while let Some(done) = tasks.join_next().await {
        ids.insert(done.expect("task").id);
    }
    assert_eq!(ids.len(), 50, "all distinct");

    let v = flow.verify().await;
    assert_eq!(v.head_seq, head + 50, "one audit entry per write");
    assert_eq!(v.entries_checked, v.head_seq);
    for client in &claimants {
        assert_eq!(count_claims(client).await, 10);
    }
    let all = flow
        .audit_entries(pb::ListAuditEntriesRequest {
            after_seq: head,
            ..Default::default()
        })
        .await;
    let filed: BTreeSet<String> = all.into_iter().map(|e| e.claim_id).collect();
    assert_eq!(filed, ids, "every claim has its entry");
    s.stop().await;
}
