//! DecideClaim: a reviewer rejects the claim, orders a correction (a window starts) or
//! deletes the article, always with a statement of reasons (DSA Art. 17). On a
//! reopened claim this decides the complaint, by a reviewer other than the first.

use super::{ClaimVerb, Step, deadline};
use crate::domain::AuditAction;
use crate::domain::transitions::{Verb, open_complaint};
use crate::domain::validation::{Violations, limits, line, required, text};
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
        v.extend(check_reasons(self.statement_of_reasons.as_ref()));
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
        let mut reasons = self.statement_of_reasons.clone().unwrap_or_default();
        if reasons.redress.trim().is_empty() {
            reasons.redress = default_redress(s.claim.regime()).to_string();
        }
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

/// A statement of reasons (DSA Art. 17): facts, legal ground and explanation.
fn check_reasons(reasons: Option<&pb::StatementOfReasons>) -> Violations {
    let mut v = Vec::new();
    let Some(r) = reasons else {
        v.push(FieldViolation::new(
            "statement_of_reasons",
            "a statement of reasons (facts, legal_ground, explanation) is required",
        ));
        return v;
    };
    required(
        &mut v,
        "statement_of_reasons.facts",
        &r.facts,
        "the facts relied on",
    );
    required(
        &mut v,
        "statement_of_reasons.legal_ground",
        &r.legal_ground,
        "the legal ground",
    );
    required(
        &mut v,
        "statement_of_reasons.explanation",
        &r.explanation,
        "an explanation",
    );
    text(&mut v, "statement_of_reasons.facts", &r.facts, limits::TEXT);
    text(
        &mut v,
        "statement_of_reasons.explanation",
        &r.explanation,
        limits::TEXT,
    );
    line(
        &mut v,
        "statement_of_reasons.legal_ground",
        &r.legal_ground,
        limits::REFERENCE,
    );
    text(
        &mut v,
        "statement_of_reasons.redress",
        &r.redress,
        limits::TEXT,
    );
    v
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
