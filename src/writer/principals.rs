//! The commands on principals: create, revoke, suspend and unsuspend. Each accepted
//! change is one audited journal entry carrying the principal's after-image.
//!
//! A suspension (DSA Art. 23) is a time on the principal, not a state to clear: it
//! ends by itself when `suspended_until` passes, so no sweeper has to lift it.

use std::time::{Duration, SystemTime};

use uuid::Uuid;

use super::execute::{Executed, View, audit, record};
use super::{WriteError, Written};
use crate::domain::{DomainError, FieldViolation};
use crate::pb::{self, Role, stored_record::Kind};

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

fn load(view: &View<'_>, principal_id: &str) -> Result<pb::StoredPrincipal, WriteError> {
    let not_found = || WriteError::NotFound {
        what: "principal",
        id: principal_id.to_string(),
    };
    let id = Uuid::parse_str(principal_id).map_err(|_| not_found())?;
    view.principal(&id)?.ok_or_else(not_found)
}

fn changed(
    mut stored: pb::StoredPrincipal,
    principal: pb::Principal,
    audit: pb::AuditEntry,
) -> Executed {
    stored.principal = Some(principal.clone());
    Executed {
        entry: Some(pb::JournalEntry {
            audit: Some(audit),
            records: vec![record(Kind::Principal(stored))],
        }),
        written: Written::Principal(principal),
    }
}

pub(super) struct NewPrincipal<'a> {
    pub display_name: &'a str,
    pub roles: &'a [Role],
    pub trusted_flagger: bool,
    pub token_sha256: &'a [u8; 32],
    pub actor: &'a str,
}

pub(super) fn create(p: NewPrincipal<'_>, now: SystemTime) -> Executed {
    let principal = pb::Principal {
        id: Uuid::now_v7().to_string(),
        display_name: p.display_name.to_string(),
        roles: p.roles.iter().map(|r| *r as i32).collect(),
        create_time: Some(now.into()),
        trusted_flagger: p.trusted_flagger,
        ..Default::default()
    };
    let mut a = audit(now, p.actor, "CreatePrincipal");
    a.detail = format!(
        "principal {} ({}) created with roles {}{}",
        principal.id,
        p.display_name,
        p.roles
            .iter()
            .map(|r| r.as_str_name())
            .collect::<Vec<_>>()
            .join(", "),
        if p.trusted_flagger {
            ", as a trusted flagger"
        } else {
            ""
        }
    );
    let stored = pb::StoredPrincipal {
        principal: None,
        token_sha256: p.token_sha256.to_vec(),
    };
    changed(stored, principal, a)
}

pub(super) fn revoke(
    view: &View<'_>,
    principal_id: &str,
    actor: &str,
    now: SystemTime,
) -> Result<Executed, WriteError> {
    let stored = load(view, principal_id)?;
    let mut principal = stored.principal.clone().unwrap_or_default();
    if principal.revoked {
        return Ok(Executed {
            entry: None,
            written: Written::Principal(principal),
        });
    }
    principal.revoked = true;
    principal.revoke_time = Some(now.into());
    let mut a = audit(now, actor, "RevokePrincipal");
    a.detail = format!("principal {principal_id} revoked");
    Ok(changed(stored, principal, a))
}

pub(super) fn suspend(
    view: &View<'_>,
    principal_id: &str,
    reason: &str,
    until: SystemTime,
    actor: &str,
    now: SystemTime,
) -> Result<Executed, WriteError> {
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
    let stored = load(view, principal_id)?;
    let mut principal = stored.principal.clone().unwrap_or_default();
    principal.suspended_until = Some(until.into());
    principal.suspension_reason = reason.to_string();
    principal.suspend_time = Some(now.into());
    let mut a = audit(now, actor, "SuspendPrincipal");
    a.detail = format!(
        "principal {principal_id} suspended until {}: {reason}",
        rfc3339(until)
    );
    Ok(changed(stored, principal, a))
}

pub(super) fn unsuspend(
    view: &View<'_>,
    principal_id: &str,
    reason: &str,
    actor: &str,
    now: SystemTime,
) -> Result<Executed, WriteError> {
    let stored = load(view, principal_id)?;
    let mut principal = stored.principal.clone().unwrap_or_default();
    if suspended_until(&principal, now).is_none() {
        // Not suspended (any more): nothing to change, nothing to audit.
        return Ok(Executed {
            entry: None,
            written: Written::Principal(principal),
        });
    }
    principal.suspended_until = None;
    let mut a = audit(now, actor, "UnsuspendPrincipal");
    a.detail = if reason.is_empty() {
        format!("suspension of principal {principal_id} ended early")
    } else {
        format!("suspension of principal {principal_id} ended early: {reason}")
    };
    Ok(changed(stored, principal, a))
}

/// Refuses a FileClaim or FileComplaint from a principal suspended at `now`.
pub(super) fn check_may_file(
    filer: Option<&pb::Principal>,
    now: SystemTime,
) -> Result<(), WriteError> {
    match filer.and_then(|p| suspended_until(p, now).map(|until| (p, until))) {
        Some((p, until)) => Err(WriteError::Suspended {
            principal_id: p.id.clone(),
            until,
        }),
        None => Ok(()),
    }
}
