//! The one place where errors become gRPC statuses. Every message says what was wrong
//! and what to do next; internal faults are logged here and answered without detail.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::{DomainError, FieldViolation};
use crate::store::StoreError;
use crate::writer::WriteError;

/// The `google.rpc.ErrorInfo` domain of our errors.
pub const ERROR_DOMAIN: &str = "takedown.v1";

/// The `ErrorInfo` reason of a write sent to a standby.
pub const NOT_LEADER: &str = "NOT_LEADER";
/// The `ErrorInfo` metadata key naming the leader's address (its `--advertise-addr`).
pub const NOT_LEADER_METADATA: &str = "leader";

/// Most field violations an answer lists; a hostile request with thousands of bad
/// entries gets the first ones and a count, not megabytes of trailers.
pub const MAX_VIOLATIONS: usize = 100;

/// INVALID_ARGUMENT listing the violations (at most [`MAX_VIOLATIONS`]) as
/// `google.rpc.BadRequest`.
pub fn invalid(mut violations: Vec<FieldViolation>) -> Status {
    // The message (a header) names the first few; the details list them all.
    const IN_MESSAGE: usize = 5;
    let shown: Vec<String> = violations
        .iter()
        .take(IN_MESSAGE)
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    let mut message = format!(
        "the request has {} invalid field(s): {}",
        violations.len(),
        shown.join("; ")
    );
    let total = violations.len();
    if total > MAX_VIOLATIONS {
        violations.truncate(MAX_VIOLATIONS);
        message.push_str(&format!(
            "; and {} more; the google.rpc.BadRequest details list the first {MAX_VIOLATIONS}",
            total - IN_MESSAGE
        ));
    } else if total > IN_MESSAGE {
        message.push_str(&format!(
            "; and {} more, listed in the google.rpc.BadRequest details",
            total - IN_MESSAGE
        ));
    }
    let details = ErrorDetails::with_bad_request(
        violations
            .into_iter()
            .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
            .collect::<Vec<_>>(),
    );
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// INVALID_ARGUMENT for one field.
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    invalid(vec![FieldViolation::new(field, description)])
}

/// Fails with INVALID_ARGUMENT if any violation was found.
pub fn check(violations: Vec<FieldViolation>) -> Result<(), Status> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(invalid(violations))
    }
}

/// NOT_FOUND naming what was looked for.
pub fn not_found(what: &str, id: &str) -> Status {
    Status::not_found(format!("{what} {id} not found; check the id"))
}

fn internal(error: &dyn std::fmt::Display) -> Status {
    tracing::error!(%error, "internal error");
    Status::internal(
        "internal error; the request may not have been applied; retry later or ask the operator to check the server log",
    )
}

impl From<DomainError> for Status {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(v) => invalid(v),
            DomainError::InvalidTransition { command, state, .. } => {
                let metadata = HashMap::from([
                    ("current_state".to_string(), state.as_str_name().to_string()),
                    ("command".to_string(), command.to_string()),
                ]);
                Status::with_error_details(
                    Code::FailedPrecondition,
                    e.to_string(),
                    ErrorDetails::with_error_info("INVALID_TRANSITION", ERROR_DOMAIN, metadata),
                )
            }
            DomainError::NotYours(id) => not_found("claim", &id),
            DomainError::NotDue => Status::failed_precondition(e.to_string()),
            DomainError::Refused { reason, message } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, HashMap::new()),
            ),
        }
    }
}

impl From<WriteError> for Status {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Domain(d) => d.into(),
            WriteError::NotFound { what, id } => not_found(what, &id),
            WriteError::EtagMismatch { .. } => Status::aborted(e.to_string()),
            WriteError::UrlTaken { .. } | WriteError::RequestIdReused { .. } => {
                Status::already_exists(e.to_string())
            }
            WriteError::LastAdmin { .. } => Status::with_error_details(
                Code::FailedPrecondition,
                e.to_string(),
                ErrorDetails::with_error_info("LAST_ADMIN", ERROR_DOMAIN, HashMap::new()),
            ),
            WriteError::OpenClaims { .. } => Status::with_error_details(
                Code::FailedPrecondition,
                e.to_string(),
                ErrorDetails::with_error_info("OPEN_CLAIMS", ERROR_DOMAIN, HashMap::new()),
            ),
            WriteError::Suspended { until, .. } => {
                let metadata = HashMap::from([(
                    "suspended_until".to_string(),
                    crate::writer::commands::rfc3339(until),
                )]);
                Status::with_error_details(
                    Code::FailedPrecondition,
                    e.to_string(),
                    ErrorDetails::with_error_info("PRINCIPAL_SUSPENDED", ERROR_DOMAIN, metadata),
                )
            }
            WriteError::PartySuspended { until, .. } => {
                let metadata = HashMap::from([(
                    "suspended_until".to_string(),
                    crate::writer::commands::rfc3339(until),
                )]);
                Status::with_error_details(
                    Code::FailedPrecondition,
                    e.to_string(),
                    ErrorDetails::with_error_info("PARTY_SUSPENDED", ERROR_DOMAIN, metadata),
                )
            }
            WriteError::Stopped => Status::unavailable(e.to_string()),
            // The writer stalled (a full disk, say) and resumes by itself: worth a retry.
            WriteError::OutcomeUnknown { .. } => Status::with_error_details(
                Code::Unavailable,
                e.to_string(),
                ErrorDetails::with_error_info(
                    "WRITE_OUTCOME_UNKNOWN",
                    ERROR_DOMAIN,
                    HashMap::new(),
                ),
            ),
            WriteError::Paused { .. } => Status::with_error_details(
                Code::Unavailable,
                e.to_string(),
                ErrorDetails::with_error_info("WRITES_PAUSED", ERROR_DOMAIN, HashMap::new()),
            ),
            // A standby (`docs/architecture.md`, "Replication"): the write was not
            // recorded; clients retry at the leader the metadata names.
            WriteError::NotLeader { ref leader } => {
                let metadata: HashMap<String, String> = leader
                    .iter()
                    .map(|l| (NOT_LEADER_METADATA.to_string(), l.clone()))
                    .collect();
                Status::with_error_details(
                    Code::Unavailable,
                    e.to_string(),
                    ErrorDetails::with_error_info(NOT_LEADER, ERROR_DOMAIN, metadata),
                )
            }
            WriteError::Inconsistent(_) | WriteError::Storage(_) => internal(&e),
        }
    }
}

/// A tree read: a size or seq the log does not have is the caller's to fix.
impl From<crate::store::TreeError> for Status {
    fn from(e: crate::store::TreeError) -> Self {
        use crate::store::TreeError;
        match e {
            TreeError::TooLarge { .. } => Status::out_of_range(e.to_string()),
            TreeError::Invalid(_) => Status::invalid_argument(e.to_string()),
            TreeError::Store(e) => e.into(),
        }
    }
}

/// The notary's failures are the store's (or the tree's) underneath.
pub fn notary(e: crate::notary::NotaryError) -> Status {
    use crate::notary::NotaryError;
    match e {
        NotaryError::Tree(t) => t.into(),
        other => internal(&other),
    }
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ForeignPosition => invalid_field("page_token", e.to_string()),
            StoreError::Sled(sled::Error::Io(io)) => store_unavailable(&io),
            _ => internal(&e),
        }
    }
}

/// A read that sled refused with an I/O error. sled 0.34 keeps the first I/O error of
/// its background flusher (a full disk, say) and answers some reads with it until the
/// writer reopens the store (`docs/architecture.md`, "The write path"): that is a
/// passing unavailability, not an internal error.
fn store_unavailable(io: &std::io::Error) -> Status {
    tracing::warn!(error = %io, "a store read failed");
    let message = if io.kind() == std::io::ErrorKind::StorageFull {
        format!(
            "the disk holding the data folder is full ({io}), so the store cannot be read \
             right now; reads and writes resume by themselves once space is freed on that \
             disk; retry then with the same request_id (where the call takes one)"
        )
    } else {
        format!(
            "the store cannot be read right now ({io}); retry later with the same request_id \
             (where the call takes one), and if this goes on, ask the operator to check the \
             server log"
        )
    };
    Status::with_error_details(
        Code::Unavailable,
        message,
        ErrorDetails::with_error_info("STORE_UNAVAILABLE", ERROR_DOMAIN, HashMap::new()),
    )
}
