//! [`RequestParser`]: one request as a stream of events (head, body data, end).
//!
//! STUB: interface fixed, implementation to be written.
//!
//! The caller owns the buffer. It calls [`RequestParser::advance`] with the bytes of
//! the current message it has not yet consumed... (see `advance`).

use crate::http::error::ParseError;
use crate::http::framing::Framing;
use crate::http::head::{HeadLimits, RequestHead};
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

#[derive(Debug)]
pub struct RequestParser {}

impl RequestParser {
    pub fn new(limits: HeadLimits) -> Self {
        let _ = limits;
        todo!()
    }

    /// Feed the unconsumed bytes; get one event.
    ///
    /// While the head is incomplete, `input` must start at the first byte of the
    /// message (the parser consumes nothing until the head is whole, returning
    /// `consumed: 0` and `NeedData`). After `Head`, `input` starts after the bytes
    /// consumed so far.
    pub fn advance(&mut self, input: &[u8]) -> Result<Step, ParseError> {
        let _ = input;
        todo!()
    }

    /// The head, once `Head { len }` was returned: `head_bytes` are those `len` bytes.
    pub fn head<'b>(&'b self, head_bytes: &'b [u8]) -> RequestHead<'b> {
        let _ = head_bytes;
        todo!()
    }

    /// The framing decided for the current message (after `Head`).
    pub fn framing(&self) -> Option<Framing> {
        todo!()
    }

    /// True when no byte of a message has been seen since the last reset.
    pub fn is_idle(&self) -> bool {
        todo!()
    }

    /// The input ended (the peer closed its side). `Ok` if that is between messages;
    /// `UnexpectedEof` otherwise.
    pub fn finish(&self) -> Result<(), ParseError> {
        todo!()
    }

    /// Get ready for the next message on the connection (keeps allocations).
    pub fn reset(&mut self) {
        todo!()
    }
}
