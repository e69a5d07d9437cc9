//! Percent-decoding (RFC 3986 §2.1: `pct-encoded = "%" HEXDIG HEXDIG`), once, in
//! two strengths:
//!
//! - [`decode_lenient`] for query and form values (WHATWG urlencoded parsing): `+`
//!   may mean a space, and a `%` not followed by two hex digits is kept as it is
//!   (`%zz` → `%zz`), as browsers and Django do; never fails.
//! - [`decode_path`] for the request path, decoded once before routing (SPEC
//!   "Protocol"): a bad escape, or a segment that decodes to a `/` (it would move the
//!   segment boundaries), a NUL or bytes that are not UTF-8, is an error naming the
//!   segment. `+` is a plus in a path.
//!
//! Both borrow their input when there is nothing to decode, so a plain path like
//! `/plaintext` costs one scan and no allocation.

use crate::http::chars::zero_bytes;
use std::borrow::Cow;
use std::fmt;

/// `HEXDIG` (RFC 5234; case-insensitive).
pub fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The escape at `raw[i]` (a `%`), if two hex digits follow it.
fn escape_at(raw: &[u8], i: usize) -> Option<u8> {
    let hi = hex_value(*raw.get(i + 1)?)?;
    let lo = hex_value(*raw.get(i + 2)?)?;
    Some((hi << 4) | lo)
}

/// Decode `%HH` (and `+` as a space when `plus_is_space`), keeping a malformed escape
/// literally. Borrows when there is nothing to decode.
pub fn decode_lenient(raw: &[u8], plus_is_space: bool) -> Cow<'_, [u8]> {
    let special = if plus_is_space {
        memchr::memchr2(b'%', b'+', raw)
    } else {
        memchr::memchr(b'%', raw)
    };
    if special.is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => match escape_at(raw, i) {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                // Not an escape: keep the "%" and go on from the next byte.
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// Why a path could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathErrorKind {
    /// `%` without two hex digits after it.
    BadEscape,
    /// `%2F`: a `/` inside a segment.
    EncodedSlash,
    /// `%00`.
    Nul,
    /// The decoded bytes are not UTF-8 (`%FF`).
    NotUtf8,
}

/// A path refused by [`decode_path`], with the segment as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// What was wrong with the segment.
    pub kind: PathErrorKind,
    /// The offending segment, still percent-encoded, as it was sent.
    pub segment: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            PathErrorKind::BadEscape => "a % not followed by two hex digits",
            PathErrorKind::EncodedSlash => "an encoded / (%2F) inside a segment",
            PathErrorKind::Nul => "an encoded NUL (%00)",
            PathErrorKind::NotUtf8 => "escapes that do not decode to UTF-8 text",
        };
        write!(f, "the path segment {:?} has {what}", self.segment)
    }
}

impl std::error::Error for PathError {}

/// The path with every segment percent-decoded, or the segment that cannot be.
pub fn decode_path(raw: &str) -> Result<Cow<'_, str>, PathError> {
    if !has_percent(raw.as_bytes()) {
        return Ok(Cow::Borrowed(raw));
    }
    decode_escaped(raw).map(Cow::Owned)
}

/// [`decode_path`] over bytes, for the router: a path without `%` is given back as it
/// is, with no UTF-8 check (`str::from_utf8` costs about as much as the route lookup
/// on a short path, and a request target is visible ASCII, which the head parser
/// checked); a decoded one is UTF-8, checked segment by segment as in [`decode_path`].
#[inline]
pub fn decode_path_bytes(raw: &[u8]) -> Result<Cow<'_, [u8]>, PathError> {
    if !has_percent(raw) {
        return Ok(Cow::Borrowed(raw));
    }
    decode_escaped_bytes(raw).map(Cow::Owned)
}

/// The decoding of [`decode_path_bytes`] for a path that has a `%` (out of line: the
/// common path has none).
#[inline(never)]
fn decode_escaped_bytes(raw: &[u8]) -> Result<Vec<u8>, PathError> {
    // A `%` is ASCII: the bytes around it are what they were.
    let raw = String::from_utf8_lossy(raw);
    decode_escaped(&raw).map(String::into_bytes)
}

/// The decoding of [`decode_path`] for a path that has a `%`.
fn decode_escaped(raw: &str) -> Result<String, PathError> {
    let mut out = String::with_capacity(raw.len());
    for (n, seg) in raw.split('/').enumerate() {
        if n > 0 {
            out.push('/');
        }
        let refuse = |kind| PathError {
            kind,
            segment: seg.to_string(),
        };
        let bytes = seg.as_bytes();
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let b = escape_at(bytes, i).ok_or_else(|| refuse(PathErrorKind::BadEscape))?;
                match b {
                    b'/' => return Err(refuse(PathErrorKind::EncodedSlash)),
                    0 => return Err(refuse(PathErrorKind::Nul)),
                    _ => decoded.push(b),
                }
                i += 3;
            } else {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
        let text = std::str::from_utf8(&decoded).map_err(|_| refuse(PathErrorKind::NotUtf8))?;
        out.push_str(text);
    }
    Ok(out)
}

/// Whether `bytes` hold a `%`, eight bytes at a time (a path is short: this beats
/// memchr's set-up and a byte loop alike): a byte of `x ^ 0x25…25` is zero exactly
/// where `x` has a `%` ([`zero_bytes`]).
#[inline]
fn has_percent(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let x = u64::from_le_bytes(c.try_into().expect("eight bytes"));
        if zero_bytes(x ^ (0x0101_0101_0101_0101 * u64::from(b'%'))) != 0 {
            return true;
        }
    }
    chunks.remainder().contains(&b'%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_is_found_wherever_it_is() {
        for len in 0..40 {
            let plain: Vec<u8> = (0..len).map(|i| b"/abz09-._~$&+,;=:@AZ"[i % 20]).collect();
            assert!(!has_percent(&plain), "{len}");
            for at in 0..len {
                for b in [b'%', b'%' ^ 0x80] {
                    let mut v = plain.clone();
                    v[at] = b;
                    assert_eq!(has_percent(&v), b == b'%', "{len} {at} {b:#x}");
                }
            }
        }
    }

    #[test]
    fn lenient_keeps_bad_escapes_and_maps_plus() {
        assert_eq!(&*decode_lenient(b"a%20b+c", true), b"a b c");
        assert_eq!(&*decode_lenient(b"a%20b+c", false), b"a b+c");
        assert_eq!(&*decode_lenient(b"%zz%4%", true), b"%zz%4%");
        assert_eq!(&*decode_lenient(b"%2B", true), b"+");
        assert_eq!(&*decode_lenient(b"%c3%A9", true), "é".as_bytes());
        assert!(matches!(decode_lenient(b"plain", true), Cow::Borrowed(_)));
    }

    #[test]
    fn path_decodes_once() {
        assert_eq!(decode_path("/products/%33/").unwrap(), "/products/3/");
        assert_eq!(
            decode_path("/static/hello%2Ehtml").unwrap(),
            "/static/hello.html"
        );
        assert_eq!(decode_path("/a+b/caf%C3%A9").unwrap(), "/a+b/café");
        // Decoded once: `%2533` is `%33`, not `3`.
        assert_eq!(decode_path("/x/%2533").unwrap(), "/x/%33");
        assert!(matches!(decode_path("/plaintext"), Ok(Cow::Borrowed(_))));
        assert!(matches!(
            decode_path_bytes(b"/plaintext"),
            Ok(Cow::Borrowed(b"/plaintext"))
        ));
        for raw in [
            "/products/%33/",
            "/a+b/caf%C3%A9",
            "/x/%2533",
            "/static/a%2Fb",
            "/%FF",
            "/%0",
        ] {
            let bytes = decode_path_bytes(raw.as_bytes()).map(|c| c.into_owned());
            let text = decode_path(raw).map(|c| c.into_owned().into_bytes());
            assert_eq!(bytes, text, "{raw}");
        }
    }

    #[test]
    fn path_refuses_what_would_change_its_shape() {
        for (raw, kind, segment) in [
            ("/static/a%2Fb", PathErrorKind::EncodedSlash, "a%2Fb"),
            ("/static/a%2fb", PathErrorKind::EncodedSlash, "a%2fb"),
            ("/x/%00", PathErrorKind::Nul, "%00"),
            ("/x/%ff/y", PathErrorKind::NotUtf8, "%ff"),
            ("/x/%g0", PathErrorKind::BadEscape, "%g0"),
            ("/x/50%", PathErrorKind::BadEscape, "50%"),
        ] {
            let e = decode_path(raw).unwrap_err();
            assert_eq!((e.kind, e.segment.as_str()), (kind, segment), "{raw}");
        }
        assert_eq!(
            decode_path("/static/a%2Fb").unwrap_err().to_string(),
            "the path segment \"a%2Fb\" has an encoded / (%2F) inside a segment"
        );
    }
}
