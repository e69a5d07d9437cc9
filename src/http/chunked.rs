//! The incremental chunked transfer-coding decoder (RFC 9112 §7.1).
//!
//! Theory of operation: [`ChunkedDecoder::decode`] is given the bytes the caller has
//! not consumed yet. It walks the framing one byte at a time through [`ChunkedState`]
//! (one small `read_*` function per state, as hyper's `ChunkedState`), holding only
//! counters, so it never needs a byte twice and never buffers. Chunk data is not
//! copied: it comes back as a range of the input (one range per call). The decoder
//! stops at the LF of the final empty line, so the bytes after the body (a pipelined
//! request) stay unconsumed.
//!
//! ```text
//! chunked-body   = *chunk
//!                  last-chunk
//!                  trailer-section
//!                  CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF
//!                  chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-data     = 1*OCTET ; a sequence of chunk-size octets
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name
//!                     [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-name = token
//! chunk-ext-val  = token / quoted-string
//! trailer-section = *( field-line CRLF )
//! ```
//!
//! Choices:
//! - **CRLF only.** Unlike the head (where a bare LF is a named leniency), every
//!   framing line here needs CRLF; a bare LF is [`ErrorKind::ChunkedBareLf`], whose
//!   message says so. Lenient chunk framing is a request-smuggling vector.
//! - **Chunk size**: any number of hex digits as long as the value fits in `u64`; the
//!   digit that would overflow is rejected before shifting
//!   ([`ErrorKind::ChunkSizeOverflow`]). Leading zeros are fine (bounded by
//!   [`MAX_CHUNK_LINE`]). Whitespace after the size is allowed only before a `;` (it is
//!   the BWS of `chunk-ext`).
//! - **Extensions** are checked against the grammar above, then ignored.
//! - **Trailers** are checked like header fields (a token name, a colon, field-content
//!   bytes) and bounded by [`MAX_TRAILER_SECTION`], then **discarded**: nothing in
//!   wirepost reads them, and RFC 9110 §6.5.1 lets a recipient drop them.
//! - **Line numbers** count on from the head: every framing line is one line (the
//!   chunk-size line, the chunk data with its CRLF, each trailer line, the final
//!   empty line), whatever LF bytes the chunk data holds. Byte offsets count from the
//!   first byte of the message.

use crate::http::chars::{FIELD_CONTENT, HEX_VALUE, QDTEXT, QUOTED_PAIR, TCHAR};
use crate::http::error::{ErrorKind, ParseError};
use std::ops::Range;

/// Longest chunk-size line including extensions, before CRLF. A size needs 16
/// significant hex digits at most; the rest is room for leading zeros and extensions,
/// which clients rarely send. Bounded so that a line that never ends cannot keep the
/// decoder busy. Past it: [`ErrorKind::ChunkLineTooLong`].
pub const MAX_CHUNK_LINE: usize = 4096;
/// Largest trailer section: the trailer field lines with their CRLFs, the final empty
/// line excluded (measured like the head's [`crate::http::head::MAX_HEADER_SECTION`],
/// and as large). Past it: [`ErrorKind::TrailerSectionTooLarge`].
pub const MAX_TRAILER_SECTION: usize = 16384;

/// One step of decoding: `consumed` bytes of the input are used up (the caller drops
/// them), and `data`, if any, is a range of chunk data within those bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// How many input bytes this step used up.
    pub consumed: usize,
    /// Where chunk data lies in the input, if this step produced any.
    pub data: Option<Range<usize>>,
    /// The last chunk and the trailer section have been read.
    pub done: bool,
}

/// What the decoder expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkedState {
    /// The first hex digit of a chunk size.
    SizeStart,
    /// More hex digits, `;`, BWS or CR.
    Size,
    /// More BWS, or the `;` of an extension (whitespace after the size).
    SizeBws,
    /// BWS or the first byte of an extension name (after `;`).
    ExtNameStart,
    /// More of the extension name, BWS, `=`, `;` or CR.
    ExtName,
    /// More BWS, `=` or `;` (whitespace after an extension name).
    ExtNameBws,
    /// BWS, a token or a quoted string (after `=`).
    ExtValueStart,
    /// More of a token value, BWS, `;` or CR.
    ExtToken,
    /// More of a quoted value, a backslash or the closing quote.
    ExtQuoted,
    /// The byte after a backslash in a quoted value.
    ExtQuotedPair,
    /// BWS, `;` or CR (after a value).
    ExtValueEnd,
    /// More BWS or `;` (whitespace after a value).
    ExtValueBws,
    /// The LF ending the chunk-size line.
    SizeLf,
    /// This many more bytes of chunk data.
    Data {
        /// Bytes of the current chunk not yet read.
        remaining: u64,
    },
    /// The CR after chunk data.
    DataCr,
    /// The LF after chunk data.
    DataLf,
    /// A trailer field name, or the CR of the final empty line.
    TrailerStart,
    /// More of a trailer field name, or its colon.
    TrailerName,
    /// More of a trailer field value, or its CR.
    TrailerValue,
    /// The LF ending a trailer line.
    TrailerLf,
    /// The LF of the final empty line.
    EndLf,
    /// Nothing: the chunked body is complete.
    Done,
}

impl ChunkedState {
    /// The states inside a chunk-size line (before its CR), whose bytes count
    /// towards [`MAX_CHUNK_LINE`].
    fn in_size_line(self) -> bool {
        use ChunkedState::*;
        matches!(
            self,
            Size | SizeBws
                | ExtNameStart
                | ExtName
                | ExtNameBws
                | ExtValueStart
                | ExtToken
                | ExtQuoted
                | ExtQuotedPair
                | ExtValueEnd
                | ExtValueBws
        )
    }
}

/// The decoder of one chunked body. See the module docs.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: ChunkedState,
    /// The size of the chunk whose size line is being read.
    size: u64,
    /// Bytes of the current chunk-size line so far.
    line_len: usize,
    /// Bytes of the trailer section so far.
    trailer_len: usize,
    /// The number of the line being read.
    line: u32,
    /// Offset from the message start of the next input byte.
    offset: u64,
    /// The error found, returned again on every call.
    failed: Option<ParseError>,
}

const CR: u8 = b'\r';
const LF: u8 = b'\n';

fn is_bws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl ChunkedDecoder {
    /// `line` is the line number of the message head's last line, so that errors in
    /// chunk-size lines count on from there; `byte` the offset of the body's first byte.
    pub fn new(line: u32, byte: u64) -> Self {
        ChunkedDecoder {
            state: ChunkedState::SizeStart,
            size: 0,
            line_len: 0,
            trailer_len: 0,
            line: line + 1,
            offset: byte,
            failed: None,
        }
    }

    /// What the decoder expects next (for traces).
    pub fn state(&self) -> ChunkedState {
        self.state
    }

    /// The number of the line being read.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The offset from the message start of the next byte to decode.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The chunk whose size line has been read to its end: its size and how many of
    /// its data bytes are still to come; `None` elsewhere (while a size line or its
    /// extensions are read, and between chunks). Lets a connection refuse
    /// `fffffffffff` for a 1 MiB route with 413 as soon as the size line ends, without
    /// waiting for data; only once the line is whole, so that a malformed extension is
    /// a 400 however the input is split.
    pub fn chunk(&self) -> Option<(u64, u64)> {
        match self.state {
            ChunkedState::Data { remaining } => Some((self.size, remaining)),
            ChunkedState::DataCr | ChunkedState::DataLf => Some((self.size, 0)),
            _ => None,
        }
    }

    /// Whether the whole chunked body has been read.
    pub fn is_done(&self) -> bool {
        self.state == ChunkedState::Done
    }

    /// Decode from `input` (the bytes not yet consumed). Never consumes bytes past the
    /// end of the chunked body.
    pub fn decode(&mut self, input: &[u8]) -> Result<Decoded, ParseError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let mut pos = 0;
        let mut data = None;
        while pos < input.len() {
            match self.state {
                ChunkedState::Done => break,
                ChunkedState::Data { remaining } => {
                    let n = remaining.min((input.len() - pos) as u64);
                    let left = remaining - n;
                    self.state = if left == 0 {
                        ChunkedState::DataCr
                    } else {
                        ChunkedState::Data { remaining: left }
                    };
                    data = Some(pos..pos + n as usize);
                    pos += n as usize;
                    break;
                }
                state => {
                    if let Err(kind) = self.read_byte(state, input[pos]) {
                        let e = ParseError::new(kind, self.line, self.offset + pos as u64);
                        self.failed = Some(e);
                        return Err(e);
                    }
                    pos += 1;
                }
            }
        }
        self.offset += pos as u64;
        Ok(Decoded {
            consumed: pos,
            data,
            done: self.state == ChunkedState::Done,
        })
    }

    /// One framing byte in `state`: moves to the next state, and keeps the line
    /// count and the size limits.
    fn read_byte(&mut self, state: ChunkedState, b: u8) -> Result<(), ErrorKind> {
        use ChunkedState::*;
        let next = match state {
            SizeStart => self.read_size_start(b)?,
            Size => self.read_size(b)?,
            SizeBws => read_size_bws(b)?,
            ExtNameStart => read_ext_name_start(b)?,
            ExtName => read_ext_name(b)?,
            ExtNameBws => read_ext_name_bws(b)?,
            ExtValueStart => read_ext_value_start(b)?,
            ExtToken => read_ext_token(b)?,
            ExtQuoted => read_ext_quoted(b)?,
            ExtQuotedPair => read_ext_quoted_pair(b)?,
            ExtValueEnd => read_ext_value_end(b)?,
            ExtValueBws => read_ext_value_bws(b)?,
            SizeLf => self.read_size_lf(b)?,
            DataCr => read_data_cr(b)?,
            DataLf => read_data_lf(b)?,
            TrailerStart => read_trailer_start(b)?,
            TrailerName => read_trailer_name(b)?,
            TrailerValue => read_trailer_value(b)?,
            TrailerLf => read_trailer_lf(b)?,
            EndLf => read_end_lf(b)?,
            Data { .. } | Done => unreachable!("handled by decode"),
        };
        if next.in_size_line() {
            self.line_len += 1;
            if self.line_len > MAX_CHUNK_LINE {
                return Err(ErrorKind::ChunkLineTooLong);
            }
        }
        // Trailer bytes: every byte of a field line, its CR LF included.
        if matches!(next, TrailerName | TrailerValue | TrailerLf)
            || (state == TrailerLf && next == TrailerStart)
        {
            self.trailer_len += 1;
            if self.trailer_len > MAX_TRAILER_SECTION {
                return Err(ErrorKind::TrailerSectionTooLarge);
            }
        }
        // A line ends with the LF we just read.
        if b == LF {
            self.line += 1;
        }
        self.state = next;
        Ok(())
    }

    /// `chunk-size = 1*HEXDIG`: the first digit.
    fn read_size_start(&mut self, b: u8) -> Result<ChunkedState, ErrorKind> {
        match HEX_VALUE[b as usize] {
            0xFF => Err(ErrorKind::InvalidChunkSize),
            v => {
                self.size = u64::from(v);
                self.line_len = 0;
                Ok(ChunkedState::Size)
            }
        }
    }

    /// More digits, or what may follow the size: `;` (chunk-ext), BWS, CR.
    fn read_size(&mut self, b: u8) -> Result<ChunkedState, ErrorKind> {
        match HEX_VALUE[b as usize] {
            0xFF => {}
            v => {
                // Shifting in one more digit must not lose the top nibble.
                if self.size > u64::MAX >> 4 {
                    return Err(ErrorKind::ChunkSizeOverflow);
                }
                self.size = self.size << 4 | u64::from(v);
                return Ok(ChunkedState::Size);
            }
        }
        match b {
            b';' => Ok(ChunkedState::ExtNameStart),
            b' ' | b'\t' => Ok(ChunkedState::SizeBws),
            CR => Ok(ChunkedState::SizeLf),
            LF => Err(ErrorKind::ChunkedBareLf),
            _ => Err(ErrorKind::InvalidChunkSize),
        }
    }

    /// The LF of the chunk-size line: then chunk data, or the trailer section after
    /// the last chunk.
    fn read_size_lf(&mut self, b: u8) -> Result<ChunkedState, ErrorKind> {
        match b {
            LF if self.size == 0 => Ok(ChunkedState::TrailerStart),
            LF => Ok(ChunkedState::Data {
                remaining: self.size,
            }),
            _ => Err(ErrorKind::BareCr),
        }
    }
}

/// `BWS ";"`: whitespace after the size may only lead to an extension.
fn read_size_bws(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        b' ' | b'\t' => Ok(ChunkedState::SizeBws),
        b';' => Ok(ChunkedState::ExtNameStart),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkSize),
    }
}

/// `";" BWS chunk-ext-name`: the name's first tchar.
fn read_ext_name_start(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        _ if is_bws(b) => Ok(ChunkedState::ExtNameStart),
        _ if TCHAR[b as usize] => Ok(ChunkedState::ExtName),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkExtension),
    }
}

/// `chunk-ext-name = token`, then `BWS "=" ...`, the next `;`, or CR.
fn read_ext_name(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        _ if TCHAR[b as usize] => Ok(ChunkedState::ExtName),
        _ if is_bws(b) => Ok(ChunkedState::ExtNameBws),
        b'=' => Ok(ChunkedState::ExtValueStart),
        b';' => Ok(ChunkedState::ExtNameStart),
        CR => Ok(ChunkedState::SizeLf),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkExtension),
    }
}

/// BWS after a name may only lead to `=` or the next `;`.
fn read_ext_name_bws(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        _ if is_bws(b) => Ok(ChunkedState::ExtNameBws),
        b'=' => Ok(ChunkedState::ExtValueStart),
        b';' => Ok(ChunkedState::ExtNameStart),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkExtension),
    }
}

/// `"=" BWS chunk-ext-val`, `chunk-ext-val = token / quoted-string`.
fn read_ext_value_start(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        _ if is_bws(b) => Ok(ChunkedState::ExtValueStart),
        b'"' => Ok(ChunkedState::ExtQuoted),
        _ if TCHAR[b as usize] => Ok(ChunkedState::ExtToken),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkExtension),
    }
}

/// More of a token value, or what follows a value.
fn read_ext_token(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        _ if TCHAR[b as usize] => Ok(ChunkedState::ExtToken),
        _ => read_ext_value_end(b),
    }
}

/// `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE`
fn read_ext_quoted(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        b'"' => Ok(ChunkedState::ExtValueEnd),
        b'\\' => Ok(ChunkedState::ExtQuotedPair),
        _ if QDTEXT[b as usize] => Ok(ChunkedState::ExtQuoted),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkExtension),
    }
}

/// `quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )`
fn read_ext_quoted_pair(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        _ if QUOTED_PAIR[b as usize] => Ok(ChunkedState::ExtQuoted),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkExtension),
    }
}

/// After a value: BWS (then only `;`), the next `;`, or CR.
fn read_ext_value_end(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        _ if is_bws(b) => Ok(ChunkedState::ExtValueBws),
        b';' => Ok(ChunkedState::ExtNameStart),
        CR => Ok(ChunkedState::SizeLf),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkExtension),
    }
}

/// BWS after a value may only lead to the next `;`.
fn read_ext_value_bws(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        _ if is_bws(b) => Ok(ChunkedState::ExtValueBws),
        b';' => Ok(ChunkedState::ExtNameStart),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidChunkExtension),
    }
}

/// `chunk-data CRLF`: the CR.
fn read_data_cr(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        CR => Ok(ChunkedState::DataLf),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::MissingChunkDataCrlf),
    }
}

/// `chunk-data CRLF`: the LF, then the next chunk's size.
fn read_data_lf(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        LF => Ok(ChunkedState::SizeStart),
        _ => Err(ErrorKind::MissingChunkDataCrlf),
    }
}

/// `trailer-section = *( field-line CRLF )` then `CRLF`: a field name's first byte,
/// or the CR of the final empty line.
fn read_trailer_start(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        CR => Ok(ChunkedState::EndLf),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ if TCHAR[b as usize] => Ok(ChunkedState::TrailerName),
        // An empty name, obs-fold, or a byte that is not a tchar.
        _ => Err(ErrorKind::InvalidTrailer),
    }
}

/// `field-name ":"`: no whitespace before the colon.
fn read_trailer_name(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        b':' => Ok(ChunkedState::TrailerValue),
        _ if TCHAR[b as usize] => Ok(ChunkedState::TrailerName),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ => Err(ErrorKind::InvalidTrailer),
    }
}

/// `OWS field-value OWS CRLF`: field-content bytes, then CR.
fn read_trailer_value(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        CR => Ok(ChunkedState::TrailerLf),
        LF => Err(ErrorKind::ChunkedBareLf),
        _ if FIELD_CONTENT[b as usize] => Ok(ChunkedState::TrailerValue),
        _ => Err(ErrorKind::InvalidTrailer),
    }
}

/// The LF after a trailer line.
fn read_trailer_lf(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        LF => Ok(ChunkedState::TrailerStart),
        _ => Err(ErrorKind::BareCr),
    }
}

/// The LF of the final empty line: the body ends here.
fn read_end_lf(b: u8) -> Result<ChunkedState, ErrorKind> {
    match b {
        LF => Ok(ChunkedState::Done),
        _ => Err(ErrorKind::BareCr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorKind::*;

    /// Decodes `input` fed in pieces of `step` bytes (the caller keeps unconsumed
    /// bytes, like the connection's buffer). Returns (data, consumed, done) or the
    /// error.
    fn decode_in(input: &[u8], step: usize) -> Result<(Vec<u8>, usize, bool), ParseError> {
        let mut d = ChunkedDecoder::new(3, 100);
        let mut pending: Vec<u8> = Vec::new();
        let mut data = Vec::new();
        let mut consumed = 0;
        for piece in input.chunks(step.max(1)) {
            pending.extend_from_slice(piece);
            loop {
                let r = d.decode(&pending)?;
                if let Some(range) = &r.data {
                    assert!(range.end <= r.consumed && !range.is_empty());
                    data.extend_from_slice(&pending[range.clone()]);
                }
                pending.drain(..r.consumed);
                consumed += r.consumed;
                if r.done {
                    return Ok((data, consumed, true));
                }
                if r.consumed == 0 || pending.is_empty() {
                    break;
                }
            }
        }
        Ok((data, consumed, false))
    }

    /// Whole and byte by byte must agree.
    fn decode(input: &[u8]) -> Result<(Vec<u8>, usize, bool), ParseError> {
        let whole = decode_in(input, input.len());
        for step in [1, 2, 3, 7] {
            assert_eq!(decode_in(input, step), whole, "step {step} on {input:?}");
        }
        whole
    }

    #[test]
    fn valid_bodies() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"0\r\n\r\n", b""),
            (b"000\r\n\r\n", b""),
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"a\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"0005\r\nhe\r\nl\r\n0\r\n\r\n", b"he\r\nl"),
            (b"3\r\n\n\r\n\r\n0\r\n\r\n", b"\n\r\n"),
            // extensions
            (b"5;a\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;a=b\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5 ; a = b ; c\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;a=\"b c\"\r\nhello\r\n0;last\r\n\r\n", b"hello"),
            (b"5;a=\"q\\\"x\\\\\";b\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;a=\"\" ;b=c\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;\ta\t=\tb\r\nhello\r\n0\r\n\r\n", b"hello"),
            // trailers (discarded)
            (b"5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n", b"hello"),
            (b"0\r\nA: 1\r\nB:\r\nC:  x y \t\r\n\r\n", b""),
            (b"0\r\nA: \x80\xff\r\n\r\n", b""),
        ];
        for &(input, want) in cases {
            let (data, consumed, done) = decode(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(data, want, "{input:?}");
            assert_eq!((consumed, done), (input.len(), true), "{input:?}");
        }
    }

    #[test]
    fn invalid_bodies() {
        // (input, kind, line, byte within the body). The head's last line is 3, so the
        // first chunk-size line is 4; the body starts at message byte 100.
        let cases: &[(&[u8], ErrorKind, u32, u64)] = &[
            (b"\r\n", InvalidChunkSize, 4, 0),
            (b"x\r\n", InvalidChunkSize, 4, 0),
            (b"-1\r\n", InvalidChunkSize, 4, 0),
            (b"+1\r\n", InvalidChunkSize, 4, 0),
            (b" 5\r\n", InvalidChunkSize, 4, 0),
            (b"5x\r\n", InvalidChunkSize, 4, 1),
            (b"0x5\r\n", InvalidChunkSize, 4, 1),
            (b"5 \r\n", InvalidChunkSize, 4, 2),
            (b"5 x\r\n", InvalidChunkSize, 4, 2),
            (b"ffffffffffffffffff\r\n", ChunkSizeOverflow, 4, 16),
            (b"10000000000000000\r\n", ChunkSizeOverflow, 4, 16),
            // bare LF where CRLF is framing
            (b"\n", InvalidChunkSize, 4, 0),
            (b"5\n", ChunkedBareLf, 4, 1),
            (b"5;a\n", ChunkedBareLf, 4, 3),
            (b"5;a=b\n", ChunkedBareLf, 4, 5),
            (b"5 \n", ChunkedBareLf, 4, 2),
            (b"5\r\nhello\n0\r\n\r\n", ChunkedBareLf, 5, 8),
            (b"0\n\r\n", ChunkedBareLf, 4, 1),
            (b"0\r\n\n", ChunkedBareLf, 5, 3),
            (b"0\r\nA: 1\n\r\n", ChunkedBareLf, 5, 7),
            (b"0\r\nA\n", ChunkedBareLf, 5, 4),
            // CR without LF
            (b"5\rx", BareCr, 4, 2),
            (b"0\r\n\rx", BareCr, 5, 4),
            (b"0\r\nA: 1\rx", BareCr, 5, 8),
            // data not followed by CRLF
            (b"5\r\nhelloX\r\n", MissingChunkDataCrlf, 5, 8),
            (b"5\r\nhello\rX", MissingChunkDataCrlf, 5, 9),
            (b"3\r\nhello\r\n", MissingChunkDataCrlf, 5, 6),
            // extensions
            (b"5;\r\n", InvalidChunkExtension, 4, 2),
            (b"5;=b\r\n", InvalidChunkExtension, 4, 2),
            (b"5;a=\r\n", InvalidChunkExtension, 4, 4),
            (b"5;a=b c\r\n", InvalidChunkExtension, 4, 6),
            (b"5;a \r\n", InvalidChunkExtension, 4, 4),
            (b"5;a=b \r\n", InvalidChunkExtension, 4, 6),
            (b"5;a=\"b\r\n", InvalidChunkExtension, 4, 6),
            (b"5;a=\"b\"c\r\n", InvalidChunkExtension, 4, 7),
            (b"5;a=\"\\\x01\"\r\n", InvalidChunkExtension, 4, 6),
            (b"5;a=\"\x00\"\r\n", InvalidChunkExtension, 4, 5),
            (b"5;a@\r\n", InvalidChunkExtension, 4, 3),
            // trailers
            (b"0\r\n: x\r\n\r\n", InvalidTrailer, 5, 3),
            (b"0\r\n x\r\n\r\n", InvalidTrailer, 5, 3),
            (b"0\r\nA : x\r\n\r\n", InvalidTrailer, 5, 4),
            (b"0\r\nA\r\n\r\n", InvalidTrailer, 5, 4),
            (b"0\r\nA: \x00\r\n\r\n", InvalidTrailer, 5, 6),
            (b"0\r\nA: 1\r\nB(: 2\r\n\r\n", InvalidTrailer, 6, 10),
        ];
        for &(input, kind, line, byte) in cases {
            let e = decode(input).expect_err(&format!("{input:?}"));
            assert_eq!(
                (e.kind, e.line, e.byte),
                (kind, line, 100 + byte),
                "{input:?}: {e}"
            );
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn bare_lf_message_mentions_crlf() {
        let e = decode(b"5\nhello").unwrap_err();
        assert_eq!(e.kind, ChunkedBareLf);
        assert!(e.to_string().contains("CRLF"), "{e}");
    }

    #[test]
    fn size_overflow_bounds() {
        // 16 significant hex digits fit; leading zeros do not count.
        let mut d = ChunkedDecoder::new(1, 0);
        let r = d.decode(b"ffffffffffffffff\r\nab").unwrap();
        assert_eq!(r.data, Some(18..20));
        assert_eq!(
            d.state(),
            ChunkedState::Data {
                remaining: u64::MAX - 2
            }
        );
        let mut d = ChunkedDecoder::new(1, 0);
        d.decode(b"00000000000000000000000000000001\r\n").unwrap();
        assert_eq!(d.state(), ChunkedState::Data { remaining: 1 });
        let mut d = ChunkedDecoder::new(1, 0);
        let e = d.decode(b"fffffffffffffffff").unwrap_err();
        assert_eq!((e.kind, e.byte), (ChunkSizeOverflow, 16));
    }

    #[test]
    fn chunk_line_limit_at_n_and_n_plus_1() {
        // "1;" then an extension name filling the line to exactly N bytes.
        for (len, ok) in [(MAX_CHUNK_LINE, true), (MAX_CHUNK_LINE + 1, false)] {
            let mut line = b"1;".to_vec();
            line.resize(len, b'e');
            let mut input = line.clone();
            input.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
            match decode(&input) {
                Ok((data, _, true)) => assert!(ok && data == b"x", "len {len}"),
                Ok(other) => panic!("len {len}: {other:?}"),
                Err(e) => {
                    assert!(!ok, "len {len}: {e}");
                    assert_eq!(
                        (e.kind, e.line, e.byte),
                        (ChunkLineTooLong, 4, 100 + MAX_CHUNK_LINE as u64)
                    );
                }
            }
        }
        // Leading zeros count too: a size line of N+1 zeros.
        let mut input = vec![b'0'; MAX_CHUNK_LINE + 1];
        input.extend_from_slice(b"\r\n\r\n");
        assert_eq!(decode(&input).unwrap_err().kind, ChunkLineTooLong);
    }

    #[test]
    fn trailer_section_limit_at_n_and_n_plus_1() {
        for (len, ok) in [
            (MAX_TRAILER_SECTION, true),
            (MAX_TRAILER_SECTION + 1, false),
        ] {
            // Two trailer lines, "A: aaa…\r\n" and "B: b\r\n", totalling `len` bytes.
            let second = b"B: b\r\n";
            let mut first = b"A: ".to_vec();
            first.resize(len - second.len() - 2, b'a');
            first.extend_from_slice(b"\r\n");
            let mut input = b"0\r\n".to_vec();
            input.extend_from_slice(&first);
            input.extend_from_slice(second);
            input.extend_from_slice(b"\r\n");
            match decode(&input) {
                Ok((_, consumed, true)) => assert!(ok && consumed == input.len(), "len {len}"),
                Ok(other) => panic!("len {len}: {other:?}"),
                Err(e) => {
                    assert!(!ok, "len {len}: {e}");
                    let at = 3 + MAX_TRAILER_SECTION as u64;
                    assert_eq!(
                        (e.kind, e.line, e.byte),
                        (TrailerSectionTooLarge, 6, 100 + at)
                    );
                    assert_eq!(e.status(), 431);
                }
            }
        }
    }

    #[test]
    fn pipelined_bytes_are_not_consumed() {
        let input = b"5\r\nhello\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n";
        let body_len = input.len() - b"GET / HTTP/1.1\r\n".len();
        for step in [1, 2, 5, input.len()] {
            let (data, consumed, done) = decode_in(input, step).unwrap();
            assert_eq!(
                (data.as_slice(), consumed, done),
                (&b"hello"[..], body_len, true)
            );
        }
        // Once done, nothing more is consumed.
        let mut d = ChunkedDecoder::new(1, 0);
        let r = d.decode(b"0\r\n\r\n0\r\n\r\n").unwrap();
        assert_eq!(
            r,
            Decoded {
                consumed: 5,
                data: None,
                done: true
            }
        );
        let r = d.decode(b"0\r\n\r\n").unwrap();
        assert_eq!(
            r,
            Decoded {
                consumed: 0,
                data: None,
                done: true
            }
        );
    }

    #[test]
    fn data_is_a_range_of_the_input() {
        let mut d = ChunkedDecoder::new(1, 0);
        // Framing before the data is consumed with it, in the same step.
        let r = d.decode(b"5;x=y\r\nhel").unwrap();
        assert_eq!(
            r,
            Decoded {
                consumed: 10,
                data: Some(7..10),
                done: false
            }
        );
        let r = d.decode(b"lo\r\n0\r\n").unwrap();
        assert_eq!(
            r,
            Decoded {
                consumed: 2,
                data: Some(0..2),
                done: false
            }
        );
        let r = d.decode(b"\r\n0\r\n").unwrap();
        assert_eq!(
            r,
            Decoded {
                consumed: 5,
                data: None,
                done: false
            }
        );
        assert_eq!(d.state(), ChunkedState::TrailerStart);
        assert_eq!(
            d.decode(b"").unwrap(),
            Decoded {
                consumed: 0,
                data: None,
                done: false
            }
        );
        let r = d.decode(b"\r\n").unwrap();
        assert_eq!(
            r,
            Decoded {
                consumed: 2,
                data: None,
                done: true
            }
        );
        assert_eq!(d.offset(), 19);
    }

    #[test]
    fn errors_are_sticky() {
        let mut d = ChunkedDecoder::new(1, 0);
        let e = d.decode(b"z").unwrap_err();
        assert_eq!(d.decode(b"0\r\n\r\n").unwrap_err(), e);
    }
}
