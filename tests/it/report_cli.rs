//! `takedownctl report` as an auditor runs it: the built binary against an in-process
//! server on 127.0.0.1:0, over a day with one decided and one open notice. CSV row by
//! row, the canonical JSON against the RPC's own answer, the table, and bad dates.

use std::time::Duration;

use crate::common::TestServer;
use crate::common::fixtures;
use crate::common::flow::Flow;
use crate::ctl::ctl;
use takedown::pb::{self, DecisionOutcome, Regime};

/// One DMCA notice taken after 5 minutes and deleted after 30, and one DSA notice
/// left open, on 2024-01-15 (the test clock's day).
async fn one_day(s: &TestServer) -> Flow {
    let flow = Flow::new(s).await;
    let c = flow.file_claim().await;
    s.clock.advance(Duration::from_secs(5 * 60));
    let c = flow.start_review(&c).await;
    s.clock.advance(Duration::from_secs(25 * 60));
    flow.decide(&c, DecisionOutcome::Delete).await;
    flow.file(fixtures::notice(fixtures::ARTICLE_ID, Regime::Dsa))
        .await;
    flow
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_as_csv_has_one_row_per_number() {
    let s = TestServer::start().await;
    let flow = one_day(&s).await;
    let head = flow.verify().await.head_seq;
    let auditor = flow.desk.auditor.clone();
    let run = ctl(
        &s,
        &auditor,
        &[
            "report",
            "--from",
            "2024-01-15",
            "--to",
            "2024-01-15",
            "--format",
            "csv",
        ],
    )
    .await
    .ok();
    let want = format!(
        "figure,key,value
start_time,,2024-01-15T00:00:00Z
end_time,,2024-01-16T00:00:00Z
notices,DMCA/NOTICE,1
items_requested_by_source,DMCA/NOTICE,1
notices,DSA/NOTICE,1
items_requested_by_source,DSA/NOTICE,1
items_requested,,2
notices_by_category,INTELLECTUAL_PROPERTY_INFRINGEMENTS,1
notices_by_category,NOT_SPECIFIED_NOTICE,1
notices_by_content_type,TEXT,2
decisions,,1
decisions_by_ground,ILLEGAL_CONTENT,1
automated_decisions,,0
outcomes,CORRECTED,0
outcomes,DELETED,1
outcomes,REJECTED,0
outcomes,WITHDRAWN,0
outcomes,CLOSED_INCOMPLETE,0
outcomes,RESTORED,0
median_time_to_decision,seconds,1800
p90_time_to_decision,seconds,1800
median_time_to_first_action,seconds,300
p90_time_to_first_action,seconds,300
counter_notices,,0
counter_notices_restored,,0
legal_actions,,0
legal_actions_upheld,,0
legal_actions_dismissed,,0
complaints,,0
complaint_decisions,REJECT,0
complaint_decisions,CORRECT,0
complaint_decisions,DELETE,0
complaint_reversals,,0
complaint_outcomes,UPHELD,0
complaint_outcomes,REVERSED,0
complaint_outcomes,WITHDRAWN,0
median_time_to_complaint_decision,seconds,
suspensions,,0
party_suspensions,,0
suspensions_by_kind,NOTIFIERS,0
suspensions_by_kind,COMPLAINANTS,0
suspensions_by_kind,CONTRIBUTORS,0
repeat_infringers,,0
head_seq,,{head}
"
    );
    assert_eq!(run.stdout, want);

    // The day before holds nothing.
    let before = ctl(
        &s,
        &auditor,
        &[
            "report",
            "--from",
            "2024-01-14",
            "--to",
            "2024-01-14",
            "--format",
            "csv",
        ],
    )
    .await
    .ok();
    assert!(
        before.stdout.contains("\ndecisions,,0\n"),
        "{}",
        before.stdout
    );
    assert!(!before.stdout.contains("\nnotices,"), "{}", before.stdout);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_as_json_is_the_canonical_mapping_of_the_rpc_answer() {
    let s = TestServer::start().await;
    let flow = one_day(&s).await;
    let auditor = flow.desk.auditor.clone();
    let json = ctl(
        &s,
        &auditor,
        &[
            "report",
            "--from",
            "2024-01-15T00:00:00Z",
            "--format",
            "json",
        ],
    )
    .await
    .json();
    let start = std::time::UNIX_EPOCH + Duration::from_secs(1_705_276_800);
    let rpc = flow
        .audit()
        .get_transparency_report(pb::GetTransparencyReportRequest {
            start_time: Some(start.into()),
            end_time: None,
        })
        .await
        .expect("report")
        .into_inner()
        .report
        .expect("report");
    // Times in the canonical form, 64-bit integers as strings, enums by name.
    assert_eq!(json["startTime"], "2024-01-15T00:00:00Z");
    assert_eq!(json["decisions"], rpc.decisions.to_string());
    assert_eq!(json["headSeq"], rpc.head_seq.to_string());
    assert_eq!(
        json["noticesByCategory"],
        serde_json::json!([
            {"category": "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "count": "1"},
            {"category": "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "count": "1"},
        ])
    );
    assert_eq!(
        json["decisionsByGround"],
        serde_json::json!([{"decisionGround": "DECISION_GROUND_ILLEGAL_CONTENT", "count": "1"}])
    );
    assert_eq!(json["medianTimeToDecision"], "1800s");
    assert_eq!(
        json["complaintOutcomes"],
        serde_json::json!({"upheld": "0", "reversed": "0", "withdrawn": "0"})
    );
    assert_eq!(
        json["suspensionsByKind"],
        serde_json::json!({"notifiers": "0", "complainants": "0", "contributors": "0"})
    );

    // Without --format, --output decides: a table for people.
    let table = ctl(&s, &auditor, &["report", "--from", "2024-01-15"])
        .await
        .ok();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("FIGURE"), "{}", table.stdout);
    for (figure, key, value) in [
        ("notices_by_category", "NOT_SPECIFIED_NOTICE", "1"),
        ("median_time_to_decision", "-", "30m0s"),
        ("median_time_to_complaint_decision", "-", "-"),
    ] {
        assert!(
            lines.iter().any(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                cells == [figure, key, value]
            }),
            "no row {figure} {key} {value} in\n{}",
            table.stdout
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_dates_and_periods_are_refused() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let auditor = flow.desk.auditor.clone();
    let bad = ctl(&s, &auditor, &["report", "--from", "2024-02-30"]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("2024-02-30"), "{}", bad.stderr);
    // The server checks the period: the end before the start.
    let backwards = ctl(
        &s,
        &auditor,
        &["report", "--from", "2024-01-15", "--to", "2024-01-13"],
    )
    .await;
    assert_eq!(backwards.code, 1, "{}", backwards.stderr);
    assert!(
        backwards.stderr.contains("end_time"),
        "{}",
        backwards.stderr
    );
    // A claimant may not read it.
    let claimant = ctl(&s, &flow.desk.claimant, &["report"]).await;
    assert_eq!(claimant.code, 1, "{}", claimant.stderr);
    assert!(
        claimant.stderr.contains("PERMISSION_DENIED"),
        "{}",
        claimant.stderr
    );
    s.stop().await;
}
