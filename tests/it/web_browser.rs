//! The notice form and the claim page in a real browser (Debian's chromium, driven by
//! playwright-core from `web_browser.cjs`; both installed by `scripts/tools.sh`): a
//! notice filed through the form, a refused field marked, the receipt, the claim page,
//! a decision made over gRPC shown with its reasons, and a complaint sent from the
//! page, and the page opened without its token asking for it. With CI=true a missing
//! browser fails the test. With
//! TAKEDOWN_SCREENSHOTS=docs the screenshots of docs/web.md are written again.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use takedown::pb::{self, ClaimState, DecisionOutcome};

use crate::common::flow::{Flow, assert_state};
use crate::common::{TestServer, fixtures};

/// node and the playwright-core package, or why not.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join(".tools/node/node_modules");
    if !modules.join("playwright-core").exists() {
        return Err("playwright-core is not in .tools/node; run scripts/tools.sh".into());
    }
    let chromium =
        std::env::var("TAKEDOWN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !PathBuf::from(&chromium).exists() {
        return Err(format!(
            "{chromium} is missing; run scripts/tools.sh (as root)"
        ));
    }
    Ok((modules, root.join("tests/it/web_browser.cjs")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_filed_in_the_browser_is_decided_and_complained_about() {
    let (modules, script) = match tools() {
        Ok(found) => found,
        Err(why) => {
            assert!(std::env::var("CI").is_err(), "in CI: {why}");
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let shots = match std::env::var("TAKEDOWN_SCREENSHOTS") {
        Ok(dir) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir),
        Err(_) => s.dir.path().to_path_buf(),
    };
    let mut node = Command::new("node")
        .arg(&script)
        .arg("form")
        .arg(s.server.as_ref().unwrap().url())
        .arg(fixtures::ARTICLE_URL)
        .arg(&shots)
        .env("NODE_PATH", &modules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let mut stdin = node.stdin.take().unwrap();
    let mut stdout = BufReader::new(node.stdout.take().unwrap());
    let mut read_line = move || {
        tokio::task::block_in_place(|| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("read from node");
            line.trim().to_string()
        })
    };
    let first = read_line();
    let id = first
        .strip_prefix("CLAIM ")
        .unwrap_or_else(|| panic!("the form did not file a notice: {first:?}"))
        .to_string();
    // The reviewer decides over gRPC while the page is open.
    let claim = flow.get(&id).await;
    assert_state(&claim, ClaimState::Received);
    assert_eq!(claim.works.len(), 2, "the work added on the form");
    let claim = flow.start_review(&claim).await;
    flow.decide(&claim, DecisionOutcome::Delete).await;
    writeln!(stdin, "decided").unwrap();
    assert_eq!(
        read_line(),
        "OK",
        "the claim page did not show the decision or take the complaint"
    );
    let status = tokio::task::block_in_place(|| node.wait()).unwrap();
    assert!(status.success());
    // The complaint sent from the page reopened the claim.
    assert_state(&flow.get(&id).await, ClaimState::UnderReview);
    s.stop().await;
}

/// The other parties' forms on the claim page: the contributor counter-notifies a
/// deletion with the token the CMS issued, then the notifier reports legal action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contributor_counter_notifies_and_the_notifier_reports_legal_action() {
    let (modules, script) = match tools() {
        Ok(found) => found,
        Err(why) => {
            assert!(std::env::var("CI").is_err(), "in CI: {why}");
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut article = fixtures::article("forum-42", "https://news.example.org/forum/42");
    article.content_origin = pb::ContentOrigin::Contributed as i32;
    article.contributor = Some(pb::Contributor {
        account_id: "user-42".to_string(),
        display_name: "Li Wei".to_string(),
        email: "li.wei@example.org".to_string(),
    });
    flow.register(article).await;
    let filed = s
        .anonymous_claims()
        .await
        .file_claim(pb::FileClaimRequest {
            request_id: String::new(),
            claim: Some(fixtures::notice("forum-42", pb::Regime::Dmca)),
        })
        .await
        .expect("a public notice")
        .into_inner();
    let claim = filed.claim.expect("claim");
    let claim = flow.start_review(&claim).await;
    let claim = flow.decide(&claim, DecisionOutcome::Delete).await;
    let contributor = flow
        .publisher()
        .issue_party_token(pb::IssuePartyTokenRequest {
            claim_id: claim.id.clone(),
            party: pb::Party::Contributor as i32,
        })
        .await
        .expect("the CMS issues the contributor's token")
        .into_inner()
        .access_token;
    let page = format!("{}/claims/{}", s.server.as_ref().unwrap().url(), claim.id);
    let out = tokio::task::block_in_place(|| {
        Command::new("node")
            .arg(&script)
            .arg("parties")
            .arg(format!("{page}#token={contributor}&party=contributor"))
            .arg(format!("{page}#token={}", filed.access_token))
            .env("NODE_PATH", &modules)
            .stdin(Stdio::null())
            .output()
            .expect("node runs")
    });
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let claim = flow.get(&claim.id).await;
    assert_state(&claim, ClaimState::LegalActionPending);
    assert_eq!(
        claim.counter_notice.as_ref().map(|c| c.name.as_str()),
        Some("Li Wei")
    );
    s.stop().await;
}
