//! The claim state machine: `(claim, article, command, actor, now) -> (claim', article')`.
//! Pure: the writer supplies the records and the time and journals what comes back.
//! Any (state, command) pair not listed in DESIGN.md's table is an `InvalidTransition`
//! naming the current state.

use std::time::SystemTime;

use crate::pb::{self, ClaimState, DeadlineKind, LegalActionOutcome, Role};

use super::amendment::amend;
use super::article_status;
use super::decision::{decide_claim, file_complaint, open_complaint};
use super::{Actor, Command, DomainError, FieldViolation, Policy, Transition, validation};

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
/// DELETED after one is legal action upheld, or a complaint decided DELETE).
pub fn deletion_is_final(claim: &pb::Claim) -> bool {
    claim.state() == ClaimState::Deleted && claim.counter_notice.is_some()
}

pub(super) fn deadline(kind: DeadlineKind, due: SystemTime) -> Option<pb::Deadline> {
    Some(pb::Deadline {
        kind: kind as i32,
        due_time: Some(due.into()),
    })
}

pub(super) fn invalid(v: Vec<FieldViolation>) -> Result<(), DomainError> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(v))
    }
}

pub(super) fn time(t: Option<prost_types::Timestamp>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(t).ok())
}

/// Creates a claim from a notice against `article`. The claim id, the filer, whether
/// it is a trusted flagger, and the time come from the writer.
#[allow(clippy::too_many_arguments)]
pub fn file_claim(
    notice: &pb::Claim,
    article: &pb::Article,
    filed_by: &str,
    trusted_flagger: bool,
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
    let due = policy.review_due(notice.regime(), trusted_flagger, now);
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
        trusted_flagger,
        next_deadline: deadline(DeadlineKind::Review, due),
        create_time: Some(now.into()),
        update_time: Some(now.into()),
        request_id: request_id.to_string(),
        ..Default::default()
    })
}

/// A command in progress: the claim and article as they are becoming.
pub(super) struct Step<'a> {
    pub(super) claim: &'a pb::Claim,
    pub(super) next: pb::Claim,
    pub(super) article: pb::Article,
    pub(super) article_changed: bool,
    pub(super) actor: &'a Actor,
    pub(super) now: SystemTime,
    pub(super) policy: &'a Policy,
    pub(super) action: &'static str,
}

impl Step<'_> {
    pub(super) fn refuse(&self, hint: &'static str) -> DomainError {
        DomainError::InvalidTransition {
            command: self.action,
            state: self.claim.state(),
            hint,
        }
    }

    pub(super) fn to(&mut self, state: ClaimState) {
        self.next.state = state as i32;
    }

    /// Records a reviewer's first action on the claim (for the transparency report).
    pub(super) fn first_action(&mut self) {
        if self.next.first_action_time.is_none() && matches!(self.actor, Actor::Principal { .. }) {
            self.next.first_action_time = Some(self.now.into());
        }
    }

    pub(super) fn hold(&mut self) {
        if !self.article.holding_claim_ids.contains(&self.claim.id) {
            article_status::hold(&mut self.article, &self.claim.id, self.now);
            self.article_changed = true;
        }
    }

    pub(super) fn release(&mut self) {
        if self.article.holding_claim_ids.contains(&self.claim.id) {
            article_status::release(&mut self.article, &self.claim.id, self.now);
            self.article_changed = true;
        }
    }

    pub(super) fn review_deadline(&mut self) {
        let c = self.claim;
        let due = self
            .policy
            .review_due(c.regime(), c.trusted_flagger, self.now);
        self.next.next_deadline = deadline(DeadlineKind::Review, due);
    }
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
    let claimant_only = matches!(
        command,
        Command::AmendClaim { .. }
            | Command::WithdrawClaim { .. }
            | Command::ReportLegalAction { .. }
    );
    if claimant_only && !actor.owns(claim) {
        return Err(DomainError::NotYours(claim.id.clone()));
    }
    // DSA Art. 20: the notifier or the affected publisher may complain.
    if matches!(command, Command::FileComplaint { .. })
        && !(actor.owns(claim) || actor.has(Role::Publisher))
    {
        return Err(DomainError::NotYours(claim.id.clone()));
    }
    let mut step = Step {
        claim,
        next: claim.clone(),
        article: article.clone(),
        article_changed: false,
        actor,
        now,
        policy,
        action: command.name(),
    };
    step.next.update_time = Some(now.into());
    let detail = match command {
        Command::StartReview => start_review(&mut step)?,
        Command::RequestInformation { message } => request_information(&mut step, message)?,
        Command::AmendClaim {
            amendment,
            update_mask,
            reply,
        } => amend_claim(&mut step, amendment, update_mask, reply)?,
        Command::DecideClaim {
            outcome,
            statement_of_reasons,
            items_to_change,
        } => decide_claim(
            &mut step,
            *outcome,
            statement_of_reasons.as_ref(),
            items_to_change,
        )?,
        Command::RecordCorrection {
            article_revision,
            summary,
        } => record_correction(&mut step, *article_revision, summary)?,
        Command::FileCounterNotice { counter_notice } => {
            file_counter_notice(&mut step, counter_notice.as_ref())?
        }
        Command::ReportLegalAction {
            authority,
            case_reference,
            filed_date,
        } => report_legal_action(&mut step, authority, case_reference, filed_date)?,
        Command::ResolveLegalAction { outcome, note } => {
            resolve_legal_action(&mut step, *outcome, note)?
        }
        Command::WithdrawClaim { reason } => withdraw_claim(&mut step, reason)?,
        Command::FileComplaint { text } => file_complaint(&mut step, text)?,
        Command::ExpireDeadline => expire_deadline(&mut step)?,
    };
    Ok(Transition {
        claim: step.next,
        article: step.article,
        article_changed: step.article_changed,
        action: step.action,
        detail,
    })
}

fn start_review(s: &mut Step) -> Result<String, DomainError> {
    if s.claim.state() != ClaimState::Received {
        return Err(s.refuse("only a RECEIVED claim can be taken for review"));
    }
    s.to(ClaimState::UnderReview);
    s.next.assignee = s.actor.id().to_string();
    s.first_action();
    Ok(format!("review started by {}", s.actor.id()))
}

fn request_information(s: &mut Step, message: &str) -> Result<String, DomainError> {
    invalid(validation::non_empty_text(
        "message",
        message,
        "what the claimant must supply",
    ))?;
    if !matches!(
        s.claim.state(),
        ClaimState::Received | ClaimState::UnderReview
    ) {
        return Err(
            s.refuse("information can be requested only on a RECEIVED or UNDER_REVIEW claim")
        );
    }
    if open_complaint(s.claim).is_some() {
        // A complaint is decided on the record; a reply window could otherwise close
        // the claim while it still holds the article.
        return Err(s.refuse(
            "a complaint is decided on the record: DecideClaim by a reviewer other than the one who decided",
        ));
    }
    s.to(ClaimState::NeedsInfo);
    s.next.information_request = Some(pb::InformationRequest {
        message: message.to_string(),
        reviewer: s.actor.id().to_string(),
        request_time: Some(s.now.into()),
        reply: String::new(),
    });
    let due = s.policy.information_reply_due(s.claim.regime(), s.now);
    s.next.next_deadline = deadline(DeadlineKind::InformationReply, due);
    s.first_action();
    Ok("information requested from the claimant".to_string())
}

fn amend_claim(
    s: &mut Step,
    amendment: &pb::Claim,
    update_mask: &[String],
    reply: &str,
) -> Result<String, DomainError> {
    invalid(validation::optional_text("reply", reply))?;
    amend(&mut s.next, amendment, update_mask)?;
    invalid(validation::notice(&s.next))?;
    if s.claim.state() != ClaimState::NeedsInfo {
        return Err(s.refuse("a claim can be amended only while it is NEEDS_INFO"));
    }
    s.to(ClaimState::Received);
    s.next.assignee.clear();
    if let Some(req) = s.next.information_request.as_mut() {
        req.reply = reply.to_string();
    }
    s.review_deadline();
    Ok("claim amended by the claimant".to_string())
}

fn record_correction(
    s: &mut Step,
    article_revision: u64,
    summary: &str,
) -> Result<String, DomainError> {
    let mut v = validation::non_empty_text("summary", summary, "a summary of the change");
    let expected = s.article.revision + 1;
    if article_revision != 0 && article_revision != expected {
        v.push(FieldViolation::new(
            "article_revision",
            format!(
                "article {} is at revision {}; send {expected} or 0",
                s.article.id, s.article.revision
            ),
        ));
    }
    invalid(v)?;
    if s.claim.state() != ClaimState::CorrectionPending {
        return Err(s.refuse("a correction can be recorded only for a CORRECTION_PENDING claim"));
    }
    s.to(ClaimState::Corrected);
    s.next.next_deadline = None;
    s.next.correction = Some(pb::Correction {
        article_revision: expected,
        summary: summary.to_string(),
        recorded_by: s.actor.id().to_string(),
        record_time: Some(s.now.into()),
    });
    article_status::correct(&mut s.article, expected, s.now);
    s.article_changed = true;
    Ok(format!(
        "article {} corrected to revision {expected}",
        s.article.id
    ))
}

fn file_counter_notice(
    s: &mut Step,
    cn: Option<&pb::CounterNotice>,
) -> Result<String, DomainError> {
    let regime = s.claim.regime();
    invalid(validation::counter_notice(cn, regime))?;
    if s.claim.state() != ClaimState::Deleted {
        return Err(s.refuse("a counter-notice can be filed only against a DELETED claim"));
    }
    if deletion_is_final(s.claim) {
        return Err(s.refuse("the deletion is final: a counter-notice was already used"));
    }
    let Some(due) = s.policy.restoration_due(regime, s.now) else {
        return Err(DomainError::Refused {
            reason: "NO_COUNTER_NOTICE",
            message: format!(
                "{} claims have no counter-notice; the publisher may file a complaint \
                 (ClaimService.FileComplaint) within the complaint window instead",
                regime.as_str_name()
            ),
        });
    };
    let mut cn = cn.cloned().unwrap_or_default();
    cn.file_time = Some(s.now.into());
    cn.filed_by = s.actor.id().to_string();
    s.next.counter_notice = Some(cn);
    s.to(ClaimState::CounterNoticed);
    s.next.next_deadline = deadline(DeadlineKind::Restoration, due);
    Ok("counter-notice filed and forwarded to the claimant".to_string())
}

fn report_legal_action(
    s: &mut Step,
    authority: &str,
    case_reference: &str,
    filed_date: &str,
) -> Result<String, DomainError> {
    invalid(validation::legal_action(
        authority,
        case_reference,
        filed_date,
    ))?;
    if s.claim.state() != ClaimState::CounterNoticed {
        return Err(s.refuse("legal action can be reported only on a COUNTER_NOTICED claim"));
    }
    s.to(ClaimState::LegalActionPending);
    s.next.next_deadline = None;
    s.next.legal_action = Some(pb::LegalAction {
        authority: authority.to_string(),
        case_reference: case_reference.to_string(),
        filed_date: filed_date.to_string(),
        report_time: Some(s.now.into()),
        ..Default::default()
    });
    Ok(format!(
        "legal action reported: {authority}, {case_reference}"
    ))
}

fn resolve_legal_action(s: &mut Step, outcome: i32, note: &str) -> Result<String, DomainError> {
    let mut v = validation::legal_action_outcome(outcome);
    v.extend(validation::optional_text("note", note));
    invalid(v)?;
    if s.claim.state() != ClaimState::LegalActionPending {
        return Err(s.refuse("only a LEGAL_ACTION_PENDING claim can be resolved"));
    }
    let outcome = LegalActionOutcome::try_from(outcome).unwrap_or(LegalActionOutcome::Unspecified);
    if let Some(la) = s.next.legal_action.as_mut() {
        la.outcome = outcome as i32;
        la.resolution_note = note.to_string();
        la.resolve_time = Some(s.now.into());
    }
    if outcome == LegalActionOutcome::Upheld {
        s.to(ClaimState::Deleted);
        Ok("legal action upheld; deletion is final".to_string())
    } else {
        s.to(ClaimState::Restored);
        s.release();
        Ok(format!(
            "legal action dismissed; article {} restored",
            s.article.id
        ))
    }
}

fn withdraw_claim(s: &mut Step, reason: &str) -> Result<String, DomainError> {
    invalid(validation::optional_text("reason", reason))?;
    if !is_open(s.claim) {
        return Err(s.refuse("only an open claim can be withdrawn"));
    }
    s.to(ClaimState::Withdrawn);
    s.next.next_deadline = None;
    s.next.withdrawal = Some(pb::Withdrawal {
        reason: reason.to_string(),
        withdraw_time: Some(s.now.into()),
    });
    if open_complaint(s.claim).is_some()
        && let Some(last) = s.next.complaints.last_mut()
    {
        // The withdrawal ends the complaint too; no new decision was made.
        last.resolve_time = Some(s.now.into());
    }
    s.release();
    Ok("claim withdrawn by the claimant".to_string())
}

fn expire_deadline(s: &mut Step) -> Result<String, DomainError> {
    use ClaimState::*;
    let due = s
        .claim
        .next_deadline
        .as_ref()
        .and_then(|d| time(d.due_time));
    let kind = s
        .claim
        .next_deadline
        .as_ref()
        .map(|d| d.kind())
        .unwrap_or_default();
    let to = match (s.claim.state(), kind) {
        (NeedsInfo, DeadlineKind::InformationReply) => ClosedIncomplete,
        (CorrectionPending, DeadlineKind::CorrectionWindow) => Deleted,
        (CounterNoticed, DeadlineKind::Restoration) => Restored,
        _ => {
            return Err(s.refuse("only reply, correction and restoration deadlines move a claim"));
        }
    };
    if due.is_none_or(|due| s.now < due) {
        return Err(DomainError::NotDue);
    }
    s.to(to);
    s.next.next_deadline = None;
    Ok(match to {
        Deleted => {
            s.hold();
            format!(
                "correction window passed; article {} withdrawn",
                s.article.id
            )
        }
        Restored => {
            s.release();
            format!(
                "restoration period passed; article {} restored",
                s.article.id
            )
        }
        _ => "no reply to the request for information in time".to_string(),
    })
}

#[cfg(test)]
#[path = "claim_machine_tests.rs"]
mod tests;
