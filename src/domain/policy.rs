//! Deadline arithmetic: how long each step of the workflow may take, per regime. One
//! home for every duration. Defaults follow the law and practice named in `docs/policy.md`;
//! a policy file (TOML) and flags override them, down to seconds, so that tests and
//! operators can shorten them. Business days are counted in each regime's time zone
//! with `jiff` and its bundled time zone database, so no system tzdata is needed.

use std::time::{Duration, SystemTime};

use jiff::civil::{Date, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::Deserialize;

use crate::pb::Regime;

const DAY: Duration = Duration::from_secs(86_400);
const HOUR: Duration = Duration::from_secs(3_600);

/// A span of time: a fixed duration, or a number of business days (same time of day
/// in the regime's time zone, skipping Saturdays, Sundays and holidays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    After(Duration),
    BusinessDays(u32),
}

impl Timer {
    /// Parses `"48h"`, `"14days"`, `"30s"`, `"6months"` (humantime) or
    /// `"1 business day"` / `"10 business days"`.
    pub fn parse(text: &str) -> Result<Timer, String> {
        let t = text.trim();
        let business = t
            .strip_suffix("business days")
            .or_else(|| t.strip_suffix("business day"));
        if let Some(n) = business {
            return n
                .trim()
                .parse::<u32>()
                .map(Timer::BusinessDays)
                .map_err(|_| {
                    format!("{text:?}: expected a whole number before \"business days\"")
                });
        }
        humantime::parse_duration(t).map(Timer::After).map_err(|e| {
            format!("{text:?} is not a duration ({e}); write e.g. \"48h\", \"14days\", \"30s\" or \"1 business day\"")
        })
    }
}

impl std::fmt::Display for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Timer::After(d) => write!(f, "{}", humantime::format_duration(*d)),
            Timer::BusinessDays(1) => write!(f, "1 business day"),
            Timer::BusinessDays(n) => write!(f, "{n} business days"),
        }
    }
}

/// The clocks of one regime.
#[derive(Debug, Clone, PartialEq)]
pub struct RegimeTimers {
    /// Target from receipt (or amendment) to a decision.
    pub review: Timer,
    /// The same for claims from trusted flaggers (DSA Art. 22).
    pub trusted_review: Timer,
    /// The claimant's time to answer a request for information; then CLOSED_INCOMPLETE.
    pub information_reply: Timer,
    /// The publisher's time to correct after a CORRECT decision; then DELETED.
    pub correction_window: Timer,
    /// From a counter-notice to restoration; `None` where the regime has no
    /// counter-notice (DSA: complaints instead).
    pub restoration: Option<Timer>,
    /// How long after a decision either party may complain (DSA Art. 20).
    pub complaint_window: Timer,
    /// The zone whose calendar days and time of day business days keep.
    pub time_zone: TimeZone,
    /// Whether the US federal holidays are not business days (DMCA).
    pub federal_holidays: bool,
}

/// The DMCA restoration window in business days (17 U.S.C. 512(g)(2)(C)): not less
/// than 10, not more than 14 after the counter-notice.
pub const DMCA_RESTORATION_BUSINESS_DAYS: std::ops::RangeInclusive<u32> = 10..=14;

/// A zone of the bundled database by its IANA name, or an error that says so.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZoneDatabase::bundled().get(name).map_err(|_| {
        format!("{name:?} is not a time zone; write an IANA name such as \"America/New_York\"")
    })
}

/// A built-in default zone. The names are fixed and the database is compiled in (a
/// unit test resolves each), so UTC stands in only if the bundle were broken.
fn builtin_zone(name: &str) -> TimeZone {
    time_zone(name).unwrap_or(TimeZone::UTC)
}

/// The workflow's clocks for every regime, and the holidays.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub dmca: RegimeTimers,
    pub dsa: RegimeTimers,
    pub prc_civil_code: RegimeTimers,
    /// Calendar dates (as days since 1970-01-01) that are not business days in any
    /// regime, beside weekends and, for DMCA, the federal holidays.
    pub holidays: Vec<i64>,
    /// DMCA 512(i): when a contributor counts as a repeat infringer.
    pub repeat_infringer: RepeatInfringer,
    /// How long a party's personal data is kept after the last claim it is part of
    /// closed (GDPR Art. 5(1)(e)); then the sweeper erases it.
    pub personal_data_retention: Duration,
    /// Statements of reasons the desk starts from (ReviewService.ListReasonTemplates).
    pub reason_templates: Vec<super::reasons::ReasonTemplate>,
}

/// A contributor with `threshold` contributions found infringing within `window` is a
/// repeat infringer: the log says so once, as the `CONTRIBUTOR_REPEAT_INFRINGER`
/// event, and the site decides on the account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RepeatInfringer {
    pub threshold: u32,
    pub window: Duration,
}

impl Default for RepeatInfringer {
    /// Three upheld claims within 365 days.
    fn default() -> Self {
        RepeatInfringer {
            threshold: 3,
            window: 365 * DAY,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        let base = RegimeTimers {
            review: Timer::After(48 * HOUR),
            trusted_review: Timer::After(24 * HOUR),
            information_reply: Timer::After(14 * DAY),
            correction_window: Timer::BusinessDays(1),
            restoration: None,
            complaint_window: Timer::After(Duration::from_secs(6 * 2_630_016)),
            time_zone: TimeZone::UTC,
            federal_holidays: false,
        };
        Self {
            // 17 U.S.C. 512(g)(2)(C): not less than 10 business days after the
            // counter-notice (and not more than 14), counted on the US federal
            // calendar where the Copyright Office sits.
            dmca: RegimeTimers {
                restoration: Some(Timer::BusinessDays(10)),
                time_zone: builtin_zone("America/New_York"),
                federal_holidays: true,
                ..base.clone()
            },
            dsa: RegimeTimers {
                time_zone: builtin_zone("Europe/Brussels"),
                ..base.clone()
            },
            // PRC Civil Code 1196 with E-Commerce Law Art. 43: 15 days.
            prc_civil_code: RegimeTimers {
                restoration: Some(Timer::After(15 * DAY)),
                time_zone: builtin_zone("Asia/Shanghai"),
                ..base
            },
            holidays: Vec::new(),
            repeat_infringer: RepeatInfringer::default(),
            // Three years after closing: the limitation period for copyright claims
            // in most of the regimes served (17 U.S.C. 507(b); PRC Civil Code 188).
            personal_data_retention: 3 * 365 * DAY,
            reason_templates: super::reasons::builtin_templates(),
        }
    }
}

/// Which timer a flag or file entry sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerName {
    Review,
    TrustedReview,
    InformationReply,
    CorrectionWindow,
    Restoration,
    ComplaintWindow,
}

impl Policy {
    pub fn timers(&self, regime: Regime) -> &RegimeTimers {
        match regime {
            Regime::Dsa => &self.dsa,
            Regime::PrcCivilCode => &self.prc_civil_code,
            _ => &self.dmca,
        }
    }

    fn timers_mut(&mut self) -> [&mut RegimeTimers; 3] {
        [&mut self.dmca, &mut self.dsa, &mut self.prc_civil_code]
    }

    /// Sets one timer for every regime (a command-line override). Restoration is set
    /// only where the regime has a counter-notice.
    pub fn set_all(&mut self, name: TimerName, timer: Timer) {
        for t in self.timers_mut() {
            set(t, name, timer, false);
        }
    }

    pub fn review_due(&self, regime: Regime, trusted: bool, now: SystemTime) -> SystemTime {
        let t = self.timers(regime);
        self.add(
            regime,
            now,
            if trusted { t.trusted_review } else { t.review },
        )
    }

    pub fn information_reply_due(&self, regime: Regime, now: SystemTime) -> SystemTime {
        self.add(regime, now, self.timers(regime).information_reply)
    }

    pub fn correction_due(&self, regime: Regime, now: SystemTime) -> SystemTime {
        self.add(regime, now, self.timers(regime).correction_window)
    }

    /// When content comes back after a counter-notice, or `None` if the regime has no
    /// counter-notice.
    pub fn restoration_due(&self, regime: Regime, now: SystemTime) -> Option<SystemTime> {
        self.timers(regime)
            .restoration
            .map(|t| self.add(regime, now, t))
    }

    /// The last moment a complaint against a decision made at `decided` is accepted.
    pub fn complaint_open_until(&self, regime: Regime, decided: SystemTime) -> SystemTime {
        self.add(regime, decided, self.timers(regime).complaint_window)
    }

    /// `timer` after `from`, for a claim under `regime`.
    pub fn add(&self, regime: Regime, from: SystemTime, timer: Timer) -> SystemTime {
        match timer {
            Timer::After(d) => from + d,
            Timer::BusinessDays(n) => self.add_business_days(regime, from, n),
        }
    }

    /// Moves `days` business days forward in `regime`'s time zone, at the same wall
    /// clock time (so a day across a change to or from daylight saving time is 23 or
    /// 25 hours long), skipping Saturdays, Sundays and holidays.
    pub fn add_business_days(&self, regime: Regime, from: SystemTime, days: u32) -> SystemTime {
        let zone = &self.timers(regime).time_zone;
        // A time jiff cannot hold (beyond the year 9999) gets calendar days.
        let Ok(start) = jiff::Timestamp::try_from(from).map(|t| t.to_zoned_datetime(zone.clone()))
        else {
            return from + days * DAY;
        };
        let mut date = start.date();
        let mut left = days;
        while left > 0 {
            let Ok(next) = date.tomorrow() else {
                return from + days * DAY;
            };
            date = next;
            if self.is_business_date(regime, date) {
                left -= 1;
            }
        }
        start
            .with()
            .date(date)
            .build()
            .ok()
            .and_then(|z| SystemTime::try_from(z.timestamp()).ok())
            .unwrap_or(from + days * DAY)
    }

    /// Whether `t` falls on a business day in `regime`'s time zone.
    pub fn is_business_day(&self, regime: Regime, t: SystemTime) -> bool {
        jiff::Timestamp::try_from(t).is_ok_and(|t| {
            let zone = self.timers(regime).time_zone.clone();
            self.is_business_date(regime, t.to_zoned_datetime(zone).date())
        })
    }

    fn is_business_date(&self, regime: Regime, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            && epoch_day(date).is_none_or(|d| !self.holidays.contains(&d))
            && !(self.timers(regime).federal_holidays
                && super::federal_holidays::is_observed_holiday(date))
    }

    /// Refuses a policy the law does not allow: a DMCA restoration window outside
    /// 10-14 business days (17 U.S.C. 512(g)(2)(C)). Run on every policy built from a
    /// file or flags.
    pub fn check(&self) -> Result<(), String> {
        match self.dmca.restoration {
            Some(Timer::BusinessDays(n)) if DMCA_RESTORATION_BUSINESS_DAYS.contains(&n) => Ok(()),
            other => Err(format!(
                "the DMCA restoration period is {}, but 17 U.S.C. 512(g)(2)(C) requires restoring \
                 the material not less than 10 and not more than 14 business days after the \
                 counter-notice; set restoration in the policy file's [dmca] table (or \
                 --restoration-period) to between \"10 business days\" and \"14 business days\"",
                other.map_or("none".to_string(), |t| format!("\"{t}\""))
            )),
        }
    }

    /// Reads a policy file over the defaults. See `docs/policy.md` for the format.
    pub fn from_toml(text: &str) -> Result<Policy, String> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut policy = Policy::default();
        for day in &file.holidays {
            policy.holidays.push(
                days_from_date(day)
                    .ok_or_else(|| format!("holidays: {day:?} is not a date; write YYYY-MM-DD"))?,
            );
        }
        if let Some(n) = file.repeat_infringer_threshold {
            if n == 0 {
                return Err("repeat_infringer_threshold: must be at least 1".to_string());
            }
            policy.repeat_infringer.threshold = n;
        }
        if let Some(w) = &file.repeat_infringer_window {
            policy.repeat_infringer.window = humantime::parse_duration(w)
                .map_err(|e| format!("repeat_infringer_window: {w:?}: {e}"))?;
        }
        if let Some(r) = &file.personal_data_retention {
            policy.personal_data_retention = humantime::parse_duration(r)
                .map_err(|e| format!("personal_data_retention: {r:?}: {e}"))?;
        }
        if !file.reason_templates.is_empty() {
            policy.reason_templates = Vec::new();
            for entry in &file.reason_templates {
                let template = entry.template()?;
                if policy.reason_templates.iter().any(|t| t.id == template.id) {
                    return Err(format!(
                        "reason_templates: id {:?} is used twice",
                        template.id
                    ));
                }
                policy.reason_templates.push(template);
            }
        }
        if let Some(all) = &file.default {
            for t in policy.timers_mut() {
                all.apply(t, "default", false)?;
            }
        }
        for (name, table, timers) in [
            ("dmca", &file.dmca, &mut policy.dmca),
            ("dsa", &file.dsa, &mut policy.dsa),
            (
                "prc_civil_code",
                &file.prc_civil_code,
                &mut policy.prc_civil_code,
            ),
        ] {
            if let Some(table) = table {
                table.apply(timers, name, true)?;
            }
        }
        policy.check()?;
        Ok(policy)
    }
}

fn set(t: &mut RegimeTimers, name: TimerName, timer: Timer, force_restoration: bool) {
    match name {
        TimerName::Review => t.review = timer,
        TimerName::TrustedReview => t.trusted_review = timer,
        TimerName::InformationReply => t.information_reply = timer,
        TimerName::CorrectionWindow => t.correction_window = timer,
        TimerName::Restoration if t.restoration.is_some() || force_restoration => {
            t.restoration = Some(timer)
        }
        TimerName::Restoration => {}
        TimerName::ComplaintWindow => t.complaint_window = timer,
    }
}

/// The policy file: `holidays`, a `[default]` table for every regime, and
/// `[dmca]`, `[dsa]`, `[prc_civil_code]` tables that override it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    holidays: Vec<String>,
    /// Contributions found infringing that make a repeat infringer.
    repeat_infringer_threshold: Option<u32>,
    /// Within how long (`365days`, `8760h`).
    repeat_infringer_window: Option<String>,
    /// How long personal data is kept after its last claim closed (`1095days`).
    personal_data_retention: Option<String>,
    /// Statements of reasons to start from; they replace the built-in ones.
    #[serde(default)]
    reason_templates: Vec<super::reasons::ReasonTemplateFile>,
    default: Option<TimersFile>,
    dmca: Option<TimersFile>,
    dsa: Option<TimersFile>,
    prc_civil_code: Option<TimersFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimersFile {
    review: Option<String>,
    trusted_review: Option<String>,
    information_reply: Option<String>,
    correction_window: Option<String>,
    restoration: Option<String>,
    complaint_window: Option<String>,
    /// An IANA time zone name: where business days are counted.
    time_zone: Option<String>,
}

impl TimersFile {
    fn apply(&self, t: &mut RegimeTimers, table: &str, regime_table: bool) -> Result<(), String> {
        for (name, value) in [
            (TimerName::Review, &self.review),
            (TimerName::TrustedReview, &self.trusted_review),
            (TimerName::InformationReply, &self.information_reply),
            (TimerName::CorrectionWindow, &self.correction_window),
            (TimerName::Restoration, &self.restoration),
            (TimerName::ComplaintWindow, &self.complaint_window),
        ] {
            if let Some(v) = value {
                let timer = Timer::parse(v).map_err(|e| format!("[{table}] {name:?}: {e}"))?;
                set(t, name, timer, regime_table);
            }
        }
        if let Some(name) = &self.time_zone {
            t.time_zone = time_zone(name).map_err(|e| format!("[{table}] time_zone: {e}"))?;
        }
        Ok(())
    }
}

/// 1970-01-01, the day holidays are counted from.
const EPOCH: Date = jiff::civil::date(1970, 1, 1);

/// Days since 1970-01-01 of `date`.
fn epoch_day(date: Date) -> Option<i64> {
    EPOCH
        .until(date)
        .ok()
        .map(|span| i64::from(span.get_days()))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn days_from_date(date: &str) -> Option<i64> {
    if !super::validation::is_date(date) {
        return None;
    }
    epoch_day(date.parse::<Date>().ok()?)
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
