//! ExpireDeadline: the sweeper's timed transition, as the `system` actor. The claim's
//! running clock must be the one the table says moves it out of its stage
//! (`transitions::TIMERS`), and it must have run out.

use super::{ClaimVerb, Step, time};
use crate::domain::AuditAction;
use crate::domain::transitions::{Stage, Verb, timer};
use crate::domain::{DomainError, FieldViolation};
use crate::pb;

#[derive(Debug, Clone, PartialEq)]
pub struct ExpireDeadline;

impl ClaimVerb for ExpireDeadline {
    fn action(&self) -> AuditAction {
        AuditAction::ExpireDeadline
    }

    fn verb(&self) -> Verb {
        Verb::ExpireDeadline
    }

    fn check(&self, _: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        Vec::new()
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        let running = s.claim.next_deadline.as_ref();
        let expected = Stage::of(s.claim).and_then(timer);
        if running.map(|d| d.kind()) != expected || expected.is_none() {
            return Err(DomainError::InvalidTransition {
                command: self.action().as_str(),
                state: s.claim.state(),
                hint: crate::domain::transitions::hint(Stage::of(s.claim), self.verb()),
            });
        }
        let due = running.and_then(|d| time(d.due_time));
        if due.is_none_or(|due| s.now < due) {
            return Err(DomainError::NotDue);
        }
        s.next.next_deadline = None;
        if s.to == Stage::Deleted {
            // No restriction without a statement of reasons (DSA Art. 17).
            s.next.system_statement =
                Some(crate::domain::reasons::system_statement(s.claim, s.now));
        }
        // The account follows where the table sends the claim.
        Ok(match s.to {
            Stage::Deleted => format!(
                "correction window passed; article {} withdrawn",
                s.article.id
            ),
            Stage::Restored => format!(
                "restoration period passed; article {} restored",
                s.article.id
            ),
            _ => "no reply to the request for information in time".to_string(),
        })
    }
}
