//! RequestInformation: a reviewer asks the claimant for what the notice lacks (DMCA
//! 512(c)(3)(B): an incomplete notice is answered, not acted on); a reply window runs.

use super::{ClaimVerb, Step, deadline};
use crate::domain::AuditAction;
use crate::domain::transitions::Verb;
use crate::domain::{DomainError, FieldViolation, validation};
use crate::pb::{self, DeadlineKind};

#[derive(Debug, Clone, PartialEq)]
pub struct RequestInformation {
    /// What the claimant must supply.
    pub message: String,
}

impl ClaimVerb for RequestInformation {
    fn action(&self) -> AuditAction {
        AuditAction::RequestInformation
    }

    fn verb(&self) -> Verb {
        Verb::RequestInformation
    }

    fn check(&self, _: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        validation::non_empty_text("message", &self.message, "what the claimant must supply")
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        s.next.information_request = Some(pb::InformationRequest {
            message: self.message.clone(),
            reviewer: s.actor.id().to_string(),
            request_time: Some(s.now.into()),
            reply: String::new(),
        });
        let due = s.policy.information_reply_due(s.claim.regime(), s.now);
        s.next.next_deadline = deadline(DeadlineKind::InformationReply, due);
        s.first_action();
        Ok("information requested from the claimant".to_string())
    }
}
