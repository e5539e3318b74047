//! Suspensions (DSA Art. 23), shared by principals and parties: how long one may
//! last, when one is over, and how a time is shown in messages.

use std::time::{Duration, SystemTime};

use super::super::WriteError;
use crate::domain::{DomainError, FieldViolation};
use crate::pb;

/// The longest suspension an operator may impose at once.
pub const MAX_SUSPENSION: Duration = Duration::from_secs(5 * 366 * 24 * 3600);

/// Until when `principal` is suspended at `now`, if it is.
pub fn suspended_until(principal: &pb::Principal, now: SystemTime) -> Option<SystemTime> {
    let until = SystemTime::try_from(principal.suspended_until?).ok()?;
    (until > now).then_some(until)
}

/// `2024-03-01T00:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    prost_types::Timestamp::from(t).to_string()
}

/// Checks `until` as a suspension's end: in the future, at most five years ahead.
pub fn check_until(until: SystemTime, now: SystemTime) -> Result<(), WriteError> {
    if until <= now {
        return Err(DomainError::Invalid(vec![FieldViolation::new(
            "until",
            format!(
                "{} is not in the future (the server's time is {}); send when the suspension ends",
                rfc3339(until),
                rfc3339(now)
            ),
        )])
        .into());
    }
    if until.duration_since(now).unwrap_or_default() > MAX_SUSPENSION {
        return Err(DomainError::Invalid(vec![FieldViolation::new(
            "until",
            "a suspension lasts at most 5 years; suspend again when it ends if needed",
        )])
        .into());
    }
    Ok(())
}
