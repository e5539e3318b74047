//! Start-up recovery through the real server: a torn tail (a short last record or
//! zero fill) is cut into the quarantine folder, never deleted; a complete but damaged
//! last record, a damaged record that sled already applied, and damage in the middle
//! of the journal refuse to start with a message naming the segment and offset,
//! changing nothing; a store that is ahead of its journal refuses to start;
//! `takedownd rebuild` recreates sled from the journal; a journal written by the
//! previous build still verifies; and damage under a running server turns its health
//! NOT_SERVING, with an error line and a metric.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::fixtures;
use crate::common::{Desk, TestServer};
use takedown::pb;
use takedown::server::RunningServer;

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("journal"))
        .expect("journal folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    v.sort();
    v
}

/// A server with a few claims on record, stopped.
async fn stopped_server_with_claims() -> (TestServer, Desk, Vec<String>) {
    let s = TestServer::start().await;
    let desk = Desk::new(&s).await;
    s.publisher(&desk.publisher)
        .await
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::seed_article()),
        })
        .await
        .expect("article");
    let mut ids = Vec::new();
    for i in 0..5 {
        let claim = s
            .claims(&desk.claimant)
            .await
            .file_claim(pb::FileClaimRequest {
                request_id: format!("r-{i}"),
                claim: Some(fixtures::dmca_notice()),
            })
            .await
            .expect("file")
            .into_inner()
            .claim
            .expect("claim");
        ids.push(claim.id);
    }
    let mut s = s;
    if let Some(server) = s.server.take() {
        server.stop().await.expect("stop");
    }
    (s, desk, ids)
}

async fn start_again(s: &mut TestServer) {
    let server = RunningServer::start(TestServer::config(s.dir.path(), s.clock.clone()))
        .await
        .expect("server restarts");
    s.server = Some(server);
}

async fn assert_claims_present(s: &TestServer, desk: &Desk, ids: &[String]) {
    let mut claims = s.claims(&desk.claimant).await;
    for id in ids {
        let c = claims
            .get_claim(pb::GetClaimRequest {
                claim_id: id.clone(),
            })
            .await
            .expect("acknowledged claim survives")
            .into_inner()
            .claim
            .expect("claim");
        assert_eq!(&c.id, id);
    }
    let verify = s
        .audit(&desk.auditor)
        .await
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verify.ok, "{verify:?}");
}

#[tokio::test]
async fn a_torn_tail_is_cut_and_the_server_carries_on() {
    let (mut s, desk, ids) = stopped_server_with_claims().await;
    let last = segments(s.dir.path()).pop().expect("a segment");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .expect("open segment");
    // Half a record header, as a crash in the middle of an append leaves it.
    f.write_all(&[0x40, 0x00, 0x00]).expect("append garbage");
    drop(f);
    let len = std::fs::metadata(&last).expect("stat").len();
    start_again(&mut s).await;
    assert_eq!(std::fs::metadata(&last).expect("stat").len(), len - 3);
    assert_eq!(
        quarantined(s.dir.path()),
        vec![vec![0x40, 0x00, 0x00]],
        "the cut bytes are kept in the quarantine folder"
    );
    assert_claims_present(&s, &desk, &ids).await;
    // The chain continues after the cut.
    s.claims(&desk.claimant)
        .await
        .file_claim(pb::FileClaimRequest {
            request_id: "after-cut".into(),
            claim: Some(fixtures::dmca_notice()),
        })
        .await
        .expect("writes continue");
    assert_claims_present(&s, &desk, &ids).await;
    s.stop().await;
}

/// The contents of every file in the journal's quarantine folder.
fn quarantined(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(listing) = std::fs::read_dir(dir.join("journal").join("quarantine")) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = listing.map(|e| e.expect("entry").path()).collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("read quarantine file"))
        .collect()
}

#[tokio::test]
async fn a_zero_filled_tail_is_cut_and_quarantined() {
    let (mut s, desk, ids) = stopped_server_with_claims().await;
    let last = segments(s.dir.path()).pop().expect("a segment");
    let len = std::fs::metadata(&last).expect("stat").len();
    // A crash can persist a file's new size before its data: zeros.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .expect("open segment");
    f.write_all(&[0u8; 4096]).expect("append zeros");
    drop(f);
    start_again(&mut s).await;
    assert_eq!(std::fs::metadata(&last).expect("stat").len(), len);
    assert_eq!(quarantined(s.dir.path()), vec![vec![0u8; 4096]]);
    assert_claims_present(&s, &desk, &ids).await;
    s.stop().await;
}

/// Starts on the damaged folder and expects a refusal that names `segment` and
/// `offset` and left the segment exactly as it was, with nothing quarantined.
async fn expect_refusal(s: &TestServer, segment: &Path, offset: u64) -> String {
    let before = std::fs::read(segment).expect("read segment");
    let err = RunningServer::start(TestServer::config(s.dir.path(), s.clock.clone()))
        .await
        .err()
        .expect("the start is refused");
    let message = err.to_string();
    let name = segment
        .file_name()
        .and_then(|n| n.to_str())
        .expect("segment name");
    assert!(message.contains(name), "names the segment: {message}");
    assert!(
        message.contains(&format!("byte offset {offset}")),
        "names the offset: {message}"
    );
    assert!(message.contains("restore"), "says what to do: {message}");
    assert_eq!(
        std::fs::read(segment).expect("read segment"),
        before,
        "nothing may be cut"
    );
    assert!(quarantined(s.dir.path()).is_empty());
    message
}

/// Where the last record of `segment` starts: records are `[u32 LE len][u32 crc][len]`.
fn last_record_offset(segment: &Path) -> u64 {
    let bytes = std::fs::read(segment).expect("read segment");
    let mut at = 0usize;
    let mut last = 0usize;
    while at < bytes.len() {
        last = at;
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        at += 8 + len;
    }
    last as u64
}

#[tokio::test]
async fn a_complete_last_record_with_a_flipped_byte_refuses_to_start_even_without_sled() {
    let (s, _desk, _ids) = stopped_server_with_claims().await;
    let last = segments(s.dir.path()).pop().expect("a segment");
    let offset = last_record_offset(&last);
    let mut bytes = std::fs::read(&last).expect("read segment");
    let end = bytes.len() - 1;
    bytes[end] ^= 0x01;
    std::fs::write(&last, &bytes).expect("write segment");
    // Without sled nothing says the entry was applied: the record's shape alone must
    // tell that it is damage, not a torn write.
    std::fs::remove_dir_all(s.dir.path().join("sled")).expect("remove sled");
    let message = expect_refusal(&s, &last, offset).await;
    assert!(message.contains("is complete"), "explains: {message}");
}

#[tokio::test]
async fn a_short_last_record_that_sled_applied_refuses_to_start() {
    let (s, _desk, _ids) = stopped_server_with_claims().await;
    let last = segments(s.dir.path()).pop().expect("a segment");
    let offset = last_record_offset(&last);
    let len = std::fs::metadata(&last).expect("stat").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .expect("open segment");
    f.set_len(len - 3).expect("cut the last record short");
    drop(f);
    let message = expect_refusal(&s, &last, offset).await;
    assert!(
        message.contains("acknowledged and must not be cut off"),
        "explains: {message}"
    );
}

#[tokio::test]
async fn damage_in_the_middle_of_the_journal_refuses_to_start() {
    let (s, _desk, _ids) = stopped_server_with_claims().await;
    let first = segments(s.dir.path()).remove(0);
    let mut bytes = std::fs::read(&first).expect("read segment");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&first, &bytes).expect("write segment");
    let err = RunningServer::start(TestServer::config(s.dir.path(), s.clock.clone()))
        .await
        .err()
        .expect("the start is refused");
    let message = err.to_string();
    let name = first
        .file_name()
        .and_then(|n| n.to_str())
        .expect("segment name");
    assert!(message.contains(name), "names the segment: {message}");
    assert!(message.contains("offset"), "names the offset: {message}");
    assert!(message.contains("restore"), "says what to do: {message}");
}

#[tokio::test]
async fn a_store_ahead_of_its_journal_refuses_to_start() {
    let (s, _desk, _ids) = stopped_server_with_claims().await;
    for seg in segments(s.dir.path()) {
        std::fs::remove_file(seg).expect("remove segment");
    }
    let err = RunningServer::start(TestServer::config(s.dir.path(), s.clock.clone()))
        .await
        .err()
        .expect("the start is refused");
    assert!(
        err.to_string().contains("journal is the record"),
        "explains: {err}"
    );
}

#[tokio::test]
async fn takedownd_rebuild_recreates_sled_from_the_journal() {
    let (mut s, desk, ids) = stopped_server_with_claims().await;
    // Damage sled beyond repair: replace it with an empty folder.
    let sled = s.dir.path().join("sled");
    std::fs::remove_dir_all(&sled).expect("remove sled");
    std::fs::create_dir(&sled).expect("empty sled");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_takedownd"))
        .arg("rebuild")
        .arg("--data-dir")
        .arg(s.dir.path())
        .output()
        .expect("run takedownd rebuild");
    assert!(
        out.status.success(),
        "rebuild failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("journal entries"));
    start_again(&mut s).await;
    assert_claims_present(&s, &desk, &ids).await;
    s.stop().await;
}

#[tokio::test]
async fn a_journal_written_by_the_build_before_stored_bytes_hashing_starts_and_verifies() {
    // 34 entries written through the server by the build that still hashed
    // re-encoded entries; no sled, no token: the journal alone.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/journal-before-stored-bytes-hash/00000000000000000001.wal");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("journal")).expect("journal folder");
    std::fs::copy(
        &fixture,
        dir.path().join("journal/00000000000000000001.wal"),
    )
    .expect("copy the old journal");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_takedownd"))
        .arg("admin-token")
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run takedownd admin-token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let clock = std::sync::Arc::new(takedown::clock::ManualClock::new(
        crate::common::start_time(),
    ));
    let server = RunningServer::start(TestServer::config(dir.path(), clock.clone()))
        .await
        .expect("the old journal opens");
    let s = TestServer {
        admin_token: server.admin_token.clone(),
        server: Some(server),
        dir,
        clock,
    };
    let (_, auditor) = s.principal("Auditor", &[pb::Role::Auditor]).await;
    let verify = s
        .audit(&auditor)
        .await
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verify.ok, "{verify:?}");
    assert_eq!(
        verify.head_seq, 36,
        "34 old entries, the new admin, the auditor"
    );
    s.stop().await;
}

/// GET /metrics over a plain TCP connection; returns the body.
fn scrape(port: u16) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

fn verify_failures(body: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix("takedown_journal_verify_failures_total "))
        .and_then(|v| v.trim().parse().ok())
}

async fn health_status(d: &crate::common::daemon::Daemon) -> i32 {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    HealthClient::new(d.channel().await)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_under_a_running_server_turns_health_not_serving() {
    use tonic_health::pb::health_check_response::ServingStatus;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let metrics_port = crate::common::daemon::free_port();
    let args = [
        "--verify-interval-secs".to_string(),
        "1".to_string(),
        "--metrics-listen".to_string(),
        format!("127.0.0.1:{metrics_port}"),
    ];
    let log = dir.path().join("server.log");
    let d = crate::common::daemon::Daemon::start(&data, &log, &args).await;
    // A few intact periodic checks first.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(health_status(&d).await, ServingStatus::Serving as i32);
    assert_eq!(verify_failures(&scrape(metrics_port)), Some(0.0));

    // A stray write flips a byte of the first entry, under the server's feet.
    let segment = segments(&data).pop().expect("a segment");
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&segment)
        .expect("open segment");
    use std::os::unix::fs::FileExt;
    let mut byte = [0u8; 1];
    f.read_exact_at(&mut byte, 20).expect("read");
    f.write_all_at(&[byte[0] ^ 0x01], 20).expect("damage");
    drop(f);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while health_status(&d).await != ServingStatus::NotServing as i32 {
        assert!(
            std::time::Instant::now() < deadline,
            "health still SERVING after the damage:\n{}",
            d.log_tail()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(verify_failures(&scrape(metrics_port)), Some(1.0));
    let text = d.log_text();
    assert!(
        text.contains("ERROR") && text.contains("no longer verifies") && text.contains("seq 1"),
        "{text}"
    );
}

#[tokio::test]
async fn damage_in_an_older_segment_is_found_right_after_start_and_turns_health_not_serving() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    // Small segments, so that the claims span several.
    let s = TestServer::start_with(|c| c.segment_max_bytes = 4096).await;
    let desk = Desk::new(&s).await;
    s.publisher(&desk.publisher)
        .await
        .upsert_article(pb::UpsertArticleRequest {
            article: Some(fixtures::seed_article()),
        })
        .await
        .expect("article");
    for i in 0..6 {
        s.claims(&desk.claimant)
            .await
            .file_claim(pb::FileClaimRequest {
                request_id: format!("r-{i}"),
                claim: Some(fixtures::dmca_notice()),
            })
            .await
            .expect("file");
    }
    let mut s = s;
    if let Some(server) = s.server.take() {
        server.stop().await.expect("stop");
    }
    let all = segments(s.dir.path());
    assert!(all.len() >= 3, "{all:?}");
    let mut bytes = std::fs::read(&all[0]).expect("read segment");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&all[0], &bytes).expect("write segment");

    // The start reads only the newest segment, so it goes ahead...
    let mut config = TestServer::config(s.dir.path(), s.clock.clone());
    config.segment_max_bytes = 4096;
    s.server = Some(RunningServer::start(config).await.expect("starts"));
    // ...and the check of the whole journal that follows turns health NOT_SERVING.
    let mut health = HealthClient::new(s.channel().await);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health answers")
            .into_inner()
            .status;
        if status == ServingStatus::NotServing as i32 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "health still SERVING with a damaged older segment"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let verify = s
        .audit(&desk.auditor)
        .await
        .verify_audit_log(pb::VerifyAuditLogRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(!verify.ok, "{verify:?}");
}
