//! Header values with parameters: media types (`Content-Type`) and
//! `Content-Disposition`.
//!
//! # Theory of operation
//!
//! Both values are a leading word and a list of `name=value` parameters. One loop,
//! `parse_params`, walks the list left to right over the bytes, with no
//! backtracking. A value is a slice of the input unless decoding changes its bytes
//! (a quoted-string with a backslash escape): then it is a fresh `Vec`, hence
//! [`Cow`]. Parameter names are tokens (ASCII), so they come back as `&str`; values
//! may hold obs-text (raw UTF-8 file names), so they stay bytes.
//!
//! The grammar, RFC 9110 §8.3.1, §5.6.6 and §5.6.4:
//! ```text
//! media-type      = type "/" subtype parameters
//! type            = token
//! subtype         = token
//! parameters      = *( OWS ";" OWS [ parameter ] )
//! parameter       = parameter-name "=" parameter-value
//! parameter-name  = token
//! parameter-value = ( token / quoted-string )
//! quoted-string   = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//! qdtext          = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//! quoted-pair     = "\" ( HTAB / SP / VCHAR / obs-text )
//! ```
//! RFC 6266 §4.1 (for `multipart/form-data` parts: RFC 7578 §4.2), written in the
//! older "implied linear whitespace" style, so OWS may stand around `=` too:
//! ```text
//! content-disposition = disposition-type *( ";" disposition-parm )
//! disposition-type    = "inline" / "attachment" / disp-ext-type  ; case-insensitive
//! disp-ext-type       = token
//! disposition-parm    = filename-parm / disp-ext-parm
//! filename-parm       = "filename" "=" value
//!                     / "filename*" "=" ext-value
//! disp-ext-parm       = token "=" value
//!                     / ext-token "=" ext-value
//! ext-token           = <the characters in token, followed by "*">
//! value               = token / quoted-string
//! ```
//! RFC 8187 §3.2.1 (the `filename*` value):
//! ```text
//! ext-value   = charset  "'" [ language ] "'" value-chars
//! charset     = "UTF-8" / "ISO-8859-1" / mime-charset
//! value-chars = *( pct-encoded / attr-char )
//! pct-encoded = "%" HEXDIG HEXDIG
//! attr-char   = ALPHA / DIGIT
//!             / "!" / "#" / "$" / "&" / "+" / "-" / "."
//!             / "^" / "_" / "`" / "|" / "~"
//! ```
//!
//! # Choices (each tested)
//!
//! - **Case**: type, subtype, disposition type and parameter names compare
//!   case-insensitively ([`MediaType::is`], [`MediaType::param`]); they are returned
//!   as sent. Values are case-sensitive (a boundary is).
//! - **Whitespace** around the whole value is trimmed (it is a field value's OWS).
//!   Empty parameters (`a/b;;c=d`) are skipped, as the `[ parameter ]` above allows.
//!   In a media type no whitespace may stand around `=` (RFC 9110); in
//!   Content-Disposition it may (RFC 6266's implied LWS).
//! - **Repeated parameters**: a media type keeps them all ([`MediaType::param`] finds
//!   the first; the multipart boundary refuses a repeat). A Content-Disposition with a
//!   parameter twice is invalid (RFC 6266 §4.1), so [`parse_content_disposition`]
//!   returns `None`: two `name`s would let two parsers disagree on a field.
//! - **Backslashes in Content-Disposition** (a named leniency): browsers do not escape
//!   `\` in file names (the WHATWG form encoding escapes only `"`, CR and LF, as
//!   `%22`, `%0D`, `%0A`), and old browsers send Windows paths such as
//!   `filename="C:\Users\me\cat.png"`. A strict quoted-pair reading would eat those
//!   backslashes (`C:Usersmecat.png`). So in Content-Disposition a `\` is an escape
//!   only before `"` or `\`; before anything else it is a literal backslash. Media
//!   types follow RFC 9110 exactly (`\a` is `a`). A name ending in a backslash
//!   (`"C:\dir\"`) stays ambiguous and is refused as an unterminated string.
//! - **WHATWG escapes are not undone**: a browser sends a file named `a"b` as
//!   `filename="a%22b"`, but also sends a file literally named `a%22b` the same way,
//!   so `%22`, `%0D` and `%0A` are reported as sent. Making a name safe to store is the
//!   upload page's job.
//! - **`filename*` wins over `filename`** when both are present and the ext-value
//!   decodes (RFC 6266 §4.3). Charsets: UTF-8 and ISO-8859-1 (RFC 8187 §3.2.1 requires
//!   UTF-8). An ext-value with another charset, a bad `%` escape, a byte outside
//!   attr-char, or bytes that are not UTF-8 is ignored, and `filename` is used.
//!   (RFC 7578 §4.2 says senders must not use `filename*` in form data; some do.)

use crate::http::chars::{
    ATTR_CHAR, HEX_VALUE, QDTEXT, QUOTED_PAIR, TCHAR, is_ows, span_of, trim_ows,
};
use std::borrow::Cow;

/// One `name=value` parameter. `name` is as sent (compare it case-insensitively);
/// `value` is unquoted and unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name, as sent.
    pub name: &'a str,
    /// The value, unquoted and unescaped (borrowed when there was nothing to undo).
    pub value: Cow<'a, [u8]>,
}

/// A parsed media type such as `multipart/form-data; boundary=x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// The type as sent (`Multipart`); compare with [`MediaType::is`].
    pub type_: &'a str,
    /// The subtype as sent.
    pub subtype: &'a str,
    /// Parameters in order, repeats kept.
    pub params: Vec<Param<'a>>,
}

impl MediaType<'_> {
    /// Whether this is `type_/subtype`, ignoring ASCII case.
    pub fn is(&self, type_: &str, subtype: &str) -> bool {
        self.type_.eq_ignore_ascii_case(type_) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// `type/subtype` in lower case, without parameters.
    pub fn essence(&self) -> String {
        format!("{}/{}", self.type_, self.subtype).to_ascii_lowercase()
    }

    /// The value of the first parameter called `name` (ignoring ASCII case).
    pub fn param(&self, name: &str) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_ref())
    }

    /// The values of every parameter called `name` (ignoring ASCII case), in order.
    pub fn params_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.params
            .iter()
            .filter(move |p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_ref())
    }
}

/// A parsed `Content-Disposition` value such as
/// `form-data; name="f"; filename="a.txt"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDisposition<'a> {
    /// The disposition type as sent (`form-data`, `attachment`, …).
    pub disposition: &'a str,
    /// Parameters in order; no name appears twice (ignoring ASCII case).
    pub params: Vec<Param<'a>>,
}

impl ContentDisposition<'_> {
    /// Whether the type is `form-data` (ignoring ASCII case), as RFC 7578 §4.2 requires
    /// of every part.
    pub fn is_form_data(&self) -> bool {
        self.disposition.eq_ignore_ascii_case("form-data")
    }

    /// The value of the parameter `name` (ignoring ASCII case).
    pub fn param(&self, name: &str) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_ref())
    }

    /// The `name` parameter: the form field's name (RFC 7578 §4.2).
    pub fn name(&self) -> Option<&[u8]> {
        self.param("name")
    }

    /// The `filename*` parameter decoded (RFC 8187), if present and decodable.
    pub fn filename_ext(&self) -> Option<String> {
        self.param("filename*").and_then(decode_ext_value)
    }

    /// The file name: `filename*` decoded if present and decodable, else `filename`
    /// (invalid UTF-8 replaced by U+FFFD). Reported as sent otherwise: path parts,
    /// `..`, `%22` and control characters are left for the caller to deal with.
    pub fn filename(&self) -> Option<String> {
        self.filename_ext().or_else(|| {
            self.param("filename")
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
    }
}

/// How strictly [`parse_params`] reads a parameter list.
#[derive(Debug, Clone, Copy)]
struct Rules {
    /// OWS may stand around `=` (RFC 6266 implied LWS).
    ows_around_equals: bool,
    /// A `\` is an escape only before `"` or `\` (the Content-Disposition leniency).
    literal_backslash: bool,
}

/// RFC 9110 exactly.
const MEDIA_TYPE_RULES: Rules = Rules {
    ows_around_equals: false,
    literal_backslash: false,
};

/// RFC 6266 with the browser leniency on backslashes (see the module docs).
const DISPOSITION_RULES: Rules = Rules {
    ows_around_equals: true,
    literal_backslash: true,
};

/// Parses a media type (`Content-Type` value). `None` if it does not follow the
/// grammar in the module docs.
pub fn parse_media_type(input: &[u8]) -> Option<MediaType<'_>> {
    let input = trim_ows(input);
    let type_len = span_of(&TCHAR, input);
    if type_len == 0 || input.get(type_len) != Some(&b'/') {
        return None;
    }
    let rest = &input[type_len + 1..];
    let sub_len = span_of(&TCHAR, rest);
    if sub_len == 0 {
        return None;
    }
    let params = parse_params(input, type_len + 1 + sub_len, MEDIA_TYPE_RULES)?;
    Some(MediaType {
        type_: ascii(&input[..type_len]),
        subtype: ascii(&rest[..sub_len]),
        params,
    })
}

/// Parses a `Content-Disposition` value. `None` if it does not follow the grammar in
/// the module docs, or names a parameter twice.
pub fn parse_content_disposition(input: &[u8]) -> Option<ContentDisposition<'_>> {
    let input = trim_ows(input);
    let type_len = span_of(&TCHAR, input);
    if type_len == 0 {
        return None;
    }
    let params = parse_params(input, type_len, DISPOSITION_RULES)?;
    for (i, p) in params.iter().enumerate() {
        if params[..i]
            .iter()
            .any(|q| q.name.eq_ignore_ascii_case(p.name))
        {
            return None;
        }
    }
    Some(ContentDisposition {
        disposition: ascii(&input[..type_len]),
        params,
    })
}

/// Decodes an RFC 8187 `ext-value` (`UTF-8''%e2%82%ac.txt` → `€.txt`). `None` for
/// a charset other than UTF-8 or ISO-8859-1, a malformed value, or bytes that are not
/// valid in the charset.
pub fn decode_ext_value(value: &[u8]) -> Option<String> {
    let q1 = value.iter().position(|&b| b == b'\'')?;
    let charset = &value[..q1];
    // The language tag is optional and not used; it may not hold a quote.
    let q2 = q1 + 1 + value[q1 + 1..].iter().position(|&b| b == b'\'')?;
    let chars = &value[q2 + 1..];
    let mut bytes = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let b = chars[i];
        if b == b'%' {
            let hi = HEX_VALUE[*chars.get(i + 1)? as usize];
            let lo = HEX_VALUE[*chars.get(i + 2)? as usize];
            if hi == 0xFF || lo == 0xFF {
                return None;
            }
            bytes.push(hi << 4 | lo);
            i += 3;
        } else if ATTR_CHAR[b as usize] {
            bytes.push(b);
            i += 1;
        } else {
            return None;
        }
    }
    if charset.eq_ignore_ascii_case(b"UTF-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case(b"ISO-8859-1") {
        // Latin-1 bytes are the first 256 code points.
        Some(bytes.iter().map(|&b| char::from(b)).collect())
    } else {
        None
    }
}

/// A token's bytes as `&str` (tokens are ASCII, so this cannot fail).
fn ascii(token: &[u8]) -> &str {
    std::str::from_utf8(token).expect("tokens are ASCII")
}

fn skip_ows(input: &[u8], mut i: usize) -> usize {
    while i < input.len() && is_ows(input[i]) {
        i += 1;
    }
    i
}

/// `*( OWS ";" OWS [ parameter ] )` from `input[i..]` to the end of `input`.
fn parse_params(input: &[u8], mut i: usize, rules: Rules) -> Option<Vec<Param<'_>>> {
    let mut params = Vec::new();
    loop {
        i = skip_ows(input, i);
        if i == input.len() {
            return Some(params);
        }
        if input[i] != b';' {
            return None;
        }
        i = skip_ows(input, i + 1);
        // `[ parameter ]`: nothing between two semicolons, or after the last one.
        if i == input.len() || input[i] == b';' {
            continue;
        }
        let name_len = span_of(&TCHAR, &input[i..]);
        if name_len == 0 {
            return None;
        }
        let name = ascii(&input[i..i + name_len]);
        i += name_len;
        if rules.ows_around_equals {
            i = skip_ows(input, i);
        }
        if input.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        if rules.ows_around_equals {
            i = skip_ows(input, i);
        }
        let value;
        if input.get(i) == Some(&b'"') {
            (value, i) = quoted_string(input, i + 1, rules)?;
        } else {
            let len = span_of(&TCHAR, &input[i..]);
            if len == 0 {
                return None;
            }
            value = Cow::Borrowed(&input[i..i + len]);
            i += len;
        }
        params.push(Param { name, value });
    }
}

/// The rest of a quoted-string whose opening DQUOTE is just before `input[i]`.
/// Returns the unescaped value and the index after the closing DQUOTE. Borrows when
/// there is no backslash escape.
fn quoted_string(input: &[u8], start: usize, rules: Rules) -> Option<(Cow<'_, [u8]>, usize)> {
    // Fast path: plain qdtext up to the closing quote.
    let plain = span_of(&QDTEXT, &input[start..]);
    let mut i = start + plain;
    match input.get(i) {
        Some(b'"') => return Some((Cow::Borrowed(&input[start..i]), i + 1)),
        Some(b'\\') => {}
        _ => return None,
    }
    let mut out = input[start..i].to_vec();
    while let Some(&b) = input.get(i) {
        match b {
            b'"' => return Some((Cow::Owned(out), i + 1)),
            b'\\' => {
                let next = *input.get(i + 1)?;
                if rules.literal_backslash {
                    if next == b'"' || next == b'\\' {
                        out.push(next);
                        i += 2;
                    } else {
                        out.push(b'\\');
                        i += 1;
                    }
                } else if QUOTED_PAIR[next as usize] {
                    out.push(next);
                    i += 2;
                } else {
                    return None;
                }
            }
            _ if QDTEXT[b as usize] => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, type, subtype, [(name, value)]) or None for invalid.
    type MediaCase = (
        &'static [u8],
        Option<(
            &'static str,
            &'static str,
            &'static [(&'static str, &'static [u8])],
        )>,
    );

    #[test]
    fn media_types() {
        let cases: &[MediaCase] = &[
            (b"text/plain", Some(("text", "plain", &[]))),
            (b"  text/plain \t", Some(("text", "plain", &[]))),
            (
                b"text/plain; charset=utf-8",
                Some(("text", "plain", &[("charset", b"utf-8")])),
            ),
            (
                b"Multipart/Form-Data;BOUNDARY=abc",
                Some(("Multipart", "Form-Data", &[("BOUNDARY", b"abc")])),
            ),
            (
                b"multipart/form-data; boundary=\"a b:c\"",
                Some(("multipart", "form-data", &[("boundary", b"a b:c")])),
            ),
            (
                b"a/b; x=\"q\\\"uo\\\\te\\a\"",
                Some(("a", "b", &[("x", b"q\"uo\\tea")])),
            ),
            (b"a/b; x=\"\"", Some(("a", "b", &[("x", b"")]))),
            (
                b"a/b; x=\"\xc3\xa9\"",
                Some(("a", "b", &[("x", b"\xc3\xa9")])),
            ),
            (b"a/b;;; x=1 ;", Some(("a", "b", &[("x", b"1")]))),
            (b"a/b;", Some(("a", "b", &[]))),
            (
                b"a/b; x=1; x=2",
                Some(("a", "b", &[("x", b"1"), ("x", b"2")])),
            ),
            (b"a/b ; x=1", Some(("a", "b", &[("x", b"1")]))),
            // invalid
            (b"", None),
            (b"text", None),
            (b"text/", None),
            (b"/plain", None),
            (b"text /plain", None),
            (b"text/ plain", None),
            (b"text/plain x", None),
            (b"text/plain; x", None),
            (b"text/plain; x=", None),
            (b"text/plain; x = 1", None),
            (b"text/plain; =1", None),
            (b"text/plain; x=\"open", None),
            (b"text/plain; x=\"a\"b", None),
            (b"text/plain; x=a b", None),
            (b"text/plain; x=\"\\\x01\"", None),
            (b"text/plain; x=\"\x01\"", None),
            (b"text/plain; x=\"a\\", None),
            (b"text/pl@in", None),
        ];
        for &(input, want) in cases {
            let got = parse_media_type(input);
            let shown = String::from_utf8_lossy(input);
            match (got, want) {
                (None, None) => {}
                (Some(m), Some((t, s, params))) => {
                    assert_eq!((m.type_, m.subtype), (t, s), "{shown}");
                    let got: Vec<(&str, &[u8])> = m
                        .params
                        .iter()
                        .map(|p| (p.name, p.value.as_ref()))
                        .collect();
                    assert_eq!(got, params, "{shown}");
                }
                (got, want) => panic!("{shown}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn media_type_helpers() {
        let m = parse_media_type(b"Multipart/Form-Data; Boundary=x; boundary=y").unwrap();
        assert!(m.is("multipart", "form-data"));
        assert!(!m.is("multipart", "mixed"));
        assert_eq!(m.essence(), "multipart/form-data");
        assert_eq!(m.param("BOUNDARY"), Some(&b"x"[..]));
        assert_eq!(m.params_named("boundary").count(), 2);
        assert_eq!(m.param("charset"), None);
    }

    #[test]
    fn unescaping_borrows_unless_it_must_copy() {
        let m = parse_media_type(b"a/b; x=\"plain\"; y=\"es\\\"c\"").unwrap();
        assert!(matches!(m.params[0].value, Cow::Borrowed(b"plain")));
        assert!(matches!(&m.params[1].value, Cow::Owned(v) if v == b"es\"c"));
    }

    /// (input, disposition, name, filename as `filename()` gives it) or None.
    type DispositionCase = (
        &'static [u8],
        Option<(&'static str, Option<&'static [u8]>, Option<&'static str>)>,
    );

    #[test]
    fn content_dispositions() {
        let cases: &[DispositionCase] = &[
            (
                b"form-data; name=\"field1\"",
                Some(("form-data", Some(b"field1"), None)),
            ),
            (
                b"form-data; name=\"f\"; filename=\"a.txt\"",
                Some(("form-data", Some(b"f"), Some("a.txt"))),
            ),
            (b"form-data; name=f", Some(("form-data", Some(b"f"), None))),
            (
                b"Form-Data; NAME=\"f\"; FileName=\"a.txt\"",
                Some(("Form-Data", Some(b"f"), Some("a.txt"))),
            ),
            (
                b"form-data ; name = \"f\" ; filename = a.txt",
                Some(("form-data", Some(b"f"), Some("a.txt"))),
            ),
            (b"attachment", Some(("attachment", None, None))),
            // An empty file input: the browser sends an empty filename.
            (
                b"form-data; name=\"f\"; filename=\"\"",
                Some(("form-data", Some(b"f"), Some(""))),
            ),
            // filename* wins over filename.
            (
                b"form-data; name=\"f\"; filename=\"euro.txt\"; filename*=UTF-8''%e2%82%ac.txt",
                Some(("form-data", Some(b"f"), Some("\u{20ac}.txt"))),
            ),
            (
                b"form-data; name=\"f\"; filename*=utf-8'en'%E2%82%AC%20rates.txt",
                Some(("form-data", Some(b"f"), Some("\u{20ac} rates.txt"))),
            ),
            (
                b"form-data; name=\"f\"; filename*=ISO-8859-1''caf%e9.txt",
                Some(("form-data", Some(b"f"), Some("caf\u{e9}.txt"))),
            ),
            // An undecodable filename* falls back to filename.
            (
                b"form-data; name=\"f\"; filename=\"a.txt\"; filename*=UTF-8''%ff.txt",
                Some(("form-data", Some(b"f"), Some("a.txt"))),
            ),
            (
                b"form-data; name=\"f\"; filename=\"a.txt\"; filename*=KOI8-R''%c1.txt",
                Some(("form-data", Some(b"f"), Some("a.txt"))),
            ),
            (
                b"form-data; name=\"f\"; filename*=UTF-8''%zz",
                Some(("form-data", Some(b"f"), None)),
            ),
            // Raw UTF-8 in the quoted string (what browsers send).
            (
                b"form-data; name=\"f\"; filename=\"\xe2\x82\xac.txt\"",
                Some(("form-data", Some(b"f"), Some("\u{20ac}.txt"))),
            ),
            // Invalid UTF-8 becomes U+FFFD.
            (
                b"form-data; name=\"f\"; filename=\"\xff.txt\"",
                Some(("form-data", Some(b"f"), Some("\u{fffd}.txt"))),
            ),
            // WHATWG escapes are reported as sent.
            (
                b"form-data; name=\"f\"; filename=\"a%22b%0D%0Ac.txt\"",
                Some(("form-data", Some(b"f"), Some("a%22b%0D%0Ac.txt"))),
            ),
            // Windows paths: backslashes before other bytes are literal.
            (
                b"form-data; name=\"f\"; filename=\"C:\\Users\\me\\cat.png\"",
                Some(("form-data", Some(b"f"), Some("C:\\Users\\me\\cat.png"))),
            ),
            // ... but \" and \\ are still escapes.
            (
                b"form-data; name=\"f\"; filename=\"say \\\"hi\\\" \\\\o/\"",
                Some(("form-data", Some(b"f"), Some("say \"hi\" \\o/"))),
            ),
            (
                b"form-data; name=\"f\"; filename=\"../../etc/passwd\"",
                Some(("form-data", Some(b"f"), Some("../../etc/passwd"))),
            ),
            // invalid
            (b"", None),
            (b"; name=f", None),
            (b"form-data; name=\"f\"; name=\"g\"", None),
            (b"form-data; name=\"f\"; NAME=\"g\"", None),
            (b"form-data; name=\"f", None),
            (b"form-data; name=\"f\" x", None),
            (b"form-data name=\"f\"", None),
            (b"form-data; name", None),
            (b"form-data; name=", None),
            // A trailing backslash escapes the closing quote: unterminated.
            (b"form-data; name=\"f\"; filename=\"C:\\dir\\\"", None),
        ];
        for &(input, want) in cases {
            let shown = String::from_utf8_lossy(input);
            match (parse_content_disposition(input), want) {
                (None, None) => {}
                (Some(cd), Some((disp, name, filename))) => {
                    assert_eq!(cd.disposition, disp, "{shown}");
                    assert_eq!(cd.name(), name, "{shown}");
                    assert_eq!(cd.filename().as_deref(), filename, "{shown}");
                }
                (got, want) => panic!("{shown}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn backslash_leniency_is_only_for_content_disposition() {
        // The same bytes, read both ways.
        let value = b"x; p=\"C:\\Users\\a\\\"b\"";
        let cd = parse_content_disposition(value).unwrap();
        assert_eq!(cd.param("p"), Some(&b"C:\\Users\\a\"b"[..]));
        let mut media = b"a/".to_vec();
        media.extend_from_slice(value);
        let m = parse_media_type(&media).unwrap();
        assert_eq!(m.param("p"), Some(&b"C:Usersa\"b"[..]));
    }

    #[test]
    fn form_data_detection() {
        let cd = parse_content_disposition(b"FORM-DATA; name=x").unwrap();
        assert!(cd.is_form_data());
        let cd = parse_content_disposition(b"attachment; name=x").unwrap();
        assert!(!cd.is_form_data());
    }

    #[test]
    fn ext_values() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"UTF-8''%e2%82%ac.txt", Some("\u{20ac}.txt")),
            (b"UTF-8''plain", Some("plain")),
            (b"UTF-8''", Some("")),
            (b"utf-8'de-DE'a%20b", Some("a b")),
            (b"iso-8859-1''%A3%20rates", Some("\u{a3} rates")),
            (b"UTF-8''!#$&+-.^_`|~", Some("!#$&+-.^_`|~")),
            (b"UTF-8''a b", None),
            (b"UTF-8''a\"b", None),
            (b"UTF-8''a%2", None),
            (b"UTF-8''a%", None),
            (b"UTF-8''%c3", None),
            (b"UTF-8'a%20b", None),
            (b"''a", None),
            (b"a", None),
            (b"US-ASCII''a", None),
        ];
        for &(input, want) in cases {
            assert_eq!(
                decode_ext_value(input).as_deref(),
                want,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn attr_char_matches_its_abnf() {
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b);
            assert_eq!(ATTR_CHAR[b as usize], want, "{b:#04x}");
        }
    }
}
