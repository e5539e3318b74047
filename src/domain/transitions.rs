//! The claim state machine as data: for every stage a claim can be in and every
//! command, whether the command is allowed, the stage it leads to, what it does to the
//! article, and what a refusal tells the caller. This table is the product's rule; the
//! machine (`claim_machine::apply`) looks every state check up here, the exhaustive
//! domain tests iterate over it, and `docs/api.md` shows it (a test keeps the doc and
//! the table equal). See `docs/architecture.md`, "The claim state machine".
//!
//! Adding a verb: its proto, its file in `commands/`, its rows here, its row in the
//! access table (`api::auth::ACCESS`).

use crate::pb::{self, ClaimState, DeadlineKind};

/// Where a claim stands, as far as the table cares: its state, refined where the state
/// alone does not decide what may happen next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Received,
    NeedsInfo,
    UnderReview,
    /// UNDER_REVIEW again because a complaint (DSA Art. 20) reopened a decision; it is
    /// decided on the record, by another reviewer.
    Reopened,
    CorrectionPending,
    Corrected,
    /// DELETED, and the publisher may still file a counter-notice.
    Deleted,
    /// DELETED after a counter-notice was used or legal action upheld.
    DeletedFinal,
    CounterNoticed,
    LegalActionPending,
    Rejected,
    Restored,
    Withdrawn,
    ClosedIncomplete,
}

impl Stage {
    /// Every stage, in the order the docs list them.
    pub const ALL: [Stage; 14] = [
        Stage::Received,
        Stage::NeedsInfo,
        Stage::UnderReview,
        Stage::Reopened,
        Stage::CorrectionPending,
        Stage::Corrected,
        Stage::Deleted,
        Stage::DeletedFinal,
        Stage::CounterNoticed,
        Stage::LegalActionPending,
        Stage::Rejected,
        Stage::Restored,
        Stage::Withdrawn,
        Stage::ClosedIncomplete,
    ];

    /// The stage of `claim`, or `None` for a claim without a valid state (which
    /// accepts nothing).
    pub fn of(claim: &pb::Claim) -> Option<Stage> {
        use ClaimState as S;
        Some(match claim.state() {
            S::Unspecified => return None,
            S::Received => Stage::Received,
            S::NeedsInfo => Stage::NeedsInfo,
            S::UnderReview if open_complaint(claim).is_some() => Stage::Reopened,
            S::UnderReview => Stage::UnderReview,
            S::CorrectionPending => Stage::CorrectionPending,
            S::Corrected => Stage::Corrected,
            S::Deleted if claim.counter_notice.is_some() => Stage::DeletedFinal,
            S::Deleted => Stage::Deleted,
            S::CounterNoticed => Stage::CounterNoticed,
            S::LegalActionPending => Stage::LegalActionPending,
            S::Rejected => Stage::Rejected,
            S::Restored => Stage::Restored,
            S::Withdrawn => Stage::Withdrawn,
            S::ClosedIncomplete => Stage::ClosedIncomplete,
        })
    }

    /// The stored state of a claim at this stage.
    pub fn state(self) -> ClaimState {
        use ClaimState as S;
        match self {
            Stage::Received => S::Received,
            Stage::NeedsInfo => S::NeedsInfo,
            Stage::UnderReview | Stage::Reopened => S::UnderReview,
            Stage::CorrectionPending => S::CorrectionPending,
            Stage::Corrected => S::Corrected,
            Stage::Deleted | Stage::DeletedFinal => S::Deleted,
            Stage::CounterNoticed => S::CounterNoticed,
            Stage::LegalActionPending => S::LegalActionPending,
            Stage::Rejected => S::Rejected,
            Stage::Restored => S::Restored,
            Stage::Withdrawn => S::Withdrawn,
            Stage::ClosedIncomplete => S::ClosedIncomplete,
        }
    }

    /// How the docs name the stage: the state, with the refinement in brackets.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Received => "RECEIVED",
            Stage::NeedsInfo => "NEEDS_INFO",
            Stage::UnderReview => "UNDER_REVIEW",
            Stage::Reopened => "UNDER_REVIEW (on a complaint)",
            Stage::CorrectionPending => "CORRECTION_PENDING",
            Stage::Corrected => "CORRECTED",
            Stage::Deleted => "DELETED",
            Stage::DeletedFinal => "DELETED (final)",
            Stage::CounterNoticed => "COUNTER_NOTICED",
            Stage::LegalActionPending => "LEGAL_ACTION_PENDING",
            Stage::Rejected => "REJECTED",
            Stage::Restored => "RESTORED",
            Stage::Withdrawn => "WITHDRAWN",
            Stage::ClosedIncomplete => "CLOSED_INCOMPLETE",
        }
    }

    /// True for stages a withdrawal may still end: the claim is not yet settled.
    pub fn is_open(self) -> bool {
        find(self, Verb::WithdrawClaim).is_some()
    }

    /// True for stages nothing but a complaint can move.
    pub fn is_terminal(self) -> bool {
        TABLE
            .iter()
            .filter(|r| r.from == self)
            .all(|r| r.verb == Verb::FileComplaint)
    }
}

/// The complaint a reopened claim is being reviewed for, if any.
pub fn open_complaint(claim: &pb::Claim) -> Option<&pb::Complaint> {
    claim.complaints.last().filter(|c| c.resolve_time.is_none())
}

/// A command as the table tells commands apart: a decision and a legal action's
/// resolution by their outcome, since the outcome picks the next state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    StartReview,
    RequestInformation,
    AmendClaim,
    DecideReject,
    DecideCorrect,
    DecideDelete,
    RecordCorrection,
    FileCounterNotice,
    ReportLegalAction,
    ResolveUpheld,
    ResolveDismissed,
    WithdrawClaim,
    FileComplaint,
    /// The sweeper's timed transition: the claim's running clock ran out.
    ExpireDeadline,
}

impl Verb {
    pub const ALL: [Verb; 14] = [
        Verb::StartReview,
        Verb::RequestInformation,
        Verb::AmendClaim,
        Verb::DecideReject,
        Verb::DecideCorrect,
        Verb::DecideDelete,
        Verb::RecordCorrection,
        Verb::FileCounterNotice,
        Verb::ReportLegalAction,
        Verb::ResolveUpheld,
        Verb::ResolveDismissed,
        Verb::WithdrawClaim,
        Verb::FileComplaint,
        Verb::ExpireDeadline,
    ];

    /// How the docs name the verb: the RPC, with the outcome that picks the row.
    pub fn label(self) -> &'static str {
        match self {
            Verb::StartReview => "StartReview",
            Verb::RequestInformation => "RequestInformation",
            Verb::AmendClaim => "AmendClaim",
            Verb::DecideReject => "DecideClaim REJECT",
            Verb::DecideCorrect => "DecideClaim CORRECT",
            Verb::DecideDelete => "DecideClaim DELETE",
            Verb::RecordCorrection => "RecordCorrection",
            Verb::FileCounterNotice => "FileCounterNotice",
            Verb::ReportLegalAction => "ReportLegalAction",
            Verb::ResolveUpheld => "ResolveLegalAction UPHELD",
            Verb::ResolveDismissed => "ResolveLegalAction DISMISSED",
            Verb::WithdrawClaim => "WithdrawClaim",
            Verb::FileComplaint => "FileComplaint",
            Verb::ExpireDeadline => "deadline passes (system)",
        }
    }
}

/// What a transition does to the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleEffect {
    /// Nothing.
    Keep,
    /// Withdrawn from the site on this claim's behalf (a no-op if it already is).
    TakeDown,
    /// This claim lets go of its hold, if it had one; the article is available again
    /// once no other claim holds it.
    Release,
    /// Corrected: revision + 1.
    Revise,
}

impl ArticleEffect {
    pub fn label(self) -> &'static str {
        match self {
            ArticleEffect::Keep => "",
            ArticleEffect::TakeDown => "taken down",
            ArticleEffect::Release => "released",
            ArticleEffect::Revise => "revision + 1",
        }
    }
}

/// One allowed transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub from: Stage,
    pub verb: Verb,
    pub to: Stage,
    pub article: ArticleEffect,
}

const fn row(from: Stage, verb: Verb, to: Stage, article: ArticleEffect) -> Row {
    Row {
        from,
        verb,
        to,
        article,
    }
}

use ArticleEffect::{Keep, Release, Revise, TakeDown};
use Stage::*;
use Verb::*;

/// Every allowed (stage, verb) pair. A pair that is not here is refused with
/// FAILED_PRECONDITION naming the claim's state and the verb's hint. Rules beside the
/// table may still refuse a listed pair: the complaint window
/// (`COMPLAINT_WINDOW_CLOSED`), the second-reviewer rule (`SAME_REVIEWER`), a regime
/// without counter-notices (`NO_COUNTER_NOTICE`), and a clock that has not run out.
#[rustfmt::skip]
pub const TABLE: &[Row] = &[
    row(Received,           StartReview,        UnderReview,        Keep),
    row(Received,           RequestInformation, NeedsInfo,          Keep),
    row(UnderReview,        RequestInformation, NeedsInfo,          Keep),
    row(NeedsInfo,          AmendClaim,         Received,           Keep),
    row(NeedsInfo,          ExpireDeadline,     ClosedIncomplete,   Keep),
    row(UnderReview,        DecideReject,       Rejected,           Release),
    row(UnderReview,        DecideCorrect,      CorrectionPending,  Release),
    row(UnderReview,        DecideDelete,       Deleted,            TakeDown),
    row(CorrectionPending,  RecordCorrection,   Corrected,          Revise),
    row(CorrectionPending,  ExpireDeadline,     Deleted,            TakeDown),
    row(Deleted,            FileCounterNotice,  CounterNoticed,     Keep),
    row(CounterNoticed,     ReportLegalAction,  LegalActionPending, Keep),
    row(CounterNoticed,     ExpireDeadline,     Restored,           Release),
    row(LegalActionPending, ResolveUpheld,      DeletedFinal,       Keep),
    row(LegalActionPending, ResolveDismissed,   Restored,           Release),
    // Any open stage may be withdrawn; content this claim held down comes back.
    row(Received,           WithdrawClaim,      Withdrawn,          Release),
    row(NeedsInfo,          WithdrawClaim,      Withdrawn,          Release),
    row(UnderReview,        WithdrawClaim,      Withdrawn,          Release),
    row(Reopened,           WithdrawClaim,      Withdrawn,          Release),
    row(CorrectionPending,  WithdrawClaim,      Withdrawn,          Release),
    row(Deleted,            WithdrawClaim,      Withdrawn,          Release),
    row(CounterNoticed,     WithdrawClaim,      Withdrawn,          Release),
    row(LegalActionPending, WithdrawClaim,      Withdrawn,          Release),
    // DSA Art. 20: a complaint reopens a decided claim; the article stays as the
    // decision left it until the new decision, by another reviewer.
    row(Rejected,           FileComplaint,      Reopened,           Keep),
    row(Corrected,          FileComplaint,      Reopened,           Keep),
    row(Restored,           FileComplaint,      Reopened,           Keep),
    row(Deleted,            FileComplaint,      Reopened,           Keep),
    row(DeletedFinal,       FileComplaint,      Reopened,           Keep),
    row(Reopened,           DecideReject,       Rejected,           Release),
    row(Reopened,           DecideCorrect,      CorrectionPending,  Release),
    row(Reopened,           DecideDelete,       Deleted,            TakeDown),
    // Not RequestInformation on a reopened claim: a complaint is decided on the
    // record, so a reply window can never close a claim that holds content.
];

/// The clock that moves a claim out of a stage by itself, for `ExpireDeadline`: a
/// claim whose running deadline is of another kind is not moved.
pub const TIMERS: &[(Stage, DeadlineKind)] = &[
    (NeedsInfo, DeadlineKind::InformationReply),
    (CorrectionPending, DeadlineKind::CorrectionWindow),
    (CounterNoticed, DeadlineKind::Restoration),
];

/// What a refused verb tells the caller: where the verb is allowed.
const HINTS: &[(Verb, &str)] = &[
    (StartReview, "only a RECEIVED claim can be taken for review"),
    (
        RequestInformation,
        "information can be requested only on a RECEIVED or UNDER_REVIEW claim",
    ),
    (
        AmendClaim,
        "a claim can be amended only while it is NEEDS_INFO",
    ),
    (
        DecideReject,
        "only a claim UNDER_REVIEW can be decided; call StartReview first",
    ),
    (
        DecideCorrect,
        "only a claim UNDER_REVIEW can be decided; call StartReview first",
    ),
    (
        DecideDelete,
        "only a claim UNDER_REVIEW can be decided; call StartReview first",
    ),
    (
        RecordCorrection,
        "a correction can be recorded only for a CORRECTION_PENDING claim",
    ),
    (
        FileCounterNotice,
        "a counter-notice can be filed only against a DELETED claim",
    ),
    (
        ReportLegalAction,
        "legal action can be reported only on a COUNTER_NOTICED claim",
    ),
    (
        ResolveUpheld,
        "only a LEGAL_ACTION_PENDING claim can be resolved",
    ),
    (
        ResolveDismissed,
        "only a LEGAL_ACTION_PENDING claim can be resolved",
    ),
    (WithdrawClaim, "only an open claim can be withdrawn"),
    (
        FileComplaint,
        "a complaint can be filed only against a decided claim: REJECTED, CORRECTED, DELETED or RESTORED",
    ),
    (
        ExpireDeadline,
        "only reply, correction and restoration deadlines move a claim",
    ),
];

/// Hints for a (stage, verb) pair whose refusal needs more than the verb's own.
const STAGE_HINTS: &[(Stage, Verb, &str)] = &[
    (
        DeletedFinal,
        FileCounterNotice,
        "the deletion is final: a counter-notice was already used",
    ),
    (
        Reopened,
        RequestInformation,
        "a complaint is decided on the record: DecideClaim by a reviewer other than the one who decided",
    ),
];

/// The row for `verb` at `stage`, if the verb is allowed there.
pub fn find(stage: Stage, verb: Verb) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.from == stage && r.verb == verb)
}

/// What to tell a caller whose `verb` is refused at `stage` (`None`: no valid state).
pub fn hint(stage: Option<Stage>, verb: Verb) -> &'static str {
    let special = stage.and_then(|s| {
        STAGE_HINTS
            .iter()
            .find(|(st, v, _)| *st == s && *v == verb)
            .map(|(_, _, h)| *h)
    });
    special
        .or_else(|| HINTS.iter().find(|(v, _)| *v == verb).map(|(_, h)| *h))
        .unwrap_or("this command is not allowed now")
}

/// The clock that moves a claim out of `stage` by itself, if any.
pub fn timer(stage: Stage) -> Option<DeadlineKind> {
    TIMERS.iter().find(|(s, _)| *s == stage).map(|(_, k)| *k)
}

/// The table as the Markdown table `docs/api.md` shows.
pub fn markdown() -> String {
    let mut out = String::from("| from | command | to | article |\n|---|---|---|---|\n");
    for r in TABLE {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.from.label(),
            r.verb.label(),
            r.to.label(),
            r.article.label()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_pair_and_a_hint_per_verb() {
        for (i, r) in TABLE.iter().enumerate() {
            assert!(
                !TABLE[..i]
                    .iter()
                    .any(|o| o.from == r.from && o.verb == r.verb),
                "duplicate row for ({:?}, {:?})",
                r.from,
                r.verb
            );
        }
        for v in Verb::ALL {
            assert!(HINTS.iter().any(|(h, _)| *h == v), "{v:?} has a hint");
        }
        for (s, v, _) in STAGE_HINTS {
            assert!(find(*s, *v).is_none(), "a special hint for an allowed pair");
        }
    }

    #[test]
    fn every_stage_maps_to_a_state_and_back() {
        for s in Stage::ALL {
            assert_ne!(s.state(), ClaimState::Unspecified);
        }
        let states: std::collections::BTreeSet<i32> =
            Stage::ALL.iter().map(|s| s.state() as i32).collect();
        let every: std::collections::BTreeSet<i32> = (1..)
            .map_while(|n| ClaimState::try_from(n).ok())
            .map(|s| s as i32)
            .collect();
        assert_eq!(states, every, "every stored state has a stage");
    }

    #[test]
    fn the_doc_shows_the_table() {
        let doc = include_str!("../../docs/api.md");
        assert!(
            doc.contains(&markdown()),
            "docs/api.md must contain the transition table exactly as \
             `transitions::markdown()` prints it:\n{}",
            markdown()
        );
    }
}
