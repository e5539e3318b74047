//! FileComplaint (DSA Art. 20): the notifier or the affected publisher complains
//! against a decision within the complaint window; the claim is reopened for review
//! by a reviewer other than the one who decided.

use super::{ClaimVerb, Step, time};
use crate::domain::AuditAction;
use crate::domain::transitions::Verb;
use crate::domain::{Actor, DomainError, FieldViolation, validation};
use crate::pb::{self, Role};

#[derive(Debug, Clone, PartialEq)]
pub struct FileComplaint {
    /// Why the decision should change.
    pub text: String,
}

impl ClaimVerb for FileComplaint {
    fn action(&self) -> AuditAction {
        AuditAction::FileComplaint
    }

    fn verb(&self) -> Verb {
        Verb::FileComplaint
    }

    /// DSA Art. 20: the notifier, the affected publisher or contributor may complain.
    fn permitted(&self, actor: &Actor, claim: &pb::Claim) -> bool {
        actor.owns(claim) || actor.has(Role::Publisher) || actor.is_contributor_of(claim)
    }

    fn check(&self, _: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        validation::non_empty_text("text", &self.text, "why the decision should change")
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        let decision = s.claim.decision.clone().unwrap_or_default();
        if let Some(decided) = time(decision.decide_time) {
            let until = s.policy.complaint_open_until(s.claim.regime(), decided);
            if s.now > until {
                return Err(DomainError::Refused {
                    reason: "COMPLAINT_WINDOW_CLOSED",
                    message: format!(
                        "the complaint window closed at {} ({} after the decision); \
                         out-of-court dispute settlement or the courts remain open",
                        humantime::format_rfc3339_seconds(until),
                        s.policy.timers(s.claim.regime()).complaint_window
                    ),
                });
            }
        }
        s.next.complaints.push(pb::Complaint {
            text: self.text.clone(),
            filed_by: s.actor.id().to_string(),
            file_time: Some(s.now.into()),
            previous_decision: Some(decision),
            ..Default::default()
        });
        s.next.assignee.clear();
        s.review_deadline();
        Ok("complaint filed; the claim is reopened for review by another reviewer".to_string())
    }
}
