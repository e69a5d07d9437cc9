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
use crate::http::framing::{BodyKind, Framing, framing};
use crate::http::head::{HeadLimits, HeadParser, RequestHead};
use std::ops::Range;

/// What [`RequestParser::advance`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// More bytes are needed.
    NeedData,
    /// The head is complete: it is the first `len` bytes of the input given. Call
    /// [`RequestParser::head`] with those bytes to read it, and [`RequestParser::framing`].
    Head { len: usize },
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
    pub event: Event,
}

/// Where the parser is in the current message.
#[derive(Debug, Clone)]
pub enum ParserState {
    /// Reading the head.
    Head,
    /// A body of known length: `remaining` bytes to go; `offset` is the message
    /// offset of the next body byte.
    LengthBody { remaining: u64, offset: u64 },
    /// A chunked body.
    ChunkedBody(ChunkedDecoder),
    /// The message is complete; waiting for `reset`.
    End,
    /// This error was found.
    Failed(ParseError),
}

#[derive(Debug)]
pub struct RequestParser {
    head: HeadParser,
    state: ParserState,
    framing: Option<Framing>,
}

impl RequestParser {
    pub fn new(limits: HeadLimits) -> Self {
        RequestParser {
            head: HeadParser::new(limits),
            state: ParserState::Head,
            framing: None,
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
                let f = framing(&self.head.head(&input[..len]))?;
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
