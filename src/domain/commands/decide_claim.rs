//! DecideClaim: a reviewer rejects the claim, orders a correction (a window starts) or
//! deletes the article, always with a statement of reasons (DSA Art. 17). On a
//! reopened claim this decides the complaint, by a reviewer other than the first.

use std::time::SystemTime;

use super::{ClaimVerb, Step, deadline};
use crate::domain::AuditAction;
use crate::domain::reasons;
use crate::domain::transitions::{Verb, open_complaint};
use crate::domain::validation::{Violations, limits};
use crate::domain::{DomainError, FieldViolation};
use crate::pb::{self, DeadlineKind, DecisionOutcome, Regime};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecideClaim {
    /// A `DecisionOutcome`.
    pub outcome: i32,
    pub statement_of_reasons: Option<pb::StatementOfReasons>,
    /// For CORRECT: indexes into the claim's items.
    pub items_to_change: Vec<u32>,
    /// DSA Art. 23: the notice is manifestly unfounded (only with REJECT).
    pub manifestly_unfounded: bool,
    /// DMCA 512(f): the reviewer suspects a knowing misrepresentation.
    pub misrepresentation_suspected: bool,
}

impl DecideClaim {
    fn outcome(&self) -> DecisionOutcome {
        DecisionOutcome::try_from(self.outcome).unwrap_or(DecisionOutcome::Unspecified)
    }
}

impl ClaimVerb for DecideClaim {
    fn action(&self) -> AuditAction {
        AuditAction::DecideClaim
    }

    fn verb(&self) -> Verb {
        match self.outcome() {
            DecisionOutcome::Reject => Verb::DecideReject,
            DecisionOutcome::Correct => Verb::DecideCorrect,
            _ => Verb::DecideDelete,
        }
    }

    fn check(&self, claim: &pb::Claim, _: &pb::Article) -> Vec<FieldViolation> {
        let mut v = Vec::new();
        let outcome = self.outcome();
        if outcome == DecisionOutcome::Unspecified {
            v.push(FieldViolation::new(
                "outcome",
                "choose DECISION_OUTCOME_REJECT, DECISION_OUTCOME_CORRECT or DECISION_OUTCOME_DELETE",
            ));
        }
        let complaint = open_complaint(claim).is_some();
        v.extend(check_reasons(self.statement_of_reasons.as_ref(), complaint));
        if !self.items_to_change.is_empty() && outcome != DecisionOutcome::Correct {
            v.push(FieldViolation::new(
                "items_to_change",
                "only a CORRECT decision names items to change",
            ));
        }
        if self.manifestly_unfounded && outcome != DecisionOutcome::Reject {
            v.push(FieldViolation::new(
                "manifestly_unfounded",
                "only a REJECT decision can find a notice manifestly unfounded; leave it false or reject",
            ));
        }
        if self.items_to_change.len() > limits::ITEMS {
            // One violation for the list, not one per index.
            v.push(FieldViolation::new(
                "items_to_change",
                format!(
                    "at most {} indexes (a claim has at most {} items), got {}",
                    limits::ITEMS,
                    limits::ITEMS,
                    self.items_to_change.len()
                ),
            ));
            return v;
        }
        for (i, idx) in self.items_to_change.iter().enumerate() {
            if *idx as usize >= claim.items.len() {
                v.push(FieldViolation::new(
                    format!("items_to_change[{i}]"),
                    format!(
                        "the claim has {} item(s); indexes start at 0",
                        claim.items.len()
                    ),
                ));
            }
        }
        v
    }

    fn effect(&self, s: &mut Step) -> Result<String, DomainError> {
        let outcome = self.outcome();
        let complaint = open_complaint(s.claim).cloned();
        if let Some(c) = &complaint {
            let first = c.previous_decision.as_ref().map(|d| d.reviewer.as_str());
            if first == Some(s.actor.id()) {
                return Err(DomainError::Refused {
                    reason: "SAME_REVIEWER",
                    message: "a complaint must be decided by a reviewer other than the one who \
                              made the decision complained about; ask another reviewer"
                        .to_string(),
                });
            }
        }
        let given = self.statement_of_reasons.clone().unwrap_or_default();
        let reasons = statement(&given, s, complaint.is_some())?;
        s.next.decision = Some(pb::Decision {
            outcome: outcome as i32,
            statement_of_reasons: Some(reasons),
            items_to_change: self.items_to_change.clone(),
            reviewer: s.actor.id().to_string(),
            decide_time: Some(s.now.into()),
            manifestly_unfounded: self.manifestly_unfounded,
            misrepresentation_suspected: self.misrepresentation_suspected,
        });
        s.first_action();
        if s.next.assignee.is_empty() {
            // A reopened claim has no assignee until a reviewer decides it.
            s.next.assignee = s.actor.id().to_string();
        }
        if let (Some(c), Some(last)) = (&complaint, s.next.complaints.last_mut()) {
            let before = c.previous_decision.as_ref().map(|d| d.outcome);
            last.new_outcome = outcome as i32;
            last.decision_changed = before != Some(outcome as i32);
            last.resolve_time = Some(s.now.into());
        }
        let detail = match outcome {
            DecisionOutcome::Reject => {
                s.next.next_deadline = None;
                "claim rejected".to_string()
            }
            DecisionOutcome::Correct => {
                let due = s.policy.correction_due(s.claim.regime(), s.now);
                s.next.next_deadline = deadline(DeadlineKind::CorrectionWindow, due);
                "correction ordered; correction window started".to_string()
            }
            _ => {
                s.next.next_deadline = None;
                format!("article {} withdrawn from the site", s.article.id)
            }
        };
        Ok(match complaint {
            Some(_) => format!("{detail} (on complaint)"),
            None => detail,
        })
    }
}

/// A statement of reasons (DSA Art. 17), checked with the rest of the payload unless
/// it names a template (then `statement` checks it once filled; both check again with
/// the decision's time). `complaint`: it
/// decides a complaint (no fully automated decision, DSA Art. 20(6)).
fn check_reasons(reasons: Option<&pb::StatementOfReasons>, complaint: bool) -> Violations {
    let Some(r) = reasons else {
        return vec![FieldViolation::new(
            "statement_of_reasons",
            "a statement of reasons (facts, legal_ground, explanation) is required",
        )];
    };
    if !r.template_id.is_empty() {
        // Its empty fields come from the template: `statement` checks it once filled.
        return Vec::new();
    }
    reasons::check(r, "statement_of_reasons", complaint, SystemTime::UNIX_EPOCH)
}

/// The statement as the decision keeps it: filled from its template, checked whole,
/// with its defaults (`reasons::normalized`) and a default redress.
fn statement(
    given: &pb::StatementOfReasons,
    s: &Step,
    complaint: bool,
) -> Result<pb::StatementOfReasons, DomainError> {
    let regime = s.claim.regime();
    let filled = if given.template_id.is_empty() {
        given.clone()
    } else {
        let template = s
            .policy
            .reason_templates
            .iter()
            .find(|t| t.id == given.template_id && t.fits(regime))
            .ok_or_else(|| {
                let known: Vec<&str> = s
                    .policy
                    .reason_templates
                    .iter()
                    .filter(|t| t.fits(regime))
                    .map(|t| t.id.as_str())
                    .collect();
                DomainError::Invalid(vec![FieldViolation::new(
                    "statement_of_reasons.template_id",
                    format!(
                        "{:?} is not a reason template for {}; ReviewService.ListReasonTemplates lists them ({})",
                        given.template_id,
                        regime.as_str_name(),
                        known.join(", ")
                    ),
                )])
            })?;
        reasons::fill_from(given, template)
    };
    let problems = reasons::check(&filled, "statement_of_reasons", complaint, s.now);
    if !problems.is_empty() {
        return Err(DomainError::Invalid(problems));
    }
    let mut kept = reasons::normalized(&filled, s.claim);
    if kept.redress.trim().is_empty() {
        kept.redress = default_redress(regime).to_string();
    }
    Ok(kept)
}

/// The redress a statement of reasons names when the reviewer gives none.
fn default_redress(regime: Regime) -> &'static str {
    match regime {
        Regime::Dsa => {
            "You may complain within 6 months (DSA Art. 20), use out-of-court dispute settlement (Art. 21), or go to court."
        }
        Regime::Dmca => "You may file a counter-notice under 17 U.S.C. 512(g) or go to court.",
        _ => "You may declare non-infringement (PRC Civil Code Art. 1196) or go to court.",
    }
}
