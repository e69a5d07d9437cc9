//! The incremental `multipart/form-data` parser (RFC 7578 over RFC 2046 §5.1).
//!
//! # Theory of operation
//!
//! The h11 shape, like [`crate::http::parser::RequestParser`]: the caller owns the
//! buffer of body bytes. It calls [`MultipartParser::feed`] with the bytes it has not
//! consumed yet and gets one [`Step`]: how many bytes at the front are used up (the
//! caller drops them), and one [`Event`]. When the event is
//! [`Event::NeedData`] the caller reads more, appends, and feeds again; at the end
//! of the body it calls [`MultipartParser::finish`].
//!
//! ```text
//!  Start ──"--boundary"──────────────────────┐ after the boundary:
//!    └─other─▶ Preamble ──CRLF"--boundary"───┼─ CRLF ──────────────────────▶ HeaderLine ⟲ a line at a time
//!                                            ├─ SP/HTAB ─▶ Padding ─▶ DelimiterLf ─┘   │ empty line: PartBegin
//!                                            └─ "--" ─▶ End ⟲ epilogue                 ▼
//!                                            ▲                                        Data ⟲ PartData
//!                                            └───────── CRLF"--boundary": PartEnd ─────┘
//! ```
//!
//! The grammar, RFC 2046 §5.1.1 (with RFC 7578's rules for form data):
//! ```text
//! multipart-body    := [preamble CRLF]
//!                      dash-boundary transport-padding CRLF
//!                      body-part *encapsulation
//!                      close-delimiter transport-padding
//!                      [CRLF epilogue]
//! dash-boundary     := "--" boundary
//! encapsulation     := delimiter transport-padding CRLF body-part
//! delimiter         := CRLF dash-boundary
//! close-delimiter   := delimiter "--"
//! transport-padding := *LWSP-char        ; SP / HTAB
//! body-part         := MIME-part-headers [CRLF *OCTET]
//! ```
//!
//! **Finding the delimiter across reads.** In part data the parser looks for
//! `CRLF "--" boundary`. The delimiter's only CR is its first byte (a boundary holds
//! no CR), so `memchr` jumps from one CR to the next, and each candidate is compared
//! with the delimiter from there. When a candidate runs off the end of the input, the
//! data before it is emitted and only the candidate is held back (left unconsumed in
//! the caller's buffer, never copied): at most the delimiter's length plus one byte.
//! The parser remembers how many bytes of it already matched and resumes the
//! comparison there on the next call. When a candidate fails at byte `k`, the bytes
//! before `k` cannot start a delimiter (none of them is a CR that could), so the
//! search goes on from `k`. Every byte is looked at a bounded number of times: linear
//! time however the body is cut into reads, and memory in the parser of the
//! boundary's size (it keeps `CRLF--boundary` and a few counters). This is the idea
//! of streamsearch's and python-multipart's lookbehind, without the copy: the bytes
//! held back stay in the caller's buffer.
//!
//! **Part headers** are read a line at a time as each LF arrives (memchr from where
//! the last search stopped); each whole line is parsed, copied into the part's owned
//! [`PartHeaders`] and consumed, so a line still without its LF is the only thing
//! held back, and the limits fire the moment they are crossed.
//!
//! # Choices (each tested)
//!
//! - **What counts as a delimiter.** `CRLF--boundary` (or `--boundary` at the very
//!   start of the body) followed by `--` (the close delimiter), by `CRLF`, or by SP /
//!   HTAB (transport padding, which must then run to a CRLF, else
//!   [`MultipartErrorKind::InvalidDelimiterLine`]). Followed by anything else
//!   (`--boundaryX`, `--boundary-X`, `--boundary\rX`), it is not a delimiter and the
//!   bytes are part data. RFC 2046 forbids such lines in a part, but a lenient reading
//!   costs nothing and is python-multipart's. Followed by a bare LF it is
//!   [`MultipartErrorKind::BareLf`]: a body written with LF line ends cannot be
//!   parsed, and saying so beats "no boundary found".
//! - **CRLF only.** Delimiter lines and part header lines need CRLF; a bare LF is
//!   [`MultipartErrorKind::BareLf`], a CR not before LF [`MultipartErrorKind::BareCr`].
//!   (The request head accepts a bare LF because people type heads into `nc`; nobody
//!   types a multipart body, and the delimiter itself is CRLF-framed, so a lenient
//!   header reading would not make an LF-only body parse anyway.)
//! - **Preamble and epilogue** are skipped as they stream (consumed, never held), so
//!   they need no limit of their own beyond the route's body limit. The CRLF before
//!   the first delimiter is optional (the body may start with `--boundary`). After the
//!   close delimiter every byte is epilogue: consumed, [`Event::End`] again.
//! - **Part headers** are field lines as in HTTP (`name ":" OWS value OWS`, a token
//!   name, field-content value, no obs-fold), at most
//!   [`MultipartLimits::max_part_headers`] lines and
//!   [`MultipartLimits::max_part_header_section`] bytes. Each part needs exactly one
//!   `Content-Disposition: form-data` with a `name` (RFC 7578 §4.2); its file name is
//!   `filename*` if decodable, else `filename`, as sent (see [`crate::http::params`]:
//!   path parts, `..`, `%22`, `%0D%0A` are the upload page's to make safe). An empty
//!   `filename=""` (a file input left empty) is reported as `Some("")`. A repeated
//!   `Content-Type` keeps the first; other headers are kept raw.
//! - **Status**: every error is 400 Bad Request, limits included (as Django answers
//!   `TooManyFieldsSent`): the request's own head was fine (not 431), and 413 would
//!   point the client at the body's size, which is the route's `--max-upload` limit.
//! - **Offsets**: an error's `byte` is counted from the body's first byte: the
//!   offending byte; for a limit the first byte past it; for a header line that is
//!   wrong as a whole, the line's first byte; for [`MultipartErrorKind::TooManyParts`]
//!   the `--` of the boundary line opening the part too many (that error comes in
//!   place of the last allowed part's [`Event::PartEnd`]).

use crate::http::chars::{
    BCHARS, BCHARS_NO_SPACE, TCHAR, field_content_span, is_ows, span_of, trim_ows,
};
use crate::http::params::{parse_content_disposition, parse_media_type};
use memchr::memchr;
use std::fmt;
use std::ops::Range;

/// Longest boundary: RFC 2046 §5.1.1, `boundary := 0*69<bchars> bcharsnospace`.
pub const MAX_BOUNDARY: usize = 70;
/// Default most parts (fields and files) in one body: 1000, like
/// [`crate::http::query::MAX_FIELDS`] and Django's `DATA_UPLOAD_MAX_NUMBER_FIELDS`.
/// Each part costs a small allocation and, for a file, a temporary file.
pub const MAX_PARTS: usize = 1000;
/// Default longest header section of one part: the field lines with their CRLFs,
/// the empty line excluded. Browsers send two short lines (Content-Disposition and
/// Content-Type); 8 KiB leaves room for long file names (a name is at most 255 bytes
/// on common file systems, 3× that percent-encoded in `filename*`).
pub const MAX_PART_HEADER_SECTION: usize = 8192;
/// Default most header lines in one part. Browsers send at most two; RFC 7578 §4.8
/// names three that may appear (Content-Disposition, Content-Type,
/// Content-Transfer-Encoding); 32 is room for hand-made requests.
pub const MAX_PART_HEADERS: usize = 32;

/// The limits of one multipart body, as flags may set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartLimits {
    /// Most parts in one body; default [`MAX_PARTS`].
    pub max_parts: usize,
    /// Longest header section of one part in bytes, measured as
    /// [`MAX_PART_HEADER_SECTION`] says; default [`MAX_PART_HEADER_SECTION`].
    pub max_part_header_section: usize,
    /// Most header lines in one part; default [`MAX_PART_HEADERS`].
    pub max_part_headers: usize,
}

impl Default for MultipartLimits {
    fn default() -> Self {
        MultipartLimits {
            max_parts: MAX_PARTS,
            max_part_header_section: MAX_PART_HEADER_SECTION,
            max_part_headers: MAX_PART_HEADERS,
        }
    }
}

/// What was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MultipartErrorKind {
    // --- the Content-Type header (no byte offset) ---
    /// The Content-Type is not `multipart/form-data`.
    NotMultipart,
    /// The Content-Type is not a well-formed media type with parameters.
    MalformedContentType,
    /// `multipart/form-data` without a `boundary` parameter.
    MissingBoundary,
    /// A boundary that is not 1–70 bchars, ends in a space, or is given twice.
    InvalidBoundary,

    // --- delimiter lines ---
    /// After `--boundary` and whitespace, something other than more whitespace or CRLF.
    InvalidDelimiterLine,
    /// A delimiter line or part header line ended by a bare LF.
    BareLf,
    /// A CR not followed by LF in a delimiter line or part header line.
    BareCr,
    /// More parts than the limit.
    TooManyParts {
        /// The limit in force ([`MultipartLimits::max_parts`]).
        max: usize,
    },

    // --- part headers ---
    /// The part's header section is longer than the limit.
    PartHeadersTooLarge {
        /// The limit in force, in bytes ([`MultipartLimits::max_part_header_section`]).
        max: usize,
    },
    /// More header lines in one part than the limit.
    TooManyPartHeaders {
        /// The limit in force ([`MultipartLimits::max_part_headers`]).
        max: usize,
    },
    /// A part header line without a colon.
    PartHeaderMissingColon,
    /// A part header name that is empty or not a token (a space before the colon).
    InvalidPartHeaderName,
    /// A control character in a part header value.
    InvalidPartHeaderValue,
    /// A part header line starting with whitespace (obsolete line folding).
    PartHeaderFolding,
    /// A part without a Content-Disposition header.
    MissingContentDisposition,
    /// A part with two Content-Disposition headers.
    DuplicateContentDisposition,
    /// A Content-Disposition that does not parse (or repeats a parameter).
    InvalidContentDisposition,
    /// A Content-Disposition whose type is not `form-data`.
    NotFormData,
    /// A `form-data` Content-Disposition without a `name`.
    MissingName,

    // --- end of input ---
    /// The body ended before any `--boundary` line.
    NoBoundaryInBody,
    /// The body ended before the close delimiter `--boundary--`.
    MissingFinalBoundary,
}

impl MultipartErrorKind {
    /// The status code to answer with: always 400 (see the module docs).
    pub fn status(self) -> u16 {
        400
    }
}

impl fmt::Display for MultipartErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use MultipartErrorKind::*;
        let text = match *self {
            NotMultipart => "Content-Type is not multipart/form-data",
            MalformedContentType => "Content-Type is not a valid media type with parameters",
            MissingBoundary => "Content-Type multipart/form-data has no boundary parameter",
            InvalidBoundary => {
                "boundary must be 1 to 70 characters (letters, digits, space and \
                 '()+_,-./:=?), not ending in a space, and given once"
            }
            InvalidDelimiterLine => {
                "boundary line has something other than whitespace after the boundary"
            }
            BareLf => "line ends with a bare LF; multipart needs CRLF",
            BareCr => "CR not followed by LF",
            TooManyParts { max } => return write!(f, "more than {max} parts"),
            PartHeadersTooLarge { max } => {
                return write!(f, "part headers are longer than {max} bytes");
            }
            TooManyPartHeaders { max } => {
                return write!(f, "more than {max} header lines in one part");
            }
            PartHeaderMissingColon => "part header line has no colon",
            InvalidPartHeaderName => {
                "part header name is empty, contains a space, or a character not allowed \
                 in a token"
            }
            InvalidPartHeaderValue => "part header value contains a control character",
            PartHeaderFolding => {
                "part header line starts with whitespace (line folding is not accepted)"
            }
            MissingContentDisposition => "part has no Content-Disposition header",
            DuplicateContentDisposition => "part has two Content-Disposition headers",
            InvalidContentDisposition => "Content-Disposition is malformed or repeats a parameter",
            NotFormData => "Content-Disposition type is not form-data",
            MissingName => "Content-Disposition has no name parameter",
            NoBoundaryInBody => {
                "body ended without any boundary line (does the body use the boundary \
                 named in Content-Type?)"
            }
            MissingFinalBoundary => "body ended before the closing boundary line (--boundary--)",
        };
        f.write_str(text)
    }
}

/// A multipart error: what, and where (from the body's first byte; `None` for the
/// Content-Type errors, which are not in the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartError {
    /// What was wrong.
    pub kind: MultipartErrorKind,
    /// 0-based offset of the fault from the body's first byte; `None` for the
    /// Content-Type errors.
    pub byte: Option<u64>,
}

impl MultipartError {
    fn content_type(kind: MultipartErrorKind) -> Self {
        MultipartError { kind, byte: None }
    }

    fn at(kind: MultipartErrorKind, byte: u64) -> Self {
        MultipartError {
            kind,
            byte: Some(byte),
        }
    }

    /// The status code to answer with (400).
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.byte {
            Some(byte) => write!(f, "byte {byte}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for MultipartError {}

/// RFC 2046 §5.1.1:
/// ```text
/// boundary      := 0*69<bchars> bcharsnospace
/// bchars        := bcharsnospace / " "
/// bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" /
///                  "+" / "_" / "," / "-" / "." /
///                  "/" / ":" / "=" / "?"
/// ```
///
/// Whether `boundary` follows this grammar ([`BCHARS`], [`BCHARS_NO_SPACE`]).
pub fn is_valid_boundary(boundary: &[u8]) -> bool {
    match boundary.split_last() {
        Some((&last, init)) => {
            boundary.len() <= MAX_BOUNDARY
                && BCHARS_NO_SPACE[last as usize]
                && init.iter().all(|&b| BCHARS[b as usize])
        }
        None => false,
    }
}

/// The boundary of a `multipart/form-data` Content-Type value
/// (`multipart/form-data; boundary=----WebKitFormBoundaryABC`), quoted or not.
/// Errors: [`MultipartErrorKind::MalformedContentType`],
/// [`MultipartErrorKind::NotMultipart`], [`MultipartErrorKind::MissingBoundary`],
/// [`MultipartErrorKind::InvalidBoundary`] (also for two `boundary` parameters).
pub fn boundary_from_content_type(content_type: &[u8]) -> Result<Vec<u8>, MultipartError> {
    use MultipartErrorKind::*;
    let Some(media) = parse_media_type(content_type) else {
        // Say "malformed" only when it was meant to be form data.
        let essence = content_type.split(|&b| b == b';').next().unwrap_or(b"");
        let kind = if trim_ows(essence).eq_ignore_ascii_case(b"multipart/form-data") {
            MalformedContentType
        } else {
            NotMultipart
        };
        return Err(MultipartError::content_type(kind));
    };
    if !media.is("multipart", "form-data") {
        return Err(MultipartError::content_type(NotMultipart));
    }
    let mut boundaries = media.params_named("boundary");
    let boundary = boundaries
        .next()
        .ok_or(MultipartError::content_type(MissingBoundary))?;
    if boundaries.next().is_some() || !is_valid_boundary(boundary) {
        return Err(MultipartError::content_type(InvalidBoundary));
    }
    Ok(boundary.to_vec())
}

/// The headers of one part, owned (copied out of the input as each line arrives).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartHeaders {
    /// The form field's name (`name` of Content-Disposition; invalid UTF-8 replaced).
    pub name: String,
    /// The file name, as sent, for a file part (see the module docs).
    pub filename: Option<String>,
    /// The part's Content-Type value, trimmed, as sent (RFC 7578 §4.4: `text/plain`
    /// when absent).
    pub content_type: Option<String>,
    /// Every header line in order: name as sent, value with OWS trimmed.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl PartHeaders {
    /// Whether the part is a file (has a `filename`, even an empty one).
    pub fn is_file(&self) -> bool {
        self.filename.is_some()
    }

    /// The value of the first header called `name` (ignoring ASCII case).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// What [`MultipartParser::feed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// More bytes are needed (some may have been consumed: preamble, header lines).
    NeedData,
    /// A part begins; its data follows.
    PartBegin(PartHeaders),
    /// A piece of the current part's data at this range of the input given (within
    /// the bytes consumed by this step; never empty).
    PartData(Range<usize>),
    /// The current part's data is complete.
    PartEnd,
    /// The close delimiter has been read; the rest of the body (the epilogue) is
    /// consumed and ignored. Returned again on every later call.
    End,
}

/// The result of one call to [`MultipartParser::feed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// How many bytes at the front of the input are used up; the next call starts
    /// after them.
    pub consumed: usize,
    /// What was found.
    pub event: Event,
}

/// What the parser expects next. `matched` counts bytes at the front of the next
/// input that are already known to match a delimiter (held back, not consumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultipartState {
    /// The body's first bytes: `--boundary` may open it without a CRLF before.
    Start {
        /// Bytes of `--boundary` already matched.
        matched: usize,
    },
    /// Skipping the preamble up to the first `CRLF--boundary`.
    Preamble {
        /// Bytes of `CRLF--boundary` already matched.
        matched: usize,
    },
    /// Transport padding after a boundary: more SP / HTAB, or its CR.
    Padding,
    /// The LF ending a boundary line.
    DelimiterLf,
    /// A part header line or the empty line ending the section; `scanned` bytes of
    /// it (at the front of the input) hold no LF.
    HeaderLine {
        /// Bytes of the line already searched for LF.
        scanned: usize,
    },
    /// Part data, up to the next delimiter.
    Data {
        /// Bytes of `CRLF--boundary` already matched.
        matched: usize,
    },
    /// The close delimiter was read: the rest is epilogue.
    End,
    /// This error was found; returned again on every call.
    Failed(MultipartError),
}

/// What follows `--boundary`, deciding whether it is a delimiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// `--`: the close delimiter.
    Close,
    /// `CRLF`: a part's headers follow.
    LineEnd,
    /// SP or HTAB: transport padding, then CRLF.
    Padding,
    /// A bare LF: an error.
    BareLf,
}

/// A delimiter compared against the front of some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// A whole delimiter of `len` bytes, tail included.
    Found { len: usize, tail: Tail },
    /// Every byte given matches, but the delimiter (or its tail) goes on.
    Partial,
    /// Byte `at` does not match; no delimiter starts before it.
    Mismatch { at: usize },
}

/// Compares `s` with `pattern` and a [`Tail`], knowing the first `from` bytes match.
fn match_delimiter(pattern: &[u8], s: &[u8], from: usize) -> Match {
    let p = pattern.len();
    let n = s.len().min(p);
    let from = from.min(p);
    if let Some(i) = s[from.min(n)..n]
        .iter()
        .zip(&pattern[from.min(n)..n])
        .position(|(a, b)| a != b)
    {
        return Match::Mismatch { at: from + i };
    }
    let Some(&after) = s.get(p) else {
        return Match::Partial;
    };
    // The tail's second byte, for `--` and CRLF.
    let second = |want: u8, tail: Tail| match s.get(p + 1) {
        None => Match::Partial,
        Some(&b) if b == want => Match::Found { len: p + 2, tail },
        Some(_) => Match::Mismatch { at: p + 1 },
    };
    match after {
        b'-' => second(b'-', Tail::Close),
        b'\r' => second(b'\n', Tail::LineEnd),
        b' ' | b'\t' => Match::Found {
            len: p + 1,
            tail: Tail::Padding,
        },
        b'\n' => Match::Found {
            len: p + 1,
            tail: Tail::BareLf,
        },
        _ => Match::Mismatch { at: p },
    }
}

/// The first delimiter (`pattern` starts with CR) in `hay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Search {
    /// A delimiter starts at `at`.
    Found { at: usize, len: usize, tail: Tail },
    /// A delimiter may start at `at`: every byte from there to the end matches.
    Partial { at: usize },
    /// No delimiter starts in `hay`.
    None,
}

/// Finds the first delimiter in `hay`, whose first `matched` bytes are known to
/// match one (see the module docs for why restarting at a mismatch is enough).
fn find_delimiter(pattern: &[u8], hay: &[u8], matched: usize) -> Search {
    let mut from = 0;
    if matched > 0 {
        match match_delimiter(pattern, hay, matched) {
            Match::Found { len, tail } => return Search::Found { at: 0, len, tail },
            Match::Partial => return Search::Partial { at: 0 },
            Match::Mismatch { at } => from = at,
        }
    }
    while let Some(i) = memchr(b'\r', &hay[from..]) {
        let at = from + i;
        match match_delimiter(pattern, &hay[at..], 1) {
            Match::Found { len, tail } => return Search::Found { at, len, tail },
            Match::Partial => return Search::Partial { at },
            Match::Mismatch { at: k } => from = at + k,
        }
    }
    Search::None
}

/// What a state function decided: go on at this input index, or return this step.
enum Next {
    Go(usize),
    Emit(Step),
}

fn need(consumed: usize) -> Next {
    Next::Emit(Step {
        consumed,
        event: Event::NeedData,
    })
}

/// The parser of one multipart body. See the module docs.
#[derive(Debug, Clone)]
pub struct MultipartParser {
    /// `CRLF "--" boundary`.
    delimiter: Vec<u8>,
    limits: MultipartLimits,
    state: MultipartState,
    /// Body offset of the first byte of the input of the current call.
    offset: u64,
    /// Body offset just past the last input seen.
    end: u64,
    /// Parts begun so far.
    parts: usize,
    /// Body offset of the current part's header section.
    section_start: u64,
    /// Bytes of whole field lines in the current header section.
    section_len: usize,
    /// The headers of the current part, filled line by line.
    part: PartHeaders,
    /// Whether the current part had its Content-Disposition.
    has_disposition: bool,
}

impl MultipartParser {
    /// A parser for a body delimited by `boundary` (from
    /// [`boundary_from_content_type`]). The boundary is not checked here.
    pub fn new(boundary: &[u8], limits: MultipartLimits) -> Self {
        let mut delimiter = Vec::with_capacity(boundary.len() + 4);
        delimiter.extend_from_slice(b"\r\n--");
        delimiter.extend_from_slice(boundary);
        MultipartParser {
            delimiter,
            limits,
            state: MultipartState::Start { matched: 0 },
            offset: 0,
            end: 0,
            parts: 0,
            section_start: 0,
            section_len: 0,
            part: PartHeaders::default(),
            has_disposition: false,
        }
    }

    /// What the parser expects next (for traces and logs).
    pub fn state(&self) -> MultipartState {
        self.state
    }

    /// Body offset of the next byte to be consumed.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Parts begun so far.
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// Whether the close delimiter has been read.
    pub fn is_done(&self) -> bool {
        self.state == MultipartState::End
    }

    /// Feed the unconsumed bytes; get one event. `input` must start with the bytes
    /// left unconsumed by the previous call (then anything newly read). Errors are
    /// sticky.
    pub fn feed(&mut self, input: &[u8]) -> Result<Step, MultipartError> {
        if let MultipartState::Failed(e) = self.state {
            return Err(e);
        }
        self.end = self.offset + input.len() as u64;
        match self.step(input) {
            Ok(step) => {
                debug_assert!(step.consumed <= input.len());
                self.offset += step.consumed as u64;
                Ok(step)
            }
            Err(e) => {
                self.state = MultipartState::Failed(e);
                Err(e)
            }
        }
    }

    /// The body ended. `Ok` once the close delimiter has been read;
    /// [`MultipartErrorKind::NoBoundaryInBody`] or
    /// [`MultipartErrorKind::MissingFinalBoundary`] (at the body's length) otherwise.
    pub fn finish(&self) -> Result<(), MultipartError> {
        use MultipartErrorKind::*;
        match self.state {
            MultipartState::End => Ok(()),
            MultipartState::Failed(e) => Err(e),
            MultipartState::Start { .. } | MultipartState::Preamble { .. } => {
                Err(MultipartError::at(NoBoundaryInBody, self.end))
            }
            _ => Err(MultipartError::at(MissingFinalBoundary, self.end)),
        }
    }

    fn step(&mut self, input: &[u8]) -> Result<Step, MultipartError> {
        let mut pos = 0;
        loop {
            let next = match self.state {
                MultipartState::Start { matched } => self.read_start(input, pos, matched)?,
                MultipartState::Preamble { matched } => self.read_preamble(input, pos, matched)?,
                MultipartState::Padding => self.read_padding(input, pos)?,
                MultipartState::DelimiterLf => self.read_delimiter_lf(input, pos)?,
                MultipartState::HeaderLine { scanned } => {
                    self.read_header_line(input, pos, scanned)?
                }
                MultipartState::Data { matched } => self.read_data(input, pos, matched)?,
                MultipartState::End => Next::Emit(Step {
                    consumed: input.len(),
                    event: Event::End,
                }),
                MultipartState::Failed(e) => return Err(e),
            };
            match next {
                Next::Go(p) => pos = p,
                Next::Emit(step) => return Ok(step),
            }
        }
    }

    fn error(&self, kind: MultipartErrorKind, index: usize) -> MultipartError {
        MultipartError::at(kind, self.offset + index as u64)
    }

    /// A delimiter with `tail` was read; its `--` is at `line` and the byte after it
    /// at `after` (input indices). Moves to the state after it.
    fn delimiter_read(
        &mut self,
        tail: Tail,
        line: usize,
        after: usize,
    ) -> Result<(), MultipartError> {
        match tail {
            Tail::Close => {
                self.state = MultipartState::End;
                return Ok(());
            }
            Tail::BareLf => return Err(self.error(MultipartErrorKind::BareLf, after - 1)),
            Tail::LineEnd | Tail::Padding => {}
        }
        self.parts += 1;
        if self.parts > self.limits.max_parts {
            let max = self.limits.max_parts;
            return Err(self.error(MultipartErrorKind::TooManyParts { max }, line));
        }
        if tail == Tail::Padding {
            self.state = MultipartState::Padding;
        } else {
            self.begin_header_section(after);
        }
        Ok(())
    }

    fn begin_header_section(&mut self, at: usize) {
        self.state = MultipartState::HeaderLine { scanned: 0 };
        self.section_start = self.offset + at as u64;
        self.section_len = 0;
        self.part = PartHeaders::default();
        self.has_disposition = false;
    }

    /// `dash-boundary` at the body's first byte, or else a preamble.
    fn read_start(
        &mut self,
        input: &[u8],
        pos: usize,
        matched: usize,
    ) -> Result<Next, MultipartError> {
        let rest = &input[pos..];
        match match_delimiter(&self.delimiter[2..], rest, matched) {
            Match::Found { len, tail } => {
                self.delimiter_read(tail, pos, pos + len)?;
                Ok(Next::Go(pos + len))
            }
            Match::Partial => {
                self.state = MultipartState::Start {
                    matched: rest.len(),
                };
                Ok(need(pos))
            }
            // Bytes before `at` are preamble and cannot start a delimiter.
            Match::Mismatch { at } => {
                self.state = MultipartState::Preamble { matched: 0 };
                Ok(Next::Go(pos + at))
            }
        }
    }

    /// `[preamble CRLF] dash-boundary`: skip bytes up to the first delimiter.
    fn read_preamble(
        &mut self,
        input: &[u8],
        pos: usize,
        matched: usize,
    ) -> Result<Next, MultipartError> {
        let rest = &input[pos..];
        match find_delimiter(&self.delimiter, rest, matched) {
            Search::Found { at, len, tail } => {
                self.delimiter_read(tail, pos + at + 2, pos + at + len)?;
                Ok(Next::Go(pos + at + len))
            }
            Search::Partial { at } => {
                self.state = MultipartState::Preamble {
                    matched: rest.len() - at,
                };
                Ok(need(pos + at))
            }
            Search::None => {
                self.state = MultipartState::Preamble { matched: 0 };
                Ok(need(input.len()))
            }
        }
    }

    /// `transport-padding CRLF`: whitespace, then CR.
    fn read_padding(&mut self, input: &[u8], pos: usize) -> Result<Next, MultipartError> {
        let ws = input[pos..].iter().take_while(|&&b| is_ows(b)).count();
        let at = pos + ws;
        match input.get(at) {
            None => Ok(need(at)),
            Some(b'\r') => {
                self.state = MultipartState::DelimiterLf;
                Ok(Next::Go(at + 1))
            }
            Some(b'\n') => Err(self.error(MultipartErrorKind::BareLf, at)),
            Some(_) => Err(self.error(MultipartErrorKind::InvalidDelimiterLine, at)),
        }
    }

    /// The LF after a boundary line's CR.
    fn read_delimiter_lf(&mut self, input: &[u8], pos: usize) -> Result<Next, MultipartError> {
        match input.get(pos) {
            None => Ok(need(pos)),
            Some(b'\n') => {
                self.begin_header_section(pos + 1);
                Ok(Next::Go(pos + 1))
            }
            Some(_) => Err(self.error(MultipartErrorKind::BareCr, pos)),
        }
    }

    /// One part header line, or the empty line ending the section:
    /// ```text
    /// MIME-part-headers = *( field-line CRLF )   ; RFC 2046, as fields of RFC 9112 §5
    /// field-line        = field-name ":" OWS field-value OWS
    /// ```
    fn read_header_line(
        &mut self,
        input: &[u8],
        pos: usize,
        scanned: usize,
    ) -> Result<Next, MultipartError> {
        use MultipartErrorKind::*;
        let rest = &input[pos..];
        let max = self.limits.max_part_header_section;
        let too_large = |p: &Self| {
            let at = p.section_start + max as u64;
            MultipartError::at(PartHeadersTooLarge { max }, at)
        };
        let Some(i) = memchr(b'\n', &rest[scanned..]) else {
            // Only measured until whole. A lone CR may be the empty line's.
            if rest != b"\r" && self.section_len + rest.len() > max {
                return Err(too_large(self));
            }
            self.state = MultipartState::HeaderLine {
                scanned: rest.len(),
            };
            return Ok(need(pos));
        };
        let lf = scanned + i;
        if lf == 1 && rest[0] == b'\r' {
            // The empty line: the section is complete.
            if !self.has_disposition {
                return Err(self.error(MissingContentDisposition, pos));
            }
            self.state = MultipartState::Data { matched: 0 };
            return Ok(Next::Emit(Step {
                consumed: pos + 2,
                event: Event::PartBegin(std::mem::take(&mut self.part)),
            }));
        }
        if self.section_len + lf + 1 > max {
            return Err(too_large(self));
        }
        if lf == 0 || rest[lf - 1] != b'\r' {
            return Err(self.error(BareLf, pos + lf));
        }
        if self.part.headers.len() == self.limits.max_part_headers {
            let max = self.limits.max_part_headers;
            return Err(self.error(TooManyPartHeaders { max }, pos));
        }
        self.field_line(&rest[..lf - 1], pos)?;
        self.section_len += lf + 1;
        self.state = MultipartState::HeaderLine { scanned: 0 };
        Ok(Next::Go(pos + lf + 1))
    }

    /// A whole field line (without CRLF) at input index `at`.
    fn field_line(&mut self, line: &[u8], at: usize) -> Result<(), MultipartError> {
        use MultipartErrorKind::*;
        if is_ows(line[0]) {
            return Err(self.error(PartHeaderFolding, at));
        }
        let name_len = span_of(&TCHAR, line);
        match line.get(name_len) {
            Some(b':') if name_len > 0 => {}
            None => return Err(self.error(PartHeaderMissingColon, at)),
            Some(_) if !line.contains(&b':') => return Err(self.error(PartHeaderMissingColon, at)),
            Some(_) => return Err(self.error(InvalidPartHeaderName, at + name_len)),
        }
        let raw_value = &line[name_len + 1..];
        let lead = raw_value.iter().take_while(|&&b| is_ows(b)).count();
        let value = trim_ows(raw_value);
        let ok = field_content_span(value);
        if ok < value.len() {
            let bad = at + name_len + 1 + lead + ok;
            let kind = if value[ok] == b'\r' {
                BareCr
            } else {
                InvalidPartHeaderValue
            };
            return Err(self.error(kind, bad));
        }
        let name = std::str::from_utf8(&line[..name_len]).expect("tokens are ASCII");
        if name.eq_ignore_ascii_case("content-disposition") {
            if self.has_disposition {
                return Err(self.error(DuplicateContentDisposition, at));
            }
            let cd = parse_content_disposition(value)
                .ok_or_else(|| self.error(InvalidContentDisposition, at))?;
            if !cd.is_form_data() {
                return Err(self.error(NotFormData, at));
            }
            let field = cd.name().ok_or_else(|| self.error(MissingName, at))?;
            self.part.name = String::from_utf8_lossy(field).into_owned();
            self.part.filename = cd.filename();
            self.has_disposition = true;
        } else if name.eq_ignore_ascii_case("content-type") && self.part.content_type.is_none() {
            self.part.content_type = Some(String::from_utf8_lossy(value).into_owned());
        }
        self.part.headers.push((name.to_string(), value.to_vec()));
        Ok(())
    }

    /// `*OCTET` up to the next delimiter.
    fn read_data(
        &mut self,
        input: &[u8],
        pos: usize,
        matched: usize,
    ) -> Result<Next, MultipartError> {
        let rest = &input[pos..];
        let data = |end: usize| {
            Next::Emit(Step {
                consumed: end,
                event: Event::PartData(pos..end),
            })
        };
        match find_delimiter(&self.delimiter, rest, matched) {
            Search::Found { at: 0, len, tail } => {
                self.delimiter_read(tail, pos + 2, pos + len)?;
                Ok(Next::Emit(Step {
                    consumed: pos + len,
                    event: Event::PartEnd,
                }))
            }
            Search::Found { at, len, .. } => {
                // The data first; the delimiter (known to match) on the next call.
                self.state = MultipartState::Data { matched: len };
                Ok(data(pos + at))
            }
            Search::Partial { at } => {
                self.state = MultipartState::Data {
                    matched: rest.len() - at,
                };
                Ok(if at == 0 { need(pos) } else { data(pos + at) })
            }
            Search::None => {
                self.state = MultipartState::Data { matched: 0 };
                Ok(if rest.is_empty() {
                    need(pos)
                } else {
                    data(input.len())
                })
            }
        }
    }
}

/// A piece of a multipart body, as [`MultipartStream::push`] hands it on.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A part begins.
    Begin(PartHeaders),
    /// Some of the current part's data (never empty).
    Data(&'a [u8]),
    /// The current part is complete.
    End,
}

/// What stopped [`MultipartStream::push`]: the body, or the caller's handler.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamError<E> {
    /// The body is not valid multipart.
    Multipart(MultipartError),
    /// The handler refused a piece, with its error.
    Handler(E),
}

/// A [`MultipartParser`] for a body that arrives in pieces the caller does not keep
/// (a route streaming its body). The parser leaves unconsumed the few bytes at the end
/// of a piece that may begin a delimiter, or a part header line still without its LF;
/// this keeps them in a small buffer of its own and puts them in front of the next
/// piece. That buffer is bounded by the parser: a delimiter's length, or one part
/// header line (at most [`MultipartLimits::max_part_header_section`]). After the close
/// delimiter, the rest (the epilogue) is ignored.
#[derive(Debug, Clone)]
pub struct MultipartStream {
    parser: MultipartParser,
    carry: Vec<u8>,
    ended: bool,
}

impl MultipartStream {
    /// A stream for a body delimited by `boundary` (from
    /// [`boundary_from_content_type`]), with an empty carry buffer.
    pub fn new(boundary: &[u8], limits: MultipartLimits) -> Self {
        MultipartStream {
            parser: MultipartParser::new(boundary, limits),
            carry: Vec::new(),
            ended: false,
        }
    }

    /// The next piece of the body: `on` is called for every part begun, piece of part
    /// data and part ended in it, in order. The first error (the body's, or `on`'s)
    /// stops the parsing and is returned; errors of the body are sticky.
    pub fn push<E>(
        &mut self,
        bytes: &[u8],
        mut on: impl FnMut(Piece<'_>) -> Result<(), E>,
    ) -> Result<(), StreamError<E>> {
        if self.ended {
            return Ok(());
        }
        if self.carry.is_empty() {
            let used = self.run(bytes, &mut on)?;
            self.carry.extend_from_slice(&bytes[used..]);
        } else {
            let mut carry = std::mem::take(&mut self.carry);
            carry.extend_from_slice(bytes);
            let used = self.run(&carry, &mut on);
            if let Ok(used) = used {
                carry.drain(..used);
                self.carry = carry;
            }
            used?;
        }
        Ok(())
    }

    /// Feed `input` until the parser needs more; how much of it was used.
    fn run<E>(
        &mut self,
        input: &[u8],
        on: &mut impl FnMut(Piece<'_>) -> Result<(), E>,
    ) -> Result<usize, StreamError<E>> {
        let mut pos = 0;
        loop {
            let step = self
                .parser
                .feed(&input[pos..])
                .map_err(StreamError::Multipart)?;
            let start = pos;
            pos += step.consumed;
            let piece = match step.event {
                Event::NeedData => return Ok(pos),
                Event::End => {
                    self.ended = true;
                    return Ok(pos);
                }
                Event::PartBegin(h) => Piece::Begin(h),
                Event::PartData(r) => Piece::Data(&input[start + r.start..start + r.end]),
                Event::PartEnd => Piece::End,
            };
            on(piece).map_err(StreamError::Handler)?;
        }
    }

    /// The body ended: `Ok` once the close delimiter was read (see
    /// [`MultipartParser::finish`]).
    pub fn finish(&self) -> Result<(), MultipartError> {
        self.parser.finish()
    }

    /// Parts begun so far.
    pub fn parts(&self) -> usize {
        self.parser.parts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MultipartErrorKind::*;

    /// Runs the parser over `body` in pieces of `step` bytes, like a connection
    /// (append, feed until NeedData, drain). Returns a log with data coalesced.
    fn run_with(boundary: &str, body: &[u8], step: usize, limits: MultipartLimits) -> Vec<String> {
        let mut p = MultipartParser::new(boundary.as_bytes(), limits);
        let mut buf: Vec<u8> = Vec::new();
        let mut log: Vec<String> = Vec::new();
        let mut ended = false;
        for piece in body.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                let s = match p.feed(&buf) {
                    Ok(s) => s,
                    Err(e) => {
                        log.push(format!("error {:?} byte {}", e.kind, e.byte.unwrap()));
                        return log;
                    }
                };
                match &s.event {
                    Event::NeedData => {}
                    Event::PartBegin(h) => log.push(format!(
                        "begin {} {:?} {:?}",
                        h.name, h.filename, h.content_type
                    )),
                    Event::PartData(r) => {
                        assert!(!r.is_empty() && r.end <= s.consumed);
                        let text = String::from_utf8_lossy(&buf[r.clone()]).into_owned();
                        match log.last_mut() {
                            Some(last) if last.starts_with("data ") => last.push_str(&text),
                            _ => log.push(format!("data {text}")),
                        }
                    }
                    Event::PartEnd => log.push("part-end".into()),
                    Event::End if !ended => {
                        ended = true;
                        log.push("end".into());
                    }
                    Event::End => {}
                }
                buf.drain(..s.consumed);
                if matches!(s.event, Event::NeedData | Event::End) {
                    break;
                }
            }
        }
        if let Err(e) = p.finish() {
            log.push(format!("eof {:?} byte {}", e.kind, e.byte.unwrap()));
        }
        log
    }

    /// The same log from a [`MultipartStream`] pushed pieces of `step` bytes.
    fn run_stream(boundary: &str, body: &[u8], step: usize) -> Vec<String> {
        let mut stream = MultipartStream::new(boundary.as_bytes(), MultipartLimits::default());
        let mut log: Vec<String> = Vec::new();
        for piece in body.chunks(step.max(1)) {
            let pushed = stream.push(piece, |p| {
                match p {
                    Piece::Begin(h) => log.push(format!(
                        "begin {} {:?} {:?}",
                        h.name, h.filename, h.content_type
                    )),
                    Piece::Data(d) => {
                        assert!(!d.is_empty());
                        let text = String::from_utf8_lossy(d).into_owned();
                        match log.last_mut() {
                            Some(last) if last.starts_with("data ") => last.push_str(&text),
                            _ => log.push(format!("data {text}")),
                        }
                    }
                    Piece::End => log.push("part-end".into()),
                }
                Ok::<(), ()>(())
            });
            if let Err(e) = pushed {
                let StreamError::Multipart(e) = e else {
                    unreachable!()
                };
                log.push(format!("error {:?} byte {}", e.kind, e.byte.unwrap()));
                return log;
            }
        }
        match stream.finish() {
            Ok(()) => log.push("end".into()),
            Err(e) => log.push(format!("eof {:?} byte {}", e.kind, e.byte.unwrap())),
        }
        log
    }

    /// The log of `body` fed whole, checked against pieces of 1, 2, 3 and 7 bytes, and
    /// against a [`MultipartStream`] pushed the same pieces.
    fn run(boundary: &str, body: &[u8]) -> Vec<String> {
        let whole = run_with(boundary, body, body.len(), MultipartLimits::default());
        for step in [1, 2, 3, 7] {
            let log = run_with(boundary, body, step, MultipartLimits::default());
            assert_eq!(log, whole, "step {step}");
        }
        for step in [1, 2, 3, 7, body.len()] {
            let log = run_stream(boundary, body, step);
            assert_eq!(log, whole, "stream, step {step}");
        }
        whole
    }

    #[test]
    fn a_stream_stops_at_its_handlers_error_and_ignores_the_epilogue() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n2\r\n--b--\r\nepilogue --b junk";
        let mut stream = MultipartStream::new(b"b", MultipartLimits::default());
        let mut names = Vec::new();
        let got = stream.push(body, |p| match p {
            Piece::Begin(h) if h.name == "c" => Err("no c"),
            Piece::Begin(h) => {
                names.push(h.name);
                Ok(())
            }
            _ => Ok(()),
        });
        assert_eq!(got, Err(StreamError::Handler("no c")));
        assert_eq!(names, ["a"]);

        let mut stream = MultipartStream::new(b"b", MultipartLimits::default());
        let mut n = 0;
        for piece in body.chunks(5) {
            stream
                .push(piece, |_| {
                    n += 1;
                    Ok::<(), ()>(())
                })
                .unwrap();
        }
        assert_eq!(n, 6); // begin, data, end twice; the epilogue is not looked at
        assert_eq!(stream.parts(), 2);
        assert!(stream.finish().is_ok());
    }

    #[test]
    fn boundaries_from_content_type() {
        let b70 = "b".repeat(70);
        let b71 = "b".repeat(71);
        let ok: &[(String, &str)] = &[
            ("multipart/form-data; boundary=abc".into(), "abc"),
            ("multipart/form-data; boundary=\"abc\"".into(), "abc"),
            ("Multipart/Form-Data; BOUNDARY=abc".into(), "abc"),
            (
                "multipart/form-data;boundary=abc;charset=utf-8".into(),
                "abc",
            ),
            (
                "multipart/form-data; charset=utf-8; boundary=abc".into(),
                "abc",
            ),
            (
                "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW".into(),
                "----WebKitFormBoundary7MA4YWxkTrZu0gW",
            ),
            (
                "multipart/form-data; boundary=\"'()+_,-./:=?\"".into(),
                "'()+_,-./:=?",
            ),
            ("multipart/form-data; boundary=\"a b\"".into(), "a b"),
            ("multipart/form-data; boundary=1".into(), "1"),
            (format!("multipart/form-data; boundary={b70}"), b70.as_str()),
            (
                format!("multipart/form-data; boundary=\"{b70}\""),
                b70.as_str(),
            ),
        ];
        for (ct, want) in ok {
            let got = boundary_from_content_type(ct.as_bytes());
            assert_eq!(got.as_deref(), Ok(want.as_bytes()), "{ct}");
        }
        let bad: &[(String, MultipartErrorKind)] = &[
            ("text/plain".into(), NotMultipart),
            ("application/x-www-form-urlencoded".into(), NotMultipart),
            ("multipart/mixed; boundary=abc".into(), NotMultipart),
            ("".into(), NotMultipart),
            ("form-data".into(), NotMultipart),
            ("multipart/form-data".into(), MissingBoundary),
            ("multipart/form-data; charset=utf-8".into(), MissingBoundary),
            (
                "multipart/form-data; boundary=\"abc".into(),
                MalformedContentType,
            ),
            ("multipart/form-data; boundary".into(), MalformedContentType),
            (
                "multipart/form-data; boundary=".into(),
                MalformedContentType,
            ),
            ("multipart/form-data; boundary=\"\"".into(), InvalidBoundary),
            (
                format!("multipart/form-data; boundary={b71}"),
                InvalidBoundary,
            ),
            (
                format!("multipart/form-data; boundary=\"{b71}\""),
                InvalidBoundary,
            ),
            (
                "multipart/form-data; boundary=\"ab \"".into(),
                InvalidBoundary,
            ),
            (
                "multipart/form-data; boundary=\" \"".into(),
                InvalidBoundary,
            ),
            ("multipart/form-data; boundary=a!b".into(), InvalidBoundary),
            (
                "multipart/form-data; boundary=\"a\\\"b\"".into(),
                InvalidBoundary,
            ),
            (
                "multipart/form-data; boundary=\"\u{e9}\"".into(),
                InvalidBoundary,
            ),
            (
                "multipart/form-data; boundary=a; boundary=a".into(),
                InvalidBoundary,
            ),
            (
                "multipart/form-data; boundary=a; boundary=b".into(),
                InvalidBoundary,
            ),
        ];
        for (ct, kind) in bad {
            let e = boundary_from_content_type(ct.as_bytes()).unwrap_err();
            assert_eq!((e.kind, e.byte, e.status()), (*kind, None, 400), "{ct}");
        }
    }

    #[test]
    fn bchars_match_their_abnf() {
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&b);
            assert_eq!(BCHARS_NO_SPACE[b as usize], want, "{b:#04x}");
        }
    }

    #[test]
    fn a_simple_form() {
        let body = b"--xyz\r\n\
            Content-Disposition: form-data; name=\"username\"\r\n\
            \r\n\
            alice\r\n\
            --xyz\r\n\
            Content-Disposition: form-data; name=\"headimg\"; filename=\"cat.png\"\r\n\
            Content-Type: image/png\r\n\
            \r\n\
            \x89PNG\r\n\
            --xyz--\r\n";
        assert_eq!(
            run("xyz", body),
            [
                "begin username None None",
                "data alice",
                "part-end",
                "begin headimg Some(\"cat.png\") Some(\"image/png\")",
                "data \u{fffd}PNG",
                "part-end",
                "end",
            ]
        );
    }

    #[test]
    fn one_event_per_call_and_data_is_not_held_back() {
        let mut p = MultipartParser::new(b"b", MultipartLimits::default());
        let head = b"--b\r\nContent-Disposition: form-data; name=f\r\n\r\n";
        // Header lines are consumed as they complete.
        let s = p.feed(&head[..20]).unwrap();
        assert_eq!(
            s,
            Step {
                consumed: 5,
                event: Event::NeedData
            }
        );
        assert_eq!(p.state(), MultipartState::HeaderLine { scanned: 15 });
        let s = p.feed(&head[5..]).unwrap();
        assert_eq!(s.consumed, head.len() - 5);
        assert!(matches!(&s.event, Event::PartBegin(h) if h.name == "f"));
        // Data before a possible delimiter comes out; the candidate is held back.
        let s = p.feed(b"abc\r\n-").unwrap();
        assert_eq!(
            s,
            Step {
                consumed: 3,
                event: Event::PartData(0..3)
            }
        );
        assert_eq!(
            p.feed(b"\r\n-").unwrap(),
            Step {
                consumed: 0,
                event: Event::NeedData
            }
        );
        assert_eq!(p.state(), MultipartState::Data { matched: 3 });
        // Not a delimiter after all: it is data.
        assert_eq!(
            p.feed(b"\r\n-x").unwrap(),
            Step {
                consumed: 4,
                event: Event::PartData(0..4)
            }
        );
        // A whole delimiter after data: data first, then PartEnd.
        assert_eq!(
            p.feed(b"yz\r\n--b--").unwrap(),
            Step {
                consumed: 2,
                event: Event::PartData(0..2)
            }
        );
        assert_eq!(p.state(), MultipartState::Data { matched: 7 });
        assert_eq!(
            p.feed(b"\r\n--b--").unwrap(),
            Step {
                consumed: 7,
                event: Event::PartEnd
            }
        );
        assert_eq!(p.finish(), Ok(()));
        // The epilogue is consumed; End again.
        assert_eq!(
            p.feed(b"\r\nepilogue").unwrap(),
            Step {
                consumed: 10,
                event: Event::End
            }
        );
        assert!(p.is_done());
        assert_eq!(p.offset(), head.len() as u64 + 3 + 4 + 2 + 7 + 10);
    }

    #[test]
    fn delimiter_tails() {
        let form = |tail: &str| {
            format!("--b\r\nContent-Disposition: form-data; name=f\r\n\r\nx\r\n--b{tail}")
        };
        let head = "--b\r\nContent-Disposition: form-data; name=f\r\n\r\n".len() as u64;
        // Transport padding.
        // (then an empty header section, which lacks its Content-Disposition)
        assert_eq!(
            run("b", form(" \t \r\n\r\n--b--").as_bytes())
                .last()
                .unwrap(),
            &format!("error MissingContentDisposition byte {}", head + 11)
        );
        let log = run(
            "b",
            b"--b \t\r\nContent-Disposition: form-data; name=f\r\n\r\nx\r\n--b--",
        );
        assert_eq!(log, ["begin f None None", "data x", "part-end", "end"]);
        // Not delimiters: data.
        for tail in ["X", "-X", "\rX", "bb"] {
            let log = run("b", form(&format!("{tail}\r\n--b--")).as_bytes());
            let want_data = format!("data x\r\n--b{tail}");
            assert_eq!(
                log,
                ["begin f None None", want_data.as_str(), "part-end", "end"],
                "{tail:?}"
            );
        }
        // Bad delimiter lines.
        let at = head + 1 + 2 + 3;
        let cases: &[(&str, MultipartErrorKind, u64)] = &[
            (" x", InvalidDelimiterLine, at + 1),
            ("  \n", BareLf, at + 2),
            ("\n", BareLf, at),
            (" \rx", BareCr, at + 2),
        ];
        for &(tail, kind, byte) in cases {
            let log = run("b", form(tail).as_bytes());
            assert_eq!(
                log.last().unwrap(),
                &format!("error {kind:?} byte {byte}"),
                "{tail:?}"
            );
        }
    }

    #[test]
    fn header_line_errors() {
        let cases: &[(&[u8], MultipartErrorKind, u64)] = &[
            (b"--b\r\nX\r\n\r\n", PartHeaderMissingColon, 5),
            (b"--b\r\n: x\r\n\r\n", InvalidPartHeaderName, 5),
            (b"--b\r\nA b: x\r\n\r\n", InvalidPartHeaderName, 6),
            (b"--b\r\nA : x\r\n\r\n", InvalidPartHeaderName, 6),
            (b"--b\r\nA@: x\r\n\r\n", InvalidPartHeaderName, 6),
            (b"--b\r\n x: y\r\n\r\n", PartHeaderFolding, 5),
            (b"--b\r\nA: x\x00y\r\n\r\n", InvalidPartHeaderValue, 9),
            (b"--b\r\nA:  x\ry\r\n\r\n", BareCr, 10),
            (b"--b\r\nA: x\n\r\n", BareLf, 9),
            (b"--b\r\n\n", BareLf, 5),
            (b"--b\r\nA: x\r\n\r\n", MissingContentDisposition, 11),
            (b"--b\r\n\r\n", MissingContentDisposition, 5),
            (
                b"--b\r\nContent-Disposition: form-data; name=a\r\ncontent-disposition: form-data; name=a\r\n\r\n",
                DuplicateContentDisposition,
                45,
            ),
            (
                b"--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n",
                InvalidContentDisposition,
                5,
            ),
            (
                b"--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n",
                InvalidContentDisposition,
                5,
            ),
            (
                b"--b\r\nContent-Disposition: attachment; name=a\r\n\r\n",
                NotFormData,
                5,
            ),
            (
                b"--b\r\nContent-Disposition: form-data; filename=a\r\n\r\n",
                MissingName,
                5,
            ),
        ];
        for &(body, kind, byte) in cases {
            let log = run("b", body);
            assert_eq!(
                log,
                [format!("error {kind:?} byte {byte}")],
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn end_of_input_errors() {
        let cases: &[(&[u8], MultipartErrorKind, u64)] = &[
            (b"", NoBoundaryInBody, 0),
            (b"preamble only", NoBoundaryInBody, 13),
            (b"--b", NoBoundaryInBody, 3),
            (b"--b\r", NoBoundaryInBody, 4),
            (b"--b\r\n", MissingFinalBoundary, 5),
            (b"--b\r\nContent-Disp", MissingFinalBoundary, 17),
            (
                b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxy",
                MissingFinalBoundary,
                49,
            ),
            (
                b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxy\r\n--b",
                MissingFinalBoundary,
                54,
            ),
            (
                b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxy\r\n--b-",
                MissingFinalBoundary,
                55,
            ),
            (
                b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxy\r\n--b\r\n",
                MissingFinalBoundary,
                56,
            ),
        ];
        for &(body, kind, byte) in cases {
            let log = run("b", body);
            assert_eq!(
                log.last().unwrap(),
                &format!("eof {kind:?} byte {byte}"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    fn parts(n: usize) -> Vec<u8> {
        let mut body = Vec::new();
        for i in 0..n {
            body.extend_from_slice(
                format!("--b\r\nContent-Disposition: form-data; name=f{i}\r\n\r\n{i}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(b"--b--\r\n");
        body
    }

    #[test]
    fn part_limit_at_n_and_n_plus_1() {
        let limits = MultipartLimits {
            max_parts: 3,
            ..MultipartLimits::default()
        };
        for step in [1, 5, 1000] {
            let log = run_with("b", &parts(3), step, limits);
            assert_eq!(log.last().unwrap(), "end");
            let body = parts(4);
            let log = run_with("b", &body, step, limits);
            let at = parts(3).len() - b"--b--\r\n".len();
            assert_eq!(
                log.last().unwrap(),
                &format!("error TooManyParts {{ max: 3 }} byte {at}")
            );
        }
        // The default, at N and N+1.
        let log = run_with("b", &parts(MAX_PARTS), 4096, MultipartLimits::default());
        assert_eq!(log.last().unwrap(), "end");
        let log = run_with("b", &parts(MAX_PARTS + 1), 4096, MultipartLimits::default());
        assert!(
            log.last().unwrap().starts_with("error TooManyParts"),
            "{log:?}"
        );
        // A close delimiter right away is a form with no parts.
        assert_eq!(run("b", b"--b--"), ["end"]);
        assert_eq!(run("b", b"--b--\r\n"), ["end"]);
    }

    /// A part whose header section (lines with CRLFs, empty line excluded) is `len`
    /// bytes, made of a Content-Disposition line and an `X: xxx…` line.
    fn section_of(len: usize) -> Vec<u8> {
        let cd = b"Content-Disposition: form-data; name=f\r\n";
        let mut body = b"--b\r\n".to_vec();
        body.extend_from_slice(cd);
        let mut x = b"X: ".to_vec();
        x.resize(len - cd.len() - 2, b'x');
        body.extend_from_slice(&x);
        body.extend_from_slice(b"\r\n\r\nv\r\n--b--");
        body
    }

    #[test]
    fn header_section_limit_at_n_and_n_plus_1() {
        let n = MAX_PART_HEADER_SECTION;
        let ok = run("b", &section_of(n));
        assert_eq!(ok.last().unwrap(), "end");
        let too_big = run("b", &section_of(n + 1));
        assert_eq!(
            too_big,
            [format!(
                "error PartHeadersTooLarge {{ max: {n} }} byte {}",
                5 + n
            )]
        );
        let e = MultipartError::at(PartHeadersTooLarge { max: n }, 5 + n as u64);
        assert_eq!(
            e.to_string(),
            format!("byte {}: part headers are longer than 8192 bytes", 5 + n)
        );
        // A line that never ends fails as soon as it crosses the limit.
        let mut p = MultipartParser::new(b"b", MultipartLimits::default());
        let mut body = b"--b\r\n".to_vec();
        body.resize(5 + n, b'a');
        assert_eq!(p.feed(&body).unwrap().event, Event::NeedData);
        body.push(b'a');
        assert_eq!(
            p.feed(&body[5..]).unwrap_err().kind,
            PartHeadersTooLarge { max: n }
        );
    }

    #[test]
    fn header_count_limit_at_n_and_n_plus_1() {
        let lines = |n: usize| {
            let mut body = b"--b\r\nContent-Disposition: form-data; name=f\r\n".to_vec();
            for i in 1..n {
                body.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
            }
            let at = body.len();
            body.extend_from_slice(b"\r\n\r\n--b--");
            (body, at)
        };
        let (ok, _) = lines(MAX_PART_HEADERS);
        assert_eq!(run("b", &ok).last().unwrap(), "end");
        let (_, at) = lines(MAX_PART_HEADERS);
        let (too_many, _) = lines(MAX_PART_HEADERS + 1);
        assert_eq!(
            run("b", &too_many),
            [format!(
                "error TooManyPartHeaders {{ max: {MAX_PART_HEADERS} }} byte {at}"
            )]
        );
    }

    #[test]
    fn errors_are_sticky_and_say_where() {
        let mut p = MultipartParser::new(b"b", MultipartLimits::default());
        let e = p.feed(b"--b\r\nX\r\n").unwrap_err();
        assert_eq!(e.to_string(), "byte 5: part header line has no colon");
        assert_eq!(e.status(), 400);
        assert_eq!(p.feed(b"anything"), Err(e));
        assert_eq!(p.finish(), Err(e));
        let e = boundary_from_content_type(b"text/plain").unwrap_err();
        assert_eq!(e.to_string(), "Content-Type is not multipart/form-data");
    }

    #[test]
    fn match_delimiter_cases() {
        let pat = b"\r\n--ab";
        let cases: &[(&[u8], Match)] = &[
            (b"\r", Match::Partial),
            (b"\r\n--ab", Match::Partial),
            (b"\r\n--ab-", Match::Partial),
            (b"\r\n--ab\r", Match::Partial),
            (
                b"\r\n--ab--",
                Match::Found {
                    len: 8,
                    tail: Tail::Close,
                },
            ),
            (
                b"\r\n--ab\r\n",
                Match::Found {
                    len: 8,
                    tail: Tail::LineEnd,
                },
            ),
            (
                b"\r\n--ab ",
                Match::Found {
                    len: 7,
                    tail: Tail::Padding,
                },
            ),
            (
                b"\r\n--ab\t",
                Match::Found {
                    len: 7,
                    tail: Tail::Padding,
                },
            ),
            (
                b"\r\n--ab\n",
                Match::Found {
                    len: 7,
                    tail: Tail::BareLf,
                },
            ),
            (b"\r\n--abc", Match::Mismatch { at: 6 }),
            (b"\r\n--ab-x", Match::Mismatch { at: 7 }),
            (b"\r\n--ab\r\r", Match::Mismatch { at: 7 }),
            (b"\r\n--a\r", Match::Mismatch { at: 5 }),
            (b"\r\r", Match::Mismatch { at: 1 }),
        ];
        for &(s, want) in cases {
            assert_eq!(match_delimiter(pat, s, 1), want, "{s:?}");
        }
        assert_eq!(
            find_delimiter(pat, b"ab\r\n--a\r\n--ab\r\nx", 0),
            Search::Found {
                at: 7,
                len: 8,
                tail: Tail::LineEnd
            }
        );
        assert_eq!(
            find_delimiter(pat, b"ab\r\n-", 0),
            Search::Partial { at: 2 }
        );
        assert_eq!(
            find_delimiter(pat, b"ab\r\n-x\r", 0),
            Search::Partial { at: 6 }
        );
        assert_eq!(find_delimiter(pat, b"ab\n--ab\r\nx", 0), Search::None);
        assert_eq!(
            find_delimiter(pat, b"\r\n--ab--", 5),
            Search::Found {
                at: 0,
                len: 8,
                tail: Tail::Close
            }
        );
    }
}
