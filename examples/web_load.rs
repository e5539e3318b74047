//! What the HTTP/JSON door costs: `GetClaim` over gRPC beside `GET /v1/claims/{id}`
//! (HTTP/1.1, JSON, the same server and claim) at 1 and 8 concurrent callers, in the
//! same run over loopback.
//!
//!     cargo run --release --example web_load            # 3 s per measurement
//!     cargo run --release --example web_load -- 10      # 10 s per measurement
//!
//! Three runs of 3 s on a 2-core machine shared with other builds (load ~4):
//! 1 caller, gRPC 12.6k-19.2k calls/s (52-80 us), HTTP/JSON 17.1k-22.2k/s (45-58 us);
//! 8 callers, gRPC 13.9k-24.8k/s, HTTP/JSON 17.9k-23.6k/s. The transcoder's cost is
//! within that noise: one JSON decode and encode of a small message per call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use takedown::clock::SystemClock;
use takedown::pb::{self, Role, claim_service_client::ClaimServiceClient};
use takedown::testkit::{TestServer, authed, fixtures};

/// Calls per second and mean latency of `op` run by `callers` tasks for `secs`.
async fn measure<F, Fut>(callers: usize, secs: f64, op: F) -> (f64, Duration)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (op, done) = (op.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    op().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("caller");
    }
    let calls = done.load(Ordering::Relaxed) as f64;
    let elapsed = start.elapsed().as_secs_f64();
    (
        calls / elapsed,
        Duration::from_secs_f64(elapsed * callers as f64 / calls),
    )
}

#[tokio::main]
async fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let server = TestServer::start_with(|config| {
        config.clock = Arc::new(SystemClock);
    })
    .await;
    let channel = server.channel().await;
    let (_, claimant) = server.principal("claimant", &[Role::Claimant]).await;
    let (_, publisher) = server.principal("publisher", &[Role::Publisher]).await;
    server
        .publisher(&publisher)
        .await
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::seed_article()),
        })
        .await
        .expect("article");
    let claim = ClaimServiceClient::new(authed(&channel, &claimant))
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(fixtures::dmca_notice()),
        })
        .await
        .expect("claim")
        .into_inner()
        .claim
        .expect("claim");
    let url = format!(
        "{}/v1/claims/{}",
        server.server.as_ref().expect("running").url(),
        claim.id
    );
    println!("GetClaim, {secs} s per measurement: calls/s and mean latency");
    for callers in [1, 8] {
        let grpc = {
            let client = ClaimServiceClient::new(authed(&channel, &claimant));
            let id = claim.id.clone();
            measure(callers, secs, move || {
                let mut client = client.clone();
                let id = id.clone();
                async move {
                    client
                        .get_claim(pb::GetClaimRequest { claim_id: id })
                        .await
                        .expect("gRPC GetClaim");
                }
            })
            .await
        };
        let http = {
            let client = reqwest::Client::new();
            let (url, token) = (url.clone(), format!("Bearer {claimant}"));
            measure(callers, secs, move || {
                let request = client.get(&url).header("authorization", &token);
                async move {
                    let response = request.send().await.expect("HTTP GetClaim");
                    assert!(response.status().is_success());
                    response.bytes().await.expect("body");
                }
            })
            .await
        };
        println!(
            "{callers} caller(s): gRPC {:>7.0}/s {:>7.1?}   HTTP/JSON {:>7.0}/s {:>7.1?}   (+{:.0} us a call)",
            grpc.0,
            grpc.1,
            http.0,
            http.1,
            (http.1.as_secs_f64() - grpc.1.as_secs_f64()) * 1e6
        );
    }
    server.stop().await;
}
