//! Shared harness code of the fuzz targets (see `fuzz/README.md`).
//!
//! Input layout shared by the head, request and multipart targets and their split
//! (differential) twins, so one seed corpus serves them all:
//!
//! ```text
//! byte 0        flags (bit 0: strict, bit 1: small limits, bit 2: also byte by byte)
//! byte 1        k: the number of cut points (k % 17)
//! bytes 2..2+k  the gaps between cuts (0 = an empty read); the last piece is the rest
//! the rest      the stream: a request stream, or `Content-Type value \n body`
//! ```
//!
//! The harnesses below work like a connection (append a read to a `Vec`, call the
//! parser while it makes progress, drain what it consumed) and return a normalized
//! log (data coalesced), asserting the parsers' invariants at every step.

use wirepost::http::framing::BodyKind;
use wirepost::http::head::{HeadLimits, MAX_LEADING_EMPTY_LINES};
use wirepost::http::multipart::{
    Event as MpEvent, MultipartError, MultipartErrorKind, MultipartLimits, MultipartParser,
    MultipartState, MultipartStream, PartHeaders, Piece, StreamError,
};
use wirepost::http::{Event, ParseError, RequestParser};

pub const FLAG_STRICT: u8 = 1;
pub const FLAG_SMALL_LIMITS: u8 = 2;
pub const FLAG_BYTEWISE: u8 = 4;

/// The control prefix of an input (see the module docs).
pub struct Control<'a> {
    pub flags: u8,
    pub gaps: &'a [u8],
    pub data: &'a [u8],
}

impl<'a> Control<'a> {
    pub fn parse(input: &'a [u8]) -> Control<'a> {
        let flags = input.first().copied().unwrap_or(0);
        let k = input.get(1).map_or(0, |&k| usize::from(k % 17));
        let rest = input.get(2..).unwrap_or(&[]);
        let k = k.min(rest.len());
        Control {
            flags,
            gaps: &rest[..k],
            data: &rest[k..],
        }
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// `data` cut at the chosen gaps (some pieces may be empty).
    pub fn pieces<'b>(&self, data: &'b [u8]) -> Vec<&'b [u8]> {
        let mut pieces = Vec::with_capacity(self.gaps.len() + 1);
        let mut at = 0;
        for &g in self.gaps {
            let end = (at + usize::from(g)).min(data.len());
            pieces.push(&data[at..end]);
            at = end;
        }
        pieces.push(&data[at..]);
        pieces
    }

    pub fn head_limits(&self) -> HeadLimits {
        if self.has(FLAG_SMALL_LIMITS) {
            HeadLimits {
                max_request_line: 64,
                max_header_section: 256,
                max_headers: 4,
            }
        } else {
            HeadLimits::default()
        }
    }

    pub fn multipart_limits(&self) -> MultipartLimits {
        if self.has(FLAG_SMALL_LIMITS) {
            MultipartLimits {
                max_parts: 2,
                max_part_header_section: 64,
                max_part_headers: 3,
            }
        } else {
            MultipartLimits::default()
        }
    }
}

// ---------------------------------------------------------------------------
// Request parser
// ---------------------------------------------------------------------------

/// One normalized event of a request stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReqLog {
    Head {
        method: String,
        target: String,
        version: &'static str,
        headers: Vec<(String, Vec<u8>)>,
        body: BodyKind,
        keep_alive: bool,
        expect_continue: bool,
    },
    Data(Vec<u8>),
    End,
    Error(ParseError),
    Eof(ParseError),
    Rest(Vec<u8>),
}

/// The event log of a [`RequestParser`] on a stream read in `pieces`, asserting the
/// parser's invariants at every step.
pub fn request_log<'a>(
    limits: HeadLimits,
    strict: bool,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<ReqLog> {
    let mut parser = RequestParser::new(limits);
    parser.set_allow_bare_lf(!strict);
    let mut buf: Vec<u8> = Vec::new();
    let mut log = Vec::new();
    // Message offset of buf[0], and where the message's body starts.
    let mut msg_consumed: u64 = 0;
    let mut in_body = false;
    let mut body: Option<BodyKind> = None;
    let mut body_data: u64 = 0;
    let mut body_consumed: u64 = 0;
    // Lines of the current message (LFs seen in it), for the error line check.
    let mut total_in = 0usize;
    let mut steps = 0usize;
    for piece in pieces {
        buf.extend_from_slice(piece);
        total_in += piece.len();
        loop {
            steps += 1;
            assert!(
                steps <= 4 * total_in + 64,
                "no progress: {steps} steps for {total_in} bytes"
            );
            let step = match parser.advance(&buf) {
                Ok(step) => step,
                Err(e) => {
                    check_request_error(&e, msg_consumed + buf.len() as u64, false);
                    // Sticky: the same error again, and from finish().
                    assert_eq!(parser.advance(&buf), Err(e), "errors are sticky");
                    assert_eq!(parser.finish(), Err(e), "finish repeats the error");
                    log.push(ReqLog::Error(e));
                    return log;
                }
            };
            assert!(step.consumed <= buf.len(), "consumed more than given");
            match &step.event {
                Event::NeedData => {
                    if in_body {
                        // A body never holds bytes back.
                        assert_eq!(step.consumed, buf.len(), "body NeedData left bytes");
                    } else {
                        assert_eq!(step.consumed, 0, "head NeedData consumed bytes");
                    }
                }
                Event::Head { len } => {
                    assert!(!in_body, "a second Head");
                    assert_eq!(*len, step.consumed);
                    assert!(*len > 0 && buf[*len - 1] == b'\n', "head ends with LF");
                    // The head is bounded by the limits (memory held per message).
                    let bound = 2 * MAX_LEADING_EMPTY_LINES + limits.max_header_section + 2;
                    assert!(*len <= bound, "head of {len} bytes past the limits");
                    let head = parser.head(&buf[..*len]);
                    let headers: Vec<(String, Vec<u8>)> = head
                        .headers()
                        .map(|(n, v)| (n.to_owned(), v.to_owned()))
                        .collect();
                    assert!(headers.len() <= limits.max_headers);
                    assert!(!head.method_str().is_empty(), "empty method");
                    assert!(!head.target().is_empty(), "empty target");
                    for (n, v) in &headers {
                        assert!(!n.is_empty(), "empty header name");
                        assert!(!v.contains(&b'\n') && !v.contains(&b'\r'));
                        assert!(v.first() != Some(&b' ') && v.last() != Some(&b' '));
                    }
                    let _ = (head.path(), head.query());
                    let f = parser.framing().expect("framing after Head");
                    body = Some(f.body);
                    in_body = true;
                    body_data = 0;
                    body_consumed = 0;
                    log.push(ReqLog::Head {
                        method: head.method_str().to_owned(),
                        target: head.target().to_owned(),
                        version: head.version.as_str(),
                        headers,
                        body: f.body,
                        keep_alive: f.keep_alive,
                        expect_continue: f.expect_continue,
                    });
                }
                Event::Data(range) => {
                    assert!(in_body, "Data before Head");
                    assert!(
                        !range.is_empty() && range.end <= step.consumed,
                        "{range:?} of {}",
                        step.consumed
                    );
                    body_data += range.len() as u64;
                    let bytes = &buf[range.clone()];
                    match log.last_mut() {
                        Some(ReqLog::Data(d)) => d.extend_from_slice(bytes),
                        _ => log.push(ReqLog::Data(bytes.to_vec())),
                    }
                }
                Event::End => {
                    assert!(in_body, "End before Head");
                    assert!(parser.is_complete());
                    log.push(ReqLog::End);
                }
            }
            if in_body && !matches!(step.event, Event::Head { .. }) {
                body_consumed += step.consumed as u64;
                match body {
                    Some(BodyKind::Length(n)) => {
                        assert_eq!(body_data, body_consumed, "a length body is all data");
                        assert!(body_data <= n, "more data than Content-Length");
                        if step.event == Event::End {
                            assert_eq!(body_data, n, "End before Content-Length bytes");
                        }
                    }
                    Some(BodyKind::Chunked) => {
                        // Decoded output is never larger than its framing.
                        assert!(body_data <= body_consumed, "chunked output grew");
                        if step.event == Event::End {
                            assert!(body_consumed >= body_data + 5, "no last chunk");
                        }
                    }
                    Some(BodyKind::None) | None => {
                        assert_eq!(body_data, 0, "data in a body-less message");
                    }
                }
            }
            msg_consumed += step.consumed as u64;
            buf.drain(..step.consumed);
            match step.event {
                Event::End => {
                    parser.reset();
                    assert!(parser.is_idle());
                    msg_consumed = 0;
                    in_body = false;
                    body = None;
                }
                Event::NeedData => break,
                Event::Head { .. } | Event::Data(_) => {}
            }
        }
    }
    if let Err(e) = parser.finish() {
        check_request_error(&e, msg_consumed + buf.len() as u64, true);
        log.push(ReqLog::Eof(e));
    } else {
        assert!(!in_body || parser.is_complete(), "finish Ok inside a body");
    }
    if !buf.is_empty() {
        log.push(ReqLog::Rest(buf));
    }
    log
}

/// An error's place: a line (1-based) and a byte within the bytes of the message
/// given (an end-of-input error may point just past them).
fn check_request_error(e: &ParseError, seen: u64, eof: bool) {
    assert!(e.line >= 1, "line 0: {e:?}");
    if eof {
        assert!(e.byte <= seen, "{e:?} past the {seen} bytes seen");
    } else {
        assert!(e.byte < seen, "{e:?} past the {seen} bytes seen");
    }
    assert!((400..=599).contains(&e.status()), "{e:?}");
    assert!(!e.to_string().is_empty());
}

// ---------------------------------------------------------------------------
// Multipart parser
// ---------------------------------------------------------------------------

/// One normalized multipart event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MpLog {
    ContentType(MultipartError),
    Begin(PartHeaders),
    Data(Vec<u8>),
    PartEnd,
    End,
    Error(MultipartError),
    Eof(MultipartError),
    Rest(Vec<u8>),
}

/// `Content-Type value \n body` → the value and the body.
pub fn split_content_type(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// The event log of a [`MultipartParser`] on a body read in `pieces`, asserting the
/// parser's invariants at every step.
pub fn multipart_log<'a>(
    boundary: &[u8],
    limits: MultipartLimits,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<MpLog> {
    let mut parser = MultipartParser::new(boundary, limits);
    let delimiter_len = boundary.len() + 4;
    // The most bytes ever left unconsumed after NeedData: a delimiter candidate (plus
    // the byte after it), or a header line without its LF (bounded by the section).
    let hold_max = (delimiter_len + 2).max(limits.max_part_header_section + 2);
    let mut buf: Vec<u8> = Vec::new();
    let mut log = Vec::new();
    let mut total_in = 0usize;
    let mut consumed_total = 0u64;
    let mut data_total = 0u64;
    let mut in_part = false;
    let mut begins = 0usize;
    let mut steps = 0usize;
    for piece in pieces {
        buf.extend_from_slice(piece);
        total_in += piece.len();
        loop {
            steps += 1;
            assert!(
                steps <= 4 * total_in + 64,
                "no progress: {steps} steps for {total_in} bytes"
            );
            assert_eq!(parser.offset(), consumed_total);
            let step = match parser.feed(&buf) {
                Ok(step) => step,
                Err(e) => {
                    let byte = e.byte.expect("a body error has a byte");
                    assert!(
                        byte < total_in as u64,
                        "{e:?} past the {total_in} bytes given"
                    );
                    assert_eq!(e.status(), 400);
                    assert_eq!(parser.feed(&buf), Err(e), "errors are sticky");
                    assert_eq!(parser.finish(), Err(e), "finish repeats the error");
                    log.push(MpLog::Error(e));
                    return log;
                }
            };
            assert!(step.consumed <= buf.len(), "consumed more than given");
            consumed_total += step.consumed as u64;
            match &step.event {
                MpEvent::NeedData => {
                    let held = buf.len() - step.consumed;
                    assert!(held <= hold_max, "held back {held} bytes (max {hold_max})");
                    if let MultipartState::Data { matched } = parser.state() {
                        assert_eq!(held, matched);
                        assert!(matched <= delimiter_len + 1, "held back {matched}");
                    }
                }
                MpEvent::PartBegin(h) => {
                    assert!(!in_part, "PartBegin inside a part");
                    in_part = true;
                    begins += 1;
                    assert!(begins <= limits.max_parts, "more parts than the limit");
                    assert_eq!(parser.parts(), begins);
                    assert!(h.headers.len() <= limits.max_part_headers);
                    let size: usize = h.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
                    assert!(size <= limits.max_part_header_section, "headers past limit");
                    assert!(
                        h.headers
                            .iter()
                            .any(|(n, _)| n.eq_ignore_ascii_case("content-disposition")),
                        "a part without Content-Disposition"
                    );
                    log.push(MpLog::Begin(h.clone()));
                }
                MpEvent::PartData(range) => {
                    assert!(in_part, "PartData outside a part");
                    assert!(
                        !range.is_empty() && range.end <= step.consumed,
                        "{range:?} of {}",
                        step.consumed
                    );
                    data_total += range.len() as u64;
                    let bytes = &buf[range.clone()];
                    match log.last_mut() {
                        Some(MpLog::Data(d)) => d.extend_from_slice(bytes),
                        _ => log.push(MpLog::Data(bytes.to_vec())),
                    }
                }
                MpEvent::PartEnd => {
                    assert!(in_part, "PartEnd outside a part");
                    in_part = false;
                    log.push(MpLog::PartEnd);
                }
                MpEvent::End => {
                    assert!(!in_part, "End inside a part");
                    assert!(parser.is_done());
                    assert_eq!(step.consumed, buf.len(), "the epilogue is consumed");
                    if log.last() != Some(&MpLog::End) {
                        log.push(MpLog::End);
                    }
                }
            }
            assert!(data_total <= consumed_total, "more data than body");
            buf.drain(..step.consumed);
            if matches!(step.event, MpEvent::NeedData | MpEvent::End) {
                break;
            }
        }
    }
    match parser.finish() {
        Ok(()) => assert!(parser.is_done()),
        Err(e) => {
            assert!(matches!(
                e.kind,
                MultipartErrorKind::NoBoundaryInBody | MultipartErrorKind::MissingFinalBoundary
            ));
            assert_eq!(e.byte, Some(total_in as u64), "eof error at the body's end");
            log.push(MpLog::Eof(e));
        }
    }
    if !buf.is_empty() {
        log.push(MpLog::Rest(buf));
    }
    log
}

/// The log of [`MultipartStream`] pushed `pieces` (what the upload page and `/echo`
/// use): must equal [`multipart_log`]'s without its `Rest` (the stream keeps what the
/// parser left unconsumed).
pub fn multipart_stream_log<'a>(
    boundary: &[u8],
    limits: MultipartLimits,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<MpLog> {
    let mut stream = MultipartStream::new(boundary, limits);
    let mut log = Vec::new();
    for piece in pieces {
        let pushed = stream.push(piece, |p| {
            match p {
                Piece::Begin(h) => log.push(MpLog::Begin(h)),
                Piece::Data(d) => {
                    assert!(!d.is_empty(), "empty data piece");
                    match log.last_mut() {
                        Some(MpLog::Data(v)) => v.extend_from_slice(d),
                        _ => log.push(MpLog::Data(d.to_vec())),
                    }
                }
                Piece::End => log.push(MpLog::PartEnd),
            }
            Ok::<(), std::convert::Infallible>(())
        });
        match pushed {
            Ok(()) => {}
            Err(StreamError::Multipart(e)) => {
                log.push(MpLog::Error(e));
                return log;
            }
            Err(StreamError::Handler(never)) => match never {},
        }
    }
    match stream.finish() {
        Ok(()) => log.push(MpLog::End),
        Err(e) => log.push(MpLog::Eof(e)),
    }
    log
}

/// One line of [`conn_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnLog {
    Head(String),
    Continue,
    Data(u64),
    End,
    Response { status: u16, close: bool, body: bool },
    Refused(String),
    Close,
    Timeout(String),
}

/// Drive a [`wirepost::http::conn::Conn`] over the pieces the way the server does,
/// with a tiny application that decides by the target's second byte: `b` reads a body
/// of at most 64 bytes, `r` is refused from the head, anything else answers at once
/// and its body is skipped (at most 64 bytes). Then the clock jumps 400 s and the due
/// timer, if any, runs. Asserts the state machine's invariants at every step: one
/// response per request, nothing parsed while a response is owed, progress.
pub fn conn_log<'a>(limits: HeadLimits, pieces: impl IntoIterator<Item = &'a [u8]>) -> Vec<ConnLog> {
    use std::time::{Duration, Instant};
    use wirepost::http::conn::{Conn, ConnEvent, Expired, Timeouts, Writing};
    use wirepost::http::response::{CONTINUE_100, ResponseHead};
    let now = Instant::now();
    let mut conn = Conn::new(limits, Timeouts::default(), now);
    let mut buf: Vec<u8> = Vec::new();
    let mut log = Vec::new();
    let mut body = 0u64;
    let mut total_in = 0usize;
    let mut steps = 0usize;
    // `buf` starts at a head's first byte (not inside a body): a refusal there is
    // answered in the format of the `Accept` that `Refusal::settled` lets it read.
    let mut at_head = true;
    let respond = |conn: &mut Conn, log: &mut Vec<ConnLog>, status: u16| {
        assert_eq!(conn.writing(), Writing::Owed, "a response for no request");
        let mut out = Vec::new();
        let f = conn.respond(&ResponseHead::new(status), 1, b"-", false, now, &mut out);
        log.push(ConnLog::Response {
            status,
            close: f.close,
            body: f.body,
        });
    };
    'feed: for piece in pieces {
        buf.extend_from_slice(piece);
        total_in += piece.len();
        loop {
            steps += 1;
            assert!(steps <= 4 * total_in + 64, "no progress");
            let step = conn.receive(&buf, now);
            assert!(step.consumed <= buf.len());
            match step.event {
                ConnEvent::NeedData | ConnEvent::Blocked => {
                    buf.drain(..step.consumed);
                    continue 'feed;
                }
                ConnEvent::Progress => {}
                ConnEvent::Head { len } => {
                    let target = conn.head(&buf[..len]).target().to_string();
                    log.push(ConnLog::Head(target.clone()));
                    buf.drain(..len);
                    body = 0;
                    at_head = false;
                    match target.as_bytes().get(1) {
                        Some(b'b') => {
                            let mut out = Vec::new();
                            let started = !buf.is_empty();
                            if let Err(r) = conn.accept_body(64, started, now, &mut out) {
                                log.push(ConnLog::Refused(r.to_string()));
                                respond(&mut conn, &mut log, r.status());
                            } else if out == CONTINUE_100 {
                                log.push(ConnLog::Continue);
                            }
                        }
                        Some(b'r') => {
                            conn.reject(now);
                            respond(&mut conn, &mut log, 403);
                            at_head = true;
                        }
                        _ => {
                            conn.ignore_body(64, now);
                            respond(&mut conn, &mut log, 200);
                            at_head = true;
                        }
                    }
                    continue;
                }
                ConnEvent::Data(r) => {
                    assert!(r.end <= step.consumed && !r.is_empty());
                    body += (r.end - r.start) as u64;
                    assert!(body <= 64, "more body than the limit given out");
                    match log.last_mut() {
                        Some(ConnLog::Data(n)) => *n = body,
                        _ => log.push(ConnLog::Data(body)),
                    }
                }
                ConnEvent::End => {
                    log.push(ConnLog::End);
                    buf.drain(..step.consumed);
                    respond(&mut conn, &mut log, 200);
                    at_head = true;
                    continue;
                }
                ConnEvent::Refused(r) => {
                    let mut text = r.to_string();
                    if at_head {
                        let settled = r.settled(&buf);
                        let accept = wirepost::http::conn::peek(settled).accept;
                        let accept = accept.map(|a| String::from_utf8_lossy(&settled[a]).into_owned());
                        text = format!("{text} (Accept: {accept:?})");
                    }
                    log.push(ConnLog::Refused(text));
                    respond(&mut conn, &mut log, r.status());
                    break 'feed;
                }
                ConnEvent::Close => {
                    log.push(ConnLog::Close);
                    break 'feed;
                }
            }
            buf.drain(..step.consumed);
        }
    }
    if !conn.is_closing() {
        let later = now + Duration::from_secs(400);
        match conn.handle_timeout(later, &buf) {
            None => {}
            Some(Expired::Close) => log.push(ConnLog::Timeout("close".into())),
            Some(Expired::Answer(r)) => log.push(ConnLog::Timeout(r.to_string())),
        }
    }
    log
}
