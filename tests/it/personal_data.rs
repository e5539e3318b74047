//! Personal data: sealed with a key per party before it reaches the journal or sled,
//! opened for callers, erasable by deleting the key while the chain still verifies,
//! and an erasure a crash interrupted is finished at the next start.

use std::path::Path;

use takedown::pb::{self, ClaimState, DecisionOutcome, Regime};

use crate::common::flow::{Flow, assert_state, error_info};
use crate::common::{TestServer, fixtures};

/// Values no file of the data folder may hold in clear.
const MARKS: [&str; 5] = ["Zqxjv", "zqxjv", "7946 0958", "Wkrpt Lane", "Pltvq"];

/// A notice whose notifier's details carry the marks.
fn marked_notice(email: &str) -> pb::Claim {
    let mut n = fixtures::notice(fixtures::ARTICLE_ID, Regime::Dmca);
    n.claimant = Some(pb::Claimant {
        name: "Zqxjv Rights Agent".to_string(),
        organization: String::new(),
        email: email.to_string(),
        postal_address: "1 Wkrpt Lane, Springfield".to_string(),
        phone: "+44 20 7946 0958".to_string(),
    });
    n.signature = "Zqxjv Rights Agent".to_string();
    n
}

/// Every file under `dir` that holds one of the marks, with the mark.
fn files_with_marks(dir: &Path) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            for mark in MARKS {
                if bytes.windows(mark.len()).any(|w| w == mark.as_bytes()) {
                    found.push((path.display().to_string(), mark));
                }
            }
        }
    }
    found
}

#[tokio::test]
async fn no_personal_value_is_in_clear_on_disk() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut article = fixtures::seed_article();
    article.content_origin = pb::ContentOrigin::Contributed as i32;
    article.contributor = Some(pb::Contributor {
        account_id: "user-4711".to_string(),
        display_name: "Pltvq Reader".to_string(),
        email: "pltvq@readers.example.org".to_string(),
    });
    flow.register(article).await;
    let c = flow.file(marked_notice("zqxjv@agents.example.org")).await;
    // Read back in clear by those who may see it.
    let read = flow.get(&c.id).await;
    assert_eq!(
        read.claimant.as_ref().map(|c| c.phone.as_str()),
        Some("+44 20 7946 0958")
    );
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, DecisionOutcome::Delete).await;
    let mut cn = fixtures::counter_notice();
    cn.name = "Pltvq Reader".to_string();
    cn.postal_address = "2 Wkrpt Lane".to_string();
    flow.publisher()
        .file_counter_notice(pb::FileCounterNoticeRequest {
            claim_id: c.id.clone(),
            etag: String::new(),
            counter_notice: Some(cn),
        })
        .await
        .expect("counter-notice");
    let dir = s.dir.path().to_path_buf();
    // Stopped, so that sled has flushed everything it holds.
    if let Some(server) = s.server.take() {
        server.stop().await.expect("stop");
    }
    let found = files_with_marks(&dir);
    assert!(
        found.is_empty(),
        "personal data in clear on disk: {found:?}"
    );
    // Not because nothing was written: the journal holds the sealed fields.
    let journal: Vec<u8> = std::fs::read_dir(dir.join("journal"))
        .expect("journal")
        .flat_map(|e| std::fs::read(e.expect("entry").path()).unwrap_or_default())
        .collect();
    let sealed = journal.windows(4).filter(|w| w == b"pd1.").count();
    assert!(sealed >= 12, "only {sealed} sealed fields in the journal");
    s.restart().await;
    let flow = flow.reconnect(&s).await;
    let read = flow.get(&c.id).await;
    assert_eq!(
        read.counter_notice.map(|c| c.postal_address),
        Some("2 Wkrpt Lane".to_string()),
        "sealed, not lost"
    );
    s.stop().await;
}

async fn erase(
    s: &TestServer,
    email: &str,
) -> Result<pb::ErasePersonalDataResponse, tonic::Status> {
    s.admin(&s.admin_token)
        .await
        .erase_personal_data(pb::ErasePersonalDataRequest {
            party: Some(pb::PartyKey {
                key: Some(pb::party_key::Key::NotifierEmail(email.to_string())),
            }),
            reason: "erasure request of 2026-11-30".to_string(),
        })
        .await
        .map(|r| r.into_inner())
}

fn claimant(c: &pb::Claim) -> pb::Claimant {
    c.claimant.clone().expect("claimant")
}

#[tokio::test]
async fn an_erased_party_reads_as_erased_everywhere_and_the_chain_still_verifies() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let erased = flow.file(marked_notice("Zqxjv@Agents.example.org")).await;
    let other = flow.file(fixtures::dmca_notice()).await;
    let answer = erase(&s, "zqxjv@agents.example.org").await.expect("erase");
    assert!(answer.erased_now);
    assert_eq!(answer.claims, 1);
    let check = |c: &pb::Claim, other: &pb::Claim| {
        let gone = claimant(c);
        for field in [
            &gone.name,
            &gone.email,
            &gone.postal_address,
            &gone.phone,
            &c.signature,
        ] {
            assert_eq!(field, "[erased]", "{gone:?}");
        }
        assert_eq!(
            claimant(other).name,
            "Shen Chen",
            "another party is untouched"
        );
    };
    check(&flow.get(&erased.id).await, &flow.get(&other.id).await);
    assert!(
        flow.verify().await.ok,
        "the chain verifies after an erasure"
    );
    // The erasure is in the log, without the e-mail.
    let log = flow
        .audit_entries(pb::ListAuditEntriesRequest::default())
        .await;
    let entry = log
        .iter()
        .find(|e| e.action == "ErasePersonalData")
        .expect("journaled");
    assert!(!entry.detail.to_lowercase().contains("zqxjv"), "{entry:?}");
    // Erasing again changes nothing.
    assert!(
        !erase(&s, "zqxjv@agents.example.org")
            .await
            .expect("again")
            .erased_now
    );
    // Access request: what is held, as it now reads.
    let export = s
        .admin(&s.admin_token)
        .await
        .export_personal_data(pb::ExportPersonalDataRequest {
            party: Some(pb::PartyKey {
                key: Some(pb::party_key::Key::NotifierEmail(
                    "rights@legaldaily.example.cn".to_string(),
                )),
            }),
        })
        .await
        .expect("export")
        .into_inner();
    assert_eq!(export.claims.len(), 1);
    assert_eq!(claimant(&export.claims[0]).phone, "+86 10 8413 0000");
    assert!(!export.erased);

    // A restart, and a rebuild of sled from the journal, keep it erased.
    s.restart().await;
    let flow = flow.reconnect(&s).await;
    check(&flow.get(&erased.id).await, &flow.get(&other.id).await);
    s.restart_with(|dir| {
        std::fs::remove_dir_all(dir.join("sled")).expect("remove sled");
    })
    .await;
    let flow = flow.reconnect(&s).await;
    check(&flow.get(&erased.id).await, &flow.get(&other.id).await);
    assert!(flow.verify().await.ok);

    // New data of the same person is new: it is readable, and erasable again.
    let again = flow.file(marked_notice("zqxjv@agents.example.org")).await;
    assert_eq!(
        claimant(&flow.get(&again.id).await).name,
        "Zqxjv Rights Agent"
    );
    assert_eq!(claimant(&flow.get(&erased.id).await).name, "[erased]");
    assert!(
        erase(&s, "zqxjv@agents.example.org")
            .await
            .expect("erase")
            .erased_now
    );
    assert_eq!(claimant(&flow.get(&again.id).await).name, "[erased]");
    s.stop().await;
}

#[tokio::test]
async fn an_erasure_a_crash_cut_short_is_finished_at_the_next_start() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file(marked_notice("zqxjv@agents.example.org")).await;
    // The key store as it was before the erasure: as if the process died after the
    // erasure was journaled and before the key was deleted.
    let keys = s.dir.path().join("pdata").join("keys");
    let before = std::fs::read(&keys).expect("key store");
    erase(&s, "zqxjv@agents.example.org").await.expect("erase");
    if let Some(server) = s.server.take() {
        server.stop().await.expect("stop");
    }
    std::fs::write(&keys, &before).expect("put the old key store back");
    s.restart().await;
    let flow = flow.reconnect(&s).await;
    assert_eq!(claimant(&flow.get(&c.id).await).name, "[erased]");
    s.stop().await;
}

#[tokio::test]
async fn the_contact_a_dmca_counter_notice_needs_is_not_erased_while_it_runs() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file(marked_notice("zqxjv@agents.example.org")).await;
    let c = flow.start_review(&c).await;
    let c = flow.decide(&c, DecisionOutcome::Delete).await;
    let c = flow.counter_notice(&c).await;
    assert_state(&c, ClaimState::CounterNoticed);
    let e = erase(&s, "zqxjv@agents.example.org")
        .await
        .expect_err("refused");
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    assert_eq!(error_info(&e).0, "CONTACT_NEEDED");
    assert!(e.message().contains(&c.id), "{}", e.message());
    assert_eq!(claimant(&flow.get(&c.id).await).name, "Zqxjv Rights Agent");
    // A principal is not a person's data.
    let e = s
        .admin(&s.admin_token)
        .await
        .erase_personal_data(pb::ErasePersonalDataRequest {
            party: Some(pb::PartyKey {
                key: Some(pb::party_key::Key::PrincipalId(
                    flow.desk.claimant_id.clone(),
                )),
            }),
            reason: "x".to_string(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    s.stop().await;
}

#[tokio::test]
async fn the_desk_answers_an_access_and_an_erasure_request_from_the_terminal() {
    use crate::ctl::ctl;
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file(marked_notice("zqxjv@agents.example.org")).await;
    let email = "Zqxjv@Agents.example.org";
    let export = ctl(&s, &s.admin_token, &["parties", "export", "--email", email])
        .await
        .json();
    assert_eq!(export["claims"][0]["id"], c.id.as_str());
    assert_eq!(export["claims"][0]["claimant"]["phone"], "+44 20 7946 0958");
    let erased = ctl(
        &s,
        &s.admin_token,
        &[
            "parties",
            "erase",
            "--email",
            email,
            "--reason",
            "erasure request of 2026-11-30",
        ],
    )
    .await
    .ok();
    assert!(erased.stdout.contains("now"), "{}", erased.stdout);
    let export = ctl(&s, &s.admin_token, &["parties", "export", "--email", email])
        .await
        .json();
    assert_eq!(export["claims"][0]["claimant"]["phone"], "[erased]");
    assert_eq!(export["erased"], true);
    s.stop().await;
}

#[tokio::test]
async fn retention_erases_after_the_window_and_not_before() {
    const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);
    let s = TestServer::start_with(|c| c.policy.personal_data_retention = 30 * DAY).await;
    let flow = Flow::new(&s).await;
    let closed = flow.file(marked_notice("zqxjv@agents.example.org")).await;
    let closed = flow.withdraw(&closed).await;
    let open = flow.file(fixtures::dmca_notice()).await;
    let server = s.server.as_ref().expect("running");
    s.clock.advance(29 * DAY);
    assert_eq!(server.expire_personal_data().await.expect("pass"), 0);
    assert_eq!(
        claimant(&flow.get(&closed.id).await).name,
        "Zqxjv Rights Agent"
    );
    s.clock.advance(2 * DAY);
    assert_eq!(server.expire_personal_data().await.expect("pass"), 1);
    assert_eq!(claimant(&flow.get(&closed.id).await).name, "[erased]");
    // An open claim's parties are kept, however old.
    s.clock.advance(400 * DAY);
    server.expire_personal_data().await.expect("pass");
    assert_eq!(claimant(&flow.get(&open.id).await).name, "Shen Chen");
    assert!(flow.verify().await.ok);
    s.stop().await;
}
