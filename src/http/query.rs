//! Query strings and `application/x-www-form-urlencoded` bodies into a multi-map.
//!
//! # Theory of operation
//!
//! One pass over the bytes, following the WHATWG URL Standard, §5.1
//! "application/x-www-form-urlencoded parsing":
//!
//! ```text
//! 1. Split the input on 0x26 (&).
//! 2. For each piece:
//!    1. if it is empty, continue;
//!    2. if it contains 0x3D (=), the name is the bytes before the first "=",
//!       the value the bytes after it (so "a=1=2" is name "a", value "1=2");
//!    3. otherwise the name is the whole piece and the value is empty;
//!    4. replace every 0x2B (+) in name and value with 0x20 (SP);
//!    5. percent-decode name and value, then UTF-8 decode them (without BOM).
//! ```
//!
//! Steps 4 and 5 run as one loop ([`decode_component`]), so `%2B` yields a literal
//! `+` and never a space. Keys and values land in a [`MultiMap`] in arrival order;
//! a repeated key keeps every value (`a=1&a=2` → `a: ["1", "2"]`).
//!
//! The only allocation per component is its final `String`: a component without
//! `%` or `+` is copied once as it is, one that needs decoding is decoded straight
//! into a buffer of its own length (decoding only ever shrinks).
//!
//! # Leniencies (named choices, each tested both ways)
//!
//! - **Malformed percent-escapes are kept literally.** RFC 3986 §2.1 defines
//!   `pct-encoded = "%" HEXDIG HEXDIG`; a `%` not followed by two hex digits
//!   (`%zz`, `%4`, a final `%`) is not an escape. Rather than refusing the whole
//!   query, the `%` and what follows are kept as they are (`%zz` → `"%zz"`). This is
//!   what the WHATWG percent-decode algorithm specifies, and what browsers
//!   (`URLSearchParams`) and Django (`QueryDict`) do.
//! - **Invalid UTF-8 becomes U+FFFD.** After percent-decoding, bytes that are not
//!   UTF-8 (`%FF`, or raw Latin-1 bytes in a body) are replaced by U+FFFD
//!   REPLACEMENT CHARACTER, one per maximal invalid subsequence, as WHATWG "UTF-8
//!   decode without BOM" specifies (Rust's `String::from_utf8_lossy` does exactly
//!   this). The pair is kept, so a field is never silently dropped.
//!
//! # Limits
//!
//! [`parse_urlencoded`] takes whatever it is given (the body size limit bounds it).
//! [`parse_urlencoded_limited`] first counts the fields, without decoding or
//! allocating anything, and refuses more than `max_fields` with [`TooManyFields`]
//! (answered with 400, as Django does); [`MAX_FIELDS`] is the default.

use crate::http::pct;
use std::fmt;

/// Default cap on the number of fields in one query or form body: 1000, the default
/// of Django's `DATA_UPLOAD_MAX_NUMBER_FIELDS`. It bounds the work and memory a
/// single request can cost (`&&&&…` is cheap to send; 1 MiB of `a&` would
/// otherwise be 500 000 pairs, each with two allocations).
pub const MAX_FIELDS: usize = 1000;

/// Keys and values in arrival order; a key may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiMap {
    entries: Vec<(String, String)>,
}

impl MultiMap {
    /// An empty map.
    pub fn new() -> Self {
        MultiMap::default()
    }
    /// Append `key` = `value` after the existing pairs (a repeat is kept).
    pub fn push(&mut self, key: String, value: String) {
        self.entries.push((key, value));
    }
    /// The first value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// Every value for `key`, in arrival order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// All pairs in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// The number of pairs, repeats counted.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Keys in order of first appearance, each with all its values: the shape of the
    /// `/echo` `query` and `form` objects.
    pub fn grouped(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
        for (k, v) in self.iter() {
            match out.iter_mut().find(|(key, _)| *key == k) {
                Some((_, vs)) => vs.push(v),
                None => out.push((k, vec![v])),
            }
        }
        out
    }
}

/// More fields than the caller allows ([`parse_urlencoded_limited`]). Answered
/// with [`TooManyFields::STATUS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyFields {
    /// The limit that was exceeded.
    pub limit: usize,
    /// How many fields (non-empty `&`-separated pieces) the input holds.
    pub found: usize,
}

impl TooManyFields {
    /// 400 Bad Request, as Django answers `TooManyFieldsSent`.
    pub const STATUS: u16 = 400;
}

impl fmt::Display for TooManyFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "too many form fields: {} (at most {} allowed)",
            self.found, self.limit
        )
    }
}

impl std::error::Error for TooManyFields {}

/// Parse `a=1&b=2&a=3` (a query without its `?`, or a urlencoded body).
///
/// Never fails: see the module docs for the two leniencies (malformed escapes kept,
/// invalid UTF-8 replaced). Use [`parse_urlencoded_limited`] on untrusted input.
pub fn parse_urlencoded(input: &[u8]) -> MultiMap {
    let mut map = MultiMap::new();
    for piece in pieces(input) {
        // WHATWG step 2.2 / 2.3: split at the first "=", or the value is empty.
        let (name, value) = match memchr::memchr(b'=', piece) {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &b""[..]),
        };
        map.push(decode_component(name), decode_component(value));
    }
    map
}

/// [`parse_urlencoded`], refusing input with more than `max_fields` fields.
///
/// The fields are counted before anything is decoded or allocated, so a refused
/// input costs one scan. `max_fields` fields are accepted; one more is refused.
pub fn parse_urlencoded_limited(
    input: &[u8],
    max_fields: usize,
) -> Result<MultiMap, TooManyFields> {
    let found = pieces(input).count();
    if found > max_fields {
        return Err(TooManyFields {
            limit: max_fields,
            found,
        });
    }
    Ok(parse_urlencoded(input))
}

/// WHATWG steps 1 and 2.1: the non-empty `&`-separated pieces.
fn pieces(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input.split(|&b| b == b'&').filter(|p| !p.is_empty())
}

/// WHATWG steps 2.4 and 2.5 for one name or value: `+` → SP, `%HH` → the byte,
/// anything else (including a malformed escape) kept ([`pct::decode_lenient`]);
/// then UTF-8, lossy.
fn decode_component(raw: &[u8]) -> String {
    // Nothing to decode: the bytes are the value (one copy, into the map).
    utf8_lossy(pct::decode_lenient(raw, true).into_owned())
}

/// Bytes to a `String`, keeping the buffer when it is valid UTF-8 and replacing
/// each maximal invalid subsequence with U+FFFD otherwise.
fn utf8_lossy(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &str) -> Vec<(String, String)> {
        parse_urlencoded(input.as_bytes())
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("a=1", &[("a", "1")]),
            ("a=1&a=2", &[("a", "1"), ("a", "2")]),
            ("a=1&b=2&a=3", &[("a", "1"), ("b", "2"), ("a", "3")]),
            ("a+b=c+d", &[("a b", "c d")]),
            ("a=%20", &[("a", " ")]),
            ("%20=x", &[(" ", "x")]),
            ("a=%2B", &[("a", "+")]),
            ("a=%2b%2B+", &[("a", "++ ")]),
            ("=x", &[("", "x")]),
            ("x=", &[("x", "")]),
            ("x", &[("x", "")]),
            ("=", &[("", "")]),
            ("&&a=1&", &[("a", "1")]),
            ("&", &[]),
            ("&&&", &[]),
            ("a=1=2", &[("a", "1=2")]),
            ("a==", &[("a", "=")]),
            ("a=%3D", &[("a", "=")]),
            ("a=%26&b", &[("a", "&"), ("b", "")]),
            ("q=%C3%A9t%C3%A9", &[("q", "été")]),
            ("%C3%A9=1", &[("é", "1")]),
            ("q=été", &[("q", "été")]), // raw UTF-8 passes through
            ("q=%F0%9F%A6%80", &[("q", "🦀")]),
            ("a=1;b=2", &[("a", "1;b=2")]), // `;` is not a separator
            ("a=%00", &[("a", "\0")]),
        ];
        for (input, expected) in cases {
            assert_eq!(pairs(input), p(expected), "input {input:?}");
        }
    }

    /// Leniency, malformed side: a `%` not followed by two hex digits is kept.
    #[test]
    fn malformed_escapes_kept_literally() {
        let cases: &[(&str, &str)] = &[
            ("a=%zz", "%zz"),
            ("a=%4", "%4"),
            ("a=%", "%"),
            ("a=%4g", "%4g"),
            ("a=%g4", "%g4"),
            ("a=100%", "100%"),
            ("a=%%41", "%A"), // first % is literal, then %41 decodes
            ("a=%+", "% "),   // + still becomes a space after a stray %
            ("a=%2", "%2"),
            ("a=%%", "%%"),
        ];
        for (input, value) in cases {
            assert_eq!(pairs(input), p(&[("a", value)]), "input {input:?}");
        }
        assert_eq!(pairs("%zz=1"), p(&[("%zz", "1")]));
    }

    /// Leniency, well-formed side: every hex case decodes.
    #[test]
    fn wellformed_escapes_decode() {
        assert_eq!(pairs("a=%41%61%7e%7E"), p(&[("a", "Aa~~")]));
        for b in 0u8..0x80 {
            let lower = format!("k=%{b:02x}");
            let upper = format!("k=%{b:02X}");
            let expected = (b as char).to_string();
            assert_eq!(pairs(&lower), p(&[("k", &expected)]), "{lower}");
            assert_eq!(pairs(&upper), p(&[("k", &expected)]), "{upper}");
        }
    }

    /// Leniency: invalid UTF-8 after decoding becomes U+FFFD, valid UTF-8 does not.
    #[test]
    fn invalid_utf8_replaced() {
        assert_eq!(pairs("a=%FF"), p(&[("a", "\u{FFFD}")]));
        assert_eq!(pairs("a=x%FFy"), p(&[("a", "x\u{FFFD}y")]));
        assert_eq!(pairs("%FF=1"), p(&[("\u{FFFD}", "1")]));
        // A truncated two-byte sequence: one replacement, then the rest.
        assert_eq!(pairs("a=%C3x"), p(&[("a", "\u{FFFD}x")]));
        // Raw (not escaped) Latin-1 bytes in a body.
        let map = parse_urlencoded(b"name=Ren\xe9");
        assert_eq!(map.get("name"), Some("Ren\u{FFFD}"));
        // Raw invalid bytes on the no-decoding fast path too.
        let map = parse_urlencoded(b"\xff\xfe=v");
        assert_eq!(map.get("\u{FFFD}\u{FFFD}"), Some("v"));
        // Valid side.
        assert_eq!(pairs("a=%C3%A9"), p(&[("a", "é")]));
    }

    #[test]
    fn multimap_accessors() {
        let map = parse_urlencoded(b"a=1&b=2&a=3&c");
        assert_eq!(map.len(), 4);
        assert_eq!(map.get("a"), Some("1"));
        assert_eq!(map.get_all("a").collect::<Vec<_>>(), vec!["1", "3"]);
        assert_eq!(map.get("c"), Some(""));
        assert_eq!(map.get("d"), None);
        assert_eq!(
            map.grouped(),
            vec![("a", vec!["1", "3"]), ("b", vec!["2"]), ("c", vec![""])]
        );
        assert!(parse_urlencoded(b"&&").is_empty());
    }

    fn fields(n: usize) -> Vec<u8> {
        let mut s = Vec::new();
        for i in 0..n {
            if i > 0 {
                s.push(b'&');
            }
            s.extend_from_slice(format!("f{i}=v").as_bytes());
        }
        s
    }

    #[test]
    fn max_fields_at_limit_accepted() {
        let map = parse_urlencoded_limited(&fields(MAX_FIELDS), MAX_FIELDS).unwrap();
        assert_eq!(map.len(), 1000);
        assert_eq!(map.get("f999"), Some("v"));
    }

    #[test]
    fn max_fields_plus_one_refused() {
        let err = parse_urlencoded_limited(&fields(MAX_FIELDS + 1), MAX_FIELDS).unwrap_err();
        assert_eq!(
            err,
            TooManyFields {
                limit: 1000,
                found: 1001
            }
        );
        assert_eq!(
            err.to_string(),
            "too many form fields: 1001 (at most 1000 allowed)"
        );
        assert_eq!(TooManyFields::STATUS, 400);
    }

    #[test]
    fn empty_pieces_do_not_count() {
        let mut input = b"&&&&".repeat(5000);
        input.extend_from_slice(b"a=1&&b=2&");
        let map = parse_urlencoded_limited(&input, 2).unwrap();
        assert_eq!(map.len(), 2);
        assert!(parse_urlencoded_limited(b"a&b&c", 2).is_err());
        assert!(parse_urlencoded_limited(b"", 0).unwrap().is_empty());
        assert_eq!(
            parse_urlencoded_limited(b"x", 0),
            Err(TooManyFields { limit: 0, found: 1 })
        );
    }

    /// Every byte string parses without panicking (a cheap exhaustive-ish sweep).
    #[test]
    fn never_panics() {
        let alphabet = b"%=&+aF0\xff\xc3";
        let mut buf = Vec::new();
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for d in alphabet {
                        buf.clear();
                        buf.extend_from_slice(&[*a, *b, *c, *d]);
                        let _ = parse_urlencoded(&buf);
                    }
                }
            }
        }
    }
}
