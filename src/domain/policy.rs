//! Deadline arithmetic: how long each step of the workflow may take, per regime. One
//! home for every duration so that a later policy file or flag changes them all here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::pb::Regime;

const DAY: Duration = Duration::from_secs(86_400);

/// The workflow's clocks. Defaults follow the law and practice cited in DESIGN.md.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Target time from receipt (or amendment) to a decision.
    pub review: Duration,
    /// Time the claimant has to answer a request for information.
    pub information_reply: Duration,
    /// Business days the publisher has to correct after a CORRECT decision.
    pub correction_business_days: u32,
    /// DMCA 512(g): business days after a counter-notice before restoration.
    pub dmca_restoration_business_days: u32,
    /// PRC Civil Code 1196 (E-Commerce Law Art. 43) and DSA: days after a
    /// counter-notice before restoration.
    pub restoration_days: Duration,
    /// Days (counted from 1970-01-01 UTC) that are not business days.
    pub holidays: Vec<i64>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            review: 2 * DAY,
            information_reply: 14 * DAY,
            correction_business_days: 1,
            dmca_restoration_business_days: 10,
            restoration_days: 15 * DAY,
            holidays: Vec::new(),
        }
    }
}

impl Policy {
    pub fn review_due(&self, now: SystemTime) -> SystemTime {
        now + self.review
    }

    pub fn information_reply_due(&self, now: SystemTime) -> SystemTime {
        now + self.information_reply
    }

    pub fn correction_due(&self, now: SystemTime) -> SystemTime {
        self.add_business_days(now, self.correction_business_days)
    }

    pub fn restoration_due(&self, regime: Regime, now: SystemTime) -> SystemTime {
        match regime {
            Regime::Dmca => self.add_business_days(now, self.dmca_restoration_business_days),
            _ => now + self.restoration_days,
        }
    }

    /// Moves `days` business days forward, at the same time of day, skipping
    /// Saturdays, Sundays and holidays (UTC).
    pub fn add_business_days(&self, from: SystemTime, days: u32) -> SystemTime {
        let mut t = from;
        let mut left = days;
        while left > 0 {
            t += DAY;
            if self.is_business_day(t) {
                left -= 1;
            }
        }
        t
    }

    pub fn is_business_day(&self, t: SystemTime) -> bool {
        let day = epoch_day(t);
        // 1970-01-01 was a Thursday: weekday 0 = Monday.
        let weekday = (day + 3).rem_euclid(7);
        weekday < 5 && !self.holidays.contains(&day)
    }
}

fn epoch_day(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() / 86_400) as i64,
        Err(e) => -((e.duration().as_secs().div_ceil(86_400)) as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u64, hour: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(day * 86_400 + hour * 3600)
    }

    #[test]
    fn friday_plus_one_business_day_is_monday() {
        // 2024-01-12 is a Friday: day 19734.
        let friday = at(19_734, 10);
        assert_eq!(
            Policy::default().add_business_days(friday, 1),
            at(19_737, 10)
        );
    }

    #[test]
    fn ten_business_days_span_two_weekends() {
        let monday = at(19_730, 9); // 2024-01-08
        assert_eq!(
            Policy::default().add_business_days(monday, 10),
            at(19_744, 9) // 2024-01-22, a Monday
        );
    }

    #[test]
    fn holidays_are_skipped() {
        let policy = Policy {
            holidays: vec![19_737],
            ..Policy::default()
        };
        assert_eq!(policy.add_business_days(at(19_734, 0), 1), at(19_738, 0));
    }
}
