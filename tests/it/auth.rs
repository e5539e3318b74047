//! Bearer tokens and the role table: missing, unknown, malformed and revoked tokens,
//! and more than one `authorization` header, are UNAUTHENTICATED; a role that may not call an RPC is PERMISSION_DENIED; every RPC of
//! the descriptor set has a row in the table.

use std::collections::BTreeSet;

use crate::common::fixtures;
use crate::common::flow::Flow;
use crate::common::{Bearer, TestServer};
use prost::Message;
use takedown::pb::{self, Role, claim_service_client::ClaimServiceClient};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;

fn list_request() -> pb::ListClaimsRequest {
    pb::ListClaimsRequest::default()
}

#[tokio::test]
async fn two_authorization_headers_are_unauthenticated_even_when_both_are_valid() {
    let s = TestServer::start().await;
    let (_, other_admin) = s.principal("Second admin", &[Role::Admin]).await;
    let mut claims = ClaimServiceClient::new(s.channel().await);
    for second in [&s.admin_token, &other_admin] {
        let mut request = tonic::Request::new(list_request());
        for token in [&s.admin_token, second] {
            let value = format!("Bearer {token}").parse().expect("ascii");
            request.metadata_mut().append("authorization", value);
        }
        let e = claims
            .list_claims(request)
            .await
            .expect_err("two authorization headers");
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        assert!(
            e.message().contains("more than one authorization header"),
            "{e:?}"
        );
    }
    // One of them alone is fine.
    let mut request = tonic::Request::new(list_request());
    let value = format!("Bearer {}", s.admin_token).parse().expect("ascii");
    request.metadata_mut().insert("authorization", value);
    claims.list_claims(request).await.expect("one header");
    s.stop().await;
}

#[tokio::test]
async fn missing_unknown_and_malformed_tokens_are_unauthenticated() {
    let s = TestServer::start().await;
    let e = s
        .anonymous_claims()
        .await
        .list_claims(list_request())
        .await
        .expect_err("no token");
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(e.message().contains("Bearer"), "says what to send: {e:?}");

    let e = s
        .claims("tdk_0000000000000000000000000000000000000000000000000000000000000000")
        .await
        .list_claims(list_request())
        .await
        .expect_err("unknown token");
    assert_eq!(e.code(), Code::Unauthenticated);

    let basic = Bearer(Some("Basic dXNlcjpwYXNz".parse().unwrap()));
    let e = ClaimServiceClient::new(InterceptedService::new(s.channel().await, basic))
        .list_claims(list_request())
        .await
        .expect_err("not a bearer token");
    assert_eq!(e.code(), Code::Unauthenticated);
    s.stop().await;
}

#[tokio::test]
async fn health_is_public() {
    let s = TestServer::start().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(s.channel().await);
    let r = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health needs no token")
        .into_inner();
    assert_eq!(
        r.status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );
    s.stop().await;
}

#[tokio::test]
async fn a_revoked_principal_is_locked_out_on_the_next_request() {
    let s = TestServer::start().await;
    let (id, token) = s.principal("Departing agent", &[Role::Claimant]).await;
    let mut client = s.claims(&token).await;
    client
        .list_claims(list_request())
        .await
        .expect("works before");

    let revoked = s
        .admin(&s.admin_token)
        .await
        .revoke_principal(pb::RevokePrincipalRequest {
            principal_id: id.clone(),
        })
        .await
        .expect("revoke")
        .into_inner()
        .principal
        .expect("principal");
    assert!(revoked.revoked);
    assert!(revoked.revoke_time.is_some());

    // Same connection, next request.
    let e = client
        .list_claims(list_request())
        .await
        .expect_err("revoked");
    assert_eq!(e.code(), Code::Unauthenticated);

    let listed = s
        .admin(&s.admin_token)
        .await
        .list_principals(pb::ListPrincipalsRequest::default())
        .await
        .expect("list principals")
        .into_inner()
        .principals;
    let p = listed.iter().find(|p| p.id == id).expect("still listed");
    assert!(p.revoked);
    s.stop().await;
}

#[tokio::test]
async fn tokens_are_shown_once_and_distinct() {
    let s = TestServer::start().await;
    let (_, a) = s.principal("A", &[Role::Claimant]).await;
    let (_, b) = s.principal("B", &[Role::Claimant]).await;
    assert_ne!(a, b);
    assert!(a.len() >= 32, "long random tokens");
    assert_ne!(a, s.admin_token);
    s.stop().await;
}

#[tokio::test]
async fn a_role_that_may_not_call_an_rpc_is_permission_denied() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;

    let e = s
        .review(&flow.desk.claimant)
        .await
        .start_review(pb::StartReviewRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
        })
        .await
        .expect_err("claimant reviews");
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(
        e.message().contains("ROLE_REVIEWER"),
        "names the role: {e:?}"
    );

    let e = s
        .claims(&flow.desk.publisher)
        .await
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(fixtures::dmca_notice()),
        })
        .await
        .expect_err("publisher files a claim");
    assert_eq!(e.code(), Code::PermissionDenied);

    let e = s
        .publisher(&flow.desk.claimant)
        .await
        .file_counter_notice(pb::FileCounterNoticeRequest {
            claim_id: c.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("claimant counter-notices");
    assert_eq!(e.code(), Code::PermissionDenied);

    let e = s
        .audit(&flow.desk.claimant)
        .await
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect_err("claimant audits");
    assert_eq!(e.code(), Code::PermissionDenied);

    let e = s
        .admin(&flow.desk.reviewer)
        .await
        .create_principal(pb::CreatePrincipalRequest {
            display_name: "Me, again".into(),
            roles: vec![Role::Admin as i32],
            ..Default::default()
        })
        .await
        .expect_err("reviewer makes an admin");
    assert_eq!(e.code(), Code::PermissionDenied);

    let e = s
        .publisher(&flow.desk.auditor)
        .await
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::seed_article()),
        })
        .await
        .expect_err("auditor edits articles");
    assert_eq!(e.code(), Code::PermissionDenied);

    let e = s
        .review(&flow.desk.publisher)
        .await
        .decide_claim(crate::common::flow::decide_request(
            &c,
            pb::DecisionOutcome::Delete,
        ))
        .await
        .expect_err("publisher decides");
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(flow.seed_available().await);
    s.stop().await;
}

#[tokio::test]
async fn create_principal_validates_its_request() {
    let s = TestServer::start().await;
    let e = s
        .admin(&s.admin_token)
        .await
        .create_principal(pb::CreatePrincipalRequest {
            display_name: " ".into(),
            roles: vec![],
            ..Default::default()
        })
        .await
        .expect_err("no name, no roles");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        crate::common::flow::violated_fields(&e),
        ["display_name", "roles"]
    );
    s.stop().await;
}

/// Every `/takedown.v1.Service/Method` in the compiled descriptor set.
fn rpcs_in_descriptor_set() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET)
        .expect("descriptor set decodes");
    let mut rpcs = BTreeSet::new();
    for file in set.file {
        if file.package() != "takedown.v1" {
            continue;
        }
        for service in &file.service {
            for method in &service.method {
                rpcs.insert(format!("/takedown.v1.{}/{}", service.name(), method.name()));
            }
        }
    }
    rpcs
}

#[test]
fn every_rpc_has_exactly_one_row_in_the_access_table() {
    let rpcs = rpcs_in_descriptor_set();
    assert!(rpcs.len() >= 20, "found the services: {rpcs:?}");
    let table: Vec<&str> = takedown::api::auth::ACCESS
        .iter()
        .map(|(p, _)| *p)
        .collect();
    let rows: BTreeSet<String> = table.iter().map(|p| p.to_string()).collect();
    assert_eq!(rows.len(), table.len(), "no RPC has two rows");

    let missing: Vec<&String> = rpcs.difference(&rows).collect();
    assert!(missing.is_empty(), "RPCs nobody may call: {missing:?}");
    let stale: Vec<&String> = rows.difference(&rpcs).collect();
    assert!(stale.is_empty(), "rows naming no RPC: {stale:?}");

    for (path, roles) in takedown::api::auth::ACCESS {
        assert!(!roles.is_empty(), "{path} is open to some role");
        assert!(roles.contains(&Role::Admin), "admins may call {path}");
    }
}
