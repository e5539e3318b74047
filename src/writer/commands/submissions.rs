//! Submissions of statements of reasons to the DSA Transparency Database (DSA Art.
//! 24(5)), kept like the notification outbox: when the server submits
//! (`--dsa-tdb-url`), each restriction's own journal entry carries a PENDING
//! [`pb::StatementSubmission`], so no restriction commits without one; the submission
//! worker (`crate::notify::dsa_tdb`) sends them and reports each attempt here as
//! [`RecordSubmission`], journaled like any change. The record keeps the claim and
//! seq only: the statement is rebuilt from that journal entry when it is sent.

use std::time::SystemTime;

use uuid::Uuid;

use super::super::{Exec, Executed, WriteCommand, WriteError};
use crate::domain::AuditAction;
use crate::domain::dsa_statement::{self, Restriction};
use crate::pb::{self, SubmissionState as State, stored_record::Kind};

/// The PENDING submission of the restriction that `audit` (the entry being made, at
/// `cx.seq`) records on `claim` as it leaves it, if the entry restricts content and
/// the server submits.
pub fn submission(cx: &Exec<'_>, audit: &pb::AuditEntry, claim: &pb::Claim) -> Option<Kind> {
    if !cx.channels.dsa_tdb {
        return None;
    }
    Restriction::of(audit, claim)?;
    Some(Kind::StatementSubmission(pb::StatementSubmission {
        puid: dsa_statement::puid(&claim.id, cx.seq),
        claim_id: claim.id.clone(),
        seq: cx.seq,
        state: State::Pending as i32,
        next_attempt_time: Some(cx.now.into()),
        ..Default::default()
    }))
}

/// How one attempt at one statement ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmissionOutcome {
    /// The database took it, or already had its puid (`already`).
    Submitted { already: bool },
    /// It failed; try again at `retry_at`, or never (`None`: FAILED).
    Failed {
        error: String,
        retry_at: Option<SystemTime>,
    },
}

/// The submission worker's report of one attempt at one statement.
#[derive(Debug, Clone)]
pub struct RecordSubmission {
    pub claim_id: Uuid,
    pub seq: u64,
    pub outcome: SubmissionOutcome,
}

impl WriteCommand for RecordSubmission {
    /// The submission after the attempt.
    type Reply = pb::StatementSubmission;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::StatementSubmission>, WriteError> {
        let s = cx
            .view
            .submission(&self.claim_id, self.seq)?
            .ok_or(WriteError::NotFound {
                what: "statement submission",
                id: dsa_statement::puid(&self.claim_id.to_string(), self.seq),
            })?;
        if s.state() != State::Pending {
            // Reported twice (a retried report): the first one stands.
            return Ok(Executed::unchanged(s));
        }
        let mut next = s.clone();
        next.attempt_count += 1;
        let result = match &self.outcome {
            SubmissionOutcome::Submitted { already } => {
                next.state = State::Submitted as i32;
                next.submit_time = Some(cx.now.into());
                next.next_attempt_time = None;
                next.last_error.clear();
                if *already {
                    "submitted (the database already had this puid)".to_string()
                } else {
                    "submitted".to_string()
                }
            }
            SubmissionOutcome::Failed { error, retry_at } => {
                next.last_error = error.clone();
                match retry_at {
                    Some(at) => {
                        next.next_attempt_time = Some((*at).into());
                        format!("failed, retry at {}: {error}", super::rfc3339(*at))
                    }
                    None => {
                        next.state = State::Failed as i32;
                        next.next_attempt_time = None;
                        format!("failed for good (FAILED): {error}")
                    }
                }
            }
        };
        let mut a = cx.audit("system", AuditAction::SubmitStatement);
        a.claim_id = s.claim_id.clone();
        if let Some(c) = cx.view.claim(&self.claim_id)? {
            // Not a transition: no states, so state filters never count it.
            a.article_id = c.article_id;
        }
        a.detail = format!(
            "statement {} (entry {}) to the DSA Transparency Database, attempt {}: {result}",
            s.puid, s.seq, next.attempt_count
        );
        Ok(Executed::changed(
            a,
            vec![Kind::StatementSubmission(next.clone())],
            next,
        ))
    }
}
