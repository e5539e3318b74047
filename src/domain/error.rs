//! What can go wrong when a rule says no. The API layer maps each variant to one gRPC
//! status; the messages here are written for the caller and say what to do next.

use crate::pb::ClaimState;

/// One invalid field of a request, as reported in `google.rpc.BadRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field path, such as `claim.claimant.email` or `claim.items[2].locator`.
    pub field: String,
    /// What is wrong and what to send instead.
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// Bad input; every violation is listed.
    #[error("the request has {} invalid field(s): {}", .0.len(), summary(.0))]
    Invalid(Vec<FieldViolation>),
    /// The command is not allowed in the claim's current state.
    #[error("{command} is not allowed while the claim is {}; {hint}", state_name(*.state))]
    InvalidTransition {
        command: &'static str,
        state: ClaimState,
        hint: &'static str,
    },
    /// The caller is not the claim's claimant. Reported as NOT_FOUND so that the
    /// existence of other claimants' claims does not leak.
    #[error("claim {0} not found; check the id")]
    NotYours(String),
    /// A timed transition was asked for before its deadline.
    #[error("the claim's deadline has not passed yet")]
    NotDue,
    /// A rule other than the state table refuses the command now; `reason` is the
    /// machine-readable `google.rpc.ErrorInfo` reason.
    #[error("{message}")]
    Refused {
        reason: &'static str,
        message: String,
    },
}

fn summary(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `CLAIM_STATE_UNDER_REVIEW` -> `UNDER_REVIEW`.
pub fn state_name(state: ClaimState) -> &'static str {
    state
        .as_str_name()
        .strip_prefix("CLAIM_STATE_")
        .unwrap_or("UNSPECIFIED")
}
