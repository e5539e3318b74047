//! Party records in the writer: the counts a transition moves (the rule is
//! `domain::party_record::counts`), the check that a suspended notifier e-mail does
//! not file, and the operators' commands WarnParty and SuspendParty.
//!
//! Every count lands in the same journal entry as the change it counts, so the
//! journal alone rebuilds the records.

use std::time::SystemTime;

use super::super::{Exec, Executed, WriteCommand, WriteError};
use super::suspension::{check_until, rfc3339};
use crate::domain::AuditAction;
use crate::domain::party_record::{self, Move};
use crate::pb::{self, party_key::Key, stored_record::Kind};

/// The record of `party` as the group leaves it, or an empty one.
pub fn load(cx: &Exec<'_>, party: &pb::PartyKey) -> Result<pb::PartyRecord, WriteError> {
    let party = party_record::normalise(party);
    Ok(cx
        .view
        .party_record(&party)?
        .unwrap_or_else(|| party_record::empty(&party)))
}

/// The after-images of the records `moves` change, one per party.
pub fn counted(cx: &Exec<'_>, moves: Vec<Move>) -> Result<Vec<Kind>, WriteError> {
    Ok(counted_with_events(cx, moves)?.0)
}

/// The after-images of the records `moves` change, one per party, and the
/// contributors that these moves made repeat infringers (DMCA 512(i)): their
/// contributions found infringing within the policy's window reached its threshold
/// with this change. A contributor's infringement times are kept for the window.
pub fn counted_with_events(
    cx: &Exec<'_>,
    moves: Vec<Move>,
) -> Result<(Vec<Kind>, Vec<pb::PartyRecord>), WriteError> {
    let policy = cx.policy.repeat_infringer;
    let since = cx.now.checked_sub(policy.window);
    let within = |r: &pb::PartyRecord| {
        r.infringement_times
            .iter()
            .filter_map(|t| SystemTime::try_from(*t).ok())
            .filter(|t| since.is_none_or(|s| *t > s))
            .count()
    };
    let mut records: Vec<pb::PartyRecord> = Vec::new();
    let mut before: Vec<usize> = Vec::new();
    for m in moves {
        let party = party_record::normalise(&m.party);
        let at = match records
            .iter()
            .position(|r| r.party.as_ref() == Some(&party))
        {
            Some(at) => at,
            None => {
                let record = load(cx, &party)?;
                before.push(within(&record));
                records.push(record);
                records.len() - 1
            }
        };
        party_record::apply(&mut records[at], m.counter, m.delta);
        if m.counter == party_record::Counter::ContributionsInfringing {
            let times = &mut records[at].infringement_times;
            if m.delta > 0 {
                times.push(cx.now.into());
            } else {
                times.pop();
            }
            times.retain(|t| {
                SystemTime::try_from(*t)
                    .ok()
                    .is_some_and(|t| since.is_none_or(|s| t > s))
            });
        }
    }
    let threshold = policy.threshold as usize;
    let reached = records
        .iter()
        .zip(&before)
        .filter(|(r, was)| **was < threshold && within(r) >= threshold)
        .map(|(r, _)| r.clone())
        .collect();
    Ok((
        records.into_iter().map(Kind::PartyRecord).collect(),
        reached,
    ))
}

/// How the audit log names a party: an e-mail only by a short hash, so the
/// hash-chained log never holds it in clear.
pub fn label(cx: &Exec<'_>, party: &pb::PartyKey) -> String {
    match &party_record::normalise(party).key {
        Some(Key::PrincipalId(id)) => format!("principal {id}"),
        Some(Key::NotifierEmail(e)) => {
            // Never the address: its subject (a keyed hash), or for a sealed one the
            // subject it names.
            let subject = crate::pdata::subject_of(e).or_else(|| {
                cx.view
                    .vault()
                    .map(|v| v.subject(crate::pdata::SubjectKind::Email, e))
            });
            match subject {
                Some(s) => format!("notifier e-mail {}", &hex::encode(s)[..12]),
                None => "a notifier e-mail".to_string(),
            }
        }
        Some(Key::ContributorAccountId(id)) => format!("contributor {id}"),
        None => "no party".to_string(),
    }
}

/// Refuses a notice or complaint from a notifier e-mail suspended at `now`.
pub fn check_email_may_file(cx: &Exec<'_>, email: &str) -> Result<(), WriteError> {
    if email.trim().is_empty() {
        return Ok(());
    }
    let key = party_record::email_key(email);
    let record = cx.view.party_record(&key)?;
    match record.and_then(|r| party_record::suspended_until(&r, cx.now)) {
        Some(until) => Err(WriteError::PartySuspended {
            party: "the notifier e-mail".to_string(),
            until,
        }),
        None => Ok(()),
    }
}

/// Refuses a counter-notice or complaint from a contributor (by its account id) that
/// is suspended at `cx.now` (DSA Art. 23).
pub fn check_contributor_may_answer(cx: &Exec<'_>, account_id: &str) -> Result<(), WriteError> {
    let key = pb::PartyKey {
        key: Some(pb::party_key::Key::ContributorAccountId(
            account_id.to_string(),
        )),
    };
    let record = cx.view.party_record(&key)?;
    match record.and_then(|r| party_record::suspended_until(&r, cx.now)) {
        Some(until) => Err(WriteError::PartySuspended {
            party: "the contributor".to_string(),
            until,
        }),
        None => Ok(()),
    }
}

/// WarnParty (DSA Art. 23(1)): records a warning on a party's record.
#[derive(Debug, Clone)]
pub struct WarnParty {
    pub party: pb::PartyKey,
    pub reason: String,
    pub actor: String,
}

impl WriteCommand for WarnParty {
    type Reply = pb::PartyRecord;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::PartyRecord>, WriteError> {
        let mut record = load(cx, &self.party)?;
        party_record::warn(&mut record, &self.reason, cx.now);
        let mut a = cx.audit(&self.actor, AuditAction::WarnParty);
        a.detail = format!("{} warned: {}", label(cx, &self.party), self.reason);
        Ok(Executed::changed(
            a,
            vec![Kind::PartyRecord(record.clone())],
            record,
        ))
    }
}

/// SuspendParty (DSA Art. 23): a notifier e-mail or a contributor may not file or
/// complain until `until`; refused without a prior warning.
#[derive(Debug, Clone)]
pub struct SuspendParty {
    pub party: pb::PartyKey,
    pub reason: String,
    pub until: SystemTime,
    pub actor: String,
}

impl WriteCommand for SuspendParty {
    type Reply = pb::PartyRecord;

    fn execute(&self, cx: &Exec<'_>) -> Result<Executed<pb::PartyRecord>, WriteError> {
        check_until(self.until, cx.now)?;
        let mut record = load(cx, &self.party)?;
        party_record::suspend(&mut record, &self.reason, self.until)?;
        let mut a = cx.audit(&self.actor, AuditAction::SuspendParty);
        a.detail = format!(
            "{} suspended until {}: {}",
            label(cx, &self.party),
            rfc3339(self.until),
            self.reason
        );
        Ok(Executed::changed(
            a,
            vec![Kind::PartyRecord(record.clone())],
            record,
        ))
    }
}
