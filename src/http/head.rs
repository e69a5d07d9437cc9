//! The incremental request head parser (RFC 9112 §2–§5).
//!
//! Theory of operation: the caller keeps the bytes of the message in its own buffer
//! and calls [`HeadParser::parse`] with the whole buffer so far (always starting at the
//! first byte of the message) each time more bytes arrive. The parser remembers how far
//! it has scanned and resumes from there (memchr for the next LF), so one byte at a
//! time costs linear time, and each limit fires the moment it is crossed. When the
//! empty line ending the head is seen it returns the head's length, and
//! [`HeadParser::head`] gives a zero-copy view of it into the same buffer.
//!
//! Each line is handled as soon as its LF arrives (one [`HeadState`] per kind of line
//! expected next). A line still without its LF is only measured against the limits.
//! Fast paths read a line that starts where the last one ended in one pass, with no
//! memchr for its LF first: the request line of the common shape (method, SP, an
//! origin-form target whose first `?` is noted for [`RequestHead::path`], SP,
//! `HTTP/1.x`, line end), each field line (name, colon, value, then the line end right
//! where the value's bytes stop) and the CR LF that ends the head. Anything they do not
//! expect (no line end yet, another form, a fault, a limit crossed) they leave to the
//! general path, which reads the same line from the same place, so the errors, the
//! limits and the resumption are the general path's (tests compare the two over every
//! byte value at every position).
//! The grammar (RFC 9112 §2.1, §3, §5):
//! ```text
//! HTTP-message   = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
//! request-line   = method SP request-target SP HTTP-version
//! method         = token
//! HTTP-version   = HTTP-name "/" DIGIT "." DIGIT
//! HTTP-name      = %s"HTTP"
//! field-line     = field-name ":" OWS field-value OWS
//! field-name     = token
//! ```
//!
//! Choices, each tested:
//! - **Leading empty lines** (RFC 9112 §2.2: a server SHOULD ignore at least one empty
//!   line before the request line): up to [`MAX_LEADING_EMPTY_LINES`] are skipped.
//!   They are not counted as lines (the request line is always line 1) nor in the
//!   header section, but byte offsets still count from the buffer's first byte, and
//!   the head's `len` includes them (they are consumed with the head).
//! - **Bare LF** (RFC 9112 §2.2 allows a recipient to accept a lone LF as a line
//!   terminator): accepted by default at the end of the request line, of header lines
//!   and of the final empty line, because people type requests into `nc`. Turn it off
//!   with [`HeadParser::set_allow_bare_lf`] (then [`ErrorKind::BareLf`]). A CR that is
//!   not right before the LF is always an error ([`ErrorKind::BareCr`]).
//! - **Whitespace in the request line**: exactly one SP between the three parts;
//!   anything else is [`ErrorKind::MalformedRequestLine`] (RFC 9112 §3 allows lenient
//!   splitting on other whitespace; we take the strict reading).
//! - **Obsolete line folding** is rejected (RFC 9112 §5.2 allows that).
//!
//! Sizes, measured the way the limits' docs say: the request line without its line
//! end; the header section from the request line's first byte to the end of the last
//! field line's line end (CR LF or LF as sent), the final empty line excluded.
//! An error's `byte` is the offending byte; for a limit, the first byte past it; for a
//! missing part (no colon, too many fields), the line's first byte.

use crate::http::chars::{
    ALPHA, DIGIT, HEXDIG, IP_LITERAL, REG_NAME, REG_NAME_PLAIN, SCHEME, TARGET, TCHAR,
    field_content_span, is_ows, span_of, span_of_chunked, target_span, zero_bytes,
};
use crate::http::error::{ErrorKind, ParseError};
use memchr::memchr;

/// Longest request line, CRLF excluded (nginx's `large_client_header_buffers` is 8k). 414 past it.
pub const MAX_REQUEST_LINE: usize = 8192;
/// Longest header section (request line included, final empty line excluded). 431 past it.
pub const MAX_HEADER_SECTION: usize = 16384;
/// Most header fields in one request (Django's and many proxies' order of magnitude). 431 past it.
pub const MAX_HEADERS: usize = 100;
/// Most empty lines skipped before the request line. RFC 9112 §2.2 asks to ignore at
/// least one (old clients sent a CRLF after a POST body); a few more cost nothing, and
/// a bound keeps a peer from holding the parser with nothing but line ends. Past it:
/// [`ErrorKind::MalformedRequestLine`] on line 1.
pub const MAX_LEADING_EMPTY_LINES: usize = 8;

/// The limits of one head, as flags may set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Longest request line in bytes, line end excluded (414 past it); default
    /// [`MAX_REQUEST_LINE`].
    pub max_request_line: usize,
    /// Longest header section in bytes, measured as [`MAX_HEADER_SECTION`] says (431
    /// past it); default [`MAX_HEADER_SECTION`].
    pub max_header_section: usize,
    /// Most header field lines (431 past it); default [`MAX_HEADERS`].
    pub max_headers: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits {
            max_request_line: MAX_REQUEST_LINE,
            max_header_section: MAX_HEADER_SECTION,
            max_headers: MAX_HEADERS,
        }
    }
}

/// The request method. Known methods get a variant; any other token is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET` (RFC 9110 §9.3.1).
    Get,
    /// `HEAD` (RFC 9110 §9.3.2).
    Head,
    /// `POST` (RFC 9110 §9.3.3).
    Post,
    /// `PUT` (RFC 9110 §9.3.4).
    Put,
    /// `DELETE` (RFC 9110 §9.3.5).
    Delete,
    /// `PATCH` (RFC 5789).
    Patch,
    /// `OPTIONS` (RFC 9110 §9.3.7).
    Options,
    /// `CONNECT` (RFC 9110 §9.3.6).
    Connect,
    /// `TRACE` (RFC 9110 §9.3.8).
    Trace,
    /// Any other token, including a known name in another case (`get`); the
    /// spelling is in [`RequestHead::method_str`].
    Other,
}

/// The protocol version of the request line (RFC 9112 §2.3). Only 1.0 and 1.1 are
/// accepted; they order as the numbers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// `HTTP/1.0`.
    Http10,
    /// `HTTP/1.1`.
    Http11,
}

impl Version {
    /// The version as written on the wire: `HTTP/1.0` or `HTTP/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// Which of the four forms of RFC 9112 §3.2 the request target has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`
    Origin,
    /// `http://host/path?query`
    Absolute,
    /// `host:port` (CONNECT only)
    Authority,
    /// `*` (OPTIONS only)
    Asterisk,
}

/// A half-open byte range `start..end` into the buffer the head was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// The bytes this span covers in `buf` (the buffer the head was parsed from).
    pub fn of<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.start as usize..self.end as usize]
    }
}

/// Where one header field's name and value lie (value with surrounding OWS trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderSpan {
    /// The field name, as sent.
    pub name: Span,
    /// The field value, without leading and trailing OWS.
    pub value: Span,
    /// 1-based line of the message this field was on (for error messages).
    pub line: u32,
}

/// A zero-copy view of a parsed request head.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'b> {
    /// The buffer the head was parsed from; every [`Span`] points into it.
    pub buf: &'b [u8],
    /// The method, as a variant.
    pub method: Method,
    /// Where the method lies in `buf`.
    pub method_span: Span,
    /// Where the request target lies in `buf`.
    pub target_span: Span,
    /// Which form the request target has.
    pub target_form: TargetForm,
    /// Where the path part of the target ends in `buf`: at the target's first `?`, or
    /// at its end when it has no query. Noted by the parser as it scans the target, so
    /// [`RequestHead::path`] and [`RequestHead::query`] do not scan it again.
    pub path_end: u32,
    /// The protocol version.
    pub version: Version,
    /// The header fields, in arrival order.
    pub headers: &'b [HeaderSpan],
}

impl<'b> RequestHead<'b> {
    /// The method as sent (case preserved; methods are case-sensitive).
    pub fn method_str(&self) -> &'b str {
        std::str::from_utf8(self.method_span.of(self.buf)).unwrap_or("")
    }
    /// The request target as sent (visible ASCII only, validated by the parser).
    pub fn target(&self) -> &'b str {
        std::str::from_utf8(self.target_span.of(self.buf)).unwrap_or("")
    }
    /// The path part of the target (for absolute-form, after the authority; `*` for
    /// asterisk-form). The target up to [`RequestHead::path_end`]: no scan, and the
    /// UTF-8 check (the price of a `&str` without `unsafe`) covers the path alone.
    pub fn path(&self) -> &'b str {
        // Visible ASCII (the parser checked): this cannot fail.
        std::str::from_utf8(self.path_bytes()).unwrap_or("")
    }
    /// [`RequestHead::path`] as bytes, without its UTF-8 check: the router looks a
    /// path up in bytes, and a route's part of it is made text only when not empty.
    pub fn path_bytes(&self) -> &'b [u8] {
        let t = self
            .buf
            .get(self.target_span.start as usize..self.path_end as usize)
            .unwrap_or(&[]);
        match self.target_form {
            TargetForm::Absolute => {
                // scheme "://" authority path-abempty (the query is already cut off)
                let after = t
                    .windows(3)
                    .position(|w| w == b"://")
                    .map_or(t, |i| &t[i + 3..]);
                match after.iter().position(|&b| b == b'/') {
                    Some(i) => &after[i..],
                    None => b"/",
                }
            }
            _ => t,
        }
    }
    /// The query (after `?`, without it), if any.
    pub fn query(&self) -> Option<&'b str> {
        let q = self.path_end as usize;
        if q >= self.target_span.end as usize {
            return None;
        }
        let t = self.buf.get(q + 1..self.target_span.end as usize)?;
        Some(std::str::from_utf8(t).unwrap_or(""))
    }
    /// Header fields in arrival order, name spelling kept.
    pub fn headers(&self) -> impl Iterator<Item = (&'b str, &'b [u8])> + 'b {
        let buf = self.buf;
        self.headers.iter().map(move |h| {
            (
                std::str::from_utf8(h.name.of(buf)).unwrap_or(""),
                h.value.of(buf),
            )
        })
    }
    /// The value of the first header field with this name (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        let name = name.as_bytes();
        self.headers
            .iter()
            .find(|h| h.name.of(self.buf).eq_ignore_ascii_case(name))
            .map(|h| h.value.of(self.buf))
    }
}

/// What the head parser expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadState {
    /// The request line, after `skipped` leading empty lines.
    RequestLine { skipped: usize },
    /// A field line, or the empty line that ends the head.
    FieldLine,
    /// Nothing: the head is its first `len` bytes.
    Complete { len: usize },
    /// Nothing: this error was found (returned again on every call).
    Failed(ParseError),
}

/// What the request line said.
#[derive(Debug, Clone, Copy)]
struct RequestLine {
    method: Method,
    method_span: Span,
    target_span: Span,
    target_form: TargetForm,
    /// See [`RequestHead::path_end`].
    path_end: u32,
    version: Version,
}

impl Default for RequestLine {
    fn default() -> Self {
        RequestLine {
            method: Method::Other,
            method_span: Span::default(),
            target_span: Span::default(),
            target_form: TargetForm::Origin,
            path_end: 0,
            version: Version::Http11,
        }
    }
}

/// The incremental head parser. See the module docs.
#[derive(Debug)]
pub struct HeadParser {
    limits: HeadLimits,
    allow_bare_lf: bool,
    headers: Vec<HeaderSpan>,
    state: HeadState,
    /// First byte of the line not yet complete.
    line_start: usize,
    /// Where the next search for LF starts (the buffer's length at the last call).
    scan: usize,
    /// 1-based number of the line not yet complete (the request line is 1).
    line: u32,
    /// First byte of the request line (after skipped empty lines).
    section_start: usize,
    request_line: RequestLine,
}

const CR: u8 = b'\r';
const SP: u8 = b' ';

fn err(kind: ErrorKind, line: u32, byte: usize) -> ParseError {
    ParseError::new(kind, line, byte as u64)
}

fn span(start: usize, end: usize) -> Span {
    Span {
        start: start as u32,
        end: end as u32,
    }
}

impl HeadParser {
    /// A parser for one head within `limits`, accepting bare LF.
    pub fn new(limits: HeadLimits) -> Self {
        HeadParser {
            limits,
            allow_bare_lf: true,
            headers: Vec::with_capacity(32),
            state: HeadState::RequestLine { skipped: 0 },
            line_start: 0,
            scan: 0,
            line: 1,
            section_start: 0,
            request_line: RequestLine::default(),
        }
    }

    /// The bare-LF leniency (see the module docs): `true` (the default) accepts a lone
    /// LF as the end of the request line and of header lines; `false` answers
    /// [`ErrorKind::BareLf`].
    pub fn set_allow_bare_lf(&mut self, allow: bool) {
        self.allow_bare_lf = allow;
    }

    /// Parse as far as `buf` allows. `buf` starts at the first byte of the message and
    /// holds everything received so far (a longer buffer with the same prefix on each
    /// call). Returns `Ok(Some(len))` once the head is complete: `len` bytes including
    /// the final empty line; `Ok(None)` when more bytes are needed.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Option<usize>, ParseError> {
        match self.state {
            HeadState::Complete { len } => return Ok(Some(len)),
            HeadState::Failed(e) => return Err(e),
            _ => {}
        }
        debug_assert!(buf.len() >= self.scan, "the buffer shrank between calls");
        let result = self.parse_lines(buf);
        match result {
            Ok(Some(len)) => self.state = HeadState::Complete { len },
            Err(e) => self.state = HeadState::Failed(e),
            Ok(None) => {}
        }
        result
    }

    fn parse_lines(&mut self, buf: &[u8]) -> Result<Option<usize>, ParseError> {
        loop {
            // The fast paths: a line not scanned yet, whole in `buf`, and plain.
            if self.scan == self.line_start {
                match self.state {
                    HeadState::FieldLine => {
                        // No line within `buf` can cross the section limit: then its
                        // check is skipped (the limit is the same either way).
                        let fits = buf.len() - self.section_start <= self.limits.max_header_section;
                        loop {
                            let start = self.line_start;
                            // The empty line ending the head (CR LF; a bare LF is the
                            // general path's, which knows the leniency).
                            if let Some([CR, b'\n', ..]) = buf.get(start..) {
                                self.scan = start + 2;
                                self.line_start = start + 2;
                                return Ok(Some(start + 2));
                            }
                            let Some((field, lf, bare_lf)) = fast_field_line(buf, start, self.line)
                            else {
                                break;
                            };
                            self.scan = lf + 1;
                            self.line_start = lf + 1;
                            self.accept_field(field, start, lf, bare_lf, fits)?;
                        }
                    }
                    HeadState::RequestLine { .. } => {
                        if let Some((rl, lf, bare_lf)) = fast_request_line(buf, self.line_start)
                            && self.request_line_fits(self.line_start, lf, bare_lf)
                        {
                            self.scan = lf + 1;
                            self.line_start = lf + 1;
                            self.request_line = rl;
                            self.line = 2;
                            self.state = HeadState::FieldLine;
                            continue;
                        }
                    }
                    HeadState::Complete { .. } | HeadState::Failed(_) => unreachable!(),
                }
            }
            // The empty line ending the head needs no search either.
            let lf = match buf.get(self.scan..) {
                Some([b'\n', ..]) if self.scan == self.line_start => self.scan,
                Some([CR, b'\n', ..]) if self.scan == self.line_start => self.scan + 1,
                Some(rest) => match memchr(b'\n', rest) {
                    Some(i) => self.scan + i,
                    None => break,
                },
                None => break,
            };
            let start = self.line_start;
            self.scan = lf + 1;
            self.line_start = lf + 1;
            // The line's content, its line end (CR LF, or a bare LF) excluded.
            let (end, bare_lf) = if lf > start && buf[lf - 1] == CR {
                (lf - 1, false)
            } else {
                (lf, true)
            };
            match self.state {
                HeadState::RequestLine { skipped } => {
                    self.read_request_line(buf, start, end, lf, bare_lf, skipped)?
                }
                HeadState::FieldLine => {
                    if let Some(len) = self.read_field_line(buf, start, end, lf, bare_lf)? {
                        return Ok(Some(len));
                    }
                }
                HeadState::Complete { .. } | HeadState::Failed(_) => unreachable!(),
            }
        }
        self.scan = buf.len();
        self.check_partial_line(buf)?;
        Ok(None)
    }

    /// Limits on the line that has no LF yet: they fire as soon as they are crossed.
    /// A final CR is not counted: it may be the start of the line end.
    fn check_partial_line(&self, buf: &[u8]) -> Result<(), ParseError> {
        let mut len = buf.len() - self.line_start;
        if buf.last() == Some(&CR) {
            len -= 1;
        }
        let in_request_line = matches!(self.state, HeadState::RequestLine { .. });
        if in_request_line && len > self.limits.max_request_line {
            return Err(self.request_line_too_long(self.line_start));
        }
        if self.line_start - self.section_start + len > self.limits.max_header_section {
            return Err(self.section_too_large());
        }
        Ok(())
    }

    fn request_line_too_long(&self, line_start: usize) -> ParseError {
        let byte = line_start + self.limits.max_request_line;
        err(ErrorKind::RequestLineTooLong, self.line, byte)
            .with_limit(self.limits.max_request_line as u64)
    }

    fn section_too_large(&self) -> ParseError {
        let byte = self.section_start + self.limits.max_header_section;
        err(ErrorKind::HeaderSectionTooLarge, self.line, byte)
            .with_limit(self.limits.max_header_section as u64)
    }

    /// Whether a request line that the fast path read (from `start`, its LF at `lf`)
    /// passes the checks [`HeadParser::read_request_line`] makes besides its grammar:
    /// the two limits and the bare-LF leniency. If not, the general path reads the line
    /// again and reports the fault as it always did.
    #[inline]
    fn request_line_fits(&self, start: usize, lf: usize, bare_lf: bool) -> bool {
        let end = if bare_lf { lf } else { lf - 1 };
        end - start <= self.limits.max_request_line
            && lf + 1 - self.section_start <= self.limits.max_header_section
            && (!bare_lf || self.allow_bare_lf)
    }

    /// A complete line in state `RequestLine`: an empty line to skip, or the request
    /// line.
    fn read_request_line(
        &mut self,
        buf: &[u8],
        start: usize,
        end: usize,
        lf: usize,
        bare_lf: bool,
        skipped: usize,
    ) -> Result<(), ParseError> {
        if end == start {
            if bare_lf && !self.allow_bare_lf {
                return Err(err(ErrorKind::BareLf, 1, lf));
            }
            if skipped == MAX_LEADING_EMPTY_LINES {
                return Err(err(ErrorKind::MalformedRequestLine, 1, start));
            }
            self.section_start = lf + 1;
            self.state = HeadState::RequestLine {
                skipped: skipped + 1,
            };
            return Ok(());
        }
        // The limits first, as `check_partial_line` would have seen them.
        if end - start > self.limits.max_request_line {
            return Err(self.request_line_too_long(start));
        }
        if lf + 1 - self.section_start > self.limits.max_header_section {
            return Err(self.section_too_large());
        }
        self.request_line = parse_request_line(buf, start, end)?;
        if bare_lf && !self.allow_bare_lf {
            return Err(err(ErrorKind::BareLf, 1, lf));
        }
        self.line = 2;
        self.state = HeadState::FieldLine;
        Ok(())
    }

    /// A complete line in state `FieldLine`: a header field, or the empty line that
    /// ends the head (then `Some(len)`).
    fn read_field_line(
        &mut self,
        buf: &[u8],
        start: usize,
        end: usize,
        lf: usize,
        bare_lf: bool,
    ) -> Result<Option<usize>, ParseError> {
        if bare_lf && !self.allow_bare_lf && end == start {
            return Err(err(ErrorKind::BareLf, self.line, lf));
        }
        if end == start {
            return Ok(Some(lf + 1));
        }
        if lf + 1 - self.section_start > self.limits.max_header_section {
            return Err(self.section_too_large());
        }
        let field = parse_field_line(buf, start, end, self.line)?;
        self.accept_field(field, start, lf, bare_lf, false)?;
        Ok(None)
    }

    /// The checks after a field line parsed well (by either path), in the order
    /// [`HeadParser::read_field_line`] makes them, then the field is kept. `fits`:
    /// the whole buffer is within the header section limit, so this line is too.
    #[inline]
    fn accept_field(
        &mut self,
        field: HeaderSpan,
        start: usize,
        lf: usize,
        bare_lf: bool,
        fits: bool,
    ) -> Result<(), ParseError> {
        if !fits && lf + 1 - self.section_start > self.limits.max_header_section {
            return Err(self.section_too_large());
        }
        if bare_lf && !self.allow_bare_lf {
            return Err(err(ErrorKind::BareLf, self.line, lf));
        }
        if self.headers.len() == self.limits.max_headers {
            return Err(err(ErrorKind::TooManyHeaders, self.line, start)
                .with_limit(self.limits.max_headers as u64));
        }
        self.headers.push(field);
        self.line += 1;
        Ok(())
    }

    /// The parsed head, a view into `buf` (the same buffer `parse` completed on).
    /// Only meaningful after `parse` returned `Some`.
    pub fn head<'b>(&'b self, buf: &'b [u8]) -> RequestHead<'b> {
        debug_assert!(matches!(self.state, HeadState::Complete { .. }));
        let rl = self.request_line;
        RequestHead {
            buf,
            method: rl.method,
            method_span: rl.method_span,
            target_span: rl.target_span,
            target_form: rl.target_form,
            path_end: rl.path_end,
            version: rl.version,
            headers: &self.headers,
        }
    }

    /// The number of the line being read; once the head is complete, the number of
    /// its final empty line (a chunked body's lines count on from there).
    pub fn line(&self) -> u32 {
        self.line
    }

    /// How many bytes of the message have been looked at (the length of the buffer
    /// at the last call to `parse`, or the head's length once complete).
    pub fn bytes_seen(&self) -> usize {
        match self.state {
            HeadState::Complete { len } => len,
            _ => self.scan,
        }
    }

    /// Whether a byte of a request has been seen: false while the parser has seen
    /// nothing, or only complete leading empty lines (which are not a request).
    pub fn has_started(&self) -> bool {
        match self.state {
            HeadState::RequestLine { .. } => self.scan > self.line_start,
            _ => true,
        }
    }

    /// Heap bytes this parser keeps between messages (its header list).
    pub fn heap_bytes(&self) -> usize {
        self.headers.capacity() * std::mem::size_of::<HeaderSpan>()
    }

    /// Forget the message and get ready for the next one (keeps allocations).
    pub fn reset(&mut self) {
        self.headers.clear();
        self.state = HeadState::RequestLine { skipped: 0 };
        self.line_start = 0;
        self.scan = 0;
        self.line = 1;
        self.section_start = 0;
        self.request_line = RequestLine::default();
    }
}

/// The fast path for a request line starting at `buf[start]`, the common shape only:
/// a method token, SP, an origin-form target (`/`, then visible ASCII but `#`; its
/// first `?` noted on the way: [`RequestHead::path_end`]), SP, `HTTP/1.1` or
/// `HTTP/1.0`, then CR LF or a bare LF, all found in one pass straight out of the
/// buffer (no memchr for the LF first). Returns the request line, the LF's offset and
/// whether it was bare; `None` for anything else (the line not whole yet, another
/// target form, CONNECT, a fault): then the general path reads the same line from the
/// same place, so the errors and their bytes are its own. The caller checks the limits
/// and the bare-LF leniency ([`HeadParser::request_line_fits`]).
#[inline]
fn fast_request_line(buf: &[u8], start: usize) -> Option<(RequestLine, usize, bool)> {
    let rest = buf.get(start..)?;
    // method = token; the usual one compared at once.
    let (method, m) = if rest.starts_with(b"GET ") {
        (Method::Get, 3)
    } else {
        let m = span_of(&TCHAR, rest);
        if m == 0 || rest.get(m) != Some(&SP) {
            return None;
        }
        (method_of(&rest[..m]), m)
    };
    let t0 = m + 1;
    if rest.get(t0) != Some(&b'/') || method == Method::Connect {
        return None;
    }
    let (n, query) = origin_target_span(&rest[t0..]);
    let j = t0 + n;
    if rest.get(j) != Some(&SP) {
        return None;
    }
    // The eight bytes of the version as one word.
    let version = match u64::from_le_bytes(rest.get(j + 1..j + 9)?.try_into().ok()?) {
        HTTP_11 => Version::Http11,
        HTTP_10 => Version::Http10,
        _ => return None,
    };
    let (lf, bare_lf) = match rest.get(j + 9..j + 11) {
        Some([CR, b'\n']) => (j + 10, false),
        _ if rest.get(j + 9) == Some(&b'\n') => (j + 9, true),
        _ => return None,
    };
    let rl = RequestLine {
        method,
        method_span: span(start, start + m),
        target_span: span(start + t0, start + j),
        target_form: TargetForm::Origin,
        path_end: (start + query.map_or(j, |q| t0 + q)) as u32,
        version,
    };
    Some((rl, start + lf, bare_lf))
}

/// `HTTP/1.1` and `HTTP/1.0` as little-endian words, for [`fast_request_line`].
const HTTP_11: u64 = u64::from_le_bytes(*b"HTTP/1.1");
const HTTP_10: u64 = u64::from_le_bytes(*b"HTTP/1.0");

/// The length of the longest prefix of `bytes` that is visible ASCII (0x21-0x7E)
/// without `#`, and where its first `?` is, eight bytes at a time: the target of the
/// fast path, which may stop only at its SP (a `#` is a fault the general path
/// reports). With t the low seven bits of a byte, the flags of [`target_span`] (exact:
/// no sum carries into the next byte) and, for `#` and `?`, the zero-byte test on
/// `x ^ b` (exact for the lowest flagged byte, the only one used).
#[inline]
fn origin_target_span(bytes: &[u8]) -> (usize, Option<usize>) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = zero_bytes;
    let mut query = None;
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let t = x & !HIGHS;
        let stop = ((!(t + ONES * 0x5F) | (t + ONES) | x) & HIGHS) | zero(x ^ (ONES * b'#' as u64));
        if query.is_none() {
            let q = zero(x ^ (ONES * b'?' as u64));
            if q != 0 && (stop == 0 || q.trailing_zeros() < stop.trailing_zeros()) {
                query = Some(i + q.trailing_zeros() as usize / 8);
            }
        }
        if stop != 0 {
            return (i + stop.trailing_zeros() as usize / 8, query);
        }
        i += 8;
    }
    for (k, &b) in bytes[i..].iter().enumerate() {
        if !TARGET[b as usize] || b == b'#' {
            return (i + k, query);
        }
        if b == b'?' && query.is_none() {
            query = Some(i + k);
        }
    }
    (bytes.len(), query)
}

/// `request-line = method SP request-target SP HTTP-version` in `buf[start..end]`
/// (line end excluded). Left to right: the first fault found is the one reported,
/// then the version's support, then the target's form.
fn parse_request_line(buf: &[u8], start: usize, end: usize) -> Result<RequestLine, ParseError> {
    let fail = |kind, at| Err(err(kind, 1, at));
    // method = token
    let i = start + span_of_chunked(&TCHAR, &buf[start..end]);
    if i == end {
        return fail(ErrorKind::MalformedRequestLine, start);
    }
    match buf[i] {
        SP if i > start => {}
        SP => return fail(ErrorKind::InvalidMethod, start),
        CR => return fail(ErrorKind::BareCr, i),
        b'\t' | 0x0B | 0x0C => return fail(ErrorKind::MalformedRequestLine, i),
        _ => return fail(ErrorKind::InvalidMethod, i),
    }
    let method_span = span(start, i);
    // request-target: visible ASCII, up to the next SP
    let t0 = i + 1;
    let j = t0 + target_span(&buf[t0..end]);
    if j == end {
        return fail(ErrorKind::MalformedRequestLine, start);
    }
    match buf[j] {
        SP if j > t0 => {}
        SP => return fail(ErrorKind::MalformedRequestLine, j),
        CR => return fail(ErrorKind::BareCr, j),
        b'\t' | 0x0B | 0x0C => return fail(ErrorKind::MalformedRequestLine, j),
        _ => return fail(ErrorKind::InvalidTarget, j),
    }
    let target_span = span(t0, j);
    // HTTP-version = %s"HTTP" "/" DIGIT "." DIGIT, and nothing after it
    let v0 = j + 1;
    if v0 == end {
        return fail(ErrorKind::MalformedRequestLine, v0);
    }
    for (k, &b) in buf[v0..end].iter().enumerate() {
        match b {
            CR => return fail(ErrorKind::BareCr, v0 + k),
            SP | b'\t' | 0x0B | 0x0C => return fail(ErrorKind::MalformedRequestLine, v0 + k),
            _ => {}
        }
    }
    let version = match &buf[v0..end] {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if DIGIT[*major as usize] && DIGIT[*minor as usize] =>
        {
            match (major, minor) {
                (b'1', b'1') => Version::Http11,
                (b'1', b'0') => Version::Http10,
                _ => return fail(ErrorKind::UnsupportedVersion, v0),
            }
        }
        _ => return fail(ErrorKind::InvalidVersion, v0),
    };
    let method = method_of(method_span.of(buf));
    let target_form = match target_form(method, target_span.of(buf)) {
        Ok(form) => form,
        Err(TargetError::Fragment(at)) => return fail(ErrorKind::FragmentInTarget, t0 + at),
        Err(TargetError::AsteriskNotOptions) => return fail(ErrorKind::AsteriskNotOptions, t0),
        Err(TargetError::Userinfo) => return fail(ErrorKind::UserinfoInTarget, t0),
        Err(TargetError::NoForm) => return fail(ErrorKind::InvalidTarget, t0),
    };
    // The path ends at the first `?` (no form has one before its query).
    let path_end = target_span
        .of(buf)
        .iter()
        .position(|&b| b == b'?')
        .map_or(j, |q| t0 + q);
    Ok(RequestLine {
        method,
        method_span,
        target_span,
        target_form,
        path_end: path_end as u32,
        version,
    })
}

/// Methods are case-sensitive (RFC 9110 §9.1): `get` is [`Method::Other`].
fn method_of(m: &[u8]) -> Method {
    match m {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        b"POST" => Method::Post,
        b"PUT" => Method::Put,
        b"DELETE" => Method::Delete,
        b"PATCH" => Method::Patch,
        b"OPTIONS" => Method::Options,
        b"CONNECT" => Method::Connect,
        b"TRACE" => Method::Trace,
        _ => Method::Other,
    }
}

/// Why a request target has none of the forms allowed with its method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetError {
    /// A `#` at this offset in the target: no form has a fragment.
    Fragment(usize),
    /// `*` with a method other than OPTIONS.
    AsteriskNotOptions,
    /// `userinfo@` in the authority (absolute-form or CONNECT's authority-form).
    Userinfo,
    /// None of the four forms.
    NoForm,
}

/// The form of a request target (RFC 9112 §3.2), or why it has none of the forms
/// allowed with this method:
/// ```text
/// origin-form    = absolute-path [ "?" query ]          ; starts with "/"
/// absolute-form  = absolute-URI                         ; scheme "://" authority ...
/// authority-form = uri-host ":" port                    ; CONNECT only (§3.2.3)
/// asterisk-form  = "*"                                  ; OPTIONS only (§3.2.4)
/// ```
/// None of them has a fragment (`absolute-URI` has none, and `#` is not a path or
/// query byte), so a `#` anywhere is refused: a client keeps the fragment to itself
/// (RFC 9110 §7.1), and a `#` that arrives comes from a hand-written request. The path
/// and query are not checked beyond that and visible ASCII. In absolute-form the
/// authority must have a non-empty host and no userinfo (RFC 9110 §4.2.4 asks
/// recipients to reject it); the same for CONNECT's authority.
pub fn target_form(method: Method, t: &[u8]) -> Result<TargetForm, TargetError> {
    if let Some(at) = memchr(b'#', t) {
        return Err(TargetError::Fragment(at));
    }
    if method == Method::Connect {
        if memchr(b'@', t).is_some() {
            return Err(TargetError::Userinfo);
        }
        let (host, port) = split_authority(t).ok_or(TargetError::NoForm)?;
        return if !host.is_empty() && port.is_some_and(|p| !p.is_empty()) {
            Ok(TargetForm::Authority)
        } else {
            Err(TargetError::NoForm)
        };
    }
    match t.first() {
        Some(b'/') => Ok(TargetForm::Origin),
        Some(b'*') if t.len() == 1 => {
            if method == Method::Options {
                Ok(TargetForm::Asterisk)
            } else {
                Err(TargetError::AsteriskNotOptions)
            }
        }
        Some(b) if ALPHA[*b as usize] => {
            let colon = memchr(b':', t).ok_or(TargetError::NoForm)?;
            if !t[1..colon].iter().all(|&b| SCHEME[b as usize]) {
                return Err(TargetError::NoForm);
            }
            let rest = t[colon + 1..]
                .strip_prefix(b"//")
                .ok_or(TargetError::NoForm)?;
            let auth_end = rest
                .iter()
                .position(|&b| matches!(b, b'/' | b'?'))
                .unwrap_or(rest.len());
            let authority = &rest[..auth_end];
            if memchr(b'@', authority).is_some() {
                return Err(TargetError::Userinfo);
            }
            match split_authority(authority) {
                Some((host, _)) if !host.is_empty() => Ok(TargetForm::Absolute),
                _ => Err(TargetError::NoForm),
            }
        }
        _ => Err(TargetError::NoForm),
    }
}

/// The authority of an absolute-form target (`http://HOST:PORT/...` → `HOST:PORT`).
pub fn target_authority(t: &[u8]) -> Option<&[u8]> {
    let colon = t.iter().position(|&b| b == b':')?;
    let rest = t[colon + 1..].strip_prefix(b"//")?;
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Splits `uri-host [ ":" port ]` (RFC 3986 §3.2.2–3.2.3, as used by Host, RFC 9110
/// §7.2) into host and port, or `None` if it is not one:
/// ```text
/// uri-host   = IP-literal / IPv4address / reg-name
/// IP-literal = "[" ( IPv6address / IPvFuture  ) "]"
/// port       = *DIGIT
/// ```
/// Loose on purpose: an IPv4address is a reg-name too, the inside of the brackets is
/// only checked byte by byte ([`IP_LITERAL`]), the port may be empty (as the grammar
/// says) but has at most 5 digits. The host may be empty (`""` and `":80"` split);
/// callers that need one check it.
pub fn split_authority(a: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    // The common host (a name or an IPv4 address, no `%`): one table load a byte up to
    // the `:` or the end. Anything else (`[`, `%`, a bad byte) takes the general path.
    let i = span_of_chunked(&REG_NAME_PLAIN, a);
    match a.get(i) {
        None => Some((a, None)),
        Some(b':') => {
            let port = &a[i + 1..];
            if port.len() <= 5 && port.iter().all(|&d| DIGIT[d as usize]) {
                Some((&a[..i], Some(port)))
            } else {
                None
            }
        }
        Some(_) => split_authority_general(a),
    }
}

/// [`split_authority`] for every input: IP-literals, pct-encoded bytes, faults.
fn split_authority_general(a: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let (host, rest) = if a.first() == Some(&b'[') {
        let close = a.iter().position(|&b| b == b']')?;
        let inside = &a[1..close];
        if inside.is_empty() || !inside.iter().all(|&b| IP_LITERAL[b as usize]) {
            return None;
        }
        a.split_at(close + 1)
    } else {
        // One pass up to the `:` (a Host is short: a plain loop beats memchr's set-up).
        let mut colon = a.len();
        let mut pct = false;
        for (i, &b) in a.iter().enumerate() {
            if b == b':' {
                colon = i;
                break;
            }
            if !REG_NAME[b as usize] {
                return None;
            }
            pct |= b == b'%';
        }
        let host = &a[..colon];
        // pct-encoded = "%" HEXDIG HEXDIG (rare in a Host: checked only if present)
        if pct {
            for (i, _) in host.iter().enumerate().filter(|(_, b)| **b == b'%') {
                let hex = |at: usize| host.get(at).is_some_and(|&h| HEXDIG[h as usize]);
                if !(hex(i + 1) && hex(i + 2)) {
                    return None;
                }
            }
        }
        a.split_at(colon)
    };
    match rest {
        [] => Some((host, None)),
        [b':', port @ ..] if port.len() <= 5 && port.iter().all(|&d| DIGIT[d as usize]) => {
            Some((host, Some(port)))
        }
        _ => None,
    }
}

/// The fast path for a field line starting at `buf[start]`: one pass over its bytes
/// straight out of the buffer, with no memchr for the LF first: the name (a token,
/// eight bytes at a time), the colon, leading OWS, then the value up to its first byte
/// that is not field-content ([`field_content_span`], eight at a time), which must be
/// the line end (CR LF or LF). Returns the field, the LF's offset and whether the LF
/// was bare; `None` for anything else (the line is not whole yet, or has a fault, or
/// is empty): then the general path reads the same line from the same place, so errors,
/// their line and byte, the limits and the resumption are its own.
#[inline]
fn fast_field_line(buf: &[u8], start: usize, line: u32) -> Option<(HeaderSpan, usize, bool)> {
    let rest = buf.get(start..)?;
    let n = name_before_colon(rest)?;
    let mut v = n + 1;
    while let Some(&(SP | b'\t')) = rest.get(v) {
        v += 1;
    }
    // The value and everything after it; the value's end is its first byte that is
    // not field-content, which must be the line end.
    let after = rest.get(v..)?;
    let k = field_content_span(after);
    let (value, lf, bare_lf) = match after.split_at_checked(k)? {
        (value, [CR, b'\n', ..]) => (value, k + 1, false),
        (value, [b'\n', ..]) => (value, k, true),
        _ => return None,
    };
    // Trailing OWS: every byte of the value is field-content, so the only ones at or
    // below SP are SP and HTAB.
    let mut e = value.len();
    while e > 0 && value[e - 1] <= SP {
        e -= 1;
    }
    let v = start + v;
    let field = HeaderSpan {
        name: span(start, start + n),
        value: span(v, v + e),
        line,
    };
    Some((field, v + lf, bare_lf))
}

/// The length of the field name at the start of `bytes` if it is not empty and a colon
/// follows it, else `None`; quick on the usual name: eight bytes at a time while they
/// are all ASCII letters or `-` (a few word operations instead of eight table loads).
/// At the first other byte: if it is the colon, the name ends there; else the table
/// goes on from it (digits, `_` and the rest of tchar are rare in names), so the table
/// stays the definition.
#[inline]
fn name_before_colon(bytes: &[u8]) -> Option<usize> {
    let word = |w: &[u8]| not_letter_or_hyphen(u64::from_le_bytes(w.try_into().expect("8 bytes")));
    // Two words a step (most names end in the first 16 bytes), then one.
    let mut i = 0;
    let mut other = 0;
    while let Some(block) = bytes.get(i..i + 16) {
        let (a, b) = block.split_at(8);
        let (oa, ob) = (word(a), word(b));
        if oa | ob != 0 {
            (i, other) = if oa != 0 { (i, oa) } else { (i + 8, ob) };
            break;
        }
        i += 16;
    }
    if other == 0
        && let Some(w) = bytes.get(i..i + 8)
    {
        other = word(w);
        if other == 0 {
            i += 8;
        }
    }
    if other != 0 {
        let j = i + other.trailing_zeros() as usize / 8;
        if bytes[j] == b':' {
            return (j > 0).then_some(j);
        }
        i = j;
    }
    let n = i + span_of_chunked(&TCHAR, &bytes[i..]);
    (n > 0 && bytes.get(n) == Some(&b':')).then_some(n)
}

/// The high bit of each byte of `x` that is not an ASCII letter or `-`, exactly (no
/// sum carries into the next byte): with t the low seven bits of `x | 0x20` (letters
/// in lower case), `t + 0x1F` has its high bit set iff t >= 0x61 and `t + 0x05` iff
/// t >= 0x7B; with y = `x ^ 0x2D`, `(y & 0x7F) + 0x7F | y` has it clear iff y == 0 (a
/// `-`); a byte of 0x80 or more is flagged by its own high bit.
#[inline]
fn not_letter_or_hyphen(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const LOWS: u64 = !HIGHS;
    let t = (x | (ONES * 0x20)) & LOWS;
    let letter = (t + ONES * 0x1F) & !(t + ONES * 0x05);
    let y = x ^ (ONES * b'-' as u64);
    let hyphen = !(((y & LOWS) + LOWS) | y);
    (!(letter | hyphen) | x) & HIGHS
}

/// `field-line = field-name ":" OWS field-value OWS` in `buf[start..end]` (line end
/// excluded), on line `line`. The value span has OWS trimmed on both sides.
fn parse_field_line(
    buf: &[u8],
    start: usize,
    end: usize,
    line: u32,
) -> Result<HeaderSpan, ParseError> {
    let fail = |kind, at| Err(err(kind, line, at));
    match buf[start] {
        // obs-fold = OWS CRLF RWS (RFC 9112 §5.2): the line starts with whitespace.
        SP | b'\t' => return fail(ErrorKind::ObsoleteLineFolding, start),
        b':' => return fail(ErrorKind::EmptyHeaderName, start),
        _ => {}
    }
    // field-name = token
    let i = start + span_of(&TCHAR, &buf[start..end]);
    if i == end {
        return fail(ErrorKind::MissingColon, start);
    }
    match buf[i] {
        b':' => {}
        // RFC 9112 §5.1: whitespace between name and colon MUST be rejected with 400.
        SP | b'\t' if memchr(b':', &buf[i..end]).is_some() => {
            return fail(ErrorKind::SpaceBeforeColon, i);
        }
        SP | b'\t' => return fail(ErrorKind::MissingColon, start),
        CR => return fail(ErrorKind::BareCr, i),
        _ => return fail(ErrorKind::InvalidHeaderName, i),
    }
    let name = span(start, i);
    // field-value with OWS around it trimmed; every byte inside is field-content.
    let mut v = i + 1;
    while v < end && is_ows(buf[v]) {
        v += 1;
    }
    let mut e = end;
    while e > v && is_ows(buf[e - 1]) {
        e -= 1;
    }
    let k = v + field_content_span(&buf[v..e]);
    if k < e {
        let kind = if buf[k] == CR {
            ErrorKind::BareCr
        } else {
            ErrorKind::InvalidHeaderValue
        };
        return fail(kind, k);
    }
    Ok(HeaderSpan {
        name,
        value: span(v, e),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorKind::*;

    /// Parses `input` whole, and again one byte at a time (the buffer growing by a
    /// byte per call); both must agree. Returns the result and the parser.
    fn parse_with(
        input: &[u8],
        limits: HeadLimits,
        bare_lf: bool,
    ) -> (Result<Option<usize>, ParseError>, HeadParser) {
        let mut whole = HeadParser::new(limits);
        whole.set_allow_bare_lf(bare_lf);
        let result = whole.parse(input);
        let mut bytewise = HeadParser::new(limits);
        bytewise.set_allow_bare_lf(bare_lf);
        let mut r = Ok(None);
        for end in 0..=input.len() {
            r = bytewise.parse(&input[..end]);
            if !matches!(r, Ok(None)) {
                break;
            }
        }
        assert_eq!(
            r,
            result,
            "byte by byte differs on {:?}",
            String::from_utf8_lossy(input)
        );
        (result, whole)
    }

    fn parse(input: &[u8]) -> (Result<Option<usize>, ParseError>, HeadParser) {
        parse_with(input, HeadLimits::default(), true)
    }

    fn parse_ok(input: &[u8]) -> HeadParser {
        let (r, p) = parse(input);
        match r {
            Ok(Some(len)) => assert_eq!(len, input.len(), "{input:?}"),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
        }
        p
    }

    #[test]
    fn valid_request_lines() {
        use Method::*;
        use TargetForm::*;
        let cases: &[(&str, Method, &str, TargetForm, Version)] = &[
            ("GET / HTTP/1.1", Get, "/", Origin, Version::Http11),
            ("GET / HTTP/1.0", Get, "/", Origin, Version::Http10),
            (
                "HEAD /a/b?c=d&e HTTP/1.1",
                Head,
                "/a/b?c=d&e",
                Origin,
                Version::Http11,
            ),
            ("POST /x HTTP/1.1", Post, "/x", Origin, Version::Http11),
            ("PUT /x HTTP/1.1", Put, "/x", Origin, Version::Http11),
            ("DELETE /x HTTP/1.1", Delete, "/x", Origin, Version::Http11),
            ("PATCH /x HTTP/1.1", Patch, "/x", Origin, Version::Http11),
            ("TRACE /x HTTP/1.1", Trace, "/x", Origin, Version::Http11),
            (
                "OPTIONS /x HTTP/1.1",
                Options,
                "/x",
                Origin,
                Version::Http11,
            ),
            (
                "OPTIONS * HTTP/1.1",
                Options,
                "*",
                Asterisk,
                Version::Http11,
            ),
            (
                "CONNECT example.com:443 HTTP/1.1",
                Connect,
                "example.com:443",
                Authority,
                Version::Http11,
            ),
            (
                "CONNECT [::1]:443 HTTP/1.1",
                Connect,
                "[::1]:443",
                Authority,
                Version::Http11,
            ),
            (
                "CONNECT 10.0.0.1:80 HTTP/1.1",
                Connect,
                "10.0.0.1:80",
                Authority,
                Version::Http11,
            ),
            // methods are case-sensitive tokens
            ("get / HTTP/1.1", Other, "/", Origin, Version::Http11),
            ("BREW /pot HTTP/1.1", Other, "/pot", Origin, Version::Http11),
            (
                "X!#$%&'*+-.^_`|~ / HTTP/1.1",
                Other,
                "/",
                Origin,
                Version::Http11,
            ),
            // absolute-form
            (
                "GET http://example.com/x?y HTTP/1.1",
                Get,
                "http://example.com/x?y",
                Absolute,
                Version::Http11,
            ),
            (
                "GET https://a HTTP/1.1",
                Get,
                "https://a",
                Absolute,
                Version::Http11,
            ),
            (
                "GET http://a:8080?q HTTP/1.1",
                Get,
                "http://a:8080?q",
                Absolute,
                Version::Http11,
            ),
            (
                "GET HTTP://[::1]:80/ HTTP/1.1",
                Get,
                "HTTP://[::1]:80/",
                Absolute,
                Version::Http11,
            ),
            (
                "GET coap+tcp://a/ HTTP/1.1",
                Get,
                "coap+tcp://a/",
                Absolute,
                Version::Http11,
            ),
            // visible ASCII but `#` is all the target needs (the router judges the path)
            (
                "GET //a/%zz/\"<>{} HTTP/1.1",
                Get,
                "//a/%zz/\"<>{}",
                Origin,
                Version::Http11,
            ),
        ];
        for &(line, method, target, form, version) in cases {
            let text = format!("{line}\r\n\r\n");
            let p = parse_ok(text.as_bytes());
            let h = p.head(text.as_bytes());
            assert_eq!(
                (
                    h.method,
                    h.method_str(),
                    h.target(),
                    h.target_form,
                    h.version
                ),
                (
                    method,
                    line.split(' ').next().unwrap(),
                    target,
                    form,
                    version
                ),
                "{line:?}"
            );
            assert!(h.headers.is_empty());
        }
    }

    #[test]
    fn invalid_request_lines() {
        // (request line, kind, byte); all on line 1.
        let cases: &[(&[u8], ErrorKind, u64)] = &[
            (b" GET / HTTP/1.1", InvalidMethod, 0),
            (b"G(T / HTTP/1.1", InvalidMethod, 1),
            (b"G\x00T / HTTP/1.1", InvalidMethod, 1),
            (b"G\xc3\xa9T / HTTP/1.1", InvalidMethod, 1),
            (b"GET", MalformedRequestLine, 0),
            (b"GET /", MalformedRequestLine, 0),
            (b"GET / ", MalformedRequestLine, 6),
            (b"GET  / HTTP/1.1", MalformedRequestLine, 4),
            (b"GET /  HTTP/1.1", MalformedRequestLine, 6),
            (b"GET / HTTP/1.1 ", MalformedRequestLine, 14),
            (b"GET\t/ HTTP/1.1", MalformedRequestLine, 3),
            (b"GET /\tHTTP/1.1", MalformedRequestLine, 5),
            (b"GET / HTTP/1.1\t", MalformedRequestLine, 14),
            (b"GET /\x0b HTTP/1.1", MalformedRequestLine, 5),
            (b"GET / HTTP/1.1 extra", MalformedRequestLine, 14),
            (b"GET /\x7f HTTP/1.1", InvalidTarget, 5),
            (b"GET /\x00 HTTP/1.1", InvalidTarget, 5),
            (b"GET /caf\xc3\xa9 HTTP/1.1", InvalidTarget, 8),
            (b"GET * HTTP/1.1", AsteriskNotOptions, 4),
            (b"M-SEARCH * HTTP/1.1", AsteriskNotOptions, 9),
            (b"POST * HTTP/1.1", AsteriskNotOptions, 5),
            (b"OPTIONS *x HTTP/1.1", InvalidTarget, 8),
            (b"GET example.com:80 HTTP/1.1", InvalidTarget, 4),
            (b"GET foo HTTP/1.1", InvalidTarget, 4),
            (b"GET http:/a HTTP/1.1", InvalidTarget, 4),
            (b"GET http:///x HTTP/1.1", InvalidTarget, 4),
            (b"GET http://u@a/ HTTP/1.1", UserinfoInTarget, 4),
            (b"GET http://u:p@a/echo HTTP/1.1", UserinfoInTarget, 4),
            (b"GET http://@a/ HTTP/1.1", UserinfoInTarget, 4),
            (b"CONNECT u:p@a:443 HTTP/1.1", UserinfoInTarget, 8),
            // `@` after the authority is a path byte
            (b"GET http://a/u@b#f HTTP/1.1", FragmentInTarget, 16),
            // no fragment in any form (RFC 9112 §3.2), at the `#`
            (b"GET /echo?p=#x HTTP/1.1", FragmentInTarget, 12),
            (b"GET /# HTTP/1.1", FragmentInTarget, 5),
            (b"GET http://a#f HTTP/1.1", FragmentInTarget, 12),
            (b"OPTIONS *# HTTP/1.1", FragmentInTarget, 9),
            (b"GET http://a:x/ HTTP/1.1", InvalidTarget, 4),
            (b"GET 1http://a/ HTTP/1.1", InvalidTarget, 4),
            (b"GET ht_tp://a/ HTTP/1.1", InvalidTarget, 4),
            (b"GET ?q HTTP/1.1", InvalidTarget, 4),
            (b"CONNECT / HTTP/1.1", InvalidTarget, 8),
            (b"CONNECT example.com HTTP/1.1", InvalidTarget, 8),
            (b"CONNECT example.com: HTTP/1.1", InvalidTarget, 8),
            (b"CONNECT :443 HTTP/1.1", InvalidTarget, 8),
            (b"CONNECT http://a:1/ HTTP/1.1", InvalidTarget, 8),
            (b"GET / http/1.1", InvalidVersion, 6),
            (b"GET / HTTP/1", InvalidVersion, 6),
            (b"GET / HTTP/11", InvalidVersion, 6),
            (b"GET / HTTP/1.10", InvalidVersion, 6),
            (b"GET / HTTP/a.b", InvalidVersion, 6),
            (b"GET / HTTPS/1.1", InvalidVersion, 6),
            (b"GET / HTTP/1.1\x00", InvalidVersion, 6),
            (b"GET / HTTP/2.0", UnsupportedVersion, 6),
            (b"GET / HTTP/1.2", UnsupportedVersion, 6),
            (b"GET / HTTP/0.9", UnsupportedVersion, 6),
            (b"GET / HTTP/3.0", UnsupportedVersion, 6),
            // version problems are found before target-form problems
            (b"GET * HTTP/2.0", UnsupportedVersion, 6),
            // a CR that does not end the line
            (b"\rGET / HTTP/1.1", BareCr, 0),
            (b"GE\rT / HTTP/1.1", BareCr, 2),
            (b"GET /\r HTTP/1.1", BareCr, 5),
            (b"GET / HTTP/1.1\r", BareCr, 14),
            (b"GET / HTTP\r/1.1", BareCr, 10),
        ];
        for &(line, kind, byte) in cases {
            let mut text = line.to_vec();
            text.extend_from_slice(b"\r\nHost: a\r\n\r\n");
            let e = parse(&text).0.expect_err(&String::from_utf8_lossy(line));
            let status = match kind {
                UnsupportedVersion => 505,
                _ => 400,
            };
            assert_eq!(
                (e.kind, e.line, e.byte, e.status()),
                (kind, 1, byte, status),
                "{:?}: {e}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn header_fields_keep_order_and_spelling() {
        let text = b"GET / HTTP/1.1\r\nHost: a\r\nX-Thing:  two  words \t\r\nx-thing:\tv\r\nEmpty:\r\nBlank:   \r\nObs: \x80\xff\r\nTab:a\tb\r\n\r\n";
        let p = parse_ok(text);
        let h = p.head(text);
        let got: Vec<(&str, &[u8])> = h.headers().collect();
        let want: Vec<(&str, &[u8])> = vec![
            ("Host", b"a"),
            ("X-Thing", b"two  words"),
            ("x-thing", b"v"),
            ("Empty", b""),
            ("Blank", b""),
            ("Obs", b"\x80\xff"),
            ("Tab", b"a\tb"),
        ];
        assert_eq!(got, want);
        let lines: Vec<u32> = h.headers.iter().map(|f| f.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(h.header("X-THING"), Some(&b"two  words"[..]));
        assert_eq!(h.header("absent"), None);
        // An empty value's span sits right after the colon's OWS.
        let blank = h.headers[4].value;
        assert_eq!(blank.start, blank.end);
    }

    #[test]
    fn invalid_header_lines() {
        // (header lines after "GET / HTTP/1.1\r\n" (16 bytes), kind, line, byte)
        let cases: &[(&[u8], ErrorKind, u32, u64)] = &[
            (b"Bad Name: x\r\n", SpaceBeforeColon, 2, 19),
            (b"Name : x\r\n", SpaceBeforeColon, 2, 20),
            (b"Name\t: x\r\n", SpaceBeforeColon, 2, 20),
            (b"Host: a\r\nName x\r\n", MissingColon, 3, 25),
            (b"NoColon\r\n", MissingColon, 2, 16),
            (b"NoColon\n", MissingColon, 2, 16),
            (b": x\r\n", EmptyHeaderName, 2, 16),
            (b" x: y\r\n", ObsoleteLineFolding, 2, 16),
            (b"\tx: y\r\n", ObsoleteLineFolding, 2, 16),
            (b"Host: a\r\n  folded\r\n", ObsoleteLineFolding, 3, 25),
            (b"Na(me: x\r\n", InvalidHeaderName, 2, 18),
            (b"Na\xc3\xa9me: x\r\n", InvalidHeaderName, 2, 18),
            (b"Na\x00me: x\r\n", InvalidHeaderName, 2, 18),
            (b"Name: a\x00b\r\n", InvalidHeaderValue, 2, 23),
            (b"Name: a\x7fb\r\n", InvalidHeaderValue, 2, 23),
            (b"Name: a\x01\r\n", InvalidHeaderValue, 2, 23),
            (b"Name: \x1b[0m\r\n", InvalidHeaderValue, 2, 22),
            (b"Name: a\rb\r\n", BareCr, 2, 23),
            (b"Name\r: x\r\n", BareCr, 2, 20),
            (b"\rName: x\r\n", BareCr, 2, 16),
            (b"Host: a\r\n\r\r\n", BareCr, 3, 25),
            (b"Name: x\r\r\n", BareCr, 2, 23),
        ];
        for &(lines, kind, line, byte) in cases {
            let mut text = b"GET / HTTP/1.1\r\n".to_vec();
            text.extend_from_slice(lines);
            text.extend_from_slice(b"\r\n");
            let e = parse(&text).0.expect_err(&String::from_utf8_lossy(lines));
            assert_eq!(
                (e.kind, e.line, e.byte, e.status()),
                (kind, line, byte, 400),
                "{:?}: {e}",
                String::from_utf8_lossy(lines)
            );
        }
    }

    #[test]
    fn target_messages_say_why() {
        let cases: [(&[u8], &str); 3] = [
            (
                b"GET /echo?p=#x HTTP/1.1\r\nHost: a\r\n\r\n",
                "line 1: request target contains '#': a fragment is not sent to the server (RFC 9112 §3.2)",
            ),
            (
                b"M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n",
                "line 1: request target `*` is only allowed with OPTIONS (RFC 9112 §3.2.4)",
            ),
            (
                b"GET http://u:p@a/echo HTTP/1.1\r\nHost: a\r\n\r\n",
                "line 1: request target contains userinfo (`user:pass@`), which is not allowed (RFC 9110 §4.2.4)",
            ),
        ];
        for (text, want) in cases {
            let e = parse(text).0.unwrap_err();
            assert_eq!((e.to_string().as_str(), e.status()), (want, 400));
        }
    }

    #[test]
    fn error_message_names_the_line() {
        let text = b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n";
        let e = parse(text).0.unwrap_err();
        assert_eq!((e.kind, e.line, e.byte), (SpaceBeforeColon, 3, 28));
        assert_eq!(e.to_string(), "line 3: header name contains a space");
    }

    #[test]
    fn bare_lf_leniency_both_ways() {
        // (input, with the leniency on: ok; off: BareLf at line, byte)
        let cases: &[(&[u8], u32, u64)] = &[
            (b"GET / HTTP/1.1\nHost: a\n\n", 1, 14),
            (b"GET / HTTP/1.1\r\nHost: a\n\r\n", 2, 23),
            (b"GET / HTTP/1.1\r\nHost: a\r\n\n", 3, 25),
            (b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, 0),
        ];
        for &(text, line, byte) in cases {
            let (r, _) = parse_with(text, HeadLimits::default(), true);
            assert_eq!(r, Ok(Some(text.len())), "{text:?}");
            let (r, _) = parse_with(text, HeadLimits::default(), false);
            let e = r.unwrap_err();
            assert_eq!(
                (e.kind, e.line, e.byte, e.status()),
                (BareLf, line, byte, 400),
                "{text:?}"
            );
        }
        // The same message with CRLF passes the strict parser.
        let crlf = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(
            parse_with(crlf, HeadLimits::default(), false).0,
            Ok(Some(crlf.len()))
        );
        // Bare-LF lines give the same head as CRLF lines.
        let lf = b"GET /x HTTP/1.1\nHost: a\nX: y \n\n";
        let p = parse_ok(lf);
        let h = p.head(lf);
        assert_eq!(h.target(), "/x");
        assert_eq!(
            h.headers().collect::<Vec<_>>(),
            [("Host", &b"a"[..]), ("X", b"y")]
        );
    }

    #[test]
    fn leading_empty_lines_are_skipped_and_bounded() {
        let text = b"\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let p = parse_ok(text);
        let h = p.head(text);
        assert_eq!((h.method_span.start, h.target()), (5, "/"));
        assert_eq!(
            h.headers[0].line, 2,
            "leading empty lines are not counted as lines"
        );
        // Line numbers in errors ignore them, byte offsets do not.
        let e = parse(b"\r\nGET / HTTP/1.1\r\nBad Name: x\r\n\r\n")
            .0
            .unwrap_err();
        assert_eq!((e.kind, e.line, e.byte), (SpaceBeforeColon, 2, 21));
        // At most MAX_LEADING_EMPTY_LINES.
        for (n, ok) in [
            (MAX_LEADING_EMPTY_LINES, true),
            (MAX_LEADING_EMPTY_LINES + 1, false),
        ] {
            let mut text = b"\r\n".repeat(n);
            text.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
            let r = parse(&text).0;
            if ok {
                assert_eq!(r, Ok(Some(text.len())));
            } else {
                let e = r.unwrap_err();
                let at = 2 * MAX_LEADING_EMPTY_LINES as u64;
                assert_eq!((e.kind, e.line, e.byte), (MalformedRequestLine, 1, at));
            }
        }
        // Only complete empty lines leave the parser "not started".
        let mut p = HeadParser::new(HeadLimits::default());
        assert!(!p.has_started());
        assert_eq!(p.parse(b"\r\n"), Ok(None));
        assert!(!p.has_started());
        assert_eq!(p.parse(b"\r\n\r"), Ok(None));
        assert!(p.has_started());
    }

    /// A request line of exactly `len` bytes (CRLF excluded).
    fn request_line_of(len: usize) -> Vec<u8> {
        let mut line = b"GET /".to_vec();
        line.resize(len - b" HTTP/1.1".len(), b'a');
        line.extend_from_slice(b" HTTP/1.1");
        assert_eq!(line.len(), len);
        line
    }

    #[test]
    fn limit_messages_quote_the_limit_in_force() {
        let limits = HeadLimits {
            max_request_line: 20,
            max_header_section: 40,
            max_headers: 2,
        };
        let cases: [(&[u8], &str); 4] = [
            (
                b"GET /aaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
                "line 1: request line is longer than 20 bytes",
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: bbbbbbbbbbbbbbbbbbbbb\r\n\r\n",
                "line 3: header section is longer than 40 bytes",
            ),
            (
                b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
                "line 4: more than 2 header fields",
            ),
            (
                // Not a limit: the usual message.
                b"GET / HTTP/1.1\r\nA b: 1\r\n\r\n",
                "line 2: header name contains a space",
            ),
        ];
        for (input, want) in cases {
            let e = parse_with(input, limits, false).0.unwrap_err();
            assert_eq!(e.to_string(), want);
        }
        // Without a limit attached, the kind's own (default) wording.
        let bare = ParseError::new(RequestLineTooLong, 1, 0).to_string();
        assert_eq!(bare, "line 1: request line is longer than 8192 bytes");
    }

    #[test]
    fn request_line_limit_at_n_and_n_plus_1() {
        let n = MAX_REQUEST_LINE;
        let mut ok = request_line_of(n);
        ok.extend_from_slice(b"\r\nHost: a\r\n\r\n");
        assert_eq!(parse(&ok).0, Ok(Some(ok.len())));
        let mut long = request_line_of(n + 1);
        long.extend_from_slice(b"\r\nHost: a\r\n\r\n");
        let e = parse(&long).0.unwrap_err();
        assert_eq!(
            (e.kind, e.line, e.byte, e.status()),
            (RequestLineTooLong, 1, n as u64, 414)
        );
    }

    #[test]
    fn request_line_limit_fires_before_the_lf() {
        let n = MAX_REQUEST_LINE;
        let mut p = HeadParser::new(HeadLimits::default());
        let line = request_line_of(n + 1);
        // N bytes, then the CR of the line end: still fine.
        assert_eq!(p.parse(&line[..n]), Ok(None));
        let mut with_cr = line[..n].to_vec();
        with_cr.push(b'\r');
        assert_eq!(p.parse(&with_cr), Ok(None));
        // N+1 bytes without LF: 414 at once.
        let mut p = HeadParser::new(HeadLimits::default());
        assert_eq!(p.parse(&line[..n]), Ok(None));
        let e = p.parse(&line).unwrap_err();
        assert_eq!((e.kind, e.byte), (RequestLineTooLong, n as u64));
        // And the error stays.
        assert_eq!(p.parse(&line), Err(e));
        // Without any line end at all, in one call.
        let mut p = HeadParser::new(HeadLimits::default());
        assert_eq!(
            p.parse(&vec![b'G'; n + 1]).unwrap_err().kind,
            RequestLineTooLong
        );
    }

    /// A head whose header section is exactly `len` bytes (one big field).
    fn section_of(len: usize) -> Vec<u8> {
        let mut text = b"GET / HTTP/1.1\r\nHost: a\r\nX: ".to_vec();
        text.resize(len - 2, b'x');
        text.extend_from_slice(b"\r\n");
        assert_eq!(text.len(), len);
        text
    }

    #[test]
    fn header_section_limit_at_n_and_n_plus_1() {
        let n = MAX_HEADER_SECTION;
        let mut ok = section_of(n);
        ok.extend_from_slice(b"\r\n");
        assert_eq!(parse(&ok).0, Ok(Some(n + 2)));
        let mut big = section_of(n + 1);
        big.extend_from_slice(b"\r\n");
        let e = parse(&big).0.unwrap_err();
        assert_eq!(
            (e.kind, e.line, e.byte, e.status()),
            (HeaderSectionTooLarge, 3, n as u64, 431)
        );
        // Leading empty lines are not part of the section.
        let mut ok = b"\r\n\r\n".to_vec();
        ok.extend_from_slice(&section_of(n));
        ok.extend_from_slice(b"\r\n");
        assert_eq!(parse(&ok).0, Ok(Some(n + 6)));
        // A bare LF counts one byte: N with LF-ended lines is fine too.
        let mut lf = section_of(n);
        lf.pop();
        lf.pop();
        lf.extend_from_slice(b"x\n\n");
        assert_eq!(parse(&lf).0, Ok(Some(n + 1)));
    }

    #[test]
    fn header_section_limit_fires_before_the_lf() {
        let n = MAX_HEADER_SECTION;
        let mut text = section_of(n + 100);
        text.truncate(n); // no LF on the last line yet
        let mut p = HeadParser::new(HeadLimits::default());
        assert_eq!(p.parse(&text), Ok(None));
        text.push(b'\r');
        assert_eq!(p.parse(&text), Ok(None));
        text.push(b'x');
        let e = p.parse(&text).unwrap_err();
        assert_eq!(
            (e.kind, e.line, e.byte),
            (HeaderSectionTooLarge, 3, n as u64)
        );
    }

    #[test]
    fn header_count_limit_at_n_and_n_plus_1() {
        for (count, ok) in [(MAX_HEADERS, true), (MAX_HEADERS + 1, false)] {
            let mut text = b"GET / HTTP/1.1\r\n".to_vec();
            let mut line_start = 0;
            for i in 0..count {
                line_start = text.len();
                text.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
            }
            text.extend_from_slice(b"\r\n");
            let (r, p) = parse(&text);
            if ok {
                assert_eq!(r, Ok(Some(text.len())));
                assert_eq!(p.head(&text).headers.len(), MAX_HEADERS);
            } else {
                let e = r.unwrap_err();
                let want = (
                    TooManyHeaders,
                    MAX_HEADERS as u32 + 2,
                    line_start as u64,
                    431,
                );
                assert_eq!((e.kind, e.line, e.byte, e.status()), want);
            }
        }
    }

    #[test]
    fn configured_limits_apply() {
        let limits = HeadLimits {
            max_request_line: 14,
            max_header_section: 36,
            max_headers: 1,
        };
        let ok = b"GET / HTTP/1.1\r\nHost: abcdefghijkl\r\n\r\n"; // 16 + 20 = 36
        assert_eq!(parse_with(ok, limits, true).0, Ok(Some(ok.len())));
        let cases: &[(&[u8], ErrorKind)] = &[
            (b"GET /a HTTP/1.1\r\n\r\n", RequestLineTooLong),
            (
                b"GET / HTTP/1.1\r\nHost: abcdefghijklm\r\n\r\n",
                HeaderSectionTooLarge,
            ),
            (b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", TooManyHeaders),
        ];
        for &(text, kind) in cases {
            assert_eq!(
                parse_with(text, limits, true).0.unwrap_err().kind,
                kind,
                "{text:?}"
            );
        }
    }

    #[test]
    fn incomplete_heads_need_more() {
        let text = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for end in 0..text.len() {
            let mut p = HeadParser::new(HeadLimits::default());
            assert_eq!(p.parse(&text[..end]), Ok(None), "{end}");
            assert_eq!(p.bytes_seen(), end);
        }
    }

    #[test]
    fn only_the_head_is_consumed() {
        let text = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET";
        let (r, _) = parse(text);
        assert_eq!(r, Ok(Some(text.len() - 6)));
    }

    #[test]
    fn reset_reuses_the_field_list() {
        let a = b"GET /a HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
        let b = b"POST /b HTTP/1.0\r\nC: 3\r\n\r\n";
        let mut p = HeadParser::new(HeadLimits::default());
        assert_eq!(p.parse(a), Ok(Some(a.len())));
        assert_eq!(p.line(), 4);
        let cap = p.headers.capacity();
        p.reset();
        assert!(!p.has_started());
        assert_eq!(p.parse(b), Ok(Some(b.len())));
        let h = p.head(b);
        assert_eq!(
            (h.method, h.target(), h.version),
            (Method::Post, "/b", Version::Http10)
        );
        assert_eq!(h.headers().collect::<Vec<_>>(), [("C", &b"3"[..])]);
        assert_eq!(p.headers.capacity(), cap);
        // Parsing again after completion returns the same length.
        assert_eq!(p.parse(b), Ok(Some(b.len())));
    }

    /// The fast path for field lines (one pass straight out of a whole buffer) against
    /// the general path: `parse_with` parses whole (the fast path takes every whole
    /// field line) and byte by byte (every line then arrives in pieces, so the general
    /// path reads it) and asserts both agree: same result, same error, line and byte.
    /// Every byte value at every position of names and values of lengths around the
    /// 8-byte words of the scans (so a line ends at, before and after a word boundary),
    /// both ways of the bare-LF leniency, with CR LF and bare LF line ends.
    #[test]
    fn fast_field_lines_agree_with_the_general_path() {
        let mut text = Vec::new();
        let mut oks = 0;
        for name_len in [1, 7, 8, 9, 16] {
            for value_len in [0, 1, 7, 8, 9, 15, 16, 17] {
                for lf in [&b"\r\n"[..], b"\n"] {
                    let line_len = name_len + 2 + value_len;
                    for at in 0..line_len {
                        for b in 0..=255u8 {
                            text.clear();
                            text.extend_from_slice(b"GET / HTTP/1.1\r\nHost: a\r\n");
                            let first = text.len();
                            text.resize(first + name_len, b'n');
                            text.extend_from_slice(b": ");
                            text.resize(first + line_len, b'v');
                            text[first + at] = b;
                            text.extend_from_slice(lf);
                            text.extend_from_slice(b"X: y\r\n\r\n");
                            for bare_lf in [true, false] {
                                let (r, p) = parse_with(&text, HeadLimits::default(), bare_lf);
                                if r == Ok(Some(text.len())) {
                                    oks += 1;
                                    // The same spans as the general path's.
                                    let mut slow = HeadParser::new(HeadLimits::default());
                                    for end in 0..=text.len() {
                                        let _ = slow.parse(&text[..end]);
                                    }
                                    let (fast, slow) = (p.head(&text), slow.head(&text));
                                    assert_eq!(fast.headers, slow.headers, "{text:?}");
                                    assert_eq!(fast.headers.len(), 3);
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(oks > 0);
        // Obs-text in a value is kept; a bad byte right after it is still found.
        let text = b"GET / HTTP/1.1\r\nX: caf\xc3\xa9 \x80\x9f\xff\r\n\r\n";
        let p = parse_ok(text);
        assert_eq!(
            p.head(text).header("x"),
            Some(&b"caf\xc3\xa9 \x80\x9f\xff"[..])
        );
        let e = parse(b"GET / HTTP/1.1\r\nX: \x80\x7f\r\n\r\n")
            .0
            .unwrap_err();
        assert_eq!((e.kind, e.line, e.byte), (InvalidHeaderValue, 2, 20));
        // A CR in a value that is not the line end, and one that is the buffer's last.
        let e = parse(b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n").0.unwrap_err();
        assert_eq!((e.kind, e.line, e.byte), (BareCr, 2, 20));
        let mut p = HeadParser::new(HeadLimits::default());
        assert_eq!(p.parse(b"GET / HTTP/1.1\r\nX: a\r"), Ok(None));
        assert_eq!(p.parse(b"GET / HTTP/1.1\r\nX: a\r\n\r\n"), Ok(Some(24)));
    }

    /// The path and query as `path()` and `query()` read them before `path_end`: by
    /// scanning the target (the reference for the tests below).
    fn path_and_query_by_scanning(h: &RequestHead) -> (String, Option<String>) {
        let t = h.target();
        let q = t.find('?');
        let query = q.map(|i| t[i + 1..].to_string());
        let t = &t[..q.unwrap_or(t.len())];
        let path = match h.target_form {
            TargetForm::Absolute => {
                let after = &t[t.find("://").map_or(0, |i| i + 3)..];
                match after.find('/') {
                    Some(i) => after[i..].to_string(),
                    None => "/".to_string(),
                }
            }
            _ => t.to_string(),
        };
        (path, query)
    }

    /// The request-line fast path against the general path: every byte value at every
    /// position of request lines whose targets end before, at and after the 8-byte
    /// words of the scan (with and without `?`, one `?` or two), CR LF and bare LF,
    /// both bare-LF settings, and limits that the line just fits or just exceeds.
    /// `parse_with` parses whole (the fast path takes a whole line) and byte by byte
    /// (the line arrives in pieces, so the general path reads it) and asserts the same
    /// result, error, line and byte; for a head that parses, the request line's parts
    /// and `path_end` must be the same too, and `path()`/`query()` those of a scan.
    /// The unmutated lines, and a set of telling bytes, also at every split point.
    #[test]
    fn fast_request_lines_agree_with_the_general_path() {
        let lines: &[&[u8]] = &[
            b"GET / HTTP/1.1",
            b"GET /plaintext HTTP/1.1",
            b"GET /session?tab=overview HTTP/1.1",
            b"POST /a?b HTTP/1.0",
            b"HEAD /abcdef? HTTP/1.1",
            b"PUT /abcdefg?x?y HTTP/1.1",
            b"DELETE /abcdefghijklmno HTTP/1.1",
            b"X /abcdefghijklmnop?q HTTP/1.1",
            b"OPTIONS * HTTP/1.1",
            b"GET http://a:8/b?c HTTP/1.1",
            b"CONNECT a:443 HTTP/1.1",
        ];
        let tight = |line: &[u8]| HeadLimits {
            max_request_line: line.len(),
            max_header_section: line.len() + 2,
            ..HeadLimits::default()
        };
        let mut text = Vec::new();
        let mut oks = 0;
        let check = |text: &[u8], limits: HeadLimits, bare_lf: bool, oks: &mut usize| {
            let (r, fast) = parse_with(text, limits, bare_lf);
            if r == Ok(Some(text.len())) {
                *oks += 1;
                let mut slow = HeadParser::new(limits);
                slow.set_allow_bare_lf(bare_lf);
                for end in 0..=text.len() {
                    let _ = slow.parse(&text[..end]);
                }
                let (f, s) = (fast.head(text), slow.head(text));
                assert_eq!(
                    (f.method, f.method_span, f.target_span, f.target_form),
                    (s.method, s.method_span, s.target_span, s.target_form),
                    "{text:?}"
                );
                assert_eq!((f.path_end, f.version), (s.path_end, s.version));
                assert_eq!(f.headers, s.headers, "{text:?}");
                let (path, query) = path_and_query_by_scanning(&f);
                assert_eq!((f.path(), f.query()), (&path[..], query.as_deref()));
            }
        };
        for &line in lines {
            for lf in [&b"\r\n"[..], b"\n"] {
                for at in 0..line.len() + lf.len() {
                    for b in 0..=255u8 {
                        text.clear();
                        text.extend_from_slice(line);
                        text.extend_from_slice(lf);
                        text[at] = b;
                        text.extend_from_slice(b"Host: a\r\n\r\n");
                        for bare_lf in [true, false] {
                            check(&text, HeadLimits::default(), bare_lf, &mut oks);
                        }
                    }
                }
                // The limits: just fitting, one byte short of each.
                text.clear();
                text.extend_from_slice(line);
                text.extend_from_slice(lf);
                text.extend_from_slice(b"\r\n");
                let fits = tight(line);
                let fits = HeadLimits {
                    max_header_section: line.len() + lf.len(),
                    ..fits
                };
                check(&text, fits, true, &mut oks);
                let short_line = HeadLimits {
                    max_request_line: line.len() - 1,
                    ..fits
                };
                let short_section = HeadLimits {
                    max_header_section: line.len() + lf.len() - 1,
                    ..fits
                };
                for limits in [short_line, short_section] {
                    assert!(parse_with(&text, limits, true).0.is_err(), "{text:?}");
                }
            }
        }
        assert!(oks > 0);
        // Every split point: the first part, then the whole.
        for &line in lines {
            for at in 0..line.len() {
                for b in [
                    b'a', b' ', b'\t', b'\r', b'\n', 0, b'#', b'?', b'/', b'*', 0x7f, 0x80,
                ] {
                    text.clear();
                    text.extend_from_slice(line);
                    text[at] = b;
                    text.extend_from_slice(b"\r\nHost: a\r\n\r\n");
                    let whole = HeadParser::new(HeadLimits::default()).parse(&text);
                    for split in 0..=text.len() {
                        let mut p = HeadParser::new(HeadLimits::default());
                        let first = p.parse(&text[..split]);
                        let r = if first.is_err() {
                            first
                        } else {
                            p.parse(&text)
                        };
                        assert_eq!(r, whole, "{text:?} split at {split}");
                        if let Ok(Some(_)) = r {
                            let mut q = HeadParser::new(HeadLimits::default());
                            assert_eq!(q.parse(&text), whole);
                            let (h, w) = (p.head(&text), q.head(&text));
                            assert_eq!(
                                (h.method_span, h.target_span, h.path_end, h.version),
                                (w.method_span, w.target_span, w.path_end, w.version)
                            );
                        }
                    }
                }
            }
        }
    }

    /// `name_before_colon` (words of letters and `-`, then the table) against the
    /// table: every
    /// byte at every position of runs of letters, of `-` and of both mixed, around the
    /// word boundaries; and every pair of bytes from a telling set side by side (a
    /// word test that flagged a byte next to a `-` or a letter wrongly would differ).
    #[test]
    fn name_before_colon_matches_the_table() {
        let by_table = |text: &[u8]| {
            let n = span_of(&TCHAR, text);
            (n > 0 && text.get(n) == Some(&b':')).then_some(n)
        };
        let mut text = Vec::new();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 25] {
            for fill in [&b"a"[..], b"-", b"Ab-", b"Z"] {
                for at in 0..len {
                    for b in 0..=255u8 {
                        text.clear();
                        text.extend((0..len).map(|k| fill[k % fill.len()]));
                        text[at] = b;
                        assert_eq!(name_before_colon(&text), by_table(&text), "{text:?}");
                        text.push(b':');
                        assert_eq!(name_before_colon(&text), by_table(&text), "{text:?}");
                    }
                }
            }
        }
        let telling = b"-,.+@[`{AZaz09:\x00\x80\xad\xc1\xe1\xff \t\r\n";
        for at in 0..15 {
            for &x in telling {
                for &y in telling {
                    text.clear();
                    text.resize(17, b'k');
                    text[at] = x;
                    text[at + 1] = y;
                    assert_eq!(name_before_colon(&text), by_table(&text), "{text:?}");
                    text[16] = b':';
                    assert_eq!(name_before_colon(&text), by_table(&text), "{text:?}");
                }
            }
        }
    }

    /// The fast path of `split_authority` against its general path, every byte value
    /// at every position of a few hosts (names, IPv4, ports of 0-6 digits).
    #[test]
    fn split_authority_fast_path_agrees_with_the_general_path() {
        let mut a = Vec::new();
        for base in [
            &b"127.0.0.1:8080"[..],
            b"a",
            b"example.com",
            b"localhost:",
            b"h:123456",
            b"abcdefgh:1",
            b"abcdefghijklmnopq",
        ] {
            assert_eq!(split_authority(base), split_authority_general(base));
            for at in 0..base.len() {
                for b in 0..=255u8 {
                    a.clear();
                    a.extend_from_slice(base);
                    a[at] = b;
                    assert_eq!(split_authority(&a), split_authority_general(&a), "{a:?}");
                }
            }
        }
    }

    #[test]
    fn browser_request() {
        let text = b"GET /session?tab=overview HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nCookie: sid=4f9c2a7be1d04c3b8a6e5f1d2c3b4a59; theme=dark\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n\r\n";
        let p = parse_ok(text);
        let h = p.head(text);
        assert_eq!((h.path(), h.query()), ("/session", Some("tab=overview")));
        assert_eq!(h.headers.len(), 10);
        // httparse agrees on every field.
        let mut fields = [httparse::EMPTY_HEADER; 16];
        let mut req = httparse::Request::new(&mut fields);
        assert_eq!(
            req.parse(text).unwrap(),
            httparse::Status::Complete(text.len())
        );
        let theirs: Vec<(&str, &[u8])> = req.headers.iter().map(|f| (f.name, f.value)).collect();
        assert_eq!(h.headers().collect::<Vec<_>>(), theirs);
    }

    #[test]
    fn authority_splitting() {
        type Split<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>);
        let ok: &[Split] = &[
            (b"a", b"a", None),
            (b"", b"", None),
            (b"a:80", b"a", Some(b"80")),
            (b"a:", b"a", Some(b"")),
            (b":80", b"", Some(b"80")),
            (b"[::1]:8000", b"[::1]", Some(b"8000")),
            (b"[v1.x]", b"[v1.x]", None),
            (b"a%20b", b"a%20b", None),
            (b"a.b-c_d~e!$&'()*+,;=", b"a.b-c_d~e!$&'()*+,;=", None),
        ];
        for &(a, host, port) in ok {
            assert_eq!(split_authority(a), Some((host, port)), "{a:?}");
        }
        for bad in [
            &b"a b"[..],
            b"a/b",
            b"u@a",
            b"a:b",
            b"a:1:2",
            b"a:123456",
            b"%zz",
            b"a%2",
            b"[",
            b"[]",
            b"[::1",
            b"[::1]x",
            b"[a b]",
            b"\xff",
        ] {
            assert_eq!(split_authority(bad), None, "{bad:?}");
        }
    }
}
