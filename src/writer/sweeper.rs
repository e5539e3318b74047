//! The deadline sweeper: fires due timed transitions (no reply to a request for
//! information, a missed correction window, the end of a restoration period) through
//! the writer as the `system` actor. The writer re-checks each one against the claim
//! as it is at that moment, so a transition fires exactly once even when a person
//! acts on the claim at the same instant: whoever reaches the writer second is
//! refused. At start the first sweep catches up on whatever fell due while the
//! server was down. Each sweep also erases the personal data of parties whose last
//! claim closed longer ago than the policy's retention (`personal_data_retention`).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::commands::{ClaimTransition, ErasePersonalData};
use super::{WriteError, WriterHandle, instruments};
use crate::clock::Clock;
use crate::domain::commands::ExpireDeadline;
use crate::domain::{Actor, Command, DomainError};
use crate::store::Store;

/// Claims looked at per round of a sweep.
const ROUND: usize = 256;
/// The overdue gauge counts up to this many claims (a sweep reads at most this many
/// index keys for it).
const OVERDUE_CAP: usize = 100_000;

/// Fires due deadlines. Cheap to clone.
#[derive(Clone)]
pub struct Sweeper {
    store: Store,
    writer: WriterHandle,
    clock: Arc<dyn Clock>,
    retention: Duration,
    /// The close time up to which retention has looked (at start, from the beginning).
    retention_cursor: Arc<std::sync::Mutex<i64>>,
}

impl Sweeper {
    pub fn new(
        store: Store,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
        retention: Duration,
    ) -> Self {
        Self {
            store,
            writer,
            clock,
            retention,
            retention_cursor: Arc::default(),
        }
    }

    /// Erases the personal data of parties all of whose claims closed before the
    /// retention cutoff; returns how many parties it erased.
    pub async fn expire_personal_data(&self) -> Result<usize, WriteError> {
        let Some(vault) = self.store.vault() else {
            return Ok(0);
        };
        let now = prost_types::Timestamp::from(self.clock.now()).seconds;
        let cutoff = now.saturating_sub(self.retention.as_secs() as i64);
        let from = *self
            .retention_cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let closed = self.store.closed_claims(from, cutoff, ROUND)?;
        let mut erased = 0;
        let before_cutoff = |id: &uuid::Uuid| -> Result<bool, WriteError> {
            let Some(c) = self.store.sealed_claim(id)? else {
                return Ok(true);
            };
            let closed = crate::domain::transitions::Stage::of(&c).is_some_and(|s| s.is_terminal());
            Ok(closed && c.update_time.is_some_and(|t| t.seconds < cutoff))
        };
        for (_, id) in &closed {
            let Some(sealed) = self.store.sealed_claim(id)? else {
                continue;
            };
            for subject in crate::pdata::sealed_claim_subjects(&sealed) {
                if !vault.has(&subject) {
                    continue;
                }
                let mut all_old = true;
                for other in self.store.claims_of_subject(&subject)? {
                    all_old &= before_cutoff(&other)?;
                }
                if !all_old {
                    continue;
                }
                let command = ErasePersonalData {
                    subject,
                    label: format!("party {}", &hex::encode(subject)[..12]),
                    reason: format!(
                        "retention: {} after its last claim closed",
                        humantime::format_duration(self.retention)
                    ),
                    actor: "system".to_string(),
                };
                match self.writer.submit(command).await {
                    Ok(e) if e.erased_now => erased += 1,
                    Ok(_) => {}
                    Err(e @ WriteError::Stopped) => return Err(e),
                    Err(e) => tracing::warn!(error = %e, "retention could not erase a party yet"),
                }
            }
        }
        let mut cursor = self
            .retention_cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *cursor = match closed.last() {
            // More may follow in the same second: resume there.
            Some((secs, _)) if closed.len() == ROUND => *secs,
            _ => cutoff,
        };
        Ok(erased)
    }

    /// Fires every timed transition due now; returns how many fired.
    pub async fn sweep(&self) -> Result<usize, WriteError> {
        let now = prost_types::Timestamp::from(self.clock.now());
        self.record_clocks(now.seconds)?;
        // Due at or before this second; the domain checks the exact instant.
        let until = now.seconds.saturating_add(1);
        let mut fired = 0;
        let mut skipped = std::collections::HashSet::new();
        loop {
            let due: Vec<_> = self
                .store
                .due_timers(until, ROUND + skipped.len())?
                .into_iter()
                .filter(|id| !skipped.contains(id))
                .collect();
            if due.is_empty() {
                return Ok(fired);
            }
            // Submit the round together so that the writer commits it as a few groups.
            let mut round = JoinSet::new();
            for id in due {
                let writer = self.writer.clone();
                round.spawn(async move {
                    let command = ClaimTransition {
                        claim_id: id,
                        etag: String::new(),
                        command: Command::ExpireDeadline(ExpireDeadline),
                        actor: Actor::System,
                    };
                    (id, writer.submit(command).await)
                });
            }
            while let Some(joined) = round.join_next().await {
                let Ok((id, result)) = joined else { continue };
                match result {
                    Ok(changed) => {
                        fired += 1;
                        let to = instruments::state_label(changed.claim.state);
                        metrics::counter!("takedown_deadlines_fired_total", "to" => to)
                            .increment(1);
                    }
                    // Someone acted first, or the deadline is a few nanoseconds
                    // away: nothing to do now.
                    Err(WriteError::Domain(
                        DomainError::InvalidTransition { .. } | DomainError::NotDue,
                    )) => {
                        skipped.insert(id);
                    }
                    Err(e @ WriteError::Stopped) => return Err(e),
                    Err(e) => {
                        tracing::error!(claim_id = %id, error = %e, "deadline could not fire");
                        skipped.insert(id);
                    }
                }
            }
        }
    }

    /// Sets the gauges of the legal clocks: claims past a deadline, and how long the
    /// most overdue timed transition has waited (0 when none is due). A sweep that
    /// keeps up holds the lag near its interval.
    fn record_clocks(&self, now_secs: i64) -> Result<(), WriteError> {
        let overdue = self.store.count_overdue(now_secs, OVERDUE_CAP)?;
        metrics::gauge!("takedown_claims_overdue").set(overdue as f64);
        let lag = match self.store.oldest_due_timer(now_secs.saturating_add(1))? {
            Some(due) => now_secs.saturating_sub(due).max(0),
            None => 0,
        };
        metrics::gauge!("takedown_sweeper_lag_seconds").set(lag as f64);
        Ok(())
    }

    /// Sweeps now and then every `interval` until `stop` fires.
    pub async fn run(self, interval: Duration, mut stop: tokio::sync::oneshot::Receiver<()>) {
        loop {
            // While the writer refuses writes (a full disk, or a standby) every firing
            // would fail: the rounds wait, and fire what is due once it takes writes.
            if !self.writer.may_write() {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => continue,
                    _ = &mut stop => return,
                }
            }
            match self.sweep().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(fired = n, "deadlines fired"),
                Err(WriteError::Stopped) => return,
                Err(e) => tracing::error!(error = %e, "deadline sweep failed"),
            }
            match self.expire_personal_data().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(parties = n, "personal data erased after retention"),
                Err(WriteError::Stopped) => return,
                Err(e) => tracing::error!(error = %e, "retention sweep failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = &mut stop => return,
            }
        }
    }
}
