//! The deadline sweeper: fires due timed transitions (no reply to a request for
//! information, a missed correction window, the end of a restoration period) through
//! the writer as the `system` actor. The writer re-checks each one against the claim
//! as it is at that moment, so a transition fires exactly once even when a person
//! acts on the claim at the same instant: whoever reaches the writer second is
//! refused. At start the first sweep catches up on whatever fell due while the
//! server was down.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::commands::ClaimTransition;
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
}

impl Sweeper {
    pub fn new(store: Store, writer: WriterHandle, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            writer,
            clock,
        }
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
            match self.sweep().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(fired = n, "deadlines fired"),
                Err(WriteError::Stopped) => return,
                Err(e) => tracing::error!(error = %e, "deadline sweep failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = &mut stop => return,
            }
        }
    }
}
