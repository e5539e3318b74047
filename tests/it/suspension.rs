//! DSA Art. 23 suspensions and Art. 22 trusted flaggers: a suspended claimant's
//! FileClaim is refused saying until when, the suspension ends by itself, both ends
//! are audited; trusted flaggers' claims go first in the reviewers' queue.

use std::time::Duration;

use crate::common::flow::{Flow, violated_fields};
use crate::common::{TestServer, fixtures, start_time, warn_principal};
use takedown::pb::{self, ClaimState, Role};
use tonic::Code;
use tonic_types::StatusExt;

const DAY: Duration = Duration::from_secs(86_400);

fn timestamp(t: std::time::SystemTime) -> Option<prost_types::Timestamp> {
    Some(t.into())
}

fn suspend(principal_id: &str, days: u64) -> pb::SuspendPrincipalRequest {
    pb::SuspendPrincipalRequest {
        principal_id: principal_id.to_string(),
        reason: "Six manifestly unfounded notices in January after the warning of 2024-01-10"
            .to_string(),
        until: timestamp(start_time() + DAY * days as u32),
    }
}

fn file_request() -> pb::FileClaimRequest {
    pb::FileClaimRequest {
        request_id: String::new(),
        claim: Some(fixtures::dmca_notice()),
    }
}

async fn actions(flow: &Flow) -> Vec<String> {
    flow.audit_entries(pb::ListAuditEntriesRequest::default())
        .await
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn a_suspended_claimant_cannot_file_until_the_suspension_ends() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut admin = s.admin(&s.admin_token).await;
    // A claim filed before the suspension, with a request_id, is answered on retry.
    let before = pb::FileClaimRequest {
        request_id: "before-suspension".into(),
        claim: Some(fixtures::dmca_notice()),
    };
    let first = flow
        .claimant()
        .file_claim(before.clone())
        .await
        .expect("file before")
        .into_inner();

    warn_principal(&s, &flow.desk.claimant_id).await;
    let p = admin
        .suspend_principal(suspend(&flow.desk.claimant_id, 30))
        .await
        .expect("suspend")
        .into_inner()
        .principal
        .expect("principal");
    assert_eq!(p.suspended_until, timestamp(start_time() + 30 * DAY));
    assert!(p.suspension_reason.contains("manifestly unfounded"));

    let e = flow
        .claimant()
        .file_claim(file_request())
        .await
        .expect_err("suspended");
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(
        e.message().contains("2024-02-14T09:00:00Z"),
        "says until when: {e:?}"
    );
    let info = e.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "PRINCIPAL_SUSPENDED");
    assert_eq!(info.metadata["suspended_until"], "2024-02-14T09:00:00Z");

    // Its retry still gets the first answer; reading its claims still works.
    let retry = flow
        .claimant()
        .file_claim(before)
        .await
        .expect("retry of a claim filed before the suspension")
        .into_inner();
    assert_eq!(
        retry.claim.expect("claim").id,
        first.claim.expect("claim").id
    );
    flow.claimant()
        .list_claims(pb::ListClaimsRequest::default())
        .await
        .expect("a suspended claimant still reads its claims");
    // Others are not affected.
    flow.other_claimant()
        .file_claim(file_request())
        .await
        .expect("another claimant files");

    // The suspension ends by itself.
    s.clock.advance(30 * DAY);
    flow.claimant()
        .file_claim(file_request())
        .await
        .expect("files again once the suspension has ended");
    assert!(
        actions(&flow)
            .await
            .contains(&"SuspendPrincipal".to_string())
    );
    s.stop().await;
}

#[tokio::test]
async fn unsuspending_ends_it_early_and_is_audited() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut admin = s.admin(&s.admin_token).await;
    warn_principal(&s, &flow.desk.claimant_id).await;
    admin
        .suspend_principal(suspend(&flow.desk.claimant_id, 30))
        .await
        .expect("suspend");
    // The suspension survives a restart (it is journaled).
    s.restart().await;
    let flow = flow.reconnect(&s).await;
    let mut admin = s.admin(&s.admin_token).await;
    let e = flow
        .claimant()
        .file_claim(file_request())
        .await
        .expect_err("suspended");
    assert_eq!(e.code(), Code::FailedPrecondition);

    let p = admin
        .unsuspend_principal(pb::UnsuspendPrincipalRequest {
            principal_id: flow.desk.claimant_id.clone(),
            reason: "Warning withdrawn on appeal".into(),
        })
        .await
        .expect("unsuspend")
        .into_inner()
        .principal
        .expect("principal");
    assert!(p.suspended_until.is_none());
    flow.claimant()
        .file_claim(file_request())
        .await
        .expect("files after unsuspension");
    let actions = actions(&flow).await;
    assert!(actions.contains(&"SuspendPrincipal".to_string()));
    assert!(actions.contains(&"UnsuspendPrincipal".to_string()));
    flow.verify().await;
    s.stop().await;
}

#[tokio::test]
async fn suspension_requests_are_validated() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut admin = s.admin(&s.admin_token).await;
    let e = admin
        .suspend_principal(pb::SuspendPrincipalRequest {
            principal_id: "not-a-uuid".into(),
            reason: " ".into(),
            until: None,
        })
        .await
        .expect_err("nothing valid");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&e), ["principal_id", "reason", "until"]);

    let mut past = suspend(&flow.desk.claimant_id, 0);
    past.until = timestamp(start_time() - DAY);
    let e = admin
        .suspend_principal(past)
        .await
        .expect_err("in the past");
    assert_eq!(violated_fields(&e), ["until"]);

    let e = admin
        .suspend_principal(suspend(&flow.desk.claimant_id, 10 * 366))
        .await
        .expect_err("ten years");
    assert_eq!(violated_fields(&e), ["until"]);

    let e = admin
        .suspend_principal(suspend(&uuid::Uuid::now_v7().to_string(), 30))
        .await
        .expect_err("unknown principal");
    assert_eq!(e.code(), Code::NotFound);
    s.stop().await;
}

#[tokio::test]
async fn trusted_flaggers_claims_go_first_in_the_review_queue() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut admin = s.admin(&s.admin_token).await;
    let e = admin
        .create_principal(pb::CreatePrincipalRequest {
            display_name: "Not a claimant".into(),
            roles: vec![Role::Reviewer as i32],
            trusted_flagger: true,
            ..Default::default()
        })
        .await
        .expect_err("only claimants flag");
    assert_eq!(violated_fields(&e), ["trusted_flagger"]);
    let trusted = admin
        .create_principal(pb::CreatePrincipalRequest {
            display_name: "Copyright hotline (trusted flagger)".into(),
            roles: vec![Role::Claimant as i32],
            trusted_flagger: true,
            ..Default::default()
        })
        .await
        .expect("trusted flagger")
        .into_inner();
    assert!(trusted.principal.expect("principal").trusted_flagger);

    let early = flow.file_claim().await;
    assert!(!early.trusted_flagger);
    s.clock.advance(Duration::from_secs(60));
    let flagged = s
        .claims(&trusted.token)
        .await
        .file_claim(file_request())
        .await
        .expect("trusted flagger files")
        .into_inner()
        .claim
        .expect("claim");
    assert!(flagged.trusted_flagger);
    let late = flow.file_claim().await;

    // Reviewers: the RECEIVED queue and the unfiltered list, one claim per page so
    // that paging crosses from trusted to other claims.
    for state in [ClaimState::Received, ClaimState::Unspecified] {
        let mut ids = Vec::new();
        let mut req = pb::ListClaimsRequest {
            state: state as i32,
            page_size: 1,
            ..Default::default()
        };
        loop {
            let page = flow
                .reviewer_claims()
                .list_claims(req.clone())
                .await
                .expect("list")
                .into_inner();
            ids.extend(page.claims.into_iter().map(|c| c.id));
            if page.next_page_token.is_empty() {
                break;
            }
            req.page_token = page.next_page_token;
        }
        assert_eq!(
            ids,
            [flagged.id.clone(), early.id.clone(), late.id.clone()],
            "queue order for {state:?}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn a_store_with_the_older_key_layout_is_rebuilt_from_the_journal() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claim = flow.file_claim().await;
    s.restart_with(|dir| {
        // Make sled look like schema 1: no queue index, old version number.
        let db = sled::open(takedown::writer::sled_dir(dir)).expect("sled opens");
        let keys: Vec<_> = db
            .scan_prefix([takedown::store::keyspace::CLAIM_QUEUE])
            .keys()
            .collect::<Result<_, _>>()
            .expect("scan");
        assert!(!keys.is_empty());
        for k in keys {
            db.remove(k).expect("remove");
        }
        db.insert(
            takedown::store::keyspace::SCHEMA_VERSION,
            &1u64.to_be_bytes(),
        )
        .expect("insert");
        db.flush().expect("flush");
    })
    .await;
    let flow = flow.reconnect(&s).await;
    let listed = flow
        .reviewer_claims()
        .list_claims(pb::ListClaimsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .claims;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, claim.id);
    s.stop().await;
}

#[tokio::test]
async fn a_suspended_claimant_cannot_complain_either() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, takedown::pb::DecisionOutcome::Reject).await;
    warn_principal(&s, &flow.desk.claimant_id).await;
    s.admin(&s.admin_token)
        .await
        .suspend_principal(suspend(&flow.desk.claimant_id, 30))
        .await
        .expect("suspend");
    let e = flow
        .claimant()
        .file_complaint(pb::FileComplaintRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
            text: "Please look again.".into(),
        })
        .await
        .expect_err("suspended");
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(
        e.get_details_error_info().map(|i| i.reason).as_deref(),
        Some("PRINCIPAL_SUSPENDED")
    );
    assert!(e.message().contains("complaints"), "{}", e.message());
    // The publisher is not suspended and may still complain.
    s.claims(&flow.desk.publisher)
        .await
        .file_complaint(pb::FileComplaintRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
            text: "Republished under licence.".into(),
        })
        .await
        .expect("publisher complains");
    s.stop().await;
}
