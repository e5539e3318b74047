//! WithdrawClaim: the claim's claimant ends an open claim; content the claim held down
//! comes back (the table releases it), and an open complaint ends with it.

use super::{ClaimVerb, Step};
use crate::domain::AuditAction;
use crate::domain::transitions::{Verb, open_complaint};
use crate::domain::{Actor, DomainError, FieldViolation, validation};
use crate::pb;

#[derive(Debug, Clone, PartialEq)]
pub struct WithdrawClaim {
    pub reason: String,
}

impl ClaimVerb for WithdrawClaim {
    fn action(&self) -> AuditAction {
        AuditAction::WithdrawClaim
    }

    fn verb(&self) -> Verb {
        Verb::WithdrawClaim
    }

    fn permitted(&self, actor: &Actor, claim: &pb::Claim) -> bool {
        actor.owns(claim)
    }

    fn check(&self, _: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        validation::optional_text("reason", &self.reason)
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        s.next.next_deadline = None;
        s.next.withdrawal = Some(pb::Withdrawal {
            reason: self.reason.clone(),
            withdraw_time: Some(s.now.into()),
        });
        if open_complaint(s.claim).is_some()
            && let Some(last) = s.next.complaints.last_mut()
        {
            // The withdrawal ends the complaint too; no new decision was made.
            last.resolve_time = Some(s.now.into());
        }
        Ok("claim withdrawn by the claimant".to_string())
    }
}
