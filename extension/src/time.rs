//! The `at` argument: unix seconds or ISO-8601 in, one canonical UTC text
//! out. Times are stored as `YYYY-MM-DDTHH:MM:SSZ`, which a person can read
//! in the audit log and which sorts and compares as text.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since 1970-01-01T00:00:00Z.
pub type UnixSeconds = i64;

pub fn now() -> UnixSeconds {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// Formats as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(t: UnixSeconds) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses unix seconds (`1700000000`) or ISO-8601: `2026-11-29`,
/// `2026-11-29 09:30`, `2026-11-29T09:30:15`, with optional fractions
/// (ignored) and an optional `Z` or `+01:00`-style offset. No offset = UTC.
pub fn parse(text: &str) -> Option<UnixSeconds> {
    let s = text.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let mut rest = &b[10..];
    if let Some(&sep) = rest.first() {
        if sep != b'T' && sep != b't' && sep != b' ' {
            return None;
        }
        let hour = num(11, 2)?;
        let minute = num(14, 2)?;
        if b.get(13) != Some(&b':') || hour > 23 || minute > 59 {
            return None;
        }
        seconds += hour * 3600 + minute * 60;
        rest = &b[16..];
        if rest.first() == Some(&b':') {
            let second = num(17, 2)?;
            if second > 59 {
                return None;
            }
            seconds += second;
            rest = &b[19..];
            if rest.first() == Some(&b'.') {
                let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                rest = &rest[1 + digits..];
            }
        }
        match rest {
            [] | [b'Z'] | [b'z'] => {}
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let d = |c: u8| i64::from(c - b'0');
                let offset = (d(*h1) * 10 + d(*h2)) * 3600 + (d(*m1) * 10 + d(*m2)) * 60;
                seconds -= if *sign == b'+' { offset } else { -offset };
            }
            _ => return None,
        }
    }
    Some(seconds)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for t in [0, 1_700_000_000, 951_782_400, 4_102_444_800, -86_400] {
            assert_eq!(parse(&format(t)), Some(t), "{}", format(t));
        }
        assert_eq!(format(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn parses_the_documented_forms() {
        let t = 1_764_408_600; // 2025-11-29T09:30:00Z
        assert_eq!(parse("1764408600"), Some(t));
        assert_eq!(parse("2025-11-29T09:30:00Z"), Some(t));
        assert_eq!(parse("2025-11-29 09:30"), Some(t));
        assert_eq!(parse("2025-11-29T09:30:00.250"), Some(t));
        assert_eq!(parse("2025-11-29T10:30:00+01:00"), Some(t));
        assert_eq!(parse("2025-11-29T08:30:00-01:00"), Some(t));
        assert_eq!(parse("2025-11-29"), Some(t - 9 * 3600 - 1800));
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2025-13-01",
            "2025-02-30",
            "2025-11-29T25:00",
            "2025-11-29X",
            "2025-11-29T09:30:00+0100",
            "2025-11-29T09:30:00.",
            "२०२५-११-२९",
            "2025-11-29T09:60",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
