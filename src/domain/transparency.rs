//! The transparency figures (DSA Arts. 15 and 24) as a pure tally: fed the audit
//! entries of a period in seq order, each with the claim it names, it counts notices,
//! decisions, outcomes, counter-notices, legal actions, complaints and suspensions,
//! and the times to first action and to decision. The store reads the log and the
//! claims; nothing here does I/O.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use super::audit_action::AuditAction;
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

/// The period a report covers: `start <= time < end`, either end open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Period {
    pub start: Option<SystemTime>,
    pub end: Option<SystemTime>,
}

impl Period {
    /// Whether the entry was written within the period (an entry without a valid
    /// time is in no period).
    pub fn contains(&self, entry: &pb::AuditEntry) -> bool {
        time(entry.time)
            .is_some_and(|at| self.start.is_none_or(|s| at >= s) && self.end.is_none_or(|e| at < e))
    }
}

/// The running figures of one report.
#[derive(Debug, Default)]
pub struct TransparencyTally {
    report: pb::TransparencyReport,
    notices: HashMap<(i32, NoticeSource), (u64, u64)>,
    outcomes: pb::OutcomeCounts,
    complaint_decisions: pb::ComplaintDecisions,
    to_decision: Vec<Duration>,
    to_first_action: Vec<Duration>,
    // One first-action sample per claim, even if two of its actions share the instant
    // (one write group shares one time).
    first_actions_seen: HashSet<String>,
}

impl TransparencyTally {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one entry of the period. `claim` is the current record of the claim the
    /// entry names (none for article and principal entries); it tells the regime, the
    /// items, the receipt time and how complaints ended.
    pub fn add(&mut self, entry: &pb::AuditEntry, claim: Option<&pb::Claim>) {
        let Some(at) = time(entry.time) else { return };
        let action = AuditAction::parse(&entry.action);
        let created = claim.and_then(|c| time(c.create_time));
        let since_receipt = |t: SystemTime| created.and_then(|c| t.duration_since(c).ok());
        let to = ClaimState::try_from(entry.to_state).unwrap_or_default();
        let report = &mut self.report;
        match action {
            Some(AuditAction::FileClaim) => {
                if let Some(c) = claim {
                    let source = if c.trusted_flagger {
                        NoticeSource::TrustedFlagger
                    } else {
                        NoticeSource::Notice
                    };
                    let n = self.notices.entry((c.regime, source)).or_default();
                    n.0 += 1;
                    n.1 += c.items.len() as u64;
                    report.items_requested += c.items.len() as u64;
                }
            }
            Some(AuditAction::DecideClaim) => {
                // A decision written at the instant a complaint was resolved is the
                // decision on that complaint, not a first decision.
                let on_complaint = claim.and_then(|c| {
                    c.complaints
                        .iter()
                        .find(|x| x.resolve_time.is_some() && x.resolve_time == entry.time)
                });
                match on_complaint {
                    Some(x) => {
                        let counts = &mut self.complaint_decisions;
                        match DecisionOutcome::try_from(x.new_outcome) {
                            Ok(DecisionOutcome::Reject) => counts.reject += 1,
                            Ok(DecisionOutcome::Correct) => counts.correct += 1,
                            Ok(DecisionOutcome::Delete) => counts.delete += 1,
                            _ => {}
                        }
                        if x.decision_changed {
                            report.complaint_reversals += 1;
                        }
                    }
                    None => {
                        report.decisions += 1;
                        self.to_decision.extend(since_receipt(at));
                    }
                }
            }
            Some(AuditAction::FileCounterNotice) => report.counter_notices += 1,
            Some(AuditAction::ReportLegalAction) => report.legal_actions += 1,
            Some(AuditAction::ResolveLegalAction) if to == ClaimState::Deleted => {
                report.legal_actions_upheld += 1
            }
            Some(AuditAction::ResolveLegalAction) => report.legal_actions_dismissed += 1,
            Some(AuditAction::FileComplaint) => report.complaints += 1,
            Some(AuditAction::SuspendPrincipal) => report.suspensions += 1,
            Some(AuditAction::SuspendParty) => report.party_suspensions += 1,
            Some(AuditAction::ContributorRepeatInfringer) => report.repeat_infringers += 1,
            _ => {}
        }
        let first_action = claim.and_then(|c| c.first_action_time);
        if matches!(
            action,
            Some(
                AuditAction::StartReview
                    | AuditAction::RequestInformation
                    | AuditAction::DecideClaim
            )
        ) && first_action.is_some()
            && first_action == entry.time
            && self.first_actions_seen.insert(entry.claim_id.clone())
        {
            self.to_first_action.extend(since_receipt(at));
        }
        if entry.from_state != entry.to_state {
            let outcomes = &mut self.outcomes;
            match to {
                ClaimState::Corrected => outcomes.corrected += 1,
                ClaimState::Deleted => outcomes.deleted += 1,
                ClaimState::Rejected => outcomes.rejected += 1,
                ClaimState::Withdrawn => outcomes.withdrawn += 1,
                ClaimState::ClosedIncomplete => outcomes.closed_incomplete += 1,
                ClaimState::Restored => {
                    outcomes.restored += 1;
                    if claim.is_some_and(|c| c.counter_notice.is_some()) {
                        report.counter_notices_restored += 1;
                    }
                }
                _ => {}
            }
        }
    }

    /// The figures. The caller adds what the tally cannot know: the period's bounds
    /// and the log head the report rests on.
    pub fn finish(mut self) -> pb::TransparencyReport {
        self.to_decision.sort_unstable();
        self.to_first_action.sort_unstable();
        let report = &mut self.report;
        report.median_time_to_decision = proto_duration(quantile(&self.to_decision, 0.5));
        report.p90_time_to_decision = proto_duration(quantile(&self.to_decision, 0.9));
        report.median_time_to_first_action = proto_duration(quantile(&self.to_first_action, 0.5));
        report.p90_time_to_first_action = proto_duration(quantile(&self.to_first_action, 0.9));
        let mut counts: Vec<_> = self.notices.into_iter().collect();
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
        report.outcomes = Some(self.outcomes);
        report.complaint_decisions = Some(self.complaint_decisions);
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_705_309_200;

    fn at(secs: u64) -> Option<prost_types::Timestamp> {
        Some((SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).into())
    }

    fn entry(action: AuditAction, secs: u64, from: ClaimState, to: ClaimState) -> pb::AuditEntry {
        pb::AuditEntry {
            action: action.as_str().to_string(),
            time: at(secs),
            claim_id: "c-1".to_string(),
            from_state: from as i32,
            to_state: to as i32,
            ..Default::default()
        }
    }

    #[test]
    fn nearest_rank_quantiles() {
        let s: Vec<Duration> = (1..=10).map(Duration::from_secs).collect();
        assert_eq!(quantile(&s, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(quantile(&s, 0.9), Some(Duration::from_secs(9)));
        assert_eq!(quantile(&s[..1], 0.9), Some(Duration::from_secs(1)));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn a_period_is_half_open() {
        let p = Period {
            start: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(T0)),
            end: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 10)),
        };
        let e = |secs| {
            entry(
                AuditAction::FileClaim,
                secs,
                ClaimState::Unspecified,
                ClaimState::Received,
            )
        };
        assert!(!p.contains(&e(T0 - 1)));
        assert!(p.contains(&e(T0)));
        assert!(p.contains(&e(T0 + 9)));
        assert!(!p.contains(&e(T0 + 10)));
        assert!(Period::default().contains(&e(T0)));
        let mut timeless = e(T0);
        timeless.time = None;
        assert!(!Period::default().contains(&timeless));
    }

    #[test]
    fn one_claim_filed_reviewed_and_deleted() {
        use ClaimState::*;
        let claim = pb::Claim {
            regime: Regime::Dmca as i32,
            items: vec![Default::default(), Default::default()],
            create_time: at(T0),
            first_action_time: at(T0 + 60),
            ..Default::default()
        };
        let mut tally = TransparencyTally::new();
        tally.add(
            &entry(AuditAction::FileClaim, T0, Unspecified, Received),
            Some(&claim),
        );
        tally.add(
            &entry(AuditAction::StartReview, T0 + 60, Received, UnderReview),
            Some(&claim),
        );
        tally.add(
            &entry(AuditAction::DecideClaim, T0 + 600, UnderReview, Deleted),
            Some(&claim),
        );
        let mut unknown = entry(AuditAction::DecideClaim, T0 + 700, UnderReview, Rejected);
        unknown.action = "SomethingNew".to_string();
        tally.add(&unknown, Some(&claim));
        let report = tally.finish();
        assert_eq!(report.items_requested, 2);
        assert_eq!(report.notices.len(), 1);
        assert_eq!(report.notices[0].notices, 1);
        assert_eq!(report.decisions, 1);
        let outcomes = report.outcomes.expect("outcomes");
        assert_eq!(
            (outcomes.deleted, outcomes.rejected),
            (1, 1),
            "outcomes follow states"
        );
        assert_eq!(
            report.median_time_to_first_action,
            Some(prost_types::Duration {
                seconds: 60,
                nanos: 0
            })
        );
        assert_eq!(
            report.median_time_to_decision,
            Some(prost_types::Duration {
                seconds: 600,
                nanos: 0
            })
        );
    }
}
