//! Conditional requests (RFC 9110 §13): validators, `If-None-Match`,
//! `If-Modified-Since` and `If-Range`, as pure functions over header bytes and the
//! resource's validators. No file, no clock: the page that has a file passes its
//! entity-tag and modification time in.
//!
//! The validators a file gets ([`Validators::of_file`]) are nginx's: a strong
//! `ETag: "<mtime secs hex>-<length hex>"` and `Last-Modified` (the same mtime).
//!
//! Evaluation order for GET and HEAD (§13.2.2, steps 3 and 4; we keep no
//! `If-Match`/`If-Unmodified-Since` state, so steps 1 and 2 do not arise):
//!
//! - `If-None-Match` decides when present: `*`, or a list of entity-tags compared
//!   **weakly** (§8.8.3.2: `W/"x"` matches `"x"`), a match means 304;
//! - only without it, `If-Modified-Since`: a modification time at or before the date
//!   means 304; a value that is not an HTTP-date is ignored (§13.1.3). It is only for
//!   GET and HEAD: other methods ignore it;
//! - then `If-Range` (§13.1.5), which only matters with a `Range`: an entity-tag
//!   matches by **strong** comparison (a weak tag never does), a date when it is exactly
//!   the `Last-Modified`. No match: the whole representation, not the range.

use crate::http::date::parse_http_date;
use crate::http::head::{Method, RequestHead};

/// What a conditional request is compared against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// The entity-tag, quotes included (`"6553f100-e"`, or `W/"…"` for a weak one).
    pub etag: String,
    /// The modification time, whole seconds since the epoch.
    pub mtime: u64,
}

impl Validators {
    /// A file's validators, as nginx makes them: `"<mtime hex>-<len hex>"`, strong.
    pub fn of_file(mtime: u64, len: u64) -> Validators {
        Validators {
            etag: format!("\"{mtime:x}-{len:x}\""),
            mtime,
        }
    }
}

/// How many field lines a request has with one name, and the value when one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// No field line with that name.
    Absent,
    /// Exactly one field line, with its value.
    One(&'a [u8]),
    /// Two or more field lines with that name.
    Several,
}

/// The field lines named `name` (ASCII case-insensitive), counted.
pub fn single_field<'a>(head: &RequestHead<'a>, name: &str) -> Field<'a> {
    let mut values = head
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v);
    match (values.next(), values.next()) {
        (None, _) => Field::Absent,
        (Some(v), None) => Field::One(v),
        (Some(_), Some(_)) => Field::Several,
    }
}

/// Whether the request's preconditions say the client's copy is current, so the
/// answer is 304 (RFC 9110 §13.2.2 for GET/HEAD; see the module docs). Always
/// `false` for other methods (a failed `If-None-Match` there would be a 412, which no
/// page of ours needs).
pub fn not_modified(head: &RequestHead<'_>, v: &Validators) -> bool {
    if !matches!(head.method, Method::Get | Method::Head) {
        return false;
    }
    let if_none_match = head
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("if-none-match"))
        .map(|(_, value)| value);
    let if_modified_since = head.header("if-modified-since");
    not_modified_by(if_none_match, if_modified_since, v)
}

/// [`not_modified`] over the field values themselves (every `If-None-Match` field
/// line, the first `If-Modified-Since`), for a GET or HEAD.
pub fn not_modified_by<'a>(
    if_none_match: impl IntoIterator<Item = &'a [u8]>,
    if_modified_since: Option<&[u8]>,
    v: &Validators,
) -> bool {
    let mut saw_if_none_match = false;
    for value in if_none_match {
        saw_if_none_match = true;
        if if_none_match_hits(value, v.etag.as_bytes()) {
            return true;
        }
    }
    if saw_if_none_match {
        return false;
    }
    match if_modified_since.and_then(parse_http_date) {
        Some(since) => v.mtime <= since,
        None => false,
    }
}

/// Whether an `If-None-Match` value matches `etag` by weak comparison.
///
/// ```text
/// If-None-Match = "*" / #entity-tag
/// entity-tag    = [ weak ] opaque-tag
/// weak          = %s"W/"
/// opaque-tag    = DQUOTE *etagc DQUOTE
/// etagc         = %x21 / %x23-7E / obs-text
/// ```
///
/// Empty list elements and OWS are skipped (RFC 9110 §5.6.1); at the first malformed
/// element the rest of the value is ignored (no match from it).
pub fn if_none_match_hits(value: &[u8], etag: &[u8]) -> bool {
    let ours = strip_weak(etag);
    let value = value.trim_ascii();
    if value == b"*" {
        return true;
    }
    let mut rest = value;
    loop {
        rest = rest.trim_ascii_start();
        while let Some(r) = rest.strip_prefix(b",") {
            rest = r.trim_ascii_start();
        }
        if rest.is_empty() {
            return false;
        }
        let after_weak = rest.strip_prefix(b"W/").unwrap_or(rest);
        let Some(inner) = after_weak.strip_prefix(b"\"") else {
            return false;
        };
        let Some(close) = inner.iter().position(|&b| b == b'"') else {
            return false;
        };
        if &after_weak[..close + 2] == ours {
            return true;
        }
        rest = &inner[close + 1..];
        let trimmed = rest.trim_ascii_start();
        if !trimmed.is_empty() && !trimmed.starts_with(b",") {
            return false;
        }
    }
}

fn strip_weak(tag: &[u8]) -> &[u8] {
    tag.strip_prefix(b"W/").unwrap_or(tag)
}

/// Whether `If-Range` lets a `Range` apply (RFC 9110 §13.1.5): absent, or it
/// matches the current representation. Several field lines never match.
pub fn if_range_allows(head: &RequestHead<'_>, v: &Validators) -> bool {
    match single_field(head, "if-range") {
        Field::Absent => true,
        Field::One(value) => if_range_matches(value, v),
        Field::Several => false,
    }
}

/// Whether one `If-Range` value matches:
///
/// ```text
/// If-Range = entity-tag / HTTP-date
/// ```
///
/// An entity-tag by strong comparison (§8.8.3.2: a weak tag never matches, ours
/// neither); a date when it is exactly the modification time. Anything else does not
/// match.
pub fn if_range_matches(value: &[u8], v: &Validators) -> bool {
    let value = value.trim_ascii();
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return !v.etag.starts_with("W/") && value == v.etag.as_bytes();
    }
    parse_http_date(value) == Some(v.mtime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::{HeadLimits, HeadParser};

    /// 2023-11-14T22:13:20Z, `6553f100` in hex; the file is 14 bytes.
    const MTIME: u64 = 1_700_000_000;
    const DATE: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

    fn validators() -> Validators {
        Validators::of_file(MTIME, 14)
    }

    #[test]
    fn file_etag_is_mtime_and_length_in_hex() {
        let v = validators();
        assert_eq!((v.etag.as_str(), v.mtime), ("\"6553f100-e\"", MTIME));
        assert_eq!(Validators::of_file(0, 0).etag, "\"0-0\"");
    }

    #[test]
    fn if_none_match_weak_comparison_and_lists() {
        let ours = b"\"6553f100-e\"";
        let cases: &[(&str, bool)] = &[
            ("\"6553f100-e\"", true),
            ("W/\"6553f100-e\"", true),
            ("*", true),
            (" * ", true),
            ("\"nope\", ,W/\"x,y\" ,\"6553f100-e\"", true),
            (",,\"6553f100-e\",", true),
            ("\"nope\"", false),
            ("6553f100-e", false), // not quoted
            ("\"6553f100-f\"", false),
            ("", false),
            ("W/", false),
            ("\"6553f100-e", false),               // no closing quote
            ("\"a\" junk, \"6553f100-e\"", false), // malformed: rest ignored
            ("w/\"6553f100-e\"", false),           // `W/` is case-sensitive
            ("*, \"a\"", false),                   // `*` stands alone
        ];
        for &(value, want) in cases {
            assert_eq!(
                if_none_match_hits(value.as_bytes(), ours),
                want,
                "{value:?}"
            );
        }
        // Our weak tag matches its strong twin, weakly.
        assert!(if_none_match_hits(b"\"x\"", b"W/\"x\""));
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let v = validators();
        let later = "Wed, 15 Nov 2023 00:00:00 GMT";
        // (If-None-Match lines, If-Modified-Since, 304?)
        let cases: &[(&[&str], Option<&str>, bool)] = &[
            (&[], None, false),
            (&[], Some(DATE), true),  // equal
            (&[], Some(later), true), // later
            (&[], Some("Tue, 14 Nov 2023 22:13:19 GMT"), false),
            (&[], Some("yesterday"), false), // not a date: ignored
            (&[], Some(""), false),
            (&["\"6553f100-e\""], None, true),
            (&["\"other\""], Some(later), false), // a miss overrides a hit by date
            (&["\"a\"", "\"6553f100-e\""], None, true), // every field line counts
            (&[""], Some(later), false),
        ];
        for &(inm, ims, want) in cases {
            let got = not_modified_by(inm.iter().map(|s| s.as_bytes()), ims.map(str::as_bytes), &v);
            assert_eq!(got, want, "{inm:?} {ims:?}");
        }
    }

    #[test]
    fn if_range_strong_comparison_or_exact_date() {
        let v = validators();
        let cases: &[(&str, bool)] = &[
            ("\"6553f100-e\"", true),
            (" \"6553f100-e\" ", true),
            (DATE, true),
            ("W/\"6553f100-e\"", false), // weak never matches strongly
            ("\"other\"", false),
            ("Tue, 14 Nov 2023 22:13:21 GMT", false), // not equal
            ("Tue, 14 Nov 2023 22:13:19 GMT", false),
            ("yesterday", false),
            ("", false),
        ];
        for &(value, want) in cases {
            assert_eq!(if_range_matches(value.as_bytes(), &v), want, "{value:?}");
        }
        // A weak validator of ours never matches either.
        let weak = Validators {
            etag: "W/\"x\"".into(),
            mtime: MTIME,
        };
        assert!(!if_range_matches(b"W/\"x\"", &weak));
    }

    /// Parses a request with these extra header lines.
    fn with_head(method: &str, fields: &str, check: impl FnOnce(&RequestHead<'_>)) {
        let text = format!("{method} /f HTTP/1.1\r\nHost: a\r\n{fields}\r\n");
        let mut p = HeadParser::new(HeadLimits::default());
        assert!(matches!(p.parse(text.as_bytes()), Ok(Some(_))), "{text:?}");
        check(&p.head(text.as_bytes()));
    }

    #[test]
    fn if_modified_since_only_for_get_and_head() {
        let v = validators();
        let ims = format!("If-Modified-Since: {DATE}\r\n");
        for (method, want) in [("GET", true), ("HEAD", true), ("POST", false)] {
            with_head(method, &ims, |h| {
                assert_eq!(not_modified(h, &v), want, "{method}");
            });
        }
        with_head("DELETE", "If-None-Match: *\r\n", |h| {
            assert!(!not_modified(h, &v));
        });
    }

    #[test]
    fn field_lines_are_counted() {
        let v = validators();
        with_head("GET", "", |h| {
            assert_eq!(single_field(h, "range"), Field::Absent);
            assert!(if_range_allows(h, &v));
        });
        with_head("GET", "range: bytes=0-1\r\n", |h| {
            assert_eq!(single_field(h, "Range"), Field::One(b"bytes=0-1"));
        });
        let two = "If-Range: \"6553f100-e\"\r\nIf-Range: \"6553f100-e\"\r\n";
        with_head("GET", two, |h| {
            assert_eq!(single_field(h, "if-range"), Field::Several);
            assert!(!if_range_allows(h, &v), "two If-Range lines never match");
        });
        with_head("GET", "If-Range: \"6553f100-e\"\r\n", |h| {
            assert!(if_range_allows(h, &v));
        });
    }
}
