//! ReportLegalAction: the claim's claimant reports a lawsuit or an authority's action
//! after a counter-notice (DMCA 512(g)(2)(C)); the restoration clock stops.

use super::{ClaimVerb, Step};
use crate::domain::AuditAction;
use crate::domain::transitions::Verb;
use crate::domain::validation::{Violations, is_date, limits, line, required};
use crate::domain::{Actor, DomainError, FieldViolation};
use crate::pb;

#[derive(Debug, Clone, PartialEq)]
pub struct ReportLegalAction {
    pub authority: String,
    pub case_reference: String,
    /// `YYYY-MM-DD`.
    pub filed_date: String,
}

impl ClaimVerb for ReportLegalAction {
    fn action(&self) -> AuditAction {
        AuditAction::ReportLegalAction
    }

    fn verb(&self) -> Verb {
        Verb::ReportLegalAction
    }

    fn permitted(&self, actor: &Actor, claim: &pb::Claim) -> bool {
        actor.owns(claim)
    }

    fn check(&self, _: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        let mut v: Violations = Vec::new();
        required(
            &mut v,
            "authority",
            &self.authority,
            "the court or authority seized",
        );
        required(
            &mut v,
            "case_reference",
            &self.case_reference,
            "the case reference",
        );
        line(&mut v, "authority", &self.authority, limits::REFERENCE);
        line(
            &mut v,
            "case_reference",
            &self.case_reference,
            limits::REFERENCE,
        );
        if !is_date(&self.filed_date) {
            v.push(FieldViolation::new(
                "filed_date",
                if self.filed_date.len() <= 32 {
                    format!(
                        "{:?} is not a date from 1900-01-01 to 2199-12-31; send YYYY-MM-DD",
                        self.filed_date
                    )
                } else {
                    "not a date from 1900-01-01 to 2199-12-31; send YYYY-MM-DD".to_string()
                },
            ));
        }
        v
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        s.next.next_deadline = None;
        s.next.legal_action = Some(pb::LegalAction {
            authority: self.authority.clone(),
            case_reference: self.case_reference.clone(),
            filed_date: self.filed_date.clone(),
            report_time: Some(s.now.into()),
            ..Default::default()
        });
        Ok(format!(
            "legal action reported: {}, {}",
            self.authority, self.case_reference
        ))
    }
}
