//! Complaints (DSA Art. 20), trusted flaggers, first action.

use super::*;

#[test]
fn complaint_against_a_rejection_decided_delete_takes_the_article_down() {
    let mut case = file_claim(Regime::Dsa);
    case.start_review()
        .decide(DecisionOutcome::Reject)
        .assert_available(true)
        .file_complaint_as(&claimant())
        .assert_state(ClaimState::UnderReview)
        .assert_available(true);
    let filed = case.now;
    let c = case.complaint();
    assert_eq!(c.filed_by, CLAIMANT);
    assert_eq!(c.file_time, ts(filed));
    assert_eq!(c.previous_decision.as_ref().unwrap().reviewer, REVIEWER);
    assert_eq!(
        c.previous_decision.as_ref().unwrap().outcome(),
        DecisionOutcome::Reject
    );
    assert_eq!(c.resolve_time, None);
    case.decide_as(&other_reviewer(), DecisionOutcome::Delete)
        .assert_state(ClaimState::Deleted)
        .assert_available(false)
        .assert_article(ArticleStatus::Deleted, 1);
    let c = case.complaint().clone();
    assert_eq!(c.new_outcome(), DecisionOutcome::Delete);
    assert!(c.decision_changed, "a reversal");
    assert_eq!(c.resolve_time, ts(case.now));
    let d = case.claim.decision.clone().unwrap();
    assert_eq!(d.reviewer, OTHER_REVIEWER);
    assert_eq!(d.outcome(), DecisionOutcome::Delete);
    assert_eq!(case.claim.complaints.len(), 1);
    assert!(
        !(Stage::of(&case.claim) == Some(Stage::DeletedFinal)),
        "no counter-notice used yet"
    );
}

#[test]
fn complaint_against_a_deletion_decided_reject_releases_the_article() {
    let mut case = file_claim(Regime::Dsa);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .assert_available(false)
        .file_complaint_as(&publisher())
        .assert_state(ClaimState::UnderReview)
        .assert_available(false);
    let t = case
        .try_as(&other_reviewer(), &Cmd::DecideReject.build(&case.article))
        .unwrap();
    assert!(t.article_changed);
    assert!(t.detail.contains("on complaint"), "{}", t.detail);
    case.assert_state(ClaimState::Rejected)
        .assert_available(true)
        .assert_article(ArticleStatus::Published, 1);
    let c = case.complaint();
    assert_eq!(c.filed_by, PUBLISHER);
    assert_eq!(c.new_outcome(), DecisionOutcome::Reject);
    assert!(c.decision_changed);
    assert!(case.article.holding_claim_ids.is_empty());
}

#[test]
fn a_confirmed_decision_is_not_a_reversal() {
    let mut case = file_claim(Regime::Dsa);
    case.start_review()
        .decide(DecisionOutcome::Reject)
        .file_complaint_as(&claimant())
        .decide_as(&other_reviewer(), DecisionOutcome::Reject)
        .assert_state(ClaimState::Rejected);
    let c = case.complaint();
    assert_eq!(c.new_outcome(), DecisionOutcome::Reject);
    assert!(!c.decision_changed);
    assert!(c.resolve_time.is_some());
}

#[test]
fn a_complaint_is_decided_by_another_reviewer() {
    let mut case = file_claim(Regime::Dsa);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .file_complaint_as(&publisher());
    for outcome in [
        DecisionOutcome::Reject,
        DecisionOutcome::Correct,
        DecisionOutcome::Delete,
    ] {
        let cmd = match outcome {
            DecisionOutcome::Reject => Cmd::DecideReject,
            DecisionOutcome::Correct => Cmd::DecideCorrect,
            _ => Cmd::DecideDelete,
        };
        case.assert_refused_for(&reviewer(), cmd, "SAME_REVIEWER");
    }
    // The rule is about the person, not the role: an admin with the same id is refused,
    // any other principal may decide.
    case.assert_refused_for(
        &principal(REVIEWER, Role::Admin),
        Cmd::DecideReject,
        "SAME_REVIEWER",
    )
    .decide_as(&admin(), DecisionOutcome::Correct)
    .assert_state(ClaimState::CorrectionPending)
    .assert_available(true);
    // Once decided, the complaint no longer binds: the first reviewer may act again.
    assert!(open_complaint(&case.claim).is_none());
}

#[test]
fn a_complaint_must_come_within_the_window() {
    let mut case = file_claim(Regime::Dsa);
    case.start_review().decide(DecisionOutcome::Reject);
    let decided = case.now;
    let until = case.policy.complaint_open_until(Regime::Dsa, decided);
    assert!(
        until > decided + 180 * DAY && until < decided + 185 * DAY,
        "6 months"
    );
    let complain = |now: SystemTime, actor: &Actor| {
        apply(
            &case.claim,
            &case.article,
            &Cmd::FileComplaint.build(&case.article),
            actor,
            now,
            &case.policy,
        )
    };
    for actor in [claimant(), publisher()] {
        let at_the_end = complain(until, &actor).expect("the last moment is accepted");
        assert_eq!(at_the_end.claim.state(), ClaimState::UnderReview);
        let late = complain(until + Duration::from_secs(1), &actor).unwrap_err();
        let DomainError::Refused { reason, message } = &late else {
            panic!("{late:?}")
        };
        assert_eq!(*reason, "COMPLAINT_WINDOW_CLOSED");
        assert!(
            message.contains(&humantime::format_rfc3339_seconds(until).to_string()),
            "{message}"
        );
    }
    // A shorter window from the policy file is honoured.
    let policy = Policy::from_toml("[dsa]\ncomplaint_window = \"1h\"\n").unwrap();
    let t = apply(
        &case.claim,
        &case.article,
        &Cmd::FileComplaint.build(&case.article),
        &claimant(),
        decided + HOUR + Duration::from_secs(1),
        &policy,
    );
    assert!(
        matches!(
            t,
            Err(DomainError::Refused {
                reason: "COMPLAINT_WINDOW_CLOSED",
                ..
            })
        ),
        "{t:?}"
    );
}

#[test]
fn the_window_runs_from_the_latest_decision() {
    let mut case = file_claim(Regime::Dsa);
    case.start_review()
        .decide(DecisionOutcome::Reject)
        .advance(150 * DAY)
        .file_complaint_as(&claimant())
        .decide_as(&other_reviewer(), DecisionOutcome::Reject)
        .advance(150 * DAY)
        // 300 days after the first decision, 150 after the second.
        .file_complaint_as(&publisher())
        .assert_state(ClaimState::UnderReview);
    assert_eq!(case.claim.complaints.len(), 2);
    assert_eq!(
        case.complaint()
            .previous_decision
            .as_ref()
            .unwrap()
            .reviewer,
        OTHER_REVIEWER
    );
    // Now the one who decided last may not decide; the first reviewer may.
    case.assert_refused_for(&other_reviewer(), Cmd::DecideDelete, "SAME_REVIEWER")
        .decide_as(&reviewer(), DecisionOutcome::Delete)
        .assert_available(false);
}

#[test]
fn who_may_complain() {
    let (claim, article) = claim_in(At::Rejected, Regime::Dsa);
    let command = Cmd::FileComplaint.build(&article);
    let run = |actor: &Actor| {
        apply(
            &claim,
            &article,
            &command,
            actor,
            fixture_now(),
            &Policy::default(),
        )
    };
    for stranger in [
        other_claimant(),
        reviewer(),
        Actor::System,
        principal("principal:legal-daily-rights-desk-2", Role::Claimant),
    ] {
        assert_eq!(
            run(&stranger),
            Err(DomainError::NotYours(CLAIM_ID.to_string())),
            "{}",
            stranger.id()
        );
    }
    for allowed in [claimant(), publisher(), admin()] {
        let t = run(&allowed).unwrap_or_else(|e| panic!("{}: {e}", allowed.id()));
        assert_eq!(t.claim.complaints[0].filed_by, allowed.id());
        assert_eq!(t.claim.state(), ClaimState::UnderReview);
    }
    // Any publisher: the CMS desk of the site, not only the one that registered it.
    let other_desk = principal("principal:cms-2", Role::Publisher);
    assert!(run(&other_desk).is_ok());
    // A complaint needs its text.
    let empty = Command::FileComplaint(FileComplaint {
        text: " \n".to_string(),
    });
    assert_eq!(
        fields(apply_now(&claim, &article, empty, claimant()).unwrap_err()),
        ["text"]
    );
}

#[test]
fn the_article_stays_as_the_decision_left_it_while_the_complaint_is_reviewed() {
    for (from, available, status, revision) in [
        (At::Rejected, true, ArticleStatus::Published, 1),
        (At::Corrected, true, ArticleStatus::Corrected, 2),
        (At::Deleted, false, ArticleStatus::Deleted, 1),
        (At::DeletedFinal, false, ArticleStatus::Deleted, 1),
        (At::Restored, true, ArticleStatus::Published, 1),
    ] {
        let (claim, article) = claim_in(from, Regime::Dmca);
        let complainant = if from.holds_article() {
            publisher()
        } else {
            claimant()
        };
        let t = apply(
            &claim,
            &article,
            &Cmd::FileComplaint.build(&article),
            &complainant,
            fixture_now(),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!(t.article, article, "{from:?}: not even update_time");
        assert!(!t.article_changed, "{from:?}");
        assert_eq!(t.article.available, available, "{from:?}");
        assert_eq!(t.article.status(), status, "{from:?}");
        assert_eq!(t.article.revision, revision, "{from:?}");
        // Nothing but the new decision moves it: every other command is refused
        // (or, for the claimant, a withdrawal).
        for cmd in Cmd::ALL {
            if cmd.is_decision() || cmd == Cmd::WithdrawClaim || cmd == Cmd::RequestInformation {
                continue;
            }
            let got = apply(
                &t.claim,
                &t.article,
                &cmd.build(&t.article),
                &cmd.usual_actor(),
                fixture_now() + DAY,
                &Policy::default(),
            );
            assert!(
                matches!(
                    got,
                    Err(DomainError::InvalidTransition {
                        state: ClaimState::UnderReview,
                        ..
                    })
                ),
                "{from:?} reopened, {cmd:?}: {got:?}"
            );
        }
    }
}

#[test]
fn a_complaint_against_a_final_deletion_can_restore_the_article() {
    let mut case = file_claim(Regime::Dmca);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .file_counter_notice()
        .report_legal_action()
        .resolve_legal_action(LegalActionOutcome::Upheld)
        .file_complaint_as(&publisher())
        .assert_available(false)
        .decide_as(&other_reviewer(), DecisionOutcome::Reject)
        .assert_state(ClaimState::Rejected)
        .assert_available(true);
    // A complaint against a restoration decided DELETE is a final deletion: the
    // counter-notice was used.
    let mut case = file_claim(Regime::PrcCivilCode);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .file_counter_notice()
        .advance_past_deadline()
        .expire_deadline()
        .assert_state(ClaimState::Restored)
        .file_complaint_as(&claimant())
        .decide_as(&other_reviewer(), DecisionOutcome::Delete)
        .assert_state(ClaimState::Deleted)
        .assert_available(false);
    assert!((Stage::of(&case.claim) == Some(Stage::DeletedFinal)));
    case.assert_refused(Cmd::FileCounterNotice)
        .assert_refused(Cmd::WithdrawClaim);
}

#[test]
fn dsa_has_no_counter_notice_unless_the_policy_gives_it_one() {
    let mut case = file_claim(Regime::Dsa);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .assert_refused_for(&publisher(), Cmd::FileCounterNotice, "NO_COUNTER_NOTICE");
    let err = case
        .try_as(&publisher(), &Cmd::FileCounterNotice.build(&case.article))
        .unwrap_err();
    assert!(err.to_string().contains("FileComplaint"), "{err}");
    // The exhaustive test still builds DSA claims in COUNTER_NOTICED and
    // LEGAL_ACTION_PENDING directly: a policy file may give DSA a restoration period
    // (`[dsa] restoration`), and such claims stay in the store when it is removed.
    let policy = Policy::from_toml("[dsa]\nrestoration = \"15days\"\n").unwrap();
    case.policy = policy;
    case.file_counter_notice()
        .assert_state(ClaimState::CounterNoticed);
    assert_eq!(case.due(), case.now + 15 * DAY);
}

#[test]
fn trusted_flaggers_get_the_shorter_review_target() {
    for regime in [Regime::Dmca, Regime::Dsa, Regime::PrcCivilCode] {
        let policy = Policy::default();
        assert_eq!(policy.review_due(regime, false, t0()), t0() + 48 * HOUR);
        assert_eq!(policy.review_due(regime, true, t0()), t0() + 24 * HOUR);
        let normal = file_claim_with(regime, t0(), false, Policy::default());
        assert!(!normal.claim.trusted_flagger);
        assert_eq!(normal.due(), t0() + 48 * HOUR, "{regime:?}");
        let mut trusted = file_claim_with(regime, t0(), true, Policy::default());
        assert!(trusted.claim.trusted_flagger, "{regime:?}");
        assert_eq!(trusted.due(), t0() + 24 * HOUR, "{regime:?}");
        // The shorter target applies again after an amendment and after a complaint.
        trusted.request_information().amend_claim();
        assert_eq!(
            trusted.due(),
            trusted.now + 24 * HOUR,
            "{regime:?}: amended"
        );
        trusted
            .start_review()
            .decide(DecisionOutcome::Reject)
            .file_complaint_as(&claimant());
        assert_eq!(
            trusted.due(),
            trusted.now + 24 * HOUR,
            "{regime:?}: complaint"
        );
        assert!(trusted.claim.trusted_flagger, "kept");
    }
}

#[test]
fn first_action_time_is_the_first_reviewer_action() {
    // StartReview first.
    let mut case = file_claim(Regime::Dsa);
    assert_eq!(case.claim.first_action_time, None);
    case.start_review();
    let first = case.now;
    assert_eq!(case.claim.first_action_time, ts(first));
    case.request_information()
        .amend_claim()
        .start_review()
        .decide(DecisionOutcome::Reject)
        .file_complaint_as(&claimant())
        .decide_as(&other_reviewer(), DecisionOutcome::Delete);
    assert_eq!(case.claim.first_action_time, ts(first), "set once");
    // RequestInformation first, and DecideClaim first (on a claim built UNDER_REVIEW
    // without one).
    let mut case = file_claim(Regime::Dsa);
    case.request_information();
    assert_eq!(case.claim.first_action_time, ts(case.now));
    let (mut claim, article) = claim_in(At::UnderReview, Regime::Dsa);
    claim.first_action_time = None;
    let t = apply_now(
        &claim,
        &article,
        Cmd::DecideReject.build(&article),
        reviewer(),
    )
    .unwrap();
    assert_eq!(t.claim.first_action_time, ts(fixture_now()));
    // Neither the claimant, the publisher, nor the system stamps it.
    let mut case = file_claim(Regime::Dsa);
    case.withdraw_claim();
    assert_eq!(case.claim.first_action_time, None, "withdrawn untouched");
    let mut case = file_claim(Regime::Dsa);
    case.run_as(&Actor::System, Cmd::StartReview)
        .run_as(&Actor::System, Cmd::RequestInformation);
    assert_eq!(case.claim.first_action_time, None, "not by the system");
    let (mut claim, article) = claim_in(At::CorrectionPending, Regime::Dsa);
    claim.first_action_time = None;
    let t = apply(
        &claim,
        &article,
        &Command::ExpireDeadline(ExpireDeadline),
        &Actor::System,
        fixture_now(),
        &Policy::default(),
    )
    .unwrap();
    assert_eq!(t.claim.first_action_time, None, "not by the sweeper");
    let t = apply_now(
        &claim,
        &article,
        Cmd::RecordCorrection.build(&article),
        publisher(),
    )
    .unwrap();
    assert_eq!(t.claim.first_action_time, None, "not by the publisher");
}
