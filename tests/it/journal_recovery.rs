//! Start-up recovery through the real server: a torn tail is cut and forgotten, damage
//! in the middle of the journal refuses to start with a message naming the segment,
//! a store that is ahead of its journal refuses to start, and `takedownd rebuild`
//! recreates sled from the journal.

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
        .verify_audit_log(pb::VerifyAuditLogRequest {})
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
    start_again(&mut s).await;
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
