//! The transparency figures (DSA Arts. 15 and 24, in the template of Implementing
//! Regulation (EU) 2024/2835) as a pure tally: fed the audit entries of a period in
//! seq order, each with the claim it names, it counts notices (by regime and source,
//! category and content type), decisions (by ground, automated), outcomes,
//! counter-notices, legal actions, complaints (by outcome) and suspensions (by whom
//! they hit), and the times to first action, to decision and to a complaint's
//! decision. The store reads the log and the claims; nothing here does I/O.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, SystemTime};

use super::audit_action::AuditAction;
use super::reasons;
use crate::pb::{
    self, AutomatedDecision, ClaimState, DecisionOutcome, NoticeSource, Regime, StatementCategory,
};

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
    by_category: BTreeMap<i32, u64>,
    by_content_type: BTreeMap<i32, u64>,
    by_ground: BTreeMap<i32, u64>,
    to_complaint_decision: Vec<Duration>,
    complaint_outcomes: pb::ComplaintOutcomes,
    suspensions_by_kind: pb::SuspensionCounts,
    // Principals that filed a notice at any time up to the head, and the principals
    // suspended in the period: told apart as notifiers or complainants at the end.
    filers: HashSet<String>,
    suspended_principals: Vec<String>,
}

/// The decision of `claim` taken at `at`: its current one, or one a complaint
/// replaced (kept in the complaint as `previous_decision`).
fn decision_at(claim: &pb::Claim, at: Option<prost_types::Timestamp>) -> Option<&pb::Decision> {
    claim
        .complaints
        .iter()
        .filter_map(|x| x.previous_decision.as_ref())
        .chain(claim.decision.as_ref())
        .find(|d| d.decide_time.is_some() && d.decide_time == at)
}

/// The principal a `SuspendPrincipal` entry names: its detail reads
/// "principal <id> suspended until ...".
fn suspended_principal(detail: &str) -> Option<&str> {
    detail.strip_prefix("principal ")?.split(' ').next()
}

impl TransparencyTally {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sees any entry up to the head, in the period or not: who filed notices, so
    /// that a suspended principal can be told apart as notifier or complainant.
    pub fn note(&mut self, entry: &pb::AuditEntry) {
        if AuditAction::parse(&entry.action) == Some(AuditAction::FileClaim) {
            self.filers.insert(entry.actor.clone());
        }
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
                    // The statement that decided the notice (the last decision, after
                    // any complaint); none yet: not specified.
                    let category = c
                        .decision
                        .as_ref()
                        .map(|d| {
                            let sor = d.statement_of_reasons.clone().unwrap_or_default();
                            reasons::normalized(&sor, c).category
                        })
                        .unwrap_or(StatementCategory::NotSpecifiedNotice as i32);
                    *self.by_category.entry(category).or_default() += 1;
                    for t in reasons::content_types(c) {
                        *self.by_content_type.entry(t as i32).or_default() += 1;
                    }
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
                            self.complaint_outcomes.reversed += 1;
                        } else {
                            self.complaint_outcomes.upheld += 1;
                        }
                        self.to_complaint_decision
                            .extend(time(x.file_time).and_then(|f| at.duration_since(f).ok()));
                    }
                    None => {
                        report.decisions += 1;
                        self.to_decision.extend(since_receipt(at));
                        if let Some((c, d)) =
                            claim.and_then(|c| Some((c, decision_at(c, entry.time)?)))
                        {
                            let sor = d.statement_of_reasons.clone().unwrap_or_default();
                            let sor = reasons::normalized(&sor, c);
                            *self.by_ground.entry(sor.decision_ground).or_default() += 1;
                            if sor.automated_decision != AutomatedDecision::NotAutomated as i32 {
                                report.automated_decisions += 1;
                            }
                        }
                    }
                }
            }
            Some(AuditAction::WithdrawClaim) => {
                // A complaint still open when the claim is withdrawn ends with it, at
                // the withdrawal's instant and without a new decision.
                let ended = claim.map_or(0, |c| {
                    c.complaints
                        .iter()
                        .filter(|x| x.resolve_time.is_some() && x.resolve_time == entry.time)
                        .count()
                });
                self.complaint_outcomes.withdrawn += ended as u64;
            }
            Some(AuditAction::FileCounterNotice) => report.counter_notices += 1,
            Some(AuditAction::ReportLegalAction) => report.legal_actions += 1,
            Some(AuditAction::ResolveLegalAction) if to == ClaimState::Deleted => {
                report.legal_actions_upheld += 1
            }
            Some(AuditAction::ResolveLegalAction) => report.legal_actions_dismissed += 1,
            Some(AuditAction::FileComplaint) => report.complaints += 1,
            Some(AuditAction::SuspendPrincipal) => {
                report.suspensions += 1;
                self.suspended_principals
                    .extend(suspended_principal(&entry.detail).map(str::to_string));
            }
            Some(AuditAction::SuspendParty) => {
                report.party_suspensions += 1;
                // The detail names the party as "notifier e-mail ..." or
                // "contributor ...".
                let kinds = &mut self.suspensions_by_kind;
                if entry.detail.starts_with("contributor ") {
                    kinds.contributors += 1;
                } else {
                    kinds.notifiers += 1;
                }
            }
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
        report.notices_by_category = self
            .by_category
            .into_iter()
            .map(|(category, count)| pb::CategoryCount { category, count })
            .collect();
        report.notices_by_content_type = self
            .by_content_type
            .into_iter()
            .map(|(content_type, count)| pb::ContentTypeCount {
                content_type,
                count,
            })
            .collect();
        report.decisions_by_ground = self
            .by_ground
            .into_iter()
            .map(|(decision_ground, count)| pb::GroundCount {
                decision_ground,
                count,
            })
            .collect();
        self.to_complaint_decision.sort_unstable();
        report.median_time_to_complaint_decision =
            proto_duration(quantile(&self.to_complaint_decision, 0.5));
        report.complaint_outcomes = Some(self.complaint_outcomes);
        let mut kinds = self.suspensions_by_kind;
        for id in &self.suspended_principals {
            if self.filers.contains(id) {
                kinds.notifiers += 1;
            } else {
                kinds.complainants += 1;
            }
        }
        report.suspensions_by_kind = Some(kinds);
        self.report
    }
}

#[cfg(test)]
#[path = "transparency_tests.rs"]
mod tests;
