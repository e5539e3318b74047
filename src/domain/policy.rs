//! Deadline arithmetic: how long each step of the workflow may take, per regime. One
//! home for every duration. Defaults follow the law and practice named in `docs/policy.md`;
//! a policy file (TOML) and flags override them, down to seconds, so that tests and
//! operators can shorten them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::pb::Regime;

const DAY: Duration = Duration::from_secs(86_400);
const HOUR: Duration = Duration::from_secs(3_600);

/// A span of time: a fixed duration, or a number of business days (same time of day,
/// skipping Saturdays, Sundays and holidays, UTC).
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
}

/// The workflow's clocks for every regime, and the holidays.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub dmca: RegimeTimers,
    pub dsa: RegimeTimers,
    pub prc_civil_code: RegimeTimers,
    /// Days (counted from 1970-01-01 UTC) that are not business days.
    pub holidays: Vec<i64>,
    /// DMCA 512(i): when a contributor counts as a repeat infringer.
    pub repeat_infringer: RepeatInfringer,
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
        };
        Self {
            // 17 U.S.C. 512(g)(2)(C): not less than 10 business days after the
            // counter-notice (and not more than 14).
            dmca: RegimeTimers {
                restoration: Some(Timer::BusinessDays(10)),
                ..base.clone()
            },
            dsa: base.clone(),
            // PRC Civil Code 1196 with E-Commerce Law Art. 43: 15 days.
            prc_civil_code: RegimeTimers {
                restoration: Some(Timer::After(15 * DAY)),
                ..base
            },
            holidays: Vec::new(),
            repeat_infringer: RepeatInfringer::default(),
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
        self.add(now, if trusted { t.trusted_review } else { t.review })
    }

    pub fn information_reply_due(&self, regime: Regime, now: SystemTime) -> SystemTime {
        self.add(now, self.timers(regime).information_reply)
    }

    pub fn correction_due(&self, regime: Regime, now: SystemTime) -> SystemTime {
        self.add(now, self.timers(regime).correction_window)
    }

    /// When content comes back after a counter-notice, or `None` if the regime has no
    /// counter-notice.
    pub fn restoration_due(&self, regime: Regime, now: SystemTime) -> Option<SystemTime> {
        self.timers(regime).restoration.map(|t| self.add(now, t))
    }

    /// The last moment a complaint against a decision made at `decided` is accepted.
    pub fn complaint_open_until(&self, regime: Regime, decided: SystemTime) -> SystemTime {
        self.add(decided, self.timers(regime).complaint_window)
    }

    pub fn add(&self, from: SystemTime, timer: Timer) -> SystemTime {
        match timer {
            Timer::After(d) => from + d,
            Timer::BusinessDays(n) => self.add_business_days(from, n),
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
        for (table, timers) in [
            (&file.dmca, &mut policy.dmca),
            (&file.dsa, &mut policy.dsa),
            (&file.prc_civil_code, &mut policy.prc_civil_code),
        ] {
            if let Some(table) = table {
                table.apply(timers, "regime", true)?;
            }
        }
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
        Ok(())
    }
}

fn epoch_day(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() / 86_400) as i64,
        Err(e) => -(e.duration().as_secs().div_ceil(86_400) as i64),
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (Howard Hinnant's days_from_civil).
pub fn days_from_date(date: &str) -> Option<i64> {
    if !super::validation::is_date(date) {
        return None;
    }
    let y: i64 = date.get(0..4)?.parse().ok()?;
    let m: i64 = date.get(5..7)?.parse().ok()?;
    let d: i64 = date.get(8..10)?.parse().ok()?;
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
