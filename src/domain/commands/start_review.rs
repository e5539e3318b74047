//! StartReview: a reviewer takes a RECEIVED claim and becomes its assignee.

use super::{ClaimVerb, Step};
use crate::domain::AuditAction;
use crate::domain::transitions::Verb;
use crate::domain::{DomainError, FieldViolation};
use crate::pb;

#[derive(Debug, Clone, PartialEq)]
pub struct StartReview;

impl ClaimVerb for StartReview {
    fn action(&self) -> AuditAction {
        AuditAction::StartReview
    }

    fn verb(&self) -> Verb {
        Verb::StartReview
    }

    fn check(&self, _: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        Vec::new()
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        s.next.assignee = s.actor.id().to_string();
        s.first_action();
        Ok(format!("review started by {}", s.actor.id()))
    }
}
