//! [`RequestParser`]: one request as a stream of events (head, body data, end).
//!
//! Theory of operation (the h11 shape): the caller owns the buffer. It calls
//! [`RequestParser::advance`] with the bytes of the current message it has not yet
//! consumed, and gets one [`Step`]: how many bytes at the front are used up, and one
//! [`Event`]. The parser holds no bytes, only the [`HeadParser`]'s spans and counters.
//!
//! ```text
//!  Head ──head complete, framing ok──▶ Body ──body complete──▶ End ──reset()──▶ Head
//!    │                                 (Length: a counter; Chunked: a ChunkedDecoder;
//!    └─ NeedData, consumed 0            None: straight to End)
//! ```
//!
//! - While the head is incomplete the input must start at the message's first byte and
//!   nothing is consumed (`NeedData`, `consumed: 0`): the head's spans point into it.
//! - Then `Head { len }` with `consumed == len`: read [`RequestParser::head`] from
//!   those bytes before dropping them, and [`RequestParser::framing`].
//! - Then `Data(range)` events (the range lies within the bytes consumed by that
//!   step) as soon as any body bytes are there; `NeedData` when there are none
//!   (a chunked body may consume framing bytes with it).
//! - Finally `End` (its `consumed` may hold the last bytes of chunked framing).
//!   Bytes after the message (a pipelined request) are never consumed. `End` is
//!   returned again until [`RequestParser::reset`].
//!
//! Errors are sticky: once `advance` fails it fails the same way until `reset`. The
//! parser allocates nothing per message (the head parser's field list is reused).

use crate::http::chunked::ChunkedDecoder;
use crate::http::error::{ErrorKind, ParseError};
use crate::http::framing::{BodyKind, Framing, HostMemo, framing_with};
use crate::http::head::{HeadLimits, HeadParser, RequestHead};
use std::ops::Range;

/// What [`RequestParser::advance`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// More bytes are needed.
    NeedData,
    /// The head is complete: it is the first `len` bytes of the input given. Call
    /// [`RequestParser::head`] with those bytes to read it, and [`RequestParser::framing`].
    Head {
        /// Length of the head in bytes, final empty line included.
        len: usize,
    },
    /// A piece of body data at this range of the input given.
    Data(Range<usize>),
    /// The message is complete. Call [`RequestParser::reset`] before the next one.
    End,
}

/// The result of one call to [`RequestParser::advance`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// How many bytes at the front of the input are used up; the next call starts
    /// after them. For `Head`, this equals `len`.
    pub consumed: usize,
    /// What was found.
    pub event: Event,
}

/// Where the parser is in the current message.
#[derive(Debug, Clone)]
pub enum ParserState {
    /// Reading the head.
    Head,
    /// A body of known length: `remaining` bytes to go; `offset` is the message
    /// offset of the next body byte.
    LengthBody {
        /// Body bytes not yet returned.
        remaining: u64,
        /// Offset of the next body byte from the message's first byte.
        offset: u64,
    },
    /// A chunked body.
    ChunkedBody(ChunkedDecoder),
    /// The message is complete; waiting for `reset`.
    End,
    /// This error was found.
    Failed(ParseError),
}

/// The request parser: a [`HeadParser`], then the body's framing. See the module docs.
#[derive(Debug)]
pub struct RequestParser {
    head: HeadParser,
    state: ParserState,
    framing: Option<Framing>,
    /// The connection's last valid `Host`, kept across messages.
    hosts: HostMemo,
}

impl RequestParser {
    /// A parser waiting for a head within `limits`, accepting bare LF.
    pub fn new(limits: HeadLimits) -> Self {
        RequestParser {
            head: HeadParser::new(limits),
            state: ParserState::Head,
            framing: None,
            hosts: HostMemo::default(),
        }
    }

    /// The head's bare-LF leniency (see [`HeadParser::set_allow_bare_lf`]); on by
    /// default. Chunked framing always needs CRLF.
    pub fn set_allow_bare_lf(&mut self, allow: bool) {
        self.head.set_allow_bare_lf(allow);
    }

    /// Where the parser is (for traces and logs).
    pub fn state(&self) -> &ParserState {
        &self.state
    }

    /// Feed the unconsumed bytes; get one event.
    ///
    /// While the head is incomplete, `input` must start at the first byte of the
    /// message (the parser consumes nothing until the head is whole, returning
    /// `consumed: 0` and `NeedData`). After `Head`, `input` starts after the bytes
    /// consumed so far.
    pub fn advance(&mut self, input: &[u8]) -> Result<Step, ParseError> {
        let result = self.step(input);
        if let Err(e) = result {
            self.state = ParserState::Failed(e);
        }
        result
    }

    fn step(&mut self, input: &[u8]) -> Result<Step, ParseError> {
        match &mut self.state {
            ParserState::Head => {
                let Some(len) = self.head.parse(input)? else {
                    return Ok(need(0));
                };
                let f = framing_with(&self.head.head(&input[..len]), &mut self.hosts)?;
                self.framing = Some(f);
                let offset = len as u64;
                self.state = match f.body {
                    BodyKind::None => ParserState::End,
                    BodyKind::Length(n) => ParserState::LengthBody {
                        remaining: n,
                        offset,
                    },
                    BodyKind::Chunked => {
                        ParserState::ChunkedBody(ChunkedDecoder::new(self.head.line(), offset))
                    }
                };
                Ok(Step {
                    consumed: len,
                    event: Event::Head { len },
                })
            }
            ParserState::LengthBody { remaining, offset } => {
                if *remaining == 0 {
                    self.state = ParserState::End;
                    return Ok(end(0));
                }
                let n = (*remaining).min(input.len() as u64);
                if n == 0 {
                    return Ok(need(0));
                }
                *remaining -= n;
                *offset += n;
                let n = n as usize;
                Ok(Step {
                    consumed: n,
                    event: Event::Data(0..n),
                })
            }
            ParserState::ChunkedBody(decoder) => {
                let d = decoder.decode(input)?;
                let event = match d.data {
                    Some(range) => Event::Data(range),
                    None if d.done => {
                        self.state = ParserState::End;
                        Event::End
                    }
                    None => Event::NeedData,
                };
                Ok(Step {
                    consumed: d.consumed,
                    event,
                })
            }
            ParserState::End => Ok(end(0)),
            ParserState::Failed(e) => Err(*e),
        }
    }

    /// The head, once `Head { len }` was returned: `head_bytes` are those `len` bytes.
    pub fn head<'b>(&'b self, head_bytes: &'b [u8]) -> RequestHead<'b> {
        self.head.head(head_bytes)
    }

    /// Heap bytes this parser keeps between messages (see [`HeadParser::heap_bytes`]).
    pub fn heap_bytes(&self) -> usize {
        self.head.heap_bytes()
    }

    /// The number of the head's line being read (1: the request line), for the
    /// per-line head timer.
    pub fn head_line(&self) -> u32 {
        self.head.line()
    }

    /// The current chunk of a chunked body, once its size line is complete: its size
    /// and the data bytes still to come (see [`ChunkedDecoder::chunk`]).
    pub fn chunk(&self) -> Option<(u64, u64)> {
        match &self.state {
            ParserState::ChunkedBody(d) => d.chunk(),
            _ => None,
        }
    }

    /// The framing decided for the current message (after `Head`).
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// True when no byte of a message has been seen since the last reset. Empty
    /// lines before a request line (which the head parser skips, RFC 9112 §2.2) are
    /// not a message: after only those the parser is still idle.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, ParserState::Head) && !self.head.has_started()
    }

    /// True when the current message is complete (`End` was returned).
    pub fn is_complete(&self) -> bool {
        matches!(self.state, ParserState::End)
    }

    /// The input ended (the peer closed its side). `Ok` if that is between messages;
    /// `UnexpectedEof` otherwise, at the line being read and the offset (from the
    /// message start) where more bytes were expected.
    pub fn finish(&self) -> Result<(), ParseError> {
        let eof = |line, byte| Err(ParseError::new(ErrorKind::UnexpectedEof, line, byte));
        match &self.state {
            ParserState::Head if !self.head.has_started() => Ok(()),
            ParserState::Head => eof(self.head.line(), self.head.bytes_seen() as u64),
            // A body by length has no lines of its own: the line after the head.
            ParserState::LengthBody { offset, .. } => eof(self.head.line() + 1, *offset),
            ParserState::ChunkedBody(d) => eof(d.line(), d.offset()),
            ParserState::End => Ok(()),
            ParserState::Failed(e) => Err(*e),
        }
    }

    /// Get ready for the next message on the connection (keeps allocations).
    pub fn reset(&mut self) {
        self.head.reset();
        self.state = ParserState::Head;
        self.framing = None;
    }
}

fn need(consumed: usize) -> Step {
    Step {
        consumed,
        event: Event::NeedData,
    }
}

fn end(consumed: usize) -> Step {
    Step {
        consumed,
        event: Event::End,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::Method;

    /// Runs the parser over `input` delivered in pieces of `step` bytes, the way a
    /// connection does (append, advance while there is progress, drain). Returns a log
    /// of events, body data coalesced.
    fn run(input: &[u8], step: usize) -> Vec<String> {
        let mut p = RequestParser::new(HeadLimits::default());
        let mut buf: Vec<u8> = Vec::new();
        let mut log: Vec<String> = Vec::new();
        for piece in input.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                let step = match p.advance(&buf) {
                    Ok(s) => s,
                    Err(e) => {
                        log.push(format!(
                            "error {:?} line {} byte {}",
                            e.kind, e.line, e.byte
                        ));
                        return log;
                    }
                };
                match &step.event {
                    Event::NeedData => {}
                    Event::Head { len } => {
                        assert_eq!(*len, step.consumed);
                        let h = p.head(&buf[..*len]);
                        log.push(format!("head {} {}", h.method_str(), h.target()));
                    }
                    Event::Data(r) => {
                        assert!(r.end <= step.consumed && !r.is_empty());
                        let s = String::from_utf8_lossy(&buf[r.clone()]).into_owned();
                        match log.last_mut() {
                            Some(last) if last.starts_with("data ") => last.push_str(&s),
                            _ => log.push(format!("data {s}")),
                        }
                    }
                    Event::End => log.push("end".into()),
                }
                buf.drain(..step.consumed);
                match step.event {
                    Event::End => p.reset(),
                    Event::NeedData => break,
                    _ => {}
                }
            }
        }
        if let Err(e) = p.finish() {
            log.push(format!("eof {:?} line {} byte {}", e.kind, e.line, e.byte));
        }
        if !buf.is_empty() {
            log.push(format!("rest {}", String::from_utf8_lossy(&buf)));
        }
        log
    }

    fn check(input: &[u8], want: &[&str]) {
        for step in [input.len(), 1, 2, 3, 10] {
            assert_eq!(
                run(input, step),
                want,
                "step {step} on {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn event_sequences() {
        check(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &["head GET /", "end"]);
        check(
            b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
            &["head POST /f", "data hello", "end"],
        );
        check(
            b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n",
            &["head POST /c", "data hello!", "end"],
        );
        // Pipelined: the body never swallows the next request.
        check(
            b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c",
            &["head POST /a", "data abc", "end", "head GET /b", "end", "eof UnexpectedEof line 1 byte 6", "rest GET /c"],
        );
        check(
            b"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
            &["head POST /a", "end", "head GET /b", "end"],
        );
        // Leading empty lines before a request, and after the last one.
        check(
            b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n",
            &["head GET /", "end", "rest \r\n"],
        );
    }

    #[test]
    fn errors_and_eof() {
        check(
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
            &["error SpaceBeforeColon line 3 byte 28"],
        );
        // A framing error comes instead of the Head event.
        check(
            b"GET / HTTP/1.1\r\n\r\n",
            &["error MissingHost line 1 byte 0"],
        );
        check(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello",
            &["head POST /", "error ChunkedBareLf line 5 byte 57"],
        );
        // End of input in the middle of each part of a message.
        check(
            b"GET / HTTP/1.1\r\nHo",
            &[
                "eof UnexpectedEof line 2 byte 18",
                "rest GET / HTTP/1.1\r\nHo",
            ],
        );
        check(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel",
            &[
                "head POST /",
                "data hel",
                "eof UnexpectedEof line 5 byte 50",
            ],
        );
        check(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
            &[
                "head POST /",
                "data hello",
                "eof UnexpectedEof line 8 byte 69",
            ],
        );
    }

    #[test]
    fn one_event_per_call() {
        let mut p = RequestParser::new(HeadLimits::default());
        assert!(p.is_idle());
        assert_eq!(p.finish(), Ok(()));
        let msg = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab";
        let head_len = msg.len() - 2;
        assert_eq!(
            p.advance(&msg[..10]).unwrap(),
            Step {
                consumed: 0,
                event: Event::NeedData
            }
        );
        assert!(!p.is_idle());
        let s = p.advance(msg).unwrap();
        assert_eq!(
            s,
            Step {
                consumed: head_len,
                event: Event::Head { len: head_len }
            }
        );
        let h = p.head(&msg[..head_len]);
        assert_eq!((h.method, h.target()), (Method::Post, "/x"));
        assert_eq!(p.framing().map(|f| f.body), Some(BodyKind::Length(4)));
        assert_eq!(
            p.advance(b"ab").unwrap(),
            Step {
                consumed: 2,
                event: Event::Data(0..2)
            }
        );
        assert_eq!(
            p.advance(b"").unwrap(),
            Step {
                consumed: 0,
                event: Event::NeedData
            }
        );
        // Only the body's bytes, not what follows.
        assert_eq!(
            p.advance(b"cdGET").unwrap(),
            Step {
                consumed: 2,
                event: Event::Data(0..2)
            }
        );
        assert_eq!(
            p.advance(b"GET").unwrap(),
            Step {
                consumed: 0,
                event: Event::End
            }
        );
        assert!(p.is_complete());
        assert_eq!(p.finish(), Ok(()));
        // End again until reset.
        assert_eq!(
            p.advance(b"GET").unwrap(),
            Step {
                consumed: 0,
                event: Event::End
            }
        );
        p.reset();
        assert!(p.is_idle() && p.framing().is_none());
        assert_eq!(
            p.advance(b"GET").unwrap(),
            Step {
                consumed: 0,
                event: Event::NeedData
            }
        );
        assert_eq!(p.finish().unwrap_err().kind, ErrorKind::UnexpectedEof);
    }

    #[test]
    fn no_body_ends_right_after_the_head() {
        let mut p = RequestParser::new(HeadLimits::default());
        let msg = b"GET / HTTP/1.0\r\n\r\n";
        assert_eq!(
            p.advance(msg).unwrap().event,
            Event::Head { len: msg.len() }
        );
        assert_eq!(
            p.framing().map(|f| (f.body, f.keep_alive)),
            Some((BodyKind::None, false))
        );
        assert_eq!(
            p.advance(b"").unwrap(),
            Step {
                consumed: 0,
                event: Event::End
            }
        );
    }

    #[test]
    fn chunked_end_may_consume_framing() {
        let mut p = RequestParser::new(HeadLimits::default());
        let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(
            p.advance(head).unwrap().event,
            Event::Head { len: head.len() }
        );
        assert_eq!(
            p.advance(b"3\r\nabc\r\n0\r\n\r\nX").unwrap(),
            Step {
                consumed: 6,
                event: Event::Data(3..6)
            }
        );
        assert_eq!(
            p.advance(b"\r\n0\r\n\r\nX").unwrap(),
            Step {
                consumed: 7,
                event: Event::End
            }
        );
    }

    /// A parser keeps its last valid Host across messages; a later message's bad
    /// Host is refused all the same.
    #[test]
    fn a_bad_host_after_a_good_one_is_refused() {
        let mut p = RequestParser::new(HeadLimits::default());
        for _ in 0..2 {
            let msg = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
            assert!(matches!(p.advance(msg).unwrap().event, Event::Head { .. }));
            p.reset();
        }
        let e = p
            .advance(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080x\r\n\r\n")
            .unwrap_err();
        assert_eq!((e.kind, e.line), (ErrorKind::InvalidHost, 2));
    }

    #[test]
    fn errors_are_sticky_until_reset() {
        let mut p = RequestParser::new(HeadLimits::default());
        let e = p.advance(b"GET / HTTP/9.9\r\n").unwrap_err();
        assert_eq!((e.kind, e.status()), (ErrorKind::UnsupportedVersion, 505));
        assert_eq!(p.advance(b"GET / HTTP/9.9\r\n"), Err(e));
        assert_eq!(p.finish(), Err(e));
        p.reset();
        assert_eq!(
            p.advance(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                .unwrap()
                .event,
            Event::Head { len: 27 }
        );
    }

    #[test]
    fn bare_lf_leniency_reaches_the_head_only() {
        let msg = b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n1\r\nx\r\n0\r\n\r\n";
        check(msg, &["head POST /", "data x", "end"]);
        let mut p = RequestParser::new(HeadLimits::default());
        p.set_allow_bare_lf(false);
        assert_eq!(p.advance(msg).unwrap_err().kind, ErrorKind::BareLf);
    }
}
