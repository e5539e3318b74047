//! Graceful shutdown of the real `takedownd` process: SIGTERM during writes from
//! several clients ends with exit code 0 and every acknowledged write is there after
//! a restart; health turns NOT_SERVING before anything else, the listen socket closes,
//! health Watch streams end at once, and a request that never ends is cut off after
//! `--shutdown-grace-secs`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::daemon::Daemon;
use crate::common::{authed, create_principal, fixtures};
use nix::sys::signal::Signal;
use takedown::pb::{
    self, ClaimState, Regime, Role, audit_service_client::AuditServiceClient,
    claim_service_client::ClaimServiceClient, publisher_service_client::PublisherServiceClient,
    review_service_client::ReviewServiceClient,
};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus,
};

/// Clients writing at once.
const WRITERS: usize = 4;

/// What a writer was told had happened: the claim and the state it was left in.
type Acked = Arc<Mutex<Vec<(String, ClaimState)>>>;

/// Files claims (and starts review on every other one) until the server stops
/// answering; records each acknowledged write.
async fn write_until_refused(
    url: String,
    claimant: String,
    reviewer: String,
    worker: usize,
    acked: Acked,
) -> usize {
    let channel = Endpoint::from_shared(url)
        .expect("url")
        .timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("connect");
    let mut claims = ClaimServiceClient::new(authed(&channel, &claimant));
    let mut review = ReviewServiceClient::new(authed(&channel, &reviewer));
    for i in 0.. {
        let filed = claims
            .file_claim(pb::FileClaimRequest {
                request_id: format!("shutdown-{worker}-{i}"),
                claim: Some(fixtures::notice(fixtures::ARTICLE_ID, Regime::Dmca)),
            })
            .await;
        let Ok(filed) = filed else {
            return i;
        };
        let claim = filed.into_inner().claim.expect("claim");
        acked
            .lock()
            .expect("lock")
            .push((claim.id.clone(), ClaimState::Received));
        if i % 2 == 0 {
            let started = review
                .start_review(pb::StartReviewRequest {
                    claim_id: claim.id.clone(),
                    etag: String::new(),
                })
                .await;
            if started.is_err() {
                return i;
            }
            let mut acked = acked.lock().expect("lock");
            if let Some(last) = acked.iter_mut().rev().find(|(id, _)| *id == claim.id) {
                last.1 = ClaimState::UnderReview;
            }
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_writes_exits_zero_and_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let args: Vec<String> = vec!["--file-claim-rate".into(), "0".into()];
    let mut d = Daemon::start(&data, &dir.path().join("first.log"), &args).await;
    let admin = Daemon::admin_token(&data);
    let ch = d.channel().await;
    let (_, claimant) =
        create_principal(&ch, &admin, "Legal Daily rights desk", &[Role::Claimant]).await;
    let (_, reviewer) = create_principal(&ch, &admin, "Compliance desk", &[Role::Reviewer]).await;
    PublisherServiceClient::new(authed(&ch, &admin))
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::seed_article()),
        })
        .await
        .expect("register the article");

    let acked: Acked = Arc::default();
    let workers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(write_until_refused(
                d.url(),
                claimant.clone(),
                reviewer.clone(),
                w,
                acked.clone(),
            ))
        })
        .collect();
    // Let the writers get going, then stop the server under them.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().expect("lock").len() < 40 {
        assert!(Instant::now() < deadline, "writes did not get going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    d.signal(Signal::SIGTERM);
    let signalled = Instant::now();
    let status = d
        .wait_exit(Duration::from_secs(20))
        .await
        .expect("takedownd exits after SIGTERM");
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "exit code; log:\n{}", d.log_text());
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    for w in workers {
        w.await.expect("writer task");
    }
    let log = d.log_text();
    for line in [
        "health is NOT_SERVING",
        "writer drained and synced",
        "takedownd stopped",
    ] {
        assert!(log.contains(line), "{line:?} missing from the log:\n{log}");
    }
    assert!(!log.contains("abandoning"), "nothing was cut off:\n{log}");

    // Restart on the same folder: every acknowledged write is there.
    let acked = acked.lock().expect("lock").clone();
    let d = Daemon::start(&data, &dir.path().join("second.log"), &args).await;
    let ch = d.channel().await;
    let mut claims = ClaimServiceClient::new(authed(&ch, &reviewer));
    for (id, state) in &acked {
        let claim = claims
            .get_claim(pb::GetClaimRequest {
                claim_id: id.clone(),
            })
            .await
            .expect("an acknowledged claim survives")
            .into_inner()
            .claim
            .expect("claim");
        assert!(
            claim.state == *state as i32
                || (*state == ClaimState::Received
                    && claim.state == ClaimState::UnderReview as i32),
            "claim {id}: acknowledged {state:?}, found {:?}",
            ClaimState::try_from(claim.state)
        );
    }
    let verify = AuditServiceClient::new(authed(&ch, &admin))
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verify.ok, "{verify:?}");
    // Two principals and an article, then at least one entry per acknowledged write.
    assert!(verify.head_seq >= 4 + acked.len() as u64, "{verify:?}");
    eprintln!(
        "{} acknowledged writes across {WRITERS} clients; SIGTERM to exit took {took:?}",
        acked.len()
    );
}

/// Starts a health check whose request message never comes: the server waits for
/// it, like a request that hangs, until its connection is abandoned.
fn hung_request(channel: Channel) -> tokio::task::JoinHandle<Result<(), tonic::Status>> {
    tokio::spawn(async move {
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let codec = tonic_prost::ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default();
        grpc.client_streaming(
            tonic::Request::new(tokio_stream::pending::<HealthCheckRequest>()),
            PathAndQuery::from_static("/grpc.health.v1.Health/Check"),
            codec,
        )
        .await
        .map(|_| ())
    })
}

/// A health watcher on `channel`, after its first status (SERVING).
async fn watching(channel: Channel) -> tonic::Streaming<HealthCheckResponse> {
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "takedown.v1.ClaimService".into(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("stream").expect("a status");
    assert_eq!(first.status, ServingStatus::Serving as i32);
    watch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_health_watch_ends_at_shutdown_instead_of_holding_the_grace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let args: Vec<String> = vec!["--shutdown-grace-secs".into(), "10".into()];
    let mut d = Daemon::start(&data, &dir.path().join("server.log"), &args).await;
    // The start-up line names the address as it is, and says how clients connect.
    let listening = format!(
        "listening on 127.0.0.1:{} with plaintext (no TLS)",
        d.port()
    );
    assert!(d.log_text().contains(&listening), "{}", d.log_text());
    let mut watch = watching(d.channel().await).await;

    d.signal(Signal::SIGTERM);
    let signalled = Instant::now();
    // NOT_SERVING first, so that a load balancer stops sending; then the end, with
    // UNAVAILABLE (watch elsewhere, or again once the server is back).
    let next = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("a status change within 5 s")
        .expect("stream")
        .expect("a status");
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    let end = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("the stream ends within 5 s");
    let e = end.expect_err("the stream ends with a status");
    assert_eq!(e.code(), tonic::Code::Unavailable, "{e:?}");
    assert!(e.message().contains("shutting down"), "{e:?}");

    let status = d
        .wait_exit(Duration::from_secs(15))
        .await
        .expect("takedownd exits");
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "log:\n{}", d.log_text());
    assert!(
        took < Duration::from_secs(3),
        "a watcher held the shutdown for {took:?} of the 10 s grace"
    );
    assert!(!d.log_text().contains("abandoning"), "{}", d.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_flips_first_and_a_stuck_request_is_cut_off_after_the_grace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let args: Vec<String> = vec!["--shutdown-grace-secs".into(), "2".into()];
    let mut d = Daemon::start(&data, &dir.path().join("server.log"), &args).await;

    let mut watch = watching(d.channel().await).await;
    let stuck = hung_request(d.channel().await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!stuck.is_finished(), "the request hangs");

    d.signal(Signal::SIGTERM);
    let signalled = Instant::now();
    let next = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("a status change within 5 s")
        .expect("stream")
        .expect("a status");
    assert_eq!(next.status, ServingStatus::NotServing as i32);

    // No new connections while the old ones drain: the listen socket is closed
    // though the process is still running.
    let mut refused = false;
    while signalled.elapsed() < Duration::from_millis(1500) {
        let attempt = Endpoint::from_shared(d.url())
            .expect("url")
            .connect_timeout(Duration::from_millis(200))
            .connect()
            .await;
        if attempt.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "new connections were still accepted");
    assert!(
        d.exited().is_none(),
        "still draining when connections are refused"
    );

    let status = d
        .wait_exit(Duration::from_secs(15))
        .await
        .expect("takedownd exits after the grace period");
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "log:\n{}", d.log_text());
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "waited {took:?} for a 2 s grace"
    );
    assert!(d.log_text().contains("abandoning"), "{}", d.log_text());
    let cut = tokio::time::timeout(Duration::from_secs(5), stuck)
        .await
        .expect("the stuck request ends with its connection")
        .expect("task");
    assert!(cut.is_err(), "the stuck request was cut off: {cut:?}");
}
