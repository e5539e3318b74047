use super::*;

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
        Policy::default().add_business_days(friday, 1),
        at(19_737, 10)
    );
}

#[test]
fn saturday_plus_one_business_day_is_monday() {
    assert_eq!(
        Policy::default().add_business_days(at(19_735, 23), 1),
        at(19_737, 23)
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

#[test]
fn defaults_follow_the_law() {
    let p = Policy::default();
    let now = at(19_730, 9); // Monday 2024-01-08 09:00
    assert_eq!(p.review_due(Regime::Dmca, false, now), now + 48 * HOUR);
    assert_eq!(p.review_due(Regime::Dsa, true, now), now + 24 * HOUR);
    assert_eq!(p.information_reply_due(Regime::Dsa, now), now + 14 * DAY);
    assert_eq!(p.correction_due(Regime::Dmca, now), at(19_731, 9));
    assert_eq!(p.restoration_due(Regime::Dmca, now), Some(at(19_744, 9)));
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
