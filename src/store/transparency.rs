//! The transparency report (DSA Arts. 15 and 24): one pass over the audit entries of a
//! period, joined with the claims they name. A report reads the whole log, so it is an
//! auditor's query, not a hot path.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use uuid::Uuid;

use super::{Store, StoreError, keyspace};
use crate::pb::{self, ClaimState, DecisionOutcome, NoticeSource, Regime};

fn time(t: Option<prost_types::Timestamp>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(t).ok())
}

/// The value at quantile `q` (0..=1) of sorted samples, nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn proto_duration(d: Option<Duration>) -> Option<prost_types::Duration> {
    d.and_then(|d| prost_types::Duration::try_from(d).ok())
}

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
        let mut report = pb::TransparencyReport {
            start_time: start.map(Into::into),
            end_time: Some(end.unwrap_or(now).into()),
            head_seq,
            head_hash: self
                .audit_entry(head_seq)?
                .map(|e| hex::encode(e.hash))
                .unwrap_or_default(),
            ..Default::default()
        };
        let mut notices: HashMap<(i32, NoticeSource), (u64, u64)> = HashMap::new();
        let mut outcomes = pb::OutcomeCounts::default();
        let mut complaint_decisions = pb::ComplaintDecisions::default();
        let mut to_decision = Vec::new();
        let mut to_first_action = Vec::new();
        let mut claims: HashMap<Uuid, Option<pb::Claim>> = HashMap::new();
        // One first-action sample per claim, even if two of its actions share the
        // instant (one write group shares one time).
        let mut first_actions_seen: std::collections::HashSet<String> = Default::default();

        let prefix = [keyspace::AUDIT];
        let end_key = keyspace::audit(head_seq.saturating_add(1));
        for kv in self.db.range(prefix.to_vec()..end_key) {
            let (k, v) = kv?;
            let entry: pb::AuditEntry =
                prost::Message::decode(v.as_ref()).map_err(|source| StoreError::Corrupt {
                    key: hex::encode(&k),
                    source,
                })?;
            let Some(at) = time(entry.time) else { continue };
            if end.is_some_and(|e| at >= e) || start.is_some_and(|s| at < s) {
                continue;
            }
            let claim = match Uuid::parse_str(&entry.claim_id) {
                Ok(id) => match claims.get(&id) {
                    Some(c) => c.clone(),
                    None => {
                        let c = self.claim(&id)?;
                        claims.insert(id, c.clone());
                        c
                    }
                },
                Err(_) => None,
            };
            let created = claim.as_ref().and_then(|c| time(c.create_time));
            let since_receipt = |t: SystemTime| created.and_then(|c| t.duration_since(c).ok());
            let to = ClaimState::try_from(entry.to_state).unwrap_or_default();
            match entry.action.as_str() {
                "FileClaim" => {
                    if let Some(c) = &claim {
                        let source = if c.trusted_flagger {
                            NoticeSource::TrustedFlagger
                        } else {
                            NoticeSource::Notice
                        };
                        let n = notices.entry((c.regime, source)).or_default();
                        n.0 += 1;
                        n.1 += c.items.len() as u64;
                        report.items_requested += c.items.len() as u64;
                    }
                }
                "DecideClaim" => {
                    let on_complaint = claim.as_ref().and_then(|c| {
                        c.complaints
                            .iter()
                            .find(|x| x.resolve_time.is_some() && x.resolve_time == entry.time)
                    });
                    match on_complaint {
                        Some(x) => {
                            match DecisionOutcome::try_from(x.new_outcome) {
                                Ok(DecisionOutcome::Reject) => complaint_decisions.reject += 1,
                                Ok(DecisionOutcome::Correct) => complaint_decisions.correct += 1,
                                Ok(DecisionOutcome::Delete) => complaint_decisions.delete += 1,
                                _ => {}
                            }
                            if x.decision_changed {
                                report.complaint_reversals += 1;
                            }
                        }
                        None => {
                            report.decisions += 1;
                            to_decision.extend(since_receipt(at));
                        }
                    }
                }
                "FileCounterNotice" => report.counter_notices += 1,
                "ReportLegalAction" => report.legal_actions += 1,
                "ResolveLegalAction" if to == ClaimState::Deleted => {
                    report.legal_actions_upheld += 1
                }
                "ResolveLegalAction" => report.legal_actions_dismissed += 1,
                "FileComplaint" => report.complaints += 1,
                "SuspendPrincipal" => report.suspensions += 1,
                _ => {}
            }
            let first_action = claim.as_ref().and_then(|c| c.first_action_time);
            if matches!(
                entry.action.as_str(),
                "StartReview" | "RequestInformation" | "DecideClaim"
            ) && first_action.is_some()
                && first_action == entry.time
                && first_actions_seen.insert(entry.claim_id.clone())
            {
                to_first_action.extend(since_receipt(at));
            }
            if entry.from_state != entry.to_state {
                match to {
                    ClaimState::Corrected => outcomes.corrected += 1,
                    ClaimState::Deleted => outcomes.deleted += 1,
                    ClaimState::Rejected => outcomes.rejected += 1,
                    ClaimState::Withdrawn => outcomes.withdrawn += 1,
                    ClaimState::ClosedIncomplete => outcomes.closed_incomplete += 1,
                    ClaimState::Restored => {
                        outcomes.restored += 1;
                        if claim.as_ref().is_some_and(|c| c.counter_notice.is_some()) {
                            report.counter_notices_restored += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
        to_decision.sort_unstable();
        to_first_action.sort_unstable();
        report.median_time_to_decision = proto_duration(quantile(&to_decision, 0.5));
        report.p90_time_to_decision = proto_duration(quantile(&to_decision, 0.9));
        report.median_time_to_first_action = proto_duration(quantile(&to_first_action, 0.5));
        report.p90_time_to_first_action = proto_duration(quantile(&to_first_action, 0.9));
        let mut counts: Vec<_> = notices.into_iter().collect();
        counts.sort_by_key(|((regime, source), _)| (*regime, *source as i32));
        report.notices = counts
            .into_iter()
            .map(|((regime, source), (n, items))| pb::NoticeCount {
                regime: Regime::try_from(regime).unwrap_or_default() as i32,
                source: source as i32,
                notices: n,
                items_requested: items,
            })
            .collect();
        report.outcomes = Some(outcomes);
        report.complaint_decisions = Some(complaint_decisions);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let s: Vec<Duration> = (1..=10).map(Duration::from_secs).collect();
        assert_eq!(quantile(&s, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(quantile(&s, 0.9), Some(Duration::from_secs(9)));
        assert_eq!(quantile(&s[..1], 0.9), Some(Duration::from_secs(1)));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
