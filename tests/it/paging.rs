//! AIP-132 lists: ListClaims pages, filters and tokens; ListAuditEntries by claim, by
//! article and after a seq.

use std::collections::BTreeSet;

use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, violated_fields};
use crate::common::{Authed, TestServer};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use takedown::pb::{self, ClaimState, Role, claim_service_client::ClaimServiceClient};
use tonic::{Code, Status};

const OTHER_ARTICLE: &str = "news-2024-01-16-court";

/// Every claim `req` matches, walking pages of `page_size`; also returns the page sizes.
async fn walk(
    client: &ClaimServiceClient<Authed>,
    mut req: pb::ListClaimsRequest,
) -> (Vec<String>, Vec<usize>) {
    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let page = client
            .clone()
            .list_claims(req.clone())
            .await
            .expect("list claims")
            .into_inner();
        sizes.push(page.claims.len());
        ids.extend(page.claims.into_iter().map(|c| c.id));
        if page.next_page_token.is_empty() {
            return (ids, sizes);
        }
        req.page_token = page.next_page_token;
    }
}

async fn first_page_token(
    client: &ClaimServiceClient<Authed>,
    req: pb::ListClaimsRequest,
) -> String {
    let token = client
        .clone()
        .list_claims(req)
        .await
        .expect("first page")
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty(), "there is a second page");
    token
}

async fn list_err(client: &ClaimServiceClient<Authed>, req: pb::ListClaimsRequest) -> Status {
    client
        .clone()
        .list_claims(req)
        .await
        .expect_err("list should fail")
}

fn by_state(state: ClaimState) -> pb::ListClaimsRequest {
    pb::ListClaimsRequest {
        state: state as i32,
        ..Default::default()
    }
}

fn by_article(article_id: &str) -> pb::ListClaimsRequest {
    pb::ListClaimsRequest {
        article_id: article_id.to_string(),
        ..Default::default()
    }
}

#[tokio::test]
async fn pages_of_two_walk_five_claims_once_each() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut filed = Vec::new();
    for _ in 0..5 {
        filed.push(flow.file_claim().await.id);
    }
    let req = pb::ListClaimsRequest {
        page_size: 2,
        ..Default::default()
    };
    for client in [flow.reviewer_claims(), flow.claimant()] {
        let (ids, sizes) = walk(&client, req.clone()).await;
        assert_eq!(ids, filed, "every claim once, oldest first");
        assert_eq!(sizes, [2, 2, 1]);
    }
    // page_size 0 means the default (50): one page.
    let (ids, sizes) = walk(&flow.reviewer_claims(), Default::default()).await;
    assert_eq!((ids.len(), sizes), (5, vec![5]));
    s.stop().await;
}

#[tokio::test]
async fn filters_by_state_article_and_assignee() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    flow.register(fixtures::article(
        OTHER_ARTICLE,
        "https://news.example.org/2024/01/16",
    ))
    .await;
    let (reviewer2_id, reviewer2) = s.principal("Second reviewer", &[Role::Reviewer]).await;
    let mut review2 = s.review(&reviewer2).await;

    let c1 = flow.claim_in(ARTICLE_ID, ClaimState::Deleted).await; // reviewer 1
    let c2 = flow.claim_in(ARTICLE_ID, ClaimState::Received).await;
    let c3 = flow.claim_in(OTHER_ARTICLE, ClaimState::UnderReview).await; // reviewer 1
    let c4 = flow.claim_in(OTHER_ARTICLE, ClaimState::Received).await;
    review2
        .start_review(pb::StartReviewRequest {
            claim_id: c4.id.clone(),
            etag: String::new(),
        })
        .await
        .expect("second reviewer takes c4");
    let c5 = flow.claim_in(ARTICLE_ID, ClaimState::Received).await;

    let reviewer = flow.reviewer_claims();
    let page = |req: pb::ListClaimsRequest| pb::ListClaimsRequest {
        page_size: 1,
        ..req
    };
    let ids = |v: &[&pb::Claim]| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();

    let got = walk(&reviewer, page(by_state(ClaimState::Received)))
        .await
        .0;
    assert_eq!(got, ids(&[&c2, &c5]));
    let got = walk(&reviewer, page(by_state(ClaimState::UnderReview)))
        .await
        .0;
    assert_eq!(got, ids(&[&c3, &c4]));
    let got = walk(&reviewer, by_state(ClaimState::Deleted)).await.0;
    assert_eq!(got, ids(&[&c1]));
    assert!(
        walk(&reviewer, by_state(ClaimState::Rejected))
            .await
            .0
            .is_empty()
    );

    let got = walk(&reviewer, page(by_article(ARTICLE_ID))).await.0;
    assert_eq!(got, ids(&[&c1, &c2, &c5]));
    let got = walk(&reviewer, page(by_article(OTHER_ARTICLE))).await.0;
    assert_eq!(got, ids(&[&c3, &c4]));
    let got = walk(&reviewer, by_article("news-never-claimed")).await.0;
    assert!(got.is_empty());

    let by_assignee = |a: &str| pb::ListClaimsRequest {
        assignee: a.to_string(),
        page_size: 1,
        ..Default::default()
    };
    let got = walk(&reviewer, by_assignee(&flow.desk.reviewer_id)).await.0;
    assert_eq!(got, ids(&[&c1, &c3]));
    let got = walk(&reviewer, by_assignee(&reviewer2_id)).await.0;
    assert_eq!(got, ids(&[&c4]));

    // Filters combine with AND.
    let both = pb::ListClaimsRequest {
        state: ClaimState::Received as i32,
        article_id: ARTICLE_ID.into(),
        page_size: 1,
        ..Default::default()
    };
    assert_eq!(walk(&reviewer, both).await.0, ids(&[&c2, &c5]));
    let both = pb::ListClaimsRequest {
        state: ClaimState::UnderReview as i32,
        assignee: flow.desk.reviewer_id.clone(),
        ..Default::default()
    };
    assert_eq!(walk(&reviewer, both).await.0, ids(&[&c3]));

    // A claimant's filters apply within its own claims.
    flow.other_claimant()
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(fixtures::dmca_notice()),
        })
        .await
        .expect("other claimant files");
    let got = walk(&flow.claimant(), page(by_state(ClaimState::Received)))
        .await
        .0;
    assert_eq!(got, ids(&[&c2, &c5]));
    assert_eq!(
        walk(&reviewer, by_state(ClaimState::Received))
            .await
            .0
            .len(),
        3
    );

    // Bad filter values.
    let e = list_err(
        &reviewer,
        pb::ListClaimsRequest {
            state: 99,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(violated_fields(&e), ["state"]);
    let e = list_err(
        &reviewer,
        pb::ListClaimsRequest {
            assignee: "bob".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(violated_fields(&e), ["assignee"]);
    s.stop().await;
}

#[tokio::test]
async fn a_page_token_only_works_with_its_own_filters() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    for _ in 0..3 {
        flow.file_claim().await;
    }
    let reviewer = flow.reviewer_claims();
    let paged = |req: pb::ListClaimsRequest| pb::ListClaimsRequest {
        page_size: 1,
        ..req
    };

    let received = first_page_token(&reviewer, paged(by_state(ClaimState::Received))).await;
    for other in [
        by_state(ClaimState::Deleted),
        by_article(ARTICLE_ID),
        pb::ListClaimsRequest::default(),
    ] {
        let e = list_err(
            &reviewer,
            pb::ListClaimsRequest {
                page_token: received.clone(),
                ..other.clone()
            },
        )
        .await;
        assert_eq!(e.code(), Code::InvalidArgument, "{other:?}");
        assert_eq!(violated_fields(&e), ["page_token"]);
    }
    let unfiltered = first_page_token(&reviewer, paged(Default::default())).await;
    let e = list_err(
        &reviewer,
        pb::ListClaimsRequest {
            page_token: unfiltered,
            ..by_state(ClaimState::Received)
        },
    )
    .await;
    assert_eq!(e.code(), Code::InvalidArgument);

    // Another claimant cannot continue this claimant's listing.
    let mine = first_page_token(&flow.claimant(), paged(Default::default())).await;
    let e = list_err(
        &flow.other_claimant(),
        pb::ListClaimsRequest {
            page_token: mine,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(e.code(), Code::InvalidArgument);

    let e = list_err(
        &reviewer,
        pb::ListClaimsRequest {
            page_token: "not a token!".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(violated_fields(&e), ["page_token"]);
    s.stop().await;
}

/// The token with one bit flipped in byte `at` of its decoded form.
fn altered(token: &str, at: usize) -> String {
    let mut bytes = URL_SAFE_NO_PAD.decode(token).expect("a token is base64url");
    bytes[at] ^= 1;
    URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn page_tokens_are_signed_with_a_key_that_survives_a_restart() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut filed = Vec::new();
    for _ in 0..3 {
        filed.push(flow.file_claim().await.id);
    }
    let paged = pb::ListClaimsRequest {
        page_size: 1,
        ..Default::default()
    };
    let reviewer = flow.reviewer_claims();
    let token = first_page_token(&reviewer, paged.clone()).await;

    // Every part is signed: the listing's fingerprint, the position, the MAC itself.
    let len = URL_SAFE_NO_PAD.decode(&token).unwrap().len();
    for at in [0, 8, len / 2, len - 1] {
        let e = list_err(
            &reviewer,
            pb::ListClaimsRequest {
                page_token: altered(&token, at),
                ..paged.clone()
            },
        )
        .await;
        assert_eq!(e.code(), Code::InvalidArgument, "byte {at}");
        assert_eq!(violated_fields(&e), ["page_token"]);
        assert!(e.message().contains("restart paging"), "byte {at}: {e:?}");
    }

    // The key: 32 bytes, readable by the server's user only.
    let key_path = s.dir.path().join("page-token.key");
    let meta = std::fs::metadata(&key_path).expect("the key is in the data folder");
    assert_eq!(meta.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let key = std::fs::read(&key_path).unwrap();

    // The key outlives a restart: the token still continues its listing.
    s.restart().await;
    assert_eq!(std::fs::read(&key_path).unwrap(), key, "the same key");
    let flow = flow.reconnect(&s).await;
    let reviewer = flow.reviewer_claims();
    let (rest, _) = walk(
        &reviewer,
        pb::ListClaimsRequest {
            page_token: token.clone(),
            ..paged.clone()
        },
    )
    .await;
    let (all, _) = walk(&reviewer, paged.clone()).await;
    assert_eq!(rest, all[1..], "the second page on, after a restart");
    assert_eq!(
        all.iter().collect::<BTreeSet<_>>(),
        filed.iter().collect::<BTreeSet<_>>()
    );

    // Another server has another key: the token is not its own.
    let other = TestServer::start().await;
    let e = list_err(
        &other.claims(&other.admin_token).await,
        pb::ListClaimsRequest {
            page_token: token.clone(),
            ..paged.clone()
        },
    )
    .await;
    assert!(e.message().contains("restart paging"), "{e:?}");
    other.stop().await;

    // A lost key is made anew at the next start; tokens signed with the old one are
    // refused, and paging restarts.
    s.restart_with(|dir| std::fs::remove_file(dir.join("page-token.key")).unwrap())
        .await;
    assert_ne!(std::fs::read(&key_path).unwrap(), key, "a new key");
    let reviewer = flow.reconnect(&s).await.reviewer_claims();
    let e = list_err(
        &reviewer,
        pb::ListClaimsRequest {
            page_token: token,
            ..paged.clone()
        },
    )
    .await;
    assert!(e.message().contains("restart paging"), "{e:?}");
    assert_eq!(walk(&reviewer, paged).await.0, all);
    s.stop().await;
}

#[tokio::test]
async fn audit_entries_by_claim_article_and_seq() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    flow.register(fixtures::article(
        OTHER_ARTICLE,
        "https://news.example.org/2024/01/16",
    ))
    .await;
    let before = flow.verify().await.head_seq;
    let deleted = flow.claim_in(ARTICLE_ID, ClaimState::CounterNoticed).await;
    let rejected = flow.claim_in(ARTICLE_ID, ClaimState::Rejected).await;
    let elsewhere = flow.claim_in(OTHER_ARTICLE, ClaimState::Received).await;

    use ClaimState::*;
    let steps = |entries: &[pb::AuditEntry]| -> Vec<(String, ClaimState, ClaimState)> {
        entries
            .iter()
            .map(|e| (e.action.clone(), e.from_state(), e.to_state()))
            .collect()
    };
    let entries = flow.claim_audit(&deleted.id).await;
    assert_eq!(
        steps(&entries),
        [
            ("FileClaim".into(), Unspecified, Received),
            ("StartReview".into(), Received, UnderReview),
            ("DecideClaim".into(), UnderReview, Deleted),
            ("FileCounterNotice".into(), Deleted, CounterNoticed),
        ]
    );
    assert_eq!(entries[0].actor, flow.desk.claimant_id);
    assert_eq!(entries[1].actor, flow.desk.reviewer_id);
    assert!(
        entries
            .iter()
            .all(|e| e.claim_id == deleted.id && e.article_id == ARTICLE_ID)
    );
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq), "seq order");
    assert_eq!(
        steps(&flow.claim_audit(&rejected.id).await).last().unwrap(),
        &("DecideClaim".into(), UnderReview, Rejected)
    );

    let on_article = flow
        .audit_entries(pb::ListAuditEntriesRequest {
            article_id: ARTICLE_ID.into(),
            ..Default::default()
        })
        .await;
    assert_eq!(on_article[0].action, "UpsertArticle");
    let claims: BTreeSet<&str> = on_article.iter().map(|e| e.claim_id.as_str()).collect();
    assert_eq!(
        claims,
        BTreeSet::from(["", deleted.id.as_str(), rejected.id.as_str()])
    );
    assert_eq!(on_article.len(), 1 + 4 + 3);
    assert!(on_article.windows(2).all(|w| w[0].seq < w[1].seq));

    let after = flow
        .audit_entries(pb::ListAuditEntriesRequest {
            after_seq: before,
            ..Default::default()
        })
        .await;
    let seqs: Vec<u64> = after.iter().map(|e| e.seq).collect();
    let head = flow.verify().await.head_seq;
    assert_eq!(
        seqs,
        ((before + 1)..=head).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );
    assert_eq!(after.last().unwrap().claim_id, elsewhere.id);
    // Each entry links to the one before it.
    assert!(after.windows(2).all(|w| w[1].prev_hash == w[0].hash));

    let e = flow
        .audit()
        .list_audit_entries(pb::ListAuditEntriesRequest {
            claim_id: deleted.id.clone(),
            article_id: ARTICLE_ID.into(),
            ..Default::default()
        })
        .await
        .expect_err("both filters");
    assert_eq!(e.code(), Code::InvalidArgument);
    s.stop().await;
}
