//! The writer's Prometheus series: group size, fsync latency, journal size, and the
//! claims-by-state gauge kept up to date from each committed entry's state change
//! (seeded from the state index at start by `telemetry::seed_gauges`). With no
//! metrics recorder installed these are no-ops.

use std::time::Duration;

use crate::pb;

/// The gauge label of a claim state: `RECEIVED`, `UNDER_REVIEW`, ...
pub fn state_label(state: i32) -> &'static str {
    pb::ClaimState::try_from(state)
        .map(|s| {
            let name = s.as_str_name();
            name.strip_prefix("CLAIM_STATE_").unwrap_or(name)
        })
        .unwrap_or("UNKNOWN")
}

/// Records one committed group.
pub fn group_committed(
    commands: usize,
    fsync: Duration,
    journal_bytes: u64,
    entries: &[pb::JournalEntry],
) {
    metrics::histogram!("takedown_writer_group_size").record(commands as f64);
    metrics::histogram!("takedown_writer_fsync_seconds").record(fsync.as_secs_f64());
    metrics::gauge!("takedown_journal_bytes").set(journal_bytes as f64);
    count_states(entries);
}

/// Moves the claims-by-state gauge by the state changes in `entries`.
fn count_states(entries: &[pb::JournalEntry]) {
    for audit in entries.iter().filter_map(|e| e.audit.as_ref()) {
        if audit.from_state == audit.to_state {
            continue;
        }
        if audit.from_state != pb::ClaimState::Unspecified as i32 {
            metrics::gauge!("takedown_claims", "state" => state_label(audit.from_state))
                .decrement(1.0);
        }
        if audit.to_state != pb::ClaimState::Unspecified as i32 {
            metrics::gauge!("takedown_claims", "state" => state_label(audit.to_state))
                .increment(1.0);
        }
    }
}

/// A standby appended `entries` from the replicated stream.
pub fn followed(entries: &[pb::JournalEntry], journal_bytes: u64) {
    metrics::counter!("takedown_replication_followed_entries_total")
        .increment(entries.len() as u64);
    count_states(entries);
    metrics::gauge!("takedown_journal_bytes").set(journal_bytes as f64);
}
