//! Which index keys a record implies. Applying a record removes the keys its old
//! version implied and inserts the ones the new version implies, in the same batch, so
//! indexes never disagree with records.

use uuid::Uuid;

use super::keyspace;
use crate::pb;

/// The index keys of a claim.
pub fn claim_keys(c: &pb::Claim) -> Vec<Vec<u8>> {
    let Ok(id) = Uuid::parse_str(&c.id) else {
        return Vec::new();
    };
    let mut keys = vec![
        keyspace::claim_by_state(c.state, c.trusted_flagger, &id),
        keyspace::claim_queue(c.trusted_flagger, &id),
        keyspace::claim_by_article(&c.article_id, &id),
    ];
    // Closed for good: when, for the retention of its parties' personal data.
    if crate::domain::transitions::Stage::of(c).is_some_and(|s| s.is_terminal())
        && let Some(closed) = c.update_time
    {
        keys.push(keyspace::claim_closed(closed.seconds, &id));
    }
    // The parties of a sealed claim, for erasure and data-subject access.
    for subject in crate::pdata::sealed_claim_subjects(c) {
        keys.push(keyspace::claim_by_subject(&subject, &id));
    }
    if let Ok(p) = Uuid::parse_str(&c.filed_by) {
        keys.push(keyspace::claim_by_claimant(&p, &id));
    }
    if let Ok(p) = Uuid::parse_str(&c.assignee) {
        keys.push(keyspace::claim_by_assignee(&p, &id));
    }
    if let Some(d) = &c.next_deadline
        && let Some(due) = d.due_time
    {
        keys.push(keyspace::claim_by_deadline(due.seconds, &id));
        if d.kind() != pb::DeadlineKind::Review {
            keys.push(keyspace::claim_timer(due.seconds, &id));
        }
    }
    keys
}

/// The index keys of an article.
pub fn article_keys(a: &pb::Article) -> Vec<Vec<u8>> {
    vec![keyspace::article_by_url(&a.url, &a.id)]
}

/// The index keys of a principal (its token hash).
pub fn principal_keys(p: &pb::StoredPrincipal) -> Vec<(Vec<u8>, Vec<u8>)> {
    let id = p
        .principal
        .as_ref()
        .and_then(|p| Uuid::parse_str(&p.id).ok());
    match id {
        Some(id) if !p.token_sha256.is_empty() => {
            vec![(keyspace::token(&p.token_sha256), id.as_bytes().to_vec())]
        }
        _ => Vec::new(),
    }
}

/// The index keys of an audit entry.
pub fn audit_keys(e: &pb::AuditEntry) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    if let Ok(c) = Uuid::parse_str(&e.claim_id) {
        keys.push(keyspace::audit_by_claim(&c, e.seq));
    }
    if !e.article_id.is_empty() {
        keys.push(keyspace::audit_by_article(&e.article_id, e.seq));
    }
    keys
}

/// The index key of a claim token (its hash), whose value is the record's key: the
/// claim id and the party.
pub fn claim_token_keys(t: &pb::ClaimToken) -> Vec<(Vec<u8>, Vec<u8>)> {
    match Uuid::parse_str(&t.claim_id) {
        Ok(claim) if !t.token_sha256.is_empty() => vec![(
            keyspace::claim_token_by_hash(&t.token_sha256),
            keyspace::claim_token(&claim, t.party),
        )],
        _ => Vec::new(),
    }
}

/// The index key of a statement submission: while PENDING, by when it is next tried.
pub fn submission_keys(s: &pb::StatementSubmission) -> Vec<Vec<u8>> {
    match Uuid::parse_str(&s.claim_id) {
        Ok(claim) if s.state() == pb::SubmissionState::Pending => {
            let due = s.next_attempt_time.map_or(0, |t| t.seconds);
            vec![keyspace::submission_due(due, &claim, s.seq)]
        }
        _ => Vec::new(),
    }
}

/// The index keys of a notification: by claim, by status and, while PENDING, by when
/// it is next tried.
pub fn notification_keys(n: &pb::Notification) -> Vec<Vec<u8>> {
    let Ok(id) = Uuid::parse_str(&n.id) else {
        return Vec::new();
    };
    let mut keys = vec![keyspace::notification_by_status(n.status, &id)];
    if let Ok(claim) = Uuid::parse_str(&n.claim_id) {
        keys.push(keyspace::notification_by_claim(&claim, &id));
    }
    if n.status() == pb::NotificationStatus::Pending {
        let due = n.next_attempt_time.map_or(0, |t| t.seconds);
        keys.push(keyspace::notification_due(due, &id));
    }
    keys
}
