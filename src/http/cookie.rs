//! The `Cookie` request header (parsed leniently) and the `Set-Cookie` response header
//! (rendered strictly from a typed builder), RFC 6265 §4.1–§4.2 and §5.4.
//!
//! # Theory of operation
//!
//! Incoming and outgoing cookies are deliberately asymmetric, as in cookie-rs:
//!
//! - **`Cookie:` in** ([`parse_cookie_header`]) is read the way browsers actually
//!   send it, not the way RFC 6265 §4.2.1 says servers should expect it. A browser
//!   stores whatever another server (or `document.cookie`) set, so a strict parser
//!   would make one odd cookie hide all the others. Nothing in it is refused; odd
//!   pairs are skipped, and nothing panics.
//! - **`Set-Cookie:` out** ([`SetCookie`]) is built only from checked parts: a name
//!   that is a token, a value made of cookie-octets, a path and domain that cannot
//!   end the attribute or the header line. Bytes from a form can never inject an
//!   attribute or a header.
//!
//! # Parsing the `Cookie` header
//!
//! ```text
//! cookie-string = cookie-pair *( ";" SP cookie-pair )      ; RFC 6265 §4.2.1
//! cookie-pair   = cookie-name "=" cookie-value
//! ```
//!
//! What we accept (RFC 6265 §5.2 style, as cookie-rs and Django do):
//!
//! 1. split on `;` (only `;`: a `,` is kept inside values, as browsers send it);
//! 2. split each piece at its first `=`; a piece without `=` is skipped (**leniency:
//!    nameless cookies skipped**; Chrome sends a cookie set as `Set-Cookie: v`
//!    as a bare `v`, Django files it under the name `""`, we drop it);
//! 3. trim SP and HTAB around the name and the value (**leniency: whitespace
//!    around pairs and around `=`**; the grammar allows exactly one SP after `;`);
//! 4. skip a pair whose name is empty after trimming;
//! 5. keep the value **as sent, quotes included**: `a="x"` gives `"x"` with its
//!    DQUOTEs. RFC 6265 §4.1.1 makes the quotes part of the value, browsers keep
//!    them (`document.cookie`), and so does cookie-rs since 0.16 (`value()`; only
//!    `value_trimmed()` drops them). A value set as `"x"` by [`SetCookie`] reads
//!    back as `"x"`. No percent-decoding either: cookies are not URL-encoded.
//! 6. bytes that are not UTF-8 become U+FFFD (lossy), the pair is kept.
//!
//! Pairs stay in order and duplicates are kept: a browser sends two cookies of the
//! same name when they differ in path or domain, the more specific path first
//! (RFC 6265 §5.4 step 2), so [`cookie_get`] returns the **first** one (the SPEC's
//! "for a repeated cookie name the first one counts"). The header as a whole is
//! bounded by the header-section limit, so there is no separate count limit.
//!
//! # Rendering `Set-Cookie`
//!
//! ```text
//! set-cookie-string = cookie-pair *( ";" SP cookie-av )            ; RFC 6265 §4.1.1
//! cookie-name       = token                                        ; RFC 9110 §5.6.2
//! cookie-value      = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
//! cookie-octet      = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
//!                       ; US-ASCII characters excluding CTLs,
//!                       ; whitespace DQUOTE, comma, semicolon,
//!                       ; and backslash
//! max-age-av        = "Max-Age=" non-zero-digit *DIGIT
//! expires-av        = "Expires=" sane-cookie-date                  ; an IMF-fixdate
//! path-av           = "Path=" path-value
//! path-value        = <any CHAR except CTLs or ";">
//! domain-av         = "Domain=" domain-value
//! domain-value      = <subdomain>       ; RFC 1034 §3.5, as enhanced by RFC 1123 §2.1
//! ```
//!
//! Attributes are always rendered in this order, each at most once:
//! `name=value; Max-Age=N; Expires=<IMF-fixdate>; Path=P; Domain=D; Secure; HttpOnly;
//! SameSite=Lax`, e.g. `sessionid=abc; Max-Age=1209600; Path=/; HttpOnly; SameSite=Lax`.
//!
//! Choices:
//!
//! - `max_age(n)` with `n < 0` renders `Max-Age=0` (RFC 6265 §5.2.2 treats any
//!   `n ≤ 0` as "expire now"; `0` is what the grammar's spirit and every browser
//!   accept). Browsers cap large values at 400 days (RFC 6265bis §5.6.2); we
//!   render what we are given.
//! - A path must start with `/`: RFC 6265 §5.2.4 makes a user agent silently
//!   replace any other path with the default path, so we refuse it instead of
//!   setting a cookie that would not apply where the caller thinks.
//! - A domain's leading `.` is **stripped**: RFC 6265 §5.2.3 says user agents ignore
//!   it, so `.example.com` and `example.com` mean the same; the grammar does not
//!   allow the dot, so we render the form without it. Labels are 1–63 letters,
//!   digits and `-` (not first or last), at most 253 bytes in all; the domain is
//!   not lowercased (user agents do that, §5.2.3).
//! - **`SameSite=None` implies `Secure`**: browsers refuse a `SameSite=None` cookie
//!   without `Secure` (RFC 6265bis §5.6.7.1, Chrome 80+), so
//!   `same_site(SameSite::None)` also sets `Secure`, visible in the rendered header.
//!   (Browsers accept `Secure` cookies from `http://localhost`.)
//! - Sizes follow RFC 6265bis §5.6: a name plus value over [`MAX_NAME_VALUE_LEN`]
//!   bytes, or a path over [`MAX_ATTRIBUTE_VALUE_LEN`], would be ignored by the
//!   browser, so they are refused here.
//! - [`SetCookie::removal`] renders `name=; Max-Age=0; Expires=Thu, 01 Jan 1970
//!   00:00:00 GMT; Path=/`: `Max-Age=0` for RFC 6265 user agents (it wins over
//!   `Expires`, §5.3 step 3), the past `Expires` for older ones (as Django and
//!   cookie-rs do). A removal only matches the cookie with the same path and
//!   domain, so both can be set on it.

use std::fmt;

use crate::http::chars::{COOKIE_OCTET, COOKIE_PATH, LDH, TCHAR, trim_ows};
use crate::http::date::imf_fixdate;

/// Largest name + value, in bytes: RFC 6265bis §5.6 step 6, "If the sum of the
/// lengths of the name string and the value string is more than 4096 octets, abort
/// these steps and ignore the cookie entirely" (Chrome and Firefox enforce it).
pub const MAX_NAME_VALUE_LEN: usize = 4096;

/// Largest attribute value (here: the path), in bytes: RFC 6265bis §5.6 step 3,
/// "If the attribute-value contains more than 1024 octets, ignore the cookie-av".
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 1024;

/// Largest domain name, in bytes (RFC 1034 §3.1: 255 octets on the wire, which is
/// 253 characters in dotted form).
pub const MAX_DOMAIN_LEN: usize = 253;

/// Largest domain label, in bytes (RFC 1034 §3.5).
pub const MAX_LABEL_LEN: usize = 63;

/// `SameSite` attribute values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent only on same-site requests.
    Strict,
    /// Also sent on top-level cross-site navigations with a safe method (GET).
    Lax,
    /// Sent on cross-site requests too; requires `Secure`.
    None,
}

impl SameSite {
    /// The attribute value as rendered: `Strict`, `Lax` or `None`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// Why a Set-Cookie could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieError {
    /// The name is empty or not an RFC 9110 token.
    InvalidName,
    /// The value holds a byte outside cookie-octets (and is not a quoted cookie-octets string).
    InvalidValue,
    /// The path holds a control character or `;`.
    InvalidPath,
    /// The domain is not a valid domain name.
    InvalidDomain,
    /// Name and value together are longer than [`MAX_NAME_VALUE_LEN`].
    TooLong,
}

impl fmt::Display for CookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CookieError::InvalidName => {
                "cookie name must be a non-empty token (letters, digits and !#$%&'*+-.^_`|~)"
            }
            CookieError::InvalidValue => {
                "cookie value may only hold visible ASCII other than space, '\"', ',', ';' \
                 and '\\' (optionally inside one pair of double quotes)"
            }
            CookieError::InvalidPath => {
                "cookie path must start with '/' and hold at most 1024 ASCII characters, \
                 without control characters or ';'"
            }
            CookieError::InvalidDomain => {
                "cookie domain must be a host name: labels of letters, digits and '-', \
                 separated by '.'"
            }
            CookieError::TooLong => "cookie name and value together exceed 4096 bytes",
        })
    }
}

impl std::error::Error for CookieError {}

// ---------------------------------------------------------------------------
// Cookie: request header
// ---------------------------------------------------------------------------

/// Cookies sent by the client, in order; first of a repeated name wins in `get`.
/// Parse `name=value; name2=value2`.
///
/// Lenient (see the module docs): pairs without `=` or with an empty name are
/// skipped, SP/HTAB around names and values trimmed, values kept verbatim (quotes
/// included), invalid UTF-8 replaced with U+FFFD.
pub fn parse_cookie_header(value: &[u8]) -> Vec<(String, String)> {
    value
        .split(|&b| b == b';')
        .filter_map(|piece| {
            let eq = memchr::memchr(b'=', piece)?;
            let name = trim_ows(&piece[..eq]);
            if name.is_empty() {
                return None;
            }
            let value = trim_ows(&piece[eq + 1..]);
            Some((lossy(name), lossy(value)))
        })
        .collect()
}

/// The value of the first cookie called `name` (RFC 6265 §5.4 puts the one with
/// the longest path first).
pub fn cookie_get<'a>(cookies: &'a [(String, String)], name: &str) -> Option<&'a str> {
    cookies
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------
// Byte classes
// ---------------------------------------------------------------------------

/// `cookie-name = token` (RFC 6265 §4.1.1, token from RFC 9110 §5.6.2: `1*tchar`)
fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| TCHAR[b as usize])
}

/// `cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )`
fn is_valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let inner = match bytes {
        [b'"', inner @ .., b'"'] => inner,
        _ => bytes,
    };
    inner.iter().all(|&b| COOKIE_OCTET[b as usize])
}

/// `path-value = <any CHAR except CTLs or ";">` (RFC 6265 §4.1.1; `CHAR = %x01-7F`,
/// `CTL = %x00-1F / %x7F`), plus our rules: starts with `/`, at most
/// [`MAX_ATTRIBUTE_VALUE_LEN`] bytes.
fn is_valid_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= MAX_ATTRIBUTE_VALUE_LEN
        && path.bytes().all(|b| COOKIE_PATH[b as usize])
}

/// `subdomain = label / subdomain "." label` with `label = let-dig [ *61ldh let-dig ]`
/// (RFC 1034 §3.5; RFC 1123 §2.1 lets a label start with a digit).
fn is_valid_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= MAX_DOMAIN_LEN
        && domain.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= MAX_LABEL_LEN
                && b.iter().all(|&c| LDH[c as usize])
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

// ---------------------------------------------------------------------------
// Set-Cookie: response header
// ---------------------------------------------------------------------------

/// A Set-Cookie header value under construction.
///
/// ```
/// use wirepost::http::cookie::{SameSite, SetCookie};
/// let c = SetCookie::new("sessionid", "abc")
///     .unwrap()
///     .max_age(1_209_600)
///     .path("/")
///     .unwrap()
///     .http_only()
///     .same_site(SameSite::Lax);
/// assert_eq!(
///     c.to_string(),
///     "sessionid=abc; Max-Age=1209600; Path=/; HttpOnly; SameSite=Lax"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    name: String,
    value: String,
    max_age: Option<u64>,
    expires: Option<u64>,
    path: Option<String>,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

impl SetCookie {
    /// A cookie with no attributes (a browser keeps it until it closes).
    ///
    /// Refuses a name that is not a token ([`CookieError::InvalidName`]), a value
    /// outside cookie-octets ([`CookieError::InvalidValue`]), or a name and value
    /// longer than [`MAX_NAME_VALUE_LEN`] together ([`CookieError::TooLong`]).
    pub fn new(name: &str, value: &str) -> Result<SetCookie, CookieError> {
        if !is_valid_name(name) {
            return Err(CookieError::InvalidName);
        }
        if !is_valid_value(value) {
            return Err(CookieError::InvalidValue);
        }
        if name.len() + value.len() > MAX_NAME_VALUE_LEN {
            return Err(CookieError::TooLong);
        }
        Ok(SetCookie {
            name: name.to_owned(),
            value: value.to_owned(),
            max_age: None,
            expires: None,
            path: None,
            domain: None,
            secure: false,
            http_only: false,
            same_site: None,
        })
    }

    /// A header that deletes the cookie `name`: empty value, `Max-Age=0`, an
    /// `Expires` in 1970, `Path=/`. Set [`path`](Self::path) and
    /// [`domain`](Self::domain) again if the cookie was set with others.
    ///
    /// Fails like [`new`](Self::new) on a name that is not a token, since the name
    /// is written into the header.
    pub fn removal(name: &str) -> Result<SetCookie, CookieError> {
        let mut c = SetCookie::new(name, "")?;
        c.max_age = Some(0);
        c.expires = Some(0);
        c.path = Some("/".to_owned());
        Ok(c)
    }

    /// `Max-Age=secs`; a negative count is rendered as `0` (expire now).
    pub fn max_age(mut self, secs: i64) -> Self {
        self.max_age = Some(secs.max(0) as u64);
        self
    }

    /// `Expires=` the given time, as an IMF-fixdate.
    pub fn expires(mut self, unix_secs: u64) -> Self {
        self.expires = Some(unix_secs);
        self
    }

    /// `Path=path`. Refuses ([`CookieError::InvalidPath`]) a path that does not start
    /// with `/`, holds a control byte, `;` or non-ASCII, or is longer than
    /// [`MAX_ATTRIBUTE_VALUE_LEN`].
    pub fn path(mut self, path: &str) -> Result<Self, CookieError> {
        if !is_valid_path(path) {
            return Err(CookieError::InvalidPath);
        }
        self.path = Some(path.to_owned());
        Ok(self)
    }

    /// `Domain=domain`, one leading `.` stripped. Refuses
    /// ([`CookieError::InvalidDomain`]) anything but a host name of letters,
    /// digits, `-` and `.` (see the module docs).
    pub fn domain(mut self, domain: &str) -> Result<Self, CookieError> {
        let domain = domain.strip_prefix('.').unwrap_or(domain);
        if !is_valid_domain(domain) {
            return Err(CookieError::InvalidDomain);
        }
        self.domain = Some(domain.to_owned());
        Ok(self)
    }

    /// `Secure`: sent only over HTTPS (and to `localhost`).
    pub fn secure(mut self) -> Self {
        self.secure = true;
        self
    }

    /// `HttpOnly`: hidden from `document.cookie`.
    pub fn http_only(mut self) -> Self {
        self.http_only = true;
        self
    }

    /// `SameSite=…`. [`SameSite::None`] also sets `Secure`, which browsers require.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        if same_site == SameSite::None {
            self.secure = true;
        }
        self
    }

    /// The cookie name, as given to [`SetCookie::new`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie value, as given to [`SetCookie::new`].
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Append the header value (without `Set-Cookie: ` and without CRLF) to `out`.
    pub fn render(&self, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail.
        let _ = self.write_to(&mut VecWriter(out));
    }

    /// The one place the attribute order is decided.
    fn write_to(&self, w: &mut impl fmt::Write) -> fmt::Result {
        w.write_str(&self.name)?;
        w.write_char('=')?;
        w.write_str(&self.value)?;
        if let Some(secs) = self.max_age {
            write!(w, "; Max-Age={secs}")?;
        }
        if let Some(secs) = self.expires {
            w.write_str("; Expires=")?;
            // An IMF-fixdate is ASCII.
            for b in imf_fixdate(secs) {
                w.write_char(char::from(b))?;
            }
        }
        if let Some(path) = &self.path {
            write!(w, "; Path={path}")?;
        }
        if let Some(domain) = &self.domain {
            write!(w, "; Domain={domain}")?;
        }
        if self.secure {
            w.write_str("; Secure")?;
        }
        if self.http_only {
            w.write_str("; HttpOnly")?;
        }
        if let Some(same_site) = self.same_site {
            write!(w, "; SameSite={}", same_site.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Display for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

/// `fmt::Write` into a byte buffer, so `render` and `Display` share one code path.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(header: &[u8]) -> Vec<(String, String)> {
        parse_cookie_header(header)
    }

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // --- Cookie: parsing -------------------------------------------------------

    #[test]
    fn parse_table() {
        type Case<'a> = (&'a [u8], &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            (b"", &[]),
            (b"a=1", &[("a", "1")]),
            (b"a=1; b=2", &[("a", "1"), ("b", "2")]),
            (b"a=1;b=2", &[("a", "1"), ("b", "2")]),
            (b"a=1;  b=2 ;\tc=3\t", &[("a", "1"), ("b", "2"), ("c", "3")]),
            (b" a = 1 ", &[("a", "1")]),
            (b"a=1=2", &[("a", "1=2")]),
            (b"a=", &[("a", "")]),
            (b"a=; b=2", &[("a", ""), ("b", "2")]),
            (b"a=\"x\"", &[("a", "\"x\"")]), // quotes kept
            (b"a=\"x", &[("a", "\"x")]),
            (b"a=x,y", &[("a", "x,y")]), // no split on comma
            (b"a=%20", &[("a", "%20")]), // no percent-decoding
            (b"a=x y", &[("a", "x y")]), // inner space kept
            (b"a=1; a=2", &[("a", "1"), ("a", "2")]),
            (b";;a=1;;", &[("a", "1")]),
            (b"=x; a=1", &[("a", "1")]),   // empty name skipped
            (b" =x; a=1", &[("a", "1")]),  // empty after trim
            (b"flag; a=1", &[("a", "1")]), // no "=" skipped
            (b"a=1; flag", &[("a", "1")]),
            (b"a=caf\xc3\xa9", &[("a", "café")]),
            (b"a=\xff", &[("a", "\u{FFFD}")]), // lossy
            (b"\xfe=1", &[("\u{FFFD}", "1")]),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parsed(input),
                p(expected),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// Leniency both ways: the strict grammar's form and the sloppy forms agree.
    #[test]
    fn whitespace_leniency_both_ways() {
        let strict = parsed(b"a=1; b=2");
        assert_eq!(strict, p(&[("a", "1"), ("b", "2")]));
        for sloppy in [
            &b"a=1;b=2"[..],
            b" a=1 ; b=2 ",
            b"a = 1;\tb\t=\t2",
            b"a=1;   b=2;",
        ] {
            assert_eq!(
                parsed(sloppy),
                strict,
                "{:?}",
                String::from_utf8_lossy(sloppy)
            );
        }
        // Only SP and HTAB are trimmed: other whitespace stays.
        assert_eq!(parsed(b"a=1\x0b"), p(&[("a", "1\x0b")]));
    }

    #[test]
    fn first_of_repeated_name_wins() {
        let cookies = parsed(b"sessionid=first; x=1; sessionid=second");
        assert_eq!(cookie_get(&cookies, "sessionid"), Some("first"));
        assert_eq!(cookie_get(&cookies, "x"), Some("1"));
        assert_eq!(cookie_get(&cookies, "missing"), None);
        assert_eq!(
            cookie_get(&cookies, "SESSIONID"),
            None,
            "names are case-sensitive"
        );
        assert_eq!(cookies.len(), 3, "duplicates are kept");
    }

    #[test]
    fn garbage_never_panics() {
        let alphabet = b"=; \t\"a\xff\xc3,";
        let mut buf = Vec::new();
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for d in alphabet {
                        buf.clear();
                        buf.extend_from_slice(&[*a, *b, *c, *d]);
                        for (name, _) in parse_cookie_header(&buf) {
                            assert!(!name.is_empty());
                        }
                    }
                }
            }
        }
        let all: Vec<u8> = (0..=255).collect();
        let _ = parse_cookie_header(&all);
    }

    // --- Set-Cookie: building ---------------------------------------------------

    #[test]
    fn render_session_cookie() {
        let c = SetCookie::new("sessionid", "abc")
            .unwrap()
            .max_age(1_209_600)
            .path("/")
            .unwrap()
            .http_only()
            .same_site(SameSite::Lax);
        assert_eq!(
            c.to_string(),
            "sessionid=abc; Max-Age=1209600; Path=/; HttpOnly; SameSite=Lax"
        );
        let mut out = b"Set-Cookie: ".to_vec();
        c.render(&mut out);
        assert_eq!(
            out,
            b"Set-Cookie: sessionid=abc; Max-Age=1209600; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!((c.name(), c.value()), ("sessionid", "abc"));
    }

    #[test]
    fn attribute_order_is_fixed() {
        // Set in reverse order; rendered in the documented order.
        let c = SetCookie::new("a", "b")
            .unwrap()
            .same_site(SameSite::Strict)
            .http_only()
            .secure()
            .domain("example.com")
            .unwrap()
            .path("/x")
            .unwrap()
            .expires(784_111_777)
            .max_age(60);
        assert_eq!(
            c.to_string(),
            "a=b; Max-Age=60; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Path=/x; \
             Domain=example.com; Secure; HttpOnly; SameSite=Strict"
        );
        let mut out = Vec::new();
        c.render(&mut out);
        assert_eq!(out, c.to_string().into_bytes());
    }

    #[test]
    fn bare_cookie_has_no_attributes() {
        assert_eq!(SetCookie::new("a", "").unwrap().to_string(), "a=");
        assert_eq!(SetCookie::new("a", "1").unwrap().to_string(), "a=1");
    }

    #[test]
    fn history_cookie_value() {
        // The SPEC's history cookie: ids, newest first, separated by a cookie-octet.
        let c = SetCookie::new("history", "3.1.4")
            .unwrap()
            .max_age(30 * 86_400)
            .path("/")
            .unwrap();
        assert_eq!(c.to_string(), "history=3.1.4; Max-Age=2592000; Path=/");
        assert_eq!(
            SetCookie::new("history", "3,1,4"),
            Err(CookieError::InvalidValue)
        );
    }

    #[test]
    fn max_age_negative_is_zero() {
        let r = |n| SetCookie::new("a", "b").unwrap().max_age(n).to_string();
        assert_eq!(r(-1), "a=b; Max-Age=0");
        assert_eq!(r(i64::MIN), "a=b; Max-Age=0");
        assert_eq!(r(0), "a=b; Max-Age=0");
        assert_eq!(r(1), "a=b; Max-Age=1");
        assert_eq!(r(i64::MAX), format!("a=b; Max-Age={}", i64::MAX));
    }

    #[test]
    fn removal() {
        let c = SetCookie::removal("history").unwrap();
        assert_eq!(
            c.to_string(),
            "history=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"
        );
        let c = SetCookie::removal("x")
            .unwrap()
            .path("/cookies/")
            .unwrap()
            .domain("localhost")
            .unwrap();
        assert_eq!(
            c.to_string(),
            "x=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/cookies/; \
             Domain=localhost"
        );
        assert_eq!(SetCookie::removal("a b"), Err(CookieError::InvalidName));
        assert_eq!(SetCookie::removal(""), Err(CookieError::InvalidName));
    }

    #[test]
    fn same_site_none_implies_secure() {
        let c = SetCookie::new("a", "b").unwrap().same_site(SameSite::None);
        assert_eq!(c.to_string(), "a=b; Secure; SameSite=None");
        // The other values leave Secure alone.
        let c = SetCookie::new("a", "b").unwrap().same_site(SameSite::Lax);
        assert_eq!(c.to_string(), "a=b; SameSite=Lax");
        let c = SetCookie::new("a", "b")
            .unwrap()
            .same_site(SameSite::Strict);
        assert_eq!(c.to_string(), "a=b; SameSite=Strict");
    }

    #[test]
    fn value_acceptance() {
        let ok = [
            "",
            "abc",
            "\"\"",
            "\"abc\"",
            "!#$%&'()*+-./0123456789:<=>?@AZ[]^_`az{|}~",
            "a=b",
            "eyJhbGciOi.J9-_",
        ];
        for v in ok {
            let c = SetCookie::new("n", v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
            assert_eq!(c.to_string(), format!("n={v}"));
        }
        // Every cookie-octet alone is accepted, everything else in ASCII refused.
        for b in 0u8..0x80 {
            let v = char::from(b).to_string();
            let expected =
                matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E);
            assert_eq!(SetCookie::new("n", &v).is_ok(), expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn value_refusals() {
        let bad = [
            "a b",       // space
            "a;b",       // semicolon: would start an attribute
            "a,b",       // comma
            "a\"b",      // DQUOTE inside
            "\"",        // a lone DQUOTE
            "\"a",       // unbalanced quotes
            "a\"",       //
            "\"a\"b\"",  // DQUOTE inside quotes
            "\"a b\"",   // space inside quotes
            "a\\b",      // backslash
            "a\x7fb",    // DEL
            "a\tb",      // HTAB
            "a\r\nX: y", // header injection
            "\0",        // NUL
            "café",      // non-ASCII
            "\u{FFFD}",  //
        ];
        for v in bad {
            assert_eq!(
                SetCookie::new("n", v),
                Err(CookieError::InvalidValue),
                "{v:?}"
            );
        }
    }

    #[test]
    fn name_refusals_and_acceptance() {
        for n in ["a", "sessionid", "__Host-id", "!#$%&'*+-.^_`|~09AZaz"] {
            assert!(SetCookie::new(n, "v").is_ok(), "{n:?}");
        }
        let bad = [
            "", "a b", "a=b", "a;b", "a,b", "\"a\"", "a\\b", "a/b", "a:b", "a@b", "(a)", "[a]",
            "{a}", "a?b", "a\tb", "a\x7f", "a\r\n", "é",
        ];
        for n in bad {
            assert_eq!(
                SetCookie::new(n, "v"),
                Err(CookieError::InvalidName),
                "{n:?}"
            );
        }
    }

    #[test]
    fn name_value_length_at_limit_and_over() {
        let name = "n";
        let at = "v".repeat(MAX_NAME_VALUE_LEN - name.len());
        assert!(SetCookie::new(name, &at).is_ok());
        let over = "v".repeat(MAX_NAME_VALUE_LEN - name.len() + 1);
        assert_eq!(SetCookie::new(name, &over), Err(CookieError::TooLong));
    }

    #[test]
    fn path_acceptance_and_refusals() {
        for path in ["/", "/cookies/", "/a b", "/a,b\"c\\d", "/%2F?q=1#f"] {
            let c = SetCookie::new("a", "b").unwrap().path(path).unwrap();
            assert_eq!(c.to_string(), format!("a=b; Path={path}"));
        }
        let bad = [
            "",
            "cookies",
            "/a;b",
            "/a\r\nX: y",
            "/\0",
            "/\x7f",
            "/\t",
            "/café",
        ];
        for path in bad {
            assert_eq!(
                SetCookie::new("a", "b").unwrap().path(path),
                Err(CookieError::InvalidPath),
                "{path:?}"
            );
        }
    }

    #[test]
    fn path_length_at_limit_and_over() {
        let at = format!("/{}", "p".repeat(MAX_ATTRIBUTE_VALUE_LEN - 1));
        assert_eq!(at.len(), MAX_ATTRIBUTE_VALUE_LEN);
        assert!(SetCookie::new("a", "b").unwrap().path(&at).is_ok());
        let over = format!("{at}p");
        assert_eq!(
            SetCookie::new("a", "b").unwrap().path(&over),
            Err(CookieError::InvalidPath)
        );
    }

    #[test]
    fn domain_acceptance_and_refusals() {
        let ok = [
            ("example.com", "example.com"),
            (".example.com", "example.com"), // one leading dot stripped
            ("localhost", "localhost"),
            ("127.0.0.1", "127.0.0.1"),
            ("a-b.c0.EXAMPLE", "a-b.c0.EXAMPLE"),
            ("3com.net", "3com.net"), // RFC 1123: digit first
        ];
        for (input, rendered) in ok {
            let c = SetCookie::new("a", "b").unwrap().domain(input).unwrap();
            assert_eq!(c.to_string(), format!("a=b; Domain={rendered}"));
        }
        let bad = [
            "",
            ".",
            "..example.com", // only one dot is stripped
            "example.com.",
            "a..b",
            "-a.com",
            "a-.com",
            "a_b.com",
            "a b.com",
            "a;b",
            "exa\r\nmple",
            "café.fr",
            "example.com:8000",
            "[::1]",
        ];
        for d in bad {
            assert_eq!(
                SetCookie::new("a", "b").unwrap().domain(d),
                Err(CookieError::InvalidDomain),
                "{d:?}"
            );
        }
    }

    #[test]
    fn domain_lengths_at_limit_and_over() {
        let ok = |d: &str| SetCookie::new("a", "b").unwrap().domain(d).is_ok();
        assert!(ok(&"a".repeat(MAX_LABEL_LEN)));
        assert!(!ok(&"a".repeat(MAX_LABEL_LEN + 1)));
        // 4 labels of 63 + 3 dots = 255; trim to exactly 253 and 254.
        let long = [&"a".repeat(63)[..]; 4].join(".");
        let at = &long[..MAX_DOMAIN_LEN];
        assert!(!at.ends_with('.'));
        assert!(ok(at));
        let over = format!("{at}a");
        assert_eq!(over.len(), MAX_DOMAIN_LEN + 1);
        assert!(!ok(&over));
    }

    /// A value set through the builder reads back unchanged through the parser.
    #[test]
    fn set_then_parse_round_trip() {
        for v in [
            "abc",
            "\"quoted\"",
            "",
            "a=b",
            "!#$%&'()*+-./:<=>?@[]^_`{|}~",
        ] {
            let c = SetCookie::new("n", v).unwrap().path("/").unwrap();
            // What a browser sends back: `name=value`.
            let header = format!("{}={}", c.name(), c.value());
            let cookies = parse_cookie_header(header.as_bytes());
            assert_eq!(cookie_get(&cookies, "n"), Some(v), "{v:?}");
        }
    }

    #[test]
    fn error_messages() {
        assert!(CookieError::InvalidValue.to_string().contains("value"));
        assert!(CookieError::InvalidName.to_string().contains("name"));
        assert!(CookieError::InvalidPath.to_string().contains("path"));
        assert!(CookieError::InvalidDomain.to_string().contains("domain"));
        assert!(CookieError::TooLong.to_string().contains("4096"));
    }
}
