//! RecordCorrection: the publisher (or a reviewer) records that the article was
//! corrected as decided; the article's revision moves up by one.

use super::{ClaimVerb, Step};
use crate::domain::AuditAction;
use crate::domain::transitions::Verb;
use crate::domain::{DomainError, FieldViolation, validation};
use crate::pb;

#[derive(Debug, Clone, PartialEq)]
pub struct RecordCorrection {
    /// The revision the correction made (0: the next one).
    pub article_revision: u64,
    pub summary: String,
}

impl ClaimVerb for RecordCorrection {
    fn action(&self) -> AuditAction {
        AuditAction::RecordCorrection
    }

    fn verb(&self) -> Verb {
        Verb::RecordCorrection
    }

    fn check(&self, _: &pb::Claim, article: &pb::Article) -> Vec<FieldViolation> {
        let mut v = validation::non_empty_text("summary", &self.summary, "a summary of the change");
        let expected = article.revision + 1;
        if self.article_revision != 0 && self.article_revision != expected {
            v.push(FieldViolation::new(
                "article_revision",
                format!(
                    "article {} is at revision {}; send {expected} or 0",
                    article.id, article.revision
                ),
            ));
        }
        v
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        // The table's Revise effect moves the article to this same revision.
        let revision = s.article.revision + 1;
        s.next.next_deadline = None;
        s.next.correction = Some(pb::Correction {
            article_revision: revision,
            summary: self.summary.clone(),
            recorded_by: s.actor.id().to_string(),
            record_time: Some(s.now.into()),
        });
        Ok(format!(
            "article {} corrected to revision {revision}",
            s.article.id
        ))
    }
}
