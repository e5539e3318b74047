//! Decisions and complaints: DecideClaim with its statement of reasons and its effect
//! on the article, and FileComplaint (DSA Art. 20), which reopens a decision for a
//! reviewer other than the one who made it.

use crate::pb::{self, ClaimState, DeadlineKind, DecisionOutcome, Regime};

use super::claim_machine::{Step, deadline, invalid, time};
use super::{DomainError, FieldViolation, validation};

/// The complaint a reopened claim is being reviewed for, if any.
pub(super) fn open_complaint(claim: &pb::Claim) -> Option<&pb::Complaint> {
    claim.complaints.last().filter(|c| c.resolve_time.is_none())
}

pub(super) fn decide_claim(
    s: &mut Step,
    outcome: i32,
    reasons: Option<&pb::StatementOfReasons>,
    items_to_change: &[u32],
) -> Result<String, DomainError> {
    let mut v = validation::decision_outcome(outcome);
    v.extend(validation::statement_of_reasons(reasons));
    let outcome = DecisionOutcome::try_from(outcome).unwrap_or(DecisionOutcome::Unspecified);
    if !items_to_change.is_empty() && outcome != DecisionOutcome::Correct {
        v.push(FieldViolation::new(
            "items_to_change",
            "only a CORRECT decision names items to change",
        ));
    }
    for (i, idx) in items_to_change.iter().enumerate() {
        if *idx as usize >= s.claim.items.len() {
            v.push(FieldViolation::new(
                format!("items_to_change[{i}]"),
                format!(
                    "the claim has {} item(s); indexes start at 0",
                    s.claim.items.len()
                ),
            ));
        }
    }
    invalid(v)?;
    if s.claim.state() != ClaimState::UnderReview {
        return Err(s.refuse("only a claim UNDER_REVIEW can be decided; call StartReview first"));
    }
    let complaint = open_complaint(s.claim).cloned();
    if let Some(c) = &complaint {
        let first = c.previous_decision.as_ref().map(|d| d.reviewer.as_str());
        if first == Some(s.actor.id()) {
            return Err(DomainError::Refused {
                reason: "SAME_REVIEWER",
                message: "a complaint must be decided by a reviewer other than the one who made \
                          the decision complained about; ask another reviewer"
                    .to_string(),
            });
        }
    }
    let mut reasons = reasons.cloned().unwrap_or_default();
    if reasons.redress.trim().is_empty() {
        reasons.redress = default_redress(s.claim.regime()).to_string();
    }
    s.next.decision = Some(pb::Decision {
        outcome: outcome as i32,
        statement_of_reasons: Some(reasons),
        items_to_change: items_to_change.to_vec(),
        reviewer: s.actor.id().to_string(),
        decide_time: Some(s.now.into()),
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
            s.to(ClaimState::Rejected);
            s.next.next_deadline = None;
            s.release();
            "claim rejected".to_string()
        }
        DecisionOutcome::Correct => {
            s.to(ClaimState::CorrectionPending);
            let due = s.policy.correction_due(s.claim.regime(), s.now);
            s.next.next_deadline = deadline(DeadlineKind::CorrectionWindow, due);
            s.release();
            "correction ordered; correction window started".to_string()
        }
        _ => {
            s.to(ClaimState::Deleted);
            s.next.next_deadline = None;
            s.hold();
            format!("article {} withdrawn from the site", s.article.id)
        }
    };
    Ok(match complaint {
        Some(_) => format!("{detail} (on complaint)"),
        None => detail,
    })
}

pub(super) fn file_complaint(s: &mut Step, text: &str) -> Result<String, DomainError> {
    invalid(validation::non_empty_text(
        "text",
        text,
        "why the decision should change",
    ))?;
    use ClaimState::*;
    if !matches!(s.claim.state(), Rejected | Corrected | Deleted | Restored) {
        return Err(s.refuse(
            "a complaint can be filed only against a decided claim: REJECTED, CORRECTED, DELETED or RESTORED",
        ));
    }
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
        text: text.to_string(),
        filed_by: s.actor.id().to_string(),
        file_time: Some(s.now.into()),
        previous_decision: Some(decision),
        ..Default::default()
    });
    s.to(UnderReview);
    s.next.assignee.clear();
    s.review_deadline();
    Ok("complaint filed; the claim is reopened for review by another reviewer".to_string())
}

fn default_redress(regime: Regime) -> &'static str {
    match regime {
        Regime::Dsa => {
            "You may complain within 6 months (DSA Art. 20), use out-of-court dispute settlement (Art. 21), or go to court."
        }
        Regime::Dmca => "You may file a counter-notice under 17 U.S.C. 512(g) or go to court.",
        _ => "You may declare non-infringement (PRC Civil Code Art. 1196) or go to court.",
    }
}
