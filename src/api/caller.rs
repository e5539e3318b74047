//! Who is calling, as the auth layer established it, and what that lets them see.

use tonic::{Request, Status};

use crate::domain::Actor;
use crate::pb::{self, Role};

/// Who called, as the auth layer established it (and put into request extensions):
/// a principal with its roles, the holder of a claim token, or for a public notice
/// nobody in particular.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The actor id: a principal's id, or the party's id on its claim (a notifier's
    /// is the claim's `filed_by`). Empty for a public caller.
    pub principal_id: String,
    pub roles: Vec<Role>,
    /// For a claim token: the one claim it opens, and for which party.
    pub claim_scope: Option<(uuid::Uuid, pb::Party)>,
    /// For a public notice (no credentials, public intake on): the client address.
    pub public_client: Option<std::net::IpAddr>,
}

impl Caller {
    /// The caller of a request that went through the auth layer.
    pub fn of<T>(request: &Request<T>) -> Result<Caller, Status> {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("send `authorization: Bearer <token>`"))
    }

    /// A caller with a principal's token.
    pub fn principal(principal_id: String, roles: Vec<Role>) -> Caller {
        Caller {
            principal_id,
            roles,
            claim_scope: None,
            public_client: None,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// A public caller: no credentials, filing a notice through public intake.
    pub fn is_public(&self) -> bool {
        self.public_client.is_some() || (self.principal_id.is_empty() && self.claim_scope.is_none())
    }

    /// Reviewers, auditors and admins see every claim unredacted.
    pub fn sees_all_claims(&self) -> bool {
        self.has(Role::Reviewer) || self.has(Role::Auditor) || self.has(Role::Admin)
    }

    pub fn actor(&self) -> Actor {
        Actor::Principal {
            id: self.principal_id.clone(),
            roles: self.roles.clone(),
        }
    }

    /// The claim as this caller may see it, or `None` if it may not see it at all.
    /// Publishers see claims against articles with the claimant's postal address and
    /// phone redacted; claimants see their own claims.
    pub fn view(&self, claim: pb::Claim) -> Option<pb::Claim> {
        if let Some((id, party)) = self.claim_scope {
            // A claim token opens its own claim only.
            return (claim.id == id.to_string()).then(|| match party {
                pb::Party::Notifier => claim,
                _ => redact(claim),
            });
        }
        if self.is_public() {
            return None;
        }
        if self.sees_all_claims() || claim.filed_by == self.principal_id {
            return Some(claim);
        }
        if self.has(Role::Publisher) {
            return Some(redact(claim));
        }
        None
    }
}

impl Caller {
    /// An audit entry of `claim` as this caller may see it on the claim's timeline:
    /// staff see it whole; anyone else sees its own id, `system`, or the role of
    /// whoever else acted (`notifier`, `reviewer`, `publisher`, ...), and no other
    /// party's request id.
    pub fn event_view(&self, mut entry: pb::AuditEntry, claim: &pb::Claim) -> pb::AuditEntry {
        if self.sees_all_claims() || entry.actor == self.principal_id || entry.actor == "system" {
            return entry;
        }
        entry.actor = if entry.actor == claim.filed_by {
            "notifier".to_string()
        } else if claim.assignee == entry.actor
            || claim
                .decision
                .as_ref()
                .is_some_and(|d| d.reviewer == entry.actor)
        {
            "reviewer".to_string()
        } else {
            "site".to_string()
        };
        entry.request_id.clear();
        entry
    }
}

/// Removes the claimant's postal address and phone, as GitHub and Lumen redact
/// notices.
pub fn redact(mut claim: pb::Claim) -> pb::Claim {
    if let Some(c) = claim.claimant.as_mut() {
        c.postal_address.clear();
        c.phone.clear();
    }
    claim
}
