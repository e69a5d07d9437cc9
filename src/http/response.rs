//! The response head encoder (RFC 9112 §4, §6; RFC 9110 §6.6.1 Date, §10.2.4 Server).
//!
//! Theory of operation: a handler describes a response as a [`ResponseHead`] (status,
//! content type, extra header fields) and the I/O layer knows the body's length. The
//! encoder appends the status line and header section to a caller-owned buffer, adding
//! the fields every response carries: `Date` (pre-formatted once a second by the
//! caller, see [`crate::http::date::DateCache`]), `Server`, the framing
//! (`Content-Length` or `Transfer-Encoding: chunked`) and `Connection`. Nothing is
//! allocated: numbers are formatted into a stack buffer, and a response with no extra
//! fields (like `/plaintext`) has an empty, unallocated `Vec`.
//!
//! The security fields (SPEC "Security and bounds", Django's `SecurityMiddleware` and
//! `XFrameOptionsMiddleware`) are added here too, so that no response can miss them,
//! the parser's and the connection layer's errors included: `X-Content-Type-Options:
//! nosniff` on every response whose head has [`ResponseHead::security`] set (all but
//! `/plaintext` and `/json`), and for `text/html` also [`HTML_SECURITY`]. They are
//! static bytes: a response pays a copy, no allocation.

use crate::http::date::IMF_FIXDATE_LEN;
use crate::http::head::Version;
use std::borrow::Cow;
use std::sync::Arc;

/// The value of the `Server` header.
pub const SERVER: &str = "wirepost";

/// On every response with [`ResponseHead::security`]: the browser must not guess
/// another type than `Content-Type` says (an upload named `.txt` run as a script).
pub const NOSNIFF: &[u8] = b"X-Content-Type-Options: nosniff\r\n";

/// Also on HTML pages: no other site may frame them (clickjacking; `frame-ancestors`
/// for browsers that read CSP, `X-Frame-Options` for older ones), and links to other
/// sites do not send our addresses in `Referer`.
pub const HTML_SECURITY: &[u8] = b"X-Frame-Options: DENY\r\n\
Content-Security-Policy: frame-ancestors 'none'\r\n\
Referrer-Policy: same-origin\r\n";

/// A response's status line and header fields, apart from the ones the encoder adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code; the encoder writes its reason phrase.
    pub status: u16,
    /// `Content-Type`, if the response has content.
    pub content_type: Option<Cow<'static, str>>,
    /// Further fields in order (`Set-Cookie` may repeat). Names are ours, so static.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// Field lines already encoded (`Name: value` CRLF each), written after
    /// `headers`: a cached file's validators, formatted once, not per response.
    pub encoded: Option<Arc<Vec<u8>>>,
    /// The handler asks for the connection to be closed after this response.
    pub close: bool,
    /// Add the security fields ([`NOSNIFF`], and [`HTML_SECURITY`] for `text/html`).
    /// True but for the benchmark endpoints `/plaintext` and `/json` (SPEC).
    pub security: bool,
    /// The whole head written out in advance but for its `Date`, for a head whose
    /// fields never change (the benchmark endpoints): see [`Prebuilt`].
    pub prebuilt: Option<&'static Prebuilt>,
}

/// A response head written out once, but for its `Date` (which changes every
/// second): the bytes [`encode_head`] would write field by field for a head that is
/// always the same. It holds for one case only, the common one: HTTP/1.1 kept alive,
/// a body of `body_len` bytes, and no fields added to the head. In every other case
/// (`Connection: close`, an HTTP/1.0 peer, `HEAD`'s length of another body, an added
/// field) the encoder writes the fields one by one from the head as usual, so the
/// head must say the same things field by field; a test checks both ways agree.
#[derive(Debug, PartialEq, Eq)]
pub struct Prebuilt {
    /// The whole head, with any 29 bytes where the `Date` value goes.
    pub head: &'static [u8],
    /// Where the `Date` value starts in `head`.
    pub date_at: usize,
    /// The body length its `Content-Length` says.
    pub body_len: u64,
}

impl ResponseHead {
    /// A head with `status`, no content type or extra fields, kept open, with the
    /// security fields.
    pub fn new(status: u16) -> Self {
        ResponseHead {
            status,
            content_type: None,
            headers: Vec::new(),
            encoded: None,
            close: false,
            security: true,
            prebuilt: None,
        }
    }

    /// Add a header field.
    pub fn header(&mut self, name: &'static str, value: impl Into<Cow<'static, str>>) {
        self.headers.push((name, value.into()));
    }
}

/// How the body that follows the head is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked` (HTTP/1.1 peers only).
    Chunked,
    /// No framing field at all: 1xx and 204 responses (RFC 9110 §8.6).
    NoBody,
}

/// Per-exchange facts the encoder needs.
#[derive(Debug, Clone, Copy)]
pub struct EncodeCtx<'a> {
    /// The current IMF-fixdate.
    pub date: &'a [u8],
    /// The request's version; an HTTP/1.0 peer that keeps the connection gets
    /// `Connection: keep-alive`.
    pub version: Version,
    /// Whether the connection stays open after this response.
    pub keep_alive: bool,
}

/// The standard reason phrase for a status code (RFC 9110 §15).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        511 => "Network Authentication Required",
        _ => "Unknown",
    }
}

/// Append `n` in decimal without allocating.
pub fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `\r\nServer: wirepost\r\n`: what follows the `Date` value.
const SERVER_LINE: &[u8] = b"\r\nServer: wirepost\r\n";

/// `HTTP/1.1 <status> <reason>\r\n`, written out.
fn push_status_line(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The status lines most answers carry, as constants: one copy instead of five
/// pieces and a number to format (a test checks each against [`push_status_line`]).
fn common_status_line(status: u16) -> Option<&'static [u8]> {
    Some(match status {
        200 => b"HTTP/1.1 200 OK\r\n",
        201 => b"HTTP/1.1 201 Created\r\n",
        204 => b"HTTP/1.1 204 No Content\r\n",
        206 => b"HTTP/1.1 206 Partial Content\r\n",
        301 => b"HTTP/1.1 301 Moved Permanently\r\n",
        302 => b"HTTP/1.1 302 Found\r\n",
        303 => b"HTTP/1.1 303 See Other\r\n",
        304 => b"HTTP/1.1 304 Not Modified\r\n",
        400 => b"HTTP/1.1 400 Bad Request\r\n",
        403 => b"HTTP/1.1 403 Forbidden\r\n",
        404 => b"HTTP/1.1 404 Not Found\r\n",
        _ => return None,
    })
}

/// Append the status line and header section (ending in the empty line) to `out`.
///
/// ```text
/// HTTP/1.1 200 OK\r\n
/// Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n
/// Server: wirepost\r\n
/// Content-Type: text/plain\r\n
/// Content-Length: 13\r\n
/// \r\n
/// ```
#[inline]
pub fn encode_head(head: &ResponseHead, framing: Framing, ctx: &EncodeCtx<'_>, out: &mut Vec<u8>) {
    if let Some(p) = head.prebuilt
        && ctx.keep_alive
        && ctx.version == Version::Http11
        && framing == Framing::Length(p.body_len)
        && head.headers.is_empty()
        && head.encoded.is_none()
        && let Ok(date) = <&[u8; IMF_FIXDATE_LEN]>::try_from(ctx.date)
    {
        // One copy of the head, then the date over its place (a fixed-size copy).
        let start = out.len();
        out.extend_from_slice(p.head);
        let at = start + p.date_at;
        if let Some(slot) = out.get_mut(at..at + IMF_FIXDATE_LEN) {
            slot.copy_from_slice(date);
            return;
        }
        out.truncate(start); // a head too short for its date: written field by field
    }
    encode_fields(head, framing, ctx, out);
}

/// [`encode_head`] field by field. Kept out of line, so that a prebuilt head does not
/// pay for the registers this one needs.
#[inline(never)]
fn encode_fields(head: &ResponseHead, framing: Framing, ctx: &EncodeCtx<'_>, out: &mut Vec<u8>) {
    // We answer as HTTP/1.1 to every peer (RFC 9110 §6.2: a server sends its own
    // highest conformant version whose major matches the request's).
    match common_status_line(head.status) {
        Some(line) => out.extend_from_slice(line),
        None => push_status_line(out, head.status),
    }
    out.extend_from_slice(b"Date: ");
    out.extend_from_slice(ctx.date);
    out.extend_from_slice(SERVER_LINE);
    if let Some(ct) = &head.content_type {
        out.extend_from_slice(b"Content-Type: ");
        out.extend_from_slice(ct.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if head.security {
        out.extend_from_slice(NOSNIFF);
        if head
            .content_type
            .as_ref()
            .is_some_and(|ct| ct.starts_with("text/html"))
        {
            out.extend_from_slice(HTML_SECURITY);
        }
    }
    for (name, value) in &head.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(lines) = &head.encoded {
        out.extend_from_slice(lines);
    }
    match framing {
        Framing::Length(n) => {
            out.extend_from_slice(b"Content-Length: ");
            push_decimal(out, n);
            out.extend_from_slice(b"\r\n");
        }
        Framing::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::NoBody => {}
    }
    if !ctx.keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if ctx.version == Version::Http10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// The interim response sent before reading a body the client is waiting to send.
pub const CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Append one chunk of a chunked body (`size CRLF data CRLF`, the size in hex). Empty
/// data is skipped: an empty chunk would end the body.
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    let mut hex = [0u8; 16];
    let mut n = data.len();
    let mut i = hex.len();
    loop {
        i -= 1;
        hex[i] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&hex[i..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Append the last chunk and an empty trailer section: the end of a chunked body.
pub fn encode_last_chunk(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn ctx(version: Version, keep_alive: bool) -> EncodeCtx<'static> {
        EncodeCtx {
            date: DATE,
            version,
            keep_alive,
        }
    }

    #[test]
    fn common_status_lines_are_the_written_out_ones() {
        let mut common = 0;
        for status in 100..=599 {
            let mut written = Vec::new();
            push_status_line(&mut written, status);
            if let Some(line) = common_status_line(status) {
                assert_eq!(line, &written[..], "{status}");
                common += 1;
            }
        }
        assert_eq!(common, 11);
        assert_eq!(SERVER_LINE, format!("\r\nServer: {SERVER}\r\n").as_bytes());
    }

    #[test]
    fn plaintext_head_is_exact() {
        let mut head = ResponseHead::new(200);
        head.content_type = Some("text/plain".into());
        head.security = false;
        let mut out = Vec::new();
        encode_head(
            &head,
            Framing::Length(13),
            &ctx(Version::Http11, true),
            &mut out,
        );
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: wirepost\r\n\
Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
        );
    }

    #[test]
    fn security_fields_follow_the_flag_and_the_type() {
        let encode = |head: &ResponseHead| {
            let mut out = Vec::new();
            encode_head(
                head,
                Framing::Length(0),
                &ctx(Version::Http11, true),
                &mut out,
            );
            String::from_utf8(out).unwrap()
        };
        let mut head = ResponseHead::new(404);
        head.content_type = Some("text/plain; charset=utf-8".into());
        let text = encode(&head);
        assert!(
            text.contains("\r\nX-Content-Type-Options: nosniff\r\n"),
            "{text}"
        );
        assert!(!text.contains("X-Frame-Options"), "{text}");
        head.content_type = Some("text/html; charset=utf-8".into());
        let text = encode(&head);
        assert!(
            text.contains("X-Content-Type-Options: nosniff\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nX-Frame-Options: DENY\r\n"), "{text}");
        assert!(
            text.contains("\r\nContent-Security-Policy: frame-ancestors 'none'\r\n"),
            "{text}"
        );
        assert!(
            text.contains("\r\nReferrer-Policy: same-origin\r\n"),
            "{text}"
        );
        head.security = false;
        let text = encode(&head);
        assert!(
            !text.contains("nosniff") && !text.contains("Frame"),
            "{text}"
        );
        // No content type at all (a 304): nosniff only.
        let text = encode(&ResponseHead::new(304));
        assert!(
            text.contains("nosniff") && !text.contains("Frame"),
            "{text}"
        );
    }

    #[test]
    fn connection_field_follows_persistence_and_version() {
        let head = ResponseHead::new(404);
        let mut out = Vec::new();
        encode_head(
            &head,
            Framing::Length(0),
            &ctx(Version::Http11, false),
            &mut out,
        );
        assert!(out.ends_with(b"Content-Length: 0\r\nConnection: close\r\n\r\n"));
        out.clear();
        encode_head(
            &head,
            Framing::Length(0),
            &ctx(Version::Http10, true),
            &mut out,
        );
        assert!(out.ends_with(b"Connection: keep-alive\r\n\r\n"));
        out.clear();
        encode_head(
            &head,
            Framing::Length(0),
            &ctx(Version::Http11, true),
            &mut out,
        );
        assert!(!out.windows(11).any(|w| w == b"Connection:"));
    }

    #[test]
    fn repeated_headers_keep_order() {
        let mut head = ResponseHead::new(302);
        head.header("Set-Cookie", "a=1");
        head.header("Set-Cookie", "b=2");
        head.header("Location", "/user/");
        let mut out = Vec::new();
        encode_head(
            &head,
            Framing::Length(0),
            &ctx(Version::Http11, true),
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        let a = text.find("Set-Cookie: a=1\r\n").unwrap();
        let b = text.find("Set-Cookie: b=2\r\n").unwrap();
        let l = text.find("Location: /user/\r\n").unwrap();
        assert!(a < b && b < l);
        assert!(text.starts_with("HTTP/1.1 302 Found\r\n"));
    }

    #[test]
    fn decimal_and_chunks() {
        for n in [0u64, 9, 10, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        let mut out = Vec::new();
        encode_chunk(&[b'x'; 26], &mut out);
        encode_chunk(b"", &mut out);
        encode_chunk(b"a\n", &mut out);
        encode_last_chunk(&mut out);
        let mut expected = b"1a\r\n".to_vec();
        expected.extend_from_slice(&[b'x'; 26]);
        expected.extend_from_slice(b"\r\n2\r\na\n\r\n0\r\n\r\n");
        assert_eq!(out, expected);
    }

    #[test]
    fn no_body_framing_has_no_length() {
        let head = ResponseHead::new(204);
        let mut out = Vec::new();
        encode_head(
            &head,
            Framing::NoBody,
            &ctx(Version::Http11, true),
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("Content-Length"));
        assert!(!text.contains("Transfer-Encoding"));
    }
}
