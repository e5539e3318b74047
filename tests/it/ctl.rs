//! `takedownctl` as an operator runs it: the built binary against an in-process server
//! on 127.0.0.1:0. Table and JSON output, exit codes, BadRequest field violations one
//! per line, `claims list --all` walking pages, and the desk's verbs end to end.

use std::process::{Command, Output};

use crate::common::flow::{Flow, assert_state};
use crate::common::{TestServer, fixtures};
use serde_json::Value;
use takedown::pb::{ClaimState, Regime};

/// One run of takedownctl: exit code, stdout, stderr.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn json(&self) -> Value {
        assert_eq!(self.code, 0, "takedownctl failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).expect("stdout is one JSON document")
    }

    pub(crate) fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "takedownctl failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs takedownctl against `s` with `token`, with a clean environment for its
/// variables, so the caller's shell cannot change the outcome.
pub(crate) async fn ctl(s: &TestServer, token: &str, args: &[&str]) -> Run {
    let url = s.server.as_ref().expect("running").url();
    ctl_at(&url, token, args).await
}

pub(crate) async fn ctl_at(url: &str, token: &str, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_takedownctl"));
    command
        .args(args)
        .env("TAKEDOWN_ADDR", url)
        .env("TAKEDOWN_TOKEN", token);
    for var in [
        "TAKEDOWN_TOKEN_FILE",
        "TAKEDOWN_OUTPUT",
        "TAKEDOWNCTL_TLS_CA",
        "TAKEDOWNCTL_TLS_CERT",
        "TAKEDOWNCTL_TLS_KEY",
        "TAKEDOWNCTL_TLS_DOMAIN",
    ] {
        command.env_remove(var);
    }
    let out: Output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run takedownctl");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn principals_create_and_list_as_canonical_json() {
    let s = TestServer::start().await;
    let created = ctl(
        &s,
        &s.admin_token,
        &[
            "-o",
            "json",
            "principals",
            "create",
            "--name",
            "Compliance desk",
            "--role",
            "reviewer",
            "--role",
            "AUDITOR",
        ],
    )
    .await
    .json();
    let principal = &created["principal"];
    assert_eq!(principal["displayName"], "Compliance desk");
    assert_eq!(
        principal["roles"],
        serde_json::json!(["ROLE_REVIEWER", "ROLE_AUDITOR"])
    );
    assert_eq!(principal["revoked"], false, "defaults are printed too");
    let token = created["token"].as_str().expect("token");
    assert!(token.starts_with("tdk_"));

    // The new token works: a reviewer may verify the audit log.
    let verify = ctl(&s, token, &["--output", "json", "audit", "verify"])
        .await
        .json();
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["entriesChecked"], "2", "uint64 is a string in JSON");

    let listed = ctl(&s, &s.admin_token, &["-o", "json", "principals", "list"])
        .await
        .json();
    let names: Vec<&str> = listed["principals"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["displayName"].as_str())
        .collect();
    assert_eq!(names, ["admin", "Compliance desk"]);

    let id = principal["id"].as_str().expect("id");
    let table = ctl(&s, &s.admin_token, &["principals", "revoke", id])
        .await
        .ok();
    assert!(table.stdout.contains("revoked     yes"), "{}", table.stdout);
    let refused = ctl(&s, token, &["audit", "verify"]).await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("UNAUTHENTICATED"),
        "{}",
        refused.stderr
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_works_a_claim_from_the_terminal() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claim = flow.file_claim().await;
    let reviewer = flow.desk.reviewer.clone();

    let queue = ctl(&s, &reviewer, &["claims", "list", "--state", "received"])
        .await
        .ok();
    let mut lines = queue.stdout.lines();
    let header = lines.next().expect("header");
    for column in ["ID", "STATE", "ARTICLE", "AGE", "NEXT DEADLINE", "ASSIGNEE"] {
        assert!(header.contains(column), "{header}");
    }
    let row = lines.next().expect("one claim");
    assert!(row.starts_with(&claim.id), "{row}");
    assert!(
        row.contains("RECEIVED") && row.contains(fixtures::ARTICLE_ID),
        "{row}"
    );
    assert!(
        row.contains(" review"),
        "the review deadline is shown: {row}"
    );

    let started = ctl(&s, &reviewer, &["-o", "json", "review", "start", &claim.id])
        .await
        .json();
    assert_eq!(started["claim"]["state"], "CLAIM_STATE_UNDER_REVIEW");
    assert_eq!(started["claim"]["assignee"], flow.desk.reviewer_id.as_str());

    let mine = ctl(
        &s,
        &reviewer,
        &["claims", "list", "--assignee", &flow.desk.reviewer_id],
    )
    .await
    .ok();
    assert!(mine.stdout.contains(&claim.id) && mine.stdout.contains("UNDER_REVIEW"));

    let decided = ctl(
        &s,
        &reviewer,
        &[
            "review",
            "decide",
            &claim.id,
            "--outcome",
            "correct",
            "--facts",
            "The first paragraph is the claimant's report.",
            "--legal-ground",
            "17 U.S.C. 512(c)",
            "--explanation",
            "Republished without licence.",
            "--item",
            "0",
        ],
    )
    .await
    .ok();
    assert!(
        decided.stdout.contains("CORRECTION_PENDING"),
        "{}",
        decided.stdout
    );
    assert!(decided.stdout.contains("decision       CORRECT by"));

    ctl(
        &s,
        &flow.desk.publisher,
        &[
            "correction",
            "record",
            &claim.id,
            "--summary",
            "First paragraph rewritten.",
        ],
    )
    .await
    .ok();
    assert_state(&flow.get(&claim.id).await, ClaimState::Corrected);

    let status = ctl(
        &s,
        &flow.desk.reviewer,
        &["articles", "status", fixtures::ARTICLE_ID],
    )
    .await
    .ok();
    let row = status.stdout.lines().nth(1).expect("row");
    assert!(row.contains("CORRECTED") && row.contains("  2  "), "{row}");

    // claims show: the claim and its history, as a table and as JSON.
    let shown = ctl(&s, &reviewer, &["claims", "show", &claim.id])
        .await
        .ok();
    for action in [
        "FileClaim",
        "StartReview",
        "DecideClaim",
        "RecordCorrection",
    ] {
        assert!(shown.stdout.contains(action), "{}", shown.stdout);
    }
    assert!(shown.stdout.contains("UNDER_REVIEW -> CORRECTION_PENDING"));
    let shown = ctl(&s, &reviewer, &["-o", "json", "claims", "show", &claim.id])
        .await
        .json();
    assert_eq!(shown["claim"]["state"], "CLAIM_STATE_CORRECTED");
    let actions: Vec<&str> = shown["auditEntries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "FileClaim",
            "StartReview",
            "DecideClaim",
            "RecordCorrection"
        ]
    );

    // audit tail: the latest entries of the whole log, one JSON object per line.
    let tail = ctl(
        &s,
        &flow.desk.auditor,
        &["-o", "json", "audit", "tail", "-n", "2"],
    )
    .await
    .ok();
    let entries: Vec<Value> = tail
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["action"], "RecordCorrection");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legal_resolve_restores_a_dismissed_claim() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claim = flow
        .claim_in(fixtures::ARTICLE_ID, ClaimState::LegalActionPending)
        .await;
    let run = ctl(
        &s,
        &flow.desk.reviewer,
        &[
            "-o",
            "json",
            "legal",
            "resolve",
            &claim.id,
            "--outcome",
            "dismissed",
            "--note",
            "Case 3:24-cv-00123 dismissed.",
            "--etag",
            &claim.etag,
        ],
    )
    .await
    .json();
    assert_eq!(run["claim"]["state"], "CLAIM_STATE_RESTORED");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_non_zero_with_the_servers_message() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let reviewer = flow.desk.reviewer.clone();

    // Unknown claim: NOT_FOUND, exit 1, the message on stderr, nothing on stdout.
    let missing = ctl(
        &s,
        &reviewer,
        &["claims", "show", "01900000-0000-7000-8000-000000000000"],
    )
    .await;
    assert_eq!(missing.code, 1);
    assert!(missing.stdout.is_empty());
    assert!(
        missing.stderr.starts_with("takedownctl: NOT_FOUND: "),
        "{}",
        missing.stderr
    );

    // A transition not allowed now names the current state.
    let claim = flow.file_claim().await;
    let refused = ctl(
        &s,
        &flow.desk.publisher,
        &["correction", "record", &claim.id, "--summary", "Too early."],
    )
    .await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("FAILED_PRECONDITION")
            && refused
                .stderr
                .contains("current_state=CLAIM_STATE_RECEIVED"),
        "{}",
        refused.stderr
    );

    // A role that may not call the RPC.
    let denied = ctl(&s, &flow.desk.claimant, &["audit", "verify"]).await;
    assert_eq!(denied.code, 1);
    assert!(
        denied.stderr.contains("PERMISSION_DENIED"),
        "{}",
        denied.stderr
    );

    // Bad invocations are exit 2 (clap's own, and ours).
    assert_eq!(
        ctl(&s, &reviewer, &["claims", "list", "--state", "pending"])
            .await
            .code,
        2
    );
    let unreadable = ctl(
        &s,
        "",
        &[
            "--token-file",
            "/nonexistent/admin.token",
            "audit",
            "verify",
        ],
    )
    .await;
    assert_eq!(unreadable.code, 2, "{}", unreadable.stderr);

    // A flag beats the environment: --token-file wins over TAKEDOWN_TOKEN.
    let token_file = s.dir.path().join("admin.token");
    let as_admin = ctl(
        &s,
        &reviewer,
        &[
            "--token-file",
            token_file.to_str().expect("utf-8 path"),
            "principals",
            "list",
        ],
    )
    .await;
    assert_eq!(as_admin.code, 0, "{}", as_admin.stderr);

    // Nobody listening: exit 3.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let down = ctl_at(
        &format!("http://127.0.0.1:{port}"),
        &reviewer,
        &["claims", "list"],
    )
    .await;
    assert_eq!(down.code, 3, "{}", down.stderr);
    assert!(down.stderr.contains("cannot reach"), "{}", down.stderr);
    s.stop().await;
}

/// Page tokens are base64url, so one may begin with `-`: takedownctl passes it to the
/// server (which refuses this made-up one) instead of taking it for a flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_token_may_begin_with_a_dash() {
    let s = TestServer::start().await;
    for args in [
        ["claims", "list", "--page-token", "-zAAAAAAAAAA"],
        ["principals", "list", "--page-token", "-zAAAAAAAAAA"],
    ] {
        let run = ctl(&s, &s.admin_token, &args).await;
        assert_eq!(
            run.code, 1,
            "{args:?}: refused by the server: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("page_token"),
            "{args:?}: {}",
            run.stderr
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_violations_are_printed_one_per_line() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claim = flow.file_claim().await;
    flow.start_review(&claim).await;
    let run = ctl(
        &s,
        &flow.desk.reviewer,
        &[
            "review",
            "decide",
            &claim.id,
            "--outcome",
            "reject",
            "--facts",
            "",
            "--legal-ground",
            "",
            "--explanation",
            "",
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines[0].starts_with("takedownctl: INVALID_ARGUMENT: "),
        "{}",
        run.stderr
    );
    let violations: Vec<&str> = lines[1..]
        .iter()
        .filter_map(|l| l.strip_prefix("  "))
        .collect();
    for field in [
        "statement_of_reasons.facts",
        "statement_of_reasons.legal_ground",
        "statement_of_reasons.explanation",
    ] {
        assert_eq!(
            violations
                .iter()
                .filter(|v| v.starts_with(&format!("{field}: ")))
                .count(),
            1,
            "one line for {field} in:\n{}",
            run.stderr
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_list_all_walks_every_page() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut filed = Vec::new();
    for _ in 0..7 {
        filed.push(
            flow.file(fixtures::notice(fixtures::ARTICLE_ID, Regime::Dmca))
                .await
                .id,
        );
    }
    let reviewer = flow.desk.reviewer.clone();

    // One page: two claims and a pointer to the next page on stderr.
    let first = ctl(
        &s,
        &reviewer,
        &["-o", "json", "claims", "list", "--page-size", "2"],
    )
    .await;
    let page = first.json();
    assert_eq!(page["claims"].as_array().expect("claims").len(), 2);
    let token = page["nextPageToken"].as_str().expect("token").to_string();
    assert!(!token.is_empty());
    let second = ctl(
        &s,
        &reviewer,
        &[
            "-o",
            "json",
            "claims",
            "list",
            "--page-size",
            "2",
            "--page-token",
            &token,
        ],
    )
    .await
    .json();
    assert_eq!(second["claims"][0]["id"], filed[2].as_str());

    // --all: every claim, in order, and no progress noise when stderr is not a terminal.
    let all = ctl(
        &s,
        &reviewer,
        &["-o", "json", "claims", "list", "--page-size", "2", "--all"],
    )
    .await;
    assert!(all.stderr.is_empty(), "quiet when piped: {:?}", all.stderr);
    let all = all.json();
    let ids: Vec<&str> = all["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, filed.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(all["nextPageToken"], "");

    let table = ctl(
        &s,
        &reviewer,
        &["claims", "list", "--page-size", "3", "--all"],
    )
    .await
    .ok();
    assert_eq!(table.stdout.lines().count(), 1 + 7);

    // --overdue, by the server's clock: past the review target every received claim
    // is overdue; a corrected claim has no deadline left.
    let done = flow
        .claim_in(fixtures::ARTICLE_ID, ClaimState::Corrected)
        .await;
    let none = ctl(
        &s,
        &reviewer,
        &["-o", "json", "claims", "list", "--overdue"],
    )
    .await
    .json();
    assert_eq!(none["claims"], serde_json::json!([]), "{none}");
    s.clock.advance(std::time::Duration::from_secs(60 * 86_400));
    let overdue = ctl(
        &s,
        &reviewer,
        &[
            "-o",
            "json",
            "claims",
            "list",
            "--overdue",
            "--by-deadline",
            "--all",
        ],
    )
    .await
    .json();
    let ids: Vec<&str> = overdue["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 7, "{overdue}");
    assert!(!ids.contains(&done.id.as_str()));
    s.stop().await;
}

#[tokio::test]
async fn principals_suspend_and_unsuspend_from_the_terminal() {
    let s = TestServer::start().await;
    let created = ctl(
        &s,
        &s.admin_token,
        &[
            "--output",
            "json",
            "principals",
            "create",
            "--name",
            "Agency",
            "--role",
            "claimant",
            "--trusted-flagger",
        ],
    )
    .await
    .json();
    assert_eq!(created["principal"]["trustedFlagger"], true);
    let id = created["principal"]["id"].as_str().expect("id").to_string();
    let suspend = [
        "--output",
        "json",
        "principals",
        "suspend",
        &id,
        "--reason",
        "manifestly unfounded notices after a warning",
        "--for",
        "30days",
    ];
    let refused = ctl(&s, &s.admin_token, &suspend).await;
    assert_eq!(refused.code, 1, "no warning yet: {}", refused.stderr);
    assert!(
        refused.stderr.contains("prior warning"),
        "{}",
        refused.stderr
    );
    ctl(
        &s,
        &s.admin_token,
        &[
            "parties",
            "warn",
            "--principal",
            &id,
            "--reason",
            "3 manifestly unfounded notices",
        ],
    )
    .await
    .ok();
    let suspended = ctl(
        &s,
        &s.admin_token,
        &[
            "--output",
            "json",
            "principals",
            "suspend",
            &id,
            "--reason",
            "manifestly unfounded notices after a warning",
            "--for",
            "30days",
        ],
    )
    .await
    .json();
    assert!(suspended["principal"]["suspendedUntil"].is_string());
    let record = ctl(
        &s,
        &s.admin_token,
        &["-o", "json", "parties", "show", "--principal", &id],
    )
    .await
    .json();
    assert_eq!(
        (record["warnings"].as_str(), record["suspensions"].as_str()),
        (Some("1"), Some("1"))
    );
    let table = ctl(
        &s,
        &s.admin_token,
        &["principals", "unsuspend", &id, "--reason", "appeal granted"],
    )
    .await
    .ok();
    assert!(
        !table.stdout.contains("suspended until"),
        "{}",
        table.stdout
    );
    s.stop().await;
}

/// `claims token`: the CMS gets a party's claim token from the terminal; a claim
/// without a contributor has none, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_token_issues_a_party_token() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let claim = flow.file_claim().await;
    // The publisher may not act in the notifier's name; an admin may re-issue it.
    let refused = ctl(
        &s,
        &flow.desk.publisher,
        &["claims", "token", &claim.id, "--party", "notifier"],
    )
    .await;
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("admin"), "{}", refused.stderr);
    let run = ctl(
        &s,
        &s.admin_token,
        &["claims", "token", &claim.id, "--party", "notifier"],
    )
    .await
    .ok();
    let token = run.stdout.trim();
    assert!(token.starts_with("tdk_"), "{token}");
    // The token opens the claim.
    takedown::pb::claim_service_client::ClaimServiceClient::new(crate::common::authed(
        &s.channel().await,
        token,
    ))
    .get_claim(takedown::pb::GetClaimRequest {
        claim_id: claim.id.clone(),
    })
    .await
    .expect("the issued token reads the claim");
    let run = ctl(
        &s,
        &flow.desk.publisher,
        &["claims", "token", &claim.id, "--party", "contributor"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("contributor"), "{}", run.stderr);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parties_show_warn_and_suspend_a_notifier_email() {
    let s = TestServer::start().await;
    let email = "Abuser@Example.org";
    let shown = ctl(&s, &s.admin_token, &["parties", "show", "--email", email])
        .await
        .ok();
    assert!(
        shown.stdout.contains("notifier abuser@example.org"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("warnings"), "{}", shown.stdout);
    let suspend = [
        "parties",
        "suspend",
        "--email",
        email,
        "--reason",
        "5 manifestly unfounded notices after the warning",
        "--for",
        "30days",
    ];
    let refused = ctl(&s, &s.admin_token, &suspend).await;
    assert_eq!(refused.code, 1, "no warning yet: {}", refused.stderr);
    let warned = ctl(
        &s,
        &s.admin_token,
        &[
            "-o",
            "json",
            "parties",
            "warn",
            "--email",
            email,
            "--reason",
            "3 manifestly unfounded notices",
        ],
    )
    .await
    .json();
    assert_eq!(warned["warnings"], "1");
    let suspended = ctl(&s, &s.admin_token, &suspend).await.ok();
    assert!(
        suspended.stdout.contains("suspended until"),
        "{}",
        suspended.stdout
    );
    // One key at a time.
    let both = ctl(
        &s,
        &s.admin_token,
        &["parties", "show", "--email", email, "--contributor", "u-1"],
    )
    .await;
    assert_eq!(both.code, 2, "{}", both.stderr);
    s.stop().await;
}
