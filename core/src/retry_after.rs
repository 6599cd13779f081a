//! Reading a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as
//! milliseconds from now. Read here once so that Node, the browser and Python honour the same
//! servers alike (the hosts' own date parsers disagree: `Date.parse` takes almost anything,
//! Python's `parsedate` takes zones and sign-prefixed numbers).
//!
//! Accepted, with surrounding whitespace and in any letter case:
//! - seconds: digits, optionally with a fraction (`120`, `1.5`); no sign, exponent or `inf`;
//! - IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`
//!   (a two-digit year more than 50 years ahead is the century before, as RFC 9110 §5.6.7 says)
//!   and asctime `Sun Nov  6 08:49:37 1994`; `UTC`, `+0000` and `-0000` are taken for `GMT`
//!   (other zones are not HTTP's). The weekday must be a
//!   weekday's name but is not checked against the date (servers get it wrong; the date wins).
//!
//! Anything else is unreadable (`None`): the retry then uses its own backoff, as it would
//! without the header. A date in the past is 0: retry now.

const MS_PER_DAY: f64 = 86_400_000.0;
const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const LONG_DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// Milliseconds to wait from `now_epoch_ms` (the wall clock, ms since 1970), or `None` when the
/// value is not a Retry-After (or a date is given and `now_epoch_ms` is not finite).
pub fn parse(value: &str, now_epoch_ms: f64) -> Option<f64> {
    let v = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if is_decimal(v) {
        let ms = crate::decimal::parse(v)? * 1000.0;
        return ms.is_finite().then_some(ms);
    }
    let at = http_date(v, now_epoch_ms)?;
    Some((at - now_epoch_ms).max(0.0))
}

/// A header giving milliseconds as a decimal number: `retry-after-ms` (as OpenAI's and
/// Anthropic's servers send it), a client's deadline (`x-request-timeout`). Digits, optionally
/// with a fraction, with surrounding whitespace; no sign, exponent, `0x`, `_` or `inf`. `None`
/// when unreadable.
pub fn parse_ms(value: &str) -> Option<f64> {
    let v = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if !is_decimal(v) {
        return None;
    }
    crate::decimal::parse(v).filter(|ms| ms.is_finite())
}

/// `digits` or `digits.digits`.
fn is_decimal(v: &str) -> bool {
    let (int, frac) = v.split_once('.').unwrap_or((v, "1"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && digits(frac)
}

/// The epoch milliseconds of an HTTP-date in any of its three forms.
fn http_date(v: &str, now_epoch_ms: f64) -> Option<f64> {
    if !now_epoch_ms.is_finite() || v.len() > 64 {
        return None;
    }
    let mut words = v.split(' ').filter(|w| !w.is_empty());
    let first = words.next()?;
    let rest: Vec<&str> = words.collect();
    if let Some(day) = first.strip_suffix(',') {
        // IMF-fixdate or RFC 850: "<day>, DD Mon YYYY hh:mm:ss GMT" / "<day>, DD-Mon-YY hh:mm:ss GMT"
        weekday(day)?;
        let (date, time, zone) = match rest[..] {
            [d, m, y, t, z] => ([d, m, y], t, z),
            [dmy, t, z] => {
                let mut parts = dmy.split('-');
                let date = [parts.next()?, parts.next()?, parts.next()?];
                if parts.next().is_some() {
                    return None;
                }
                (date, t, z)
            }
            _ => return None,
        };
        if !["gmt", "utc", "+0000", "-0000"].iter().any(|z| zone.eq_ignore_ascii_case(z)) {
            return None;
        }
        let year = match date[2].len() {
            4 => number(date[2])?,
            2 => two_digit_year(number(date[2])?, now_epoch_ms),
            _ => return None,
        };
        let day = two_digits(date[0], false)?;
        epoch_ms(year, month(date[1])?, day, time)
    } else {
        // asctime: "<day> Mon D hh:mm:ss YYYY" (the day padded with a space or a zero)
        weekday(first)?;
        let [m, d, t, y] = rest[..] else { return None };
        if y.len() != 4 {
            return None;
        }
        epoch_ms(number(y)?, month(m)?, two_digits(d, true)?, t)
    }
}

fn weekday(name: &str) -> Option<()> {
    let known = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(name));
    (known(&DAYS) || known(&LONG_DAYS)).then_some(())
}

fn month(name: &str) -> Option<i64> {
    MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name)).map(|i| i as i64 + 1)
}

/// Only ASCII digits (at most 4: no sign, no overflow).
fn number(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A two-digit field; `one_ok` also takes a single digit (asctime's space-padded day).
fn two_digits(s: &str, one_ok: bool) -> Option<i64> {
    (s.len() == 2 || (one_ok && s.len() == 1)).then_some(())?;
    number(s)
}

fn two_digit_year(yy: i64, now_epoch_ms: f64) -> i64 {
    let this_year = civil_year((now_epoch_ms / MS_PER_DAY).floor() as i64);
    let year = this_year - this_year.rem_euclid(100) + yy;
    if year > this_year + 50 { year - 100 } else { year }
}

/// `hh:mm:ss` on the given day, as epoch milliseconds; `None` for a day or time that does not exist.
fn epoch_ms(year: i64, month: i64, day: i64, time: &str) -> Option<f64> {
    let mut hms = time.split(':');
    let (h, m, s) = (two_digits(hms.next()?, false)?, two_digits(hms.next()?, false)?, two_digits(hms.next()?, false)?);
    // 60 seconds: a leap second, as RFC 5322 allows.
    if hms.next().is_some() || h > 23 || m > 59 || s > 60 || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days as f64 * MS_PER_DAY + ((h * 60 + m) * 60 + s) as f64 * 1000.0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The year of a day counted from 1970-01-01 (the inverse of `days_from_civil`, year only).
fn civil_year(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    yoe + era * 400 + i64::from(mp >= 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-01T00:00:00Z
    const NOW: f64 = 1_796_083_200_000.0;

    #[test]
    fn seconds() {
        assert_eq!(parse("120", NOW), Some(120_000.0));
        assert_eq!(parse("  1.5\t", NOW), Some(1_500.0));
        assert_eq!(parse("0", NOW), Some(0.0));
        for bad in ["-1", "+1", "1e3", "inf", "NaN", "1.", ".5", "1 2", "", "0x10", "１"] {
            assert_eq!(parse(bad, NOW), None, "{bad:?}");
        }
        assert_eq!(parse(&"9".repeat(400), NOW), None, "beyond f64 is unreadable, not infinite");
    }

    #[test]
    fn the_three_date_forms_agree() {
        let epoch = 784_111_777_000.0; // 1994-11-06T08:49:37Z
        for v in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "sun, 06 NOV 1994 08:49:37 utc", "Sun, 06 Nov 1994 08:49:37 -0000"] {
            assert_eq!(http_date(v, NOW), Some(epoch), "{v:?}");
        }
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW), Some(0.0), "past: retry now");
        assert_eq!(parse("Tue, 01 Dec 2026 00:02:00 GMT", NOW), Some(120_000.0));
        assert_eq!(parse("Mon, 01 Dec 2026 00:02:00 GMT", NOW), Some(120_000.0), "the weekday is not checked");
    }

    #[test]
    fn two_digit_years_are_at_most_50_years_ahead() {
        assert_eq!(two_digit_year(76, NOW), 2076);
        assert_eq!(two_digit_year(77, NOW), 1977);
        assert_eq!(two_digit_year(26, NOW), 2026);
        assert_eq!(two_digit_year(0, NOW), 2000);
    }

    #[test]
    fn days_that_do_not_exist_are_unreadable() {
        for bad in [
            "Thu, 29 Feb 2027 00:00:00 GMT",
            "Thu, 31 Apr 2027 00:00:00 GMT",
            "Thu, 00 Apr 2027 00:00:00 GMT",
            "Thu, 01 Apr 2027 24:00:00 GMT",
            "Thu, 01 Apr 2027 23:60:00 GMT",
            "Thu, 01 Apr 2027 23:00:61 GMT",
            "Thu, 01 Apr 2027 23:00:00 +0100",
            "Thu, 01 Apr 2027 23:00 GMT",
            "Thu, 01 Foo 2027 23:00:00 GMT",
            "Xyz, 01 Apr 2027 23:00:00 GMT",
            "Thu, 1 Apr 2027 23:00:00 GMT",
            "Thu, 01-Apr-2027-1 23:00:00 GMT",
            "Thu Apr 1 23:00:00 27",
            "2027-04-01T23:00:00Z",
            "tomorrow",
        ] {
            assert_eq!(parse(bad, NOW), None, "{bad:?}");
        }
        assert!(parse("Tue, 29 Feb 2028 00:00:00 GMT", NOW).is_some(), "a leap day");
        assert!(parse("Thu, 01 Apr 2027 23:59:60 GMT", NOW).is_some(), "a leap second");
        assert_eq!(parse("Tue, 01 Dec 2026 00:02:00 GMT", f64::NAN), None);
    }

    #[test]
    fn civil_days_round_trip() {
        for days in [-1_000_000, -719_468, -1, 0, 1, 59, 365, 10_957, 20_788, 2_000_000] {
            let y = civil_year(days);
            assert!(days_from_civil(y, 1, 1) <= days && days < days_from_civil(y + 1, 1, 1), "{days}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 12, 1), 20_788);
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        for (year, feb) in [(1900, 28), (2000, 29), (2024, 29), (2026, 28), (2100, 28), (2400, 29)] {
            assert_eq!(days_in_month(year, 2), feb, "{year}");
        }
        assert_eq!([1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(|m| days_in_month(2026, m)), [31, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
        assert_eq!(parse("Thu, 29 Feb 1900 00:00:00 GMT", NOW), None);
        assert_eq!(http_date("Tue, 29 Feb 2000 00:00:00 GMT", NOW), Some(951_782_400_000.0));
        // The year of each day, at the edges of years, leap days and centuries.
        for (y, m, d) in [(1970, 1, 1), (1969, 12, 31), (2000, 2, 29), (2000, 3, 1), (2000, 12, 31), (1900, 3, 1), (2100, 2, 28), (2400, 12, 31), (1600, 1, 1), (2026, 12, 1), (2100, 3, 1), (2250, 7, 4), (2399, 12, 31)] {
            assert_eq!(civil_year(days_from_civil(y, m, d)), y, "{y}-{m}-{d}");
            assert_eq!(civil_year(days_from_civil(y, m, d) - 1), if (m, d) == (1, 1) { y - 1 } else { y }, "the day before {y}-{m}-{d}");
        }
    }

    #[test]
    fn fields_are_short_digit_strings_and_dates_short_lines() {
        assert_eq!([number("0042"), number("7"), number(""), number("12345"), number("1a"), number("-1")], [Some(42), Some(7), None, None, None, None]);
        assert_eq!([two_digits("07", false), two_digits("7", false), two_digits("7", true), two_digits("007", true)], [Some(7), None, Some(7), None]);
        // Extra spaces between the words are allowed, up to 64 characters in all.
        let spaced = |n: usize| format!("Sun, 06 Nov 1994 08:49:37{}GMT", " ".repeat(n));
        assert_eq!(spaced(36).len(), 64);
        assert_eq!(http_date(&spaced(36), NOW), Some(784_111_777_000.0));
        assert_eq!(http_date(&spaced(37), NOW), None);
    }
}
