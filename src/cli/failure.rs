//! What went wrong, said the way an operator needs it: the server's own message, each
//! BadRequest field violation on its own line, the current state of a refused
//! transition, and an exit code a script can branch on.

use std::process::ExitCode;

use tonic::{Code, Status};

use crate::api::status::{ERROR_DOMAIN, NOT_LEADER, NOT_LEADER_METADATA};
pub use crate::grpc_code::code_name;
use tonic_types::StatusExt;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server answered with an error.
    #[error("{}: {}", code_name(.0.code()), .0.message())]
    Status(Box<Status>),
    /// The server could not be reached.
    #[error("{0}")]
    Connect(String),
    /// The command line asked for something impossible (a file that cannot be read...).
    #[error("{0}")]
    Usage(String),
    /// `audit verify` found a break in the chain.
    #[error("the audit chain is broken at seq {first_bad_seq}: {problem}")]
    AuditBroken { first_bad_seq: u64, problem: String },
    /// A receipt or a consistency proof does not verify.
    #[error("{0}")]
    ProofFailed(String),
    /// Output could not be produced (stdout closed, a message the descriptors lack).
    #[error("{0}")]
    Output(String),
}

impl From<Status> for CliError {
    fn from(s: Status) -> Self {
        CliError::Status(Box::new(s))
    }
}

/// The exit code for an error; see `takedownctl --help`.
pub fn exit_code(e: &CliError) -> ExitCode {
    ExitCode::from(match e {
        CliError::Status(s) if s.code() == Code::Unavailable => 3,
        CliError::Status(_) | CliError::Output(_) => 1,
        CliError::Usage(_) => 2,
        CliError::Connect(_) => 3,
        CliError::AuditBroken { .. } | CliError::ProofFailed(_) => 4,
    })
}

/// The leader's address when a standby refused a write (UNAVAILABLE with ErrorInfo
/// NOT_LEADER naming the leader): the write was not recorded, so it may be sent again
/// there. `None` for any other error, or if the standby does not know the leader.
pub fn leader_hint(e: &CliError) -> Option<String> {
    let CliError::Status(status) = e else {
        return None;
    };
    if status.code() != Code::Unavailable {
        return None;
    }
    let info = status.get_details_error_info()?;
    if info.reason != NOT_LEADER || info.domain != ERROR_DOMAIN {
        return None;
    }
    info.metadata
        .get(NOT_LEADER_METADATA)
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

/// Prints the error to stderr: the message, then one line per detail.
pub fn report(e: &CliError) {
    eprintln!("takedownctl: {e}");
    for line in detail_lines(e) {
        eprintln!("  {line}");
    }
}

/// The lines under the message: every field violation of a BadRequest, the reason and
/// metadata of an ErrorInfo.
pub fn detail_lines(e: &CliError) -> Vec<String> {
    let CliError::Status(status) = e else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if let Some(bad) = status.get_details_bad_request() {
        for v in bad.field_violations {
            lines.push(format!("{}: {}", v.field, v.description));
        }
    }
    if let Some(info) = status.get_details_error_info() {
        let mut metadata: Vec<String> = info
            .metadata
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        metadata.sort();
        if metadata.is_empty() {
            lines.push(format!("reason: {}", info.reason));
        } else {
            lines.push(format!("reason: {} ({})", info.reason, metadata.join(", ")));
        }
    }
    if let Some(retry) = status.get_details_retry_info()
        && let Some(delay) = retry.retry_delay
    {
        lines.push(format!("retry after: {:.1}s", delay.as_secs_f64()));
    }
    lines
}
