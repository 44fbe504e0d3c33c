//! ISO 8601 weeks (Monday to Sunday, week 1 holds the year's first
//! Thursday) of the days the consent log records, and the window of weeks
//! the report shows.

use serde::Serialize;

/// Days since 1970-01-01, which was a Thursday.
pub type Day = i64;

/// One ISO week, known by its Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Week {
    /// The ISO week-numbering year (2027-01-01 is in 2026's week 53).
    pub year: i64,
    /// 1 to 53.
    pub number: i64,
    /// The week's Monday, in days since 1970-01-01.
    #[serde(skip)]
    pub monday: Day,
}

impl Week {
    /// The week `day` falls in.
    pub fn of(day: Day) -> Week {
        // 1970-01-01 was a Thursday: weekday 0 is Monday.
        let monday = day - (day + 3).rem_euclid(7);
        let thursday = monday + 3;
        let year = year_of(thursday);
        let number = (thursday - january_first(year)) / 7 + 1;
        Week {
            year,
            number,
            monday,
        }
    }

    /// The week after this one.
    pub fn next(self) -> Week {
        Week::of(self.monday + 7)
    }

    /// The Monday as `YYYY-MM-DD`.
    pub fn monday_date(self) -> String {
        let time = consent_extension::time::format(self.monday * 86_400);
        time.get(..10).unwrap_or(&time).to_owned()
    }
}

/// The day of a time written as the log writes it (`YYYY-MM-DDTHH:MM:SSZ`)
/// or any form `consent_extension::time::parse` reads; `None` if it reads
/// none.
pub fn day_of(time: &str) -> Option<Day> {
    consent_extension::time::parse(time).map(|t| t.div_euclid(86_400))
}

/// The weeks from `first` to `last`, at most `limit` of them, ending with
/// `last`; every week in between, even one without events.
pub fn window(first: Week, last: Week, limit: usize) -> Vec<Week> {
    let mut weeks = Vec::new();
    let mut week = first.max(Week::of(last.monday - 7 * (limit as i64 - 1).max(0)));
    while week <= last && weeks.len() < limit {
        weeks.push(week);
        week = week.next();
    }
    weeks
}

fn year_of(day: Day) -> i64 {
    let date = consent_extension::time::format(day * 86_400);
    // format() always starts with the year; before year 0 it cannot be a
    // log's time anyway.
    date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970)
}

fn january_first(year: i64) -> Day {
    consent_extension::time::parse(&format!("{year:04}-01-01"))
        .map(|t| t.div_euclid(86_400))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str) -> Day {
        day_of(date).expect("a date")
    }

    fn week(date: &str) -> (i64, i64) {
        let w = Week::of(day(date));
        (w.year, w.number)
    }

    #[test]
    fn iso_weeks_agree_with_the_calendar() {
        assert_eq!(week("2026-11-02"), (2026, 45)); // a Monday
        assert_eq!(week("2026-11-08"), (2026, 45)); // its Sunday
        assert_eq!(week("2026-11-09"), (2026, 46));
        assert_eq!(week("2026-11-29"), (2026, 48));
        assert_eq!(week("2026-12-31"), (2026, 53));
        assert_eq!(week("2027-01-01"), (2026, 53)); // a Friday
        assert_eq!(week("2027-01-04"), (2027, 1));
        assert_eq!(week("2024-12-30"), (2025, 1)); // a Monday in 2025's week 1
        assert_eq!(week("2021-01-03"), (2020, 53));
        assert_eq!(week("1970-01-01"), (1970, 1));
        assert_eq!(Week::of(day("2026-11-05")).monday_date(), "2026-11-02");
    }

    #[test]
    fn the_window_ends_with_the_last_week_and_keeps_empty_ones() {
        let first = Week::of(day("2026-09-01"));
        let last = Week::of(day("2026-11-29"));
        let weeks = window(first, last, 12);
        assert_eq!(weeks.len(), 12);
        assert_eq!(weeks.last().map(|w| w.number), Some(48));
        assert_eq!(weeks.first().map(|w| w.number), Some(37));
        assert!(weeks.windows(2).all(|p| p[1].monday - p[0].monday == 7));
        // Fewer weeks than the limit: all of them.
        let weeks = window(Week::of(day("2026-11-10")), last, 12);
        assert_eq!(
            weeks.iter().map(|w| w.number).collect::<Vec<_>>(),
            [46, 47, 48]
        );
        // Across the new year.
        let weeks = window(Week::of(day("2026-12-20")), Week::of(day("2027-01-05")), 12);
        assert_eq!(
            weeks.iter().map(|w| (w.year, w.number)).collect::<Vec<_>>(),
            [(2026, 51), (2026, 52), (2026, 53), (2027, 1)]
        );
    }
}
