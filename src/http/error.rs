//! Typed parse errors that say what was wrong, where, and which status to answer.
//!
//! Every error carries the 1-based `line` of the message head it was found on (the
//! request line is line 1; for chunked bodies the line counts on through the chunk
//! size lines and trailers) and the 0-based `byte` offset from the first byte of the
//! message. The `Display` form is the sentence a learner reads in the body of the
//! error response: `line 3: header name contains a space`.

use std::fmt;

/// What was wrong. Each kind knows its status code ([`ErrorKind::status`]) and a
/// short description ([`ErrorKind::message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    // --- request line (RFC 9112 §3) ---
    /// The method is empty or holds a byte that is not a `tchar`.
    InvalidMethod,
    /// The request target is missing, or holds a byte outside visible ASCII.
    InvalidTarget,
    /// A `#` in the request target: a fragment stays with the client (RFC 9112 §3.2).
    FragmentInTarget,
    /// The asterisk-form `*` with a method other than OPTIONS (RFC 9112 §3.2.4).
    AsteriskNotOptions,
    /// `user:pass@` in the authority of the target (RFC 9110 §4.2.4 asks to reject it).
    UserinfoInTarget,
    /// The request line is not `method SP request-target SP HTTP-version`.
    MalformedRequestLine,
    /// The version is not of the form `HTTP/DIGIT.DIGIT`.
    InvalidVersion,
    /// A well-formed version other than HTTP/1.0 or HTTP/1.1 (505).
    UnsupportedVersion,
    /// The request line is longer than [`crate::http::head::MAX_REQUEST_LINE`] (414).
    RequestLineTooLong,

    // --- header section (RFC 9112 §5) ---
    /// A header line without a colon.
    MissingColon,
    /// A header line starting with a colon.
    EmptyHeaderName,
    /// Whitespace between the field name and the colon (RFC 9112 §5.1: must be 400).
    SpaceBeforeColon,
    /// A byte in the field name that is not a `tchar`.
    InvalidHeaderName,
    /// A control byte (other than HTAB) in a field value.
    InvalidHeaderValue,
    /// A line starting with SP or HTAB: obsolete line folding (RFC 9112 §5.2).
    ObsoleteLineFolding,
    /// A CR not followed by LF.
    BareCr,
    /// A head line ended by a bare LF while that leniency is off
    /// ([`crate::http::head::HeadParser::set_allow_bare_lf`]).
    BareLf,
    /// The header section is longer than [`crate::http::head::MAX_HEADER_SECTION`] (431).
    HeaderSectionTooLarge,
    /// More header fields than [`crate::http::head::MAX_HEADERS`] (431).
    TooManyHeaders,

    // --- framing and semantics (RFC 9112 §3.2, §6) ---
    /// An HTTP/1.1 request without a Host header.
    MissingHost,
    /// More than one Host header.
    MultipleHost,
    /// A Host value that is not a valid `uri-host [ ":" port ]`.
    InvalidHost,
    /// A Content-Length that is not a decimal number, or too large.
    InvalidContentLength,
    /// Two Content-Length values that differ.
    ConflictingContentLength,
    /// Both Content-Length and Transfer-Encoding (a smuggling vector).
    ContentLengthWithTransferEncoding,
    /// A Transfer-Encoding other than a final `chunked` (501).
    UnsupportedTransferEncoding,
    /// Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1: faulty framing).
    TransferEncodingInHttp10,

    // --- chunked body (RFC 9112 §7.1) ---
    /// A chunk size that is not hexadecimal.
    InvalidChunkSize,
    /// A chunk size that does not fit in 64 bits.
    ChunkSizeOverflow,
    /// A chunk-size line, chunk data end or trailer line ended by a bare LF.
    ChunkedBareLf,
    /// Chunk data not followed by CRLF.
    MissingChunkDataCrlf,
    /// A malformed chunk extension.
    InvalidChunkExtension,
    /// A chunk-size line (with extensions) longer than its limit.
    ChunkLineTooLong,
    /// A malformed trailer field.
    InvalidTrailer,
    /// A trailer section longer than its limit.
    TrailerSectionTooLarge,

    // --- end of input ---
    /// The peer closed the connection in the middle of a message.
    UnexpectedEof,
}

impl ErrorKind {
    /// The status code a server answers with.
    pub fn status(self) -> u16 {
        use ErrorKind::*;
        match self {
            RequestLineTooLong => 414,
            HeaderSectionTooLarge | TooManyHeaders => 431,
            UnsupportedVersion => 505,
            UnsupportedTransferEncoding => 501,
            TrailerSectionTooLarge => 431,
            _ => 400,
        }
    }

    /// A short, lower-case description for learners.
    pub fn message(self) -> &'static str {
        use ErrorKind::*;
        match self {
            InvalidMethod => "method is empty or contains a character not allowed in a token",
            InvalidTarget => {
                "request target is missing or contains a character outside visible ASCII"
            }
            FragmentInTarget => {
                "request target contains '#': a fragment is not sent to the server (RFC 9112 §3.2)"
            }
            AsteriskNotOptions => {
                "request target `*` is only allowed with OPTIONS (RFC 9112 §3.2.4)"
            }
            UserinfoInTarget => {
                "request target contains userinfo (`user:pass@`), which is not allowed (RFC 9110 §4.2.4)"
            }
            MalformedRequestLine => "request line is not `METHOD SP target SP HTTP/x.y`",
            InvalidVersion => "version is not of the form HTTP/DIGIT.DIGIT",
            UnsupportedVersion => "HTTP version not supported (only HTTP/1.0 and HTTP/1.1)",
            RequestLineTooLong => "request line is longer than 8192 bytes",
            MissingColon => "header line has no colon",
            EmptyHeaderName => "header name is empty",
            SpaceBeforeColon => "header name contains a space",
            InvalidHeaderName => "header name contains a character not allowed in a token",
            InvalidHeaderValue => "header value contains a control character",
            ObsoleteLineFolding => {
                "header line starts with whitespace (obsolete line folding is not accepted)"
            }
            BareCr => "CR not followed by LF",
            BareLf => "line ends with a bare LF; CRLF is required",
            HeaderSectionTooLarge => "header section is longer than 16384 bytes",
            TooManyHeaders => "more than 100 header fields",
            MissingHost => "HTTP/1.1 request without a Host header",
            MultipleHost => "more than one Host header",
            InvalidHost => "Host header is not a valid host[:port]",
            InvalidContentLength => "Content-Length is not a valid decimal number",
            ConflictingContentLength => "Content-Length values differ",
            ContentLengthWithTransferEncoding => {
                "both Content-Length and Transfer-Encoding are present"
            }
            UnsupportedTransferEncoding => {
                "Transfer-Encoding other than a final `chunked` is not implemented"
            }
            TransferEncodingInHttp10 => "Transfer-Encoding in an HTTP/1.0 request",
            InvalidChunkSize => "chunk size is not a hexadecimal number",
            ChunkSizeOverflow => "chunk size is too large",
            ChunkedBareLf => {
                "chunked framing line ends with a bare LF; CRLF is required (try nc -C)"
            }
            MissingChunkDataCrlf => "chunk data is not followed by CRLF",
            InvalidChunkExtension => "chunk extension is malformed",
            ChunkLineTooLong => "chunk size line is too long",
            InvalidTrailer => "trailer field is malformed",
            TrailerSectionTooLarge => "trailer section is too large",
            UnexpectedEof => "connection closed in the middle of a message",
        }
    }
}

/// A parse error: what ([`ErrorKind`]) and where (line and byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// What was wrong; decides the status code.
    pub kind: ErrorKind,
    /// 1-based line number within the message (request line = 1).
    pub line: u32,
    /// 0-based byte offset from the first byte of the message.
    pub byte: u64,
    /// For an error about a configured limit (414, 431): the limit in force, so the
    /// message quotes it rather than the default.
    pub limit: Option<u64>,
}

impl ParseError {
    /// An error of `kind` at `line` and `byte`, with no limit quoted.
    pub fn new(kind: ErrorKind, line: u32, byte: u64) -> Self {
        ParseError {
            kind,
            line,
            byte,
            limit: None,
        }
    }

    /// The same error, saying which limit was in force.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The status code to answer with.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        match (self.kind, self.limit) {
            (ErrorKind::RequestLineTooLong, Some(n)) => {
                write!(f, "line {line}: request line is longer than {n} bytes")
            }
            (ErrorKind::HeaderSectionTooLarge, Some(n)) => {
                write!(f, "line {line}: header section is longer than {n} bytes")
            }
            (ErrorKind::TooManyHeaders, Some(n)) => {
                write!(f, "line {line}: more than {n} header fields")
            }
            _ => write!(f, "line {line}: {}", self.kind.message()),
        }
    }
}

impl std::error::Error for ParseError {}
