//! Who acts on a claim, and what an accepted command produces.

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

    /// Whether this actor is the claim's contributor (the site user whose content the
    /// claim is about), acting with its claim token.
    pub fn is_contributor_of(&self, claim: &pb::Claim) -> bool {
        claim
            .contributor
            .as_ref()
            .is_some_and(|c| !c.account_id.is_empty() && self.id() == contributor_id(&c.account_id))
    }

    /// Commands reserved to "the claim's claimant" (admins may act for it).
    pub fn owns(&self, claim: &pb::Claim) -> bool {
        match self {
            Actor::Principal { id, .. } => *id == claim.filed_by || self.has(Role::Admin),
            Actor::System => false,
        }
    }
}

/// The actor id of a contributor (by the CMS's account id) acting on a claim.
pub fn contributor_id(account_id: &str) -> String {
    format!("contributor:{account_id}")
}

/// The result of an accepted command.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub claim: pb::Claim,
    /// The article after the command (unchanged if the command does not touch it).
    pub article: pb::Article,
    pub article_changed: bool,
    pub action: super::AuditAction,
    /// A short account for the audit log.
    pub detail: String,
}
