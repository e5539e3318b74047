//! Deadlines: timed transitions and their clocks.

use super::*;

#[test]
fn expire_deadline_before_due_is_not_due() {
    for at in [At::NeedsInfo, At::CorrectionPending, At::CounterNoticed] {
        let (claim, article) = claim_in(at, Regime::Dsa);
        let run = |now: SystemTime| {
            apply(
                &claim,
                &article,
                &Command::ExpireDeadline(ExpireDeadline),
                &Actor::System,
                now,
                &Policy::default(),
            )
        };
        let due = fixture_due();
        assert_eq!(
            run(due - Duration::from_secs(1)),
            Err(DomainError::NotDue),
            "{at:?}"
        );
        assert_eq!(run(t0()), Err(DomainError::NotDue), "{at:?}");
        let t = run(due).expect("due at the due time");
        assert_eq!(
            Some(At::of(&t.claim, &t.article)),
            expected(at, Cmd::ExpireDeadline).map(|e| e.0)
        );
        assert!(DomainError::NotDue.to_string().contains("not passed"));
    }
}

#[test]
fn expire_deadline_with_mismatched_kind_is_refused() {
    use DeadlineKind::*;
    for (at, wrong) in [
        (At::NeedsInfo, CorrectionWindow),
        (At::NeedsInfo, Review),
        (At::CorrectionPending, Restoration),
        (At::CorrectionPending, InformationReply),
        (At::CounterNoticed, CorrectionWindow),
        (At::CounterNoticed, Unspecified),
        (At::Received, InformationReply),
        (At::UnderReview, Restoration),
    ] {
        let (mut claim, article) = claim_in(at, Regime::Dsa);
        if let Some(d) = claim.next_deadline.as_mut() {
            d.kind = wrong as i32;
        }
        let got = apply(
            &claim,
            &article,
            &Command::ExpireDeadline(ExpireDeadline),
            &Actor::System,
            fixture_now(),
            &Policy::default(),
        );
        assert!(
            matches!(&got, Err(DomainError::InvalidTransition { state, .. }) if *state == at.state()),
            "{at:?} with a {wrong:?} deadline: {got:?}"
        );
        // No deadline at all is no timed transition either.
        claim.next_deadline = None;
        let got = apply(
            &claim,
            &article,
            &Command::ExpireDeadline(ExpireDeadline),
            &Actor::System,
            fixture_now(),
            &Policy::default(),
        );
        assert!(
            matches!(&got, Err(DomainError::InvalidTransition { .. })),
            "{at:?} without a deadline: {got:?}"
        );
    }
}

#[test]
fn dmca_restoration_waits_ten_business_days() {
    // Counter-notice on Monday 2024-01-15: ten business days end Monday 2024-01-29.
    let mut case = file_claim(Regime::Dmca);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .file_counter_notice();
    let filed = case.now;
    assert_eq!(case.due(), filed + 14 * DAY);
    case.now = filed + 14 * DAY - 2 * MINUTE;
    let early = case.try_as(&Actor::System, &Command::ExpireDeadline(ExpireDeadline));
    assert_eq!(early, Err(DomainError::NotDue));
    case.assert_state(ClaimState::CounterNoticed)
        .expire_deadline()
        .assert_state(ClaimState::Restored);
}

#[test]
fn prc_restoration_waits_fifteen_days() {
    let mut case = file_claim(Regime::PrcCivilCode);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .file_counter_notice();
    assert_eq!(case.due(), case.now + 15 * DAY);
}
