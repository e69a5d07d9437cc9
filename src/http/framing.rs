//! From a parsed head to the message's framing (RFC 9112 §6.1–§6.3, §9.3, RFC 9110 §7.2).
//!
//! STUB: interface fixed, implementation to be written.

use crate::http::error::ParseError;
use crate::http::head::RequestHead;

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (no Content-Length, no Transfer-Encoding, or `Content-Length: 0`).
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// What the head says about the message as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    pub body: BodyKind,
    /// Whether the connection may stay open after this exchange (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent (HTTP/1.1 only).
    pub expect_continue: bool,
}

/// Check the head's framing rules and decide the body kind. Errors point at the
/// offending header line.
pub fn framing(head: &RequestHead<'_>) -> Result<Framing, ParseError> {
    let _ = head;
    todo!()
}
