//! The incremental chunked transfer-coding decoder (RFC 9112 §7.1).
//!
//! STUB: interface fixed, implementation to be written.

use crate::http::error::ParseError;
use std::ops::Range;

/// Longest chunk-size line including extensions, before CRLF.
pub const MAX_CHUNK_LINE: usize = 4096;
/// Largest trailer section.
pub const MAX_TRAILER_SECTION: usize = 16384;

/// One step of decoding: `consumed` bytes of the input are used up (the caller drops
/// them), and `data`, if any, is a range of chunk data within those bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub consumed: usize,
    pub data: Option<Range<usize>>,
    /// The last chunk and the trailer section have been read.
    pub done: bool,
}

#[derive(Debug)]
pub struct ChunkedDecoder {}

impl ChunkedDecoder {
    /// `line` is the line number of the message head's last line, so that errors in
    /// chunk-size lines count on from there; `byte` the offset of the body's first byte.
    pub fn new(line: u32, byte: u64) -> Self {
        let _ = (line, byte);
        todo!()
    }

    /// Decode from `input` (the bytes not yet consumed). Never consumes bytes past the
    /// end of the chunked body.
    pub fn decode(&mut self, input: &[u8]) -> Result<Decoded, ParseError> {
        let _ = input;
        todo!()
    }
}
