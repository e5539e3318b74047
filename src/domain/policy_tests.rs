use super::*;
use std::time::UNIX_EPOCH;

fn at(day: u64, hour: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(day * 86_400 + hour * 3600)
}

#[test]
fn dates_count_days_from_the_epoch() {
    assert_eq!(days_from_date("1970-01-01"), Some(0));
    assert_eq!(days_from_date("2024-01-12"), Some(19_734));
    assert_eq!(days_from_date("2024-03-01"), Some(19_783));
    assert_eq!(days_from_date("2024-02-30"), None);
}

#[test]
fn friday_plus_one_business_day_is_monday() {
    // 2024-01-12 is a Friday: day 19734.
    let friday = at(19_734, 10);
    assert_eq!(
        Policy::default().add_business_days(Regime::Dsa, friday, 1),
        at(19_737, 10)
    );
    // For DMCA that Monday is Martin Luther King Jr. Day: Tuesday.
    assert_eq!(
        Policy::default().add_business_days(Regime::Dmca, friday, 1),
        at(19_738, 10)
    );
}

#[test]
fn saturday_plus_one_business_day_is_monday() {
    assert_eq!(
        Policy::default().add_business_days(Regime::Dsa, at(19_735, 12), 1),
        at(19_737, 12)
    );
}

#[test]
fn ten_business_days_span_two_weekends() {
    let monday = at(19_730, 9); // 2024-01-08
    assert_eq!(
        Policy::default().add_business_days(Regime::Dsa, monday, 10),
        at(19_744, 9) // 2024-01-22, a Monday
    );
}

#[test]
fn holidays_are_skipped() {
    let policy = Policy {
        holidays: vec![19_737],
        ..Policy::default()
    };
    assert_eq!(
        policy.add_business_days(Regime::Dsa, at(19_734, 0), 1),
        at(19_738, 0)
    );
}

#[test]
fn defaults_follow_the_law() {
    let p = Policy::default();
    let now = at(19_730, 9); // Monday 2024-01-08 09:00
    assert_eq!(p.review_due(Regime::Dmca, false, now), now + 48 * HOUR);
    assert_eq!(p.review_due(Regime::Dsa, true, now), now + 24 * HOUR);
    assert_eq!(p.information_reply_due(Regime::Dsa, now), now + 14 * DAY);
    assert_eq!(p.correction_due(Regime::Dmca, now), at(19_731, 9));
    // Ten business days on the federal calendar: 2024-01-15 is Martin Luther King Jr.
    // Day, so Tuesday 2024-01-23.
    assert_eq!(p.restoration_due(Regime::Dmca, now), Some(at(19_745, 9)));
    assert_eq!(
        p.restoration_due(Regime::PrcCivilCode, now),
        Some(now + 15 * DAY)
    );
    assert_eq!(p.restoration_due(Regime::Dsa, now), None);
    let complaint = p.complaint_open_until(Regime::Dsa, now);
    assert!(complaint > now + 180 * DAY && complaint < now + 184 * DAY);
}

#[test]
fn timers_parse_durations_and_business_days() {
    assert_eq!(
        Timer::parse("30s"),
        Ok(Timer::After(Duration::from_secs(30)))
    );
    assert_eq!(Timer::parse("48h"), Ok(Timer::After(48 * HOUR)));
    assert_eq!(Timer::parse("1 business day"), Ok(Timer::BusinessDays(1)));
    assert_eq!(
        Timer::parse("10 business days"),
        Ok(Timer::BusinessDays(10))
    );
    assert!(Timer::parse("soon").is_err());
    assert!(Timer::parse("x business days").is_err());
}

#[test]
fn a_policy_file_overrides_defaults_per_regime() {
    let p = Policy::from_toml(
        r#"
        holidays = ["2024-01-15"]
        [default]
        review = "30s"
        [prc_civil_code]
        restoration = "2min"
        [dsa]
        restoration = "7days"
        "#,
    )
    .expect("valid policy");
    assert_eq!(p.dmca.review, Timer::After(Duration::from_secs(30)));
    assert_eq!(p.dsa.review, Timer::After(Duration::from_secs(30)));
    assert_eq!(
        p.prc_civil_code.restoration,
        Some(Timer::After(Duration::from_secs(120)))
    );
    // A regime table may give DSA a counter-notice period on purpose.
    assert_eq!(p.dsa.restoration, Some(Timer::After(7 * DAY)));
    assert_eq!(p.dmca.restoration, Some(Timer::BusinessDays(10)));
    assert_eq!(p.holidays, vec![19_737]);
}

#[test]
fn a_bad_policy_file_says_what_is_wrong() {
    let e = Policy::from_toml("[default]\nreview = \"soon\"").expect_err("bad duration");
    assert!(e.contains("Review") && e.contains("soon"), "{e}");
    assert!(Policy::from_toml("[dmca]\nreveiw = \"1h\"").is_err());
    assert!(Policy::from_toml("holidays = [\"2024-13-01\"]").is_err());
}

#[test]
fn a_flag_override_keeps_dsa_without_counter_notice() {
    let mut p = Policy::default();
    p.set_all(TimerName::Restoration, Timer::After(Duration::from_secs(5)));
    p.set_all(
        TimerName::CorrectionWindow,
        Timer::After(Duration::from_secs(5)),
    );
    assert_eq!(p.dsa.restoration, None);
    assert_eq!(
        p.dmca.restoration,
        Some(Timer::After(Duration::from_secs(5)))
    );
    assert_eq!(
        p.dsa.correction_window,
        Timer::After(Duration::from_secs(5))
    );
}

#[test]
fn a_policy_file_sets_the_repeat_infringer_rule() {
    assert_eq!(Policy::default().repeat_infringer.threshold, 3);
    assert_eq!(Policy::default().repeat_infringer.window, 365 * DAY);
    let p = Policy::from_toml(
        r#"
        repeat_infringer_threshold = 5
        repeat_infringer_window = "180days"
        "#,
    )
    .expect("valid");
    assert_eq!(p.repeat_infringer.threshold, 5);
    assert_eq!(p.repeat_infringer.window, 180 * DAY);
    let e = Policy::from_toml("repeat_infringer_threshold = 0").unwrap_err();
    assert!(e.contains("at least 1"), "{e}");
}

/// An instant written in RFC 3339, such as `2024-11-27T15:00:00Z`.
fn utc(text: &str) -> SystemTime {
    SystemTime::try_from(text.parse::<jiff::Timestamp>().expect("a timestamp")).expect("in range")
}

#[test]
fn dmca_business_days_skip_thanksgiving() {
    let p = Policy::default();
    // Wednesday 2024-11-27 10:00 in New York; Thursday 28 is Thanksgiving.
    let wednesday = utc("2024-11-27T15:00:00Z");
    assert_eq!(
        p.add_business_days(Regime::Dmca, wednesday, 1),
        utc("2024-11-29T15:00:00Z")
    );
    // Ten: Nov 29, Dec 2-6, Dec 9-12.
    assert_eq!(
        p.restoration_due(Regime::Dmca, wednesday),
        Some(utc("2024-12-12T15:00:00Z"))
    );
    // The EU has no Thanksgiving.
    assert_eq!(
        p.add_business_days(Regime::Dsa, wednesday, 1),
        utc("2024-11-28T15:00:00Z")
    );
}

#[test]
fn dmca_business_days_skip_an_observed_independence_day() {
    let p = Policy::default();
    // 2026-07-04 is a Saturday, observed on Friday 3 July.
    let thursday = utc("2026-07-02T16:00:00Z");
    assert_eq!(
        p.add_business_days(Regime::Dmca, thursday, 1),
        utc("2026-07-06T16:00:00Z")
    );
    assert!(!p.is_business_day(Regime::Dmca, utc("2026-07-03T16:00:00Z")));
    assert!(p.is_business_day(Regime::Dsa, utc("2026-07-03T16:00:00Z")));
}

#[test]
fn business_days_keep_the_wall_clock_across_daylight_saving_time() {
    let p = Policy::default();
    // Friday 2024-03-08 09:00 EST; clocks go forward on Sunday 10 March: Monday
    // 09:00 EDT is 71 hours later.
    let friday = utc("2024-03-08T14:00:00Z");
    let monday = p.add_business_days(Regime::Dmca, friday, 1);
    assert_eq!(monday, utc("2024-03-11T13:00:00Z"));
    assert_eq!(monday.duration_since(friday).unwrap(), 71 * HOUR);
    // Brussels goes forward on 2024-03-31: Friday 29 09:00 CET to Monday 1 April
    // 09:00 CEST (no built-in Easter Monday: add it to `holidays`).
    assert_eq!(
        p.add_business_days(Regime::Dsa, utc("2024-03-29T08:00:00Z"), 1),
        utc("2024-04-01T07:00:00Z")
    );
    // And back: New York leaves daylight saving time on 2024-11-03.
    assert_eq!(
        p.add_business_days(Regime::Dmca, utc("2024-11-01T13:00:00Z"), 1),
        utc("2024-11-04T14:00:00Z")
    );
}

#[test]
fn the_day_is_the_regime_zone_day() {
    let p = Policy::default();
    // Saturday 03:00 UTC is still Friday evening in New York, Saturday in Brussels
    // and Shanghai.
    let t = utc("2024-01-13T03:00:00Z");
    assert!(p.is_business_day(Regime::Dmca, t));
    assert!(!p.is_business_day(Regime::Dsa, t));
    assert!(!p.is_business_day(Regime::PrcCivilCode, t));
}

#[test]
fn the_default_zones_are_built_in() {
    let p = Policy::default();
    for (regime, name) in [
        (Regime::Dmca, "America/New_York"),
        (Regime::Dsa, "Europe/Brussels"),
        (Regime::PrcCivilCode, "Asia/Shanghai"),
    ] {
        assert_eq!(p.timers(regime).time_zone.iana_name(), Some(name));
    }
    assert!(p.dmca.federal_holidays);
    assert!(!p.dsa.federal_holidays && !p.prc_civil_code.federal_holidays);
}

#[test]
fn a_policy_file_sets_a_regime_time_zone() {
    let p = Policy::from_toml("[dsa]\ntime_zone = \"Europe/Dublin\"").expect("valid");
    assert_eq!(p.dsa.time_zone.iana_name(), Some("Europe/Dublin"));
    assert_eq!(p.dmca.time_zone.iana_name(), Some("America/New_York"));
    let e = Policy::from_toml("[dmca]\ntime_zone = \"America/New_Yrok\"").expect_err("bad zone");
    assert!(
        e.contains("[dmca] time_zone") && e.contains("America/New_Yrok"),
        "{e}"
    );
}

#[test]
fn the_dmca_restoration_window_is_ten_to_fourteen_business_days() {
    for ok in ["10 business days", "12 business days", "14 business days"] {
        let p = Policy::from_toml(&format!("[dmca]\nrestoration = \"{ok}\""));
        assert!(p.is_ok(), "{ok}: {p:?}");
    }
    for bad in ["9 business days", "15 business days", "14days", "30s"] {
        let e = Policy::from_toml(&format!("[dmca]\nrestoration = \"{bad}\"")).expect_err(bad);
        assert!(e.contains("512(g)(2)(C)") && e.contains(bad), "{bad}: {e}");
    }
    // [default] reaches DMCA too.
    let e = Policy::from_toml("[default]\nrestoration = \"5s\"").expect_err("5s");
    assert!(e.contains("512(g)(2)(C)"), "{e}");
    // The PRC period is not a DMCA window.
    assert!(Policy::from_toml("[prc_civil_code]\nrestoration = \"2min\"").is_ok());
    let mut p = Policy::default();
    p.set_all(TimerName::Restoration, Timer::BusinessDays(20));
    assert!(p.check().is_err());
}
