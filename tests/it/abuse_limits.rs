//! Abuse limits through the server: the per-principal token bucket on FileClaim
//! answers RESOURCE_EXHAUSTED with `google.rpc.RetryInfo`, refills with time, and
//! leaves other principals alone. (The request deadline, the concurrency limit and
//! the connection bound have unit tests in `api::limits` and `listener`.)

use std::time::Duration;

use crate::common::flow::Flow;
use crate::common::{TestServer, fixtures};
use takedown::api::limits::RateLimit;
use takedown::pb;
use tonic::Code;
use tonic_types::StatusExt;

fn file_request() -> pb::FileClaimRequest {
    pb::FileClaimRequest {
        request_id: String::new(),
        claim: Some(fixtures::dmca_notice()),
    }
}

#[tokio::test]
async fn file_claim_is_rate_limited_per_principal() {
    // 6 a minute (one every 10 s), 2 at once.
    let s = TestServer::start_with(|c| c.limits.file_claim = RateLimit::per_minute(6, 2)).await;
    let flow = Flow::new(&s).await;
    let mut claimant = flow.claimant();
    for _ in 0..2 {
        claimant
            .file_claim(file_request())
            .await
            .expect("within the burst");
    }
    let e = claimant
        .file_claim(file_request())
        .await
        .expect_err("over the rate");
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(e.message().contains("retry in"), "{e:?}");
    let retry = e
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo with a delay");
    assert!(
        retry > Duration::from_secs(9) && retry <= Duration::from_secs(11),
        "{retry:?}"
    );

    // Other principals and other RPCs are not affected.
    flow.other_claimant()
        .file_claim(file_request())
        .await
        .expect("another principal has its own bucket");
    claimant
        .list_claims(pb::ListClaimsRequest::default())
        .await
        .expect("reads are not limited");

    // After the delay, one more claim is taken.
    s.clock.advance(retry);
    claimant
        .file_claim(file_request())
        .await
        .expect("the bucket refilled");
    let e = claimant
        .file_claim(file_request())
        .await
        .expect_err("and only one");
    assert_eq!(e.code(), Code::ResourceExhausted);
    s.stop().await;
}
