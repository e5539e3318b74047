//! The claim state machine: `(claim, article, command, actor, now) -> (claim', article')`.
//! Pure: the writer supplies the records and the time and journals what comes back.
//! Any (state, command) pair not listed in DESIGN.md's table is an `InvalidTransition`
//! naming the current state.

use std::time::SystemTime;

use crate::pb::{
    self, ClaimState, DeadlineKind, DecisionOutcome, LegalActionOutcome, Regime, Role,
};

use super::article_status;
use super::{DomainError, FieldViolation, Policy, validation};

/// Who is acting.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    /// An authenticated principal with its roles.
    Principal { id: String, roles: Vec<Role> },
    /// The deadline sweeper.
    System,
}

impl Actor {
    /// The id written to the audit log.
    pub fn id(&self) -> &str {
        match self {
            Actor::Principal { id, .. } => id,
            Actor::System => "system",
        }
    }

    fn is_admin(&self) -> bool {
        matches!(self, Actor::Principal { roles, .. } if roles.contains(&Role::Admin))
    }

    /// Commands reserved to "the claim's claimant" (admins may act for it).
    fn owns(&self, claim: &pb::Claim) -> bool {
        match self {
            Actor::Principal { id, .. } => *id == claim.filed_by || self.is_admin(),
            Actor::System => false,
        }
    }
}

/// A command on an existing claim.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per request and moved, never stored in bulk"
)]
pub enum Command {
    StartReview,
    RequestInformation {
        message: String,
    },
    AmendClaim {
        amendment: pb::Claim,
        update_mask: Vec<String>,
        reply: String,
    },
    DecideClaim {
        outcome: i32,
        statement_of_reasons: Option<pb::StatementOfReasons>,
        items_to_change: Vec<u32>,
    },
    RecordCorrection {
        article_revision: u64,
        summary: String,
    },
    FileCounterNotice {
        counter_notice: Option<pb::CounterNotice>,
    },
    ReportLegalAction {
        authority: String,
        case_reference: String,
        filed_date: String,
    },
    ResolveLegalAction {
        outcome: i32,
        note: String,
    },
    WithdrawClaim {
        reason: String,
    },
    /// The system's timed transition: the claim's `next_deadline` has passed.
    ExpireDeadline,
}

impl Command {
    /// The RPC (or system action) name recorded in the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Command::StartReview => "StartReview",
            Command::RequestInformation { .. } => "RequestInformation",
            Command::AmendClaim { .. } => "AmendClaim",
            Command::DecideClaim { .. } => "DecideClaim",
            Command::RecordCorrection { .. } => "RecordCorrection",
            Command::FileCounterNotice { .. } => "FileCounterNotice",
            Command::ReportLegalAction { .. } => "ReportLegalAction",
            Command::ResolveLegalAction { .. } => "ResolveLegalAction",
            Command::WithdrawClaim { .. } => "WithdrawClaim",
            Command::ExpireDeadline => "ExpireDeadline",
        }
    }
}

/// The result of an accepted command.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub claim: pb::Claim,
    /// The article after the command (unchanged if the command does not touch it).
    pub article: pb::Article,
    pub article_changed: bool,
    pub action: &'static str,
    /// A short account for the audit log.
    pub detail: String,
}

/// True for states a withdrawal may still end.
pub fn is_open(claim: &pb::Claim) -> bool {
    use ClaimState::*;
    match claim.state() {
        Received | NeedsInfo | UnderReview | CorrectionPending | CounterNoticed
        | LegalActionPending => true,
        Deleted => !deletion_is_final(claim),
        _ => false,
    }
}

/// A deletion is final once a counter-notice has been used (the only way back to
/// DELETED after one is legal action upheld).
pub fn deletion_is_final(claim: &pb::Claim) -> bool {
    claim.state() == ClaimState::Deleted && claim.counter_notice.is_some()
}

fn deadline(kind: DeadlineKind, due: SystemTime) -> Option<pb::Deadline> {
    Some(pb::Deadline {
        kind: kind as i32,
        due_time: Some(due.into()),
    })
}

fn invalid(v: Vec<FieldViolation>) -> Result<(), DomainError> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(v))
    }
}

/// Creates a claim from a notice against `article`. The claim id, the filer and the
/// time come from the writer.
pub fn file_claim(
    notice: &pb::Claim,
    article: &pb::Article,
    filed_by: &str,
    claim_id: &str,
    request_id: &str,
    now: SystemTime,
    policy: &Policy,
) -> Result<pb::Claim, DomainError> {
    let mut violations = validation::notice(notice);
    if !notice.article_url.is_empty() && notice.article_url != article.url {
        violations.push(FieldViolation::new(
            "claim.article_url",
            format!(
                "article {} is at {}, not {}; send one of article_id or article_url",
                article.id, article.url, notice.article_url
            ),
        ));
    }
    invalid(violations)?;
    Ok(pb::Claim {
        id: claim_id.to_string(),
        article_id: article.id.clone(),
        article_url: article.url.clone(),
        claimant: notice.claimant.clone(),
        rights_owner: notice.rights_owner.clone(),
        works: notice.works.clone(),
        items: notice.items.clone(),
        requested_remedy: notice.requested_remedy,
        evidence: notice.evidence.clone(),
        regime: notice.regime,
        good_faith_statement: notice.good_faith_statement,
        accuracy_statement: notice.accuracy_statement,
        signature: notice.signature.clone(),
        state: ClaimState::Received as i32,
        filed_by: filed_by.to_string(),
        next_deadline: deadline(DeadlineKind::Review, policy.review_due(now)),
        create_time: Some(now.into()),
        update_time: Some(now.into()),
        request_id: request_id.to_string(),
        ..Default::default()
    })
}

/// Applies `command` to `claim` (whose article is `article`).
pub fn apply(
    claim: &pb::Claim,
    article: &pb::Article,
    command: &Command,
    actor: &Actor,
    now: SystemTime,
    policy: &Policy,
) -> Result<Transition, DomainError> {
    use ClaimState::*;
    let state = claim.state();
    let action = command.name();
    let refuse = |hint: &'static str| DomainError::InvalidTransition {
        command: action,
        state,
        hint,
    };
    let claimant_only = matches!(
        command,
        Command::AmendClaim { .. }
            | Command::WithdrawClaim { .. }
            | Command::ReportLegalAction { .. }
    );
    if claimant_only && !actor.owns(claim) {
        return Err(DomainError::NotYours(claim.id.clone()));
    }

    let mut next = claim.clone();
    let mut art = article.clone();
    let mut article_changed = false;
    next.update_time = Some(now.into());
    let detail: String;

    match command {
        Command::StartReview => {
            if state != Received {
                return Err(refuse("only a RECEIVED claim can be taken for review"));
            }
            next.state = UnderReview as i32;
            next.assignee = actor.id().to_string();
            detail = format!("review started by {}", actor.id());
        }
        Command::RequestInformation { message } => {
            invalid(validation::non_empty_text(
                "message",
                message,
                "what the claimant must supply",
            ))?;
            if !matches!(state, Received | UnderReview) {
                return Err(refuse(
                    "information can be requested only on a RECEIVED or UNDER_REVIEW claim",
                ));
            }
            next.state = NeedsInfo as i32;
            next.information_request = Some(pb::InformationRequest {
                message: message.clone(),
                reviewer: actor.id().to_string(),
                request_time: Some(now.into()),
                reply: String::new(),
            });
            next.next_deadline = deadline(
                DeadlineKind::InformationReply,
                policy.information_reply_due(now),
            );
            detail = "information requested from the claimant".to_string();
        }
        Command::AmendClaim {
            amendment,
            update_mask,
            reply,
        } => {
            invalid(validation::optional_text("reply", reply))?;
            amend(&mut next, amendment, update_mask)?;
            invalid(validation::notice(&next))?;
            if state != NeedsInfo {
                return Err(refuse("a claim can be amended only while it is NEEDS_INFO"));
            }
            next.state = Received as i32;
            next.assignee.clear();
            if let Some(req) = next.information_request.as_mut() {
                req.reply = reply.clone();
            }
            next.next_deadline = deadline(DeadlineKind::Review, policy.review_due(now));
            detail = "claim amended by the claimant".to_string();
        }
        Command::DecideClaim {
            outcome,
            statement_of_reasons,
            items_to_change,
        } => {
            let mut v = validation::decision_outcome(*outcome);
            v.extend(validation::statement_of_reasons(
                statement_of_reasons.as_ref(),
            ));
            let outcome =
                DecisionOutcome::try_from(*outcome).unwrap_or(DecisionOutcome::Unspecified);
            if !items_to_change.is_empty() && outcome != DecisionOutcome::Correct {
                v.push(FieldViolation::new(
                    "items_to_change",
                    "only a CORRECT decision names items to change",
                ));
            }
            for (i, idx) in items_to_change.iter().enumerate() {
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
            invalid(v)?;
            if state != UnderReview {
                return Err(refuse(
                    "only a claim UNDER_REVIEW can be decided; call StartReview first",
                ));
            }
            let mut reasons = statement_of_reasons.clone().unwrap_or_default();
            if reasons.redress.trim().is_empty() {
                reasons.redress = default_redress(claim.regime()).to_string();
            }
            next.decision = Some(pb::Decision {
                outcome: outcome as i32,
                statement_of_reasons: Some(reasons),
                items_to_change: items_to_change.clone(),
                reviewer: actor.id().to_string(),
                decide_time: Some(now.into()),
            });
            match outcome {
                DecisionOutcome::Reject => {
                    next.state = Rejected as i32;
                    next.next_deadline = None;
                    detail = "claim rejected".to_string();
                }
                DecisionOutcome::Correct => {
                    next.state = CorrectionPending as i32;
                    next.next_deadline =
                        deadline(DeadlineKind::CorrectionWindow, policy.correction_due(now));
                    detail = "correction ordered; correction window started".to_string();
                }
                _ => {
                    next.state = Deleted as i32;
                    next.next_deadline = None;
                    article_status::hold(&mut art, &claim.id, now);
                    article_changed = true;
                    detail = format!("article {} withdrawn from the site", art.id);
                }
            }
        }
        Command::RecordCorrection {
            article_revision,
            summary,
        } => {
            let mut v = validation::non_empty_text("summary", summary, "a summary of the change");
            let expected = article.revision + 1;
            if *article_revision != 0 && *article_revision != expected {
                v.push(FieldViolation::new(
                    "article_revision",
                    format!(
                        "article {} is at revision {}; send {expected} or 0",
                        article.id, article.revision
                    ),
                ));
            }
            invalid(v)?;
            if state != CorrectionPending {
                return Err(refuse(
                    "a correction can be recorded only for a CORRECTION_PENDING claim",
                ));
            }
            next.state = Corrected as i32;
            next.next_deadline = None;
            next.correction = Some(pb::Correction {
                article_revision: expected,
                summary: summary.clone(),
                recorded_by: actor.id().to_string(),
                record_time: Some(now.into()),
            });
            article_status::correct(&mut art, expected, now);
            article_changed = true;
            detail = format!("article {} corrected to revision {expected}", art.id);
        }
        Command::FileCounterNotice { counter_notice } => {
            invalid(validation::counter_notice(
                counter_notice.as_ref(),
                claim.regime(),
            ))?;
            if state != Deleted {
                return Err(refuse(
                    "a counter-notice can be filed only against a DELETED claim",
                ));
            }
            if deletion_is_final(claim) {
                return Err(refuse(
                    "the deletion is final: a counter-notice was already used",
                ));
            }
            let mut cn = counter_notice.clone().unwrap_or_default();
            cn.file_time = Some(now.into());
            cn.filed_by = actor.id().to_string();
            next.counter_notice = Some(cn);
            next.state = CounterNoticed as i32;
            next.next_deadline = deadline(
                DeadlineKind::Restoration,
                policy.restoration_due(claim.regime(), now),
            );
            detail = "counter-notice filed and forwarded to the claimant".to_string();
        }
        Command::ReportLegalAction {
            authority,
            case_reference,
            filed_date,
        } => {
            invalid(validation::legal_action(
                authority,
                case_reference,
                filed_date,
            ))?;
            if state != CounterNoticed {
                return Err(refuse(
                    "legal action can be reported only on a COUNTER_NOTICED claim",
                ));
            }
            next.state = LegalActionPending as i32;
            next.next_deadline = None;
            next.legal_action = Some(pb::LegalAction {
                authority: authority.clone(),
                case_reference: case_reference.clone(),
                filed_date: filed_date.clone(),
                report_time: Some(now.into()),
                ..Default::default()
            });
            detail = format!("legal action reported: {authority}, {case_reference}");
        }
        Command::ResolveLegalAction { outcome, note } => {
            let mut v = validation::legal_action_outcome(*outcome);
            v.extend(validation::optional_text("note", note));
            invalid(v)?;
            if state != LegalActionPending {
                return Err(refuse("only a LEGAL_ACTION_PENDING claim can be resolved"));
            }
            let outcome =
                LegalActionOutcome::try_from(*outcome).unwrap_or(LegalActionOutcome::Unspecified);
            if let Some(la) = next.legal_action.as_mut() {
                la.outcome = outcome as i32;
                la.resolution_note = note.clone();
                la.resolve_time = Some(now.into());
            }
            if outcome == LegalActionOutcome::Upheld {
                next.state = Deleted as i32;
                detail = "legal action upheld; deletion is final".to_string();
            } else {
                next.state = Restored as i32;
                article_status::release(&mut art, &claim.id, now);
                article_changed = true;
                detail = format!("legal action dismissed; article {} restored", art.id);
            }
        }
        Command::WithdrawClaim { reason } => {
            invalid(validation::optional_text("reason", reason))?;
            if !is_open(claim) {
                return Err(refuse("only an open claim can be withdrawn"));
            }
            next.state = Withdrawn as i32;
            next.next_deadline = None;
            next.withdrawal = Some(pb::Withdrawal {
                reason: reason.clone(),
                withdraw_time: Some(now.into()),
            });
            if art.holding_claim_ids.contains(&claim.id) {
                article_status::release(&mut art, &claim.id, now);
                article_changed = true;
            }
            detail = "claim withdrawn by the claimant".to_string();
        }
        Command::ExpireDeadline => {
            let due = claim
                .next_deadline
                .as_ref()
                .and_then(|d| d.due_time)
                .and_then(|t| SystemTime::try_from(t).ok());
            let kind = claim
                .next_deadline
                .as_ref()
                .map(|d| d.kind())
                .unwrap_or_default();
            let to = match (state, kind) {
                (NeedsInfo, DeadlineKind::InformationReply) => ClosedIncomplete,
                (CorrectionPending, DeadlineKind::CorrectionWindow) => Deleted,
                (CounterNoticed, DeadlineKind::Restoration) => Restored,
                _ => {
                    return Err(refuse(
                        "only reply, correction and restoration deadlines move a claim",
                    ));
                }
            };
            if due.is_none_or(|due| now < due) {
                return Err(DomainError::NotDue);
            }
            next.state = to as i32;
            next.next_deadline = None;
            match to {
                Deleted => {
                    article_status::hold(&mut art, &claim.id, now);
                    article_changed = true;
                    detail = format!("correction window passed; article {} withdrawn", art.id);
                }
                Restored => {
                    article_status::release(&mut art, &claim.id, now);
                    article_changed = true;
                    detail = format!("restoration period passed; article {} restored", art.id);
                }
                _ => detail = "no reply to the request for information in time".to_string(),
            }
        }
    }
    Ok(Transition {
        claim: next,
        article: art,
        article_changed,
        action,
        detail,
    })
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

/// Replaces the notice fields named in `mask` (all of them if empty).
fn amend(claim: &mut pb::Claim, amendment: &pb::Claim, mask: &[String]) -> Result<(), DomainError> {
    const FIELDS: [&str; 9] = [
        "claimant",
        "rights_owner",
        "works",
        "items",
        "requested_remedy",
        "evidence",
        "good_faith_statement",
        "accuracy_statement",
        "signature",
    ];
    let unknown: Vec<FieldViolation> = mask
        .iter()
        .filter(|p| !FIELDS.contains(&p.as_str()))
        .map(|p| {
            FieldViolation::new(
                "update_mask",
                format!("{p:?} cannot be amended; use any of {}", FIELDS.join(", ")),
            )
        })
        .collect();
    invalid(unknown)?;
    let all = mask.is_empty();
    let want = |f: &str| all || mask.iter().any(|p| p == f);
    if want("claimant") {
        claim.claimant = amendment.claimant.clone();
    }
    if want("rights_owner") {
        claim.rights_owner = amendment.rights_owner.clone();
    }
    if want("works") {
        claim.works = amendment.works.clone();
    }
    if want("items") {
        claim.items = amendment.items.clone();
    }
    if want("requested_remedy") {
        claim.requested_remedy = amendment.requested_remedy;
    }
    if want("evidence") {
        claim.evidence = amendment.evidence.clone();
    }
    if want("good_faith_statement") {
        claim.good_faith_statement = amendment.good_faith_statement;
    }
    if want("accuracy_statement") {
        claim.accuracy_statement = amendment.accuracy_statement;
    }
    if want("signature") {
        claim.signature = amendment.signature.clone();
    }
    Ok(())
}

#[cfg(test)]
#[path = "claim_machine_tests.rs"]
mod tests;
