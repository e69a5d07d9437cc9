//! From a parsed head to the message's framing (RFC 9112 §6.1–§6.3, §9.3, RFC 9110 §7.2).
//!
//! Theory of operation: [`framing`] walks the header fields once, noting Host,
//! Content-Length, Transfer-Encoding, Connection and Expect, then applies the rules in
//! a fixed order, so the same head always gives the same error:
//!
//! 1. In header order: a second `Host` → [`ErrorKind::MultipleHost`]; a
//!    `Content-Length` that is not `1*DIGIT` (or a list of them) →
//!    [`ErrorKind::InvalidContentLength`]; values that differ, within one list
//!    (`3, 5`) or from an earlier line → [`ErrorKind::ConflictingContentLength`].
//! 2. HTTP/1.1 without `Host` → [`ErrorKind::MissingHost`] (RFC 9112 §3.2: even with an
//!    absolute-form target, whose authority then wins: see [`authority`]); a Host that
//!    is not `uri-host [ ":" port ]` → [`ErrorKind::InvalidHost`].
//! 3. `Transfer-Encoding` in HTTP/1.0 → [`ErrorKind::TransferEncodingInHttp10`]
//!    (RFC 9112 §6.1: faulty framing).
//! 4. Both `Content-Length` and `Transfer-Encoding` →
//!    [`ErrorKind::ContentLengthWithTransferEncoding`] (RFC 9112 §6.1 allows a server to
//!    reject it; we do, it is the classic smuggling vector).
//! 5. A `Transfer-Encoding` whose codings, over all its field lines, are anything but
//!    exactly one `chunked` → [`ErrorKind::UnsupportedTransferEncoding`] (501, as the
//!    SPEC's table says). That covers `gzip, chunked` (we decode no other coding),
//!    `identity`, an empty value, `chunked, chunked` (RFC 9112 §6.1: chunked MUST NOT
//!    be applied twice) and `chunked, gzip`. For the last one RFC 9112 §6.3 says 400
//!    (the body length cannot be determined); we answer 501 like the other cases,
//!    and the connection is closed either way.
//!
//! Decisions:
//! - An **empty Host** is accepted: RFC 9112 §3.2 has clients send it when the target
//!   URI has no authority, and `uri-host` may be an empty reg-name.
//! - **Content-Length** `5, 5` and two lines `5` are one value (RFC 9110 §8.6); numbers
//!   are compared by value (`05` equals `5`); anything bigger than `u64` is invalid.
//! - **The `Host` check** is remembered per connection ([`HostMemo`], used by
//!   [`framing_with`]): the next request naming the same valid host is not checked
//!   again; any other value is.
//! - **Connection** and **Transfer-Encoding** are comma lists (RFC 9110 §5.6.1): empty
//!   elements are skipped, tokens compared case-insensitively.
//!
//! Every error carries the line of the header field it is about (for a missing Host,
//! the request line) and the byte where its name or value starts.

use crate::http::chars::{same_bytes, trim_ows};
use crate::http::error::{ErrorKind, ParseError};
use crate::http::head::{
    HeaderSpan, RequestHead, TargetForm, Version, split_authority, target_authority,
};

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (no Content-Length, no Transfer-Encoding, or `Content-Length: 0`).
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// What the head says about the message as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// How the request body is delimited.
    pub body: BodyKind,
    /// Whether the connection may stay open after this exchange (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent (HTTP/1.1 only).
    pub expect_continue: bool,
}

fn err_at(kind: ErrorKind, h: &HeaderSpan, byte: u32) -> ParseError {
    ParseError::new(kind, h.line, u64::from(byte))
}

/// Whether `name` is `lower` (lowercase letters, digits and `-`) in any case, a word at
/// a time: a byte folds to lowercase with `| 0x20` where `lower` has a letter, and must
/// be equal elsewhere (so `{` is not `[`, nor CR `-`). Words overlap for lengths that
/// are not a multiple of their size; `lower` is a constant, so its words and masks are
/// worked out at compile time once this is inlined.
#[inline(always)]
fn is_named(name: &[u8], lower: &[u8]) -> bool {
    let n = lower.len();
    if name.len() != n {
        return false;
    }
    // The bytes that fold: 0x20 where `lower` has a letter.
    let fold = |at: usize, len: usize| {
        lower[at..at + len].iter().rev().fold(0u64, |m, &b| {
            (m << 8) | (u64::from(b.is_ascii_lowercase()) * 0x20)
        })
    };
    let w8 = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let w4 = |s: &[u8], at: usize| {
        u64::from(u32::from_le_bytes(
            s[at..at + 4].try_into().expect("4 bytes"),
        ))
    };
    let same8 = |at: usize| w8(name, at) | fold(at, 8) == w8(lower, at);
    let same4 = |at: usize| w4(name, at) | fold(at, 4) == w4(lower, at);
    match n {
        0..=3 => name
            .iter()
            .zip(lower)
            .all(|(&x, &l)| if l.is_ascii_lowercase() { x | 0x20 } else { x } == l),
        4..=7 => same4(0) && same4(n - 4),
        _ => (0..n / 8).all(|k| same8(8 * k)) && same8(n - 8),
    }
}

/// Check the head's framing rules and decide the body kind. Errors point at the
/// offending header line.
pub fn framing(head: &RequestHead<'_>) -> Result<Framing, ParseError> {
    framing_with(head, &mut HostMemo::default())
}

/// The last `Host` value of a connection that [`split_authority`] accepted, so that
/// the next request naming the same host (a client names the same one every time) is
/// not checked again: the verdict depends on the bytes alone. A value longer than
/// [`HostMemo::CAP`] is checked every time; a refused one is never kept.
#[derive(Debug, Clone)]
pub struct HostMemo {
    len: usize,
    bytes: [u8; HostMemo::CAP],
}

impl Default for HostMemo {
    /// Holding the empty value, which [`split_authority`] accepts (an empty Host is
    /// allowed: see the module docs).
    fn default() -> Self {
        HostMemo {
            len: 0,
            bytes: [0; HostMemo::CAP],
        }
    }
}

impl HostMemo {
    /// The longest value kept: `localhost:8080`, `127.0.0.1:65535` and most names fit.
    pub const CAP: usize = 40;

    /// Whether `value` is `uri-host [ ":" port ]`, as [`split_authority`] says.
    #[inline]
    pub fn accepts(&mut self, value: &[u8]) -> bool {
        if same_bytes(value, &self.bytes[..self.len]) {
            return true;
        }
        let ok = split_authority(value).is_some();
        if ok && value.len() <= Self::CAP {
            self.bytes[..value.len()].copy_from_slice(value);
            self.len = value.len();
        }
        ok
    }
}

/// [`framing`], with the connection's [`HostMemo`].
pub fn framing_with(head: &RequestHead<'_>, hosts: &mut HostMemo) -> Result<Framing, ParseError> {
    let buf = head.buf;
    let mut host: Option<&HeaderSpan> = None;
    let mut content_length: Option<(u64, &HeaderSpan)> = None;
    // (first Transfer-Encoding line, number of codings, all of them `chunked`)
    let mut transfer_encoding: Option<(&HeaderSpan, usize, bool)> = None;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expect_continue = false;

    for h in head.headers {
        let name = h.name.of(buf);
        let value = h.value.of(buf);
        if is_named(name, b"host") {
            if host.is_some() {
                return Err(err_at(ErrorKind::MultipleHost, h, h.name.start));
            }
            host = Some(h);
        } else if is_named(name, b"content-length") {
            let n = parse_content_length(value).map_err(|kind| err_at(kind, h, h.value.start))?;
            match content_length {
                Some((prev, _)) if prev != n => {
                    return Err(err_at(
                        ErrorKind::ConflictingContentLength,
                        h,
                        h.value.start,
                    ));
                }
                Some(_) => {}
                None => content_length = Some((n, h)),
            }
        } else if is_named(name, b"transfer-encoding") {
            let (first, mut count, mut all_chunked) = transfer_encoding.unwrap_or((h, 0, true));
            for coding in list_elements(value) {
                count += 1;
                all_chunked &= coding.eq_ignore_ascii_case(b"chunked");
            }
            transfer_encoding = Some((first, count, all_chunked));
        } else if is_named(name, b"connection") {
            for token in list_elements(value) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if is_named(name, b"expect") {
            expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
        }
    }

    match host {
        None if head.version == Version::Http11 => {
            let at = head.method_span.start;
            return Err(ParseError::new(ErrorKind::MissingHost, 1, u64::from(at)));
        }
        Some(h) if !hosts.accepts(h.value.of(buf)) => {
            return Err(err_at(ErrorKind::InvalidHost, h, h.value.start));
        }
        _ => {}
    }

    let body = match (transfer_encoding, content_length) {
        (Some((te, _, _)), _) if head.version == Version::Http10 => {
            return Err(err_at(
                ErrorKind::TransferEncodingInHttp10,
                te,
                te.name.start,
            ));
        }
        (Some((te, _, _)), Some((_, cl))) => {
            let later = if te.line > cl.line { te } else { cl };
            let kind = ErrorKind::ContentLengthWithTransferEncoding;
            return Err(err_at(kind, later, later.name.start));
        }
        (Some((te, count, all_chunked)), None) => {
            if count != 1 || !all_chunked {
                return Err(err_at(
                    ErrorKind::UnsupportedTransferEncoding,
                    te,
                    te.value.start,
                ));
            }
            BodyKind::Chunked
        }
        (None, Some((0, _))) | (None, None) => BodyKind::None,
        (None, Some((n, _))) => BodyKind::Length(n),
    };

    let keep_alive = match head.version {
        Version::Http11 => !close,
        Version::Http10 => keep_alive_token && !close,
    };
    Ok(Framing {
        body,
        keep_alive,
        expect_continue: expect_continue && head.version == Version::Http11,
    })
}

/// The authority the request is for: the target's in absolute-form or
/// authority-form (it wins over Host, RFC 9112 §3.2.2), else the Host value (empty if
/// there is none). Only meaningful on a head that passed [`framing`].
pub fn authority<'b>(head: &RequestHead<'b>) -> &'b [u8] {
    match head.target_form {
        TargetForm::Absolute => target_authority(head.target_span.of(head.buf)).unwrap_or(b""),
        TargetForm::Authority => head.target_span.of(head.buf),
        TargetForm::Origin | TargetForm::Asterisk => head.header("host").unwrap_or(b""),
    }
}

/// RFC 9112 §6.2: `Content-Length = 1*DIGIT`, and RFC 9110 §8.6: a list of identical
/// values (`5, 5`) may be taken as one. Each element is `1*DIGIT` with OWS around it;
/// no sign, no inner space, no empty element; overflow-checked. The error is
/// [`ErrorKind::InvalidContentLength`] for a malformed element (checked first, over
/// the whole list) or [`ErrorKind::ConflictingContentLength`] for differing values.
pub fn parse_content_length(value: &[u8]) -> Result<u64, ErrorKind> {
    let mut first = None;
    let mut differ = false;
    for element in value.split(|&b| b == b',') {
        let n = parse_decimal(trim_ows(element)).ok_or(ErrorKind::InvalidContentLength)?;
        differ |= first.is_some_and(|f| f != n);
        first.get_or_insert(n);
    }
    match first {
        Some(_) if differ => Err(ErrorKind::ConflictingContentLength),
        Some(n) => Ok(n),
        None => Err(ErrorKind::InvalidContentLength),
    }
}

/// `1*DIGIT` as a `u64`, `None` if empty, not digits, or too big.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The non-empty elements of a comma list (RFC 9110 §5.6.1:
/// `#element => [ element ] *( OWS "," OWS [ element ] )`), OWS trimmed.
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memo's verdict is `split_authority`'s for every value, whatever came
    /// before on the connection: the same value, one that only starts like it, one
    /// too long to keep, a refused one asked twice.
    #[test]
    fn host_memo_gives_split_authoritys_verdict() {
        let long = "a".repeat(HostMemo::CAP + 10);
        let long_bad = format!("{}:x", &long[..HostMemo::CAP]);
        let values: [&[u8]; 16] = [
            b"127.0.0.1:8080",
            b"127.0.0.1:8080",
            b"127.0.0.1:8080x",
            b"127.0.0.1:80800",
            b"127.0.0.1:808",
            b"",
            b"a b",
            b"a b",
            b"[::1]:80",
            b"[::1]:80",
            b"[::1",
            b"localhost",
            long.as_bytes(),
            long.as_bytes(),
            long_bad.as_bytes(),
            b"a%4",
        ];
        for order in [values.to_vec(), values.iter().rev().copied().collect()] {
            let mut memo = HostMemo::default();
            for v in order {
                let want = split_authority(v).is_some();
                assert_eq!(memo.accepts(v), want, "{:?}", String::from_utf8_lossy(v));
            }
        }
    }

    #[test]
    fn is_named_is_eq_ignore_ascii_case() {
        let names: [&[u8]; 8] = [
            b"host",
            b"expect",
            b"connection",
            b"content-length",
            b"transfer-encoding",
            b"te",
            b"x-a1",
            b"accept-language",
        ];
        for lower in names {
            let upper = lower.to_ascii_uppercase();
            for cand in [
                lower.to_vec(),
                upper.clone(),
                b"hOsT".to_vec(),
                b"".to_vec(),
            ] {
                assert_eq!(is_named(&cand, lower), cand.eq_ignore_ascii_case(lower));
            }
            // Every byte at every position, and every length around it.
            for at in 0..lower.len() {
                for b in 0..=255u8 {
                    let mut cand = upper.clone();
                    cand[at] = b;
                    assert_eq!(
                        is_named(&cand, lower),
                        cand.eq_ignore_ascii_case(lower),
                        "{:?} {at} {b:#x}",
                        String::from_utf8_lossy(lower)
                    );
                }
            }
            for len in 0..lower.len() + 2 {
                let cand: Vec<u8> = lower.iter().copied().cycle().take(len).collect();
                assert_eq!(is_named(&cand, lower), cand.eq_ignore_ascii_case(lower));
            }
        }
    }
    use crate::http::head::{HeadLimits, HeadParser};

    /// Parses `head` (without the final empty line) and runs `framing` on it.
    fn run(head: &str) -> Result<Framing, ParseError> {
        let text = format!("{head}\r\n");
        let mut p = HeadParser::new(HeadLimits::default());
        let len = p
            .parse(text.as_bytes())
            .expect("head parses")
            .expect("complete");
        assert_eq!(len, text.len());
        framing(&p.head(text.as_bytes()))
    }

    fn ok(head: &str) -> Framing {
        run(head).unwrap_or_else(|e| panic!("{head:?}: {e}"))
    }

    const GET11: &str = "GET / HTTP/1.1\r\nHost: a\r\n";

    #[test]
    fn valid_framings() {
        let cases: &[(&str, BodyKind, bool, bool)] = &[
            // (head, body, keep_alive, expect_continue)
            (GET11, BodyKind::None, true, false),
            ("GET / HTTP/1.0\r\n", BodyKind::None, false, false),
            (
                "GET / HTTP/1.0\r\nConnection: keep-alive\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.0\r\nConnection: Keep-Alive, Upgrade\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n",
                BodyKind::None,
                false,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n",
                BodyKind::None,
                false,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo,, CLOSE\r\n",
                BodyKind::None,
                false,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nConnection: keep-alive\r\nHost: a\r\nConnection: close\r\n",
                BodyKind::None,
                false,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n",
                BodyKind::Length(5),
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n",
                BodyKind::Length(5),
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:5,5 ,  5\r\n",
                BodyKind::Length(5),
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n",
                BodyKind::Length(5),
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n",
                BodyKind::Length(7),
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n",
                BodyKind::Length(u64::MAX),
                true,
                false,
            ),
            (
                "POST / HTTP/1.0\r\nContent-Length: 3\r\n",
                BodyKind::Length(3),
                false,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n",
                BodyKind::Chunked,
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n",
                BodyKind::Chunked,
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked ,\r\n",
                BodyKind::Chunked,
                true,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n",
                BodyKind::Length(1),
                true,
                true,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n",
                BodyKind::None,
                true,
                true,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "POST / HTTP/1.0\r\nExpect: 100-continue\r\n",
                BodyKind::None,
                false,
                false,
            ),
            // Host forms
            ("GET / HTTP/1.1\r\nHost:\r\n", BodyKind::None, true, false),
            (
                "GET / HTTP/1.1\r\nHost: example.com:8080\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: [::1]:8000\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: [::1]\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: xn--bcher-kva.example\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: a%41b\r\n",
                BodyKind::None,
                true,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: a:\r\n",
                BodyKind::None,
                true,
                false,
            ),
            ("GET / HTTP/1.1\r\nhOsT: a\r\n", BodyKind::None, true, false),
            (
                "GET http://b/x HTTP/1.1\r\nHost: a\r\n",
                BodyKind::None,
                true,
                false,
            ),
        ];
        for &(head, body, keep_alive, expect_continue) in cases {
            let f = ok(head);
            assert_eq!(
                f,
                Framing {
                    body,
                    keep_alive,
                    expect_continue
                },
                "{head:?}"
            );
        }
    }

    #[test]
    fn invalid_framings() {
        use ErrorKind::*;
        let cases: &[(&str, ErrorKind, u32, u16)] = &[
            // (head, kind, line, status)
            ("GET / HTTP/1.1\r\n", MissingHost, 1, 400),
            ("GET / HTTP/1.1\r\nAccept: */*\r\n", MissingHost, 1, 400),
            ("GET http://a/ HTTP/1.1\r\n", MissingHost, 1, 400),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n",
                MultipleHost,
                3,
                400,
            ),
            (
                "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n",
                MultipleHost,
                3,
                400,
            ),
            ("GET / HTTP/1.1\r\nHost: a b\r\n", InvalidHost, 2, 400),
            ("GET / HTTP/1.1\r\nHost: a/b\r\n", InvalidHost, 2, 400),
            ("GET / HTTP/1.1\r\nHost: u@a\r\n", InvalidHost, 2, 400),
            ("GET / HTTP/1.1\r\nHost: a:b\r\n", InvalidHost, 2, 400),
            ("GET / HTTP/1.1\r\nHost: a:123456\r\n", InvalidHost, 2, 400),
            ("GET / HTTP/1.1\r\nHost: a%4\r\n", InvalidHost, 2, 400),
            ("GET / HTTP/1.1\r\nHost: [::1\r\n", InvalidHost, 2, 400),
            ("GET / HTTP/1.1\r\nHost: []\r\n", InvalidHost, 2, 400),
            ("GET / HTTP/1.1\r\nHost: [::1]x\r\n", InvalidHost, 2, 400),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n",
                ConflictingContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, x\r\n",
                InvalidContentLength,
                3,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n",
                ConflictingContentLength,
                4,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                ContentLengthWithTransferEncoding,
                4,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: a\r\nContent-Length: 5\r\n",
                ContentLengthWithTransferEncoding,
                4,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: gzip\r\n",
                ContentLengthWithTransferEncoding,
                4,
                400,
            ),
            (
                "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n",
                TransferEncodingInHttp10,
                2,
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n",
                UnsupportedTransferEncoding,
                3,
                501,
            ),
        ];
        for &(head, kind, line, status) in cases {
            let e = run(head).expect_err(head);
            assert_eq!(
                (e.kind, e.line, e.status()),
                (kind, line, status),
                "{head:?}: {e}"
            );
        }
    }

    #[test]
    fn error_bytes_point_at_the_field() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n";
        let e = run(head).unwrap_err();
        assert_eq!(e.byte as usize, head.find("x\r").unwrap());
        let head = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n";
        let e = run(head).unwrap_err();
        assert_eq!(e.byte as usize, head.rfind("Host").unwrap());
        assert_eq!(e.to_string(), "line 3: more than one Host header");
    }

    #[test]
    fn content_length_values() {
        assert_eq!(parse_content_length(b"0"), Ok(0));
        assert_eq!(parse_content_length(b"42"), Ok(42));
        assert_eq!(parse_content_length(b"42 , 042"), Ok(42));
        assert_eq!(parse_content_length(b"18446744073709551615"), Ok(u64::MAX));
        let invalid = [
            &b""[..],
            b" ",
            b"1.0",
            b"1e3",
            b",",
            b"4,,4",
            b"\xff",
            b"-0",
            b"18446744073709551616",
            b"1,2,x",
        ];
        for bad in invalid {
            assert_eq!(
                parse_content_length(bad),
                Err(ErrorKind::InvalidContentLength),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_content_length(b"1,2"),
            Err(ErrorKind::ConflictingContentLength)
        );
    }

    #[test]
    fn authority_prefers_the_target() {
        let cases = [
            ("GET / HTTP/1.1\r\nHost: a:1\r\n", "a:1"),
            ("GET http://b:2/x HTTP/1.1\r\nHost: a\r\n", "b:2"),
            ("GET http://b?q HTTP/1.1\r\nHost: a\r\n", "b"),
            ("CONNECT c:443 HTTP/1.1\r\nHost: c:443\r\n", "c:443"),
            ("GET / HTTP/1.0\r\n", ""),
        ];
        for (head, want) in cases {
            let text = format!("{head}\r\n");
            let mut p = HeadParser::new(HeadLimits::default());
            p.parse(text.as_bytes()).unwrap().unwrap();
            let h = p.head(text.as_bytes());
            framing(&h).unwrap();
            assert_eq!(authority(&h), want.as_bytes(), "{head:?}");
        }
    }
}
