//! The vocabulary of the state machine: who acts, what they ask, and what an accepted
//! command produces.

use crate::pb::{self, Role};

/// Who is acting.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    /// An authenticated principal with its roles.
    Principal { id: String, roles: Vec<Role> },
    /// The deadline sweeper.
    System,
}

impl Actor {
    /// The id written to the audit log.
    pub fn id(&self) -> &str {
        match self {
            Actor::Principal { id, .. } => id,
            Actor::System => "system",
        }
    }

    pub fn has(&self, role: Role) -> bool {
        matches!(self, Actor::Principal { roles, .. } if roles.contains(&role))
    }

    /// Commands reserved to "the claim's claimant" (admins may act for it).
    pub fn owns(&self, claim: &pb::Claim) -> bool {
        match self {
            Actor::Principal { id, .. } => *id == claim.filed_by || self.has(Role::Admin),
            Actor::System => false,
        }
    }
}

/// A command on an existing claim.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per request and moved, never stored in bulk"
)]
pub enum Command {
    StartReview,
    RequestInformation {
        message: String,
    },
    AmendClaim {
        amendment: pb::Claim,
        update_mask: Vec<String>,
        reply: String,
    },
    DecideClaim {
        outcome: i32,
        statement_of_reasons: Option<pb::StatementOfReasons>,
        items_to_change: Vec<u32>,
    },
    RecordCorrection {
        article_revision: u64,
        summary: String,
    },
    FileCounterNotice {
        counter_notice: Option<pb::CounterNotice>,
    },
    ReportLegalAction {
        authority: String,
        case_reference: String,
        filed_date: String,
    },
    ResolveLegalAction {
        outcome: i32,
        note: String,
    },
    WithdrawClaim {
        reason: String,
    },
    /// A complaint against the decision (DSA Art. 20), by the claimant or a publisher.
    FileComplaint {
        text: String,
    },
    /// The system's timed transition: the claim's `next_deadline` has passed.
    ExpireDeadline,
}

impl Command {
    /// The RPC (or system action) name recorded in the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Command::StartReview => "StartReview",
            Command::RequestInformation { .. } => "RequestInformation",
            Command::AmendClaim { .. } => "AmendClaim",
            Command::DecideClaim { .. } => "DecideClaim",
            Command::RecordCorrection { .. } => "RecordCorrection",
            Command::FileCounterNotice { .. } => "FileCounterNotice",
            Command::ReportLegalAction { .. } => "ReportLegalAction",
            Command::ResolveLegalAction { .. } => "ResolveLegalAction",
            Command::WithdrawClaim { .. } => "WithdrawClaim",
            Command::FileComplaint { .. } => "FileComplaint",
            Command::ExpireDeadline => "ExpireDeadline",
        }
    }
}

/// The result of an accepted command.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub claim: pb::Claim,
    /// The article after the command (unchanged if the command does not touch it).
    pub article: pb::Article,
    pub article_changed: bool,
    pub action: &'static str,
    /// A short account for the audit log.
    pub detail: String,
}
