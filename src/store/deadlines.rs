//! What the deadline indexes say about the desk's legal clocks, for the metrics an
//! operator alerts on: how many claims are past a deadline, and how late the oldest
//! timed transition is.

use super::{Store, StoreError, keyspace};

impl Store {
    /// How many claims have a deadline (review target, reply window, correction window
    /// or restoration period) due before `now_secs`, counting at most `cap`.
    pub fn count_overdue(&self, now_secs: i64, cap: usize) -> Result<usize, StoreError> {
        let start = vec![keyspace::CLAIM_BY_DEADLINE];
        let end = keyspace::claim_by_deadline_until(now_secs);
        let mut n = 0;
        for kv in self.db.range(start..end).take(cap) {
            kv?;
            n += 1;
        }
        Ok(n)
    }

    /// When the most overdue timed transition fell due (seconds since the epoch), if
    /// any is due before `now_secs`.
    pub fn oldest_due_timer(&self, now_secs: i64) -> Result<Option<i64>, StoreError> {
        let start = vec![keyspace::CLAIM_TIMER];
        let end = keyspace::claim_timer_until(now_secs);
        match self.db.range(start..end).next() {
            Some(kv) => {
                let (k, _) = kv?;
                Ok(keyspace::timer_due_secs(&k))
            }
            None => Ok(None),
        }
    }
}
