//! One file per claim verb: its payload, the checks on it, and its effect on the
//! claim. The state checks are not here: `transitions::TABLE` decides whether a verb
//! is allowed and where it leads, and `claim_machine::apply` runs every verb through
//! the same steps (who, payload, table, effect, article). FileClaim creates a claim
//! and lives in `file_claim`.

mod amend_claim;
mod decide_claim;
mod expire_deadline;
mod file_claim;
mod file_complaint;
mod file_counter_notice;
mod record_correction;
mod report_legal_action;
mod request_information;
mod resolve_legal_action;
mod start_review;
mod withdraw_claim;

use std::time::SystemTime;

pub use amend_claim::{AMENDABLE, AmendClaim};
pub use decide_claim::DecideClaim;
pub use expire_deadline::ExpireDeadline;
pub use file_claim::{Notice, file_claim};
pub use file_complaint::FileComplaint;
pub use file_counter_notice::FileCounterNotice;
pub use record_correction::RecordCorrection;
pub use report_legal_action::ReportLegalAction;
pub use request_information::RequestInformation;
pub use resolve_legal_action::ResolveLegalAction;
pub use start_review::StartReview;
pub use withdraw_claim::WithdrawClaim;

use super::transitions::{Stage, Verb};
use super::{Actor, AuditAction, DomainError, FieldViolation, Policy, article_status};
use crate::pb::{self, DeadlineKind};

/// What every claim verb tells the machine.
pub trait ClaimVerb {
    /// The action recorded in the audit log: the RPC, or the system's ExpireDeadline.
    fn action(&self) -> AuditAction;
    /// The verb's column in the transition table (a decision's outcome picks its row).
    fn verb(&self) -> Verb;
    /// Whether `actor` may run this verb on `claim` at all. Anyone else is told the
    /// claim does not exist, so that other claimants' claims do not leak.
    fn permitted(&self, _actor: &Actor, _claim: &pb::Claim) -> bool {
        true
    }
    /// Every problem with the payload, against the claim and article as they are.
    fn check(&self, claim: &pb::Claim, article: &pb::Article) -> Vec<FieldViolation>;
    /// The verb's own effect, once the table has allowed it and set the new state;
    /// returns the account for the audit log. May still refuse for a rule beside the
    /// table.
    fn effect(&self, step: &mut Step) -> Result<String, DomainError>;
}

/// A command on an existing claim.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per request and moved, never stored in bulk"
)]
pub enum Command {
    StartReview(StartReview),
    RequestInformation(RequestInformation),
    AmendClaim(AmendClaim),
    DecideClaim(DecideClaim),
    RecordCorrection(RecordCorrection),
    FileCounterNotice(FileCounterNotice),
    ReportLegalAction(ReportLegalAction),
    ResolveLegalAction(ResolveLegalAction),
    WithdrawClaim(WithdrawClaim),
    FileComplaint(FileComplaint),
    ExpireDeadline(ExpireDeadline),
}

impl Command {
    /// The verb behind the command.
    pub fn verb(&self) -> &dyn ClaimVerb {
        match self {
            Command::StartReview(c) => c,
            Command::RequestInformation(c) => c,
            Command::AmendClaim(c) => c,
            Command::DecideClaim(c) => c,
            Command::RecordCorrection(c) => c,
            Command::FileCounterNotice(c) => c,
            Command::ReportLegalAction(c) => c,
            Command::ResolveLegalAction(c) => c,
            Command::WithdrawClaim(c) => c,
            Command::FileComplaint(c) => c,
            Command::ExpireDeadline(c) => c,
        }
    }

    /// The RPC (or system action) name recorded in the audit log.
    pub fn name(&self) -> &'static str {
        self.verb().action().as_str()
    }
}

/// A command in progress: the claim and article as they are becoming.
pub struct Step<'a> {
    /// The claim before the command.
    pub claim: &'a pb::Claim,
    /// The claim after it.
    pub next: pb::Claim,
    pub article: pb::Article,
    pub article_changed: bool,
    /// Where the transition table sends the claim.
    pub to: Stage,
    pub actor: &'a Actor,
    pub now: SystemTime,
    pub policy: &'a Policy,
}

impl Step<'_> {
    /// Records a reviewer's first action on the claim (for the transparency report).
    pub fn first_action(&mut self) {
        if self.next.first_action_time.is_none() && matches!(self.actor, Actor::Principal { .. }) {
            self.next.first_action_time = Some(self.now.into());
        }
    }

    /// Withdraws the article on this claim's behalf.
    pub fn hold(&mut self) {
        if !self.article.holding_claim_ids.contains(&self.claim.id) {
            article_status::hold(&mut self.article, &self.claim.id, self.now);
            self.article_changed = true;
        }
    }

    /// Lets go of this claim's hold on the article, if it has one.
    pub fn release(&mut self) {
        if self.article.holding_claim_ids.contains(&self.claim.id) {
            article_status::release(&mut self.article, &self.claim.id, self.now);
            self.article_changed = true;
        }
    }

    /// Records a correction: the article's revision moves to `revision`.
    pub fn revise(&mut self, revision: u64) {
        article_status::correct(&mut self.article, revision, self.now);
        self.article_changed = true;
    }

    /// Starts the review clock again (a new notice, an amendment, a complaint).
    pub fn review_deadline(&mut self) {
        let c = self.claim;
        let due = self
            .policy
            .review_due(c.regime(), c.trusted_flagger, self.now);
        self.next.next_deadline = deadline(DeadlineKind::Review, due);
    }
}

pub(super) fn deadline(kind: DeadlineKind, due: SystemTime) -> Option<pb::Deadline> {
    Some(pb::Deadline {
        kind: kind as i32,
        due_time: Some(due.into()),
    })
}

pub(super) fn time(t: Option<prost_types::Timestamp>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(t).ok())
}
