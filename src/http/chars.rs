//! Byte classes from the ABNF of RFC 9110 / RFC 9112 / RFC 3986, as lookup tables.
//!
//! Each class is a `[bool; 256]` built at compile time by [`table`] from the ranges
//! and single bytes its ABNF rule lists; the rule is quoted beside the table. A parser
//! asks `TCHAR[b as usize]`: one load per byte, no branches on ranges (the httparse
//! way). Every byte class in `crate::http` (and the `attr-char` of uploads'
//! `Content-Disposition`) is a table here, so each class is written once, next to its
//! ABNF, and tested against it for all 256 bytes.

/// Builds a byte class from inclusive ranges and single bytes (a `const fn`, so the
/// tables below are computed by the compiler). Every byte class of `crate::http` is one
/// of the tables below, built with this.
pub const fn table(ranges: &[(u8, u8)], singles: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < ranges.len() {
        let (lo, hi) = ranges[i];
        let mut b = lo as usize;
        while b <= hi as usize {
            t[b] = true;
            b += 1;
        }
        i += 1;
    }
    let mut j = 0;
    while j < singles.len() {
        t[singles[j] as usize] = true;
        j += 1;
    }
    t
}

/// RFC 9110 §5.6.2:
/// ```text
/// token  = 1*tchar
/// tchar  = "!" / "#" / "$" / "%" / "&" / "'" / "*"
///        / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
///        / DIGIT / ALPHA
///        ; any VCHAR, except delimiters
/// ```
pub const TCHAR: [bool; 256] = table(
    &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')],
    b"!#$%&'*+-.^_`|~",
);

/// RFC 9110 §5.5:
/// ```text
/// field-vchar = VCHAR / obs-text
/// VCHAR       = %x21-7E
/// obs-text    = %x80-FF
/// ```
pub const FIELD_VCHAR: [bool; 256] = table(&[(0x21, 0x7E), (0x80, 0xFF)], b"");

/// A byte that may appear anywhere inside a field value, RFC 9110 §5.5:
/// ```text
/// field-value   = *field-content
/// field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
/// ```
/// that is field-vchar, SP or HTAB (where the whitespace may stand is decided by
/// trimming OWS around the value, not by this table). NUL, CR, LF and the other
/// controls are not in it.
pub const FIELD_CONTENT: [bool; 256] = table(&[(0x21, 0x7E), (0x80, 0xFF)], b" \t");

/// The bytes a request-target may hold. RFC 9112 §3.2 builds the four target forms
/// from RFC 3986 rules whose characters are all visible US-ASCII:
/// ```text
/// request-target = origin-form / absolute-form / authority-form / asterisk-form
/// ; every byte is one of %x21-7E (no SP, no CTL, no obs-text)
/// ```
/// We check this class byte by byte, then the form (see `head::target_form`); the
/// finer RFC 3986 classes of the path and query are left to the router.
pub const TARGET: [bool; 256] = table(&[(0x21, 0x7E)], b"");

/// RFC 5234 Appendix B.1: `ALPHA = %x41-5A / %x61-7A` (A-Z / a-z).
pub const ALPHA: [bool; 256] = table(&[(b'A', b'Z'), (b'a', b'z')], b"");

/// RFC 5234 Appendix B.1: `DIGIT = %x30-39` (0-9).
pub const DIGIT: [bool; 256] = table(&[(b'0', b'9')], b"");

/// RFC 5234 Appendix B.1: `HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"`,
/// case-insensitive like every ABNF string, so `a`-`f` too.
pub const HEXDIG: [bool; 256] = table(&[(b'0', b'9'), (b'A', b'F'), (b'a', b'f')], b"");

/// The bytes of a `reg-name` (RFC 3986 §3.2.2), `%` standing for the start of a
/// pct-encoded triplet (its two HEXDIG are checked by the caller):
/// ```text
/// reg-name    = *( unreserved / pct-encoded / sub-delims )
/// unreserved  = ALPHA / DIGIT / "-" / "." / "_" / "~"
/// pct-encoded = "%" HEXDIG HEXDIG
/// sub-delims  = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
/// ```
pub const REG_NAME: [bool; 256] = table(
    &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')],
    b"-._~!$&'()*+,;=%",
);

/// [`REG_NAME`] without `%`: the bytes of a reg-name that stand for themselves, so a
/// host made of them alone needs no check of pct-encoded triplets (the fast path of
/// `head::split_authority`).
pub const REG_NAME_PLAIN: [bool; 256] = table(
    &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')],
    b"-._~!$&'()*+,;=",
);

/// The bytes inside the brackets of an `IP-literal` (RFC 3986 §3.2.2), loosely:
/// ```text
/// IP-literal = "[" ( IPv6address / IPvFuture  ) "]"
/// IPvFuture  = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
/// ```
/// IPv6address is HEXDIG, ":" and "." (for an embedded IPv4); both fit in
/// unreserved / sub-delims / ":". We do not check the address's structure.
pub const IP_LITERAL: [bool; 256] = table(
    &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')],
    b"-._~!$&'()*+,;=:",
);

/// RFC 3986 §3.1: `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
/// (this table is the tail; the first byte must be ALPHA).
pub const SCHEME: [bool; 256] = table(&[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')], b"+-.");

/// RFC 6265 §4.1.1: US-ASCII except CTLs, whitespace, DQUOTE, comma, semicolon and
/// backslash:
/// ```text
/// cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
/// ```
pub const COOKIE_OCTET: [bool; 256] = table(
    &[(0x23, 0x2B), (0x2D, 0x3A), (0x3C, 0x5B), (0x5D, 0x7E)],
    b"\x21",
);

/// RFC 6265 §4.1.1, `path-value = <any CHAR except CTLs or ";">` with `CHAR = %x01-7F`
/// and `CTL = %x00-1F / %x7F`: so SP to `~` without `;`.
pub const COOKIE_PATH: [bool; 256] = table(&[(0x20, 0x3A), (0x3C, 0x7E)], b"");

/// A byte of a DNS label, RFC 1034 §3.5 (`ldh-str`; RFC 1123 §2.1 allows a leading
/// digit): `let-dig-hyp = ALPHA / DIGIT / "-"` (where the hyphen may stand is the
/// caller's).
pub const LDH: [bool; 256] = table(&[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')], b"-");

/// RFC 2046 §5.1.1, the multipart boundary:
/// ```text
/// boundary      := 0*69<bchars> bcharsnospace
/// bchars        := bcharsnospace / " "
/// bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" /
///                  "+" / "_" / "," / "-" / "." /
///                  "/" / ":" / "=" / "?"
/// ```
pub const BCHARS_NO_SPACE: [bool; 256] =
    table(&[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')], b"'()+_,-./:=?");

/// `bchars := bcharsnospace / " "` (RFC 2046 §5.1.1).
pub const BCHARS: [bool; 256] = table(
    &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')],
    b"'()+_,-./:=? ",
);

/// RFC 8187 §3.2.1 (the characters of an `ext-value` that need no percent-escape):
/// ```text
/// attr-char = ALPHA / DIGIT
///           / "!" / "#" / "$" / "&" / "+" / "-" / "."
///           / "^" / "_" / "`" / "|" / "~"
/// ```
pub const ATTR_CHAR: [bool; 256] =
    table(&[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')], b"!#$&+-.^_`|~");

/// RFC 9110 §5.6.4, the bytes of a quoted-string between its quotes that need no
/// backslash:
/// ```text
/// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
/// ```
pub const QDTEXT: [bool; 256] = table(&[(0x23, 0x5B), (0x5D, 0x7E), (0x80, 0xFF)], b"\t !");

/// RFC 9110 §5.6.4: `quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )`
/// (the byte after the backslash).
pub const QUOTED_PAIR: [bool; 256] = table(&[(0x21, 0x7E), (0x80, 0xFF)], b"\t ");

const fn hex_values() -> [u8; 256] {
    let mut t = [0xFF; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => 0xFF,
        };
        b += 1;
    }
    t
}

/// The value of each HEXDIG byte; 0xFF for every other byte.
pub const HEX_VALUE: [u8; 256] = hex_values();

/// The length of the longest prefix of `bytes` whose bytes are all in `class` (so
/// the index of the first byte outside it, or `bytes.len()`).
#[inline]
pub fn span_of(class: &[bool; 256], bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| !class[b as usize])
        .unwrap_or(bytes.len())
}

/// [`span_of`], eight bytes at a time: the eight table loads of a chunk are combined
/// with `&` (no branch per byte), and only the chunk where the class ends is walked
/// byte by byte. For header names, which are scanned straight out of the receive
/// buffer (so the chunks run on past the colon).
#[inline]
pub fn span_of_chunked(class: &[bool; 256], bytes: &[u8]) -> usize {
    let mut i = 0;
    let mut chunks = bytes.chunks_exact(8);
    let bit = |b: u8| class[b as usize] as u32;
    for c in &mut chunks {
        // One bit per byte, set if it is in the class, summed as a tree of
        // `a + 2 * b` (disjoint bits: each step one `lea`); the first zero bit is
        // where the class ends.
        let mask = (bit(c[0]) + 2 * bit(c[1]) + 4 * (bit(c[2]) + 2 * bit(c[3])))
            + 16 * (bit(c[4]) + 2 * bit(c[5]) + 4 * (bit(c[6]) + 2 * bit(c[7])));
        if mask != 0xFF {
            return i + mask.trailing_ones() as usize;
        }
        i += 8;
    }
    i + span_of(class, chunks.remainder())
}

/// The high bit of each byte of `y` that is zero, exactly for the lowest such byte
/// (a byte above a zero one may be flagged too): `(y - 0x01…01) & !y & 0x80…80`.
/// With `y = x ^ (0x01…01 * b)`, where the word `x` holds the byte `b`.
#[inline(always)]
pub fn zero_bytes(y: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    y.wrapping_sub(ONES) & !y & HIGHS
}

/// Whether two short byte strings are equal, a word a step, with no call to `memcmp`
/// (whose set-up costs more than the compare for a route's path or a `Host`): the
/// whole words, then the last eight bytes (which may overlap the words before);
/// below eight bytes, two overlapping four-byte words.
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let w4 = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
    match n {
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        _ => (0..n / 8).all(|k| w8(a, 8 * k) == w8(b, 8 * k)) && w8(a, n - 8) == w8(b, n - 8),
    }
}

/// [`span_of`]`(&FIELD_CONTENT, bytes)`, eight bytes at a time while they are all
/// plain (no byte below 0x20, no DEL). Field values are most of a head's bytes, and
/// the byte-per-iteration table loop was 60% of the time to parse the 544-byte
/// browser request of `/work/shared/bench`; with words, a whole parse went from
/// ~900 ns to ~600 ns (release build, 2M iterations, a 2-core AMD EPYC VM; httparse
/// with its AVX2 path: ~350 ns there). A word holding a control byte (HTAB included)
/// is checked byte by byte with the table, so the table stays the definition.
#[inline(always)]
pub fn field_content_span(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Each byte's low seven bits, t = 0x00..=0x7F: the sums below stay within the
    // byte (no carry into the next one), so every flag is exact for its byte.
    // t < 0x20: t + 0x60 has its high bit clear; t == 0x7F: t + 1 has it set.
    let flags = |word: &[u8]| {
        let t = u64::from_le_bytes(word.try_into().expect("8 bytes")) & !HIGHS;
        (!(t + ONES * 0x60) | (t + ONES)) & HIGHS
    };
    // Flagged: the controls (HTAB too), DEL, and, as t drops the high bit, obs-text
    // 0x80-0x9F and 0xFF. The table decides from the first one on: where the span
    // ends in this word, or `None` if the word is all field-content after all.
    let end_in = |word: &[u8], flagged: u64| {
        let first = flagged.trailing_zeros() as usize / 8;
        if !FIELD_CONTENT[word[first] as usize] {
            return Some(first);
        }
        let n = first + span_of(&FIELD_CONTENT, &word[first..]);
        (n < 8).then_some(n)
    };
    let mut i = 0;
    // Two words a step (one branch for both while they are plain), then one.
    while let Some(block) = bytes.get(i..i + 16) {
        let (a, b) = block.split_at(8);
        let (fa, fb) = (flags(a), flags(b));
        if fa | fb != 0 {
            if fa != 0
                && let Some(n) = end_in(a, fa)
            {
                return i + n;
            }
            if fb != 0
                && let Some(n) = end_in(b, fb)
            {
                return i + 8 + n;
            }
        }
        i += 16;
    }
    if let Some(word) = bytes.get(i..i + 8) {
        let f = flags(word);
        if f != 0
            && let Some(n) = end_in(word, f)
        {
            return i + n;
        }
        i += 8;
    }
    i + span_of(&FIELD_CONTENT, &bytes[i..])
}

/// [`span_of`]`(&TARGET, bytes)`, eight bytes at a time. TARGET is one range,
/// 0x21-0x7E, so a word's flags are exact: with t the low seven bits of a byte,
/// t < 0x21 leaves the high bit of t + 0x5F clear, t == 0x7F sets that of t + 1, and
/// a byte of 0x80 or more has its own high bit set (no sum carries into the next
/// byte).
#[inline]
pub fn target_span(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let t = x & !HIGHS;
        let flagged = (!(t + ONES * 0x5F) | (t + ONES) | x) & HIGHS;
        if flagged != 0 {
            return i + flagged.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    i + span_of(&TARGET, words.remainder())
}

/// The value of a `HEXDIG`, or `None`.
#[inline]
pub fn hex_value(b: u8) -> Option<u8> {
    match HEX_VALUE[b as usize] {
        0xFF => None,
        v => Some(v),
    }
}

/// RFC 9110 §5.6.3: `OWS = *( SP / HTAB )`, one byte of it.
#[inline]
pub fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `s` with leading and trailing OWS removed.
pub fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_ows(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_is_equality() {
        for n in 0..=24 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            assert!(same_bytes(&a, &a.clone()), "{n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{n} {at}");
            }
            if n > 0 {
                assert!(!same_bytes(&a, &a[..n - 1]), "{n}");
            }
        }
    }

    /// Each table against a plain predicate written from the ABNF, for all 256 bytes.
    #[test]
    fn tables_match_their_abnf() {
        type Case = (&'static str, &'static [bool; 256], fn(u8) -> bool);
        let cases: [Case; 18] = [
            ("alpha", &ALPHA, |b| b.is_ascii_alphabetic()),
            ("digit", &DIGIT, |b| b.is_ascii_digit()),
            (
                "cookie-octet",
                &COOKIE_OCTET,
                |b| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E),
            ),
            ("cookie path-value", &COOKIE_PATH, |b| {
                (0x20..=0x7E).contains(&b) && b != b';'
            }),
            ("ldh", &LDH, |b| b.is_ascii_alphanumeric() || b == b'-'),
            ("bcharsnospace", &BCHARS_NO_SPACE, |b| {
                b.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&b)
            }),
            ("bchars", &BCHARS, |b| {
                b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b)
            }),
            ("attr-char", &ATTR_CHAR, |b| {
                b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
            }),
            ("tchar", &TCHAR, |b| {
                b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
            }),
            ("field-vchar", &FIELD_VCHAR, |b| {
                b.is_ascii_graphic() || b >= 0x80
            }),
            ("field-content", &FIELD_CONTENT, |b| {
                b.is_ascii_graphic() || b >= 0x80 || b == b' ' || b == b'\t'
            }),
            ("target", &TARGET, |b| (0x21..=0x7E).contains(&b)),
            ("hexdig", &HEXDIG, |b| b.is_ascii_hexdigit()),
            ("reg-name", &REG_NAME, |b| {
                b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b)
            }),
            ("reg-name without %", &REG_NAME_PLAIN, |b| {
                b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)
            }),
            ("scheme", &SCHEME, |b| {
                b.is_ascii_alphanumeric() || b"+-.".contains(&b)
            }),
            ("qdtext", &QDTEXT, |b| {
                b == b'\t'
                    || b == b' '
                    || b == 0x21
                    || (0x23..=0x5B).contains(&b)
                    || (0x5D..=0x7E).contains(&b)
                    || b >= 0x80
            }),
            ("quoted-pair", &QUOTED_PAIR, |b| {
                b == b'\t' || b == b' ' || b.is_ascii_graphic() || b >= 0x80
            }),
        ];
        for (name, t, pred) in cases {
            for b in 0..=255u8 {
                assert_eq!(t[b as usize], pred(b), "{name} at {b:#04x}");
            }
        }
    }

    #[test]
    fn spot_checks() {
        let tchar = |b: u8| TCHAR[b as usize];
        assert!(tchar(b'!') && tchar(b'~') && tchar(b'Z'));
        for b in b"\"(),/:;<=>?@[\\]{} \t\0\x7f" {
            assert!(!tchar(*b), "{b}");
        }
        let content = |b: u8| FIELD_CONTENT[b as usize];
        assert!(content(b'\t') && content(0x80) && content(0xFF));
        for b in [0u8, b'\r', b'\n', 0x7F, 0x1F] {
            assert!(!content(b), "{b}");
        }
        let target = |b: u8| TARGET[b as usize];
        assert!(!target(b' ') && !target(0x80) && target(b'~'));
        assert!(!QDTEXT[b'"' as usize] && !QDTEXT[b'\\' as usize]);
    }

    #[test]
    fn hex_values_and_trim() {
        for b in 0..=255u8 {
            let want = (b as char).to_digit(16).map(|v| v as u8);
            assert_eq!(hex_value(b), want, "{b}");
            assert_eq!(HEXDIG[b as usize], want.is_some());
        }
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"  "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(span_of(&TCHAR, b"Host: a"), 4);
        assert_eq!(span_of(&TCHAR, b"Host"), 4);
        assert_eq!(span_of(&TCHAR, b""), 0);
    }

    /// The word-at-a-time spans agree with their tables on every byte at every
    /// position (of an 8-byte word, of the second word, of the tail after words).
    #[test]
    fn target_span_and_chunked_spans_match_the_tables() {
        let mut text = Vec::new();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 33] {
            for at in 0..len {
                for b in 0..=255u8 {
                    text.clear();
                    text.resize(len, b'a');
                    text[at] = b;
                    let want = span_of(&TARGET, &text);
                    assert_eq!(target_span(&text), want, "len {len} at {at} byte {b}");
                    let want = span_of(&TCHAR, &text);
                    let got = span_of_chunked(&TCHAR, &text);
                    assert_eq!(got, want, "tchar: len {len} at {at} byte {b}");
                }
            }
        }
    }

    /// The word-at-a-time span agrees with the table on every byte at every position.
    #[test]
    fn field_content_span_matches_the_table() {
        let mut text = b"Mozilla/5.0 (X11; Linux x86_64) \x80\xff\t ok".to_vec();
        assert_eq!(field_content_span(&text), text.len());
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 33] {
            for at in 0..len {
                for b in 0..=255u8 {
                    text.clear();
                    text.resize(len, b'a');
                    text[at] = b;
                    let want = span_of(&FIELD_CONTENT, &text);
                    assert_eq!(
                        field_content_span(&text),
                        want,
                        "len {len} at {at} byte {b}"
                    );
                }
            }
        }
    }
}
