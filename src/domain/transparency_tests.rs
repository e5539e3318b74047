use super::*;

const T0: u64 = 1_705_309_200;

fn at(secs: u64) -> Option<prost_types::Timestamp> {
    Some((SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).into())
}

fn entry(action: AuditAction, secs: u64, from: ClaimState, to: ClaimState) -> pb::AuditEntry {
    pb::AuditEntry {
        action: action.as_str().to_string(),
        time: at(secs),
        claim_id: "c-1".to_string(),
        from_state: from as i32,
        to_state: to as i32,
        ..Default::default()
    }
}

#[test]
fn nearest_rank_quantiles() {
    let s: Vec<Duration> = (1..=10).map(Duration::from_secs).collect();
    assert_eq!(quantile(&s, 0.5), Some(Duration::from_secs(5)));
    assert_eq!(quantile(&s, 0.9), Some(Duration::from_secs(9)));
    assert_eq!(quantile(&s[..1], 0.9), Some(Duration::from_secs(1)));
    assert_eq!(quantile(&[], 0.5), None);
}

#[test]
fn a_period_is_half_open() {
    let p = Period {
        start: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(T0)),
        end: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 10)),
    };
    let e = |secs| {
        entry(
            AuditAction::FileClaim,
            secs,
            ClaimState::Unspecified,
            ClaimState::Received,
        )
    };
    assert!(!p.contains(&e(T0 - 1)));
    assert!(p.contains(&e(T0)));
    assert!(p.contains(&e(T0 + 9)));
    assert!(!p.contains(&e(T0 + 10)));
    assert!(Period::default().contains(&e(T0)));
    let mut timeless = e(T0);
    timeless.time = None;
    assert!(!Period::default().contains(&timeless));
}

#[test]
fn one_claim_filed_reviewed_and_deleted() {
    use ClaimState::*;
    let claim = pb::Claim {
        regime: Regime::Dmca as i32,
        items: vec![Default::default(), Default::default()],
        create_time: at(T0),
        first_action_time: at(T0 + 60),
        ..Default::default()
    };
    let mut tally = TransparencyTally::new();
    tally.add(
        &entry(AuditAction::FileClaim, T0, Unspecified, Received),
        Some(&claim),
    );
    tally.add(
        &entry(AuditAction::StartReview, T0 + 60, Received, UnderReview),
        Some(&claim),
    );
    tally.add(
        &entry(AuditAction::DecideClaim, T0 + 600, UnderReview, Deleted),
        Some(&claim),
    );
    let mut unknown = entry(AuditAction::DecideClaim, T0 + 700, UnderReview, Rejected);
    unknown.action = "SomethingNew".to_string();
    tally.add(&unknown, Some(&claim));
    let report = tally.finish();
    assert_eq!(report.items_requested, 2);
    assert_eq!(report.notices.len(), 1);
    assert_eq!(report.notices[0].notices, 1);
    assert_eq!(report.decisions, 1);
    let outcomes = report.outcomes.expect("outcomes");
    assert_eq!(
        (outcomes.deleted, outcomes.rejected),
        (1, 1),
        "outcomes follow states"
    );
    assert_eq!(
        report.median_time_to_first_action,
        Some(prost_types::Duration {
            seconds: 60,
            nanos: 0
        })
    );
    assert_eq!(
        report.median_time_to_decision,
        Some(prost_types::Duration {
            seconds: 600,
            nanos: 0
        })
    );
}

#[test]
fn the_2024_2835_figures_of_one_claim() {
    use ClaimState::*;
    let decision = |secs, ground: pb::DecisionGround, automated: AutomatedDecision| {
        Some(pb::Decision {
            outcome: DecisionOutcome::Delete as i32,
            decide_time: at(secs),
            statement_of_reasons: Some(pb::StatementOfReasons {
                decision_ground: ground as i32,
                automated_decision: automated as i32,
                category: StatementCategory::OtherViolationTc as i32,
                ..Default::default()
            }),
            ..Default::default()
        })
    };
    // Decided by partly automated means on the terms; complained about; the
    // complaint still open when the claimant withdrew.
    let claim = pb::Claim {
        regime: Regime::Dsa as i32,
        items: vec![
            pb::Item {
                kind: pb::ItemKind::Image as i32,
                ..Default::default()
            },
            pb::Item {
                kind: pb::ItemKind::Text as i32,
                ..Default::default()
            },
        ],
        create_time: at(T0),
        decision: decision(
            T0 + 60,
            pb::DecisionGround::IncompatibleContent,
            AutomatedDecision::Partially,
        ),
        complaints: vec![pb::Complaint {
            file_time: at(T0 + 120),
            resolve_time: at(T0 + 180),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut tally = TransparencyTally::new();
    let mut filed = entry(AuditAction::FileClaim, T0, Unspecified, Received);
    filed.actor = "notifier-principal".to_string();
    let decided = entry(AuditAction::DecideClaim, T0 + 60, UnderReview, Deleted);
    let withdrawn = entry(AuditAction::WithdrawClaim, T0 + 180, UnderReview, Withdrawn);
    for e in [&filed, &decided, &withdrawn] {
        tally.note(e);
        tally.add(e, Some(&claim));
    }
    let suspend = |action: AuditAction, detail: &str| pb::AuditEntry {
        detail: detail.to_string(),
        ..entry(action, T0 + 200, Unspecified, Unspecified)
    };
    for e in [
        suspend(
            AuditAction::SuspendPrincipal,
            "principal notifier-principal suspended until 2024-02-01T00:00:00Z: spam",
        ),
        suspend(
            AuditAction::SuspendPrincipal,
            "principal complaining-publisher suspended until 2024-02-01T00:00:00Z: abuse",
        ),
        suspend(
            AuditAction::SuspendParty,
            "notifier e-mail sha256:0123456789abcdef suspended until 2024-02-01T00:00:00Z: spam",
        ),
        suspend(
            AuditAction::SuspendParty,
            "contributor acct-7 suspended until 2024-02-01T00:00:00Z: repeat infringer",
        ),
    ] {
        tally.add(&e, None);
    }
    let report = tally.finish();
    assert_eq!(
        report.notices_by_category,
        vec![pb::CategoryCount {
            category: StatementCategory::OtherViolationTc as i32,
            count: 1
        }]
    );
    assert_eq!(
        report.notices_by_content_type,
        vec![
            pb::ContentTypeCount {
                content_type: pb::ContentType::Text as i32,
                count: 1
            },
            pb::ContentTypeCount {
                content_type: pb::ContentType::Image as i32,
                count: 1
            },
        ]
    );
    assert_eq!(
        report.decisions_by_ground,
        vec![pb::GroundCount {
            decision_ground: pb::DecisionGround::IncompatibleContent as i32,
            count: 1
        }]
    );
    assert_eq!(report.automated_decisions, 1);
    assert_eq!(
        report.complaint_outcomes,
        Some(pb::ComplaintOutcomes {
            upheld: 0,
            reversed: 0,
            withdrawn: 1
        })
    );
    assert_eq!(report.median_time_to_complaint_decision, None);
    assert_eq!(
        report.suspensions_by_kind,
        Some(pb::SuspensionCounts {
            notifiers: 2,
            complainants: 1,
            contributors: 1
        })
    );
}
