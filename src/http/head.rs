//! The incremental request head parser (RFC 9112 §2–§5).
//!
//! STUB: interface fixed, implementation to be written (see the helper task).
//!
//! Theory of operation: the caller keeps the bytes of the message in its own buffer
//! and calls [`HeadParser::parse`] with the whole buffer so far (always starting at the
//! first byte of the message) each time more bytes arrive. The parser remembers how far
//! it has scanned and resumes from there (memchr for the next LF), so one byte at a
//! time costs linear time, and each limit fires the moment it is crossed. When the
//! empty line ending the head is seen it returns the head's length, and
//! [`HeadParser::head`] gives a zero-copy view of it into the same buffer.

use crate::http::error::ParseError;

/// Longest request line, CRLF excluded (nginx's `large_client_header_buffers` is 8k). 414 past it.
pub const MAX_REQUEST_LINE: usize = 8192;
/// Longest header section (request line included, final empty line excluded). 431 past it.
pub const MAX_HEADER_SECTION: usize = 16384;
/// Most header fields in one request (Django's and many proxies' order of magnitude). 431 past it.
pub const MAX_HEADERS: usize = 100;

/// The limits of one head, as flags may set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    pub max_request_line: usize,
    pub max_header_section: usize,
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
    Get,
    Head,
    Post,
    Put,
    Delete,
    Patch,
    Options,
    Connect,
    Trace,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Http10,
    Http11,
}

impl Version {
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
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn of<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.start as usize..self.end as usize]
    }
}

/// Where one header field's name and value lie (value with surrounding OWS trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderSpan {
    pub name: Span,
    pub value: Span,
    /// 1-based line of the message this field was on (for error messages).
    pub line: u32,
}

/// A zero-copy view of a parsed request head.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'b> {
    pub buf: &'b [u8],
    pub method: Method,
    pub method_span: Span,
    pub target_span: Span,
    pub target_form: TargetForm,
    pub version: Version,
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
    /// The path part of the target (for absolute-form, after the authority; `*` for asterisk-form).
    pub fn path(&self) -> &'b str {
        let t = self.target();
        let t = match self.target_form {
            TargetForm::Absolute => {
                // scheme "://" authority path-abempty [ "?" query ]
                let after = t.find("://").map(|i| &t[i + 3..]).unwrap_or(t);
                match after.find(['/', '?']) {
                    Some(i) => &after[i..],
                    None => "",
                }
            }
            _ => t,
        };
        let p = t.split('?').next().unwrap_or("");
        if p.is_empty() && self.target_form == TargetForm::Absolute {
            "/"
        } else {
            p
        }
    }
    /// The query (after `?`, without it), if any.
    pub fn query(&self) -> Option<&'b str> {
        let t = self.target();
        t.find('?').map(|i| &t[i + 1..])
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
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// The incremental head parser. See the module docs.
#[derive(Debug)]
pub struct HeadParser {
    limits: HeadLimits,
    headers: Vec<HeaderSpan>,
}

impl HeadParser {
    pub fn new(limits: HeadLimits) -> Self {
        HeadParser {
            limits,
            headers: Vec::with_capacity(32),
        }
    }

    /// Parse as far as `buf` allows. `buf` starts at the first byte of the message and
    /// holds everything received so far (a longer buffer with the same prefix on each
    /// call). Returns `Ok(Some(len))` once the head is complete: `len` bytes including
    /// the final empty line; `Ok(None)` when more bytes are needed.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Option<usize>, ParseError> {
        let _ = (buf, &self.limits);
        todo!()
    }

    /// The parsed head, a view into `buf` (the same buffer `parse` completed on).
    /// Only meaningful after `parse` returned `Some`.
    pub fn head<'b>(&'b self, buf: &'b [u8]) -> RequestHead<'b> {
        let _ = buf;
        todo!()
    }

    /// Forget the message and get ready for the next one (keeps allocations).
    pub fn reset(&mut self) {
        self.headers.clear();
    }
}
