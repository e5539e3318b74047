//! ResolveLegalAction: a reviewer records how the reported legal action ended. Upheld:
//! the deletion is final. Dismissed: the content is restored (the table releases it).

use super::{ClaimVerb, Step};
use crate::domain::AuditAction;
use crate::domain::transitions::Verb;
use crate::domain::{DomainError, FieldViolation, validation};
use crate::pb::{self, LegalActionOutcome};

#[derive(Debug, Clone, PartialEq)]
pub struct ResolveLegalAction {
    /// A `LegalActionOutcome`.
    pub outcome: i32,
    pub note: String,
}

impl ResolveLegalAction {
    fn outcome(&self) -> LegalActionOutcome {
        LegalActionOutcome::try_from(self.outcome).unwrap_or(LegalActionOutcome::Unspecified)
    }
}

impl ClaimVerb for ResolveLegalAction {
    fn action(&self) -> AuditAction {
        AuditAction::ResolveLegalAction
    }

    fn verb(&self) -> Verb {
        match self.outcome() {
            LegalActionOutcome::Upheld => Verb::ResolveUpheld,
            _ => Verb::ResolveDismissed,
        }
    }

    fn check(&self, _: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        let mut v = Vec::new();
        if self.outcome() == LegalActionOutcome::Unspecified {
            v.push(FieldViolation::new(
                "outcome",
                "choose LEGAL_ACTION_OUTCOME_UPHELD or LEGAL_ACTION_OUTCOME_DISMISSED",
            ));
        }
        v.extend(validation::optional_text("note", &self.note));
        v
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        let outcome = self.outcome();
        if let Some(la) = s.next.legal_action.as_mut() {
            la.outcome = outcome as i32;
            la.resolution_note = self.note.clone();
            la.resolve_time = Some(s.now.into());
        }
        Ok(if outcome == LegalActionOutcome::Upheld {
            "legal action upheld; deletion is final".to_string()
        } else {
            format!("legal action dismissed; article {} restored", s.article.id)
        })
    }
}
