//! The exports end to end: a day at the desk (a DMCA deletion, a DSA correction, a PRC
//! rejection, a trusted flagger's notice, complaints that reverse decisions both ways,
//! a missed correction window, a counter-notice) exports statements of reasons that
//! the DSA Transparency Database's stand-in accepts and notices that Lumen's rules
//! accept, with no personal data; the submission worker sends them all to the
//! stand-in, retries after a 503, counts a puid the database already has as done, and
//! sends a backlog in batches of at most 100.

use std::time::{Duration, SystemTime};

use serde_json::Value;
use takedown::clock::Clock;
use takedown::notify::dsa_tdb::DsaTdbConfig;
use takedown::pb::{self, ClaimState, DecisionOutcome, Regime, Role, SubmissionState};
use takedown::server::Config;
use takedown::testkit::dsa_tdb::{self, DsaTdb};
use takedown::testkit::lumen;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::common::flow::{Flow, assert_state, decide_request};
use crate::common::{TestServer, fixtures};

const TOKEN: &str = "tdb-platform-token";
const WAIT: Duration = Duration::from_secs(30);
const HOUR: Duration = Duration::from_secs(3600);

/// A server that submits to `tdb`, retrying quickly.
async fn server(tdb: &DsaTdb) -> TestServer {
    let url = tdb.url();
    TestServer::start_with(move |c: &mut Config| {
        let mut tdb = DsaTdbConfig::new(url, TOKEN);
        tdb.retry_base = Duration::from_millis(200);
        c.dsa_tdb = Some(tdb);
    })
    .await
}

/// A claim under `regime` against a new article `id`, filed by `flow`'s claimant (or
/// by `claims`, a trusted flagger) and taken into review.
async fn under_review(
    flow: &Flow,
    id: &str,
    regime: Regime,
    claims: Option<&mut pb::claim_service_client::ClaimServiceClient<crate::common::Authed>>,
) -> pb::Claim {
    let url = format!("https://news.example.org/2024/01/15/{id}");
    flow.register(fixtures::article(id, &url)).await;
    let notice = fixtures::notice(id, regime);
    let c = match claims {
        Some(client) => client
            .file_claim(pb::FileClaimRequest {
                request_id: String::new(),
                claim: Some(notice),
            })
            .await
            .expect("file claim")
            .into_inner()
            .claim
            .expect("claim"),
        None => flow.file(notice).await,
    };
    flow.start_review(&c).await
}

async fn statements(
    flow: &Flow,
    start: Option<SystemTime>,
    end: Option<SystemTime>,
) -> Result<Vec<pb::ExportStatementsOfReasonsResponse>, tonic::Status> {
    let mut stream = flow
        .audit()
        .export_statements_of_reasons(pb::ExportStatementsOfReasonsRequest {
            start_time: start.map(Into::into),
            end_time: end.map(Into::into),
        })
        .await?
        .into_inner();
    let mut all = Vec::new();
    while let Some(s) = stream.next().await {
        all.push(s?);
    }
    Ok(all)
}

async fn notices(
    flow: &Flow,
    format: pb::ExportFormat,
) -> Result<Vec<pb::ExportNoticesResponse>, tonic::Status> {
    let mut stream = flow
        .audit()
        .export_notices(pb::ExportNoticesRequest {
            start_time: Some(fixtures::start_time().into()),
            end_time: None,
            format: format as i32,
        })
        .await?
        .into_inner();
    let mut all = Vec::new();
    while let Some(n) = stream.next().await {
        all.push(n?);
    }
    Ok(all)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// Lets the worker's retries come due (the clock is the test's) until the stand-in
/// holds `n` statements.
async fn until_accepted(s: &TestServer, tdb: &DsaTdb, n: usize) -> Vec<Value> {
    let started = std::time::Instant::now();
    while tdb.accepted().len() < n {
        assert!(
            started.elapsed() < WAIT,
            "{} of {n} statements accepted; calls: {:#?}",
            tdb.accepted().len(),
            tdb.calls()
        );
        s.clock.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tdb.accepted()
}

/// Contact details of the fixtures' parties: none may leave in an export.
const CONTACT: [&str; 7] = [
    "rights@legaldaily.example.cn",
    "+86 10 8413 0000",
    "Beisanhuan",
    "editor@news.example.org",
    "+1 555 0100",
    "Newsroom Way",
    "@",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_day_of_claims_exports_and_submits_valid_statements_and_notices() {
    let tdb = DsaTdb::start(TOKEN).await;
    let s = server(&tdb).await;
    let flow = Flow::new(&s).await;
    let (_, second_token) = s.principal("Second reviewer", &[Role::Reviewer]).await;
    let mut second = s.review(&second_token).await;
    let mut admin = s.admin(&s.admin_token).await;
    let hotline = admin
        .create_principal(pb::CreatePrincipalRequest {
            display_name: "Copyright hotline (trusted flagger)".into(),
            roles: vec![Role::Claimant as i32],
            trusted_flagger: true,
            ..Default::default()
        })
        .await
        .expect("trusted flagger")
        .into_inner();
    let mut trusted = s.claims(&hotline.token).await;
    // The database is down for the first call.
    tdb.respond_next(503, 1);

    // A DMCA deletion; its first submission meets the 503.
    let a = under_review(&flow, "a-dmca", Regime::Dmca, None).await;
    let a = flow.decide(&a, DecisionOutcome::Delete).await;
    assert_state(&a, ClaimState::Deleted);
    let started = std::time::Instant::now();
    while tdb.calls().is_empty() {
        assert!(started.elapsed() < WAIT, "the worker never called");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tdb.calls()[0].status, 503);
    // Meanwhile the statement reached the database another way (a manual upload of
    // `takedownctl export dsa-tdb`): its next submission meets the puid there.
    let exported = statements(&flow, None, None).await.expect("export");
    assert_eq!(exported.len(), 1);
    tdb.preload(json(&exported[0].statement_json));

    // A DSA correction, a PRC rejection, a trusted flagger's deletion.
    let b = under_review(&flow, "b-dsa", Regime::Dsa, None).await;
    flow.decide(&b, DecisionOutcome::Correct).await;
    let c = under_review(&flow, "c-prc", Regime::PrcCivilCode, None).await;
    flow.decide(&c, DecisionOutcome::Reject).await;
    let d = under_review(&flow, "d-trusted", Regime::Dsa, Some(&mut trusted)).await;
    assert!(d.trusted_flagger);
    flow.decide(&d, DecisionOutcome::Delete).await;
    // A rejection the claimant's complaint reverses into a deletion...
    let e = under_review(&flow, "e-complaint", Regime::Dsa, None).await;
    let e = flow.decide(&e, DecisionOutcome::Reject).await;
    // ... and a deletion the publisher's complaint reverses into a rejection.
    let f = under_review(&flow, "f-reversed", Regime::Dsa, None).await;
    let f = flow.decide(&f, DecisionOutcome::Delete).await;
    s.clock.advance(HOUR);
    for (claims, claim) in [
        (flow.claimant(), &e),
        (s.claims(&flow.desk.publisher).await, &f),
    ] {
        let mut claims = claims;
        claims
            .file_complaint(pb::FileComplaintRequest {
                claim_id: claim.id.clone(),
                etag: String::new(),
                text: "The decision overlooked the licence on file.".into(),
            })
            .await
            .expect("complaint");
    }
    let e = flow.get(&e.id).await;
    let e = second
        .decide_claim(decide_request(&e, DecisionOutcome::Delete))
        .await
        .expect("complaint decided")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&e, ClaimState::Deleted);
    let f = flow.get(&f.id).await;
    let f = second
        .decide_claim(decide_request(&f, DecisionOutcome::Reject))
        .await
        .expect("complaint decided")
        .into_inner()
        .claim
        .expect("claim");
    assert_state(&f, ClaimState::Rejected);
    // The publisher answers the DMCA deletion with a counter-notice.
    flow.counter_notice(&a).await;
    // A correction nobody makes (nor b's): the window passes and the system deletes.
    let g = under_review(&flow, "g-missed", Regime::Dsa, None).await;
    let g = flow.decide(&g, DecisionOutcome::Correct).await;
    // The period ends before an instant after g's decision (ends are exclusive).
    let before_sweep = s.clock.now() + Duration::from_secs(1);
    s.clock.advance(Duration::from_secs(2 * 86_400));
    s.server
        .as_ref()
        .expect("running")
        .sweep()
        .await
        .expect("sweep");
    assert_state(&flow.get(&g.id).await, ClaimState::Deleted);

    // ---- ExportStatementsOfReasons ---------------------------------------------
    let all = statements(&flow, Some(fixtures::start_time()), None)
        .await
        .expect("export");
    let by_claim = |id: &str| -> Vec<Value> {
        all.iter()
            .filter(|x| x.claim_id == id)
            .map(|x| json(&x.statement_json))
            .collect()
    };
    assert_eq!(
        all.len(),
        8,
        "a, b and g (corrections whose windows then passed) twice, d, e, f (as first decided): {all:#?}"
    );
    for x in &all {
        let st = json(&x.statement_json);
        assert_eq!(dsa_tdb::violations(&st), Default::default(), "{st}");
        assert_eq!(st["puid"], x.puid);
        assert_eq!(x.puid, format!("takedown-{}-{}", x.claim_id, x.seq));
    }
    let visibility = |v: &Value| v["decision_visibility"][0].as_str().unwrap().to_string();
    assert_eq!(
        visibility(&by_claim(&a.id)[0]),
        "DECISION_VISIBILITY_CONTENT_REMOVED"
    );
    assert_eq!(
        by_claim(&b.id).iter().map(visibility).collect::<Vec<_>>(),
        [
            "DECISION_VISIBILITY_OTHER",
            "DECISION_VISIBILITY_CONTENT_REMOVED"
        ]
    );
    assert!(by_claim(&c.id).is_empty(), "a rejection restricts nothing");
    assert_eq!(by_claim(&d.id)[0]["source_type"], "SOURCE_TRUSTED_FLAGGER");
    assert_eq!(by_claim(&a.id)[0]["source_type"], "SOURCE_ARTICLE_16");
    assert_eq!(
        visibility(&by_claim(&e.id)[0]),
        "DECISION_VISIBILITY_CONTENT_REMOVED"
    );
    // f's deletion exports as it was decided, though a complaint reversed it since.
    assert_eq!(
        visibility(&by_claim(&f.id)[0]),
        "DECISION_VISIBILITY_CONTENT_REMOVED"
    );
    let g_statements = by_claim(&g.id);
    assert_eq!(
        g_statements.iter().map(visibility).collect::<Vec<_>>(),
        [
            "DECISION_VISIBILITY_OTHER",
            "DECISION_VISIBILITY_CONTENT_REMOVED"
        ]
    );
    assert_eq!(g_statements[0]["application_date"], "2024-01-15");
    assert_eq!(g_statements[1]["application_date"], "2024-01-17");
    let text: String = all.iter().map(|x| x.statement_json.clone()).collect();
    for personal in CONTACT
        .iter()
        .chain(&["Shen Chen", "Ying Ying", "Legal Daily"])
    {
        assert!(
            !text.contains(personal),
            "{personal} in a statement: {text}"
        );
    }
    // A period: only what was journaled in it.
    let early = statements(&flow, Some(fixtures::start_time()), Some(before_sweep))
        .await
        .expect("export");
    assert_eq!(early.len(), 6);
    let later = statements(&flow, Some(before_sweep), None)
        .await
        .expect("export");
    assert_eq!(later.len(), 2, "b's and g's windows passed");
    // Bad periods are refused, saying why.
    let e1 = statements(&flow, Some(before_sweep), Some(fixtures::start_time()))
        .await
        .expect_err("end before start");
    assert_eq!(e1.code(), Code::InvalidArgument);
    assert!(e1.message().contains("end_time"), "{}", e1.message());
    let e2 = statements(&flow, Some(s.clock.now() + HOUR), None)
        .await
        .expect_err("a future start");
    assert_eq!(e2.code(), Code::InvalidArgument);

    // ---- The submission worker -------------------------------------------------
    // Eight statements, one of them already there: seven accepted by calls.
    let accepted = until_accepted(&s, &tdb, 8).await;
    let mut puids: Vec<&str> = accepted.iter().filter_map(|x| x["puid"].as_str()).collect();
    puids.sort();
    let mut want: Vec<&str> = all.iter().map(|x| x.puid.as_str()).collect();
    want.sort();
    assert_eq!(puids, want);
    let calls = tdb.calls();
    assert!(calls.iter().all(|c| c.statements <= dsa_tdb_batch()));
    assert!(
        calls.iter().any(|c| c.status == 422
            && c.answer["errors"]["existing_puids"][0] == exported[0].puid),
        "the duplicate was answered as the database answers it: {calls:#?}"
    );
    // Every submission ends SUBMITTED; a's after the 503 and the duplicate.
    let settled = std::time::Instant::now();
    loop {
        let now = statements(&flow, None, None).await.expect("export");
        let states: Vec<SubmissionState> = now
            .iter()
            .map(|x| x.submission.as_ref().expect("a submission record").state())
            .collect();
        if states.iter().all(|s| *s == SubmissionState::Submitted) {
            let a_sub = now[0].submission.clone().expect("a's record");
            assert_eq!(a_sub.puid, exported[0].puid);
            assert_eq!(a_sub.attempt_count, 2, "{a_sub:?}");
            break;
        }
        assert!(settled.elapsed() < WAIT, "not all SUBMITTED: {states:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let attempts: Vec<String> = flow
        .claim_audit(&a.id)
        .await
        .into_iter()
        .filter(|x| x.action == "SubmitStatement")
        .map(|x| x.detail)
        .collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(attempts[0].contains("HTTP 503"), "{attempts:?}");
    assert!(
        attempts[1].contains("already had this puid"),
        "{attempts:?}"
    );

    // ---- ExportNotices (Lumen) ---------------------------------------------------
    let docs = notices(&flow, pb::ExportFormat::Lumen)
        .await
        .expect("export");
    assert_eq!(docs.len(), 8, "seven notices and a counter-notice");
    for n in &docs {
        let doc = json(&n.document_json);
        assert_eq!(lumen::violations(&doc), Vec::<String>::new(), "{doc}");
    }
    let doc_of = |id: &str, counter: bool| {
        json(
            &docs
                .iter()
                .find(|n| n.claim_id == id && n.counter_notice == counter)
                .expect("exported")
                .document_json,
        )
    };
    assert_eq!(doc_of(&a.id, false)["notice"]["type"], "DMCA");
    assert_eq!(doc_of(&a.id, false)["notice"]["action_taken"], "Yes");
    assert_eq!(doc_of(&a.id, true)["notice"]["type"], "Counternotice");
    assert_eq!(doc_of(&b.id, false)["notice"]["action_taken"], "Partial");
    assert_eq!(doc_of(&c.id, false)["notice"]["type"], "Other");
    assert_eq!(doc_of(&c.id, false)["notice"]["jurisdiction_list"], "CN");
    assert_eq!(doc_of(&c.id, false)["notice"]["action_taken"], "No");
    assert_eq!(doc_of(&f.id, false)["notice"]["action_taken"], "No");
    let text: String = docs.iter().map(|n| n.document_json.clone()).collect();
    for contact in CONTACT {
        assert!(
            !text.contains(contact),
            "{contact} in a Lumen document: {text}"
        );
    }
    let e3 = notices(&flow, pb::ExportFormat::Unspecified)
        .await
        .expect_err("no format");
    assert_eq!(e3.code(), Code::InvalidArgument);
}

fn dsa_tdb_batch() -> usize {
    takedown::notify::dsa_tdb::MAX_BATCH
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backlog_is_submitted_in_batches_of_at_most_100() {
    let tdb = DsaTdb::start(TOKEN).await;
    let s = server(&tdb).await;
    let flow = Flow::new(&s).await;
    // The database is down while 105 deletions are decided.
    tdb.respond_next(503, 10_000);
    for i in 0..105 {
        let c = under_review(&flow, &format!("backlog-{i}"), Regime::Dmca, None).await;
        flow.decide(&c, DecisionOutcome::Delete).await;
    }
    let down = tdb.calls().len();
    assert!(tdb.accepted().is_empty());
    tdb.respond_normally();
    s.clock.advance(Duration::from_secs(60));
    let accepted = until_accepted(&s, &tdb, 105).await;
    let mut puids: Vec<&str> = accepted.iter().filter_map(|x| x["puid"].as_str()).collect();
    puids.dedup();
    assert_eq!(puids.len(), 105);
    let after: Vec<usize> = tdb.calls()[down..]
        .iter()
        .filter(|c| c.status == 201)
        .map(|c| c.statements)
        .collect();
    assert!(after.iter().all(|n| *n <= 100), "{after:?}");
    assert!(after.contains(&100), "a full batch of 100: {after:?}");
}

/// Runs the built takedownctl against `s` as `token`: exit code, stdout, stderr.
async fn takedownctl(s: &TestServer, token: &str, args: &[&str]) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_takedownctl"));
    command
        .args(args)
        .env("TAKEDOWN_ADDR", s.server.as_ref().expect("running").url())
        .env("TAKEDOWN_TOKEN", token);
    for var in [
        "TAKEDOWN_TOKEN_FILE",
        "TAKEDOWN_OUTPUT",
        "TAKEDOWNCTL_TLS_CA",
    ] {
        command.env_remove(var);
    }
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run takedownctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takedownctl_exports_a_day_as_json_lines() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let a = under_review(&flow, "ctl-a", Regime::Dmca, None).await;
    flow.decide(&a, DecisionOutcome::Delete).await;
    let b = under_review(&flow, "ctl-b", Regime::Dsa, None).await;
    flow.decide(&b, DecisionOutcome::Correct).await;
    let auditor = flow.desk.auditor.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("statements.jsonl");
    let path = file.to_str().expect("a UTF-8 path");

    let day = ["--from", "2024-01-15", "--to", "2024-01-15"];
    let (code, _, stderr) = takedownctl(
        &s,
        &auditor,
        &[&["export", "dsa-tdb"], &day[..], &["--out", path]].concat(),
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2 line(s) written"), "{stderr}");
    let lines = std::fs::read_to_string(&file).expect("the export");
    let statements: Vec<Value> = lines.lines().map(json).collect();
    assert_eq!(statements.len(), 2);
    for st in &statements {
        assert_eq!(dsa_tdb::violations(st), Default::default(), "{st}");
    }

    let (code, stdout, stderr) =
        takedownctl(&s, &auditor, &[&["export", "lumen"], &day[..]].concat()).await;
    assert_eq!(code, 0, "{stderr}");
    let docs: Vec<Value> = stdout.lines().map(json).collect();
    assert_eq!(docs.len(), 2);
    for doc in &docs {
        assert_eq!(lumen::violations(doc), Vec::<String>::new(), "{doc}");
    }

    // The day before holds nothing; a period that ends before it starts is refused.
    let before = [
        "export",
        "dsa-tdb",
        "--from",
        "2024-01-14",
        "--to",
        "2024-01-14",
    ];
    let (code, stdout, _) = takedownctl(&s, &auditor, &before).await;
    assert_eq!((code, stdout.as_str()), (0, ""));
    let swapped = [
        "export",
        "lumen",
        "--from",
        "2024-01-16",
        "--to",
        "2024-01-15",
    ];
    let (code, _, stderr) = takedownctl(&s, &auditor, &swapped).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--to"), "{stderr}");
    // Reviewers may not export.
    let (code, _, stderr) = takedownctl(&s, &flow.desk.reviewer, &before).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("PERMISSION_DENIED"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_submission_survives_a_restart_without_sled() {
    let tdb = DsaTdb::start(TOKEN).await;
    let mut s = server(&tdb).await;
    let flow = Flow::new(&s).await;
    tdb.respond_next(503, 10_000);
    let c = under_review(&flow, "restart", Regime::Dsa, None).await;
    flow.decide(&c, DecisionOutcome::Delete).await;
    let exported = statements(&flow, None, None).await.expect("export");
    assert_eq!(exported.len(), 1);

    // Stop, throw sled away (the record must come back from the journal), start again.
    s.server
        .take()
        .expect("running")
        .stop()
        .await
        .expect("stops");
    std::fs::remove_dir_all(s.dir.path().join("sled")).expect("remove sled");
    let mut config = TestServer::config(s.dir.path(), s.clock.clone());
    let mut submit = DsaTdbConfig::new(tdb.url(), TOKEN);
    submit.retry_base = Duration::from_millis(200);
    config.dsa_tdb = Some(submit);
    tdb.respond_normally();
    s.server = Some(
        takedown::server::RunningServer::start(config)
            .await
            .expect("restarts"),
    );
    let accepted = until_accepted(&s, &tdb, 1).await;
    assert_eq!(accepted[0]["puid"], exported[0].puid);
    assert_eq!(json(&exported[0].statement_json), accepted[0]);
}
