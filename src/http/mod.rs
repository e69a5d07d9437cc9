#![deny(missing_docs)]

//! The sans-I/O HTTP/1.1 core (RFC 9112 message syntax, RFC 9110 semantics).
//!
//! Everything here takes bytes and returns events, values or typed errors, and
//! appends output to caller-owned buffers. Nothing here touches a socket, a file, a
//! thread or the clock: the I/O layer in `crate::server` feeds bytes in and passes
//! the current time as a value.
//!
//! - [`chars`]: byte classes from the ABNF (tchar, field-vchar, ...).
//! - [`error`]: [`ParseError`], with line and byte of the fault and its status.
//! - [`head`]: the incremental request-line + header-section parser.
//! - [`framing`]: from a parsed head to how the body is delimited (RFC 9112 §6),
//!   Host rules, persistence.
//! - [`chunked`]: the incremental chunked transfer-coding decoder.
//! - [`parser`]: [`RequestParser`], head + body as one event stream.
//! - [`conn`]: [`conn::Conn`], one connection's HTTP lifecycle (reading, writing,
//!   keep-alive, timers) as a sans-I/O state machine.
//! - [`query`]: query strings and urlencoded bodies into a multi-map.
//! - [`pct`]: percent-decoding, lenient (query, forms) and strict (paths).
//! - [`cookie`]: the `Cookie` request header and the `Set-Cookie` builder.
//! - [`date`]: IMF-fixdate for the `Date` header.
//! - [`conditional`]: validators, `If-None-Match`, `If-Modified-Since`, `If-Range`.
//! - [`range`]: the `Range: bytes=` field and what it selects (206/416).
//! - [`response`]: the response head encoder.
//! - [`accept`]: which representation the client's `Accept` prefers.
//! - [`problem`]: [`Problem`], the one error answer, as text or JSON.
//! - [`trace`]: the request parser run over some bytes, every event with its offset
//!   (the `/parse/` playground).

pub mod accept;
pub mod chars;
pub mod chunked;
pub mod conditional;
pub mod conn;
pub mod cookie;
pub mod date;
pub mod error;
pub mod framing;
pub mod head;
pub mod multipart;
pub mod params;
pub mod parser;
pub mod pct;
pub mod problem;
pub mod query;
pub mod range;
pub mod response;
pub mod trace;

pub use error::{ErrorKind, ParseError};
pub use head::{HeadLimits, HeadParser, Method, RequestHead, Version};
pub use parser::{Event, RequestParser, Step};
pub use problem::Problem;
