//! AIP-158: a page token is valid only with the filters it was issued for.
//! Each token carries a fingerprint of the filters and caller it was issued for.

use crate::common::TestServer;
use crate::common::fixtures::ARTICLE_ID;
use crate::common::flow::{Flow, violated_fields};
use takedown::pb::{self, ClaimState};
use tonic::Code;

#[tokio::test]
async fn a_page_token_is_refused_when_the_filters_changed_within_one_index() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    for _ in 0..3 {
        flow.file_claim().await;
    }
    // A reviewer: the article index serves both requests.
    let reviewer = flow.reviewer_claims();
    let token = reviewer
        .clone()
        .list_claims(pb::ListClaimsRequest {
            page_size: 1,
            article_id: ARTICLE_ID.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    let r = reviewer
        .clone()
        .list_claims(pb::ListClaimsRequest {
            page_size: 1,
            page_token: token,
            article_id: ARTICLE_ID.into(),
            state: ClaimState::Deleted as i32,
            ..Default::default()
        })
        .await;

    let e = r.expect_err("filters changed");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&e), ["page_token"]);

    // A claimant: every request reads its own index, whatever the filters.
    let claimant = flow.claimant();
    let token = claimant
        .clone()
        .list_claims(pb::ListClaimsRequest {
            page_size: 1,
            state: ClaimState::Received as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    let r = claimant
        .clone()
        .list_claims(pb::ListClaimsRequest {
            page_size: 1,
            page_token: token,
            state: ClaimState::Deleted as i32,
            ..Default::default()
        })
        .await;

    assert_eq!(
        r.expect_err("filters changed").code(),
        Code::InvalidArgument
    );
    s.stop().await;
}
