//! A periodic check of the journal while the server runs.
//!
//! Damage that happens under a running server (a failing disk, a stray write) would
//! otherwise show only when someone calls `VerifyAuditLog`, or at the next start.
//! Every interval, [`patrol`] re-verifies the newest segment (the one being written;
//! older ones were verified at start and are no longer written) up to the last
//! durable seq. On the first failure it logs an error, counts it in
//! `takedown_journal_verify_failures_total`, and returns the report, so that the
//! server can say NOT_SERVING.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;

use super::verify::{VerifyReport, verify, verify_newest_segment};

/// The counter of failed periodic checks.
pub const VERIFY_FAILURES: &str = "takedown_journal_verify_failures_total";

/// Re-verifies the newest segment of `dir` every `interval`, up to the seq `durable`
/// says is synced, until a check fails; returns that check's report. With a zero
/// interval the check is off and this returns `None` at once.
pub async fn patrol(
    dir: PathBuf,
    interval: Duration,
    durable: watch::Receiver<u64>,
) -> Option<VerifyReport> {
    if interval.is_zero() {
        return None;
    }
    // The series exists from the start, so that an alert on it has something to read.
    metrics::counter!(VERIFY_FAILURES).increment(0);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate; recovery has just verified
    loop {
        ticks.tick().await;
        let up_to = *durable.borrow();
        let segment_dir = dir.clone();
        let report =
            match tokio::task::spawn_blocking(move || verify_newest_segment(&segment_dir, up_to))
                .await
            {
                Ok(report) => report,
                Err(e) => {
                    tracing::warn!(error = %e, "the periodic journal check did not finish");
                    continue;
                }
            };
        if !report.ok {
            metrics::counter!(VERIFY_FAILURES).increment(1);
            tracing::error!(
                first_bad_seq = report.first_bad_seq,
                problem = %report.problem,
                "the journal's newest segment no longer verifies: health is now NOT_SERVING. \
                 Stop the server, keep a copy of the journal folder, and restore the damaged \
                 segment from backup; the next start names the damage"
            );
            return Some(report);
        }
        tracing::debug!(
            up_to_seq = up_to,
            entries = report.entries_checked,
            "the journal's newest segment verifies"
        );
    }
}

/// Verifies the whole journal up to `up_to_seq` once, in the background of a start:
/// recovery read only the newest segment (`Journal::recover_tail`), so damage in an
/// older one is found here. On failure it logs an error that names the damage, counts
/// it in `takedown_journal_verify_failures_total` and returns the report, so that the
/// server can say NOT_SERVING.
pub async fn check_at_start(dir: PathBuf, up_to_seq: u64) -> Option<VerifyReport> {
    metrics::counter!(VERIFY_FAILURES).increment(0);
    let started = std::time::Instant::now();
    let report = match tokio::task::spawn_blocking(move || verify(&dir, up_to_seq)).await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(error = %e, "the journal check after start did not finish");
            return None;
        }
    };
    if report.ok {
        tracing::info!(
            entries = report.entries_checked,
            secs = started.elapsed().as_secs_f64(),
            "the whole journal verifies"
        );
        return None;
    }
    metrics::counter!(VERIFY_FAILURES).increment(1);
    tracing::error!(
        first_bad_seq = report.first_bad_seq,
        problem = %report.problem,
        "the journal does not verify: health is now NOT_SERVING. Stop the server, keep a \
         copy of the journal folder, and restore the damaged segment from backup"
    );
    Some(report)
}
