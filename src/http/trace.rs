//! The parser at work: run [`RequestParser`] over some bytes and list what it found,
//! each event with its byte offset (the `/parse/` playground).
//!
//! Theory of operation: [`trace`] plays the connection's part. It feeds the input in
//! the pieces it is given (the whole input, or the pieces a `split=` asks for) exactly
//! as `Conn` does: each piece makes more bytes available, and the parser is advanced
//! until it needs more. Every [`Event`] of the real parser becomes one or more
//! [`TraceEvent`]s at an offset from the input's first byte:
//!
//! - `Head { len }`: the head's parts, from the spans the head parser recorded (method,
//!   target, each header field at its name; the SPEC's list of events), then "head complete" at `len`.
//! - `Data(range)`: body bytes. Adjacent pieces are joined, so a body cut into any
//!   pieces shows as one event per chunk (or one for a `Content-Length` body).
//! - In a chunked body the decoder's state after each step says where a chunk size
//!   line ended ([`RequestParser::chunk`]) and when the last chunk and the trailers
//!   were read. A chunk size line starts at the body's first byte or two bytes after
//!   the previous chunk's data (the CRLF the decoder demands); the trailer lines,
//!   already checked by the decoder (which then drops them), are listed from the bytes
//!   between the last chunk's line and the end of the message.
//! - `End`: "message complete"; for an urlencoded or multipart body, its fields and
//!   parts follow (from [`query::parse_urlencoded`] and [`MultipartParser`], run over
//!   the body once it is whole), then the parser is reset for the next (pipelined)
//!   message.
//!
//! An error stops the run ([`Traced::error`]: the parser's [`ParseError`] and the
//! offending byte's offset in the input); input that ends in the middle of a message
//! says what the parser is waiting for ([`Traced::waiting`]).
//!
//! Bounded whatever the input: the work is linear in its length (the head parser
//! resumes its scan, the chunked decoder holds counters), at most [`MAX_EVENTS`]
//! events are kept, and every event is also folded into a running digest, so two runs
//! (whole and split) compare without keeping all their events.

use crate::http::chunked::ChunkedState;
use crate::http::error::ParseError;
use crate::http::framing::BodyKind;
use crate::http::head::HeadLimits;
use crate::http::multipart::{self, MultipartLimits, MultipartParser};
use crate::http::parser::{Event, ParserState, RequestParser};
use crate::http::query;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Most events kept in a [`Traced`]; later ones are counted (and digested) only. A
/// page lists 1000 lines readably; a hostile input of tiny pipelined requests
/// could otherwise make a million.
pub const MAX_EVENTS: usize = 1000;

/// How the body of a message is delimited, as "head complete" reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyFraming {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// One thing the parser found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TraceEvent {
    /// The method, as sent.
    Method(Vec<u8>),
    /// The request target, as sent.
    Target(Vec<u8>),
    /// A header field (offset: its name's first byte); value without OWS.
    Header {
        /// The field name as sent.
        name: Vec<u8>,
        /// The field value, surrounding whitespace trimmed.
        value: Vec<u8>,
    },
    /// The head is complete (offset: the first byte after its final empty line).
    HeadComplete(BodyFraming),
    /// A chunk size line was read (offset: its first byte).
    ChunkSize(u64),
    /// Chunk data (offset: its first byte).
    ChunkData(u64),
    /// The bytes of a `Content-Length` body.
    BodyData(u64),
    /// A trailer field of a chunked body (offset: its name's first byte).
    Trailer {
        /// The field name as sent.
        name: Vec<u8>,
        /// The field value, surrounding whitespace trimmed.
        value: Vec<u8>,
    },
    /// The message is complete (offset: the first byte after it).
    MessageComplete,
    /// A field of an urlencoded body, percent-decoded (offset: the field's first byte).
    FormField {
        /// The decoded name.
        name: String,
        /// The decoded value.
        value: String,
    },
    /// A multipart part begins (offset: its data's first byte).
    Part {
        /// The form field's name.
        name: String,
        /// The file name, for a file part.
        filename: Option<String>,
        /// The part's Content-Type, if sent.
        content_type: Option<String>,
    },
    /// The data of a multipart part (offset: its first byte on the wire).
    PartData(u64),
    /// The body is urlencoded or multipart, but not well-formed (offset: the fault).
    BodyError(String),
}

impl TraceEvent {
    /// The event's name, as the page and the JSON call it (`"chunk size"`).
    pub fn name(&self) -> &'static str {
        match self {
            TraceEvent::Method(_) => "method",
            TraceEvent::Target(_) => "target",
            TraceEvent::Header { .. } => "header",
            TraceEvent::HeadComplete(_) => "head complete",
            TraceEvent::ChunkSize(_) => "chunk size",
            TraceEvent::ChunkData(_) => "chunk data",
            TraceEvent::BodyData(_) => "body data",
            TraceEvent::Trailer { .. } => "trailer",
            TraceEvent::MessageComplete => "message complete",
            TraceEvent::FormField { .. } => "form field",
            TraceEvent::Part { .. } => "part",
            TraceEvent::PartData(_) => "part data",
            TraceEvent::BodyError(_) => "body error",
        }
    }
}

/// `method "GET"`, `header "Host" "x"`, `chunk size 5`, `chunk data len=5`: values
/// quoted and written with [`escape`].
impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = |b: &[u8]| format!("\"{}\"", escape(b).replace('"', "\\\""));
        let name = self.name();
        match self {
            TraceEvent::Method(v) | TraceEvent::Target(v) => {
                write!(f, "{name} {}", q(v))
            }
            TraceEvent::Header { name: n, value } | TraceEvent::Trailer { name: n, value } => {
                write!(f, "{name} {} {}", q(n), q(value))
            }
            TraceEvent::HeadComplete(BodyFraming::None) => write!(f, "{name}"),
            TraceEvent::HeadComplete(BodyFraming::Length(n)) => {
                write!(f, "{name} (body: Content-Length {n})")
            }
            TraceEvent::HeadComplete(BodyFraming::Chunked) => write!(f, "{name} (body: chunked)"),
            TraceEvent::ChunkSize(n) => write!(f, "{name} {n}"),
            TraceEvent::ChunkData(n) | TraceEvent::BodyData(n) | TraceEvent::PartData(n) => {
                write!(f, "{name} len={n}")
            }
            TraceEvent::MessageComplete => write!(f, "{name}"),
            TraceEvent::FormField { name: n, value } => {
                write!(f, "{name} {} {}", q(n.as_bytes()), q(value.as_bytes()))
            }
            TraceEvent::Part {
                name: n,
                filename,
                content_type,
            } => {
                write!(f, "{name} {}", q(n.as_bytes()))?;
                if let Some(file) = filename {
                    write!(f, " filename={}", q(file.as_bytes()))?;
                }
                if let Some(ct) = content_type {
                    write!(f, " type={}", q(ct.as_bytes()))?;
                }
                Ok(())
            }
            TraceEvent::BodyError(m) => write!(f, "{name}: {m}"),
        }
    }
}

/// One event, where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Located {
    /// Offset from the input's first byte.
    pub off: u64,
    /// Which message of the input (1 for the first; pipelined ones count on).
    pub message: u32,
    /// What was found.
    pub event: TraceEvent,
}

/// The parse error that stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceError {
    /// The parser's error (line and byte counted within its message).
    pub error: ParseError,
    /// The offending byte's offset from the input's first byte (may equal the input's
    /// length for a limit crossed at its last byte).
    pub off: u64,
    /// Which message it was in.
    pub message: u32,
}

/// Input that ended in the middle of a message: what the parser waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// A sentence: "the rest of the request line", "3 more bytes of chunk data", …
    pub what: String,
    /// The line being read (as in [`ParseError::line`]).
    pub line: u32,
    /// Where the next byte would go, from the input's first byte.
    pub off: u64,
}

/// The result of [`trace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traced {
    /// The first [`MAX_EVENTS`] events.
    pub events: Vec<Located>,
    /// How many events there were in all.
    pub total: u64,
    /// A digest of every event, in order (equal runs have equal digests).
    pub digest: u64,
    /// Complete messages.
    pub messages: u32,
    /// The error that stopped the run, if any.
    pub error: Option<TraceError>,
    /// What the parser waits for when the input ended mid-message.
    pub waiting: Option<Waiting>,
}

impl Traced {
    /// Whether two runs found the same events, error and wait.
    pub fn same_as(&self, other: &Traced) -> bool {
        self.total == other.total
            && self.digest == other.digest
            && self.events == other.events
            && self.messages == other.messages
            && self.error == other.error
            && self.waiting == other.waiting
    }
}

/// Run the request parser over `input`, fed in pieces that end at each of `cuts`
/// (offsets into `input`, increasing; empty for the whole input at once) and at the
/// end. See the module docs.
pub fn trace(input: &[u8], cuts: &[usize]) -> Traced {
    let mut t = Tracer::new(input);
    let ends = cuts
        .iter()
        .copied()
        .filter(|&c| c <= input.len())
        .chain(std::iter::once(input.len()));
    for fed in ends {
        if (fed as u64) < t.pos {
            continue;
        }
        if let Err(e) = t.feed(fed) {
            t.flush();
            let off = t.msg_start + e.byte;
            t.out.error = Some(TraceError {
                error: e,
                off,
                message: t.message,
            });
            return t.out;
        }
    }
    t.flush();
    t.last_chunk_read(false);
    if t.parser.finish().is_err() {
        t.out.waiting = Some(t.waiting());
    }
    t.out
}

/// The per-message state of one run.
struct Tracer<'i> {
    input: &'i [u8],
    parser: RequestParser,
    out: Traced,
    hasher: DefaultHasher,
    /// The first byte of the current message, and the first unconsumed byte.
    msg_start: u64,
    pos: u64,
    message: u32,
    framing: BodyFraming,
    /// The body's first byte.
    body_start: u64,
    /// Body data not yet listed (joined while the pieces are adjacent): offset, length.
    pending: Option<(u64, u64)>,
    /// Whether the current chunk's size has been listed and its data is still coming.
    chunk_open: bool,
    /// Where the next chunk size line starts.
    chunk_line: u64,
    /// Whether the last chunk (size 0) has been listed.
    last_chunk: bool,
    /// For an urlencoded or multipart body: its Content-Type, and its data as
    /// (offset, length) pieces on the wire.
    body_type: Option<Vec<u8>>,
    segments: Vec<(u64, u64)>,
}

impl<'i> Tracer<'i> {
    fn new(input: &'i [u8]) -> Self {
        Tracer {
            input,
            parser: RequestParser::new(HeadLimits::default()),
            out: Traced {
                events: Vec::new(),
                total: 0,
                digest: 0,
                messages: 0,
                error: None,
                waiting: None,
            },
            hasher: DefaultHasher::new(),
            msg_start: 0,
            pos: 0,
            message: 1,
            framing: BodyFraming::None,
            body_start: 0,
            pending: None,
            chunk_open: false,
            chunk_line: 0,
            last_chunk: false,
            body_type: None,
            segments: Vec::new(),
        }
    }

    fn push(&mut self, off: u64, event: TraceEvent) {
        let e = Located {
            off,
            message: self.message,
            event,
        };
        e.hash(&mut self.hasher);
        self.out.digest = self.hasher.finish();
        self.out.total += 1;
        if self.out.events.len() < MAX_EVENTS {
            self.out.events.push(e);
        }
    }

    /// List the body data joined so far.
    fn flush(&mut self) {
        if let Some((off, len)) = self.pending.take() {
            let e = match self.framing {
                BodyFraming::Chunked => TraceEvent::ChunkData(len),
                _ => TraceEvent::BodyData(len),
            };
            self.push(off, e);
        }
    }

    /// Advance the parser over the input up to `fed` until it needs more.
    fn feed(&mut self, fed: usize) -> Result<(), ParseError> {
        loop {
            let avail = &self.input[self.pos as usize..fed];
            let step = self.parser.advance(avail)?;
            let base = self.pos;
            match &step.event {
                Event::Head { len } => self.head(*len),
                Event::Data(r) => self.data(base + r.start as u64, r.len() as u64, r.start > 0),
                Event::NeedData | Event::End => {}
            }
            self.pos += step.consumed as u64;
            if self.framing == BodyFraming::Chunked && !matches!(step.event, Event::Head { .. }) {
                self.chunk_progress(&step.event);
            }
            match step.event {
                Event::End => self.end(),
                Event::NeedData => return Ok(()),
                _ => {}
            }
        }
    }

    fn head(&mut self, len: usize) {
        let start = self.msg_start;
        let bytes = &self.input[start as usize..start as usize + len];
        let head = self.parser.head(bytes);
        let at = |s: u32| start + u64::from(s);
        let mut events = vec![
            (
                at(head.method_span.start),
                TraceEvent::Method(head.method_span.of(bytes).to_vec()),
            ),
            (
                at(head.target_span.start),
                TraceEvent::Target(head.target_span.of(bytes).to_vec()),
            ),
        ];
        for h in head.headers {
            events.push((
                at(h.name.start),
                TraceEvent::Header {
                    name: h.name.of(bytes).to_vec(),
                    value: h.value.of(bytes).to_vec(),
                },
            ));
        }
        let content_type = head.header("content-type").map(<[u8]>::to_vec);
        self.framing = match self.parser.framing().map(|f| f.body) {
            Some(BodyKind::Length(n)) => BodyFraming::Length(n),
            Some(BodyKind::Chunked) => BodyFraming::Chunked,
            _ => BodyFraming::None,
        };
        events.push((start + len as u64, TraceEvent::HeadComplete(self.framing)));
        for (off, e) in events {
            self.push(off, e);
        }
        self.body_start = start + len as u64;
        self.chunk_line = self.body_start;
        self.chunk_open = false;
        self.last_chunk = false;
        self.segments.clear();
        self.body_type = content_type.filter(|ct| is_form(ct) || is_multipart(ct));
    }

    /// Body bytes at `off`; `after_framing`: the decoder read framing bytes before
    /// them in this step (so they begin a new chunk).
    fn data(&mut self, off: u64, len: u64, after_framing: bool) {
        if self.framing == BodyFraming::Chunked && (after_framing || !self.chunk_open) {
            self.flush();
            let size = self.parser.chunk().map_or(0, |(size, _)| size);
            self.push(self.chunk_line, TraceEvent::ChunkSize(size));
            self.chunk_open = true;
        }
        self.pending = match self.pending {
            Some((o, l)) if o + l == off => Some((o, l + len)),
            _ => {
                self.flush();
                Some((off, len))
            }
        };
        if self.body_type.is_some() {
            match self.segments.last_mut() {
                Some((o, l)) if *o + *l == off => *l += len,
                _ => self.segments.push((off, len)),
            }
        }
    }

    /// After a step in a chunked body: a chunk whose size line just ended, the end of
    /// a chunk's data, the last chunk.
    fn chunk_progress(&mut self, event: &Event) {
        let chunk = self.parser.chunk();
        match (event, chunk) {
            (Event::Data(_), Some((_, 0))) => {
                // This chunk's data is all here; the next size line follows its CRLF.
                if let Some((o, l)) = self.pending {
                    self.chunk_line = o + l + 2;
                }
                self.chunk_open = false;
            }
            (Event::Data(_), _) => {}
            (_, Some((size, left))) if left == size && !self.chunk_open => {
                self.flush();
                self.push(self.chunk_line, TraceEvent::ChunkSize(size));
                self.chunk_open = true;
            }
            _ => {}
        }
    }

    /// List the last chunk (size 0) once it is known to have been read: at the end of
    /// the message, or at the end of the input if the decoder is in the trailers by
    /// then. Not as soon as a step leaves the decoder in the trailers: the whole input
    /// would then show it or not depending on whether a bad trailer came in the same
    /// step (an error stops a step, and the state it had reached is not seen).
    fn last_chunk_read(&mut self, ended: bool) {
        let in_trailers = ended
            || matches!(self.parser.state(), ParserState::ChunkedBody(d) if matches!(
                d.state(),
                ChunkedState::TrailerStart
                    | ChunkedState::TrailerName
                    | ChunkedState::TrailerValue
                    | ChunkedState::TrailerLf
                    | ChunkedState::EndLf
                    | ChunkedState::Done
            ));
        if self.framing == BodyFraming::Chunked && in_trailers && !self.last_chunk {
            self.flush();
            self.push(self.chunk_line, TraceEvent::ChunkSize(0));
            self.last_chunk = true;
        }
    }

    /// The message is complete at `self.pos`.
    fn end(&mut self) {
        self.flush();
        if self.framing == BodyFraming::Chunked {
            self.last_chunk_read(true);
            self.trailers();
        }
        self.push(self.pos, TraceEvent::MessageComplete);
        self.body();
        self.out.messages += 1;
        self.parser.reset();
        self.message += 1;
        self.msg_start = self.pos;
        self.framing = BodyFraming::None;
        self.pending = None;
    }

    /// The trailer lines, between the last chunk's line and the final empty line
    /// (checked by the decoder: `name ":" OWS value OWS CRLF`).
    fn trailers(&mut self) {
        let (from, to) = (self.chunk_line as usize, self.pos as usize);
        let Some(section) = self.input.get(from..to) else {
            return;
        };
        // The last chunk's line ends at its LF (an extension holds no LF).
        let Some(lf) = memchr::memchr(b'\n', section) else {
            return;
        };
        let mut at = lf + 1;
        let mut found = Vec::new();
        while let Some(n) = memchr::memchr(b'\n', &section[at..]) {
            let line = &section[at..at + n];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                break;
            }
            if let Some(colon) = memchr::memchr(b':', line) {
                found.push((
                    (from + at) as u64,
                    TraceEvent::Trailer {
                        name: line[..colon].to_vec(),
                        value: crate::http::chars::trim_ows(&line[colon + 1..]).to_vec(),
                    },
                ));
            }
            at += n + 1;
        }
        for (off, e) in found {
            self.push(off, e);
        }
    }

    /// The fields or parts of an urlencoded or multipart body.
    fn body(&mut self) {
        let Some(ct) = self.body_type.take() else {
            return;
        };
        let segments = std::mem::take(&mut self.segments);
        let joined: Vec<u8>;
        let body: &[u8] = match segments.as_slice() {
            [] => &[],
            [(o, l)] => &self.input[*o as usize..(*o + *l) as usize],
            many => {
                joined = many
                    .iter()
                    .flat_map(|&(o, l)| &self.input[o as usize..(o + l) as usize])
                    .copied()
                    .collect();
                &joined
            }
        };
        // A body offset to the offset of that byte on the wire: the segment holding
        // it by binary search over where each segment starts in the body (a body of
        // one-byte chunks has as many segments as bytes).
        let starts: Vec<u64> = segments
            .iter()
            .scan(0u64, |at, &(_, l)| {
                let s = *at;
                *at += l;
                Some(s)
            })
            .collect();
        let wire = |b: usize| -> u64 {
            let b = b as u64;
            let i = starts.partition_point(|&s| s <= b);
            match i.checked_sub(1).map(|i| (segments[i], starts[i])) {
                Some(((o, l), s)) if b < s + l => o + (b - s),
                _ => segments.last().map_or(self.body_start, |&(o, l)| o + l),
            }
        };
        let mut found: Vec<(u64, TraceEvent)> = Vec::new();
        if is_form(&ct) {
            let mut at = 0;
            for piece in body.split(|&b| b == b'&') {
                if let Some((name, value)) = query::parse_urlencoded(piece).iter().next() {
                    let e = TraceEvent::FormField {
                        name: name.to_string(),
                        value: value.to_string(),
                    };
                    found.push((wire(at), e));
                }
                at += piece.len() + 1;
            }
        } else {
            multipart_events(body, &ct, &wire, &mut found);
        }
        for (off, e) in found {
            self.push(off, e);
        }
    }

    /// What the parser waits for, at the end of the input.
    fn waiting(&self) -> Waiting {
        let (what, line) = match self.parser.state() {
            ParserState::Head => {
                let line = self.parser.head_line();
                let what = if line <= 1 {
                    "the rest of the request line (line 1), ended by CRLF".to_string()
                } else {
                    format!(
                        "line {line} of the head: a header field, or the empty line that \
                         ends the head"
                    )
                };
                (what, line)
            }
            ParserState::LengthBody { remaining, .. } => {
                let n = match self.framing {
                    BodyFraming::Length(n) => n,
                    _ => 0,
                };
                (
                    format!(
                        "{remaining} more bytes of the body (Content-Length: {n}, {} arrived)",
                        n.saturating_sub(*remaining)
                    ),
                    self.parser.head_line() + 1,
                )
            }
            ParserState::ChunkedBody(d) => {
                use ChunkedState::*;
                let what = match d.state() {
                    SizeStart => "the next chunk size line (hex digits, then CRLF)".to_string(),
                    SizeLf => "the LF ending the chunk size line".to_string(),
                    Data { remaining } => {
                        let size = d.chunk().map_or(0, |(s, _)| s);
                        format!("{remaining} more bytes of chunk data (chunk size {size})")
                    }
                    DataCr | DataLf => "the CRLF after the chunk data".to_string(),
                    TrailerStart => {
                        "a trailer field, or the empty line (CRLF) that ends the chunked body"
                            .to_string()
                    }
                    TrailerName | TrailerValue | TrailerLf => {
                        "the rest of the trailer line, ended by CRLF".to_string()
                    }
                    EndLf => "the LF of the empty line that ends the chunked body".to_string(),
                    Done => "nothing".to_string(),
                    _ => "the rest of the chunk size line (its extensions, then CRLF)".to_string(),
                };
                (what, d.line())
            }
            ParserState::End | ParserState::Failed(_) => ("nothing".to_string(), 0),
        };
        Waiting {
            what,
            line,
            off: self.input.len() as u64,
        }
    }
}

fn essence(ct: &[u8]) -> &[u8] {
    ct.split(|&b| b == b';').next().unwrap_or(b"").trim_ascii()
}

fn is_form(ct: &[u8]) -> bool {
    essence(ct).eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
}

fn is_multipart(ct: &[u8]) -> bool {
    essence(ct).eq_ignore_ascii_case(b"multipart/form-data")
}

/// The parts of a whole multipart `body`, as events at their wire offsets.
fn multipart_events(
    body: &[u8],
    content_type: &[u8],
    wire: &dyn Fn(usize) -> u64,
    found: &mut Vec<(u64, TraceEvent)>,
) {
    let boundary = match multipart::boundary_from_content_type(content_type) {
        Ok(b) => b,
        Err(e) => {
            found.push((wire(0), TraceEvent::BodyError(e.to_string())));
            return;
        }
    };
    let mut p = MultipartParser::new(&boundary, MultipartLimits::default());
    let mut pos = 0usize;
    // Part data joined while adjacent (the parser may hold a possible delimiter back).
    let mut data: Option<(usize, usize)> = None;
    let flush = |data: &mut Option<(usize, usize)>, found: &mut Vec<(u64, TraceEvent)>| {
        if let Some((o, l)) = data.take() {
            found.push((wire(o), TraceEvent::PartData(l as u64)));
        }
    };
    loop {
        let step = match p.feed(&body[pos..]) {
            Ok(s) => s,
            Err(e) => {
                flush(&mut data, found);
                let at = e.byte.map_or(0, |b| b as usize);
                found.push((wire(at), TraceEvent::BodyError(e.to_string())));
                return;
            }
        };
        let base = pos;
        pos += step.consumed;
        match step.event {
            multipart::Event::PartBegin(h) => found.push((
                wire(pos),
                TraceEvent::Part {
                    name: h.name,
                    filename: h.filename,
                    content_type: h.content_type,
                },
            )),
            multipart::Event::PartData(r) => {
                let (o, l) = (base + r.start, r.len());
                data = match data {
                    Some((d, dl)) if d + dl == o => Some((d, dl + l)),
                    _ => {
                        flush(&mut data, found);
                        Some((o, l))
                    }
                };
            }
            multipart::Event::PartEnd => flush(&mut data, found),
            multipart::Event::End => break,
            multipart::Event::NeedData if step.consumed == 0 => break,
            multipart::Event::NeedData => {}
        }
    }
    flush(&mut data, found);
    if let Err(e) = p.finish() {
        let at = e.byte.map_or(body.len(), |b| b as usize);
        found.push((wire(at), TraceEvent::BodyError(e.to_string())));
    }
}

/// Bytes as printable text: visible ASCII and space as they are, `\` as `\\`, CR, LF
/// and HTAB as `\r`, `\n`, `\t`, every other byte as `\xHH`. [`unescape`] reverses it.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        push_escaped(&mut s, b);
    }
    s
}

/// Append one byte to `s` as [`escape`] writes it.
pub fn push_escaped(s: &mut String, b: u8) {
    match b {
        b'\\' => s.push_str("\\\\"),
        b'\r' => s.push_str("\\r"),
        b'\n' => s.push_str("\\n"),
        b'\t' => s.push_str("\\t"),
        0x20..=0x7e => s.push(b as char),
        _ => {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            s.push_str("\\x");
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// A bad escape in the input of [`unescape`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeError {
    /// Offset of the `\` in the text.
    pub at: usize,
    /// What was wrong, naming what was sent.
    pub message: String,
}

impl fmt::Display for EscapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "character {}: {}", self.at, self.message)
    }
}

/// The bytes that `text` writes with escapes: `\r`, `\n`, `\t`, `\\` and `\xHH` (two
/// hex digits, either case); every other character stands for its UTF-8 bytes. With
/// `keep_line_breaks` off, real CR and LF characters are dropped: in a textarea they
/// only lay the text out (a browser sends each as CR LF), and the bytes are written
/// as `\r\n`.
pub fn unescape(text: &str, keep_line_breaks: bool) -> Result<Vec<u8>, EscapeError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\\' => {
                let bad = |message: String| EscapeError { at: i, message };
                let byte = match bytes.get(i + 1) {
                    Some(b'r') => b'\r',
                    Some(b'n') => b'\n',
                    Some(b't') => b'\t',
                    Some(b'\\') => b'\\',
                    Some(b'x') => {
                        let hex =
                            |k: usize| bytes.get(i + k).and_then(|&h| (h as char).to_digit(16));
                        match (hex(2), hex(3)) {
                            (Some(hi), Some(lo)) => {
                                i += 2;
                                (hi * 16 + lo) as u8
                            }
                            _ => {
                                let sent: String = text[i..].chars().take(4).collect();
                                return Err(bad(format!(
                                    "{sent:?} is not an escape: \\x needs two hex digits (\\x41 is \"A\")"
                                )));
                            }
                        }
                    }
                    None => {
                        return Err(bad(
                            "a lone \\ at the end: write \\\\ for a backslash".to_string()
                        ));
                    }
                    Some(_) => {
                        let sent: String = text[i..].chars().take(2).collect();
                        return Err(bad(format!(
                            "{sent:?} is not an escape: use \\r, \\n, \\t, \\xHH or \\\\"
                        )));
                    }
                };
                out.push(byte);
                i += 2;
            }
            b'\r' | b'\n' if !keep_line_breaks => i += 1,
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events as `off=N event` lines, then the error or what is awaited.
    fn log(t: &Traced) -> Vec<String> {
        let mut v: Vec<String> = t
            .events
            .iter()
            .map(|e| format!("off={} {}", e.off, e.event))
            .collect();
        if let Some(e) = &t.error {
            v.push(format!(
                "error {} line {} byte {} off={}: {}",
                e.error.status(),
                e.error.line,
                e.error.byte,
                e.off,
                e.error
            ));
        }
        if let Some(w) = &t.waiting {
            v.push(format!("waiting line {} off={}: {}", w.line, w.off, w.what));
        }
        v
    }

    /// The whole input, byte by byte, every two-piece split and a few three-piece
    /// ones: identical results.
    fn check(input: &[u8], want: &[&str]) {
        let whole = trace(input, &[]);
        assert_eq!(log(&whole), want, "on {:?}", escape(input));
        let each: Vec<usize> = (1..input.len()).collect();
        let t = trace(input, &each);
        assert!(whole.same_as(&t), "byte by byte: {:?}", log(&t));
        for cut in 1..input.len() {
            let t = trace(input, &[cut]);
            assert!(whole.same_as(&t), "split at {cut}: {:?}", log(&t));
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64 ^ input.len() as u64;
        for _ in 0..20 {
            let mut cuts: Vec<usize> = (0..3)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % input.len().max(1) as u64) as usize
                })
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            let t = trace(input, &cuts);
            assert!(whole.same_as(&t), "split at {cuts:?}: {:?}", log(&t));
        }
    }

    #[test]
    fn the_spec_example() {
        check(
            b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n",
            &[
                "off=0 method \"GET\"",
                "off=4 target \"/a?b=1\"",
                "off=21 header \"Host\" \"x\"",
                "off=32 head complete",
                "off=32 message complete",
            ],
        );
    }

    #[test]
    fn bodies() {
        check(
            b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
            &[
                "off=0 method \"POST\"",
                "off=5 target \"/f\"",
                "off=18 header \"Host\" \"a\"",
                "off=27 header \"Content-Length\" \"5\"",
                "off=48 head complete (body: Content-Length 5)",
                "off=48 body data len=5",
                "off=53 message complete",
            ],
        );
        // Head 56 bytes; "5\r\n" at 56, data at 59, "1;x=y\r\n" at 66, data at 73,
        // "0\r\n" at 76, trailer at 79, message ends at 88.
        check(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;x=y\r\n!\r\n0\r\nT: v \r\n\r\n",
            &[
                "off=0 method \"POST\"",
                "off=5 target \"/\"",
                "off=17 header \"Host\" \"a\"",
                "off=26 header \"Transfer-Encoding\" \"chunked\"",
                "off=56 head complete (body: chunked)",
                "off=56 chunk size 5",
                "off=59 chunk data len=5",
                "off=66 chunk size 1",
                "off=73 chunk data len=1",
                "off=76 chunk size 0",
                "off=79 trailer \"T\" \"v\"",
                "off=88 message complete",
            ],
        );
        check(
            b"POST /f HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\n\r\na=1&b=x+y&&c",
            &[
                "off=0 method \"POST\"",
                "off=5 target \"/f\"",
                "off=18 header \"Content-Type\" \"application/x-www-form-urlencoded\"",
                "off=67 header \"Content-Length\" \"12\"",
                "off=89 head complete (body: Content-Length 12)",
                "off=89 body data len=12",
                "off=101 message complete",
                "off=89 form field \"a\" \"1\"",
                "off=93 form field \"b\" \"x y\"",
                "off=100 form field \"c\" \"\"",
            ],
        );
    }

    #[test]
    fn multipart_parts() {
        let body = "--XY\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nab\r\ncd\r\n--XY--\r\n";
        let msg = format!(
            "POST /u HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=XY\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let head_len = msg.len() - body.len();
        let data = head_len + body.find("ab").unwrap();
        let t = trace(msg.as_bytes(), &[]);
        let lines = log(&t);
        let tail: Vec<&str> = lines
            .iter()
            .rev()
            .take(2)
            .rev()
            .map(String::as_str)
            .collect();
        assert_eq!(
            tail,
            [
                format!("off={data} part \"f\" filename=\"a.txt\" type=\"text/plain\""),
                format!("off={data} part data len=6"),
            ]
        );
        check(
            msg.as_bytes(),
            &lines.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        // Not a multipart body after all: said where the parser gave up (its end).
        let bad = "POST /u HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=XY\r\nContent-Length: 3\r\n\r\nabc";
        let last = log(&trace(bad.as_bytes(), &[])).pop().unwrap();
        assert!(last.starts_with("off=90 body error: byte 3:"), "{last}");
    }

    #[test]
    fn pipelined_messages_each_get_their_events() {
        let t = trace(
            b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.0\n\n",
            &[],
        );
        assert_eq!(t.messages, 2);
        assert_eq!(
            log(&t)[3..],
            [
                "off=28 head complete",
                "off=28 message complete",
                "off=28 method \"GET\"",
                "off=32 target \"/2\"",
                "off=45 head complete",
                "off=45 message complete",
            ]
        );
        assert_eq!(t.events[6].message, 2);
    }

    #[test]
    fn errors_name_status_line_and_byte() {
        check(
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
            &["error 400 line 3 byte 28 off=28: line 3: header name contains a space"],
        );
        check(
            b"GET / HTTP/2.0\r\n\r\n",
            &[
                "error 505 line 1 byte 6 off=6: line 1: HTTP version not supported (only HTTP/1.0 and HTTP/1.1)",
            ],
        );
        // The second message's error: its line and byte count within that message,
        // its offset within the input.
        let t = trace(
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            &[],
        );
        let e = t.error.unwrap();
        assert_eq!(
            (
                e.error.status(),
                e.error.line,
                e.error.byte,
                e.off,
                e.message
            ),
            (400, 1, 0, 27, 2)
        );
        check(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello",
            &[
                "off=0 method \"POST\"",
                "off=5 target \"/\"",
                "off=17 header \"Host\" \"a\"",
                "off=26 header \"Transfer-Encoding\" \"chunked\"",
                "off=56 head complete (body: chunked)",
                "error 400 line 5 byte 57 off=57: line 5: chunked framing line ends with a bare LF; CRLF is required (try nc -C)",
            ],
        );
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(9000));
        let t = trace(long.as_bytes(), &[]);
        assert_eq!(t.error.unwrap().error.status(), 414);
    }

    #[test]
    fn a_bad_trailer_shows_the_same_events_however_split() {
        // The last chunk's line and the bad trailer may come in one decoder step
        // (whole input) or in two (split after "0\r\n"): the same events either way.
        check(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n",
            &[
                "off=0 method \"POST\"",
                "off=5 target \"/\"",
                "off=17 header \"Host\" \"a\"",
                "off=26 header \"Transfer-Encoding\" \"chunked\"",
                "off=56 head complete (body: chunked)",
                "error 400 line 6 byte 62 off=62: line 6: trailer field is malformed",
            ],
        );
        // Input that ends in the trailers: the last chunk was read.
        check(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: x\r\n",
            &[
                "off=0 method \"POST\"",
                "off=5 target \"/\"",
                "off=17 header \"Host\" \"a\"",
                "off=26 header \"Transfer-Encoding\" \"chunked\"",
                "off=56 head complete (body: chunked)",
                "off=56 chunk size 0",
                "waiting line 7 off=65: a trailer field, or the empty line (CRLF) that ends the chunked body",
            ],
        );
    }

    #[test]
    fn input_that_ends_mid_message_says_what_is_awaited() {
        check(
            b"GET / HT",
            &["waiting line 1 off=8: the rest of the request line (line 1), ended by CRLF"],
        );
        let t = trace(b"GET / HTTP/1.1\r\nHost: a\r\n", &[]);
        assert_eq!(
            log(&t),
            [
                "waiting line 3 off=25: line 3 of the head: a header field, or the empty line that ends the head"
            ]
        );
        let t = trace(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel",
            &[],
        );
        assert_eq!(
            log(&t).last().unwrap(),
            "waiting line 5 off=50: 2 more bytes of the body (Content-Length: 5, 3 arrived)"
        );
        let t = trace(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            &[],
        );
        let l = log(&t);
        assert_eq!(
            l[l.len() - 3..],
            [
                "off=56 chunk size 5",
                "off=59 chunk data len=3",
                "waiting line 6 off=62: 2 more bytes of chunk data (chunk size 5)"
            ]
        );
        check(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n",
            &[
                "off=0 method \"POST\"",
                "off=5 target \"/\"",
                "off=17 header \"Host\" \"a\"",
                "off=26 header \"Transfer-Encoding\" \"chunked\"",
                "off=56 head complete (body: chunked)",
                "off=56 chunk size 5",
                "waiting line 6 off=59: 5 more bytes of chunk data (chunk size 5)",
            ],
        );
    }

    #[test]
    fn events_are_capped_but_all_counted() {
        let one = b"GET / HTTP/1.0\n\n";
        let input = one.repeat(300);
        let t = trace(&input, &[]);
        assert_eq!((t.messages, t.total), (300, 1200));
        assert_eq!(t.events.len(), MAX_EVENTS);
        assert!(t.same_as(&trace(&input, &[7, 100, 3000])));
        // A different input of the same shape digests differently.
        let mut other = input.clone();
        other[4795] = b'X';
        assert_ne!(t.digest, trace(&other, &[]).digest);
    }

    #[test]
    fn hostile_shapes_stay_linear() {
        // A chunked urlencoded body of one-byte chunks ("a", "&", "a", …): as many
        // wire pieces as fields, each field's offset found by binary search.
        let n = 40_000;
        let mut input =
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let head = input.len() as u64;
        for i in 0..n {
            input.extend_from_slice(if i % 2 == 0 {
                b"1\r\na\r\n"
            } else {
                b"1\r\n&\r\n"
            });
        }
        input.extend_from_slice(b"0\r\n\r\n");
        let each: Vec<usize> = (1..input.len()).collect();
        let t = trace(&input, &each);
        assert_eq!(t.messages, 1);
        // 6 head events, 2 per chunk, the last chunk, message complete, the fields.
        assert_eq!(t.total, 6 + 2 * n as u64 + 2 + n as u64 / 2);
        assert!(t.same_as(&trace(&input, &[])));
        let whole = trace(&input, &[]);
        assert_eq!(whole.digest, t.digest);
        // The second field's "a" is the third chunk's data: 2 chunks of 6 bytes on.
        let mut big = input.clone();
        big.truncate(head as usize + 24);
        big.extend_from_slice(b"0\r\n\r\n");
        let fields: Vec<u64> = trace(&big, &[])
            .events
            .iter()
            .filter(|e| matches!(e.event, TraceEvent::FormField { .. }))
            .map(|e| e.off)
            .collect();
        assert_eq!(fields, [head + 3, head + 15]);
    }

    #[test]
    fn unescape_table() {
        let ok: &[(&str, bool, &[u8])] = &[
            ("GET / HTTP/1.1\\r\\n", false, b"GET / HTTP/1.1\r\n"),
            ("a\\tb\\\\c", false, b"a\tb\\c"),
            ("\\x00\\xff\\xAb", false, b"\x00\xff\xab"),
            ("line\\r\\n\r\nnext", false, b"line\r\nnext"),
            ("line\r\nnext", true, b"line\r\nnext"),
            ("é", false, "é".as_bytes()),
            ("", false, b""),
        ];
        for (text, keep, want) in ok {
            assert_eq!(unescape(text, *keep).as_deref(), Ok(*want), "{text:?}");
        }
        let bad: &[(&str, usize, &str)] = &[
            (
                "ab\\xZ1",
                2,
                "\"\\\\xZ1\" is not an escape: \\x needs two hex digits",
            ),
            ("\\x4", 0, "\"\\\\x4\" is not an escape"),
            (
                "x\\q",
                1,
                "\"\\\\q\" is not an escape: use \\r, \\n, \\t, \\xHH or \\\\",
            ),
            ("x\\", 1, "a lone \\ at the end"),
            ("\\é", 0, "\"\\\\é\" is not an escape"),
        ];
        for (text, at, msg) in bad {
            let e = unescape(text, false).unwrap_err();
            assert_eq!(e.at, *at, "{text:?}");
            assert!(e.message.starts_with(msg), "{text:?}: {}", e.message);
        }
    }

    #[test]
    fn escape_is_reversed_by_unescape() {
        let all: Vec<u8> = (0..=255).collect();
        let text = escape(&all);
        assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)));
        assert_eq!(unescape(&text, false).unwrap(), all);
        assert_eq!(escape(b"a\\b\r\n\x7f"), "a\\\\b\\r\\n\\x7F");
    }
}
