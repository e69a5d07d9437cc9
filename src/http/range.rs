//! Range requests (RFC 9110 §14): what a `Range: bytes=…` field selects of a
//! representation of some length, as a pure function over the header bytes.
//!
//! Outcomes ([`ByteRange`]):
//!
//! - one satisfiable `bytes` range → [`ByteRange::Slice`]: 206 with
//!   `Content-Range: bytes a-b/len` (a last-pos past the end is clamped to it);
//! - one unsatisfiable range (first-pos at or past the end, or `bytes=-0`) →
//!   [`ByteRange::Unsatisfiable`]: 416 with `Content-Range: bytes */len`;
//! - a `Range` that does not parse, another unit than `bytes`, more than one `Range`
//!   field line, or several ranges (`bytes=0-1,5-6`: `multipart/byteranges` is not
//!   implemented) → [`ByteRange::Whole`]: 200 with everything. Ignoring a `Range` is
//!   always allowed (§14.2);
//! - an empty representation has no byte to select: a suffix range (`bytes=-n`,
//!   n > 0) gets the whole (empty) thing, an int-range is unsatisfiable (§14.1.1).
//!
//! `If-Range` is the caller's ([`crate::http::conditional::if_range_allows`]): when it
//! does not match, the caller asks for no range at all.

use crate::http::chars::DIGIT;
use crate::http::conditional::{Field, single_field};
use crate::http::head::RequestHead;

/// What a `Range` field asks of a representation of some length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No usable range: send the whole representation (200).
    Whole,
    /// Bytes `first..=last` (206).
    Slice {
        /// Offset of the first byte sent, from 0.
        first: u64,
        /// Offset of the last byte sent, inclusive (`< len`).
        last: u64,
    },
    /// A single range with no byte in the representation (416).
    Unsatisfiable,
}

impl ByteRange {
    /// The `Content-Range` value for this outcome in a representation of `len` bytes
    /// (`None` for [`ByteRange::Whole`]).
    pub fn content_range(self, len: u64) -> Option<String> {
        match self {
            ByteRange::Whole => None,
            ByteRange::Slice { first, last } => Some(format!("bytes {first}-{last}/{len}")),
            ByteRange::Unsatisfiable => Some(format!("bytes */{len}")),
        }
    }
}

/// The range the request's `Range` field selects of `len` bytes; more than one
/// `Range` field line is ignored.
pub fn requested(head: &RequestHead<'_>, len: u64) -> ByteRange {
    match single_field(head, "range") {
        Field::One(value) => byte_range(value, len),
        Field::Absent | Field::Several => ByteRange::Whole,
    }
}

/// The range a `Range` value selects in a representation of `len` bytes (RFC 9110
/// §14.1.1, §14.2).
///
/// ```text
/// Range            = ranges-specifier
/// ranges-specifier = range-unit "=" range-set
/// range-unit       = token                          ; case-insensitive
/// range-set        = 1#range-spec
/// range-spec       = int-range / suffix-range / other-range
/// int-range        = first-pos "-" [ last-pos ]
/// suffix-range     = "-" suffix-length
/// first-pos = last-pos = suffix-length = 1*DIGIT
/// ```
///
/// List elements are separated by `,` with OWS, and empty elements are skipped
/// (§5.6.1). Only one `bytes` range-spec is honoured; anything else is ignored
/// ([`ByteRange::Whole`]). Numbers too large for `u64` saturate: a first-pos that
/// large is past any end, a last-pos or suffix-length that large means "to the end".
pub fn byte_range(value: &[u8], len: u64) -> ByteRange {
    let value = value.trim_ascii();
    let Some(eq) = value.iter().position(|&b| b == b'=') else {
        return ByteRange::Whole;
    };
    if !value[..eq].eq_ignore_ascii_case(b"bytes") {
        return ByteRange::Whole;
    }
    let mut specs = value[eq + 1..]
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|s| !s.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        // None, or several: multipart/byteranges is not implemented.
        return ByteRange::Whole;
    };
    let Some(dash) = spec.iter().position(|&b| b == b'-') else {
        return ByteRange::Whole;
    };
    let (first, last) = (&spec[..dash], &spec[dash + 1..]);
    if first.is_empty() {
        // suffix-range: the last n bytes.
        let Some(n) = digits(last) else {
            return ByteRange::Whole;
        };
        if n == 0 {
            return ByteRange::Unsatisfiable;
        }
        if len == 0 {
            return ByteRange::Whole;
        }
        return ByteRange::Slice {
            first: len - n.min(len),
            last: len - 1,
        };
    }
    let Some(first) = digits(first) else {
        return ByteRange::Whole;
    };
    let last = if last.is_empty() {
        u64::MAX
    } else {
        match digits(last) {
            Some(last) if last >= first => last,
            // Not a number, or last-pos < first-pos: invalid, so ignored.
            _ => return ByteRange::Whole,
        }
    };
    if first >= len {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Slice {
        first,
        last: last.min(len - 1),
    }
}

/// `1*DIGIT` as a number, saturating at `u64::MAX`.
fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(|&b| DIGIT[b as usize]) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::ByteRange::*;
    use super::*;

    const fn s(first: u64, last: u64) -> ByteRange {
        Slice { first, last }
    }

    #[test]
    fn byte_range_table() {
        // (value, length, outcome)
        let cases: &[(&str, u64, ByteRange)] = &[
            ("bytes=0-0", 10, s(0, 0)),
            ("bytes=0-4", 10, s(0, 4)),
            ("bytes=5-", 10, s(5, 9)),
            ("bytes=9-9", 10, s(9, 9)),
            ("bytes=-3", 10, s(7, 9)),
            ("bytes=-10", 10, s(0, 9)),
            ("bytes=-30", 10, s(0, 9)),
            ("bytes=0-999999", 10, s(0, 9)),
            ("bytes=3-99999999999999999999999", 10, s(3, 9)),
            ("BYTES=1-2", 10, s(1, 2)),
            (" bytes=1-2 ", 10, s(1, 2)),
            ("bytes=, 1-2 ,", 10, s(1, 2)),
            ("bytes=0-0", 1, s(0, 0)),
            ("bytes=0-", 1, s(0, 0)),
            ("bytes=-1", 1, s(0, 0)),
            ("bytes=-99999999999999999999", 5, s(0, 4)),
            // unsatisfiable
            ("bytes=10-", 10, Unsatisfiable),
            ("bytes=10-20", 10, Unsatisfiable),
            ("bytes=99999999999999999999999-", 10, Unsatisfiable),
            ("bytes=-0", 10, Unsatisfiable),
            ("bytes=1-", 1, Unsatisfiable),
            ("bytes=0-0", 0, Unsatisfiable),
            ("bytes=-0", 0, Unsatisfiable),
            // an empty representation: a suffix gets the (empty) whole
            ("bytes=-1", 0, Whole),
            // ignored
            ("bytes=10-5", 10, Whole),
            ("items=0-1", 10, Whole),
            ("bytes=0-1,5-6", 10, Whole),
            ("bytes=0-1, 20-30", 10, Whole),
            ("bytes=", 10, Whole),
            ("bytes=-", 10, Whole),
            ("bytes=abc", 10, Whole),
            ("bytes=1", 10, Whole),
            ("bytes=+1-2", 10, Whole),
            ("bytes=1-2-3", 10, Whole),
            ("bytes=0x1-2", 10, Whole),
            ("bytes = 0-1", 10, Whole),
            ("0-1", 10, Whole),
            ("", 10, Whole),
        ];
        for &(value, len, want) in cases {
            assert_eq!(
                byte_range(value.as_bytes(), len),
                want,
                "{value:?} of {len}"
            );
        }
    }

    #[test]
    fn content_range_values() {
        assert_eq!(s(0, 4).content_range(10).as_deref(), Some("bytes 0-4/10"));
        assert_eq!(Unsatisfiable.content_range(0).as_deref(), Some("bytes */0"));
        assert_eq!(Whole.content_range(10), None);
    }

    #[test]
    fn digits_saturate() {
        assert_eq!(digits(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(digits(b"18446744073709551616"), Some(u64::MAX));
        assert_eq!(digits(b"007"), Some(7));
        assert_eq!(digits(b""), None);
        assert_eq!(digits(b"1 "), None);
        assert_eq!(digits(b"\xd9\xa1"), None); // not ASCII digits
    }
}
