//! Time as part of the workflow: the sweeper fires each timed transition once, as
//! `system`, by the server's (manual) clock, catches up after downtime, and loses
//! every race fairly against a person acting at the same moment.

use std::time::Duration;

use crate::common::TestServer;
use crate::common::fixtures::{self, ARTICLE_ID};
use crate::common::flow::{Flow, assert_state, error_info};
use takedown::pb::{self, ClaimState, DeadlineKind, DecisionOutcome, Regime};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn due(c: &pb::Claim) -> (DeadlineKind, i64) {
    let d = c.next_deadline.as_ref().expect("a next deadline");
    (d.kind(), d.due_time.expect("due time").seconds)
}

async fn sweep(s: &TestServer) -> usize {
    s.server
        .as_ref()
        .expect("running")
        .sweep()
        .await
        .expect("sweep")
}

/// Files a claim under `regime` and decides it.
async fn decided(flow: &Flow, regime: Regime, outcome: DecisionOutcome) -> pb::Claim {
    let c = flow.file(fixtures::notice(ARTICLE_ID, regime)).await;
    let c = flow.start_review(&c).await;
    flow.decide(&c, outcome).await
}

#[tokio::test]
async fn a_missed_correction_window_deletes_the_article_on_the_next_business_day() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    // 2024-01-19 is a Friday: the window runs to Monday at the same time.
    s.clock.advance(4 * DAY);
    let c = decided(&flow, Regime::Dmca, DecisionOutcome::Correct).await;
    assert_state(&c, ClaimState::CorrectionPending);
    let (kind, due_secs) = due(&c);
    assert_eq!(kind, DeadlineKind::CorrectionWindow);
    let decided_at = c.update_time.expect("update time").seconds;
    assert_eq!(
        due_secs - decided_at,
        3 * 86_400,
        "Friday + 1 business day = Monday"
    );

    // Saturday: nothing yet.
    s.clock.advance(DAY);
    assert_eq!(sweep(&s).await, 0);
    assert_state(&flow.get(&c.id).await, ClaimState::CorrectionPending);

    // Monday, one second early: still nothing; then on time.
    s.clock.advance(2 * DAY - Duration::from_secs(1));
    assert_eq!(sweep(&s).await, 0);
    s.clock.advance(Duration::from_secs(1));
    sweep(&s).await;
    let c = flow.get(&c.id).await;
    assert_state(&c, ClaimState::Deleted);
    assert!(c.next_deadline.is_none());
    assert!(!flow.seed_available().await);
    let last = flow.claim_audit(&c.id).await.pop().expect("entries");
    assert_eq!(
        (last.actor.as_str(), last.action.as_str()),
        ("system", "ExpireDeadline")
    );
    // Fired once: another sweep finds nothing.
    assert_eq!(sweep(&s).await, 0);
    s.stop().await;
}

#[tokio::test]
async fn an_unanswered_request_for_information_closes_the_claim() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = flow.file_claim().await;
    let c = flow.request_information(&c, "Which paragraph?").await;
    assert_eq!(due(&c).0, DeadlineKind::InformationReply);
    s.clock.advance(14 * DAY - HOUR);
    sweep(&s).await;
    assert_state(&flow.get(&c.id).await, ClaimState::NeedsInfo);
    s.clock.advance(HOUR);
    sweep(&s).await;
    assert_state(&flow.get(&c.id).await, ClaimState::ClosedIncomplete);
    s.stop().await;
}

#[tokio::test]
async fn dmca_restores_ten_business_days_after_the_counter_notice() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = decided(&flow, Regime::Dmca, DecisionOutcome::Delete).await;
    // Monday 2024-01-15: ten business days later is Monday 2024-01-29.
    let c = flow.counter_notice(&c).await;
    let (kind, due_secs) = due(&c);
    assert_eq!(kind, DeadlineKind::Restoration);
    assert_eq!(due_secs - c.update_time.expect("time").seconds, 14 * 86_400);
    s.clock.advance(13 * DAY);
    sweep(&s).await;
    assert!(
        !flow.seed_available().await,
        "still down after 9 business days"
    );
    s.clock.advance(DAY);
    sweep(&s).await;
    assert_state(&flow.get(&c.id).await, ClaimState::Restored);
    assert!(flow.seed_available().await);
    s.stop().await;
}

#[tokio::test]
async fn prc_restores_fifteen_days_after_the_declaration_reaches_the_notifier() {
    let smtp = takedown::testkit::smtp::SmtpSink::start();
    let s = TestServer::start_with(|c| c.notify.smtp_url = Some(smtp.url())).await;
    let flow = Flow::new(&s).await;
    let c = decided(&flow, Regime::PrcCivilCode, DecisionOutcome::Delete).await;
    let c = flow.counter_notice(&c).await;
    // The clock starts when the forwarding is delivered (E-Commerce Law Art. 43).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let c = loop {
        let c = flow.get(&c.id).await;
        if c.next_deadline
            .as_ref()
            .is_some_and(|d| d.due_time.is_some())
        {
            break c;
        }
        assert!(std::time::Instant::now() < deadline, "no delivery: {c:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        due(&c).1 - c.update_time.expect("time").seconds,
        15 * 86_400
    );
    s.clock.advance(15 * DAY);
    sweep(&s).await;
    assert_state(&flow.get(&c.id).await, ClaimState::Restored);
    s.stop().await;
}

#[tokio::test]
async fn legal_action_stops_the_restoration_clock() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = decided(&flow, Regime::Dmca, DecisionOutcome::Delete).await;
    let c = flow.counter_notice(&c).await;
    let c = flow.report_legal_action(&c).await;
    assert!(c.next_deadline.is_none());
    s.clock.advance(30 * DAY);
    assert_eq!(sweep(&s).await, 0);
    assert_state(&flow.get(&c.id).await, ClaimState::LegalActionPending);
    assert!(!flow.seed_available().await);
    s.stop().await;
}

#[tokio::test]
async fn dsa_has_complaints_not_counter_notices() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = decided(&flow, Regime::Dsa, DecisionOutcome::Delete).await;
    let e = flow.try_counter_notice(&c).await.expect_err("refused");
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    assert_eq!(error_info(&e).0, "NO_COUNTER_NOTICE");
    assert!(e.message().contains("FileComplaint"), "{}", e.message());
    s.stop().await;
}

#[tokio::test]
async fn a_server_that_was_down_across_a_deadline_acts_on_it_at_start() {
    let mut s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let c = decided(&flow, Regime::Dmca, DecisionOutcome::Correct).await;
    let desk = flow.desk;
    if let Some(server) = s.server.take() {
        server.stop().await.expect("stop");
    }
    s.clock.advance(3 * DAY);
    s.restart().await;
    let flow = Flow::connect(&s, desk).await;
    // The first sweep runs by itself as the server starts.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if flow.get(&c.id).await.state() == ClaimState::Deleted {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no catch-up at start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!flow.seed_available().await);
    s.stop().await;
}

#[tokio::test]
async fn the_sweeper_and_a_person_at_the_same_moment_fire_exactly_once() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let mut claims = Vec::new();
    for _ in 0..10 {
        claims.push(decided(&flow, Regime::Dmca, DecisionOutcome::Correct).await);
    }
    s.clock.advance(3 * DAY);
    // The desk records every correction while the sweeper runs.
    let server = s.server.as_ref().expect("running");
    let corrections = async {
        let mut publisher = flow.publisher();
        let mut won = 0;
        for c in &claims {
            let r = publisher
                .record_correction(pb::RecordCorrectionRequest {
                    claim_id: c.id.clone(),
                    etag: String::new(),
                    article_revision: 0,
                    summary: "rewritten".into(),
                })
                .await;
            match r {
                Ok(_) => won += 1,
                Err(e) => assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}"),
            }
        }
        won
    };
    let (won, fired) = tokio::join!(corrections, server.sweep());
    fired.expect("sweep");
    let mut corrected = 0;
    for c in &claims {
        let after = flow.get(&c.id).await;
        match after.state() {
            ClaimState::Corrected => corrected += 1,
            ClaimState::Deleted => {}
            other => panic!("claim {} ended {other:?}", c.id),
        }
        let moves = flow
            .claim_audit(&c.id)
            .await
            .into_iter()
            .filter(|e| e.from_state == ClaimState::CorrectionPending as i32)
            .count();
        assert_eq!(moves, 1, "one transition out of CORRECTION_PENDING");
    }
    // Every correction the desk was told succeeded is the one that happened.
    assert_eq!(won, corrected);
    assert!(flow.verify().await.ok);
    s.stop().await;
}

#[tokio::test]
async fn overdue_claims_are_listed_most_urgent_first() {
    let s = TestServer::start().await;
    let flow = Flow::new(&s).await;
    let first = flow.file_claim().await;
    s.clock.advance(HOUR);
    let second = flow.file_claim().await;
    s.clock.advance(HOUR);
    let third = flow.file_claim().await;
    // A second before the third's 48 h target, the first two are past theirs.
    s.clock.advance(48 * HOUR - Duration::from_secs(1));
    let mut reviewer = flow.reviewer_claims();
    let overdue = reviewer
        .list_claims(pb::ListClaimsRequest {
            overdue: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .claims;
    let ids: Vec<_> = overdue.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids, vec![first.id.clone(), second.id.clone()]);

    // Sorting by deadline puts the most urgent first, overdue or not.
    let third_next = flow.request_information(&third, "Which paragraph?").await;
    let by_deadline = reviewer
        .list_claims(pb::ListClaimsRequest {
            order_by: "next_deadline".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .claims;
    let ids: Vec<_> = by_deadline.iter().map(|c| c.id.clone()).collect();
    assert_eq!(
        ids,
        vec![first.id.clone(), second.id.clone(), third_next.id.clone()]
    );

    // A claimant's overdue filter sees only its own claims.
    let mine = flow
        .claimant()
        .list_claims(pb::ListClaimsRequest {
            overdue: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .claims;
    assert_eq!(mine.len(), 2);
    let bad = reviewer
        .list_claims(pb::ListClaimsRequest {
            order_by: "age".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad order");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    s.stop().await;
}

/// 17 U.S.C. 512(g)(2)(C): a DMCA restoration window outside 10-14 business days keeps
/// the server from starting (exit 2), says why, and creates nothing.
#[test]
fn a_dmca_restoration_window_outside_the_statute_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    for window in ["9 business days", "15 business days", "30s"] {
        let out = crate::common::daemon::command()
            .args(["--data-dir", &data.display().to_string()])
            .args(["--restoration-period", window])
            .output()
            .expect("run takedownd");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{window}: {stderr}");
        assert!(
            stderr.contains("512(g)(2)(C)") && stderr.contains(window),
            "{window}: {stderr}"
        );
        assert!(!data.exists(), "{window}: the data folder was created");
    }
}
