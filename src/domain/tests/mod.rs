//! The claim state machine, tested the way the workflow reads: a rights desk files a
//! claim against a republished Legal Daily article, a reviewer works it, the CMS
//! corrects or counter-notices, the sweeper moves the clocks. The fixtures are the test
//! kit's (`crate::testkit::domain`); this file holds the claims built in each state and
//! the workflow DSL; each section is its own file:
//!
//! 0. `lifecycles`: whole lifecycles.
//! 1. `table`: the product's transition table (`transitions::TABLE`), checked for
//!    every (state, command) pair in every regime.
//! 2. `ownership`, 3. `deadlines`, 4. `validation` through the machine.
//! 5. `walks`: random command sequences from random actors at random times.
//! 6. `complaints`: complaints (DSA Art. 20), trusted flaggers, first action.
//! 7. `regressions`: bugs found in the domain code, now fixed.

mod complaints;
mod deadlines;
mod lifecycles;
mod ownership;
mod regressions;
mod table;
mod validation;
mod walks;

use std::time::{Duration, SystemTime};

use proptest::prelude::*;

use crate::domain::commands::{
    AmendClaim, ClaimVerb, DecideClaim, ExpireDeadline, FileComplaint, FileCounterNotice, Notice,
    RecordCorrection, ReportLegalAction, RequestInformation, ResolveLegalAction, StartReview,
    WithdrawClaim,
};
use crate::domain::error::state_name;
use crate::domain::transitions::{self, ArticleEffect, Stage, open_complaint};
use crate::domain::{Actor, Command, DomainError, Policy, Transition, apply};
use crate::pb::{self, ClaimState, DeadlineKind, LegalActionOutcome, Role};
use crate::pb::{ArticleStatus, DecisionOutcome, Regime};

// The fixtures (the seed article, its rights holder, the people around it) are the
// test kit's: `crate::testkit::domain`.
use crate::testkit::domain::*;

// ---------------------------------------------------------------------------------
// The vocabulary of the table: where a claim is, what is asked of it, what happens to
// the article.
// ---------------------------------------------------------------------------------

/// Every state a stored claim can be in: the 12 `ClaimState`s, with DELETED split into
/// "no counter-notice yet" and "final" (counter-notice used / legal action upheld), and
/// UNDER_REVIEW split by an open complaint: `Reopened` (the decision complained about
/// left the article up: REJECTED, CORRECTED, RESTORED) and `ReopenedHeld` (it took the
/// article down: DELETED, which stays down while the complaint is reviewed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Received,
    NeedsInfo,
    UnderReview,
    Reopened,
    ReopenedHeld,
    CorrectionPending,
    Corrected,
    Deleted,
    DeletedFinal,
    CounterNoticed,
    LegalActionPending,
    Restored,
    Rejected,
    Withdrawn,
    ClosedIncomplete,
}

impl At {
    const ALL: [At; 15] = [
        At::Received,
        At::NeedsInfo,
        At::UnderReview,
        At::Reopened,
        At::ReopenedHeld,
        At::CorrectionPending,
        At::Corrected,
        At::Deleted,
        At::DeletedFinal,
        At::CounterNoticed,
        At::LegalActionPending,
        At::Restored,
        At::Rejected,
        At::Withdrawn,
        At::ClosedIncomplete,
    ];

    fn state(self) -> ClaimState {
        match self {
            At::Received => ClaimState::Received,
            At::NeedsInfo => ClaimState::NeedsInfo,
            At::UnderReview | At::Reopened | At::ReopenedHeld => ClaimState::UnderReview,
            At::CorrectionPending => ClaimState::CorrectionPending,
            At::Corrected => ClaimState::Corrected,
            At::Deleted | At::DeletedFinal => ClaimState::Deleted,
            At::CounterNoticed => ClaimState::CounterNoticed,
            At::LegalActionPending => ClaimState::LegalActionPending,
            At::Restored => ClaimState::Restored,
            At::Rejected => ClaimState::Rejected,
            At::Withdrawn => ClaimState::Withdrawn,
            At::ClosedIncomplete => ClaimState::ClosedIncomplete,
        }
    }

    /// The table's stage of a claim in this situation.
    fn stage(self) -> Stage {
        match self {
            At::Received => Stage::Received,
            At::NeedsInfo => Stage::NeedsInfo,
            At::UnderReview => Stage::UnderReview,
            At::Reopened | At::ReopenedHeld => Stage::Reopened,
            At::CorrectionPending => Stage::CorrectionPending,
            At::Corrected => Stage::Corrected,
            At::Deleted => Stage::Deleted,
            At::DeletedFinal => Stage::DeletedFinal,
            At::CounterNoticed => Stage::CounterNoticed,
            At::LegalActionPending => Stage::LegalActionPending,
            At::Restored => Stage::Restored,
            At::Rejected => Stage::Rejected,
            At::Withdrawn => Stage::Withdrawn,
            At::ClosedIncomplete => Stage::ClosedIncomplete,
        }
    }

    /// Where `claim` is. The article tells a reopened claim that holds it down from one
    /// that does not (the claim alone cannot: a RESTORED deletion and a DELETED one
    /// both leave a DELETE decision behind).
    fn of(claim: &pb::Claim, article: &pb::Article) -> At {
        let at = At::ALL
            .into_iter()
            .find(|a| a.state() == claim.state())
            .unwrap_or_else(|| panic!("claim in unexpected state {:?}", claim.state()));
        if at == At::Deleted && (Stage::of(claim) == Some(Stage::DeletedFinal)) {
            At::DeletedFinal
        } else if at == At::UnderReview && open_complaint(claim).is_some() {
            if article.holding_claim_ids.contains(&claim.id) {
                At::ReopenedHeld
            } else {
                At::Reopened
            }
        } else {
            at
        }
    }

    /// Terminal: REJECTED, CORRECTED, RESTORED, WITHDRAWN, CLOSED_INCOMPLETE, and
    /// DELETED once a counter-notice has been used or legal action upheld. Of these,
    /// all but WITHDRAWN and CLOSED_INCOMPLETE accept a complaint (and nothing else).
    fn is_terminal(self) -> bool {
        matches!(
            self,
            At::Rejected
                | At::Corrected
                | At::Restored
                | At::Withdrawn
                | At::ClosedIncomplete
                | At::DeletedFinal
        )
    }

    /// States in which this claim holds its article down.
    fn holds_article(self) -> bool {
        matches!(
            self,
            At::Deleted
                | At::DeletedFinal
                | At::CounterNoticed
                | At::LegalActionPending
                | At::ReopenedHeld
        )
    }

    /// The clock that runs in this state, if any.
    fn deadline_kind(self) -> Option<DeadlineKind> {
        match self {
            At::Received | At::UnderReview | At::Reopened | At::ReopenedHeld => {
                Some(DeadlineKind::Review)
            }
            At::NeedsInfo => Some(DeadlineKind::InformationReply),
            At::CorrectionPending => Some(DeadlineKind::CorrectionWindow),
            At::CounterNoticed => Some(DeadlineKind::Restoration),
            _ => None,
        }
    }
}

/// Every command, with its outcome where it has one: the table's own verbs.
use crate::domain::transitions::Verb as Cmd;

/// What the tests need to know of each verb beyond the table.
trait CmdFixture {
    fn claimant_only(&self) -> bool;
    fn is_decision(&self) -> bool;
    fn usual_actor(&self) -> Actor;
    fn build(&self, article: &pb::Article) -> Command;
}

impl CmdFixture for Cmd {
    /// Commands reserved to "the claim's claimant".
    fn claimant_only(&self) -> bool {
        matches!(
            self,
            Cmd::AmendClaim | Cmd::ReportLegalAction | Cmd::WithdrawClaim
        )
    }

    fn is_decision(&self) -> bool {
        matches!(
            self,
            Cmd::DecideReject | Cmd::DecideCorrect | Cmd::DecideDelete
        )
    }

    /// Who issues it in the workflow. (The fixtures' reopened claims were decided by
    /// `OTHER_REVIEWER`, so the usual reviewer may decide the complaint.)
    fn usual_actor(&self) -> Actor {
        match self {
            Cmd::StartReview
            | Cmd::RequestInformation
            | Cmd::DecideReject
            | Cmd::DecideCorrect
            | Cmd::DecideDelete
            | Cmd::ResolveUpheld
            | Cmd::ResolveDismissed => reviewer(),
            Cmd::AmendClaim | Cmd::ReportLegalAction | Cmd::WithdrawClaim | Cmd::FileComplaint => {
                claimant()
            }
            Cmd::RecordCorrection | Cmd::FileCounterNotice => publisher(),
            Cmd::ExpireDeadline => Actor::System,
        }
    }

    /// A valid payload for the command, given the article as it is now.
    fn build(&self, article: &pb::Article) -> Command {
        let decide = |outcome: DecisionOutcome, items: Vec<u32>| {
            Command::DecideClaim(DecideClaim {
                outcome: outcome as i32,
                statement_of_reasons: Some(reasons()),
                items_to_change: items,
                ..Default::default()
            })
        };
        match self {
            Cmd::StartReview => Command::StartReview(StartReview),
            Cmd::RequestInformation => Command::RequestInformation(RequestInformation {
                message: "Please locate the copied passages by paragraph.".to_string(),
            }),
            Cmd::AmendClaim => {
                let mut amendment = notice(Regime::Unspecified);
                if let Some(c) = amendment.claimant.as_mut() {
                    c.phone = "+86 10 8413 9999".to_string();
                }
                Command::AmendClaim(AmendClaim {
                    amendment,
                    update_mask: vec!["claimant".to_string()],
                    reply: "Paragraph 1 and figure 1; new direct line.".to_string(),
                })
            }
            Cmd::DecideReject => decide(DecisionOutcome::Reject, vec![]),
            Cmd::DecideCorrect => decide(DecisionOutcome::Correct, vec![0, 1]),
            Cmd::DecideDelete => decide(DecisionOutcome::Delete, vec![]),
            Cmd::RecordCorrection => Command::RecordCorrection(RecordCorrection {
                article_revision: article.revision + 1,
                summary: "Removed paragraph 1 and figure 1; linked to the original.".to_string(),
            }),
            Cmd::FileCounterNotice => Command::FileCounterNotice(FileCounterNotice {
                counter_notice: Some(counter_notice()),
            }),
            Cmd::ReportLegalAction => Command::ReportLegalAction(ReportLegalAction {
                authority: "Beijing Internet Court".to_string(),
                case_reference: "(2024) Jing 0491 Min Chu 1234".to_string(),
                filed_date: "2024-02-01".to_string(),
            }),
            Cmd::ResolveUpheld => Command::ResolveLegalAction(ResolveLegalAction {
                outcome: LegalActionOutcome::Upheld as i32,
                note: "The court found the republication infringing.".to_string(),
            }),
            Cmd::ResolveDismissed => Command::ResolveLegalAction(ResolveLegalAction {
                outcome: LegalActionOutcome::Dismissed as i32,
                note: "The claim was dismissed; the licence covers the article.".to_string(),
            }),
            Cmd::WithdrawClaim => Command::WithdrawClaim(WithdrawClaim {
                reason: "Settled with the publisher.".to_string(),
            }),
            Cmd::FileComplaint => Command::FileComplaint(FileComplaint {
                text: "The report was republished under a syndication licence; see the \
                       contract of 2023-06-01."
                    .to_string(),
            }),
            Cmd::ExpireDeadline => Command::ExpireDeadline(ExpireDeadline),
        }
    }
}

/// What a transition does to the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Art {
    /// Untouched.
    Same,
    /// Withdrawn from the site on this claim's behalf.
    Hold,
    /// This claim's hold is let go; available again.
    Release,
    /// Corrected: revision + 1.
    Revise,
}

/// What the product's transition table (`transitions::TABLE`) says `cmd` does from
/// `from`, in the tests' finer terms: a reopened claim that holds its article is
/// `ReopenedHeld`, and an article effect that has nothing to do is `Same`.
fn expected(from: At, cmd: Cmd) -> Option<(At, Art)> {
    let row = transitions::find(from.stage(), cmd)?;
    let held = from.holds_article();
    let to = match row.to {
        Stage::Reopened if held => At::ReopenedHeld,
        s => At::ALL
            .into_iter()
            .find(|a| a.stage() == s)
            .expect("a fixture for every stage"),
    };
    let art = match row.article {
        ArticleEffect::Keep => Art::Same,
        ArticleEffect::TakeDown if held => Art::Same,
        ArticleEffect::TakeDown => Art::Hold,
        ArticleEffect::Release if held => Art::Release,
        ArticleEffect::Release => Art::Same,
        ArticleEffect::Revise => Art::Revise,
    };
    Some((to, art))
}

/// Every (state, command) pair the table allows, in the tests' terms.
fn allowed() -> Vec<(At, Cmd, At, Art)> {
    At::ALL
        .into_iter()
        .flat_map(|from| {
            Cmd::ALL
                .into_iter()
                .filter_map(move |cmd| expected(from, cmd).map(|(to, art)| (from, cmd, to, art)))
        })
        .collect()
}

/// The reason a listed pair is refused by the regime's policy rather than the table:
/// with the default policy DSA has no restoration period, so no counter-notice.
fn refused_by_policy(
    policy: &Policy,
    regime: Regime,
    cmd: Cmd,
    now: SystemTime,
) -> Option<&'static str> {
    (cmd == Cmd::FileCounterNotice && policy.restoration_due(regime, now).is_none())
        .then_some("NO_COUNTER_NOTICE")
}

// ---------------------------------------------------------------------------------
// Claims built directly in each state, with the article consistent with it.
// ---------------------------------------------------------------------------------

/// When the fixtures' clocks run out; commands in the exhaustive test come later.
fn fixture_due() -> SystemTime {
    t0() + 3 * DAY
}

fn fixture_now() -> SystemTime {
    t0() + 40 * DAY
}

/// A claim of `regime` in state `at` against the seed article, constructed field by
/// field as the machine would have left it, and the article as it would be.
fn claim_in(at: At, regime: Regime) -> (pb::Claim, pb::Article) {
    let filed = t0();
    let mut claim = notice(regime);
    claim.id = CLAIM_ID.to_string();
    claim.article_url = ARTICLE_URL.to_string();
    claim.filed_by = CLAIMANT.to_string();
    claim.create_time = ts(filed);
    claim.update_time = ts(filed + DAY);
    claim.request_id = "req-file-1".to_string();
    claim.state = at.state() as i32;
    claim.next_deadline = at.deadline_kind().map(|kind| pb::Deadline {
        kind: kind as i32,
        due_time: ts(fixture_due()),
    });
    if !matches!(
        at,
        At::Received | At::NeedsInfo | At::ClosedIncomplete | At::Reopened | At::ReopenedHeld
    ) {
        claim.assignee = REVIEWER.to_string();
    }
    if at != At::Received {
        // A reviewer has acted: taken it, asked for information, or decided.
        claim.first_action_time = ts(filed + HOUR);
    }
    if matches!(at, At::NeedsInfo | At::ClosedIncomplete) {
        claim.information_request = Some(pb::InformationRequest {
            message: "Please locate the copied passages by paragraph.".to_string(),
            reviewer: REVIEWER.to_string(),
            request_time: ts(filed + HOUR),
            reply: String::new(),
        });
    }
    // A reopened claim was decided by OTHER_REVIEWER, so that REVIEWER (the usual
    // actor) may decide the complaint.
    let decided_by = match at {
        At::Reopened | At::ReopenedHeld => OTHER_REVIEWER,
        _ => REVIEWER,
    };
    let decision = |outcome: DecisionOutcome, items: Vec<u32>| {
        Some(pb::Decision {
            outcome: outcome as i32,
            statement_of_reasons: Some(reasons()),
            items_to_change: items,
            reviewer: decided_by.to_string(),
            decide_time: ts(filed + 2 * HOUR),
            ..Default::default()
        })
    };
    match at {
        At::Rejected | At::Reopened => claim.decision = decision(DecisionOutcome::Reject, vec![]),
        At::CorrectionPending | At::Corrected => {
            claim.decision = decision(DecisionOutcome::Correct, vec![0, 1])
        }
        At::Deleted
        | At::DeletedFinal
        | At::ReopenedHeld
        | At::CounterNoticed
        | At::LegalActionPending
        | At::Restored => claim.decision = decision(DecisionOutcome::Delete, vec![]),
        _ => {}
    }
    if at == At::Corrected {
        claim.correction = Some(pb::Correction {
            article_revision: 2,
            summary: "Removed paragraph 1 and figure 1.".to_string(),
            recorded_by: PUBLISHER.to_string(),
            record_time: ts(filed + 3 * HOUR),
        });
    }
    if matches!(
        at,
        At::DeletedFinal | At::CounterNoticed | At::LegalActionPending | At::Restored
    ) {
        let mut cn = counter_notice();
        cn.file_time = ts(filed + 4 * HOUR);
        cn.filed_by = PUBLISHER.to_string();
        claim.counter_notice = Some(cn);
    }
    if matches!(at, At::LegalActionPending | At::DeletedFinal) {
        claim.legal_action = Some(pb::LegalAction {
            authority: "Beijing Internet Court".to_string(),
            case_reference: "(2024) Jing 0491 Min Chu 1234".to_string(),
            filed_date: "2024-01-16".to_string(),
            report_time: ts(filed + 5 * HOUR),
            ..Default::default()
        });
    }
    if at == At::DeletedFinal
        && let Some(la) = claim.legal_action.as_mut()
    {
        la.outcome = LegalActionOutcome::Upheld as i32;
        la.resolve_time = ts(filed + 6 * HOUR);
    }
    // The claimant complains against the rejection; the publisher against the deletion.
    if matches!(at, At::Reopened | At::ReopenedHeld) {
        claim.complaints.push(pb::Complaint {
            text: "Please look again.".to_string(),
            filed_by: if at == At::Reopened {
                CLAIMANT
            } else {
                PUBLISHER
            }
            .to_string(),
            file_time: ts(filed + 3 * HOUR),
            previous_decision: claim.decision.clone(),
            ..Default::default()
        });
    }
    if at == At::Withdrawn {
        claim.withdrawal = Some(pb::Withdrawal {
            reason: "Settled.".to_string(),
            withdraw_time: ts(filed + 2 * HOUR),
        });
    }

    let mut article = seed_article();
    article.update_time = ts(filed + DAY);
    if at.holds_article() {
        article.holding_claim_ids = vec![CLAIM_ID.to_string()];
        article.available = false;
        article.status = ArticleStatus::Deleted as i32;
    }
    if at == At::Corrected {
        article.revision = 2;
        article.status = ArticleStatus::Corrected as i32;
    }
    assert_consistent(&claim, &article);
    (claim, article)
}

/// The invariants that tie a single claim to its article and its clock.
/// `claim` once the notification forwarding its counter-notice has reached the
/// notifier at `now`: for a PRC claim, the restoration clock starts
/// (`notifications::start_restoration_clock`); otherwise nothing changes.
fn forwarded(claim: pb::Claim, now: SystemTime, policy: &Policy) -> pb::Claim {
    let n = pb::Notification {
        kind: pb::NotificationKind::CounterNoticeForwarded as i32,
        recipient: pb::NotificationRecipient::Notifier as i32,
        ..Default::default()
    };
    crate::domain::notifications::start_restoration_clock(&claim, &n, now, policy).unwrap_or(claim)
}

fn assert_consistent(claim: &pb::Claim, article: &pb::Article) {
    let at = At::of(claim, article);
    let held = article.holding_claim_ids.contains(&claim.id);
    assert_eq!(held, at.holds_article(), "{at:?}: hold on the article");
    assert_eq!(
        article.available,
        !at.holds_article(),
        "{at:?}: the article is unavailable iff the claim holds it"
    );
    assert_eq!(
        article.available,
        article.holding_claim_ids.is_empty(),
        "available agrees with the holds"
    );
    let status = if !article.available {
        ArticleStatus::Deleted
    } else if article.revision > 1 {
        ArticleStatus::Corrected
    } else {
        ArticleStatus::Published
    };
    assert_eq!(article.status(), status, "{at:?}: article status");
    assert_eq!(
        claim.next_deadline.as_ref().map(|d| d.kind()),
        at.deadline_kind(),
        "{at:?}: the clock that runs"
    );
    assert_eq!(
        Stage::of(claim).is_some_and(Stage::is_open),
        !at.is_terminal(),
        "{at:?}: open iff not terminal"
    );
}

// ---------------------------------------------------------------------------------
// The workflow DSL.
// ---------------------------------------------------------------------------------

/// One claim's life against the seed article, with a movable clock.
struct Case {
    claim: pb::Claim,
    article: pb::Article,
    now: SystemTime,
    policy: Policy,
}

/// The rights desk files a claim under `regime` against the seed article, on Monday
/// 2024-01-15 at 09:00 UTC.
fn file_claim(regime: Regime) -> Case {
    file_claim_at(regime, t0())
}

fn file_claim_at(regime: Regime, now: SystemTime) -> Case {
    file_claim_with(regime, now, false, Policy::default())
}

fn file_claim_with(regime: Regime, now: SystemTime, trusted: bool, policy: Policy) -> Case {
    let article = seed_article();
    let claim = file_notice(
        &notice(regime),
        &article,
        CLAIMANT,
        trusted,
        CLAIM_ID,
        "req-file-1",
        now,
        &policy,
    )
    .expect("the seed notice is valid");
    Case {
        claim,
        article,
        now,
        policy,
    }
}

impl Case {
    /// Applies `command` as `actor` a minute after the last step; on success the claim
    /// and article move on.
    fn try_as(&mut self, actor: &Actor, command: &Command) -> Result<Transition, DomainError> {
        self.now += MINUTE;
        let out = apply(
            &self.claim,
            &self.article,
            command,
            actor,
            self.now,
            &self.policy,
        );
        if let Ok(t) = &out {
            // Forwarding a counter-notice is delivered at once here.
            self.claim = forwarded(t.claim.clone(), self.now, &self.policy);
            self.article = t.article.clone();
        }
        out
    }

    fn run(&mut self, cmd: Cmd) -> &mut Self {
        self.run_as(&cmd.usual_actor(), cmd)
    }

    fn run_as(&mut self, actor: &Actor, cmd: Cmd) -> &mut Self {
        let command = cmd.build(&self.article);
        let from = self.claim.state();
        if let Err(e) = self.try_as(actor, &command) {
            panic!("{cmd:?} by {} in {from:?} failed: {e}", actor.id());
        }
        // The single-claim invariants hold unless another claim holds the article too.
        if self
            .article
            .holding_claim_ids
            .iter()
            .all(|c| *c == self.claim.id)
        {
            assert_consistent(&self.claim, &self.article);
        }
        self
    }

    fn start_review(&mut self) -> &mut Self {
        self.run(Cmd::StartReview)
    }
    fn request_information(&mut self) -> &mut Self {
        self.run(Cmd::RequestInformation)
    }
    fn amend_claim(&mut self) -> &mut Self {
        self.run(Cmd::AmendClaim)
    }
    fn decide(&mut self, outcome: DecisionOutcome) -> &mut Self {
        self.run(match outcome {
            DecisionOutcome::Reject => Cmd::DecideReject,
            DecisionOutcome::Correct => Cmd::DecideCorrect,
            _ => Cmd::DecideDelete,
        })
    }
    fn record_correction(&mut self) -> &mut Self {
        self.run(Cmd::RecordCorrection)
    }
    fn file_counter_notice(&mut self) -> &mut Self {
        self.run(Cmd::FileCounterNotice)
    }
    fn report_legal_action(&mut self) -> &mut Self {
        self.run(Cmd::ReportLegalAction)
    }
    fn resolve_legal_action(&mut self, outcome: LegalActionOutcome) -> &mut Self {
        self.run(if outcome == LegalActionOutcome::Upheld {
            Cmd::ResolveUpheld
        } else {
            Cmd::ResolveDismissed
        })
    }
    fn withdraw_claim(&mut self) -> &mut Self {
        self.run(Cmd::WithdrawClaim)
    }
    fn file_complaint_as(&mut self, actor: &Actor) -> &mut Self {
        self.run_as(actor, Cmd::FileComplaint)
    }
    fn decide_as(&mut self, actor: &Actor, outcome: DecisionOutcome) -> &mut Self {
        self.run_as(
            actor,
            match outcome {
                DecisionOutcome::Reject => Cmd::DecideReject,
                DecisionOutcome::Correct => Cmd::DecideCorrect,
                _ => Cmd::DecideDelete,
            },
        )
    }
    /// The sweeper fires the claim's deadline.
    fn expire_deadline(&mut self) -> &mut Self {
        self.run(Cmd::ExpireDeadline)
    }
    fn advance(&mut self, by: Duration) -> &mut Self {
        self.now += by;
        self
    }
    /// Moves the clock to just past the claim's running deadline.
    fn advance_past_deadline(&mut self) -> &mut Self {
        self.now = self.due().max(self.now);
        self
    }
    fn due(&self) -> SystemTime {
        let due = self
            .claim
            .next_deadline
            .as_ref()
            .and_then(|d| d.due_time)
            .expect("a deadline runs");
        SystemTime::try_from(due).expect("a valid time")
    }

    fn assert_state(&mut self, state: ClaimState) -> &mut Self {
        assert_eq!(self.claim.state(), state, "claim state");
        self
    }
    fn assert_available(&mut self, available: bool) -> &mut Self {
        assert_eq!(self.article.available, available, "article availability");
        self
    }
    fn assert_article(&mut self, status: ArticleStatus, revision: u64) -> &mut Self {
        assert_eq!(self.article.status(), status, "article status");
        assert_eq!(self.article.revision, revision, "article revision");
        self
    }
    /// `cmd` as `actor` is refused by a rule outside the table, with `reason`, and
    /// nothing changes.
    fn assert_refused_for(&mut self, actor: &Actor, cmd: Cmd, reason: &str) -> &mut Self {
        let before = (self.claim.clone(), self.article.clone());
        match self.try_as(actor, &cmd.build(&self.article)) {
            Err(DomainError::Refused { reason: r, message }) => {
                assert_eq!(r, reason, "{cmd:?}: {message}");
                assert!(!message.is_empty());
            }
            other => panic!("{cmd:?}: expected Refused {reason}, got {other:?}"),
        }
        assert_eq!((self.claim.clone(), self.article.clone()), before);
        self
    }
    fn complaint(&self) -> &pb::Complaint {
        self.claim.complaints.last().expect("a complaint")
    }
    fn assert_refused(&mut self, cmd: Cmd) -> &mut Self {
        let before = (self.claim.clone(), self.article.clone());
        let state = self.claim.state();
        match self.try_as(&cmd.usual_actor(), &cmd.build(&self.article)) {
            Err(DomainError::InvalidTransition { state: s, .. }) => assert_eq!(s, state),
            other => panic!("{cmd:?} in {state:?}: expected InvalidTransition, got {other:?}"),
        }
        assert_eq!((self.claim.clone(), self.article.clone()), before);
        self
    }
}

/// Files `notice` as the writer would: parsed once, then made a claim.
#[allow(clippy::too_many_arguments)]
fn file_notice(
    notice: &pb::Claim,
    article: &pb::Article,
    filed_by: &str,
    trusted_flagger: bool,
    claim_id: &str,
    request_id: &str,
    now: SystemTime,
    policy: &Policy,
) -> Result<pb::Claim, DomainError> {
    let notice = Notice::parse(notice.clone())?;
    crate::domain::file_claim(
        &notice,
        article,
        filed_by,
        trusted_flagger,
        claim_id,
        request_id,
        now,
        policy,
    )
}

fn fields(err: DomainError) -> Vec<String> {
    match err {
        DomainError::Invalid(v) => v.into_iter().map(|f| f.field).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn under_review() -> (pb::Claim, pb::Article) {
    claim_in(At::UnderReview, Regime::Dsa)
}

fn apply_now(
    claim: &pb::Claim,
    article: &pb::Article,
    command: Command,
    actor: Actor,
) -> Result<Transition, DomainError> {
    apply(
        claim,
        article,
        &command,
        &actor,
        fixture_now(),
        &Policy::default(),
    )
}
