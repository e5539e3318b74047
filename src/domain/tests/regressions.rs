//! Regressions: bugs these tests found in the domain code, now fixed.

use super::*;

#[test]
fn bug_a_reopened_deletion_never_ends_closed_holding_the_article() {
    let mut case = file_claim(Regime::Dsa);
    case.start_review()
        .decide(DecisionOutcome::Delete)
        .file_complaint_as(&publisher());
    let asked = case.try_as(
        &other_reviewer(),
        &Cmd::RequestInformation.build(&case.article),
    );
    if asked.is_ok() {
        case.advance_past_deadline().expire_deadline();
    }
    let at = At::of(&case.claim, &case.article);
    assert!(
        !(at.is_terminal() && at != At::DeletedFinal && !case.article.available),
        "{at:?} holds the article for ever: {:?}",
        case.article.holding_claim_ids
    );
}

#[test]
fn bug_deciding_delete_again_leaves_the_article_alone() {
    let (claim, article) = claim_in(At::ReopenedHeld, Regime::Dsa);
    let t = apply_now(
        &claim,
        &article,
        Cmd::DecideDelete.build(&article),
        reviewer(),
    )
    .unwrap();
    assert_eq!(t.claim.state(), ClaimState::Deleted);
    assert_eq!(t.article, article);
    assert!(!t.article_changed);
}
