//! Time as customs writes and reads it: seconds since the epoch
//! (reproducible under `SOURCE_DATE_EPOCH`), RFC 3339 date-times as OSV and
//! in-toto write them, and calendar dates (`YYYY-MM-DD`) as exceptions and
//! block lists do.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch: `SOURCE_DATE_EPOCH` when set (reproducible
/// builds), the clock otherwise.
#[must_use]
pub fn timestamp() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
}

/// `2024-01-01T00:00:00Z` for seconds since the epoch.
#[must_use]
pub fn rfc3339(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Civil from days (Howard Hinnant's algorithm), for days since 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Nanoseconds since the Unix epoch (saturating outside the years 1678 to
/// 2261: the Go database writes `0001-01-01T00:00:00Z` for "unknown"), or
/// `None` when `text` is not an RFC 3339 date-time.
#[must_use]
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let kept = &fraction[..digits.min(9)];
        nanos = kept.parse::<i64>().ok()? * 10i64.pow(9 - u32::try_from(kept.len()).ok()?);
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(seconds.saturating_mul(1_000_000_000).saturating_add(nanos))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 of a calendar date `YYYY-MM-DD` (what exceptions
/// and VEX documents write for "until"), or `None` when it is not one.
#[must_use]
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
        .then(|| days_from_civil(year, month, day))
}

/// Whole days from an RFC 3339 time to `now` (seconds since the epoch):
/// an image's or a base's age. `None` when `time` is not RFC 3339.
#[must_use]
pub fn days_since(time: &str, now: i64) -> Option<i64> {
    parse_rfc3339(time).map(|ns| (now - ns.div_euclid(1_000_000_000)).div_euclid(86_400))
}

/// `YYYY-MM-DD` of a day number since 1970-01-01.
#[must_use]
pub fn format_date(days: i64) -> String {
    let seconds = u64::try_from(days.max(0)).unwrap_or(0) * 86_400;
    rfc3339(seconds)[..10].to_owned()
}

#[cfg(test)]
mod tests {

    #[test]
    fn formats_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn parses_what_osv_writes() {
        assert_eq!(super::parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            super::parse_rfc3339("2024-11-18T22:47:07.792720Z"),
            Some(1_731_970_027_792_720_000)
        );
        assert_eq!(
            super::parse_rfc3339("2024-11-18T22:47:07.79272Z"),
            super::parse_rfc3339("2024-11-18T22:47:07.792720000Z")
        );
        assert_eq!(
            super::parse_rfc3339("2024-11-18T23:47:07+01:00"),
            super::parse_rfc3339("2024-11-18T22:47:07Z")
        );
        assert!(super::parse_rfc3339("2002-08-12T04:00:00Z").unwrap() < 1_100_000_000_000_000_000);
        assert_eq!(super::parse_rfc3339("0001-01-01T00:00:00Z"), Some(i64::MIN));
        for bad in [
            "",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "९९९९-01-01T00:00:00Z",
        ] {
            assert_eq!(super::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(super::parse_date("1970-01-01"), Some(0));
        assert_eq!(super::parse_date("2024-02-29"), Some(19_782));
        assert_eq!(super::format_date(19_782), "2024-02-29");
        assert_eq!(
            super::days_since("2024-02-29T12:00:00Z", 19_783 * 86_400),
            Some(0)
        );
        assert_eq!(
            super::days_since("2024-02-28T00:00:00Z", 19_783 * 86_400),
            Some(2)
        );
        for bad in [
            "2023-02-29",
            "2024-1-01",
            "2024-01-01T00:00:00Z",
            "",
            "२०२४-01-01",
        ] {
            assert_eq!(super::parse_date(bad), None, "{bad}");
        }
    }
}
