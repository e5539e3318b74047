//! Who may run a verb on whose claim.

use super::*;

#[test]
fn only_the_claimant_or_an_admin_may_amend_withdraw_or_report_legal_action() {
    for (at, cmd) in [
        (At::NeedsInfo, Cmd::AmendClaim),
        (At::Received, Cmd::WithdrawClaim),
        (At::CounterNoticed, Cmd::WithdrawClaim),
        (At::CounterNoticed, Cmd::ReportLegalAction),
    ] {
        let (claim, article) = claim_in(at, Regime::Dsa);
        let command = cmd.build(&article);
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
            publisher(),
            Actor::System,
            // Holding the claimant role is not owning the claim.
            principal("principal:legal-daily-rights-desk-2", Role::Claimant),
        ] {
            let err = run(&stranger).unwrap_err();
            assert_eq!(
                err,
                DomainError::NotYours(CLAIM_ID.to_string()),
                "{at:?} {cmd:?}"
            );
            assert!(err.to_string().contains(CLAIM_ID));
            assert!(
                err.to_string().contains("not found"),
                "existence does not leak"
            );
        }
        let by_owner = run(&claimant()).expect("the claimant may");
        let by_admin = run(&admin()).expect("an admin may");
        let owner_at = At::of(&by_owner.claim, &by_owner.article);
        assert_eq!(owner_at, At::of(&by_admin.claim, &by_admin.article));
        assert_eq!(Some(owner_at), expected(at, cmd).map(|e| e.0));
    }
}

#[test]
fn a_stranger_learns_nothing_about_the_state() {
    // NotYours comes before any state check, so it is the same in every state.
    for at in At::ALL {
        let (claim, article) = claim_in(at, Regime::Dsa);
        for cmd in [
            Cmd::AmendClaim,
            Cmd::WithdrawClaim,
            Cmd::ReportLegalAction,
            Cmd::FileComplaint,
        ] {
            let got = apply(
                &claim,
                &article,
                &cmd.build(&article),
                &other_claimant(),
                fixture_now(),
                &Policy::default(),
            );
            assert_eq!(
                got,
                Err(DomainError::NotYours(CLAIM_ID.to_string())),
                "{at:?} {cmd:?}"
            );
        }
    }
}
