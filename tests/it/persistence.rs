//! Restarts: everything acknowledged is still there after a clean restart, and after
//! sled's folder is deleted the journal replay rebuilds all of it.

use crate::common::TestServer;
use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, assert_state};
use takedown::pb::{self, ClaimState, DecisionOutcome, LegalActionOutcome, Role};
use tonic::Code;

const OTHER_ARTICLE: &str = "news-2024-01-16-court";

/// Everything an operator could read back, as of now.
#[derive(Debug, PartialEq)]
struct Snapshot {
    claims: Vec<pb::Claim>,
    articles: Vec<pb::Article>,
    principals: Vec<pb::Principal>,
    audit: Vec<pb::AuditEntry>,
    head_seq: u64,
    head_hash: String,
}

async fn snapshot(s: &TestServer, flow: &Flow) -> Snapshot {
    let mut claims = Vec::new();
    let mut req = pb::ListClaimsRequest {
        page_size: 4,
        ..Default::default()
    };
    loop {
        let page = flow
            .reviewer_claims()
            .list_claims(req.clone())
            .await
            .expect("list claims")
            .into_inner();
        claims.extend(page.claims);
        if page.next_page_token.is_empty() {
            break;
        }
        req.page_token = page.next_page_token;
    }
    let articles = flow
        .publisher()
        .batch_get_articles(pb::BatchGetArticlesRequest {
            article_ids: vec![ARTICLE_ID.into(), OTHER_ARTICLE.into()],
        })
        .await
        .expect("batch get")
        .into_inner()
        .articles;
    let principals = s
        .admin(&s.admin_token)
        .await
        .list_principals(pb::ListPrincipalsRequest::default())
        .await
        .expect("list principals")
        .into_inner()
        .principals;
    let audit = flow.audit_entries(Default::default()).await;
    let v = flow.verify().await;
    Snapshot {
        claims,
        articles,
        principals,
        audit,
        head_seq: v.head_seq,
        head_hash: v.head_hash,
    }
}

/// A day at the desk: every kind of write, across two articles and several claims.
async fn busy_day(s: &TestServer, flow: &Flow) -> Vec<pb::Claim> {
    flow.register(fixtures::article(
        OTHER_ARTICLE,
        "https://news.example.org/2024/01/16",
    ))
    .await;
    let (revoked, _) = s.principal("Temp agency", &[Role::Claimant]).await;
    s.admin(&s.admin_token)
        .await
        .revoke_principal(pb::RevokePrincipalRequest {
            principal_id: revoked,
        })
        .await
        .expect("revoke");
    let mut claims = Vec::new();
    for state in [
        ClaimState::Received,
        ClaimState::NeedsInfo,
        ClaimState::UnderReview,
        ClaimState::CorrectionPending,
        ClaimState::Corrected,
        ClaimState::Rejected,
        ClaimState::CounterNoticed,
        ClaimState::LegalActionPending,
        ClaimState::Restored,
        ClaimState::Withdrawn,
    ] {
        claims.push(flow.claim_in(ARTICLE_ID, state).await);
    }
    // The other article stays down.
    claims.push(flow.claim_in(OTHER_ARTICLE, ClaimState::Deleted).await);
    let retried = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: "persist-1".into(),
            claim: Some(fixtures::notice(OTHER_ARTICLE, pb::Regime::Dsa)),
        })
        .await
        .expect("file with request id")
        .into_inner()
        .claim
        .expect("claim");
    claims.push(retried);
    claims
}

#[tokio::test]
async fn a_restart_keeps_everything() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claims = busy_day(&s, &flow).await;
    let before = snapshot(&s, &flow).await;
    assert_eq!(before.claims.len(), claims.len());
    assert!(!before.articles[1].available);

    s.restart().await;
    let flow = flow.reconnect(&s).await; // the old tokens still work
    let after = snapshot(&s, &flow).await;
    assert_eq!(after, before);

    // Work goes on where it stopped: etags read before the restart still match.
    let under_review = &claims[2];
    assert_state(under_review, ClaimState::UnderReview);
    let decided = flow.decide(under_review, DecisionOutcome::Reject).await;
    assert_state(&decided, ClaimState::Rejected);
    let pending = &claims[7];
    let restored = flow.resolve(pending, LegalActionOutcome::Dismissed).await;
    assert_state(&restored, ClaimState::Restored);
    let v = flow.verify().await;
    assert_eq!(v.head_seq, before.head_seq + 2);

    // A second restart, with writes in between.
    s.restart().await;
    let flow = flow.reconnect(&s).await;
    assert_eq!(flow.verify().await.head_hash, v.head_hash);
    assert_state(&flow.get(&decided.id).await, ClaimState::Rejected);
    s.stop().await;
}

#[tokio::test]
async fn a_revoked_token_stays_revoked_after_a_restart() {
    let mut s = TestServer::start().await;
    let (id, token) = s.principal("Temp agency", &[Role::Claimant]).await;
    s.admin(&s.admin_token)
        .await
        .revoke_principal(pb::RevokePrincipalRequest { principal_id: id })
        .await
        .expect("revoke");
    s.restart().await;
    let e = s
        .claims(&token)
        .await
        .list_claims(pb::ListClaimsRequest::default())
        .await
        .expect_err("revoked");
    assert_eq!(e.code(), Code::Unauthenticated);
    s.stop().await;
}

#[tokio::test]
async fn deleting_sled_rebuilds_everything_from_the_journal() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claims = busy_day(&s, &flow).await;
    let before = snapshot(&s, &flow).await;

    s.restart_with(|dir| {
        let sled = takedown::writer::sled_dir(dir);
        assert!(sled.exists(), "sled lives in {}", sled.display());
        std::fs::remove_dir_all(&sled).expect("remove sled");
    })
    .await;
    let flow = flow.reconnect(&s).await;
    let after = snapshot(&s, &flow).await;
    assert_eq!(after, before);

    // The indexes came back too: filtered lists and per-claim audit entries.
    let deleted = flow
        .reviewer_claims()
        .list_claims(pb::ListClaimsRequest {
            state: ClaimState::Deleted as i32,
            ..Default::default()
        })
        .await
        .expect("list by state")
        .into_inner()
        .claims;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].article_id, OTHER_ARTICLE);
    let mine = flow
        .claimant()
        .list_claims(pb::ListClaimsRequest::default())
        .await
        .expect("claimant's own")
        .into_inner()
        .claims;
    assert_eq!(mine.len(), claims.len());
    assert_eq!(flow.claim_audit(&claims[6].id).await.len(), 4);

    // And the idempotency records: a retry still returns the first claim.
    let retried = flow
        .claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: "persist-1".into(),
            claim: Some(fixtures::notice(OTHER_ARTICLE, pb::Regime::Dsa)),
        })
        .await
        .expect("retry")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(retried.id, claims.last().unwrap().id);
    assert_eq!(flow.verify().await.head_seq, before.head_seq);

    // New writes chain on from the old head.
    let c = flow.file_claim().await;
    let entries = flow.claim_audit(&c.id).await;
    assert_eq!(entries[0].seq, before.head_seq + 1);
    assert_eq!(hex::encode(&entries[0].prev_hash), before.head_hash);
    s.stop().await;
}
