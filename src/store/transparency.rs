//! The transparency report (DSA Arts. 15 and 24): one pass over the audit entries up
//! to the log head, each joined with the claim it names, fed to the domain's tally. A
//! report reads the whole log, so it is an auditor's query, not a hot path.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::SystemTime;

use uuid::Uuid;

use super::{Store, StoreError, keyspace};
use crate::domain::transparency::{Period, TransparencyTally};
use crate::pb;

impl Store {
    /// Computes the report for entries with `start <= time < end` (no end: every entry
    /// up to `head_seq`), reporting `end_time` as `end` or else `now`.
    pub fn transparency_report(
        &self,
        start: Option<SystemTime>,
        end: Option<SystemTime>,
        now: SystemTime,
        head_seq: u64,
    ) -> Result<pb::TransparencyReport, StoreError> {
        let period = Period { start, end };
        let mut tally = TransparencyTally::new();
        // A claim is read once however many entries name it.
        let mut claims: HashMap<Uuid, Option<pb::Claim>> = HashMap::new();
        let first = keyspace::audit(0);
        let end_key = keyspace::audit(head_seq.saturating_add(1));
        for kv in self.db.range(first..end_key) {
            let (k, v) = kv?;
            let entry: pb::AuditEntry =
                prost::Message::decode(v.as_ref()).map_err(|source| StoreError::Corrupt {
                    key: hex::encode(&k),
                    source,
                })?;
            tally.note(&entry);
            if !period.contains(&entry) {
                continue;
            }
            let claim = match Uuid::parse_str(&entry.claim_id) {
                Ok(id) => match claims.entry(id) {
                    Entry::Occupied(o) => o.into_mut(),
                    Entry::Vacant(v) => v.insert(self.claim(&id)?),
                }
                .as_ref(),
                Err(_) => None,
            };
            tally.add(&entry, claim);
        }
        let mut report = tally.finish();
        report.start_time = start.map(Into::into);
        report.end_time = Some(end.unwrap_or(now).into());
        report.head_seq = head_seq;
        report.head_hash = self
            .audit_entry(head_seq)?
            .map(|e| hex::encode(e.hash))
            .unwrap_or_default();
        Ok(report)
    }
}
