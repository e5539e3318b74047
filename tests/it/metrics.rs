//! The Prometheus endpoint of the real `takedownd` (`--metrics-listen`): after a few
//! RPCs the per-RPC counts and latency histograms, claims by state, the writer's
//! group size and fsync latency and the journal size are all there, and the claims
//! gauge is rebuilt from the store after a restart.

use std::io::{Read, Write};
use std::time::Duration;

use crate::common::daemon::{Daemon, free_port};
use crate::common::{authed, create_principal, fixtures};
use takedown::pb::{
    self, Regime, Role, claim_service_client::ClaimServiceClient,
    publisher_service_client::PublisherServiceClient, review_service_client::ReviewServiceClient,
};

/// GET /metrics over a plain TCP connection; returns the body.
pub(crate) fn scrape(port: u16) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// The value of the series `name` (with its labels exactly as written), if present.
pub(crate) fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// A claimant and a reviewer, the seed article, and `n` claims filed against it: the
/// claimant's client, the reviewer's token and the claim ids.
async fn file_claims(
    ch: &tonic::transport::Channel,
    admin: &str,
    n: usize,
) -> (
    ClaimServiceClient<crate::common::Authed>,
    String,
    Vec<String>,
) {
    let (_, claimant) =
        create_principal(ch, admin, "Legal Daily rights desk", &[Role::Claimant]).await;
    let (_, reviewer) = create_principal(ch, admin, "Compliance desk", &[Role::Reviewer]).await;
    PublisherServiceClient::new(authed(ch, admin))
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::seed_article()),
        })
        .await
        .expect("register the article");
    let mut claims = ClaimServiceClient::new(authed(ch, &claimant));
    let mut ids = Vec::new();
    for _ in 0..n {
        let claim = claims
            .file_claim(pb::FileClaimRequest {
                request_id: String::new(),
                claim: Some(fixtures::notice(fixtures::ARTICLE_ID, Regime::Dmca)),
            })
            .await
            .expect("file")
            .into_inner()
            .claim
            .expect("claim");
        ids.push(claim.id);
    }
    (claims, reviewer, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_endpoint_has_every_series() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let metrics_port = free_port();
    let args = vec![
        "--metrics-listen".to_string(),
        format!("127.0.0.1:{metrics_port}"),
        "--handshake-timeout-secs".to_string(),
        "1".to_string(),
    ];
    let d = Daemon::start(&data, &dir.path().join("first.log"), &args).await;
    let admin = Daemon::admin_token(&data);
    let ch = d.channel().await;
    let (mut claims, reviewer, ids) = file_claims(&ch, &admin, 3).await;
    ReviewServiceClient::new(authed(&ch, &reviewer))
        .start_review(pb::StartReviewRequest {
            claim_id: ids[0].clone(),
            etag: String::new(),
        })
        .await
        .expect("start review");
    let missing = claims
        .get_claim(pb::GetClaimRequest {
            claim_id: "01900000-0000-7000-8000-000000000000".into(),
        })
        .await;
    assert_eq!(missing.expect_err("unknown").code(), tonic::Code::NotFound);

    // A socket that never sends a request, closed by the handshake deadline.
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", d.port()))
        .await
        .expect("connect");
    let mut buf = [0u8; 16];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(n) = tokio::io::AsyncReadExt::read(&mut silent, &mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the silent socket is closed");

    let body = scrape(metrics_port);
    let expect = |series: &str| {
        value(&body, series).unwrap_or_else(|| panic!("{series} missing from:\n{body}"))
    };
    assert_eq!(
        expect(
            r#"takedown_rpc_requests_total{rpc="takedown.v1.ClaimService/FileClaim",code="OK"}"#
        ),
        3.0
    );
    assert_eq!(
        expect(
            r#"takedown_rpc_requests_total{rpc="takedown.v1.ClaimService/GetClaim",code="NOT_FOUND"}"#
        ),
        1.0
    );
    assert_eq!(
        expect(r#"takedown_rpc_duration_seconds_count{rpc="takedown.v1.ClaimService/FileClaim"}"#),
        3.0
    );
    assert_eq!(
        expect(
            r#"takedown_rpc_duration_seconds_bucket{rpc="takedown.v1.ClaimService/FileClaim",le="+Inf"}"#
        ),
        3.0
    );
    assert_eq!(expect(r#"takedown_claims{state="RECEIVED"}"#), 2.0);
    assert_eq!(expect(r#"takedown_claims{state="UNDER_REVIEW"}"#), 1.0);
    assert_eq!(expect(r#"takedown_claims{state="DELETED"}"#), 0.0);
    // Three principals (the admin too), an article, three claims, a review.
    assert!(expect("takedown_writer_group_size_sum") >= 7.0);
    assert!(expect(r#"takedown_writer_group_size_bucket{le="+Inf"}"#) >= 1.0);
    assert!(expect("takedown_writer_fsync_seconds_count") >= 1.0);
    assert!(expect(r#"takedown_writer_fsync_seconds_bucket{le="+Inf"}"#) >= 1.0);
    assert!(
        expect("takedown_connections_open") >= 1.0,
        "this test's channel"
    );
    assert!(
        expect(r#"takedown_connections_closed_total{reason="handshake_timeout"}"#) >= 1.0,
        "the silent socket"
    );
    let journal = expect("takedown_journal_bytes");
    assert!(journal > 0.0);
    assert_eq!(expect("takedown_writer_stalled"), 0.0);
    for help in [
        "# HELP takedown_claims ",
        "# TYPE takedown_rpc_duration_seconds histogram",
    ] {
        assert!(body.contains(help), "{help:?} missing");
    }
    drop(claims);
    drop(d);

    // After a restart (the first process was killed), the claims gauge comes from the
    // store and the journal size from its files.
    let metrics_port = free_port();
    let args = vec![
        "--metrics-listen".to_string(),
        format!("127.0.0.1:{metrics_port}"),
    ];
    let _d = Daemon::start(&data, &dir.path().join("second.log"), &args).await;
    let body = scrape(metrics_port);
    assert_eq!(
        value(&body, r#"takedown_claims{state="RECEIVED"}"#),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        value(&body, r#"takedown_claims{state="UNDER_REVIEW"}"#),
        Some(1.0)
    );
    assert_eq!(value(&body, "takedown_journal_bytes"), Some(journal));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_by_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let d = Daemon::start(&data, &dir.path().join("server.log"), &[]).await;
    assert!(!d.log_text().contains("serving Prometheus metrics"));
}

/// The clocks the law cares about: claims past a deadline, timed transitions fired,
/// and how late the sweeper is, with one-second policy windows on the real binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legal_clocks_are_measured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let metrics_port = free_port();
    let args: Vec<String> = vec![
        "--metrics-listen".to_string(),
        format!("127.0.0.1:{metrics_port}"),
        "--review-target".to_string(),
        "1s".to_string(),
        "--information-reply-window".to_string(),
        "1s".to_string(),
    ];
    let d = Daemon::start(&data, &dir.path().join("server.log"), &args).await;
    let admin = Daemon::admin_token(&data);
    let ch = d.channel().await;
    let (_claims, reviewer, ids) = file_claims(&ch, &admin, 2).await;
    // One claim waits for the claimant's reply, which will not come.
    ReviewServiceClient::new(authed(&ch, &reviewer))
        .request_information(pb::RequestInformationRequest {
            claim_id: ids[0].clone(),
            message: "Which paragraph?".to_string(),
            etag: String::new(),
        })
        .await
        .expect("request information");
    // The reply window (1 s) passes; the sweeper (every second) closes the claim; the
    // other claim's review target (1 s) has passed too.
    let mut body = String::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        body = scrape(metrics_port);
        let fired = value(
            &body,
            r#"takedown_deadlines_fired_total{to="CLOSED_INCOMPLETE"}"#,
        );
        if fired == Some(1.0) && value(&body, "takedown_claims_overdue") == Some(1.0) {
            break;
        }
    }
    assert_eq!(
        value(
            &body,
            r#"takedown_deadlines_fired_total{to="CLOSED_INCOMPLETE"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(value(&body, "takedown_claims_overdue"), Some(1.0), "{body}");
    let lag = value(&body, "takedown_sweeper_lag_seconds").expect("lag gauge");
    assert!((0.0..5.0).contains(&lag), "lag {lag}");
    for help in [
        "# HELP takedown_claims_overdue ",
        "# HELP takedown_sweeper_lag_seconds ",
        "# HELP takedown_deadlines_fired_total ",
    ] {
        assert!(body.contains(help), "{help:?} missing");
    }
}
