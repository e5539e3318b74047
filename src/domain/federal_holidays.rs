//! The US federal holidays (5 U.S.C. 6103) that DMCA business days skip, as the
//! days they are observed on. Only the calendar lives here; the policy module
//! (`policy.rs`) counts business days with it.

use jiff::civil::{Date, Weekday};

/// Whether `day` is the day a federal holiday is observed on.
pub fn is_observed_holiday(day: Date) -> bool {
    // New Year's Day on a Saturday is observed on 31 December of the year before.
    observed(day.year()).contains(&day)
        || day
            .year()
            .checked_add(1)
            .is_some_and(|next| observed(next).contains(&day))
}

/// The days the federal holidays of `year` are observed on: a holiday on a Saturday
/// on the Friday before, one on a Sunday on the Monday after (Executive Order 11582).
pub fn observed(year: i16) -> Vec<Date> {
    let fixed = |month: i8, day: i8| {
        Date::new(year, month, day)
            .ok()
            .map(|d| match d.weekday() {
                Weekday::Saturday => d.yesterday().ok(),
                Weekday::Sunday => d.tomorrow().ok(),
                _ => Some(d),
            })?
    };
    // The `nth` `weekday` of `month` (negative: counted from the month's end).
    let nth = |month: i8, nth: i8, weekday: Weekday| {
        Date::new(year, month, 1)
            .ok()?
            .nth_weekday_of_month(nth, weekday)
            .ok()
    };
    [
        fixed(1, 1),                                    // New Year's Day
        nth(1, 3, Weekday::Monday),                     // Birthday of Martin Luther King, Jr.
        nth(2, 3, Weekday::Monday),                     // Washington's Birthday
        nth(5, -1, Weekday::Monday),                    // Memorial Day
        (year >= 2021).then(|| fixed(6, 19)).flatten(), // Juneteenth, since 2021
        fixed(7, 4),                                    // Independence Day
        nth(9, 1, Weekday::Monday),                     // Labor Day
        nth(10, 2, Weekday::Monday),                    // Columbus Day
        fixed(11, 11),                                  // Veterans Day
        nth(11, 4, Weekday::Thursday),                  // Thanksgiving Day
        fixed(12, 25),                                  // Christmas Day
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_2024_calendar() {
        assert_eq!(
            observed(2024),
            vec![
                date(2024, 1, 1),
                date(2024, 1, 15),
                date(2024, 2, 19),
                date(2024, 5, 27),
                date(2024, 6, 19),
                date(2024, 7, 4),
                date(2024, 9, 2),
                date(2024, 10, 14),
                date(2024, 11, 11),
                date(2024, 11, 28),
                date(2024, 12, 25),
            ]
        );
    }

    #[test]
    fn weekend_holidays_move_to_the_nearest_weekday() {
        // 2026-07-04 is a Saturday: observed Friday 3 July.
        assert!(is_observed_holiday(date(2026, 7, 3)));
        assert!(!is_observed_holiday(date(2026, 7, 4)));
        // 2023-01-01 was a Sunday: observed Monday 2 January.
        assert!(is_observed_holiday(date(2023, 1, 2)));
        // 2022-01-01 was a Saturday: observed Friday 31 December 2021.
        assert!(is_observed_holiday(date(2021, 12, 31)));
        // Juneteenth only from 2021.
        assert!(!is_observed_holiday(date(2020, 6, 19)));
        assert!(is_observed_holiday(date(2023, 6, 19)));
    }
}
