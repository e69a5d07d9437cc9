//! [`Conn`]: one HTTP/1.1 connection as a sans-I/O state machine.
//!
//! Theory of operation (the shape of h11's `Connection` and quinn-proto): the
//! connection's HTTP rules live here, its sockets and buffers in `crate::server`.
//! The caller owns the input buffer and the clock. It calls [`Conn::receive`] with the
//! bytes it has not consumed and the current time, and gets one [`Step`]: how many
//! bytes at the front are used up, and one [`ConnEvent`]. After a
//! [`ConnEvent::Head`] it says how the route takes the body ([`Conn::accept_body`],
//! [`Conn::ignore_body`] or [`Conn::reject`]); once it has the answer it calls
//! [`Conn::respond`], which frames every response in one place (HEAD, 1xx/204/304,
//! `Connection`, keep-alive, `Date`). Time is an input too: [`Conn::poll_timeout`]
//! says when to look again and [`Conn::handle_timeout`] what ran out.
//!
//! Two sides, each with its own state:
//!
//! ```text
//!  reading:  Head ──head──▶ Decide ──accept_body──▶ Body ──end──▶ Answer ─┐
//!             ▲                │ ignore_body/reject                     │ respond
//!             │                ▼                                        │ (keep-alive)
//!             └──────────── Skip (the body nobody reads) ◀──────────────┘
//!            any error, or a closing response: Closed
//!
//!  writing:  Idle ──head──▶ Owed ──respond (keep-alive)──▶ Idle
//!                             │└──respond (close), refusal, silent close──▶ Closing
//!                             └─respond_streamed──▶ Streaming ──end_stream──▶ Idle / Closing
//! ```
//!
//! - One response per request, in request order: while a response is owed, the next
//!   pipelined head is not parsed ([`ConnEvent::Blocked`]).
//! - A body that the route did not read is skipped, never parsed as a request. Bad
//!   framing while skipping, or a body too long to skip, closes the connection
//!   without a word ([`ConnEvent::Close`]): the request already has its answer, and a
//!   second one would answer the next request behind a lenient proxy.
//! - Timers (SPEC "Protocol"): each line of a head must complete within
//!   `header_line` of the previous one (or of the first byte), the whole head within
//!   `header_total`; an announced body must not go `body` without a byte; an idle
//!   keep-alive connection closes after `idle`. A head or body timer answers 408 with
//!   what ran out and where the request had got to; the idle timer closes silently.

use crate::http::error::{ErrorKind, ParseError};
use crate::http::framing::BodyKind;
use crate::http::head::{HeadLimits, Method, RequestHead, Version};
use crate::http::parser::{Event, RequestParser};
use crate::http::problem::Problem;
use crate::http::response::{
    self, EncodeCtx, ResponseHead, encode_chunk, encode_head, encode_last_chunk,
};
use std::fmt;
use std::ops::Range;
use std::time::{Duration, Instant};

/// The connection's timers (SPEC "Protocol"; flags `--header-timeout`,
/// `--header-total`, `--body-timeout`, `--idle-timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait for the next line of a head (or its first line, from its first
    /// byte).
    pub header_line: Duration,
    /// Longest time for a whole head, from its first byte.
    pub header_total: Duration,
    /// Longest wait for the next byte of an announced body.
    pub body: Duration,
    /// Longest wait for a next request on a keep-alive connection.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_line: Duration::from_secs(30),
            header_total: Duration::from_secs(300),
            body: Duration::from_secs(30),
            idle: Duration::from_secs(60),
        }
    }
}

/// What the reading side is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Waiting for, or reading, a request head.
    Head,
    /// A head is in: the caller says how the route takes its body.
    Decide,
    /// Reading a body for the route.
    Body {
        /// The most the route takes.
        limit: u64,
        /// Body bytes given out so far.
        received: u64,
    },
    /// The body is in (or there was none): the route is answering.
    Answer,
    /// Skipping the body of a request answered without it.
    Skip {
        /// Body bytes skipped so far.
        skipped: u64,
        /// Past this many the connection closes instead.
        limit: u64,
    },
    /// Nothing more is read.
    Closed,
}

/// What the writing side is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writing {
    /// No response is owed.
    Idle,
    /// The current request's response is owed.
    Owed,
    /// A streamed response's head is out; its body goes out piece by piece
    /// ([`Conn::stream_piece`]) until [`Conn::end_stream`]. Later requests wait.
    Streaming {
        /// The pieces go out as chunks (`Transfer-Encoding: chunked`); otherwise as
        /// they are, the body ending where the connection does (HTTP/1.0).
        chunked: bool,
        /// The connection closes after the body.
        close: bool,
    },
    /// The last response closes the connection: nothing more is written.
    Closing,
}

/// One step of [`Conn::receive`]: `consumed` bytes at the front of the input are used
/// up (the caller drops them), and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Bytes at the front of the input used up.
    pub consumed: usize,
    /// What happened.
    pub event: ConnEvent,
}

/// What [`Conn::receive`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnEvent {
    /// More bytes are needed.
    NeedData,
    /// Framing bytes or a skipped body were used up: call again.
    Progress,
    /// Nothing is parsed now: a response is owed (later requests wait for it, so
    /// that responses go out in request order), or the connection is closing.
    Blocked,
    /// A request head is complete: the first `len` bytes of the input given (read
    /// it with [`Conn::head`] before dropping them). Answer with
    /// [`Conn::accept_body`], [`Conn::ignore_body`] or [`Conn::reject`].
    Head {
        /// The head's length in bytes, its final empty line included.
        len: usize,
    },
    /// A piece of the body for the route, at this range of the input given.
    Data(Range<usize>),
    /// The route's body is complete: call the route, then [`Conn::respond`].
    End,
    /// The request cannot be served: answer this with [`Conn::respond`] (the
    /// connection closes after it).
    Refused(Refusal),
    /// Close without a response (the request in progress already has its answer).
    Close,
}

/// Why a request is refused by the connection (not by a route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The bytes are not a valid request.
    Parse(ParseError),
    /// The body is longer than the route takes.
    TooLarge {
        /// The route's limit in bytes.
        limit: u64,
        /// How it was found out.
        found: TooLarge,
    },
    /// A timer ran out.
    Timeout(Timeout),
}

/// How a body was found too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLarge {
    /// Its `Content-Length` says so, before a byte of it is read.
    ContentLength(u64),
    /// A chunk's size line says so: a chunk of `size` bytes after `before` bytes of
    /// the body.
    Chunk {
        /// Body bytes before this chunk.
        before: u64,
        /// The chunk's size.
        size: u64,
    },
    /// This many bytes arrived.
    Received(u64),
}

/// Which timer ran out, and where the request had got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// No new line of the head for `after`.
    HeadLine {
        /// The timer (`--header-timeout`).
        after: Duration,
        /// Lines of the head that were complete.
        lines: u32,
    },
    /// The head was not complete `after` its first byte.
    HeadTotal {
        /// The timer (`--header-total`).
        after: Duration,
        /// Lines of the head that were complete.
        lines: u32,
    },
    /// No byte of the body for `after`: `received` bytes of it had come, of
    /// `announced` (by `Content-Length`; `None` for a chunked body).
    Body {
        /// The timer (`--body-timeout`).
        after: Duration,
        /// Body bytes that had come.
        received: u64,
        /// The length `Content-Length` announced; `None` for a chunked body.
        announced: Option<u64>,
    },
}

impl Refusal {
    /// The response status.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Parse(e) => e.status(),
            Refusal::TooLarge { .. } => 413,
            Refusal::Timeout(_) => 408,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Parse(e) => e.fmt(f),
            Refusal::TooLarge { limit, found } => match found {
                TooLarge::ContentLength(n) => write!(
                    f,
                    "Content-Length {n} is larger than this route's limit of {limit} bytes"
                ),
                TooLarge::Chunk { before, size } => write!(
                    f,
                    "a chunk of {size} bytes after {before} bytes of body is past this \
                     route's limit of {limit} bytes"
                ),
                TooLarge::Received(_) => write!(
                    f,
                    "request body is larger than this route's limit of {limit} bytes"
                ),
            },
            Refusal::Timeout(t) => t.fmt(f),
        }
    }
}

/// `30 s`, `1.5 s`.
struct Secs(Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{} s", d.as_secs())
        } else {
            write!(f, "{} s", d.as_secs_f64())
        }
    }
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Timeout::HeadLine { after, lines: 0 } => write!(
                f,
                "the request line was not complete {} after its first byte \
                 (typing by hand? --header-timeout)",
                Secs(after)
            ),
            Timeout::HeadLine { after, lines } => write!(
                f,
                "no new line of the head for {} after line {lines} \
                 (typing by hand? --header-timeout)",
                Secs(after)
            ),
            Timeout::HeadTotal { after, lines } => write!(
                f,
                "the head was not complete {} after its first byte ({lines} lines so far; \
                 --header-total)",
                Secs(after)
            ),
            Timeout::Body {
                after,
                received,
                announced: Some(n),
            } => write!(
                f,
                "{received} of the {n} bytes announced by Content-Length arrived, then \
                 nothing for {} (--body-timeout)",
                Secs(after)
            ),
            Timeout::Body {
                after,
                received,
                announced: None,
            } => write!(
                f,
                "{received} bytes of the chunked body arrived, then nothing for {} \
                 (--body-timeout)",
                Secs(after)
            ),
        }
    }
}

/// What [`Conn::handle_timeout`] found ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expired {
    /// Answer this (with [`Conn::respond`]); the connection closes after it.
    Answer(Refusal),
    /// Close without a response.
    Close,
}

/// What [`Conn::respond`] framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed {
    /// Write the body after the head (not for `HEAD`, 1xx, 204 or 304).
    pub body: bool,
    /// The connection closes once this response is written.
    pub close: bool,
}

/// What the current request's response needs to know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Current {
    version: Version,
    is_head: bool,
    /// Persistent after this response, as far as the request goes.
    keep_alive: bool,
    /// Announced by `Content-Length` (for the body timer's message).
    length: Option<u64>,
    has_body: bool,
    expect_continue: bool,
}

impl Current {
    const NONE: Current = Current {
        version: Version::Http11,
        is_head: false,
        keep_alive: false,
        length: None,
        has_body: false,
        expect_continue: false,
    };
}

/// One connection's HTTP state. See the module docs.
#[derive(Debug)]
pub struct Conn {
    parser: RequestParser,
    reading: Reading,
    writing: Writing,
    current: Current,
    timeouts: Timeouts,
    /// When the current head's first byte came (`None`: no byte of a head yet).
    head_started: Option<Instant>,
    /// When the current head's last complete line ended (or its first byte came).
    line_since: Instant,
    /// Bytes of the current head looked at for line ends, and the complete lines
    /// among them (counted from the bytes, so the same however they were split).
    head_seen: usize,
    head_lines: u32,
    /// When the last byte of a body came (or the body was accepted).
    body_since: Instant,
    /// When the connection last became idle (opened, or a response sent).
    idle_since: Instant,
    /// Requests whose head was complete on this connection.
    requests: u64,
}

impl Conn {
    /// A new connection, idle since `now`.
    pub fn new(limits: HeadLimits, timeouts: Timeouts, now: Instant) -> Conn {
        Conn {
            parser: RequestParser::new(limits),
            reading: Reading::Head,
            writing: Writing::Idle,
            current: Current::NONE,
            timeouts,
            head_started: None,
            line_since: now,
            head_seen: 0,
            head_lines: 0,
            body_since: now,
            idle_since: now,
            requests: 0,
        }
    }

    /// What the reading side is doing.
    pub fn reading(&self) -> Reading {
        self.reading
    }

    /// What the writing side is doing.
    pub fn writing(&self) -> Writing {
        self.writing
    }

    /// Requests whose head was complete on this connection (the current one's
    /// number, once its head is in).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Between requests: no byte of a next request, no response owed.
    pub fn is_idle(&self) -> bool {
        self.reading == Reading::Head && self.writing == Writing::Idle && self.parser.is_idle()
    }

    /// Nothing more will be read or written but what is already queued.
    pub fn is_closing(&self) -> bool {
        self.writing == Writing::Closing
    }

    /// The body of the current request is being read for its route.
    pub fn in_body(&self) -> bool {
        matches!(self.reading, Reading::Body { .. })
    }

    /// A message is partly in: a cut here (the peer closed) can never complete it.
    pub fn mid_message(&self) -> bool {
        !self.parser.is_idle() && !self.parser.is_complete()
    }

    /// Heap bytes kept between messages.
    pub fn heap_bytes(&self) -> usize {
        self.parser.heap_bytes()
    }

    /// The current head, from the `len` bytes of a [`ConnEvent::Head`].
    pub fn head<'b>(&'b self, head_bytes: &'b [u8]) -> RequestHead<'b> {
        self.parser.head(head_bytes)
    }

    /// Feed the unconsumed bytes; get one step. While a head is incomplete, `input`
    /// must start at its first byte (nothing is consumed until it is whole).
    pub fn receive(&mut self, input: &[u8], now: Instant) -> Step {
        let step = |consumed, event| Step { consumed, event };
        match self.reading {
            Reading::Decide | Reading::Answer | Reading::Closed => {
                return step(0, ConnEvent::Blocked);
            }
            Reading::Head if self.writing != Writing::Idle => return step(0, ConnEvent::Blocked),
            _ if self.writing == Writing::Closing => return step(0, ConnEvent::Blocked),
            Reading::Body { .. } | Reading::Skip { .. } if !input.is_empty() => {
                self.body_since = now;
            }
            _ => {}
        }
        let result = self.parser.advance(input);
        let s = match result {
            Ok(s) => s,
            Err(e) => {
                return match self.reading {
                    Reading::Skip { .. } => {
                        // Bad framing in a body nobody reads: its request is answered.
                        self.close_silently();
                        step(0, ConnEvent::Close)
                    }
                    Reading::Head => {
                        // Whether this is a HEAD request, from bytes that every way of
                        // cutting the input had: a fault past the request line (or the
                        // missing Host, found once the head is whole) comes after the
                        // whole request line; a fault in it or before it, only after
                        // the bytes before the fault.
                        let whole_line = e.line >= 2 || e.kind == ErrorKind::MissingHost;
                        let seen = if whole_line {
                            input
                        } else {
                            &input[..input.len().min(e.byte as usize)]
                        };
                        self.current = Current {
                            is_head: peek(seen).is_head,
                            ..Current::NONE
                        };
                        self.writing = Writing::Owed;
                        self.refuse();
                        step(0, ConnEvent::Refused(Refusal::Parse(e)))
                    }
                    _ => {
                        self.refuse();
                        step(0, ConnEvent::Refused(Refusal::Parse(e)))
                    }
                };
            }
        };
        match (s.event, self.reading) {
            (Event::NeedData, Reading::Head) => {
                self.track_head(input, now);
                step(s.consumed, ConnEvent::NeedData)
            }
            (Event::NeedData, Reading::Body { limit, received }) => {
                if let Some(r) = self.chunk_too_large(limit, received) {
                    return step(s.consumed, ConnEvent::Refused(r));
                }
                step(s.consumed, ConnEvent::NeedData)
            }
            (Event::NeedData, _) => step(s.consumed, ConnEvent::NeedData),
            (Event::Head { len }, _) => {
                let framing = self.parser.framing().expect("framing is known after Head");
                let head = self.parser.head(&input[..len]);
                self.current = Current {
                    version: head.version,
                    is_head: head.method == Method::Head,
                    keep_alive: framing.keep_alive,
                    length: match framing.body {
                        BodyKind::Length(n) => Some(n),
                        _ => None,
                    },
                    has_body: framing.body != BodyKind::None,
                    expect_continue: framing.expect_continue,
                };
                self.requests += 1;
                self.reading = Reading::Decide;
                self.writing = Writing::Owed;
                self.head_started = None;
                self.head_seen = 0;
                self.head_lines = 0;
                step(s.consumed, ConnEvent::Head { len })
            }
            (Event::Data(range), Reading::Body { limit, received }) => {
                let received = received + (range.end - range.start) as u64;
                if let Some(r) = self.chunk_too_large(limit, received) {
                    return step(s.consumed, ConnEvent::Refused(r));
                }
                if received > limit {
                    self.refuse();
                    let r = Refusal::TooLarge {
                        limit,
                        found: TooLarge::Received(received),
                    };
                    return step(s.consumed, ConnEvent::Refused(r));
                }
                self.reading = Reading::Body { limit, received };
                step(s.consumed, ConnEvent::Data(range))
            }
            (Event::Data(range), Reading::Skip { skipped, limit }) => {
                let skipped = skipped + (range.end - range.start) as u64;
                if skipped > limit {
                    // Too long to skip: closing is cheaper than reading it.
                    self.close_silently();
                    return step(s.consumed, ConnEvent::Close);
                }
                self.reading = Reading::Skip { skipped, limit };
                step(s.consumed, ConnEvent::Progress)
            }
            (Event::End, Reading::Body { .. }) => {
                self.reading = Reading::Answer;
                step(s.consumed, ConnEvent::End)
            }
            (Event::End, Reading::Skip { .. }) => {
                self.parser.reset();
                self.reading = Reading::Head;
                step(s.consumed, ConnEvent::Progress)
            }
            (event, reading) => unreachable!("parser event {event:?} while {reading:?}"),
        }
    }

    /// The route reads the body, up to `limit` bytes. A `Content-Length` beyond it is
    /// refused at once (the body is not read). `100 Continue` goes to `out` when the
    /// client waits for it (and has sent no byte of the body: `body_started`).
    pub fn accept_body(
        &mut self,
        limit: u64,
        body_started: bool,
        now: Instant,
        out: &mut Vec<u8>,
    ) -> Result<(), Refusal> {
        debug_assert_eq!(self.reading, Reading::Decide);
        if let Some(n) = self.current.length
            && n > limit
        {
            self.refuse();
            return Err(Refusal::TooLarge {
                limit,
                found: TooLarge::ContentLength(n),
            });
        }
        if self.current.expect_continue && self.current.has_body && !body_started {
            out.extend_from_slice(response::CONTINUE_100);
        }
        self.reading = Reading::Body { limit, received: 0 };
        self.body_since = now;
        Ok(())
    }

    /// The route answers from the head alone; its body is skipped after the answer,
    /// up to `skip_limit` bytes (past it the connection closes). A client waiting for
    /// `100 Continue` will not send the body it announced: the connection closes after
    /// the answer rather than wait for bytes that may never come.
    pub fn ignore_body(&mut self, skip_limit: u64, now: Instant) {
        debug_assert_eq!(self.reading, Reading::Decide);
        if self.current.expect_continue && self.current.has_body {
            self.current.keep_alive = false;
        }
        self.reading = Reading::Skip {
            skipped: 0,
            limit: skip_limit,
        };
        self.body_since = now;
    }

    /// The head alone is refused: the body, if any, is not read, and the connection
    /// closes after the answer if there is one (the stream can't be trusted after).
    pub fn reject(&mut self, now: Instant) {
        if self.current.has_body {
            self.current.keep_alive = false;
        }
        self.ignore_body(0, now);
    }

    /// Frame the owed response's head into `out`: status line, `Date`, `Server`,
    /// `Content-Length` (none for 1xx, 204 and 304), `Connection: close` when the
    /// connection ends after it, then the route's headers. Says whether the body
    /// follows (never for `HEAD`) and whether the connection closes.
    pub fn respond(
        &mut self,
        head: &ResponseHead,
        body_len: u64,
        date: &[u8],
        draining: bool,
        now: Instant,
        out: &mut Vec<u8>,
    ) -> Framed {
        debug_assert_eq!(self.writing, Writing::Owed, "a response for no request");
        let status = head.status;
        let framing = if status < 200 || status == 204 || status == 304 {
            response::Framing::NoBody
        } else {
            response::Framing::Length(body_len)
        };
        let keep = self.may_keep_alive(head, draining);
        let ctx = EncodeCtx {
            date,
            version: self.current.version,
            keep_alive: keep,
        };
        encode_head(head, framing, &ctx, out);
        if keep {
            self.writing = Writing::Idle;
            self.idle_since = now;
            self.read_next_head();
        } else {
            self.writing = Writing::Closing;
            self.reading = Reading::Closed;
        }
        Framed {
            body: !self.current.is_head && framing != response::Framing::NoBody,
            close: !keep,
        }
    }

    /// The answer is framed and the connection stays: once the request's body is all
    /// in (or it had none, so there is nothing to skip), the next head may be read.
    /// A body still being skipped goes on being skipped first.
    fn read_next_head(&mut self) {
        let bodiless_skip = matches!(self.reading, Reading::Skip { .. }) && !self.current.has_body;
        if self.reading == Reading::Answer || bodiless_skip {
            self.parser.reset();
            self.reading = Reading::Head;
        }
    }

    /// The connection may stay open after answering with `head`: the request asked
    /// for keep-alive, the answer does not close, the server is not stopping and the
    /// reading side is not closed.
    fn may_keep_alive(&self, head: &ResponseHead, draining: bool) -> bool {
        self.current.keep_alive
            && !head.close
            && !draining
            && !matches!(self.reading, Reading::Closed)
    }

    /// Frame the owed response's head for a body of unknown length that the caller
    /// produces piece by piece (`/stream/<n>`). An HTTP/1.1 client gets
    /// `Transfer-Encoding: chunked` and each piece as one chunk. An HTTP/1.0 client
    /// cannot decode chunks (RFC 9112 §6.1): it gets no framing field and
    /// `Connection: close`, and the body ends where the connection does (§6.3, as
    /// nginx does). Give the pieces to [`Conn::stream_piece`] (when `body`: not for
    /// `HEAD`), then call [`Conn::end_stream`]; later requests wait until then.
    pub fn respond_streamed(
        &mut self,
        head: &ResponseHead,
        date: &[u8],
        draining: bool,
        out: &mut Vec<u8>,
    ) -> Framed {
        debug_assert_eq!(self.writing, Writing::Owed, "a response for no request");
        let chunked = self.current.version != Version::Http10;
        let keep = chunked && self.may_keep_alive(head, draining);
        let framing = if chunked {
            response::Framing::Chunked
        } else {
            response::Framing::NoBody
        };
        let ctx = EncodeCtx {
            date,
            version: self.current.version,
            keep_alive: keep,
        };
        encode_head(head, framing, &ctx, out);
        if keep {
            self.read_next_head();
        } else {
            self.reading = Reading::Closed;
        }
        self.writing = Writing::Streaming {
            chunked,
            close: !keep,
        };
        Framed {
            body: !self.current.is_head,
            close: !keep,
        }
    }

    /// One piece of a streamed body: a chunk, or the bytes as they are (HTTP/1.0).
    /// Nothing for `HEAD`, or when no streamed response is under way.
    pub fn stream_piece(&self, data: &[u8], out: &mut Vec<u8>) {
        match self.writing {
            _ if self.current.is_head => {}
            Writing::Streaming { chunked: true, .. } => encode_chunk(data, out),
            Writing::Streaming { chunked: false, .. } => out.extend_from_slice(data),
            _ => debug_assert!(false, "a piece of no streamed response"),
        }
    }

    /// The streamed body is complete: the last chunk goes to `out` (when chunked), and
    /// the connection goes on with the next request, or closes (HTTP/1.0, `close`, or
    /// `draining`: the server began stopping while the body went out). Says whether
    /// it closes.
    pub fn end_stream(&mut self, draining: bool, now: Instant, out: &mut Vec<u8>) -> bool {
        let Writing::Streaming { chunked, close } = self.writing else {
            debug_assert!(false, "the end of no streamed response");
            return self.is_closing();
        };
        if chunked && !self.current.is_head {
            encode_last_chunk(out);
        }
        if close || draining {
            self.writing = Writing::Closing;
            self.reading = Reading::Closed;
            true
        } else {
            self.writing = Writing::Idle;
            self.idle_since = now;
            false
        }
    }

    /// When to call [`Conn::handle_timeout`] if nothing happens before; `None` while
    /// the route is answering or the connection is closing.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.writing == Writing::Closing {
            return None;
        }
        let t = &self.timeouts;
        match self.reading {
            Reading::Head if self.writing == Writing::Idle => Some(match self.head_started {
                Some(first) => (self.line_since + t.header_line).min(first + t.header_total),
                None => self.idle_since + t.idle,
            }),
            Reading::Body { .. } | Reading::Skip { .. } => Some(self.body_since + t.body),
            _ => None,
        }
    }

    /// Time passed: say what ran out, if anything. The timer of a head or a body
    /// answers 408 (`Expired::Answer`); the idle timer, or one that runs out while
    /// skipping a body already answered, closes silently. `input` is the unconsumed
    /// input (for a head, to see whether it is a `HEAD` request).
    pub fn handle_timeout(&mut self, now: Instant, input: &[u8]) -> Option<Expired> {
        let due = self.poll_timeout()?;
        if now < due {
            return None;
        }
        let t = self.timeouts;
        let expired = match self.reading {
            Reading::Head => match self.head_started {
                Some(first) => {
                    let lines = self.head_lines;
                    let timeout = if now >= first + t.header_total {
                        Timeout::HeadTotal {
                            after: t.header_total,
                            lines,
                        }
                    } else {
                        Timeout::HeadLine {
                            after: t.header_line,
                            lines,
                        }
                    };
                    self.current = Current {
                        is_head: peek(input).is_head,
                        ..Current::NONE
                    };
                    self.writing = Writing::Owed;
                    self.refuse();
                    Expired::Answer(Refusal::Timeout(timeout))
                }
                None => {
                    self.close_silently();
                    Expired::Close
                }
            },
            Reading::Body { received, .. } => {
                self.refuse();
                Expired::Answer(Refusal::Timeout(Timeout::Body {
                    after: t.body,
                    received,
                    announced: self.current.length,
                }))
            }
            _ => {
                self.close_silently();
                Expired::Close
            }
        };
        Some(expired)
    }

    /// The route's answer came before its body was read to the end (an upload sink
    /// refused it): the rest is not read, and the connection closes after the answer.
    pub fn abort_body(&mut self) {
        self.refuse();
    }

    /// Stop: nothing more is read, and nothing written but what is queued (the peer
    /// went away mid-request, or a promised body cannot be sent).
    pub fn abandon(&mut self) {
        self.close_silently();
    }

    /// The current request is a `HEAD` (its responses carry no body).
    pub fn is_head(&self) -> bool {
        self.current.is_head
    }

    /// The current request's body came with `Transfer-Encoding: chunked`.
    pub fn chunked(&self) -> bool {
        self.current.has_body && self.current.length.is_none()
    }

    /// Per-line head timer: note the head's first byte (empty lines before a request
    /// line are not one) and each line end since. `input` starts at the head's first
    /// byte and only grows while the head is incomplete.
    fn track_head(&mut self, input: &[u8], now: Instant) {
        if self.head_started.is_none() {
            let Some(first) = input.iter().position(|&b| b != b'\r' && b != b'\n') else {
                return;
            };
            self.head_started = Some(now);
            self.line_since = now;
            self.head_seen = first;
            self.head_lines = 0;
        }
        let Some(new) = input.get(self.head_seen..) else {
            return;
        };
        let ends = memchr::memchr_iter(b'\n', new).count() as u32;
        self.head_seen = input.len();
        if ends > 0 {
            self.head_lines += ends;
            self.line_since = now;
        }
    }

    /// A chunk whose size line says the body will pass `limit` (`received`: the body
    /// bytes given out so far, this step's included).
    fn chunk_too_large(&mut self, limit: u64, received: u64) -> Option<Refusal> {
        let (size, remaining) = self.parser.chunk()?;
        let before = received - (size - remaining);
        if before.saturating_add(size) <= limit {
            return None;
        }
        self.refuse();
        Some(Refusal::TooLarge {
            limit,
            found: TooLarge::Chunk { before, size },
        })
    }

    /// A refusal is owed as the last response: read nothing more.
    fn refuse(&mut self) {
        self.reading = Reading::Closed;
        self.current.keep_alive = false;
    }

    fn close_silently(&mut self) {
        self.reading = Reading::Closed;
        self.writing = Writing::Closing;
    }
}

/// What the bytes of a head the parser refused (or that timed out) still tell: enough
/// to answer in the client's format and without a body to `HEAD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peek {
    /// The request line starts with `HEAD `.
    pub is_head: bool,
    /// The request line, if complete (without its line end).
    pub request_line: Option<Range<usize>>,
    /// The value of the first complete `Accept` field line, trimmed.
    pub accept: Option<Range<usize>>,
}

/// Most bytes of an offending line shown in an error page.
pub const OFFENDING_MAX: usize = 256;

impl Refusal {
    /// The answer to give, as a [`Problem`]; for a parse error, with the line of
    /// `head` (the bytes of the message from its first byte) that holds the fault.
    pub fn problem(&self, head: &[u8]) -> Problem {
        match self {
            Refusal::Parse(e) => {
                let p = Problem::from(e);
                match offending_line(head, e.byte) {
                    Some(line) => p.with_offending(line),
                    None => p,
                }
            }
            r => Problem::new(r.status(), r.to_string()),
        }
    }

    /// The front of `input` (the head as far as it came, from its first byte) that
    /// every way of cutting the input had when this refusal was found: what its answer
    /// may read (the `Accept` that picks its format), so that the answer is the same
    /// however the bytes arrived. For a fault in a line, the lines before it (the
    /// parser reads lines in order, so they had all come); for a missing `Host`, found
    /// once the head was whole, and for the other refusals, all of `input`.
    pub fn settled<'i>(&self, input: &'i [u8]) -> &'i [u8] {
        match self {
            Refusal::Parse(e) if e.kind != ErrorKind::MissingHost => {
                let at = usize::try_from(e.byte).map_or(input.len(), |b| b.min(input.len()));
                memchr::memrchr(b'\n', &input[..at]).map_or(&[], |lf| &input[..lf + 1])
            }
            _ => input,
        }
    }
}

/// The line of `bytes` that holds offset `byte` (without its line end), at most
/// [`OFFENDING_MAX`] bytes of it around that offset; `None` past the bytes.
pub fn offending_line(bytes: &[u8], byte: u64) -> Option<&[u8]> {
    let at = usize::try_from(byte).ok().filter(|&at| at < bytes.len())?;
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr2(b'\r', b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
    let start = start.max(at.saturating_sub(OFFENDING_MAX / 2));
    let end = end.min(start + OFFENDING_MAX);
    Some(&bytes[start..end])
}

/// Look at the complete lines at the front of a head, tolerating whatever is wrong
/// with them.
pub fn peek(input: &[u8]) -> Peek {
    let mut p = Peek::default();
    let mut start = 0;
    // Empty lines before a request line are skipped (RFC 9112 §2.2).
    while start < input.len() && (input[start] == b'\r' || input[start] == b'\n') {
        start += 1;
    }
    p.is_head = input[start..].starts_with(b"HEAD ");
    let mut first = true;
    while let Some(n) = memchr::memchr(b'\n', &input[start..]) {
        let mut end = start + n;
        let next = end + 1;
        if end > start && input[end - 1] == b'\r' {
            end -= 1;
        }
        let line = &input[start..end];
        if first {
            p.request_line = Some(start..end);
            first = false;
        } else if line.is_empty() {
            break;
        } else if p.accept.is_none()
            && line.len() >= 7
            && line[..7].eq_ignore_ascii_case(b"accept:")
        {
            let mut a = start + 7;
            let mut b = end;
            while a < b && (input[a] == b' ' || input[a] == b'\t') {
                a += 1;
            }
            while b > a && (input[b - 1] == b' ' || input[b - 1] == b'\t') {
                b -= 1;
            }
            p.accept = Some(a..b);
        }
        start = next;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(now: Instant) -> Conn {
        Conn::new(HeadLimits::default(), Timeouts::default(), now)
    }

    #[test]
    fn peek_finds_head_request_line_and_accept() {
        let input = b"\r\nHEAD /x HTTP/1.1\r\nAccept:  text/html \r\nHos";
        let p = peek(input);
        assert!(p.is_head);
        assert_eq!(&input[p.request_line.unwrap()], b"HEAD /x HTTP/1.1");
        assert_eq!(&input[p.accept.unwrap()], b"text/html");
        let p = peek(b"GET / HTTP/1.1\nAccept: a");
        assert!(!p.is_head && p.accept.is_none());
    }

    /// Whether the refusal of `input`, received whole or only up to `cut`, has a body.
    fn refusal_has_body(input: &[u8], cut: usize) -> bool {
        let now = Instant::now();
        let mut c = conn(now);
        let step = c.receive(&input[..cut], now);
        assert!(
            matches!(step.event, ConnEvent::Refused(_)),
            "{:?}",
            step.event
        );
        let mut out = Vec::new();
        let head = ResponseHead::new(400);
        c.respond(&head, 10, b"date", false, now, &mut out).body
    }

    #[test]
    fn a_refusal_is_a_head_response_or_not_however_the_input_was_cut() {
        // Too many empty lines before the request line: refused at the ninth, before
        // the `HEAD` that follows (found by fuzz/split_conn). What came after the
        // error must not decide whether the answer has a body.
        use crate::http::head::MAX_LEADING_EMPTY_LINES;
        let mut input = b"\n".repeat(MAX_LEADING_EMPTY_LINES + 3);
        input.extend_from_slice(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        let whole = refusal_has_body(&input, input.len());
        let cut = refusal_has_body(&input, MAX_LEADING_EMPTY_LINES + 1);
        assert_eq!(whole, cut);
        assert!(whole, "no HEAD had come when the error was found");
        // A bad field after a HEAD request line: a HEAD answer either way.
        let input = b"HEAD / HTTP/1.1\r\nHost : x\r\n\r\n";
        assert!(!refusal_has_body(input, input.len()));
        assert!(!refusal_has_body(input, 27));
        // No Host: found once the head is whole, so the request line is all there.
        let input = b"HEAD /x HTTP/1.1\r\n\r\n";
        assert!(!refusal_has_body(input, input.len()));
    }

    #[test]
    fn a_refusal_reads_accept_only_from_lines_every_cut_had() {
        let input = b"GET / HTTP/1.1\r\nAccept: text/plain\r\nBad Name: x\r\nAccept: application/json\r\n\r\n";
        let accept_of = |cut: usize| {
            let now = Instant::now();
            let mut c = conn(now);
            let ConnEvent::Refused(r) = c.receive(&input[..cut], now).event else {
                panic!("not refused at {cut}");
            };
            let settled = r.settled(&input[..cut]);
            peek(settled).accept.map(|a| settled[a].to_vec())
        };
        // Refused on line 3 whether or not line 4 had come: the same Accept, the one
        // before the fault (peek takes the first; a second one after the fault must
        // not count either, so it is another value).
        let line3_end = input.windows(2).position(|w| w == b"x\r").unwrap() + 3;
        for cut in [line3_end, line3_end + 5, input.len()] {
            assert_eq!(accept_of(cut).as_deref(), Some(&b"text/plain"[..]), "{cut}");
        }
        // With no Accept before the fault, none counts, however much came after it.
        let input = b"GET / HTTP/1.1\r\nBad Name: x\r\nAccept: application/json\r\n\r\n";
        for cut in [33, 40, input.len()] {
            let now = Instant::now();
            let mut c = conn(now);
            let ConnEvent::Refused(r) = c.receive(&input[..cut], now).event else {
                panic!("not refused at {cut}");
            };
            assert_eq!(peek(r.settled(&input[..cut])).accept, None, "{cut}");
        }
        // A fault in the request line: nothing of the head is read.
        let r = Refusal::Parse(ParseError::new(ErrorKind::InvalidMethod, 1, 3));
        assert_eq!(r.settled(b"GE\x01 / HTTP/1.1\r\nAccept: a\r\n"), b"");
        // No Host: the whole head had come.
        let r = Refusal::Parse(ParseError::new(ErrorKind::MissingHost, 1, 0));
        let head = b"GET / HTTP/1.1\r\nAccept: a\r\n\r\n";
        assert_eq!(r.settled(head), head);
    }

    #[test]
    fn a_parse_error_names_its_line() {
        let head = b"GET / HTTP/1.1\r\nHost : x\r\n\r\n";
        let e = ParseError::new(crate::http::ErrorKind::SpaceBeforeColon, 2, 20);
        let p = Refusal::Parse(e).problem(head);
        assert_eq!(p.status, 400);
        assert_eq!(p.offending.as_deref(), Some(&b"Host : x"[..]));
        assert_eq!(offending_line(head, 99), None);
        let long = [b'a'; 1000];
        assert_eq!(offending_line(&long, 500).unwrap().len(), OFFENDING_MAX);
    }

    #[test]
    fn chunk_size_beyond_the_limit_is_refused_before_its_data() {
        let now = Instant::now();
        let mut c = conn(now);
        let head = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        let s = c.receive(head, now);
        assert_eq!(s.event, ConnEvent::Head { len: head.len() });
        c.accept_body(1 << 20, false, now, &mut Vec::new()).unwrap();
        let s = c.receive(b"fffffffffff\r\n", now);
        match s.event {
            ConnEvent::Refused(r) => {
                assert_eq!(r.status(), 413);
                assert!(r.to_string().contains("limit of 1048576"), "{r}");
                assert!(
                    r.to_string().contains("a chunk of 17592186044415 bytes"),
                    "{r}"
                );
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn timeout_texts_say_which_timer_and_where() {
        let t = Timeout::HeadLine {
            after: Duration::from_secs(30),
            lines: 3,
        };
        assert_eq!(
            t.to_string(),
            "no new line of the head for 30 s after line 3 (typing by hand? --header-timeout)"
        );
        let t = Timeout::Body {
            after: Duration::from_secs(30),
            received: 11,
            announced: Some(15),
        };
        assert_eq!(
            t.to_string(),
            "11 of the 15 bytes announced by Content-Length arrived, then nothing for 30 s \
             (--body-timeout)"
        );
        let t = Timeout::HeadLine {
            after: Duration::from_millis(1500),
            lines: 0,
        };
        assert!(t.to_string().contains("1.5 s after its first byte"), "{t}");
    }

    /// Serve `req` (a GET with no body) as a streamed response of `pieces`; the bytes
    /// written, and the connection after.
    fn stream(req: &[u8], pieces: &[&[u8]], draining: bool) -> (String, Conn) {
        let now = Instant::now();
        let mut c = conn(now);
        let s = c.receive(req, now);
        assert_eq!(s.event, ConnEvent::Head { len: req.len() });
        c.ignore_body(0, now);
        let mut out = Vec::new();
        let mut head = ResponseHead::new(200);
        head.content_type = Some("application/x-ndjson".into());
        let framed = c.respond_streamed(&head, b"DATE", draining, &mut out);
        // While the body goes out, the next request waits.
        assert!(matches!(c.writing(), Writing::Streaming { close, .. } if close == framed.close));
        let next = b"GET / HTTP/1.1\r\n\r\n";
        let mut step = c.receive(next, now);
        while step.event == ConnEvent::Progress && step.consumed == 0 {
            // (The body-less request's empty body ends first.)
            step = c.receive(next, now);
        }
        assert_eq!(step.event, ConnEvent::Blocked);
        for p in pieces {
            if framed.body {
                c.stream_piece(p, &mut out);
            }
        }
        c.end_stream(draining, now, &mut out);
        (String::from_utf8(out).unwrap(), c)
    }

    #[test]
    fn a_streamed_response_is_chunked_for_http_1_1_one_chunk_a_piece() {
        let (out, c) = stream(
            b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n",
            &[b"{\"id\": 0}\n", b"ab"],
            false,
        );
        assert_eq!(
            out,
            "HTTP/1.1 200 OK\r\nDate: DATE\r\nServer: wirepost\r\n\
             Content-Type: application/x-ndjson\r\nX-Content-Type-Options: nosniff\r\n\
             Transfer-Encoding: chunked\r\n\r\n\
             a\r\n{\"id\": 0}\n\r\n2\r\nab\r\n0\r\n\r\n"
        );
        assert_eq!(c.writing(), Writing::Idle, "kept alive");
        assert_eq!(c.reading(), Reading::Head);
    }

    #[test]
    fn a_streamed_response_to_http_1_0_is_unframed_and_closes() {
        let (out, c) = stream(b"GET /s HTTP/1.0\r\n\r\n", &[b"a\n", b"b\n"], false);
        assert!(out.ends_with("Connection: close\r\n\r\na\nb\n"), "{out}");
        assert!(
            !out.contains("Transfer-Encoding") && !out.contains("Content-Length"),
            "{out}"
        );
        assert!(c.is_closing());
        // Even when it asked to keep the connection.
        let (out, c) = stream(
            b"GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            &[b"a\n"],
            false,
        );
        assert!(out.ends_with("Connection: close\r\n\r\na\n"), "{out}");
        assert!(c.is_closing());
    }

    #[test]
    fn a_streamed_response_to_head_is_the_head_alone() {
        let (out, c) = stream(b"HEAD /s HTTP/1.1\r\nHost: x\r\n\r\n", &[b"a\n"], false);
        assert!(out.ends_with("Transfer-Encoding: chunked\r\n\r\n"), "{out}");
        assert_eq!(c.writing(), Writing::Idle);
    }

    #[test]
    fn a_stream_that_ends_while_draining_closes_after_its_last_chunk() {
        let (out, c) = stream(b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n", &[b"a\n"], true);
        assert!(
            out.contains("Connection: close\r\n") && out.ends_with("0\r\n\r\n"),
            "{out}"
        );
        assert!(c.is_closing());
    }
}
