//! Whole lifecycles, as the workflow reads.

use super::*;

#[test]
fn filed_claim_is_received_with_a_review_deadline() {
    let case = file_claim(Regime::PrcCivilCode);
    assert_eq!(case.claim.state(), ClaimState::Received);
    assert_eq!(case.claim.filed_by, CLAIMANT);
    assert_eq!(case.claim.article_id, ARTICLE_ID);
    assert_eq!(case.claim.article_url, ARTICLE_URL);
    assert_eq!(case.claim.create_time, ts(t0()));
    assert_eq!(case.claim.update_time, ts(t0()));
    let deadline = case.claim.next_deadline.unwrap();
    assert_eq!(deadline.kind(), DeadlineKind::Review);
    assert_eq!(deadline.due_time, ts(t0() + 2 * DAY));
    assert_consistent(&case.claim, &case.article);
}

#[test]
fn delete_then_counter_notice_then_restoration() {
    file_claim(Regime::PrcCivilCode)
        .start_review()
        .decide(DecisionOutcome::Delete)
        .assert_state(ClaimState::Deleted)
        .assert_available(false)
        .assert_article(ArticleStatus::Deleted, 1)
        .file_counter_notice()
        .assert_state(ClaimState::CounterNoticed)
        .assert_available(false)
        .advance(14 * DAY)
        .assert_refused(Cmd::DecideDelete)
        .advance_past_deadline()
        .expire_deadline()
        .assert_state(ClaimState::Restored)
        .assert_available(true)
        .assert_article(ArticleStatus::Published, 1);
}

#[test]
fn correction_recorded_in_time() {
    file_claim(Regime::Dsa)
        .start_review()
        .decide(DecisionOutcome::Correct)
        .assert_state(ClaimState::CorrectionPending)
        .assert_available(true)
        .record_correction()
        .assert_state(ClaimState::Corrected)
        .assert_available(true)
        .assert_article(ArticleStatus::Corrected, 2)
        .assert_refused(Cmd::RecordCorrection)
        .assert_refused(Cmd::WithdrawClaim);
}

#[test]
fn correction_window_missed_deletes_the_article() {
    // Decided on Friday 2024-01-19: one business day runs to Monday.
    let mut case = file_claim(Regime::Dsa);
    case.start_review().advance(4 * DAY - 2 * MINUTE);
    case.decide(DecisionOutcome::Correct);
    assert_eq!(case.due(), case.now + 3 * DAY);
    case.advance_past_deadline()
        .expire_deadline()
        .assert_state(ClaimState::Deleted)
        .assert_available(false)
        // DSA has no counter-notice; the publisher complains instead.
        .assert_refused_for(&publisher(), Cmd::FileCounterNotice, "NO_COUNTER_NOTICE")
        .file_complaint_as(&publisher())
        .assert_state(ClaimState::UnderReview)
        .assert_available(false);
}

#[test]
fn legal_action_upheld_makes_the_deletion_final() {
    let mut case = file_claim(Regime::Dmca);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .file_counter_notice()
        .report_legal_action()
        .assert_state(ClaimState::LegalActionPending)
        .assert_available(false)
        .resolve_legal_action(LegalActionOutcome::Upheld)
        .assert_state(ClaimState::Deleted)
        .assert_available(false);
    assert!((Stage::of(&case.claim) == Some(Stage::DeletedFinal)));
    // Final: nothing but a complaint, and that only within the window after the
    // decision (the loop runs 13 x 30 days past it).
    for cmd in Cmd::ALL {
        if cmd != Cmd::FileComplaint {
            case.advance(30 * DAY).assert_refused(cmd);
        }
    }
    case.assert_refused_for(&publisher(), Cmd::FileComplaint, "COMPLAINT_WINDOW_CLOSED");
}

#[test]
fn legal_action_dismissed_restores() {
    file_claim(Regime::Dmca)
        .start_review()
        .decide(DecisionOutcome::Delete)
        .file_counter_notice()
        .report_legal_action()
        .resolve_legal_action(LegalActionOutcome::Dismissed)
        .assert_state(ClaimState::Restored)
        .assert_available(true);
}

#[test]
fn needs_info_amended_back_to_received_then_rejected() {
    let mut case = file_claim(Regime::Dsa);
    case.request_information()
        .assert_state(ClaimState::NeedsInfo)
        .amend_claim()
        .assert_state(ClaimState::Received);
    assert_eq!(
        case.claim.information_request.as_ref().unwrap().reply,
        "Paragraph 1 and figure 1; new direct line."
    );
    assert_eq!(
        case.claim.claimant.as_ref().unwrap().phone,
        "+86 10 8413 9999"
    );
    assert_eq!(case.claim.regime(), Regime::Dsa, "not in the mask, kept");
    assert_eq!(
        case.claim.next_deadline.as_ref().unwrap().kind(),
        DeadlineKind::Review
    );
    case.start_review()
        .decide(DecisionOutcome::Reject)
        .assert_state(ClaimState::Rejected)
        .assert_available(true);
    let decision = case.claim.decision.clone().unwrap();
    assert!(
        decision
            .statement_of_reasons
            .unwrap()
            .redress
            .contains("Art. 20"),
        "a DSA rejection names the redress"
    );
}

#[test]
fn unanswered_request_for_information_closes_the_claim() {
    file_claim(Regime::Dsa)
        .start_review()
        .request_information()
        .advance(14 * DAY - 2 * MINUTE)
        .advance_past_deadline()
        .expire_deadline()
        .assert_state(ClaimState::ClosedIncomplete)
        .assert_refused(Cmd::AmendClaim);
}

#[test]
fn withdrawal_brings_held_content_back() {
    file_claim(Regime::PrcCivilCode)
        .start_review()
        .decide(DecisionOutcome::Delete)
        .assert_available(false)
        .withdraw_claim()
        .assert_state(ClaimState::Withdrawn)
        .assert_available(true)
        .assert_article(ArticleStatus::Published, 1);
}

#[test]
fn article_stays_down_while_another_claim_holds_it() {
    let mut first = file_claim(Regime::Dsa);
    first.start_review().decide(DecisionOutcome::Delete);
    // A second rights holder's claim on the same article, deleted too.
    let mut second = file_claim(Regime::Dsa);
    second.claim.id = "0194a6b2-5c00-7000-8000-00000000c1a2".to_string();
    second.claim.filed_by = OTHER_CLAIMANT.to_string();
    second.article = first.article.clone();
    second.now = first.now;
    second.start_review().decide(DecisionOutcome::Delete);
    assert_eq!(second.article.holding_claim_ids.len(), 2);
    // The first is withdrawn: the second still holds the article down.
    first.article = second.article.clone();
    first.now = second.now;
    let t = apply(
        &first.claim,
        &first.article,
        &Cmd::WithdrawClaim.build(&first.article),
        &claimant(),
        first.now + MINUTE,
        &first.policy,
    )
    .unwrap();
    assert_eq!(t.claim.state(), ClaimState::Withdrawn);
    assert!(!t.article.available);
    assert_eq!(t.article.status(), ArticleStatus::Deleted);
    assert_eq!(t.article.holding_claim_ids, vec![second.claim.id.clone()]);
}
