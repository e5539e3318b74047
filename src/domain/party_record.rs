//! Party records: what the service counts about each party, for decisions on abuse
//! (DSA Art. 23: suspending those who often send manifestly unfounded notices or
//! complaints, after a warning; DMCA 512(f) misrepresentation; 512(i) repeat
//! infringers).
//!
//! [`counts`] is the rule: given a transition's claim before and after, and its
//! action, which counter moves for which party key. The writer applies the moves to
//! the stored records in the same journal entry as the transition, so the journal
//! alone rebuilds every count. Warnings and suspensions are operators' acts
//! ([`warn`], [`suspend`]); a suspension needs a warning first (Art. 23(1)).

use std::time::SystemTime;

use super::transitions::open_complaint;
use super::validation::{limits, one_line};
use super::{AuditAction, DomainError, FieldViolation};
use crate::pb::{self, DecisionOutcome, party_key::Key};

/// One count on a party record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    NoticesFiled,
    NoticesUpheld,
    NoticesRejected,
    NoticesManifestlyUnfounded,
    MisrepresentationSuspected,
    ComplaintsFiled,
    ComplaintsUnfounded,
    /// Not moved yet: claims do not record their contributor (see [`counts`]).
    ContributionsInfringing,
}

/// A counter of one party moving by `delta` (negative when a decision changed on a
/// complaint takes back what the first decision counted).
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub party: pb::PartyKey,
    pub counter: Counter,
    pub delta: i64,
}

/// The key in its normal form: a notifier e-mail trimmed and lower-cased, so that
/// `Jo@Example.org ` and `jo@example.org` are one notifier.
pub fn normalise(key: &pb::PartyKey) -> pb::PartyKey {
    let key = match &key.key {
        Some(Key::NotifierEmail(e)) => Some(Key::NotifierEmail(e.trim().to_lowercase())),
        Some(Key::PrincipalId(id)) => Some(Key::PrincipalId(id.trim().to_string())),
        Some(Key::ContributorAccountId(id)) => {
            Some(Key::ContributorAccountId(id.trim().to_string()))
        }
        None => None,
    };
    pb::PartyKey { key }
}

pub fn principal_key(id: &str) -> pb::PartyKey {
    pb::PartyKey {
        key: Some(Key::PrincipalId(id.to_string())),
    }
}

pub fn email_key(email: &str) -> pb::PartyKey {
    normalise(&pb::PartyKey {
        key: Some(Key::NotifierEmail(email.to_string())),
    })
}

/// The problems with a party key sent by a client (`field` names it).
pub fn check_key(field: &str, key: Option<&pb::PartyKey>) -> Vec<FieldViolation> {
    let example = "set one of principal_id, notifier_email or contributor_account_id";
    let Some(key) = key.map(normalise) else {
        return vec![FieldViolation::new(field, format!("required; {example}"))];
    };
    let (name, value) = match &key.key {
        None => return vec![FieldViolation::new(field, format!("empty; {example}"))],
        Some(Key::PrincipalId(id)) => ("principal_id", id),
        Some(Key::NotifierEmail(e)) => ("notifier_email", e),
        Some(Key::ContributorAccountId(id)) => ("contributor_account_id", id),
    };
    let field = format!("{field}.{name}");
    if value.is_empty() {
        return vec![FieldViolation::new(field, "must not be empty")];
    }
    match &key.key {
        Some(Key::PrincipalId(id)) if uuid::Uuid::parse_str(id).is_err() => {
            vec![FieldViolation::new(
                field,
                "must be a principal id (a UUID) as returned by CreatePrincipal",
            )]
        }
        Some(Key::NotifierEmail(e)) if !e.contains('@') => vec![FieldViolation::new(
            field,
            "must be an e-mail address, as in a notice's claimant.email",
        )],
        _ => one_line(&field, value, limits::REFERENCE),
    }
}

/// The keys a claim's notifier is known by: the principal that filed it (not a
/// public notifier's id, which is made from its e-mail: version 8), and the e-mail in
/// its notice.
pub fn notifier_keys(claim: &pb::Claim) -> Vec<pb::PartyKey> {
    let mut keys = Vec::new();
    if uuid::Uuid::parse_str(&claim.filed_by).is_ok_and(|id| id.get_version_num() != 8) {
        keys.push(principal_key(&claim.filed_by));
    }
    if let Some(email) = claim.claimant.as_ref().map(|c| c.email.trim())
        && !email.is_empty()
    {
        keys.push(email_key(email));
    }
    keys
}

/// The counters a decision moves on its notifier's records.
fn decision_counters(decision: &pb::Decision) -> Vec<Counter> {
    let mut counters = Vec::new();
    match decision.outcome() {
        DecisionOutcome::Correct | DecisionOutcome::Delete => counters.push(Counter::NoticesUpheld),
        DecisionOutcome::Reject => counters.push(Counter::NoticesRejected),
        DecisionOutcome::Unspecified => {}
    }
    if decision.manifestly_unfounded {
        counters.push(Counter::NoticesManifestlyUnfounded);
    }
    if decision.misrepresentation_suspected {
        counters.push(Counter::MisrepresentationSuspected);
    }
    counters
}

/// Which counters move for which party when `action` turns `before` (none for a new
/// claim) into `after`.
///
/// A decision on a complaint replaces the decision complained about: what the first
/// decision counted is taken back and the new one counted, so a notice is counted
/// once, by its standing decision.
///
/// Contributors: an upheld decision on a claim against contributed content moves
/// `ContributionsInfringing` for the contributor's key, by the same take-back rule.
pub fn counts(before: Option<&pb::Claim>, after: &pb::Claim, action: AuditAction) -> Vec<Move> {
    let mut moves = Vec::new();
    let mut count = |party: &pb::PartyKey, counter, delta| {
        moves.push(Move {
            party: party.clone(),
            counter,
            delta,
        })
    };
    match action {
        AuditAction::FileClaim => {
            for key in notifier_keys(after) {
                count(&key, Counter::NoticesFiled, 1);
            }
        }
        AuditAction::DecideClaim => {
            let Some(decision) = &after.decision else {
                return moves;
            };
            let complaint = before.and_then(open_complaint);
            let mut delta: Vec<(Counter, i64)> = decision_counters(decision)
                .into_iter()
                .map(|c| (c, 1))
                .collect();
            if let Some(previous) = complaint.and_then(|c| c.previous_decision.as_ref()) {
                delta.extend(decision_counters(previous).into_iter().map(|c| (c, -1)));
            }
            for key in notifier_keys(after) {
                for counter in net(&delta) {
                    count(&key, counter.0, counter.1);
                }
            }
            if let Some(contributor) = after
                .contributor
                .as_ref()
                .filter(|c| !c.account_id.is_empty())
            {
                let upheld = |d: &pb::Decision| {
                    i64::from(matches!(
                        d.outcome(),
                        DecisionOutcome::Correct | DecisionOutcome::Delete
                    ))
                };
                let before_upheld = complaint
                    .and_then(|c| c.previous_decision.as_ref())
                    .map_or(0, upheld);
                let change = upheld(decision) - before_upheld;
                if change != 0 {
                    let key = pb::PartyKey {
                        key: Some(Key::ContributorAccountId(contributor.account_id.clone())),
                    };
                    count(&key, Counter::ContributionsInfringing, change);
                }
            }
            if let Some(c) = complaint
                && let Some(resolved) = after.complaints.last()
                && !resolved.decision_changed
                && uuid::Uuid::parse_str(&c.filed_by).is_ok()
            {
                count(&principal_key(&c.filed_by), Counter::ComplaintsUnfounded, 1);
            }
        }
        AuditAction::FileComplaint => {
            if let Some(c) = after.complaints.last()
                && uuid::Uuid::parse_str(&c.filed_by).is_ok()
            {
                count(&principal_key(&c.filed_by), Counter::ComplaintsFiled, 1);
            }
        }
        _ => {}
    }
    moves
}

/// The moves of `delta` that do not cancel out, in first-seen order.
fn net(delta: &[(Counter, i64)]) -> Vec<(Counter, i64)> {
    let mut sums: Vec<(Counter, i64)> = Vec::new();
    for (counter, d) in delta {
        match sums.iter_mut().find(|(c, _)| c == counter) {
            Some(s) => s.1 += d,
            None => sums.push((*counter, *d)),
        }
    }
    sums.retain(|(_, d)| *d != 0);
    sums
}

/// Applies one move to `record` (a count never goes below zero).
pub fn apply(record: &mut pb::PartyRecord, counter: Counter, delta: i64) {
    let field = match counter {
        Counter::NoticesFiled => &mut record.notices_filed,
        Counter::NoticesUpheld => &mut record.notices_upheld,
        Counter::NoticesRejected => &mut record.notices_rejected,
        Counter::NoticesManifestlyUnfounded => &mut record.notices_manifestly_unfounded,
        Counter::MisrepresentationSuspected => &mut record.misrepresentation_suspected,
        Counter::ComplaintsFiled => &mut record.complaints_filed,
        Counter::ComplaintsUnfounded => &mut record.complaints_unfounded,
        Counter::ContributionsInfringing => &mut record.contributions_infringing,
    };
    *field = field.saturating_add_signed(delta);
}

/// An empty record for `party` (normalised).
pub fn empty(party: &pb::PartyKey) -> pb::PartyRecord {
    pb::PartyRecord {
        party: Some(normalise(party)),
        ..Default::default()
    }
}

/// Records a warning.
pub fn warn(record: &mut pb::PartyRecord, reason: &str, now: SystemTime) {
    record.warnings += 1;
    record.last_warning_time = Some(now.into());
    record.last_warning_reason = reason.to_string();
}

/// Records a suspension until `until`; refused unless a warning was recorded first
/// (DSA Art. 23(1)).
pub fn suspend(
    record: &mut pb::PartyRecord,
    reason: &str,
    until: SystemTime,
) -> Result<(), DomainError> {
    if record.warnings == 0 {
        return Err(DomainError::Refused {
            reason: "NO_PRIOR_WARNING",
            message: "a suspension needs a prior warning (DSA Art. 23(1)) and this party has \
                      none; warn it first (AdminService.WarnParty, `takedownctl parties warn`)"
                .to_string(),
        });
    }
    record.suspensions += 1;
    record.suspended_until = Some(until.into());
    record.last_suspension_reason = reason.to_string();
    Ok(())
}

/// Until when the record's party is suspended at `now`, if it is.
pub fn suspended_until(record: &pb::PartyRecord, now: SystemTime) -> Option<SystemTime> {
    let until = SystemTime::try_from(record.suspended_until?).ok()?;
    (until > now).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(email: &str) -> pb::Claim {
        pb::Claim {
            filed_by: uuid::Uuid::now_v7().to_string(),
            claimant: Some(pb::Claimant {
                email: email.to_string(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn decided(mut c: pb::Claim, outcome: DecisionOutcome, unfounded: bool) -> pb::Claim {
        c.decision = Some(pb::Decision {
            outcome: outcome as i32,
            manifestly_unfounded: unfounded,
            ..Default::default()
        });
        c
    }

    #[test]
    fn filing_counts_for_the_principal_and_the_normalised_email() {
        let c = claim(" Jo@Example.ORG ");
        let moves = counts(None, &c, AuditAction::FileClaim);
        assert_eq!(moves.len(), 2);
        assert_eq!(moves[0].party, principal_key(&c.filed_by));
        assert_eq!(moves[1].party, email_key("jo@example.org"));
        assert!(moves.iter().all(|m| m.counter == Counter::NoticesFiled));
    }

    #[test]
    fn a_decision_changed_on_complaint_moves_the_count() {
        let before = decided(claim("a@b.c"), DecisionOutcome::Reject, true);
        let mut reopened = before.clone();
        reopened.complaints.push(pb::Complaint {
            filed_by: before.filed_by.clone(),
            previous_decision: before.decision.clone(),
            ..Default::default()
        });
        let mut after = decided(reopened.clone(), DecisionOutcome::Delete, false);
        after.complaints[0].decision_changed = true;
        after.complaints[0].resolve_time = Some(SystemTime::now().into());
        let moves = counts(Some(&reopened), &after, AuditAction::DecideClaim);
        let on_email: Vec<_> = moves
            .iter()
            .filter(|m| m.party == email_key("a@b.c"))
            .map(|m| (m.counter, m.delta))
            .collect();
        assert_eq!(
            on_email,
            [
                (Counter::NoticesUpheld, 1),
                (Counter::NoticesRejected, -1),
                (Counter::NoticesManifestlyUnfounded, -1)
            ]
        );
        assert!(
            !moves
                .iter()
                .any(|m| m.counter == Counter::ComplaintsUnfounded)
        );
    }

    #[test]
    fn a_complaint_decided_without_change_counts_against_the_complainant() {
        let before = decided(claim("a@b.c"), DecisionOutcome::Reject, false);
        let complainant = uuid::Uuid::now_v7().to_string();
        let mut reopened = before.clone();
        reopened.complaints.push(pb::Complaint {
            filed_by: complainant.clone(),
            previous_decision: before.decision.clone(),
            ..Default::default()
        });
        let mut after = decided(reopened.clone(), DecisionOutcome::Reject, false);
        after.complaints[0].resolve_time = Some(SystemTime::now().into());
        let moves = counts(Some(&reopened), &after, AuditAction::DecideClaim);
        assert_eq!(
            moves,
            [Move {
                party: principal_key(&complainant),
                counter: Counter::ComplaintsUnfounded,
                delta: 1
            }]
        );
    }

    #[test]
    fn suspension_needs_a_warning_and_counts_never_go_negative() {
        let mut r = empty(&email_key("a@b.c"));
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        assert!(matches!(
            suspend(&mut r, "x", later),
            Err(DomainError::Refused {
                reason: "NO_PRIOR_WARNING",
                ..
            })
        ));
        warn(&mut r, "first", SystemTime::now());
        suspend(&mut r, "second", later).unwrap();
        assert_eq!((r.warnings, r.suspensions), (1, 1));
        assert!(suspended_until(&r, SystemTime::now()).is_some());
        apply(&mut r, Counter::NoticesRejected, -1);
        assert_eq!(r.notices_rejected, 0);
    }
}
