//! The commands on principals: create, revoke, suspend and unsuspend. Each accepted
//! change is one audited journal entry carrying the principal's after-image.
//!
//! A suspension (DSA Art. 23) is a time on the principal, not a state to clear: it
//! ends by itself when `suspended_until` passes, so no sweeper has to lift it.

use std::time::SystemTime;

use uuid::Uuid;

use super::super::{Exec, Executed, WriteCommand, WriteError};
use super::parties;
use super::suspension::{check_until, rfc3339, suspended_until};
use crate::domain::AuditAction;
use crate::domain::party_record;
use crate::pb::{self, Role, stored_record::Kind};

fn load(cx: &Exec<'_>, id: &Uuid) -> Result<pb::StoredPrincipal, WriteError> {
    cx.view.principal(id)?.ok_or_else(|| WriteError::NotFound {
        what: "principal",
        id: id.to_string(),
    })
}

fn changed(
    mut stored: pb::StoredPrincipal,
    principal: pb::Principal,
    audit: pb::AuditEntry,
) -> Executed<pb::Principal> {
    stored.principal = Some(principal.clone());
    Executed::changed(audit, vec![Kind::Principal(stored)], principal)
}

/// CreatePrincipal: a new principal with its roles; only the token's hash is kept.
#[derive(Debug, Clone)]
pub struct CreatePrincipal {
    pub display_name: String,
    pub roles: Vec<Role>,
    pub trusted_flagger: bool,
    pub token_sha256: [u8; 32],
    /// Where its notifications as a notifier are also POSTed, and the key that signs
    /// them.
    pub webhook: Option<(String, Vec<u8>)>,
    pub actor: String,
}

impl WriteCommand for CreatePrincipal {
    type Reply = pb::Principal;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::Principal>, WriteError> {
        let principal = pb::Principal {
            id: cx.new_id().to_string(),
            display_name: self.display_name.clone(),
            roles: self.roles.iter().map(|r| *r as i32).collect(),
            create_time: Some(cx.now.into()),
            trusted_flagger: self.trusted_flagger,
            webhook_url: self
                .webhook
                .as_ref()
                .map_or(String::new(), |(url, _)| url.clone()),
            ..Default::default()
        };
        let mut a = cx.audit(&self.actor, AuditAction::CreatePrincipal);
        a.detail = format!(
            "principal {} ({}) created with roles {}{}",
            principal.id,
            self.display_name,
            self.roles
                .iter()
                .map(|r| r.as_str_name())
                .collect::<Vec<_>>()
                .join(", "),
            if self.trusted_flagger {
                ", as a trusted flagger"
            } else {
                ""
            }
        );
        let stored = pb::StoredPrincipal {
            principal: None,
            token_sha256: self.token_sha256.to_vec(),
            webhook_secret: self
                .webhook
                .as_ref()
                .map_or(Vec::new(), |(_, key)| key.clone()),
        };
        Ok(changed(stored, principal, a))
    }
}

/// RevokePrincipal: its token stops working; revoking twice changes nothing.
#[derive(Debug, Clone)]
pub struct RevokePrincipal {
    pub principal_id: Uuid,
    pub actor: String,
}

impl WriteCommand for RevokePrincipal {
    type Reply = pb::Principal;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::Principal>, WriteError> {
        let stored = load(cx, &self.principal_id)?;
        let mut principal = stored.principal.clone().unwrap_or_default();
        if principal.revoked {
            return Ok(Executed::unchanged(principal));
        }
        keep_an_admin(cx, &principal)?;
        principal.revoked = true;
        principal.revoke_time = Some(cx.now.into());
        let mut a = cx.audit(&self.actor, AuditAction::RevokePrincipal);
        a.detail = format!("principal {} revoked", self.principal_id);
        Ok(changed(stored, principal, a))
    }
}

/// SuspendPrincipal (DSA Art. 23): no notices or complaints until `until`.
#[derive(Debug, Clone)]
pub struct SuspendPrincipal {
    pub principal_id: Uuid,
    pub reason: String,
    pub until: SystemTime,
    pub actor: String,
}

impl WriteCommand for SuspendPrincipal {
    type Reply = pb::Principal;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::Principal>, WriteError> {
        let (until, now) = (self.until, cx.now);
        check_until(until, now)?;
        let stored = load(cx, &self.principal_id)?;
        let mut principal = stored.principal.clone().unwrap_or_default();
        keep_an_admin(cx, &principal)?;
        // DSA Art. 23(1): a principal's warning is its party record's warning.
        let mut record = parties::load(cx, &party_record::principal_key(&principal.id))?;
        party_record::suspend(&mut record, &self.reason, until)?;
        principal.suspended_until = Some(until.into());
        principal.suspension_reason = self.reason.clone();
        principal.suspend_time = Some(now.into());
        let mut a = cx.audit(&self.actor, AuditAction::SuspendPrincipal);
        a.detail = format!(
            "principal {} suspended until {}: {}",
            self.principal_id,
            rfc3339(until),
            self.reason
        );
        let mut stored = stored;
        stored.principal = Some(principal.clone());
        Ok(Executed::changed(
            a,
            vec![Kind::Principal(stored), Kind::PartyRecord(record)],
            principal,
        ))
    }
}

/// UnsuspendPrincipal: ends a suspension early; a principal not suspended is left as
/// it is.
#[derive(Debug, Clone)]
pub struct UnsuspendPrincipal {
    pub principal_id: Uuid,
    pub reason: String,
    pub actor: String,
}

impl WriteCommand for UnsuspendPrincipal {
    type Reply = pb::Principal;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::Principal>, WriteError> {
        let stored = load(cx, &self.principal_id)?;
        let mut principal = stored.principal.clone().unwrap_or_default();
        if suspended_until(&principal, cx.now).is_none() {
            // Not suspended (any more): nothing to change, nothing to audit.
            return Ok(Executed::unchanged(principal));
        }
        principal.suspended_until = None;
        let mut a = cx.audit(&self.actor, AuditAction::UnsuspendPrincipal);
        a.detail = if self.reason.is_empty() {
            format!("suspension of principal {} ended early", self.principal_id)
        } else {
            format!(
                "suspension of principal {} ended early: {}",
                self.principal_id, self.reason
            )
        };
        // The party record shows the suspension ended now, as the principal does.
        let mut record = parties::load(cx, &party_record::principal_key(&principal.id))?;
        record.suspended_until = Some(cx.now.into());
        let mut stored = stored;
        stored.principal = Some(principal.clone());
        Ok(Executed::changed(
            a,
            vec![Kind::Principal(stored), Kind::PartyRecord(record)],
            principal,
        ))
    }
}

/// Refuses to revoke or suspend `principal` if it is the last admin who can act:
/// with none left, nobody could manage principals again.
fn keep_an_admin(cx: &Exec<'_>, principal: &pb::Principal) -> Result<(), WriteError> {
    let id = Uuid::parse_str(&principal.id).map_err(|_| WriteError::NotFound {
        what: "principal",
        id: principal.id.clone(),
    })?;
    if principal.roles().any(|r| r == Role::Admin) && !cx.view.another_active_admin(&id, cx.now)? {
        return Err(WriteError::LastAdmin {
            principal_id: principal.id.clone(),
        });
    }
    Ok(())
}

/// Refuses a FileClaim or FileComplaint from a principal suspended at `now`.
pub fn check_may_file(filer: Option<&pb::Principal>, now: SystemTime) -> Result<(), WriteError> {
    match filer.and_then(|p| suspended_until(p, now).map(|until| (p, until))) {
        Some((p, until)) => Err(WriteError::Suspended {
            principal_id: p.id.clone(),
            until,
        }),
        None => Ok(()),
    }
}
