//! Who is calling, as the auth layer established it, and what that lets them see.

use tonic::{Request, Status};

use crate::domain::Actor;
use crate::pb::{self, Role};

/// The authenticated principal of a request (put into request extensions by the
/// auth layer).
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub principal_id: String,
    pub roles: Vec<Role>,
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

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
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
        if self.sees_all_claims() || claim.filed_by == self.principal_id {
            return Some(claim);
        }
        if self.has(Role::Publisher) {
            return Some(redact(claim));
        }
        None
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
