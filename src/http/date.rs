//! IMF-fixdate (RFC 9110 §5.6.7) for the `Date` header: `Sun, 06 Nov 1994 08:49:37 GMT`.
//!
//! # Theory of operation
//!
//! ```text
//! IMF-fixdate  = day-name "," SP date1 SP time-of-day SP GMT
//! day-name     = %s"Mon" / %s"Tue" / %s"Wed" / %s"Thu" / %s"Fri" / %s"Sat" / %s"Sun"
//! date1        = day SP month SP year          ; e.g., 02 Jun 1982
//! day          = 2DIGIT
//! month        = %s"Jan" / %s"Feb" / %s"Mar" / %s"Apr" / %s"May" / %s"Jun"
//!              / %s"Jul" / %s"Aug" / %s"Sep" / %s"Oct" / %s"Nov" / %s"Dec"
//! year         = 4DIGIT
//! GMT          = %s"GMT"
//! time-of-day  = hour ":" minute ":" second    ; 00:00:00 - 23:59:60 (leap second)
//! hour         = 2DIGIT
//! minute       = 2DIGIT
//! second       = 2DIGIT
//! ```
//!
//! The format is fixed-length (29 bytes) and case-sensitive (`%s"…"`), so formatting
//! writes digits into fixed positions of a `[u8; 29]`, and parsing checks the same
//! positions. Seconds since the Unix epoch become a civil date with Howard Hinnant's
//! `civil_from_days` / `days_from_civil` algorithms ("chrono-Compatible Low-Level
//! Date Algorithms"), exact for the proleptic Gregorian calendar, no tables, no
//! loops, no dependency.
//!
//! Nothing here reads the clock: the caller passes the time in. [`DateCache`] holds
//! the formatted `Date` value and reformats it only when the second changes, so a
//! server answering 100 000 requests a second formats the date once a second
//! (hyper does the same in `proto/h1/date.rs`).
//!
//! # Choices
//!
//! - **Years after 9999 are clamped.** `year = 4DIGIT` cannot write them; a time
//!   after [`MAX_UNIX_SECS`] (9999-12-31 23:59:59) is formatted as that instant.
//! - **Only IMF-fixdate is parsed.** RFC 9110 §5.6.7 says a recipient MUST also
//!   accept the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
//!   (`Sun Nov  6 08:49:37 1994`) forms. [`parse_http_date`] returns `None` for
//!   them. This is safe where we use it: §13.1.3 says an `If-Modified-Since` that
//!   is not a valid date is ignored, so such a client gets a full `200` instead of
//!   a `304`, which is always a correct answer. (RFC 850's two-digit year would
//!   also need "now" to be interpreted, §5.6.7.)
//! - **Parsing is strict.** Exactly 29 bytes (the header parser has already
//!   removed the surrounding whitespace), exact case, a day that exists in its
//!   month, hour ≤ 23, minute ≤ 59, and a day-name that matches the date: a
//!   `Mon` on a Sunday is not a valid date.
//! - **A leap second (`:60`) is read as `:59`.** The grammar allows it but Unix
//!   time has no leap seconds; rounding down is the safe side for
//!   `If-Modified-Since` (an earlier date can only make a `304` less likely).
//! - Dates before 1970 cannot be represented in `u64` seconds: `None`.

use crate::http::chars::DIGIT;

/// Length of an IMF-fixdate.
pub const IMF_FIXDATE_LEN: usize = 29;

/// The last instant an IMF-fixdate can write (`year = 4DIGIT`):
/// `Fri, 31 Dec 9999 23:59:59 GMT`. Later times are clamped to it.
pub const MAX_UNIX_SECS: u64 = 253_402_300_799;

const SECS_PER_DAY: u64 = 86_400;

/// Day names indexed by `days since the epoch + 4` modulo 7 (1970-01-01 was a Thursday).
const DAY_NAMES: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];

const MONTH_NAMES: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A civil (proleptic Gregorian) date and time of day, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: u64,
    /// 1..=12
    month: u64,
    /// 1..=31
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
    /// 0 = Sunday .. 6 = Saturday
    weekday: u64,
}

/// Hinnant's `civil_from_days`, for days ≥ 0 since 1970-01-01: `(year, month, day)`.
///
/// The count is shifted to start on 0000-03-01, so that the leap day is the last
/// day of the (March-based) year, then split into 400-year eras of 146 097 days.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z / 146_097;
    let doe = z - era * 146_097; // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of (March-based) year, [0, 365]
    let mp = (5 * doy + 2) / 153; // month, March = 0, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Hinnant's `days_from_civil`, for dates from 1970-01-01 on; `None` before it.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y / 400;
    let yoe = y - era * 400; // [0, 399]
    let mp = if month > 2 { month - 3 } else { month + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    (era * 146_097 + doe).checked_sub(719_468)
}

fn is_leap_year(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn civil_from_unix(unix_secs: u64) -> Civil {
    let secs = unix_secs.min(MAX_UNIX_SECS);
    let days = secs / SECS_PER_DAY;
    let rem = secs % SECS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        second: rem % 60,
        weekday: (days + 4) % 7,
    }
}

/// Format seconds since the Unix epoch as an IMF-fixdate.
///
/// Times after [`MAX_UNIX_SECS`] are clamped to it (see the module docs).
pub fn imf_fixdate(unix_secs: u64) -> [u8; IMF_FIXDATE_LEN] {
    let c = civil_from_unix(unix_secs);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[0..3].copy_from_slice(DAY_NAMES[c.weekday as usize]);
    two_digits(&mut out[5..7], c.day);
    out[8..11].copy_from_slice(MONTH_NAMES[(c.month - 1) as usize]);
    two_digits(&mut out[12..14], c.year / 100);
    two_digits(&mut out[14..16], c.year % 100);
    two_digits(&mut out[17..19], c.hour);
    two_digits(&mut out[20..22], c.minute);
    two_digits(&mut out[23..25], c.second);
    out
}

/// Format seconds since the Unix epoch as `2026-12-17 13:25:00` (UTC, no zone name:
/// the caller adds ` UTC` or a `T`/`Z` form as it needs). Clamped like [`imf_fixdate`].
pub fn utc_datetime(unix_secs: u64) -> String {
    let c = civil_from_unix(unix_secs);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

fn two_digits(out: &mut [u8], n: u64) {
    out[0] = b'0' + (n / 10 % 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

/// Parse an IMF-fixdate into seconds since the Unix epoch.
///
/// `None` for anything else: the obsolete RFC 850 and asctime forms, wrong case,
/// impossible dates, a day-name that does not match the date, dates before 1970
/// (see the module docs for why that is safe).
pub fn parse_http_date(input: &[u8]) -> Option<u64> {
    let s: &[u8; IMF_FIXDATE_LEN] = input.try_into().ok()?;
    // day-name "," SP date1 SP time-of-day SP GMT, at fixed positions:
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    //  0    5  8   12   17 20 23 26
    if &s[3..5] != b", "
        || s[7] != b' '
        || s[11] != b' '
        || s[16] != b' '
        || s[19] != b':'
        || s[22] != b':'
        || &s[25..] != b" GMT"
    {
        return None;
    }
    let weekday = DAY_NAMES.iter().position(|d| d[..] == s[0..3])? as u64;
    let month = MONTH_NAMES.iter().position(|m| m[..] == s[8..11])? as u64 + 1;
    let day = digits(&s[5..7])?;
    let year = digits(&s[12..16])?;
    let hour = digits(&s[17..19])?;
    let minute = digits(&s[20..22])?;
    let second = digits(&s[23..25])?;
    if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let second = second.min(59); // leap second, see the module docs
    let days = days_from_civil(year, month, day)?;
    if (days + 4) % 7 != weekday {
        return None;
    }
    Some(days * SECS_PER_DAY + hour * 3600 + minute * 60 + second)
}

/// `nDIGIT` as a number; `None` if any byte is not `DIGIT = %x30-39`.
fn digits(s: &[u8]) -> Option<u64> {
    s.iter().try_fold(0u64, |n, &b| {
        DIGIT[b as usize].then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// The `Date` header value, reformatted only when the second changes.
///
/// The I/O layer calls [`DateCache::update`] with the current time (once per event
/// loop turn is plenty); the response encoder copies [`DateCache::as_bytes`].
/// Before the first `update` it holds the epoch, `Thu, 01 Jan 1970 00:00:00 GMT`.
#[derive(Debug, Clone)]
pub struct DateCache {
    /// The second `formatted` was made from; `None` before the first update.
    secs: Option<u64>,
    formatted: [u8; IMF_FIXDATE_LEN],
}

impl DateCache {
    /// A cache holding the epoch until the first [`DateCache::update`].
    pub fn new() -> Self {
        DateCache {
            secs: None,
            formatted: imf_fixdate(0),
        }
    }

    /// Bring the cache to `unix_secs`. Returns whether the value was reformatted
    /// (the first call always reformats; later calls only when the second differs).
    pub fn update(&mut self, unix_secs: u64) -> bool {
        if self.secs == Some(unix_secs) {
            return false;
        }
        self.secs = Some(unix_secs);
        self.formatted = imf_fixdate(unix_secs);
        true
    }

    /// The current IMF-fixdate.
    pub fn as_bytes(&self) -> &[u8; IMF_FIXDATE_LEN] {
        &self.formatted
    }
}

impl Default for DateCache {
    fn default() -> Self {
        DateCache::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(secs: u64) -> String {
        String::from_utf8(imf_fixdate(secs).to_vec()).unwrap()
    }

    #[test]
    fn known_dates() {
        let cases: &[(u64, &str)] = &[
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"), // RFC 9110's example
            (86_399, "Thu, 01 Jan 1970 23:59:59 GMT"),
            (86_400, "Fri, 02 Jan 1970 00:00:00 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"), // 2000 is a leap year
            (951_868_800, "Wed, 01 Mar 2000 00:00:00 GMT"),
            (1_078_012_800, "Sun, 29 Feb 2004 00:00:00 GMT"),
            (4_107_456_000, "Sun, 28 Feb 2100 00:00:00 GMT"),
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"), // 2100 is not
            (951_868_799, "Tue, 29 Feb 2000 23:59:59 GMT"),
            (1_700_000_000, "Tue, 14 Nov 2023 22:13:20 GMT"),
            (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT"), // i32 max
            (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
            (4_294_967_295, "Sun, 07 Feb 2106 06:28:15 GMT"), // u32 max
            (946_684_799, "Fri, 31 Dec 1999 23:59:59 GMT"),
            (946_684_800, "Sat, 01 Jan 2000 00:00:00 GMT"),
            (MAX_UNIX_SECS, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for &(secs, text) in cases {
            assert_eq!(fmt(secs), text, "{secs}");
            assert_eq!(parse_http_date(text.as_bytes()), Some(secs), "{text}");
        }
    }

    #[test]
    fn clamped_after_year_9999() {
        assert_eq!(fmt(MAX_UNIX_SECS), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(fmt(MAX_UNIX_SECS + 1), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(fmt(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    /// Every day from 1970 to 2400 against a naive day-by-day calendar walk.
    #[test]
    fn every_day_against_a_naive_calendar() {
        let (mut y, mut m, mut d, mut wd) = (1970u64, 1u64, 1u64, 4u64);
        let mut days = 0u64;
        while y <= 2400 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            assert_eq!(days_from_civil(y, m, d), Some(days));
            let c = civil_from_unix(days * SECS_PER_DAY + 12 * 3600);
            assert_eq!((c.weekday, c.hour), (wd, 12));
            days += 1;
            wd = (wd + 1) % 7;
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn round_trip_many_values() {
        // A simple LCG covers the whole range; a stride covers times of day.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let secs = x % (MAX_UNIX_SECS + 1);
            assert_eq!(parse_http_date(&imf_fixdate(secs)), Some(secs), "{secs}");
        }
        for secs in (0..3 * SECS_PER_DAY).step_by(7) {
            assert_eq!(parse_http_date(&imf_fixdate(secs)), Some(secs));
        }
    }

    #[test]
    fn invalid_dates_rejected() {
        let bad: &[&str] = &[
            "",
            "Sun, 06 Nov 1994 08:49:37 GM",      // short
            "Sun, 06 Nov 1994 08:49:37 GMT ",    // trailing space
            " Sun, 06 Nov 1994 08:49:37 GMT",    // leading space
            "Sun, 06 Nov 1994 08:49:37 UTC",     // zone
            "sun, 06 Nov 1994 08:49:37 GMT",     // case-sensitive day-name
            "Sun, 06 nov 1994 08:49:37 GMT",     // case-sensitive month
            "Sun, 06 Nov 1994 08:49:37 gmt",     // case-sensitive GMT
            "Mon, 06 Nov 1994 08:49:37 GMT",     // wrong weekday
            "Sun, 6  Nov 1994 08:49:37 GMT",     // day not 2DIGIT
            "Sun, 06 Nov 1994 24:00:00 GMT",     // hour
            "Sun, 06 Nov 1994 08:60:00 GMT",     // minute
            "Sun, 06 Nov 1994 08:49:61 GMT",     // second
            "Sun, 06 Nov 1994 08:49:3x GMT",     // not a digit
            "Sun, 06 Nov 1994 08-49-37 GMT",     // separators
            "Sun,06 Nov 1994 08:49:37 GMT ",     // missing SP after comma
            "Sun, 06 Nov +994 08:49:37 GMT",     // sign in year
            "Thu, 00 Jan 1970 00:00:00 GMT",     // day 0
            "Tue, 29 Feb 2100 00:00:00 GMT",     // 2100 is not a leap year
            "Sun, 31 Apr 1994 00:00:00 GMT",     // April has 30 days
            "Sun, 32 Jan 1994 00:00:00 GMT",     // no 32nd
            "Wed, 31 Dec 1969 23:59:59 GMT",     // before the epoch
            "Sunday, 06-Nov-94 08:49:37 GMT",    // obsolete RFC 850
            "Sun Nov  6 08:49:37 1994",          // obsolete asctime
            "Sun, 06 Nov 1994 08:49:37 GMT\r\n", // not trimmed
        ];
        for text in bad {
            assert_eq!(parse_http_date(text.as_bytes()), None, "{text:?}");
        }
        // The valid neighbours of some of the above.
        assert_eq!(parse_http_date(b"Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert!(parse_http_date(b"Tue, 29 Feb 2000 00:00:00 GMT").is_some());
        assert!(parse_http_date(b"Sat, 30 Apr 1994 00:00:00 GMT").is_some());
        assert!(parse_http_date(b"Sun, 06 Nov 1994 23:59:59 GMT").is_some());
    }

    #[test]
    fn leap_second_reads_as_59() {
        assert_eq!(
            parse_http_date(b"Sat, 31 Dec 2016 23:59:60 GMT"),
            parse_http_date(b"Sat, 31 Dec 2016 23:59:59 GMT")
        );
        assert!(parse_http_date(b"Sat, 31 Dec 2016 23:59:59 GMT").is_some());
    }

    #[test]
    fn cache_reformats_once_per_second() {
        let mut cache = DateCache::new();
        assert_eq!(cache.as_bytes(), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert!(cache.update(0), "the first update always formats");
        assert!(!cache.update(0));
        assert!(cache.update(784_111_777));
        assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert!(!cache.update(784_111_777));
        assert!(!cache.update(784_111_777));
        assert!(cache.update(784_111_778));
        assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:49:38 GMT");
        // A clock stepping backwards is a change too.
        assert!(cache.update(784_111_777));
        assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn utc_datetime_reads_like_a_calendar() {
        assert_eq!(utc_datetime(0), "1970-01-01 00:00:00");
        assert_eq!(utc_datetime(1_797_513_900), "2026-12-17 13:25:00");
        assert_eq!(utc_datetime(951_782_400), "2000-02-29 00:00:00");
    }
}
