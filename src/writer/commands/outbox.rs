//! The transactional outbox: the notifications a change gives rise to are records of
//! the change's own journal entry, so no change commits without them and none is told
//! of a change that did not commit. Delivery happens outside the writer
//! (`crate::notify`); each attempt comes back here as [`RecordDelivery`], journaled
//! like any change. See `docs/architecture.md`, "Notifications".

use std::time::SystemTime;

use uuid::Uuid;

use super::super::{Exec, Executed, WriteCommand, WriteError};
use crate::domain::AuditAction;
use crate::domain::notifications::{self, Change};
use crate::pb::{self, NotificationStatus as Status, stored_record::Kind};

/// Attempts kept on the record itself; every attempt is in the audit log.
const ATTEMPTS_KEPT: usize = 10;

/// The notifications `change` gives rise to on `claim` (as the change left it), with
/// their ids and the seq of the entry that carries them.
pub fn notifications(
    cx: &Exec<'_>,
    change: Change,
    claim: &pb::Claim,
    article: &pb::Article,
) -> Result<Vec<Kind>, WriteError> {
    // A notifier that is a principal with a webhook is told there as well.
    let filer = match Uuid::parse_str(&claim.filed_by) {
        Ok(id) => cx.view.principal(&id)?.and_then(|p| p.principal),
        Err(_) => None,
    };
    let notifier_webhook = filer
        .as_ref()
        .filter(|p| !p.webhook_url.is_empty())
        .map(|p| (p.id.as_str(), p.webhook_url.as_str()));
    let reach = notifications::Reach {
        channels: cx.channels,
        notifier_webhook,
    };
    Ok(
        notifications::plan(change, claim, article, cx.now, cx.policy, reach)
            .into_iter()
            .map(|mut n| {
                n.id = cx.new_id().to_string();
                n.cause_seq = cx.seq;
                Kind::Notification(n)
            })
            .collect(),
    )
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The receiver accepted it.
    Delivered,
    /// It failed; try again at `retry_at`, or never (`None`: DEAD).
    Failed {
        error: String,
        retry_at: Option<SystemTime>,
    },
    /// No channel can carry it (no SMTP server, no webhook URL configured).
    Undeliverable { reason: String },
}

/// The delivery worker's report of one attempt.
#[derive(Debug, Clone)]
pub struct RecordDelivery {
    pub notification_id: Uuid,
    pub outcome: Outcome,
}

impl WriteCommand for RecordDelivery {
    /// The notification after the attempt.
    type Reply = pb::Notification;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::Notification>, WriteError> {
        let n = load(cx, &self.notification_id)?;
        if n.status() != Status::Pending {
            // Retried, or recorded by an earlier report: this one changes nothing.
            return Ok(Executed::unchanged(n));
        }
        let mut next = n.clone();
        let attempt = pb::DeliveryAttempt {
            attempt_time: Some(cx.now.into()),
            delivered: self.outcome == Outcome::Delivered,
            error: match &self.outcome {
                Outcome::Delivered => String::new(),
                Outcome::Failed { error, .. } => error.clone(),
                Outcome::Undeliverable { reason } => reason.clone(),
            },
        };
        let result = match &self.outcome {
            Outcome::Delivered => {
                next.status = Status::Delivered as i32;
                next.deliver_time = Some(cx.now.into());
                next.next_attempt_time = None;
                next.last_error.clear();
                "delivered".to_string()
            }
            Outcome::Failed { error, retry_at } => {
                next.last_error = error.clone();
                match retry_at {
                    Some(at) => {
                        next.next_attempt_time = Some((*at).into());
                        format!("failed, retry at {}: {error}", super::rfc3339(*at))
                    }
                    None => {
                        next.status = Status::Dead as i32;
                        next.next_attempt_time = None;
                        format!("failed, no attempts left (DEAD): {error}")
                    }
                }
            }
            Outcome::Undeliverable { reason } => {
                next.status = Status::Undeliverable as i32;
                next.next_attempt_time = None;
                next.last_error = reason.clone();
                format!("undeliverable: {reason}")
            }
        };
        if !matches!(self.outcome, Outcome::Undeliverable { .. }) {
            next.attempt_count += 1;
        }
        next.attempts.push(attempt);
        let excess = next.attempts.len().saturating_sub(ATTEMPTS_KEPT);
        next.attempts.drain(..excess);

        let mut records = vec![Kind::Notification(next.clone())];
        let claim_id = Uuid::parse_str(&n.claim_id).ok();
        let claim = match claim_id {
            Some(id) => cx.view.claim(&id)?,
            None => None,
        };
        let mut a = cx.audit("system", AuditAction::DeliverNotification);
        a.claim_id = n.claim_id.clone();
        if let Some(c) = &claim {
            // Not a transition: no states, so state filters never count it.
            a.article_id = c.article_id.clone();
            if self.outcome == Outcome::Delivered
                && let Some(mut started) =
                    notifications::start_restoration_clock(c, &n, cx.now, cx.policy)
            {
                started.etag = cx.etag();
                records.push(Kind::Claim(started));
            }
        }
        a.detail = format!(
            "notification {} {} to {} by {}, attempt {}: {result}",
            n.id,
            n.kind().as_str_name(),
            n.recipient().as_str_name(),
            n.channel().as_str_name(),
            next.attempt_count.max(1),
        );
        Ok(Executed::changed(a, records, next))
    }
}

/// AdminService.RetryNotification: a DEAD or UNDELIVERABLE notification is PENDING
/// again, due now, with a fresh count of attempts.
#[derive(Debug, Clone)]
pub struct RetryNotification {
    pub notification_id: Uuid,
    pub actor: String,
}

impl WriteCommand for RetryNotification {
    type Reply = pb::Notification;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::Notification>, WriteError> {
        let n = load(cx, &self.notification_id)?;
        if !matches!(n.status(), Status::Dead | Status::Undeliverable) {
            return Err(WriteError::Domain(crate::domain::DomainError::Refused {
                reason: "NOT_RETRYABLE",
                message: format!(
                    "notification {} is {}; only a DEAD or UNDELIVERABLE notification can be retried",
                    n.id,
                    n.status().as_str_name()
                ),
            }));
        }
        let mut next = n.clone();
        next.status = Status::Pending as i32;
        next.attempt_count = 0;
        next.next_attempt_time = Some(cx.now.into());
        let mut a = cx.audit(&self.actor, AuditAction::RetryNotification);
        a.claim_id = n.claim_id.clone();
        if let Some(c) = Uuid::parse_str(&n.claim_id)
            .ok()
            .map(|id| cx.view.claim(&id))
            .transpose()?
            .flatten()
        {
            a.article_id = c.article_id.clone();
        }
        a.detail = format!(
            "notification {} {} to {} queued again (was {})",
            n.id,
            n.kind().as_str_name(),
            n.recipient().as_str_name(),
            n.status().as_str_name()
        );
        Ok(Executed::changed(
            a,
            vec![Kind::Notification(next.clone())],
            next,
        ))
    }
}

fn load(cx: &Exec<'_>, id: &Uuid) -> Result<pb::Notification, WriteError> {
    cx.view.notification(id)?.ok_or(WriteError::NotFound {
        what: "notification",
        id: id.to_string(),
    })
}
